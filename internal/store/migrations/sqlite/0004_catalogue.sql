-- The catalogue as data; see the MySQL migration of the same number.

ALTER TABLE licence_types ADD COLUMN face_template TEXT NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS licence_type_issuers (
  type_code     TEXT    NOT NULL REFERENCES licence_types (code),
  department_id INTEGER NOT NULL REFERENCES departments (id),
  PRIMARY KEY (type_code, department_id)
);
CREATE INDEX IF NOT EXISTS ix_licence_type_issuers_department ON licence_type_issuers (department_id);

INSERT OR IGNORE INTO licence_type_issuers (type_code, department_id)
SELECT t.code, d.id FROM licence_types t JOIN departments d ON d.uscc = SUBSTR(t.code, 1, 18)
UNION
SELECT DISTINCT l.type_code, l.issuer_id FROM licences l;
