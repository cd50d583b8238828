-- A member added with a one-time password must set their own at the first
-- login before anything else (docs/CONSOLE.md, "One-time passwords"). The
-- flag is set on add and cleared by that change; accounts on file before
-- this migration keep the password they have.

ALTER TABLE staff ADD COLUMN password_must_change TINYINT(1) NOT NULL DEFAULT 0;
