import { randomUUID } from 'node:crypto';
import type { Db } from './db.js';
import { keyringFromEnv, open, seal, type Keyring } from './crypto.js';
import { iso, isUniqueViolation, json } from './rows.js';

export type DeletePolicy = 'propagate' | 'ignore';
/** both: read and written; source: read, never written; target: written, never read. */
export type SystemRole = 'both' | 'source' | 'target';

/** One system of a connection: an org, portal or account of a connector kind. */
export interface ConnectionSystem {
  /** Its name in the connection (`salesforce`, `hubspot-eu`); its credentials are kept under it. */
  name: string;
  /** The connector kind (`salesforce`, `hubspot`). */
  system: string;
  role: SystemRole;
  /** What the system said it is (`salesforce:00D…`), once the sync reached it; null before. */
  instance?: string | null;
}

/** One entity a connection keeps in step: the systems that take part, each with its object and mapping file. */
export interface ConnectionEntity {
  entity: string;
  members: { system: string; object: string; mapping: string }[];
}

export type Credentials = Record<string, unknown>;

export interface ConnectionInput {
  name: string;
  systems: ConnectionSystem[];
  /** In dependency order: accounts before the contacts and opportunities that refer to them. */
  entities?: ConnectionEntity[];
  deletePolicy?: DeletePolicy;
  /** Default conflict policy of the connection: 'last-writer-wins', 'manual', or a system's name. */
  conflictPolicy?: string;
  /** A record edited after it was deleted: 'skip' it (default) or 'resurrect' it everywhere. */
  updateAfterDelete?: 'skip' | 'resurrect';
  /** Seconds between scheduled runs; null = on demand or by webhook only. */
  scheduleSeconds?: number | null;
  enabled?: boolean;
  /** By system name; encrypted before it reaches the database. */
  credentials?: Credentials | null;
}

/** A patch: absent fields are kept; `credentials: null` removes them. */
export type ConnectionPatch = Partial<ConnectionInput>;

