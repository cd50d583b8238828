-- A member added with a one-time password must set their own at the first
-- login. Same column as the MySQL schema; see docs/CONSOLE.md.

ALTER TABLE staff ADD COLUMN password_must_change INTEGER NOT NULL DEFAULT 0;
