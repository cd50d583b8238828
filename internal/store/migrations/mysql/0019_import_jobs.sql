-- Stock imports started from the console (docs/IMPORT.md, "From the
-- console"): the upload runs in the background on the instance that
-- received it, and its progress and outcome live here, so any instance
-- answers the page's polling and a reloaded page finds its import again.
-- updated_at is the job's heartbeat: a running job whose heartbeat
-- stopped (its instance died) reads as interrupted. errors_csv is the
-- error file of `bff import licences`, byte for byte.

CREATE TABLE IF NOT EXISTS import_jobs (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  department_id BIGINT       NOT NULL,
  actor         VARCHAR(96)  NOT NULL,
  file_name     VARCHAR(255) NOT NULL,
  dry_run       TINYINT(1)   NOT NULL,
  state         VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  total_rows    INT          NOT NULL DEFAULT 0,
  done_rows     INT          NOT NULL DEFAULT 0,
  imported      INT          NOT NULL DEFAULT 0,
  unchanged     INT          NOT NULL DEFAULT 0,
  rejected      INT          NOT NULL DEFAULT 0,
  failure       VARCHAR(255) NOT NULL DEFAULT '',
  errors_csv    LONGBLOB     NULL,
  created_at    DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  finished_at   DATETIME(6)  NULL,
  PRIMARY KEY (id),
  KEY ix_import_jobs_department (department_id, id),
  CONSTRAINT fk_import_jobs_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
