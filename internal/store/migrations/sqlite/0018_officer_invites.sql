-- Officer invitations from the console. Same tables as the MySQL schema;
-- see docs/CONSOLE.md.

CREATE TABLE IF NOT EXISTS officer_invites (
  id            INTEGER  NOT NULL PRIMARY KEY AUTOINCREMENT,
  token_hash    TEXT     NOT NULL,
  department_id INTEGER  NOT NULL REFERENCES departments (id),
  name          TEXT     NOT NULL,
  created_by    TEXT     NOT NULL,
  created_at    DATETIME NOT NULL,
  expires_at    DATETIME NOT NULL,
  used_at       DATETIME NULL,
  used_by       TEXT     NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_officer_invites_token ON officer_invites (token_hash);
CREATE INDEX IF NOT EXISTS ix_officer_invites_department ON officer_invites (department_id, expires_at);

ALTER TABLE officers ADD COLUMN name TEXT NOT NULL DEFAULT '';
