import type { Db } from './db.js';
import { json } from './rows.js';

/**
 * The webhook inbox (migration 006): sync requests accepted from webhooks, held until a
 * dispatcher has handed them to their connection's workflow. Rows are claimed for a lease, so
 * several API processes share the work (SKIP LOCKED) and a claim whose process died is taken again.
 */
export interface InboxItem {
  seq: string;
  connectionId: string;
  /** The sync request as the webhook route made it (no id: the dispatcher gives each signal one). */
  request: Record<string, unknown>;
}

export function inboxRepo(db: Db) {
  return {
    async add(connectionId: string, request: Record<string, unknown>): Promise<void> {
      await db.query('INSERT INTO webhook_inbox (connection_id, request) VALUES ($1, $2::jsonb)', [connectionId, json(request)]);
    },

    /** Claims up to `limit` rows that nobody holds (or whose claim lapsed) for `leaseMs`, oldest first. */
    async claim(limit: number, leaseMs: number): Promise<InboxItem[]> {
      const rows = await db.query<{ seq: string; connection_id: string; request: Record<string, unknown> }>(
        `UPDATE webhook_inbox SET claimed_until = now() + $2 * interval '1 millisecond'
         WHERE seq IN (
           SELECT seq FROM webhook_inbox WHERE claimed_until IS NULL OR claimed_until < now()
           ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING seq::text, connection_id, request`,
        [limit, leaseMs],
      );
      return rows.map((r) => ({ seq: r.seq, connectionId: r.connection_id, request: r.request })).sort((a, b) => Number(a.seq) - Number(b.seq));
    },

    /** Deletes rows whose requests were handed over. */
    async done(seqs: readonly string[]): Promise<void> {
      if (seqs.length > 0) await db.query('DELETE FROM webhook_inbox WHERE seq = ANY($1::bigint[])', [seqs]);
    },

    /** Gives claimed rows back at once (their signal failed), for the next attempt. */
    async release(seqs: readonly string[]): Promise<void> {
      if (seqs.length > 0) await db.query('UPDATE webhook_inbox SET claimed_until = NULL WHERE seq = ANY($1::bigint[])', [seqs]);
    },

    /** Rows waiting, claimed or not. */
    async count(): Promise<number> {
      const [row] = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM webhook_inbox');
      return Number(row.n);
    },
  };
}
