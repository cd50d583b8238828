-- Staff of the administration console (docs/CONSOLE.md): county and
-- department staff who log in with a password (argon2id, PHC string) and
-- a TOTP second factor. The TOTP secret is sealed like other secrets at
-- rest (secure.Sealer, bound to the username); '' until enrolment starts,
-- confirmed once a login proved a code of it. department_id is NULL for a
-- platform admin, whose role is county-wide.

CREATE TABLE IF NOT EXISTS staff (
  id                BIGINT       NOT NULL AUTO_INCREMENT,
  username          VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  role              VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  department_id     BIGINT       NULL,
  password_hash     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  totp_secret_enc   VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  totp_confirmed_at DATETIME(6)  NULL,
  disabled_at       DATETIME(6)  NULL,
  created_at        DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_staff_username (username),
  KEY ix_staff_department (department_id),
  CONSTRAINT fk_staff_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
