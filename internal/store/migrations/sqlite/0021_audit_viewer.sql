-- The console's audit viewer (docs/CONSOLE.md, "Audit") filters entries by
-- actor and by action, newest first and paged by id: each filter reads its
-- own index in id order. Filters by object and by time use the indexes of
-- migration 0001.
CREATE INDEX IF NOT EXISTS ix_audit_events_actor ON audit_events (actor, id);
CREATE INDEX IF NOT EXISTS ix_audit_events_action ON audit_events (action, id);
