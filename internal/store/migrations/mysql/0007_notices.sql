-- Status notices (证照变更通知): the holder is told by template message when
-- a licence is suspended, revoked, cancelled, withdrawn or renewed. A notice
-- is a row of the reminders outbox with kind = 'notice', inserted in the
-- transaction of the change itself, one per subscribed account bound to
-- the holder, and sent like a reminder (docs/REMINDERS.md).
--   event_id       the licence_events row the notice announces (0: expiry row)
--   action         that event's action (suspend, revoke, cancel, withdraw, renew)
--   licence_status the licence's status right after the change
--   notice_to      the notice's openid; '' on expiry rows
-- On a notice, stage is 0 and expiry_date is the day the change took
-- effect. The unique key keeps its meaning for expiry rows (event_id = 0,
-- notice_to = '': one row per licence, stage and expiry date, whichever
-- account) and makes a notice unique per (event, account).
-- The key is dropped and re-added in one statement, so a re-run is harmless.

ALTER TABLE reminders
  ADD COLUMN kind           VARCHAR(8)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'expiry',
  ADD COLUMN event_id       BIGINT      NOT NULL DEFAULT 0,
  ADD COLUMN action         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  ADD COLUMN licence_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN notice_to      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';
ALTER TABLE reminders
  DROP INDEX uq_reminders_stage,
  ADD UNIQUE KEY uq_reminders_stage (licence_id, stage, expiry_date, event_id, notice_to);
