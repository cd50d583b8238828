-- Status notices: same columns and keys as the MySQL schema.

ALTER TABLE reminders ADD COLUMN kind TEXT NOT NULL DEFAULT 'expiry';
ALTER TABLE reminders ADD COLUMN event_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reminders ADD COLUMN action TEXT NOT NULL DEFAULT '';
ALTER TABLE reminders ADD COLUMN licence_status TEXT NULL;
ALTER TABLE reminders ADD COLUMN notice_to TEXT NOT NULL DEFAULT '';
DROP INDEX IF EXISTS uq_reminders_stage;
CREATE UNIQUE INDEX IF NOT EXISTS uq_reminders_stage ON reminders (licence_id, stage, expiry_date, event_id, notice_to);
