-- Initial schema for SQLite (embedded mode). Same tables and keys as the
-- MySQL schema; declared types DATE and DATETIME make the driver return
-- time.Time values.

CREATE TABLE IF NOT EXISTS departments (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT     NOT NULL,
  uscc       TEXT     NOT NULL,
  kind       TEXT     NOT NULL,
  area_code  TEXT     NOT NULL,
  created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_departments_uscc ON departments (uscc);

CREATE TABLE IF NOT EXISTS licence_types (
  code            TEXT     NOT NULL PRIMARY KEY,
  name            TEXT     NOT NULL,
  holder_kind     TEXT     NOT NULL,
  fields          TEXT     NOT NULL,
  validity_years  INTEGER  NOT NULL DEFAULT 0,
  reminder_stages TEXT     NOT NULL DEFAULT '[]',
  created_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_licence_types_name ON licence_types (name);

CREATE TABLE IF NOT EXISTS holders (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT     NOT NULL,
  name          TEXT     NOT NULL,
  id_type       TEXT     NOT NULL,
  id_number_enc TEXT     NOT NULL,
  id_number_idx TEXT     NOT NULL,
  phone_enc     TEXT     NOT NULL,
  created_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_holders_id_number ON holders (id_type, id_number_idx);

CREATE TABLE IF NOT EXISTS licences (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  identifier  TEXT     NOT NULL,
  number_enc  TEXT     NOT NULL,
  number_idx  TEXT     NOT NULL,
  type_code   TEXT     NOT NULL REFERENCES licence_types (code),
  holder_id   INTEGER  NOT NULL REFERENCES holders (id),
  issuer_id   INTEGER  NOT NULL REFERENCES departments (id),
  issued_on   DATE     NOT NULL,
  valid_from  DATE     NOT NULL,
  valid_until DATE     NULL,
  status      TEXT     NOT NULL,
  annotations TEXT     NOT NULL DEFAULT '[]',
  version     INTEGER  NOT NULL DEFAULT 1,
  face_enc    TEXT     NOT NULL,
  seal        TEXT     NOT NULL,
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_licences_identifier ON licences (identifier);
CREATE INDEX IF NOT EXISTS ix_licences_holder ON licences (holder_id, id);
CREATE INDEX IF NOT EXISTS ix_licences_number ON licences (type_code, number_idx);
CREATE INDEX IF NOT EXISTS ix_licences_issuer ON licences (issuer_id);
CREATE INDEX IF NOT EXISTS ix_licences_valid_until ON licences (valid_until, status);

CREATE TABLE IF NOT EXISTS accounts (
  openid     TEXT     NOT NULL PRIMARY KEY,
  holder_id  INTEGER  NULL REFERENCES holders (id),
  bound_at   DATETIME NULL,
  subscribed INTEGER  NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_accounts_holder ON accounts (holder_id);

CREATE TABLE IF NOT EXISTS officers (
  openid        TEXT     NOT NULL PRIMARY KEY,
  department_id INTEGER  NOT NULL REFERENCES departments (id),
  created_at    DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_officers_department ON officers (department_id);

CREATE TABLE IF NOT EXISTS usage_lists (
  department_id INTEGER NOT NULL REFERENCES departments (id),
  type_code     TEXT    NOT NULL REFERENCES licence_types (code),
  purposes      TEXT    NOT NULL,
  PRIMARY KEY (department_id, type_code)
);
CREATE INDEX IF NOT EXISTS ix_usage_lists_type ON usage_lists (type_code);

CREATE TABLE IF NOT EXISTS usage_records (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  licence_id     INTEGER  NOT NULL REFERENCES licences (id),
  officer_openid TEXT     NOT NULL,
  department_id  INTEGER  NOT NULL REFERENCES departments (id),
  purpose        TEXT     NOT NULL,
  scope          TEXT     NOT NULL,
  result         TEXT     NOT NULL,
  reason_code    TEXT     NOT NULL,
  client_ip      TEXT     NOT NULL,
  at             DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_usage_records_licence ON usage_records (licence_id, at);
CREATE INDEX IF NOT EXISTS ix_usage_records_officer ON usage_records (officer_openid, at);
CREATE INDEX IF NOT EXISTS ix_usage_records_department ON usage_records (department_id, at);

-- audit_events is an append-only hash chain; see the MySQL schema.
CREATE TABLE IF NOT EXISTS audit_events (
  id        INTEGER  NOT NULL PRIMARY KEY,
  at        DATETIME NOT NULL,
  actor     TEXT     NOT NULL,
  action    TEXT     NOT NULL,
  object    TEXT     NOT NULL,
  detail    TEXT     NOT NULL,
  prev_hash TEXT     NOT NULL,
  hash      TEXT     NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_audit_events_prev_hash ON audit_events (prev_hash);
CREATE INDEX IF NOT EXISTS ix_audit_events_at ON audit_events (at);
CREATE INDEX IF NOT EXISTS ix_audit_events_object ON audit_events (object, id);

CREATE TABLE IF NOT EXISTS audit_head (
  id        INTEGER NOT NULL PRIMARY KEY,
  last_id   INTEGER NOT NULL,
  last_hash TEXT    NOT NULL
);

INSERT OR IGNORE INTO audit_head (id, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
