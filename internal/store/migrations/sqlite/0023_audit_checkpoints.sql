-- Signed checkpoints of the audit chain's head, kept for reference; same
-- table as the MySQL schema (see its comment).
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  count   INTEGER NOT NULL PRIMARY KEY,
  hash    TEXT    NOT NULL,
  at      DATETIME NOT NULL,
  seal_id INTEGER NOT NULL,
  cert    BLOB    NOT NULL,
  sig     BLOB    NOT NULL
);
