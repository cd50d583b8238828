-- Verifications are chained into the audit log after they are written, off
-- the officer's request (docs/storage.md#audit). A verification inserts its
-- usage record alone, in one autocommitted statement; a chainer in every
-- serving instance later appends it to the hash chain under the head lock
-- and records here which entry holds it:
--   audit_id NULL  written, not chained yet (what this build inserts)
--   audit_id 0     audited by an entry written in the record's own
--                  transaction, as earlier builds did
--   audit_id N     chained as audit entry N, which commits to every column
-- 0 is the column default, so an older instance still serving during a
-- rolling upgrade writes rows the chainer leaves alone (it audits them
-- itself). Existing rows an earlier entry names become 0; a row none names
-- (written before verifications were audited) is left NULL for the chainer.
-- Earlier entries end their detail with "usage=<id>": the id is what
-- follows the detail's last "=".

ALTER TABLE usage_records ADD COLUMN audit_id BIGINT NULL DEFAULT 0;
CREATE INDEX ix_usage_records_audit ON usage_records (audit_id);
UPDATE usage_records SET audit_id = NULL
WHERE id NOT IN (
  SELECT CAST(SUBSTRING_INDEX(detail, '=', -1) AS UNSIGNED) FROM audit_events
  WHERE action LIKE 'verification.%' AND detail LIKE 'department=% usage=%'
);
