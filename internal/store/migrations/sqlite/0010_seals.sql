-- Electronic seals. Same tables and columns as the MySQL schema; see
-- docs/SEALS.md.

CREATE TABLE IF NOT EXISTS seals (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT     NOT NULL,
  kind          TEXT     NOT NULL,
  department_id INTEGER  NOT NULL REFERENCES departments (id),
  state         TEXT     NOT NULL,
  types         TEXT     NOT NULL,
  reason        TEXT     NOT NULL DEFAULT '',
  cert_id       INTEGER  NULL,
  activated_at  DATETIME NULL,
  cancelled_at  DATETIME NULL,
  lost_at       DATETIME NULL,
  created_at    DATETIME NOT NULL,
  updated_at    DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_seals_department ON seals (department_id, state);

CREATE TABLE IF NOT EXISTS seal_certificates (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  seal_id     INTEGER  NOT NULL REFERENCES seals (id),
  der         BLOB     NOT NULL,
  serial      TEXT     NOT NULL,
  not_before  DATETIME NOT NULL,
  not_after   DATETIME NOT NULL,
  eseal       BLOB     NOT NULL,
  created_at  DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_seal_certificates_seal ON seal_certificates (seal_id);

ALTER TABLE licences ADD COLUMN seal_id INTEGER NULL;
ALTER TABLE licences ADD COLUMN seal_cert_id INTEGER NULL;
ALTER TABLE licences ADD COLUMN signed_at DATETIME NULL;
ALTER TABLE licences ADD COLUMN signature TEXT NOT NULL DEFAULT '';
