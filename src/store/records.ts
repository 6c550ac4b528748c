import type { Db } from './db.js';
import { iso, json, lastPerKey, uniqueUuids } from './rows.js';

/** The last agreed canonical state of a record in one connection: the base of merges. */
export interface CanonicalRecord {
  connectionId: string;
  entity: string;
  canonicalId: string;
  data: Record<string, unknown>;
  hash: string;
  /** Starts at 1 and grows by one on every change. */
  version: number;
  deleted: boolean;
  updatedAt: string;
}

export interface RecordUpsert {
  entity: string;
  canonicalId: string;
  data: Record<string, unknown>;
  hash: string;
  deleted?: boolean;
  /** The version the caller read; the write is skipped ('stale') if the record has moved on since. */
  expectedVersion?: number;
}

/**
 * created: new record; updated: hash or deleted flag changed, version bumped; unchanged: same
 * hash and flag, nothing written; stale: expectedVersion no longer matches (or another writer
 * created the record first), nothing written: read it again and merge.
 */
export type RecordOutcome = 'created' | 'updated' | 'unchanged' | 'stale';

export interface RecordWrite {
  entity: string;
  canonicalId: string;
  outcome: RecordOutcome;
  /** The version now stored (0 if unknown: a lost race to create). */
  version: number;
}

interface RecordRow {
  connection_id: string;
  entity: string;
  canonical_id: string;
  data: Record<string, unknown>;
  content_hash: string;
  version: number;
  deleted: boolean;
  updated_at: Date;
}

function toRecord(r: RecordRow): CanonicalRecord {
  return {
    connectionId: r.connection_id,
    entity: r.entity,
    canonicalId: r.canonical_id,
    data: r.data,
    hash: r.content_hash,
    version: r.version,
    deleted: r.deleted,
    updatedAt: iso(r.updated_at),
  };
}

// uuids come back lower-case whatever case they were sent in.
const recordKey = (entity: string, canonicalId: string) => `${entity}\u0000${canonicalId.toLowerCase()}`;

