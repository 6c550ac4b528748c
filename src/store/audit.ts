import type { Db } from './db.js';
import { iso, json } from './rows.js';

/** What people did through the API, as the audit log names it. */
export const AUDIT_ACTIONS = [
  'connection.create', 'connection.delete',
  'conflict.resolve',
  'deadletters.replay', 'deadletter.discard',
  'cosell.submit', 'cosell.approve', 'cosell.reject', 'cosell.request-changes', 'cosell.resubmit',
  'offer.create', 'offer.approve', 'offer.reject', 'offer.request-changes', 'offer.resubmit', 'offer.withdraw',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditInput {
  /** The token's name. */
  actor: string;
  role: string;
  /** The person an admin acted for, when not the actor. */
  onBehalf?: string;
  action: AuditAction;
  /** What it was done to: a connection's name, a conflict's or a letter's id, a workflow id. */
  subject: string;
  connection?: string;
  /** What was decided, in the action's own terms (a comment, the side that won, the counts of a replay). */
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends Required<Omit<AuditInput, 'onBehalf' | 'connection'>> {
  seq: number;
  at: string;
  onBehalf: string | null;
  connection: string | null;
}

export interface AuditFilter {
  actor?: string;
  action?: AuditAction;
  subject?: string;
  connection?: string;
  /** Entries at or after this instant (ISO 8601). */
  since?: string;
  /** Entries before this instant. */
  until?: string;
  /** Entries older than this seq, for paging back. */
  before?: number;
  limit?: number;
}

interface Row { seq: string | number; at: Date | string; actor: string; role: string; on_behalf: string | null; action: AuditAction; subject: string; connection: string | null; detail: Record<string, unknown> }

export function auditRepo(db: Db) {
  return {
    async record(entry: AuditInput): Promise<AuditEntry> {
      const [row] = await db.query<Row>(
        `INSERT INTO audit_log (actor, role, on_behalf, action, subject, connection, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING *`,
        [entry.actor, entry.role, entry.onBehalf ?? null, entry.action, entry.subject, entry.connection ?? null, json(entry.detail ?? {})],
      );
      return fromRow(row);
    },

    /** Newest first. Every value is a parameter: a filter is data, never SQL. */
    async list(filter: AuditFilter = {}): Promise<AuditEntry[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: (p: string) => string, value: unknown) => {
        params.push(value);
        where.push(sql(`$${params.length}`));
      };
      // An actor's entries include those an admin made on their behalf.
      if (filter.actor !== undefined) add((p) => `(actor = ${p} OR on_behalf = ${p})`, filter.actor);
      if (filter.action !== undefined) add((p) => `action = ${p}`, filter.action);
      if (filter.subject !== undefined) add((p) => `subject = ${p}`, filter.subject);
      if (filter.connection !== undefined) add((p) => `connection = ${p}`, filter.connection);
      if (filter.since !== undefined) add((p) => `at >= ${p}::timestamptz`, filter.since);
      if (filter.until !== undefined) add((p) => `at < ${p}::timestamptz`, filter.until);
      if (filter.before !== undefined) add((p) => `seq < ${p}`, filter.before);
      params.push(filter.limit ?? 100);
      const rows = await db.query<Row>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(fromRow);
    },
  };
}

function fromRow(r: Row): AuditEntry {
  return {
    seq: Number(r.seq), at: iso(r.at), actor: r.actor, role: r.role, onBehalf: r.on_behalf, action: r.action,
    subject: r.subject, connection: r.connection, detail: r.detail ?? {},
  };
}

export type AuditRepo = ReturnType<typeof auditRepo>;
