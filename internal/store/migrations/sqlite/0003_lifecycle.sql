-- Licence lifecycle: same columns and keys as the MySQL schema.

ALTER TABLE licences ADD COLUMN lineage_id INTEGER NULL;
ALTER TABLE licences ADD COLUMN superseded_by INTEGER NULL;
CREATE INDEX IF NOT EXISTS ix_licences_lineage ON licences (lineage_id, version);

CREATE TABLE IF NOT EXISTS licence_events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  lineage_id   INTEGER  NOT NULL,
  licence_id   INTEGER  NOT NULL REFERENCES licences (id),
  version      INTEGER  NOT NULL,
  action       TEXT     NOT NULL,
  from_status  TEXT     NOT NULL,
  to_status    TEXT     NOT NULL,
  annotations  TEXT     NOT NULL DEFAULT '[]',
  reason       TEXT     NOT NULL,
  actor        TEXT     NOT NULL,
  effective_at DATETIME NOT NULL,
  at           DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_licence_events_lineage ON licence_events (lineage_id, id);
