-- Committed-spend drawdown and usage metering.
--
-- * commitments: a customer's cloud commitment (the canonical Commitment in `data`), per connection.
-- * drawdown_documents: source documents the hub does not sync (a refund AWS granted, a credit note),
--   entered by a person; the agreements, invoices and metered usage the hub keeps are read where they are.
-- * drawdown_ledger: one row per source document per commitment, ever. The primary key makes a
--   second judging of the same document write nothing; `seq` keeps the order the engine judged them in.
-- * drawdown_alerts: each alert once per key (`2025-01-01/consumed-80`); `sent_at` once delivered.
-- * usage_records: metered usage as customers' systems report it, once per sender's key.
-- * metering_sends: what was sent to the cloud for one customer, product, dimension and hour, and how
--   it ended. The row is written before the call (status sending) and its outcome after, so an hour
--   is sent once, even across a crash: a row still sending is sent again with the same quantity.
-- * metering_dead_letters: usage that will not reach the cloud as it stands (past the late window,
--   refused, no customer to send it for), with the reason; replayed or discarded by a person.
-- * touchpoints: a partner's part in an opportunity, for sourced and influenced revenue.

CREATE TABLE commitments (
  id            uuid PRIMARY KEY,
  connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  account_id    uuid NOT NULL,
  cloud         text NOT NULL,
  program       text NOT NULL,
  rule_set      text NOT NULL,
  data          jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX commitments_by_account ON commitments (connection_id, account_id);

CREATE TABLE drawdown_documents (
  commitment_id uuid NOT NULL REFERENCES commitments (id) ON DELETE CASCADE,
  source_id     text NOT NULL,
  document      jsonb NOT NULL,
  entered_by    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (commitment_id, source_id)
);

CREATE TABLE drawdown_ledger (
  commitment_id  uuid NOT NULL REFERENCES commitments (id) ON DELETE CASCADE,
  source_id      text NOT NULL,
  seq            bigserial NOT NULL,
  entry          jsonb NOT NULL,
  effective_date date NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (commitment_id, source_id)
);
CREATE INDEX drawdown_ledger_in_order ON drawdown_ledger (commitment_id, seq);

CREATE TABLE drawdown_alerts (
  commitment_id uuid NOT NULL REFERENCES commitments (id) ON DELETE CASCADE,
  key           text NOT NULL,
  kind          text NOT NULL,
  message       text NOT NULL,
  raised_at     timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz,
  PRIMARY KEY (commitment_id, key)
);

CREATE TABLE usage_records (
  connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  dedupe_key    text NOT NULL,
  account_id    uuid NOT NULL,
  cloud         text NOT NULL,
  product       text NOT NULL,
  plan          text,
  dimension     text NOT NULL,
  quantity      numeric NOT NULL CHECK (quantity >= 0),
  hour          timestamptz NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  -- What became of it: NULL while it waits for its hour to be sent; 'metered' once its quantity is
  -- in the hour's metering_sends row; 'dead' when it is in a dead letter.
  outcome       text CHECK (outcome IN ('metered', 'dead')),
  dead_letter_id uuid,
  PRIMARY KEY (connection_id, dedupe_key)
);
CREATE INDEX usage_records_waiting ON usage_records (connection_id, hour) WHERE outcome IS NULL;
CREATE INDEX usage_records_by_account ON usage_records (connection_id, account_id, hour);

CREATE TABLE metering_sends (
  connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  cloud         text NOT NULL,
  account_id    uuid NOT NULL,
  product       text NOT NULL,
  dimension     text NOT NULL,
  hour          timestamptz NOT NULL,
  plan          text,
  -- Who the cloud meters: the buyer's AWS account id, or the Microsoft SaaS subscription id.
  customer      text,
  quantity      numeric NOT NULL,
  status        text NOT NULL CHECK (status IN ('sending', 'sent', 'duplicate', 'dead')),
  -- The cloud's id of the metered record (MeteringRecordId, usageEventId).
  record_id     text,
  attempts      integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, cloud, account_id, product, dimension, hour)
);
CREATE INDEX metering_sends_sending ON metering_sends (connection_id, status) WHERE status = 'sending';

CREATE TABLE metering_dead_letters (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  cloud         text NOT NULL,
  account_id    uuid NOT NULL,
  product       text NOT NULL,
  plan          text,
  dimension     text NOT NULL,
  hour          timestamptz NOT NULL,
  quantity      numeric NOT NULL,
  reason        text NOT NULL,
  -- The cloud's or ecosync's short code: Late, CustomerNotSubscribed, Expired, NoCustomer…
  error_code    text NOT NULL,
  status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
  attempts      integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  resolved_at   timestamptz
);
CREATE UNIQUE INDEX metering_dead_letters_one_open
  ON metering_dead_letters (connection_id, cloud, account_id, product, dimension, hour) WHERE status = 'open';

CREATE TABLE touchpoints (
  id             uuid PRIMARY KEY,
  connection_id  uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  partner_id     uuid NOT NULL,
  opportunity_id uuid NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('sourced', 'influenced')),
  date           date NOT NULL,
  note           text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX touchpoints_by_connection ON touchpoints (connection_id, opportunity_id);
