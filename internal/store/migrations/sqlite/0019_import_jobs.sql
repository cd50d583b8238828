-- Stock imports started from the console. Same table as the MySQL
-- schema; see docs/IMPORT.md.

CREATE TABLE IF NOT EXISTS import_jobs (
  id            INTEGER  NOT NULL PRIMARY KEY AUTOINCREMENT,
  department_id INTEGER  NOT NULL REFERENCES departments (id),
  actor         TEXT     NOT NULL,
  file_name     TEXT     NOT NULL,
  dry_run       INTEGER  NOT NULL,
  state         TEXT     NOT NULL,
  total_rows    INTEGER  NOT NULL DEFAULT 0,
  done_rows     INTEGER  NOT NULL DEFAULT 0,
  imported      INTEGER  NOT NULL DEFAULT 0,
  unchanged     INTEGER  NOT NULL DEFAULT 0,
  rejected      INTEGER  NOT NULL DEFAULT 0,
  failure       TEXT     NOT NULL DEFAULT '',
  errors_csv    BLOB     NULL,
  created_at    DATETIME NOT NULL,
  updated_at    DATETIME NOT NULL,
  finished_at   DATETIME NULL
);
CREATE INDEX IF NOT EXISTS ix_import_jobs_department ON import_jobs (department_id, id);
