-- Open API apps (接入应用): department systems that call /openapi/v1 with
-- HMAC-SM3 signed requests. The secret is sealed like other secrets at
-- rest (secure.Sealer, bound to the app id); see docs/OPENAPI.md.

CREATE TABLE IF NOT EXISTS apps (
  app_id        VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  department_id BIGINT       NOT NULL,
  name          VARCHAR(128) NOT NULL,
  secret_enc    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  disabled_at   DATETIME(6)  NULL,
  created_at    DATETIME(6)  NOT NULL,
  PRIMARY KEY (app_id),
  KEY ix_apps_department (department_id),
  CONSTRAINT fk_apps_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
