-- The catalogue as data (`bff catalogue apply`): a licence type's face
-- template, and which departments may issue it. Every type starts with its
-- defining department (the USCC in the first 18 characters of its code) and
-- every department that has already issued a licence of it, so licences on
-- file stay consistent with the list.

ALTER TABLE licence_types ADD COLUMN face_template VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS licence_type_issuers (
  type_code     CHAR(21) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  department_id BIGINT   NOT NULL,
  PRIMARY KEY (type_code, department_id),
  KEY ix_licence_type_issuers_department (department_id),
  CONSTRAINT fk_licence_type_issuers_type FOREIGN KEY (type_code) REFERENCES licence_types (code),
  CONSTRAINT fk_licence_type_issuers_department FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO licence_type_issuers (type_code, department_id)
SELECT t.code, d.id FROM licence_types t JOIN departments d ON d.uscc = SUBSTRING(t.code, 1, 18)
UNION
SELECT DISTINCT l.type_code, l.issuer_id FROM licences l;
