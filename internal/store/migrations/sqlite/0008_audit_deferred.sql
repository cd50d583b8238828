-- Deferred chaining of verifications: same column and meaning as the MySQL
-- schema. An earlier entry's usage id is the run of digits its detail ends
-- with.

ALTER TABLE usage_records ADD COLUMN audit_id INTEGER NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS ix_usage_records_audit ON usage_records (audit_id);
UPDATE usage_records SET audit_id = NULL
WHERE id NOT IN (
  SELECT CAST(substr(detail, length(rtrim(detail, '0123456789')) + 1) AS INTEGER) FROM audit_events
  WHERE action LIKE 'verification.%' AND detail LIKE 'department=% usage=%'
);
