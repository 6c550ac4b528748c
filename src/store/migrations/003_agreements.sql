-- Agreements: what buyers accepted on the marketplaces. Offers make them; committed-spend
-- drawdown counts them. One row per agreement of a cloud per connection, whatever saw it first
-- (the marketplace's event or a poll), so an acceptance seen twice is recorded once.
CREATE TABLE agreements (
  connection_id       uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  cloud               text NOT NULL,
  agreement_id        text NOT NULL,
  -- The canonical id the agreement's ERP order and ledger lines are keyed by (UUID v5 of cloud and agreement id).
  canonical_id        uuid NOT NULL,
  offer_id            text NOT NULL,
  private_offer_id    uuid,
  account_id          uuid,
  opportunity_id      uuid,
  acceptor            text NOT NULL,
  status              text NOT NULL,
  accepted_at         timestamptz NOT NULL,
  start_date          date NOT NULL,
  end_date            date,
  total_contract_value text NOT NULL,
  currency            text NOT NULL,
  -- The ERP's sales order made for it, once made.
  sales_order_id      uuid,
  data                jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, cloud, agreement_id)
);
CREATE INDEX agreements_by_account ON agreements (connection_id, account_id);
CREATE INDEX agreements_by_offer ON agreements (connection_id, offer_id);
