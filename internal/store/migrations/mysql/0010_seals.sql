-- Electronic seals (docs/SEALS.md): the registry, each seal's
-- certificates (a renewal adds one; the old ones still verify what they
-- signed) and the signature of every licence version. licences.seal holds
-- the GB/T 38540 SES_Signature (base64), signature the DER SM2 signature of
-- the canonical document (base64); versions from before seals have ''.

CREATE TABLE IF NOT EXISTS seals (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  name          VARCHAR(64)  NOT NULL,
  kind          VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  department_id BIGINT       NOT NULL,
  state         VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  types         TEXT         CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  reason        VARCHAR(500) NOT NULL DEFAULT '',
  cert_id       BIGINT       NULL,
  activated_at  DATETIME(6)  NULL,
  cancelled_at  DATETIME(6)  NULL,
  lost_at       DATETIME(6)  NULL,
  created_at    DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  KEY ix_seals_department (department_id, state),
  CONSTRAINT fk_seals_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS seal_certificates (
  id          BIGINT      NOT NULL AUTO_INCREMENT,
  seal_id     BIGINT      NOT NULL,
  der         BLOB        NOT NULL,
  serial      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  not_before  DATETIME(6) NOT NULL,
  not_after   DATETIME(6) NOT NULL,
  eseal       MEDIUMBLOB  NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_seal_certificates_seal (seal_id),
  CONSTRAINT fk_seal_certificates_seal FOREIGN KEY (seal_id) REFERENCES seals (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE licences ADD COLUMN seal_id BIGINT NULL;
ALTER TABLE licences ADD COLUMN seal_cert_id BIGINT NULL;
ALTER TABLE licences ADD COLUMN signed_at DATETIME(6) NULL;
ALTER TABLE licences ADD COLUMN signature VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';
