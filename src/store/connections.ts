import { randomUUID } from 'node:crypto';
import type { Db } from './db.js';
import { keyringFromEnv, open, seal, type Keyring } from './crypto.js';
import { iso, isUniqueViolation, json } from './rows.js';

export type SyncMode = 'one-way' | 'bidirectional';
export type DeletePolicy = 'propagate' | 'ignore';

/** One object pair a connection keeps in step, with the mapping file for each side. */
export interface ConnectionObject {
  entity: string;
  sourceObject: string;
  targetObject: string;
  sourceMapping?: string;
  targetMapping?: string;
}

export type Credentials = Record<string, unknown>;

export interface ConnectionInput {
  name: string;
  sourceSystem: string;
  targetSystem: string;
  mode: SyncMode;
  objects?: ConnectionObject[];
  deletePolicy?: DeletePolicy;
  /** Default conflict policy of the connection, e.g. 'last-writer-wins', 'source-wins', 'manual'. */
  conflictPolicy?: string;
  /** Seconds between scheduled runs; null = on demand or by webhook only. */
  scheduleSeconds?: number | null;
  enabled?: boolean;
  /** Encrypted before it reaches the database. */
  credentials?: Credentials | null;
}

/** A patch: absent fields are kept; `credentials: null` removes them. */
export type ConnectionPatch = Partial<ConnectionInput>;

export interface Connection {
  id: string;
  name: string;
  sourceSystem: string;
  targetSystem: string;
  mode: SyncMode;
  objects: ConnectionObject[];
  deletePolicy: DeletePolicy;
  conflictPolicy: string;
  scheduleSeconds: number | null;
  enabled: boolean;
  /** Credentials are only ever returned by getCredentials(). */
  hasCredentials: boolean;
  credentialsKeyId: string | null;
  createdAt: string;
  updatedAt: string;
}