export interface Connection {
  id: string;
  name: string;
  systems: Required<ConnectionSystem>[];
  entities: ConnectionEntity[];
  deletePolicy: DeletePolicy;
  conflictPolicy: string;
  updateAfterDelete: 'skip' | 'resurrect';
  scheduleSeconds: number | null;
  enabled: boolean;
  /** Credentials are only ever returned by getCredentials(). */
  hasCredentials: boolean;
  credentialsKeyId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The connection's systems in one line: `salesforce ⇄ hubspot`, `salesforce → hubspot`, `salesforce ⇄ hubspot ⇄ netsuite (only written)`. */
export function systemsLine(connection: Pick<Connection, 'systems'>): string {
  const { systems } = connection;
  if (systems.length === 2 && systems[0].role === 'source' && systems[1].role === 'target') return `${systems[0].name} → ${systems[1].name}`;
  const note = { both: '', source: ' (only read)', target: ' (only written)' };
  return systems.map((s) => `${s.name}${note[s.role]}`).join(' ⇄ ');
}

/** Where a system's links and cursors are kept: its instance once known, its name before. */
export const instanceOf = (system: Pick<ConnectionSystem, 'name' | 'instance'>) => system.instance ?? system.name;

interface ConnectionRow {
  id: string;
  name: string;
  systems: ConnectionSystem[];
  entities: ConnectionEntity[];
  delete_policy: DeletePolicy;
  conflict_policy: string;
  update_after_delete: 'skip' | 'resurrect';
  schedule_seconds: number | null;
  enabled: boolean;
  credentials_key_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, name, systems, entities, delete_policy, conflict_policy, update_after_delete,
  schedule_seconds, enabled, credentials_key_id, created_at, updated_at`;

function toConnection(r: ConnectionRow): Connection {
  return {
    id: r.id,
    name: r.name,
    systems: r.systems.map((s) => ({ name: s.name, system: s.system, role: s.role, instance: s.instance ?? null })),
    entities: r.entities,
    deletePolicy: r.delete_policy,
    conflictPolicy: r.conflict_policy,
    updateAfterDelete: r.update_after_delete,
    scheduleSeconds: r.schedule_seconds,
    enabled: r.enabled,
    hasCredentials: r.credentials_key_id !== null,
    credentialsKeyId: r.credentials_key_id,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

const systemsJson = (systems: readonly ConnectionSystem[]) => json(systems.map((s) => ({ name: s.name, system: s.system, role: s.role, instance: s.instance ?? null })));

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
        `INSERT INTO connections (id, name, systems, entities, delete_policy, conflict_policy, update_after_delete,
           schedule_seconds, enabled, credentials, credentials_key_id)
         VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, $8, $9, $10, $11)
         RETURNING ${COLUMNS}`,
        [id, input.name, systemsJson(input.systems), json(input.entities ?? []),
          input.deletePolicy ?? 'ignore', input.conflictPolicy ?? 'last-writer-wins', input.updateAfterDelete ?? 'skip',
          input.scheduleSeconds ?? null, input.enabled ?? true, envelope, keyId],
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
    if (patch.systems !== undefined) set('systems', systemsJson(patch.systems), '::jsonb');
    if (patch.entities !== undefined) set('entities', json(patch.entities), '::jsonb');
    if (patch.deletePolicy !== undefined) set('delete_policy', patch.deletePolicy);
    if (patch.conflictPolicy !== undefined) set('conflict_policy', patch.conflictPolicy);
    if (patch.updateAfterDelete !== undefined) set('update_after_delete', patch.updateAfterDelete);
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

  /**
   * Records which instance each system reached (by system name), keeping what is already known.
   * A system whose instance was not known yet adopts its links and cursors, kept under its
   * name until now; one that now reaches another instance starts afresh there (the old
   * instance's links stay, unused). Not a change of the connection: updated_at stays.
   */
  async function setInstances(id: string, reached: Readonly<Record<string, string>>): Promise<Connection> {
    return db.transaction(async (tx) => {
      const [row] = await tx.query<ConnectionRow>(`SELECT ${COLUMNS} FROM connections WHERE id = $1 FOR UPDATE`, [id]);
      if (!row) throw new Error(`no connection with id ${id}`);
      let changed = false;
      const systems = row.systems.map((s) => {
        const instance = reached[s.name];
        if (instance === undefined || s.instance === instance) return s;
        changed = true;
        return { ...s, instance };
      });
      if (!changed) return toConnection(row);
      for (const s of row.systems) {
        const instance = reached[s.name];
        if (instance === undefined || s.instance) continue;
        await tx.query('UPDATE links SET instance = $3 WHERE connection_id = $1 AND instance = $2', [id, s.name, instance]);
        await tx.query('UPDATE cursors SET instance = $3 WHERE connection_id = $1 AND instance = $2', [id, s.name, instance]);
      }
      const [updated] = await tx.query<ConnectionRow>(`UPDATE connections SET systems = $2::jsonb WHERE id = $1 RETURNING ${COLUMNS}`, [id, systemsJson(systems)]);
      return toConnection(updated);
    });
  }

  /**
   * Forgets what the connection synced: its records, links and cursors, so the next sync starts
   * over (its systems were reset, like a demo's sandboxes). Runs, dead letters and conflicts stay.
   */
  async function forgetSynced(id: string): Promise<void> {
    await db.transaction(async (tx) => {
      for (const table of ['links', 'records', 'cursors']) await tx.query(`DELETE FROM ${table} WHERE connection_id = $1`, [id]);
    });
  }

  /** Deletes the connection and, by cascade, its records, links, cursors, runs, dead letters and conflicts. */
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

  return { create, get, getByName, list, update, setInstances, forgetSynced, delete: remove, getCredentials, rotateKey };
}

export type ConnectionsRepo = ReturnType<typeof connectionsRepo>;
