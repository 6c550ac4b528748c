-- Webhook requests accepted but not yet handed to their connection's workflow. A webhook is
-- answered once its request is here, durable, rather than once Temporal holds a signal: the
-- dispatcher of any API process claims rows, sends each connection's requests as one signal and
-- deletes them; a claim that lapses (its process died) is taken again. Nothing accepted is lost
-- while Temporal is slow or away.
CREATE TABLE webhook_inbox (
  seq           bigserial PRIMARY KEY,
  connection_id uuid NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  request       jsonb NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz
);
CREATE INDEX webhook_inbox_by_claim ON webhook_inbox (claimed_until, seq);
