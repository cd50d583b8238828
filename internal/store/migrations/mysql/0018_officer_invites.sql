-- Officer invitations from the console (docs/CONSOLE.md, "Officers"): a
-- department admin invites an officer by a one-time link; the officer
-- opens it in WeChat and, once logged in, is bound to the department.
-- Only the SHA-256 of the link's token is kept. An invitation is used
-- once (used_at, used_by) and expires at expires_at. officers.name is the
-- name the admin gave the invitation, so the department's list of
-- officers says who each openid is ('' for bindings made on the shell).

CREATE TABLE IF NOT EXISTS officer_invites (
  id            BIGINT      NOT NULL AUTO_INCREMENT,
  token_hash    CHAR(64)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  department_id BIGINT      NOT NULL,
  name          VARCHAR(64) NOT NULL,
  created_by    VARCHAR(96) NOT NULL,
  created_at    DATETIME(6) NOT NULL,
  expires_at    DATETIME(6) NOT NULL,
  used_at       DATETIME(6) NULL,
  used_by       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_officer_invites_token (token_hash),
  KEY ix_officer_invites_department (department_id, expires_at),
  CONSTRAINT fk_officer_invites_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE officers ADD COLUMN name VARCHAR(64) NOT NULL DEFAULT '';
