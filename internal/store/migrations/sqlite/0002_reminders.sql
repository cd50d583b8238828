-- Expiry reminders (证照到期提醒): a durable outbox of template messages.
-- Same tables and keys as the MySQL schema; see docs/REMINDERS.md.

CREATE TABLE IF NOT EXISTS reminders (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  licence_id      INTEGER  NOT NULL,
  stage           INTEGER  NOT NULL,
  expiry_date     DATE     NOT NULL,
  licence_version INTEGER  NOT NULL,
  openid          TEXT     NOT NULL,
  state           TEXT     NOT NULL,
  reason          TEXT     NULL,
  attempts        INTEGER  NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NOT NULL,
  lease_until     DATETIME NULL,
  leased_by       TEXT     NULL,
  msgid           INTEGER  NULL,
  delivery        TEXT     NULL,
  last_error      TEXT     NULL,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL,
  sent_at         DATETIME NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_reminders_stage ON reminders (licence_id, stage, expiry_date);
CREATE INDEX IF NOT EXISTS ix_reminders_due ON reminders (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS ix_reminders_msgid ON reminders (msgid);
CREATE INDEX IF NOT EXISTS ix_reminders_openid ON reminders (openid, state);

CREATE TABLE IF NOT EXISTS reminder_optouts (
  licence_id INTEGER  NOT NULL REFERENCES licences (id),
  holder_id  INTEGER  NOT NULL REFERENCES holders (id),
  created_at DATETIME NOT NULL,
  PRIMARY KEY (licence_id, holder_id)
);

CREATE TABLE IF NOT EXISTS reminder_pauses (
  name       TEXT     NOT NULL PRIMARY KEY,
  paused_until DATETIME NOT NULL,
  reason     TEXT     NOT NULL,
  updated_at DATETIME NOT NULL
);

CREATE TABLE IF NOT EXISTS reminder_sweeps (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  sweep_day   DATE     NOT NULL,
  worker      TEXT     NOT NULL,
  started_at  DATETIME NOT NULL,
  finished_at DATETIME NULL,
  pending     INTEGER  NOT NULL DEFAULT 0,
  skipped     INTEGER  NOT NULL DEFAULT 0,
  superseded  INTEGER  NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_reminder_sweeps_day ON reminder_sweeps (sweep_day, finished_at);

CREATE TABLE IF NOT EXISTS reminder_receipts (
  msgid       INTEGER  NOT NULL PRIMARY KEY,
  status      TEXT     NOT NULL,
  state       TEXT     NOT NULL,
  reason      TEXT     NULL,
  received_at DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_reminder_receipts_received ON reminder_receipts (received_at);

-- Covering indexes for the sweep (see the MySQL migration).
CREATE INDEX IF NOT EXISTS ix_licences_reminder ON licences (status, valid_until, type_code, holder_id, version);
CREATE INDEX IF NOT EXISTS ix_accounts_reminder ON accounts (holder_id, subscribed);
