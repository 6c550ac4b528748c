import type { Db } from './db.js';
import { iso, isoOrNull, json, lastPerKey } from './rows.js';

export type DeadLetterDirection = 'read' | 'write';
export type DeadLetterStatus = 'open' | 'replayed' | 'discarded';

export interface DeadLetterInput {
  connectionId: string;
  /** 'read': the source record could not be mapped, validated or planned; 'write': a system rejected our write. */
  direction: DeadLetterDirection;
  /** The system and object the record failed in. */
  system: string;
  object: string;
  externalId?: string | null;
  canonicalId?: string | null;
  /** The source record as read, so a replay can run it again after a fix. */
  payload: unknown;
  reason: string;
  /** The system's own error code, e.g. REQUIRED_FIELD_MISSING. */
  errorCode?: string | null;
  failingFields?: string[];
}

export interface DeadLetter extends Required<DeadLetterInput> {
  id: string;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  status: DeadLetterStatus;
  resolvedAt: string | null;
}

export interface DeadLetterFilter {
  connectionId?: string;
  status?: DeadLetterStatus;
  system?: string;
  object?: string;
  limit?: number;
  offset?: number;
}

interface DeadLetterRow {
  id: string;
  connection_id: string;
  direction: DeadLetterDirection;
  system: string;
  object: string;
  external_id: string | null;
  canonical_id: string | null;
  payload: unknown;
  reason: string;
  error_code: string | null;
  failing_fields: string[];
  attempts: number;
  first_failed_at: Date;
  last_failed_at: Date;
  status: DeadLetterStatus;
  resolved_at: Date | null;
}

const COLUMNS = `id, connection_id, direction, system, object, external_id, canonical_id, payload, reason, error_code,
  failing_fields, attempts, first_failed_at, last_failed_at, status, resolved_at`;

function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    connectionId: r.connection_id,
    direction: r.direction,
    system: r.system,
    object: r.object,
    externalId: r.external_id,
    canonicalId: r.canonical_id,
    payload: r.payload,
    reason: r.reason,
    errorCode: r.error_code,
    failingFields: r.failing_fields,
    attempts: r.attempts,
    firstFailedAt: iso(r.first_failed_at),
    lastFailedAt: iso(r.last_failed_at),
    status: r.status,
    resolvedAt: isoOrNull(r.resolved_at),
  };
}

/** Mirrors the record_key column: letters about the same record share one open row. */
function letterKey(d: DeadLetterInput): string | null {
  const record = d.externalId ?? d.canonicalId?.toLowerCase() ?? null;
  return record === null ? null : [d.connectionId.toLowerCase(), d.direction, d.system, d.object, record].join('\u0000');
}

export function deadLettersRepo(db: Db) {
  /**
   * Records failures in one statement. A record that already has an open letter (same
   * connection, direction, system, object and external or canonical id) gets attempts + 1 and
   * the newest payload and reason instead of a second letter. Returns one letter per distinct
   * record (a record repeated in the batch counts once, its last entry wins), in input order.
   */
  async function addMany(letters: readonly DeadLetterInput[]): Promise<DeadLetter[]> {
    if (letters.length === 0) return [];
    const unique = lastPerKey(letters, letterKey);
    const rows = await db.query<DeadLetterRow>(
      `INSERT INTO dead_letters (connection_id, direction, system, object, external_id, canonical_id, payload, reason,
         error_code, failing_fields)
       SELECT connection_id, direction, system, object, external_id, canonical_id, payload, reason, error_code,
         coalesce(failing_fields, '[]')
       FROM jsonb_to_recordset($1::jsonb) AS x(connection_id uuid, direction text, system text, object text,
         external_id text, canonical_id uuid, payload jsonb, reason text, error_code text, failing_fields jsonb)
       ON CONFLICT (connection_id, direction, system, object, record_key) WHERE status = 'open' DO UPDATE SET
         payload = excluded.payload,
         reason = excluded.reason,
         error_code = excluded.error_code,
         failing_fields = excluded.failing_fields,
         canonical_id = coalesce(excluded.canonical_id, dead_letters.canonical_id),
         attempts = dead_letters.attempts + 1,
         last_failed_at = now()
       RETURNING ${COLUMNS}`,
      [json(unique.map((d) => ({
        connection_id: d.connectionId, direction: d.direction, system: d.system, object: d.object,
        external_id: d.externalId ?? null, canonical_id: d.canonicalId ?? null,
        // A JSON null payload would read back as SQL NULL; keep it a JSON value.
        payload: d.payload ?? {}, reason: d.reason, error_code: d.errorCode ?? null, failing_fields: d.failingFields ?? [],
      })))],
    );
    // PostgreSQL returns the rows of INSERT ... SELECT in input order (ORMs' bulk inserts rely on it too).
    return rows.map(toDeadLetter);
  }

  async function add(letter: DeadLetterInput): Promise<DeadLetter> {
    const [stored] = await addMany([letter]);
    return stored;
  }

  async function get(id: string): Promise<DeadLetter | null> {
    const [row] = await db.query<DeadLetterRow>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
    return row ? toDeadLetter(row) : null;
  }

  /** Newest failure first. */
  async function list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const rows = await db.query<DeadLetterRow>(
      `SELECT ${COLUMNS} FROM dead_letters
       WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::text IS NULL OR status = $2)
         AND ($3::text IS NULL OR system = $3) AND ($4::text IS NULL OR object = $4)
       ORDER BY last_failed_at DESC, id LIMIT $5 OFFSET $6`,
      [filter.connectionId ?? null, filter.status ?? null, filter.system ?? null, filter.object ?? null,
        filter.limit ?? 100, filter.offset ?? 0],
    );
    return rows.map(toDeadLetter);
  }

  async function close(ids: readonly string[], status: 'replayed' | 'discarded'): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await db.query(
      `UPDATE dead_letters SET status = $2, resolved_at = now() WHERE id = ANY($1::uuid[]) AND status = 'open' RETURNING id`,
      [ids, status],
    );
    return rows.length;
  }

  /** The replay of these open letters succeeded; returns how many were closed. */
  const markReplayed = (ids: readonly string[]) => close(ids, 'replayed');
  /** Given up on these open letters; returns how many were closed. */
  const discard = (ids: readonly string[]) => close(ids, 'discarded');

  /** A replay of these open letters failed again; the newest failure replaces the reason when given. */
  async function incrementAttempt(
    ids: readonly string[],
    failure?: { reason: string; errorCode?: string | null; failingFields?: string[] },
  ): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await db.query(
      `UPDATE dead_letters SET attempts = attempts + 1, last_failed_at = now(),
         reason = coalesce($2, reason),
         error_code = CASE WHEN $2::text IS NULL THEN error_code ELSE $3 END,
         failing_fields = CASE WHEN $2::text IS NULL THEN failing_fields ELSE $4::jsonb END
       WHERE id = ANY($1::uuid[]) AND status = 'open' RETURNING id`,
      [ids, failure?.reason ?? null, failure?.errorCode ?? null, json(failure?.failingFields ?? [])],
    );
    return rows.length;
  }

  return { add, addMany, get, list, markReplayed, discard, incrementAttempt };
}

export type DeadLettersRepo = ReturnType<typeof deadLettersRepo>;
