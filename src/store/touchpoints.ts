import type { Touchpoint } from '../model/index.js';
import type { Db } from './db.js';
import { json } from './rows.js';

/**
 * Touchpoints: a partner's part in an opportunity (sourced it, or influenced it), recorded by
 * alliance managers beside what the CRM's partner fields say, for sourced and influenced revenue.
 */
export interface TouchpointRow extends Touchpoint {
  connectionId: string;
}

/** A won opportunity with the partners the CRM names on it, as revenue attribution reads it. */
export interface WonOpportunity {
  id: string;
  name: string;
  amount: { amount: string; currency: string } | null;
  closeDate: string;
  partners: Array<{ partnerId?: string; role: string }>;
}

interface Row { id: string; connection_id: string; partner_id: string; opportunity_id: string; kind: Touchpoint['kind']; date: Date | string; note: string | null }

const day = (value: Date | string): string => (typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10));

export function touchpointsRepo(db: Db) {
  return {
    /** Records touchpoints (the same id twice is one touchpoint); returns how many are new. */
    async add(connectionId: string, touchpoints: readonly Touchpoint[]): Promise<number> {
      if (touchpoints.length === 0) return 0;
      const rows = await db.query(
        `INSERT INTO touchpoints (id, connection_id, partner_id, opportunity_id, kind, date, note)
         SELECT id, $1::uuid, partner_id, opportunity_id, kind, date, note
         FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, partner_id uuid, opportunity_id uuid, kind text, date date, note text)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [connectionId, json(touchpoints.map((t) => ({ id: t.id, partner_id: t.partnerId, opportunity_id: t.opportunityId, kind: t.kind, date: t.date, note: t.note ?? null })))],
      );
      return rows.length;
    },

    async list(connectionId: string): Promise<TouchpointRow[]> {
      const rows = await db.query<Row>('SELECT * FROM touchpoints WHERE connection_id = $1 ORDER BY date, id', [connectionId]);
      return rows.map((r) => ({
        connectionId: r.connection_id, id: r.id, partnerId: r.partner_id, opportunityId: r.opportunity_id, kind: r.kind, date: day(r.date),
        ...(r.note ? { note: r.note } : {}),
      }));
    },

    /** The connection's won opportunities (canonical records), with their amounts and CRM partner fields. */
    async wonOpportunities(connectionId: string): Promise<WonOpportunity[]> {
      const rows = await db.query<{ canonical_id: string; data: Record<string, any> }>(
        `SELECT canonical_id, data FROM records WHERE connection_id = $1 AND entity = 'Opportunity' AND NOT deleted AND data->>'stage' = 'closed_won'
         ORDER BY data->>'closeDate', canonical_id`,
        [connectionId],
      );
      return rows.map((r) => ({
        id: r.canonical_id,
        name: String(r.data.name ?? ''),
        amount: r.data.amount ?? null,
        closeDate: String(r.data.closeDate ?? ''),
        partners: Array.isArray(r.data.partnerInvolvement) ? r.data.partnerInvolvement : [],
      }));
    },

    /** Partner names by canonical id (the connection's Partner records). */
    async partnerNames(connectionId: string): Promise<Map<string, string>> {
      const rows = await db.query<{ canonical_id: string; name: string | null }>(
        `SELECT canonical_id, data->>'name' AS name FROM records WHERE connection_id = $1 AND entity = 'Partner' AND NOT deleted`,
        [connectionId],
      );
      return new Map(rows.filter((r) => r.name).map((r) => [r.canonical_id, r.name!]));
    },
  };
}

export type TouchpointsRepo = ReturnType<typeof touchpointsRepo>;
