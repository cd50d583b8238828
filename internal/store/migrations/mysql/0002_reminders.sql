-- Expiry reminders (证照到期提醒): a durable outbox of template messages.
-- One row per (licence, stage, expiry date): the unique key makes repeated
-- and concurrent sweeps harmless. The row id is the message's client_msg_id.
-- States: pending, sending (leased until lease_until), sent, delivered,
-- failed, dead, cancelled, skipped; see docs/REMINDERS.md.
-- licence_id has no foreign key on purpose: rows are only made by selecting
-- existing licences, which are never deleted, and the check would cost a
-- random read of the licence row for every row the sweep inserts (four
-- times the sweep's time over a million licences).

CREATE TABLE IF NOT EXISTS reminders (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  licence_id      BIGINT       NOT NULL,
  stage           INT          NOT NULL,
  expiry_date     DATE         NOT NULL,
  licence_version INT          NOT NULL,
  openid          VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state           VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  reason          VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  attempts        INT          NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6)  NOT NULL,
  lease_until     DATETIME(6)  NULL,
  leased_by       VARCHAR(80)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  msgid           BIGINT       NULL,
  delivery        VARCHAR(32)  NULL,
  last_error      VARCHAR(255) NULL,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  sent_at         DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_reminders_stage (licence_id, stage, expiry_date),
  KEY ix_reminders_due (state, next_attempt_at),
  KEY ix_reminders_msgid (msgid),
  KEY ix_reminders_openid (openid, state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A holder's "no reminders for this licence" switch.
CREATE TABLE IF NOT EXISTS reminder_optouts (
  licence_id BIGINT      NOT NULL,
  holder_id  BIGINT      NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (licence_id, holder_id),
  CONSTRAINT fk_reminder_optouts_licence FOREIGN KEY (licence_id) REFERENCES licences (id),
  CONSTRAINT fk_reminder_optouts_holder FOREIGN KEY (holder_id) REFERENCES holders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Sending pauses shared by every instance: WeChat's daily quota (45009)
-- stops sending until the next day, the minute quota (45011) for a minute.
CREATE TABLE IF NOT EXISTS reminder_pauses (
  name       VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  paused_until DATETIME(6) NOT NULL,
  reason     VARCHAR(255) NOT NULL,
  updated_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Sweep runs, so a scheduler starting after downtime knows whether the
-- day's sweep happened.
CREATE TABLE IF NOT EXISTS reminder_sweeps (
  id          BIGINT      NOT NULL AUTO_INCREMENT,
  sweep_day   DATE        NOT NULL,
  worker      VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  started_at  DATETIME(6) NOT NULL,
  finished_at DATETIME(6) NULL,
  pending     INT         NOT NULL DEFAULT 0,
  skipped     INT         NOT NULL DEFAULT 0,
  superseded  INT         NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY ix_reminder_sweeps_day (sweep_day, finished_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Delivery reports (TEMPLATESENDJOBFINISH) by msgid. A report can arrive
-- before the sender has recorded the msgid on its row; keeping it here
-- lets whichever comes second apply it.
CREATE TABLE IF NOT EXISTS reminder_receipts (
  msgid       BIGINT      NOT NULL,
  status      VARCHAR(32) NOT NULL,
  state       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  reason      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  received_at DATETIME(6) NOT NULL,
  PRIMARY KEY (msgid),
  KEY ix_reminder_receipts_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Covering indexes for the sweep, so it reads licences and accounts from
-- the index alone (status, then the expiry range; the holder's followed
-- accounts). Plain CREATE INDEX because MySQL 8 has no IF NOT EXISTS for
-- indexes; the migration runner treats "duplicate key name" on a re-run
-- as already done.
CREATE INDEX ix_licences_reminder ON licences (status, valid_until, type_code, holder_id, version);
CREATE INDEX ix_accounts_reminder ON accounts (holder_id, subscribed);
