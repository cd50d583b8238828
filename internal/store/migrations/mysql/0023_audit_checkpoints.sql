-- audit_checkpoints keeps, for reference, the signed checkpoints of the
-- audit chain's head that are exported to a file outside the database
-- (docs/SECURITY.md, "Audit checkpoints"); verification reads the file.
-- The primary key on count lets only one instance checkpoint a head.
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  count   BIGINT        NOT NULL,
  hash    CHAR(64)      CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  at      DATETIME(6)   NOT NULL,
  seal_id BIGINT        NOT NULL,
  cert    BLOB          NOT NULL,
  sig     VARBINARY(128) NOT NULL,
  PRIMARY KEY (count),
  KEY ix_audit_checkpoints_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
