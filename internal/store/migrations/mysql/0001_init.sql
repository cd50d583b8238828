-- Initial schema for MySQL 8 / MariaDB >= 10.6.
-- Codes, identifiers, openids, sealed values and hashes are ASCII with a
-- binary collation: they compare byte for byte (WeChat openids are
-- case-sensitive) and index compactly. Human text is utf8mb4.

CREATE TABLE IF NOT EXISTS departments (
  id         BIGINT      NOT NULL AUTO_INCREMENT,
  name       VARCHAR(128) NOT NULL,
  uscc       CHAR(18)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  kind       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  area_code  CHAR(6)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_departments_uscc (uscc)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS licence_types (
  code            CHAR(21)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name            VARCHAR(64) NOT NULL,
  holder_kind     VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  fields          TEXT        NOT NULL,
  validity_years  INT         NOT NULL DEFAULT 0,
  reminder_stages VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '[]',
  created_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (code),
  UNIQUE KEY uq_licence_types_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS holders (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  kind          VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name          VARCHAR(128) NOT NULL,
  id_type       CHAR(3)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  id_number_enc VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  id_number_idx CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  phone_enc     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at    DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_holders_id_number (id_type, id_number_idx)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS licences (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  identifier  VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  number_enc  VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  number_idx  CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  type_code   CHAR(21)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  holder_id   BIGINT       NOT NULL,
  issuer_id   BIGINT       NOT NULL,
  issued_on   DATE         NOT NULL,
  valid_from  DATE         NOT NULL,
  valid_until DATE         NULL,
  status      VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  annotations VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '[]',
  version     INT          NOT NULL DEFAULT 1,
  face_enc    MEDIUMTEXT   CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  seal        TEXT         CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_licences_identifier (identifier),
  KEY ix_licences_holder (holder_id, id),
  KEY ix_licences_number (type_code, number_idx),
  KEY ix_licences_issuer (issuer_id),
  KEY ix_licences_valid_until (valid_until, status),
  CONSTRAINT fk_licences_type FOREIGN KEY (type_code) REFERENCES licence_types (code),
  CONSTRAINT fk_licences_holder FOREIGN KEY (holder_id) REFERENCES holders (id),
  CONSTRAINT fk_licences_issuer FOREIGN KEY (issuer_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS accounts (
  openid     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  holder_id  BIGINT      NULL,
  bound_at   DATETIME(6) NULL,
  subscribed TINYINT(1)  NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (openid),
  KEY ix_accounts_holder (holder_id),
  CONSTRAINT fk_accounts_holder FOREIGN KEY (holder_id) REFERENCES holders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS officers (
  openid        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  department_id BIGINT      NOT NULL,
  created_at    DATETIME(6) NOT NULL,
  PRIMARY KEY (openid),
  KEY ix_officers_department (department_id),
  CONSTRAINT fk_officers_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS usage_lists (
  department_id BIGINT   NOT NULL,
  type_code     CHAR(21) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  purposes      TEXT     NOT NULL,
  PRIMARY KEY (department_id, type_code),
  KEY ix_usage_lists_type (type_code),
  CONSTRAINT fk_usage_lists_department FOREIGN KEY (department_id) REFERENCES departments (id),
  CONSTRAINT fk_usage_lists_type FOREIGN KEY (type_code) REFERENCES licence_types (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS usage_records (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  licence_id     BIGINT       NOT NULL,
  officer_openid VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  department_id  BIGINT       NOT NULL,
  purpose        VARCHAR(128) NOT NULL,
  scope          VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  result         VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  reason_code    VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  client_ip      VARCHAR(45)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  at             DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  KEY ix_usage_records_licence (licence_id, at),
  KEY ix_usage_records_officer (officer_openid, at),
  KEY ix_usage_records_department (department_id, at),
  CONSTRAINT fk_usage_records_licence FOREIGN KEY (licence_id) REFERENCES licences (id),
  CONSTRAINT fk_usage_records_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- audit_events is an append-only hash chain: each row's hash covers its
-- content and the previous row's hash, so an edited, deleted or inserted
-- row breaks every later link. The unique prev_hash forbids forks.
CREATE TABLE IF NOT EXISTS audit_events (
  id        BIGINT       NOT NULL,
  at        DATETIME(6)  NOT NULL,
  actor     VARCHAR(128) NOT NULL,
  action    VARCHAR(64)  NOT NULL,
  object    VARCHAR(128) NOT NULL,
  detail    TEXT         NOT NULL,
  prev_hash CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  hash      CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_audit_events_prev_hash (prev_hash),
  KEY ix_audit_events_at (at),
  KEY ix_audit_events_object (object, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- audit_head holds the chain's tip. Appenders lock this one row, which
-- serialises them without gap locks on audit_events.
CREATE TABLE IF NOT EXISTS audit_head (
  id        TINYINT  NOT NULL,
  last_id   BIGINT   NOT NULL,
  last_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO audit_head (id, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
