import type { UsageRecord } from '../model/index.js';
import type { Db } from './db.js';
import { iso, isoOrNull, json } from './rows.js';

/**
 * Metered usage and what became of it (see 004_drawdown.sql): usage as customers' systems report
 * it, each hour sent to the cloud once (the intent written before the call, the outcome after),
 * and the usage that will not reach the cloud as it stands, as dead letters with the reason.
 *
 * A usage record waits until its hour is sent; sending claims every waiting record of the hour in
 * the statement that writes the hour's row, so the quantity sent is exactly what was claimed.
 * Usage of an hour already sent is not metered (the clouds take one record per customer,
 * dimension and hour): it becomes a dead letter.
 */

/** One customer's usage of one dimension of one product in one hour: what the clouds meter. */
export interface MeterKey {
  cloud: string;
  accountId: string;
  product: string;
  dimension: string;
  /** The hour's first instant, ISO 8601 UTC. */
  hour: string;
}

/** Usage of a key that waits to be sent, and what the hub did with the key so far. */
export interface WaitingHour extends MeterKey {
  plan: string | null;
  /** The waiting records' sum, a decimal string. */
  quantity: string;
  records: number;
  /** The hour's send, when it was sent (or its sending started, or it was given up) before. */
  sent: SendStatus | null;
}

export type SendStatus = 'sending' | 'sent' | 'duplicate' | 'dead';

