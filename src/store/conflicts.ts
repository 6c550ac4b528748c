import type { Db } from './db.js';
import { iso, isoOrNull, json, lastPerKey } from './rows.js';

export type ConflictStatus = 'open' | 'resolved';

/** One system's value of the field, and when that system last changed the record. */
export interface ConflictSide {
  value: unknown;
  modifiedAt: string | null;
}

export interface ConflictInput {
  connectionId: string;
  entity: string;
  canonicalId: string;
  field: string;
  /** The field in the last agreed record; null when absent. */
  baseValue: unknown;
  /** Every system that changed the field, by its name in the connection. */
  sides: Record<string, ConflictSide>;
}

/** Either one side's value wins, or a person types the value. */
export type ConflictResolution = { kind: 'side'; system: string } | { kind: 'manual'; value: unknown };

export interface Conflict extends ConflictInput {
  id: string;
  status: ConflictStatus;
  resolution: ConflictResolution | null;
  /** The value that won. */
  resolvedValue: unknown;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ConflictFilter {
  connectionId?: string;
  status?: ConflictStatus;
  entity?: string;
  canonicalId?: string;
  limit?: number;
  offset?: number;
}

interface ConflictRow {
  id: string;
  connection_id: string;
  entity: string;
  canonical_id: string;
  field: string;
  base_value: unknown;
  sides: Record<string, ConflictSide>;
  status: ConflictStatus;
  resolution: { kind: 'side'; system: string } | { kind: 'manual' } | null;
  resolved_value: unknown;
  resolved_by: string | null;
  resolved_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, connection_id, entity, canonical_id, field, base_value, sides, status, resolution, resolved_value,
  resolved_by, resolved_at, created_at, updated_at`;

function toConflict(r: ConflictRow): Conflict {
  const resolution: ConflictResolution | null =
    r.resolution === null ? null
      : r.resolution.kind === 'side' ? { kind: 'side', system: r.resolution.system }
        : { kind: 'manual', value: r.resolved_value };
  return {
    id: r.id,
    connectionId: r.connection_id,
    entity: r.entity,
    canonicalId: r.canonical_id,
    field: r.field,
    baseValue: r.base_value ?? null,
    sides: r.sides,
    status: r.status,
    resolution,
    resolvedValue: r.resolved_value ?? null,
    resolvedBy: r.resolved_by,
    resolvedAt: isoOrNull(r.resolved_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function conflictsRepo(db: Db) {
  /**
   * Opens conflicts in one statement. A field that already has an open conflict is updated
   * with the newest values instead of queuing a second one. Returns one conflict per distinct
   * (canonical id, field), the last entry winning, in input order.
   */
  async function openMany(conflicts: readonly ConflictInput[]): Promise<Conflict[]> {
    if (conflicts.length === 0) return [];
    const unique = lastPerKey(conflicts, (c) => `${c.connectionId.toLowerCase()}\u0000${c.canonicalId.toLowerCase()}\u0000${c.field}`);
    const rows = await db.query<ConflictRow>(
      `INSERT INTO conflicts (connection_id, entity, canonical_id, field, base_value, sides)
       SELECT connection_id, entity, canonical_id, field, base_value, sides
       FROM jsonb_to_recordset($1::jsonb) AS x(connection_id uuid, entity text, canonical_id uuid, field text,
         base_value jsonb, sides jsonb)
       ON CONFLICT (connection_id, canonical_id, field) WHERE status = 'open' DO UPDATE SET
         base_value = excluded.base_value,
         sides = excluded.sides,
         updated_at = now()
       RETURNING ${COLUMNS}`,
      [json(unique.map((c) => ({
        connection_id: c.connectionId, entity: c.entity, canonical_id: c.canonicalId, field: c.field,
        base_value: c.baseValue ?? null, sides: c.sides,
      })))],
    );
    // PostgreSQL returns the rows of INSERT ... SELECT in input order.
    return rows.map(toConflict);
  }

  async function get(id: string): Promise<Conflict | null> {
    const [row] = await db.query<ConflictRow>(`SELECT ${COLUMNS} FROM conflicts WHERE id = $1`, [id]);
    return row ? toConflict(row) : null;
  }

  /** Newest first. */
  async function list(filter: ConflictFilter = {}): Promise<Conflict[]> {
    const rows = await db.query<ConflictRow>(
      `SELECT ${COLUMNS} FROM conflicts
       WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::text IS NULL OR status = $2)
         AND ($3::text IS NULL OR entity = $3) AND ($4::uuid IS NULL OR canonical_id = $4)
       ORDER BY created_at DESC, id LIMIT $5 OFFSET $6`,
      [filter.connectionId ?? null, filter.status ?? null, filter.entity ?? null, filter.canonicalId ?? null,
        filter.limit ?? 100, filter.offset ?? 0],
    );
    return rows.map(toConflict);
  }

  /** Closes an open conflict with the winning value; resolving twice is an error. */
  async function resolve(id: string, resolution: ConflictResolution, resolvedBy: string): Promise<Conflict> {
    const current = await get(id);
    if (!current) throw new Error(`no conflict with id ${id}`);
    if (current.status !== 'open') throw new Error(`conflict ${id} is already resolved`);
    let value: unknown;
    if (resolution.kind === 'side') {
      const side = current.sides[resolution.system];
      if (!side) throw new Error(`conflict ${id} has no side "${resolution.system}" (sides: ${Object.keys(current.sides).join(', ')})`);
      value = side.value;
    } else {
      value = resolution.value;
    }
    const stored = resolution.kind === 'side' ? { kind: 'side', system: resolution.system } : { kind: 'manual' };
    // status = 'open' in the WHERE makes a concurrent second resolution find nothing.
    const [row] = await db.query<ConflictRow>(
      `UPDATE conflicts SET status = 'resolved', resolution = $2::jsonb, resolved_value = $3::jsonb, resolved_by = $4,
         resolved_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'open' RETURNING ${COLUMNS}`,
      [id, json(stored), json(value ?? null), resolvedBy],
    );
    if (!row) throw new Error(`conflict ${id} is already resolved`);
    return toConflict(row);
  }

  return { openMany, get, list, resolve };
}

export type ConflictsRepo = ReturnType<typeof conflictsRepo>;
