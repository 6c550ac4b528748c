import type { Commitment, DrawdownEntry, DrawdownSource } from '../model/index.js';
import type { Db } from './db.js';
import { iso, isoOrNull, json } from './rows.js';

/**
 * Committed-spend drawdown as the hub keeps it (see 004_drawdown.sql): commitments, the
 * documents people enter by hand, the append-only ledger and the alerts raised. Values arrive
 * checked (the canonical model's schemas, at the API); the store keeps them as they are.
 */
export interface CommitmentRow {
  connectionId: string;
  commitment: Commitment;
  createdAt: string;
  updatedAt: string;
}

export interface CommitmentFilter {
  connectionId?: string;
  accountId?: string;
  cloud?: string;
}

export interface LedgerRow {
  /** Written in this order (the order the engine judged the documents in). */
  seq: number;
  entry: DrawdownEntry;
  createdAt: string;
}

export interface DocumentRow {
  commitmentId: string;
  document: DrawdownSource;
  enteredBy: string | null;
  createdAt: string;
}

export interface AlertRow {
  commitmentId: string;
  key: string;
  kind: string;
  message: string;
  raisedAt: string;
  sentAt: string | null;
}

export interface AlertInput {
  key: string;
  kind: string;
  message: string;
}

interface CommitmentDbRow { connection_id: string; data: Commitment; created_at: Date; updated_at: Date }
interface LedgerDbRow { seq: string | number; entry: DrawdownEntry; created_at: Date }
interface AlertDbRow { commitment_id: string; key: string; kind: string; message: string; raised_at: Date; sent_at: Date | null }

const toCommitment = (r: CommitmentDbRow): CommitmentRow => ({ connectionId: r.connection_id, commitment: r.data, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) });
const toLedger = (r: LedgerDbRow): LedgerRow => ({ seq: Number(r.seq), entry: r.entry, createdAt: iso(r.created_at) });
const toAlert = (r: AlertDbRow): AlertRow => ({ commitmentId: r.commitment_id, key: r.key, kind: r.kind, message: r.message, raisedAt: iso(r.raised_at), sentAt: isoOrNull(r.sent_at) });

