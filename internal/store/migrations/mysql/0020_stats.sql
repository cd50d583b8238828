-- Statistics (docs/STATISTICS.md): per department and month, computed in
-- SQL over the indexes below.
--
-- licences.origin is how the version came to be: issue (the issuing
-- service: console or Open API), import (stock collected by import),
-- update or renew (a later version). It sits on the row so that "issued
-- this month", "imported so far" and the share generated on the day of
-- issue are read from one index instead of a join through licence_events.
-- Rows already there take it from their history line; a row without one
-- (demo data) keeps the default.
ALTER TABLE licences ADD COLUMN origin VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'issue';
UPDATE licences SET origin = 'import' WHERE id IN (SELECT licence_id FROM licence_events WHERE action = 'import');
UPDATE licences SET origin = 'update' WHERE id IN (SELECT licence_id FROM licence_events WHERE action = 'update');
UPDATE licences SET origin = 'renew' WHERE id IN (SELECT licence_id FROM licence_events WHERE action = 'renew');

-- New and imported licences of a month, and imports up to a month's end.
CREATE INDEX ix_licences_origin ON licences (origin, created_at, issuer_id);
-- Licences by issue date, with what tells whether they were generated on it.
CREATE INDEX ix_licences_issued_on ON licences (issued_on, issuer_id, origin, created_at);
-- Licences held: a department's current versions with status and validity.
CREATE INDEX ix_licences_held ON licences (issuer_id, superseded_by, status, valid_from, valid_until, lineage_id, created_at);
-- Verifications of a month by department, result and purpose, and the
-- licences they reached, from the index alone.
CREATE INDEX ix_usage_records_stats ON usage_records (at, department_id, result, purpose, licence_id);
-- Template messages sent in a month.
CREATE INDEX ix_reminders_sent ON reminders (sent_at, licence_id, kind, state);

-- A department's declared stock (存量底数): how many licences in force it
-- held on paper when electronification began, the denominator of its
-- stock electronification progress.
CREATE TABLE IF NOT EXISTS stock_baselines (
  department_id BIGINT      NOT NULL,
  total         BIGINT      NOT NULL,
  updated_by    VARCHAR(128) NOT NULL,
  updated_at    DATETIME(6) NOT NULL,
  PRIMARY KEY (department_id),
  CONSTRAINT fk_stock_baselines_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
