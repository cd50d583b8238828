-- Staff of the administration console. Same table as the MySQL schema;
-- see docs/CONSOLE.md.

CREATE TABLE IF NOT EXISTS staff (
  id                INTEGER  NOT NULL PRIMARY KEY AUTOINCREMENT,
  username          TEXT     NOT NULL,
  role              TEXT     NOT NULL,
  department_id     INTEGER  NULL REFERENCES departments (id),
  password_hash     TEXT     NOT NULL,
  totp_secret_enc   TEXT     NOT NULL DEFAULT '',
  totp_confirmed_at DATETIME NULL,
  disabled_at       DATETIME NULL,
  created_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_staff_username ON staff (username);
CREATE INDEX IF NOT EXISTS ix_staff_department ON staff (department_id);