export interface MeteringSend extends MeterKey {
  plan: string | null;
  /** The buyer's AWS account id, or the Microsoft SaaS subscription id. */
  customer: string | null;
  quantity: string;
  status: SendStatus;
  recordId: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

export type MeteringLetterStatus = 'open' | 'replayed' | 'discarded';

export interface MeteringDeadLetter extends MeterKey {
  id: string;
  connectionId: string;
  plan: string | null;
  quantity: string;
  reason: string;
  errorCode: string;
  status: MeteringLetterStatus;
  attempts: number;
  createdAt: string;
  resolvedAt: string | null;
}

export interface MeteringLetterFilter {
  connectionId?: string;
  status?: MeteringLetterStatus;
  cloud?: string;
  limit?: number;
}

/** A key given up on, and why. */
export interface DeadKey extends MeterKey {
  plan: string | null;
  reason: string;
  errorCode: string;
}

export interface ReplayOutcome {
  /** Letters whose usage waits to be sent again (the next metering run sends it). */
  replayed: number;
  /** Letters whose hour the cloud already has: nothing more can be sent for it. */
  stillFailing: number;
}

/** Usage that reached the cloud (or, for a cloud ecosync does not meter, was reported), per month. */
export interface MonthlyUsage {
  cloud: string;
  product: string;
  dimension: string;
  /** YYYY-MM. */
  month: string;
  quantity: string;
}

const KEY_COLUMNS = 'cloud, account_id, product, dimension, hour';
const KEYS_OF = (param: string) => `jsonb_to_recordset(${param}::jsonb) AS k(cloud text, account_id uuid, product text, dimension text, hour timestamptz, plan text, customer text, reason text, error_code text)`;
const SAME_KEY = (a: string, b: string) => `${a}.cloud = ${b}.cloud AND ${a}.account_id = ${b}.account_id AND ${a}.product = ${b}.product AND ${a}.dimension = ${b}.dimension AND ${a}.hour = ${b}.hour`;

interface KeyRow { cloud: string; account_id: string; product: string; dimension: string; hour: Date | string }
interface SendRow extends KeyRow { plan: string | null; customer: string | null; quantity: string; status: SendStatus; record_id: string | null; attempts: number; created_at: Date; updated_at: Date }
interface LetterRow extends KeyRow {
  id: string; connection_id: string; plan: string | null; quantity: string; reason: string; error_code: string; status: MeteringLetterStatus;
  attempts: number; created_at: Date; resolved_at: Date | null;
}

const keyOf = (r: KeyRow): MeterKey => ({ cloud: r.cloud, accountId: r.account_id, product: r.product, dimension: r.dimension, hour: iso(r.hour) });
const keyJson = (k: MeterKey & { plan?: string | null; customer?: string | null; reason?: string; errorCode?: string }) => ({
  cloud: k.cloud, account_id: k.accountId, product: k.product, dimension: k.dimension, hour: k.hour,
  plan: k.plan ?? null, customer: k.customer ?? null, reason: k.reason ?? null, error_code: k.errorCode ?? null,
});
const toSend = (r: SendRow): MeteringSend => ({
  ...keyOf(r), plan: r.plan, customer: r.customer, quantity: r.quantity, status: r.status, recordId: r.record_id, attempts: r.attempts,
  createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
});
const toLetter = (r: LetterRow): MeteringDeadLetter => ({
  id: r.id, connectionId: r.connection_id, ...keyOf(r), plan: r.plan, quantity: r.quantity, reason: r.reason, errorCode: r.error_code,
  status: r.status, attempts: r.attempts, createdAt: iso(r.created_at), resolvedAt: isoOrNull(r.resolved_at),
});
const SEND_COLUMNS = 's.cloud, s.account_id, s.product, s.dimension, s.hour, s.plan, s.customer, s.quantity::text AS quantity, s.status, s.record_id, s.attempts, s.created_at, s.updated_at';
const LETTER_COLUMNS = `id, connection_id, ${KEY_COLUMNS}, plan, quantity::text AS quantity, reason, error_code, status, attempts, created_at, resolved_at`;

export function meteringRepo(db: Db) {
  return {
    /**
     * Keeps usage records once per sender's key: returns the keys kept now and the keys the hub
     * had already (sent again: counted once).
     */
    async ingest(connectionId: string, records: readonly UsageRecord[]): Promise<{ accepted: string[]; duplicates: string[] }> {
      if (records.length === 0) return { accepted: [], duplicates: [] };
      const rows = await db.query<{ dedupe_key: string }>(
        `INSERT INTO usage_records (connection_id, dedupe_key, account_id, cloud, product, plan, dimension, quantity, hour)
         SELECT $1::uuid, dedupe_key, account_id, cloud, product, plan, dimension, quantity, hour
         FROM jsonb_to_recordset($2::jsonb) AS x(dedupe_key text, account_id uuid, cloud text, product text, plan text, dimension text, quantity numeric, hour timestamptz)
         ON CONFLICT (connection_id, dedupe_key) DO NOTHING
         RETURNING dedupe_key`,
        [connectionId, json(records.map((r) => ({
          dedupe_key: r.dedupeKey, account_id: r.accountId, cloud: r.cloud, product: r.product, plan: r.plan ?? null, dimension: r.dimension, quantity: r.quantity, hour: r.hour,
        })))],
      );
      const accepted = new Set(rows.map((r) => r.dedupe_key));
      return { accepted: [...accepted], duplicates: records.map((r) => r.dedupeKey).filter((k) => !accepted.has(k)) };
    },

    /** Waiting usage of hours before `before`, per key, oldest hour first, with what was done with each key so far. */
    async waiting(connectionId: string, options: { before: string; clouds: readonly string[] }): Promise<WaitingHour[]> {
      const rows = await db.query<KeyRow & { plan: string | null; quantity: string; records: number; sent: SendStatus | null }>(
        `SELECT u.cloud, u.account_id, u.product, u.dimension, u.hour, max(u.plan) AS plan, sum(u.quantity)::text AS quantity,
           count(*)::int AS records, max(s.status) AS sent
         FROM usage_records u
         LEFT JOIN metering_sends s ON s.connection_id = u.connection_id AND ${SAME_KEY('s', 'u')}
         WHERE u.connection_id = $1 AND u.outcome IS NULL AND u.hour < $2 AND u.cloud = ANY($3::text[])
         GROUP BY u.cloud, u.account_id, u.product, u.dimension, u.hour
         ORDER BY u.hour, u.cloud, u.product, u.account_id, u.dimension`,
        [connectionId, options.before, [...options.clouds]],
      );
      return rows.map((r) => ({ ...keyOf(r), plan: r.plan, quantity: r.quantity, records: r.records, sent: r.sent }));
    },

    /**
     * Records the intent to send these hours: each gets its row (status sending) with the sum of
     * the usage waiting for it, claimed in the same statement. Hours that already have a row are
     * left alone. Returns the rows written, to send.
     */
    async startSends(connectionId: string, keys: ReadonlyArray<MeterKey & { plan: string | null; customer: string }>): Promise<MeteringSend[]> {
      if (keys.length === 0) return [];
      const rows = await db.query<SendRow>(
        `WITH k AS (
           SELECT k.* FROM ${KEYS_OF('$2')}
           WHERE NOT EXISTS (SELECT 1 FROM metering_sends s WHERE s.connection_id = $1 AND ${SAME_KEY('s', 'k')})
         ),
         claimed AS (
           UPDATE usage_records u SET outcome = 'metered' FROM k
           WHERE u.connection_id = $1 AND u.outcome IS NULL AND ${SAME_KEY('u', 'k')}
           RETURNING u.cloud, u.account_id, u.product, u.dimension, u.hour, u.quantity
         )
         INSERT INTO metering_sends AS s (connection_id, cloud, account_id, product, dimension, hour, plan, customer, quantity, status)
         SELECT $1::uuid, k.cloud, k.account_id, k.product, k.dimension, k.hour, k.plan, k.customer, sum(c.quantity), 'sending'
         FROM k JOIN claimed c ON ${SAME_KEY('c', 'k')}
         GROUP BY k.cloud, k.account_id, k.product, k.dimension, k.hour, k.plan, k.customer
         RETURNING ${SEND_COLUMNS}`,
        [connectionId, json(keys.map(keyJson))],
      );
      return rows.map(toSend);
    },

    /** Hours whose sending started and whose outcome was never recorded (a crash, a failed call): to send again as they are. */
    async unfinished(connectionId: string): Promise<MeteringSend[]> {
      const rows = await db.query<SendRow>(
        `SELECT ${SEND_COLUMNS} FROM metering_sends s WHERE connection_id = $1 AND status = 'sending' ORDER BY hour, cloud, product, account_id, dimension`,
        [connectionId],
      );
      return rows.map(toSend);
    },

    /** The cloud took these hours (or already had them): their outcome. */
    async finish(connectionId: string, outcomes: ReadonlyArray<MeterKey & { status: 'sent' | 'duplicate'; recordId?: string | null }>): Promise<number> {
      if (outcomes.length === 0) return 0;
      const rows = await db.query(
        `UPDATE metering_sends s SET status = o.status, record_id = o.record_id, updated_at = now()
         FROM jsonb_to_recordset($2::jsonb) AS o(cloud text, account_id uuid, product text, dimension text, hour timestamptz, status text, record_id text)
         WHERE s.connection_id = $1 AND s.status = 'sending' AND ${SAME_KEY('s', 'o')}
         RETURNING s.hour`,
        [connectionId, json(outcomes.map((o) => ({ ...keyJson(o), status: o.status, record_id: o.recordId ?? null })))],
      );
      return rows.length;
    },

    /** Another attempt at these hours is about to be made (UnprocessedRecords, a resend after a crash). */
    async countAttempt(connectionId: string, keys: readonly MeterKey[]): Promise<void> {
      if (keys.length === 0) return;
      await db.query(
        `UPDATE metering_sends s SET attempts = s.attempts + 1, updated_at = now() FROM ${KEYS_OF('$2')}
         WHERE s.connection_id = $1 AND s.status = 'sending' AND ${SAME_KEY('s', 'k')}`,
        [connectionId, json(keys.map(keyJson))],
      );
    },

    /**
     * Gives up on keys, each with its reason, in one transaction: hours being sent (the cloud
     * refused them) and usage still waiting become dead letters (one open letter per key, its
     * quantity growing as more usage joins it), and an hour never sent gets a row marked dead, so
     * it is not sent until a replay.
     */
    async deadLetter(connectionId: string, keys: readonly DeadKey[]): Promise<MeteringDeadLetter[]> {
      if (keys.length === 0) return [];
      return db.transaction(async (tx) => {
        const param = json(keys.map(keyJson));
        // Refused while being sent: the hour's row is dead, its usage moves to the letter.
        await tx.query(
          `UPDATE metering_sends s SET status = 'dead', updated_at = now() FROM ${KEYS_OF('$2')}
           WHERE s.connection_id = $1 AND s.status = 'sending' AND ${SAME_KEY('s', 'k')}`,
          [connectionId, param],
        );
        const letters = await tx.query<LetterRow>(
          `WITH k AS (SELECT * FROM ${KEYS_OF('$2')}),
           usage AS (
             SELECT k.cloud, k.account_id, k.product, k.dimension, k.hour, sum(u.quantity) AS quantity
             FROM k JOIN usage_records u ON u.connection_id = $1 AND ${SAME_KEY('u', 'k')}
               AND (u.outcome IS NULL OR (u.outcome = 'metered' AND EXISTS (
                 SELECT 1 FROM metering_sends s WHERE s.connection_id = $1 AND s.status = 'dead' AND ${SAME_KEY('s', 'k')})))
             GROUP BY k.cloud, k.account_id, k.product, k.dimension, k.hour
           )
           INSERT INTO metering_dead_letters (connection_id, cloud, account_id, product, dimension, hour, plan, quantity, reason, error_code)
           SELECT $1::uuid, k.cloud, k.account_id, k.product, k.dimension, k.hour, k.plan, coalesce(usage.quantity, 0), k.reason, k.error_code
           FROM k LEFT JOIN usage ON ${SAME_KEY('usage', 'k')}
           ON CONFLICT (connection_id, cloud, account_id, product, dimension, hour) WHERE status = 'open' DO UPDATE SET
             quantity = metering_dead_letters.quantity + excluded.quantity,
             reason = excluded.reason, error_code = excluded.error_code, attempts = metering_dead_letters.attempts + 1
           RETURNING ${LETTER_COLUMNS}`,
          [connectionId, param],
        );
        // The usage now in the letters.
        await tx.query(
          `UPDATE usage_records u SET outcome = 'dead', dead_letter_id = l.id
           FROM metering_dead_letters l
           WHERE l.connection_id = $1 AND l.id = ANY($2::uuid[]) AND u.connection_id = $1 AND ${SAME_KEY('u', 'l')}
             AND (u.outcome IS NULL OR (u.outcome = 'metered' AND EXISTS (
               SELECT 1 FROM metering_sends s WHERE s.connection_id = $1 AND s.status = 'dead' AND ${SAME_KEY('s', 'l')})))`,
          [connectionId, letters.map((l) => l.id)],
        );
        // An hour never sent stays unsent until a replay.
        await tx.query(
          `INSERT INTO metering_sends (connection_id, cloud, account_id, product, dimension, hour, plan, quantity, status)
           SELECT $1::uuid, k.cloud, k.account_id, k.product, k.dimension, k.hour, k.plan, 0, 'dead' FROM ${KEYS_OF('$2')}
           ON CONFLICT DO NOTHING`,
          [connectionId, param],
        );
        return letters.map(toLetter);
      });
    },

    async send(connectionId: string, key: MeterKey): Promise<MeteringSend | undefined> {
      const [row] = await db.query<SendRow>(
        `SELECT ${SEND_COLUMNS} FROM metering_sends s, ${KEYS_OF('$2')} WHERE s.connection_id = $1 AND ${SAME_KEY('s', 'k')}`,
        [connectionId, json([keyJson(key)])],
      );
      return row ? toSend(row) : undefined;
    },

    /** Sends of a connection (newest hour first), for reports and tests. */
    async sends(connectionId: string, filter: { status?: SendStatus; cloud?: string } = {}): Promise<MeteringSend[]> {
      const rows = await db.query<SendRow>(
        `SELECT ${SEND_COLUMNS} FROM metering_sends s WHERE connection_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR cloud = $3)
         ORDER BY hour DESC, cloud, product, account_id, dimension`,
        [connectionId, filter.status ?? null, filter.cloud ?? null],
      );
      return rows.map(toSend);
    },

    // --- dead letters ---------------------------------------------------------------------------

    async letter(id: string): Promise<MeteringDeadLetter | undefined> {
      const [row] = await db.query<LetterRow>(`SELECT ${LETTER_COLUMNS} FROM metering_dead_letters WHERE id = $1`, [id]);
      return row ? toLetter(row) : undefined;
    },

    /** Newest first. */
    async letters(filter: MeteringLetterFilter = {}): Promise<MeteringDeadLetter[]> {
      const rows = await db.query<LetterRow>(
        `SELECT ${LETTER_COLUMNS} FROM metering_dead_letters
         WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR cloud = $3)
         ORDER BY created_at DESC, hour DESC, id LIMIT $4`,
        [filter.connectionId ?? null, filter.status ?? null, filter.cloud ?? null, filter.limit ?? 100],
      );
      return rows.map(toLetter);
    },

    /**
     * Sends the usage of open letters again: a letter whose hour the cloud never took is closed as
     * replayed, its usage waits again and its hour's dead row goes, so the next metering run tries
     * (and letters it again, with the reason, if it still cannot). A letter of usage that came
     * after its hour was metered cannot be sent: it stays open.
     */
    async replay(connectionId: string, ids?: readonly string[]): Promise<ReplayOutcome> {
      return db.transaction(async (tx) => {
        const open = await tx.query<LetterRow>(
          `SELECT ${LETTER_COLUMNS} FROM metering_dead_letters WHERE connection_id = $1 AND status = 'open' AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) FOR UPDATE`,
          [connectionId, ids ? [...ids] : null],
        );
        if (open.length === 0) return { replayed: 0, stillFailing: 0 };
        const replayable = await tx.query<{ id: string }>(
          `SELECT l.id FROM metering_dead_letters l JOIN metering_sends s ON s.connection_id = l.connection_id AND ${SAME_KEY('s', 'l')}
           WHERE l.id = ANY($1::uuid[]) AND s.status = 'dead'`,
          [open.map((l) => l.id)],
        );
        const ids2 = replayable.map((r) => r.id);
        if (ids2.length > 0) {
          await tx.query(
            `DELETE FROM metering_sends s USING metering_dead_letters l
             WHERE l.id = ANY($1::uuid[]) AND s.connection_id = l.connection_id AND ${SAME_KEY('s', 'l')} AND s.status = 'dead'`,
            [ids2],
          );
          await tx.query(`UPDATE usage_records SET outcome = NULL, dead_letter_id = NULL WHERE connection_id = $1 AND dead_letter_id = ANY($2::uuid[])`, [connectionId, ids2]);
          await tx.query(`UPDATE metering_dead_letters SET status = 'replayed', resolved_at = now() WHERE id = ANY($1::uuid[])`, [ids2]);
        }
        return { replayed: ids2.length, stillFailing: open.length - ids2.length };
      });
    },

    /** Gives up on open letters; returns how many were closed. */
    async discard(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const rows = await db.query(`UPDATE metering_dead_letters SET status = 'discarded', resolved_at = now() WHERE id = ANY($1::uuid[]) AND status = 'open' RETURNING id`, [[...ids]]);
      return rows.length;
    },

    // --- for the ledger -------------------------------------------------------------------------

    /**
     * A customer's usage per product, dimension and month: what the cloud took (sent, or already
     * had) for the clouds ecosync meters, what was reported for the others.
     */
    async monthly(connectionId: string, accountId: string, cloud: string, metered: boolean): Promise<MonthlyUsage[]> {
      const rows = await db.query<{ cloud: string; product: string; dimension: string; month: string; quantity: string }>(
        metered
          ? `SELECT cloud, product, dimension, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM') AS month, sum(quantity)::text AS quantity
             FROM metering_sends WHERE connection_id = $1 AND account_id = $2 AND cloud = $3 AND status IN ('sent', 'duplicate')
             GROUP BY 1, 2, 3, 4 ORDER BY 4, 2, 3`
          : `SELECT cloud, product, dimension, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM') AS month, sum(quantity)::text AS quantity
             FROM usage_records WHERE connection_id = $1 AND account_id = $2 AND cloud = $3
             GROUP BY 1, 2, 3, 4 ORDER BY 4, 2, 3`,
        [connectionId, accountId, cloud],
      );
      return rows;
    },
  };
}

export type MeteringRepo = ReturnType<typeof meteringRepo>;