interface ConnectionRow {
  id: string;
  name: string;
  source_system: string;
  target_system: string;
  mode: SyncMode;
  objects: ConnectionObject[];
  delete_policy: DeletePolicy;
  conflict_policy: string;
  schedule_seconds: number | null;
  enabled: boolean;
  credentials_key_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, name, source_system, target_system, mode, objects, delete_policy, conflict_policy,
  schedule_seconds, enabled, credentials_key_id, created_at, updated_at`;

function toConnection(r: ConnectionRow): Connection {
  return {
    id: r.id,
    name: r.name,
    sourceSystem: r.source_system,
    targetSystem: r.target_system,
    mode: r.mode,
    objects: r.objects,
    deletePolicy: r.delete_policy,
    conflictPolicy: r.conflict_policy,
    scheduleSeconds: r.schedule_seconds,
    enabled: r.enabled,
    hasCredentials: r.credentials_key_id !== null,
    credentialsKeyId: r.credentials_key_id,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** The key ring is read from the environment on first use, so a store without credentials needs no key. */
export class KeyHolder {
  constructor(private ring?: Keyring) {}
  get(): Keyring {
    this.ring ??= keyringFromEnv();
    return this.ring;
  }
  set(ring: Keyring): void {
    this.ring = ring;
  }
}

function sealCredentials(keys: KeyHolder, id: string, credentials: Credentials | null | undefined): [string | null, string | null] {
  if (credentials === null || credentials === undefined) return [null, null];
  const sealed = seal(keys.get(), JSON.stringify(credentials), id);
  return [sealed.envelope, sealed.keyId];
}

export function connectionsRepo(db: Db, keys: KeyHolder) {
  async function create(input: ConnectionInput): Promise<Connection> {
    const id = randomUUID();
    const [envelope, keyId] = sealCredentials(keys, id, input.credentials);
    try {
      const [row] = await db.query<ConnectionRow>(
        `INSERT INTO connections (id, name, source_system, target_system, mode, objects, delete_policy,
           conflict_policy, schedule_seconds, enabled, credentials, credentials_key_id)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)
         RETURNING ${COLUMNS}`,
        [id, input.name, input.sourceSystem, input.targetSystem, input.mode, json(input.objects ?? []),
          input.deletePolicy ?? 'ignore', input.conflictPolicy ?? 'last-writer-wins', input.scheduleSeconds ?? null,
          input.enabled ?? true, envelope, keyId],
      );
      return toConnection(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new Error(`a connection named "${input.name}" already exists`, { cause: err });
      throw err;
    }
  }

  async function get(id: string): Promise<Connection | null> {
    const [row] = await db.query<ConnectionRow>(`SELECT ${COLUMNS} FROM connections WHERE id = $1`, [id]);
    return row ? toConnection(row) : null;
  }

  async function getByName(name: string): Promise<Connection | null> {
    const [row] = await db.query<ConnectionRow>(`SELECT ${COLUMNS} FROM connections WHERE name = $1`, [name]);
    return row ? toConnection(row) : null;
  }

  async function list(filter: { enabled?: boolean } = {}): Promise<Connection[]> {
    const rows = await db.query<ConnectionRow>(
      `SELECT ${COLUMNS} FROM connections WHERE ($1::boolean IS NULL OR enabled = $1) ORDER BY name`,
      [filter.enabled ?? null],
    );
    return rows.map(toConnection);
  }

  async function update(id: string, patch: ConnectionPatch): Promise<Connection> {
    // Only the fields present in the patch are set; each maps to one column.
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown, cast = '') => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    if (patch.name !== undefined) set('name', patch.name);
    if (patch.sourceSystem !== undefined) set('source_system', patch.sourceSystem);
    if (patch.targetSystem !== undefined) set('target_system', patch.targetSystem);
    if (patch.mode !== undefined) set('mode', patch.mode);
    if (patch.objects !== undefined) set('objects', json(patch.objects), '::jsonb');
    if (patch.deletePolicy !== undefined) set('delete_policy', patch.deletePolicy);
    if (patch.conflictPolicy !== undefined) set('conflict_policy', patch.conflictPolicy);
    if (patch.scheduleSeconds !== undefined) set('schedule_seconds', patch.scheduleSeconds);
    if (patch.enabled !== undefined) set('enabled', patch.enabled);
    if (patch.credentials !== undefined) {
      const [envelope, keyId] = sealCredentials(keys, id, patch.credentials);
      set('credentials', envelope);
      set('credentials_key_id', keyId);
    }
    sets.push('updated_at = now()');
    try {
      const [row] = await db.query<ConnectionRow>(`UPDATE connections SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, params);
      if (!row) throw new Error(`no connection with id ${id}`);
      return toConnection(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new Error(`a connection named "${patch.name}" already exists`, { cause: err });
      throw err;
    }
  }

  /** Deletes the connection and, by cascade, its cursors, runs, dead letters and conflicts. */
  async function remove(id: string): Promise<boolean> {
    return (await db.query('DELETE FROM connections WHERE id = $1 RETURNING id', [id])).length === 1;
  }

  async function getCredentials(id: string): Promise<Credentials | null> {
    const [row] = await db.query<{ credentials: string | null; credentials_key_id: string | null }>(
      'SELECT credentials, credentials_key_id FROM connections WHERE id = $1', [id],
    );
    if (!row) throw new Error(`no connection with id ${id}`);
    if (row.credentials === null || row.credentials_key_id === null) return null;
    return JSON.parse(open(keys.get(), { envelope: row.credentials, keyId: row.credentials_key_id }, id)) as Credentials;
  }

  /**
   * Re-seals every connection's credentials with next.current, in one transaction, then uses
   * `next` from here on. Rows are opened with the keys known now plus next's. Connections are
   * few (tens), so one update per row is fine here.
   */
  async function rotateKey(next: Keyring): Promise<number> {
    const known = keys.get();
    const opener: Keyring = { current: known.current, previous: [...known.previous, next.current, ...next.previous] };
    const count = await db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string; credentials: string; credentials_key_id: string }>(
        'SELECT id, credentials, credentials_key_id FROM connections WHERE credentials IS NOT NULL FOR UPDATE',
      );
      for (const row of rows) {
        const plaintext = open(opener, { envelope: row.credentials, keyId: row.credentials_key_id }, row.id);
        const sealed = seal(next, plaintext, row.id);
        await tx.query('UPDATE connections SET credentials = $2, credentials_key_id = $3, updated_at = now() WHERE id = $1',
          [row.id, sealed.envelope, sealed.keyId]);
      }
      return rows.length;
    });
    keys.set(next);
    return count;
  }

  return { create, get, getByName, list, update, delete: remove, getCredentials, rotateKey };
}

export type ConnectionsRepo = ReturnType<typeof connectionsRepo>;
