-- Open API apps (接入应用). Same table as the MySQL schema; see docs/OPENAPI.md.

CREATE TABLE IF NOT EXISTS apps (
  app_id        TEXT     NOT NULL PRIMARY KEY,
  department_id INTEGER  NOT NULL REFERENCES departments (id),
  name          TEXT     NOT NULL,
  secret_enc    TEXT     NOT NULL,
  disabled_at   DATETIME NULL,
  created_at    DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_apps_department ON apps (department_id);
