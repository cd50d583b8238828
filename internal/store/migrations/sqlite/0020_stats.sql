-- Statistics: same column, indexes and table as the MySQL schema; see
-- docs/STATISTICS.md.

ALTER TABLE licences ADD COLUMN origin TEXT NOT NULL DEFAULT 'issue';
UPDATE licences SET origin = 'import' WHERE id IN (SELECT licence_id FROM licence_events WHERE action = 'import');
UPDATE licences SET origin = 'update' WHERE id IN (SELECT licence_id FROM licence_events WHERE action = 'update');
UPDATE licences SET origin = 'renew' WHERE id IN (SELECT licence_id FROM licence_events WHERE action = 'renew');

CREATE INDEX IF NOT EXISTS ix_licences_origin ON licences (origin, created_at, issuer_id);
CREATE INDEX IF NOT EXISTS ix_licences_issued_on ON licences (issued_on, issuer_id, origin, created_at);
CREATE INDEX IF NOT EXISTS ix_licences_held ON licences (issuer_id, superseded_by, status, valid_from, valid_until, lineage_id, created_at);
CREATE INDEX IF NOT EXISTS ix_usage_records_stats ON usage_records (at, department_id, result, purpose, licence_id);
CREATE INDEX IF NOT EXISTS ix_reminders_sent ON reminders (sent_at, licence_id, kind, state);

CREATE TABLE IF NOT EXISTS stock_baselines (
  department_id INTEGER  NOT NULL PRIMARY KEY REFERENCES departments (id),
  total         INTEGER  NOT NULL,
  updated_by    TEXT     NOT NULL,
  updated_at    DATETIME NOT NULL
);