export function commitmentsRepo(db: Db) {
  return {
    /** Records a new commitment; false when one with its id exists already (nothing changed). */
    async create(connectionId: string, c: Commitment): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO commitments (id, connection_id, account_id, cloud, program, rule_set, data) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [c.id, connectionId, c.accountId, c.cloud, c.program, c.ruleSet, json(c)],
      );
      return rows.length === 1;
    },

    async get(id: string): Promise<CommitmentRow | undefined> {
      const [row] = await db.query<CommitmentDbRow>('SELECT connection_id, data, created_at, updated_at FROM commitments WHERE id = $1', [id]);
      return row ? toCommitment(row) : undefined;
    },

    /**
     * The commitment, its row locked until the transaction ends: one judging of its ledger at a
     * time, whatever runs it (an activity and its retry on another worker).
     */
    async lock(id: string): Promise<CommitmentRow | undefined> {
      const [row] = await db.query<CommitmentDbRow>('SELECT connection_id, data, created_at, updated_at FROM commitments WHERE id = $1 FOR UPDATE', [id]);
      return row ? toCommitment(row) : undefined;
    },

    /** In creation order. */
    async list(filter: CommitmentFilter = {}): Promise<CommitmentRow[]> {
      const rows = await db.query<CommitmentDbRow>(
        `SELECT connection_id, data, created_at, updated_at FROM commitments
         WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::uuid IS NULL OR account_id = $2) AND ($3::text IS NULL OR cloud = $3)
         ORDER BY created_at, id`,
        [filter.connectionId ?? null, filter.accountId ?? null, filter.cloud ?? null],
      );
      return rows.map(toCommitment);
    },

    // --- documents entered by hand ------------------------------------------------------------

    /** Adds a document; false when the commitment already has one with its id (ids are for ever). */
    async addDocument(commitmentId: string, document: DrawdownSource, enteredBy?: string): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO drawdown_documents (commitment_id, source_id, document, entered_by) VALUES ($1, $2, $3::jsonb, $4)
         ON CONFLICT (commitment_id, source_id) DO NOTHING RETURNING source_id`,
        [commitmentId, document.id, json(document), enteredBy ?? null],
      );
      return rows.length === 1;
    },

    async documents(commitmentId: string): Promise<DocumentRow[]> {
      const rows = await db.query<{ commitment_id: string; document: DrawdownSource; entered_by: string | null; created_at: Date }>(
        'SELECT commitment_id, document, entered_by, created_at FROM drawdown_documents WHERE commitment_id = $1 ORDER BY created_at, source_id',
        [commitmentId],
      );
      return rows.map((r) => ({ commitmentId: r.commitment_id, document: r.document, enteredBy: r.entered_by, createdAt: iso(r.created_at) }));
    },

    // --- the ledger -----------------------------------------------------------------------------

    /** The commitment's ledger in the order it was written. */
    async ledger(commitmentId: string): Promise<LedgerRow[]> {
      const rows = await db.query<LedgerDbRow>('SELECT seq, entry, created_at FROM drawdown_ledger WHERE commitment_id = $1 ORDER BY seq', [commitmentId]);
      return rows.map(toLedger);
    },

    /**
     * Appends entries in their order; an entry whose document the ledger already has is not
     * written. Returns the entries written.
     */
    async append(entries: readonly DrawdownEntry[]): Promise<DrawdownEntry[]> {
      if (entries.length === 0) return [];
      const rows = await db.query<{ commitment_id: string; source_id: string }>(
        `INSERT INTO drawdown_ledger (commitment_id, source_id, entry, effective_date)
         SELECT commitment_id, source_id, entry, effective_date
         FROM jsonb_to_recordset($1::jsonb) AS x(commitment_id uuid, source_id text, entry jsonb, effective_date date, n integer)
         ORDER BY n
         ON CONFLICT (commitment_id, source_id) DO NOTHING
         RETURNING commitment_id, source_id`,
        [json(entries.map((e, n) => ({ commitment_id: e.commitmentId, source_id: e.sourceId, entry: e, effective_date: e.effectiveDate, n })))],
      );
      const written = new Set(rows.map((r) => `${r.commitment_id}\u0000${r.source_id}`));
      return entries.filter((e) => written.has(`${e.commitmentId.toLowerCase()}\u0000${e.sourceId}`));
    },

    // --- alerts ---------------------------------------------------------------------------------

    /** Raises each alert once per key; returns the ones raised now. */
    async raise(commitmentId: string, alerts: readonly AlertInput[]): Promise<AlertRow[]> {
      if (alerts.length === 0) return [];
      const rows = await db.query<AlertDbRow>(
        `INSERT INTO drawdown_alerts (commitment_id, key, kind, message)
         SELECT $1::uuid, key, kind, message FROM jsonb_to_recordset($2::jsonb) AS x(key text, kind text, message text)
         ON CONFLICT (commitment_id, key) DO NOTHING
         RETURNING commitment_id, key, kind, message, raised_at, sent_at`,
        [commitmentId, json(alerts)],
      );
      return rows.map(toAlert);
    },

    /** Alerts raised and not delivered yet, oldest first. */
    async unsentAlerts(commitmentId: string): Promise<AlertRow[]> {
      const rows = await db.query<AlertDbRow>(
        'SELECT commitment_id, key, kind, message, raised_at, sent_at FROM drawdown_alerts WHERE commitment_id = $1 AND sent_at IS NULL ORDER BY raised_at, key',
        [commitmentId],
      );
      return rows.map(toAlert);
    },

    async alerts(commitmentId: string): Promise<AlertRow[]> {
      const rows = await db.query<AlertDbRow>(
        'SELECT commitment_id, key, kind, message, raised_at, sent_at FROM drawdown_alerts WHERE commitment_id = $1 ORDER BY raised_at, key',
        [commitmentId],
      );
      return rows.map(toAlert);
    },

    async markSent(commitmentId: string, key: string): Promise<void> {
      await db.query('UPDATE drawdown_alerts SET sent_at = now() WHERE commitment_id = $1 AND key = $2 AND sent_at IS NULL', [commitmentId, key]);
    },
  };
}

export type CommitmentsRepo = ReturnType<typeof commitmentsRepo>;
