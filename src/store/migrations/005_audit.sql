-- The audit log: who did what through the API (approved, rejected or withdrew a co-sell or an
-- offer, resolved a conflict, replayed dead letters, created or deleted a connection), written
-- after the action succeeded. Names, not foreign keys: an entry outlives what it is about.

CREATE TABLE audit_log (
  seq         bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  role        text NOT NULL,
  on_behalf   text,
  action      text NOT NULL,
  subject     text NOT NULL,
  connection  text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_by_subject ON audit_log (subject, seq);