export function recordsRepo(db: Db) {
  async function getMany(connectionId: string, entity: string, canonicalIds: readonly string[]): Promise<CanonicalRecord[]> {
    if (canonicalIds.length === 0) return [];
    // One index probe per id, whatever the statistics say (see links.findByExternalIds).
    const rows = await db.query<RecordRow>(
      `SELECT r.connection_id, r.entity, r.canonical_id, r.data, r.content_hash, r.version, r.deleted, r.updated_at
       FROM unnest($3::uuid[]) AS x(canonical_id)
       CROSS JOIN LATERAL (SELECT * FROM records WHERE connection_id = $1 AND entity = $2 AND canonical_id = x.canonical_id OFFSET 0) r`,
      [connectionId, entity, uniqueUuids(canonicalIds)],
    );
    return rows.map(toRecord);
  }

  /**
   * Writes many records in one statement. Records whose hash and deleted flag are unchanged are
   * not written (their version stays), so re-syncing unchanged data costs no row versions.
   * Returns one outcome per distinct (entity, canonicalId), in input order.
   */
  async function upsertMany(connectionId: string, records: readonly RecordUpsert[]): Promise<RecordWrite[]> {
    if (records.length === 0) return [];
    const unique = lastPerKey(records, (r) => recordKey(r.entity, r.canonicalId));
    // New records (a first sync's pages) take a plain insert; any that exists after all goes the general way.
    if (unique.every((r) => r.expectedVersion === undefined)) {
      const inserted = await db.query<{ entity: string; canonical_id: string }>(
        `INSERT INTO records (connection_id, entity, canonical_id, data, content_hash, deleted)
         SELECT $2::uuid, entity, canonical_id, data, content_hash, coalesce(deleted, false)
         FROM jsonb_to_recordset($1::jsonb) AS x(entity text, canonical_id uuid, data jsonb, content_hash text, deleted boolean)
         ON CONFLICT (connection_id, entity, canonical_id) DO NOTHING
         RETURNING entity, canonical_id`,
        [json(unique.map((r) => ({ entity: r.entity, canonical_id: r.canonicalId, data: r.data, content_hash: r.hash, deleted: r.deleted ?? false }))), connectionId],
      );
      const created = new Set(inserted.map((r) => recordKey(r.entity, r.canonical_id)));
      const others = unique.filter((r) => !created.has(recordKey(r.entity, r.canonicalId)));
      const rest = new Map((await upsertExisting(connectionId, others)).map((w) => [recordKey(w.entity, w.canonicalId), w]));
      return unique.map((r) => rest.get(recordKey(r.entity, r.canonicalId)) ?? { entity: r.entity, canonicalId: r.canonicalId, outcome: 'created', version: 1 });
    }
    return upsertExisting(connectionId, unique);
  }

  /** upsertMany's general statement: updates, inserts and tells unchanged from stale. */
  async function upsertExisting(connectionId: string, unique: readonly RecordUpsert[]): Promise<RecordWrite[]> {
    if (unique.length === 0) return [];
    // Both sub-statements and the final SELECT see the table as it was before this statement:
    // `updated` changes existing rows, `inserted` adds missing ones, and the SELECT reads the
    // prior state to tell unchanged from stale.
    const rows = await db.query<{ entity: string; canonical_id: string; outcome: RecordOutcome; version: number }>(
      `WITH input AS (
         SELECT entity, canonical_id, data, content_hash, coalesce(deleted, false) AS deleted, expected_version
         FROM jsonb_to_recordset($1::jsonb) AS x(entity text, canonical_id uuid, data jsonb, content_hash text,
           deleted boolean, expected_version integer)
       ),
       updated AS (
         UPDATE records r
         SET data = i.data, content_hash = i.content_hash, deleted = i.deleted, version = r.version + 1, updated_at = now()
         FROM input i
         WHERE r.connection_id = $2 AND r.entity = i.entity AND r.canonical_id = i.canonical_id
           AND (r.content_hash <> i.content_hash OR r.deleted <> i.deleted)
           AND (i.expected_version IS NULL OR r.version = i.expected_version)
         RETURNING r.entity, r.canonical_id, r.version
       ),
       inserted AS (
         INSERT INTO records (connection_id, entity, canonical_id, data, content_hash, deleted)
         SELECT $2::uuid, i.entity, i.canonical_id, i.data, i.content_hash, i.deleted FROM input i
         WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.connection_id = $2 AND r.entity = i.entity AND r.canonical_id = i.canonical_id)
         ON CONFLICT (connection_id, entity, canonical_id) DO NOTHING
         RETURNING entity, canonical_id, version
       )
       SELECT i.entity, i.canonical_id,
         CASE WHEN n.canonical_id IS NOT NULL THEN 'created'
              WHEN u.canonical_id IS NOT NULL THEN 'updated'
              WHEN r.canonical_id IS NOT NULL AND r.content_hash = i.content_hash AND r.deleted = i.deleted THEN 'unchanged'
              ELSE 'stale' END AS outcome,
         coalesce(n.version, u.version, r.version, 0) AS version
       FROM input i
       LEFT JOIN inserted n ON n.entity = i.entity AND n.canonical_id = i.canonical_id
       LEFT JOIN updated u ON u.entity = i.entity AND u.canonical_id = i.canonical_id
       LEFT JOIN records r ON r.connection_id = $2 AND r.entity = i.entity AND r.canonical_id = i.canonical_id`,
      [json(unique.map((r) => ({
        entity: r.entity, canonical_id: r.canonicalId, data: r.data, content_hash: r.hash,
        deleted: r.deleted ?? false, expected_version: r.expectedVersion ?? null,
      }))), connectionId],
    );
    const byKey = new Map(rows.map((r) => [recordKey(r.entity, r.canonical_id), r]));
    return unique.map((r) => {
      const row = byKey.get(recordKey(r.entity, r.canonicalId))!;
      return { entity: r.entity, canonicalId: r.canonicalId, outcome: row.outcome, version: row.version };
    });
  }

  /**
   * Live records of an entity whose field (a dotted path such as `billingAddress.country`) equals
   * one of `values`, compared case-insensitively and trimmed: how ecosync finds an account by
   * domain or an opportunity by account. Newest first, at most `limit`.
   */
  async function findByField(connectionId: string, entity: string, field: string, values: readonly string[], limit = 100): Promise<CanonicalRecord[]> {
    const wanted = [...new Set(values.map((v) => v.trim().toLowerCase()).filter((v) => v !== ''))];
    if (wanted.length === 0) return [];
    const rows = await db.query<RecordRow>(
      `SELECT connection_id, entity, canonical_id, data, content_hash, version, deleted, updated_at FROM records
       WHERE connection_id = $1 AND entity = $2 AND NOT deleted AND lower(btrim(data #>> $3::text[])) = ANY($4::text[])
       ORDER BY updated_at DESC, canonical_id LIMIT $5`,
      [connectionId, entity, field.split('.'), wanted, limit],
    );
    return rows.map(toRecord);
  }

  return { getMany, upsertMany, findByField };
}

export type RecordsRepo = ReturnType<typeof recordsRepo>;
