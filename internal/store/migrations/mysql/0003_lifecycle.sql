-- Licence lifecycle (docs/DOMAIN.md): every version of a licence is its own
-- row with its own GB/T 36904 identifier. lineage_id is the id of the first
-- version (NULL on the first version itself); superseded_by points from an
-- old version to the one that replaced it. licence_events is each
-- version's history: issue, update, renew, import and every transition.

ALTER TABLE licences
  ADD COLUMN lineage_id BIGINT NULL,
  ADD COLUMN superseded_by BIGINT NULL;
CREATE INDEX ix_licences_lineage ON licences (lineage_id, version);

CREATE TABLE IF NOT EXISTS licence_events (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  lineage_id   BIGINT       NOT NULL,
  licence_id   BIGINT       NOT NULL,
  version      INT          NOT NULL,
  action       VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  from_status  VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  to_status    VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  annotations  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '[]',
  reason       VARCHAR(500) NOT NULL,
  actor        VARCHAR(128) NOT NULL,
  effective_at DATETIME(6)  NOT NULL,
  at           DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  KEY ix_licence_events_lineage (lineage_id, id),
  CONSTRAINT fk_licence_events_licence FOREIGN KEY (licence_id) REFERENCES licences (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
