import type { Db } from './db.js';
import { iso, isoOrNull, json } from './rows.js';

/** An agreement a buyer accepted on a marketplace, as the hub keeps it (see 003_agreements.sql). */
export interface AgreementRow {
  connectionId: string;
  cloud: string;
  agreementId: string;
  canonicalId: string;
  offerId: string;
  privateOfferId: string | null;
  accountId: string | null;
  opportunityId: string | null;
  acceptor: string;
  status: string;
  acceptedAt: string;
  startDate: string;
  endDate: string | null;
  /** A decimal string in `currency`. */
  totalContractValue: string;
  currency: string;
  salesOrderId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type AgreementInput = Omit<AgreementRow, 'createdAt' | 'updatedAt' | 'salesOrderId' | 'data'> & { salesOrderId?: string | null; data?: Record<string, unknown> };

export interface AgreementFilter {
  connectionId?: string;
  cloud?: string;
  accountId?: string;
  offerId?: string;
  /** Accepted on or after this instant. */
  since?: string;
  limit?: number;
}

interface Row {
  connection_id: string; cloud: string; agreement_id: string; canonical_id: string; offer_id: string;
  private_offer_id: string | null; account_id: string | null; opportunity_id: string | null; acceptor: string; status: string;
  accepted_at: Date; start_date: Date | string; end_date: Date | string | null; total_contract_value: string; currency: string;
  sales_order_id: string | null; data: Record<string, unknown>; created_at: Date; updated_at: Date;
}

const day = (value: Date | string | null): string | null => (value === null ? null : typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10));

function fromRow(r: Row): AgreementRow {
  return {
    connectionId: r.connection_id, cloud: r.cloud, agreementId: r.agreement_id, canonicalId: r.canonical_id, offerId: r.offer_id,
    privateOfferId: r.private_offer_id, accountId: r.account_id, opportunityId: r.opportunity_id, acceptor: r.acceptor, status: r.status,
    acceptedAt: iso(r.accepted_at), startDate: day(r.start_date)!, endDate: day(r.end_date), totalContractValue: r.total_contract_value,
    currency: r.currency, salesOrderId: r.sales_order_id, data: r.data, createdAt: iso(r.created_at), updatedAt: isoOrNull(r.updated_at)!,
  };
}

export function agreementsRepo(db: Db) {
  return {
    /**
     * Records an agreement once: a second sighting (event, then poll) updates its status and
     * dates and keeps what the first recorded (its order, its canonical id). Returns the row and
     * whether this call created it.
     */
    async record(input: AgreementInput): Promise<{ agreement: AgreementRow; created: boolean }> {
      const rows = await db.query<Row & { inserted: boolean }>(
        `INSERT INTO agreements (connection_id, cloud, agreement_id, canonical_id, offer_id, private_offer_id, account_id, opportunity_id,
           acceptor, status, accepted_at, start_date, end_date, total_contract_value, currency, sales_order_id, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb)
         ON CONFLICT (connection_id, cloud, agreement_id) DO UPDATE SET
           status = EXCLUDED.status, end_date = EXCLUDED.end_date, updated_at = now(),
           private_offer_id = COALESCE(agreements.private_offer_id, EXCLUDED.private_offer_id),
           account_id = COALESCE(agreements.account_id, EXCLUDED.account_id),
           opportunity_id = COALESCE(agreements.opportunity_id, EXCLUDED.opportunity_id)
         RETURNING *, (xmax = 0) AS inserted`,
        [input.connectionId, input.cloud, input.agreementId, input.canonicalId, input.offerId, input.privateOfferId, input.accountId, input.opportunityId,
          input.acceptor, input.status, input.acceptedAt, input.startDate, input.endDate, input.totalContractValue, input.currency, input.salesOrderId ?? null, json(input.data ?? {})],
      );
      return { agreement: fromRow(rows[0]), created: rows[0].inserted === true };
    },

    async get(connectionId: string, cloud: string, agreementId: string): Promise<AgreementRow | undefined> {
      const rows = await db.query<Row>('SELECT * FROM agreements WHERE connection_id = $1 AND cloud = $2 AND agreement_id = $3', [connectionId, cloud, agreementId]);
      return rows[0] ? fromRow(rows[0]) : undefined;
    },

    /** The ERP's sales order made for the agreement. */
    async setSalesOrder(connectionId: string, cloud: string, agreementId: string, salesOrderId: string): Promise<void> {
      await db.query('UPDATE agreements SET sales_order_id = $4, updated_at = now() WHERE connection_id = $1 AND cloud = $2 AND agreement_id = $3', [connectionId, cloud, agreementId, salesOrderId]);
    },

    async list(filter: AgreementFilter = {}): Promise<AgreementRow[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => { params.push(value); where.push(sql.replace('?', `$${params.length}`)); };
      if (filter.connectionId) add('connection_id = ?', filter.connectionId);
      if (filter.cloud) add('cloud = ?', filter.cloud);
      if (filter.accountId) add('account_id = ?', filter.accountId);
      if (filter.offerId) add('offer_id = ?', filter.offerId);
      if (filter.since) add('accepted_at >= ?', filter.since);
      params.push(filter.limit ?? 1000);
      const rows = await db.query<Row>(`SELECT * FROM agreements ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY accepted_at, agreement_id LIMIT $${params.length}`, params);
      return rows.map(fromRow);
    },
  };
}
