import { openPgliteDb, openPostgresDb, type Db } from './db.js';
import { migrate } from './migrate.js';
import type { Keyring } from './crypto.js';
import { connectionsRepo, KeyHolder } from './connections.js';
import { linksRepo } from './links.js';
import { recordsRepo } from './records.js';
import { cursorsRepo } from './cursors.js';
import { runsRepo } from './runs.js';
import { deadLettersRepo } from './dead-letters.js';
import { conflictsRepo } from './conflicts.js';
import { agreementsRepo } from './agreements.js';
import { commitmentsRepo } from './commitments.js';
import { meteringRepo } from './metering.js';
import { touchpointsRepo } from './touchpoints.js';
import { auditRepo } from './audit.js';
import { inboxRepo } from './inbox.js';
import { hubState } from './hub-state.js';
import type { HubState } from '../sync/ports.js';

export { openPgliteDb, openPostgresDb, type Db, type PostgresOptions } from './db.js';
export { migrate, loadMigrations } from './migrate.js';
export * from './crypto.js';
export type * from './connections.js';
export { instanceOf, systemsLine } from './connections.js';
export type * from './links.js';
export type * from './records.js';
export type * from './cursors.js';
export type * from './runs.js';
export type * from './dead-letters.js';
export type * from './conflicts.js';
export type * from './agreements.js';
export type * from './commitments.js';
export type * from './metering.js';
export type * from './touchpoints.js';
export type * from './audit.js';
export type * from './inbox.js';
export { AUDIT_ACTIONS } from './audit.js';
export { isUniqueViolation } from './rows.js';

export type StoreOptions = (
  | { kind: 'pglite'; /** Folder holding the data; undefined keeps it in memory. */ dataDir?: string }
  | { kind: 'postgres'; url: string; /** Isolated schema (search_path); created on open. */ schema?: string; poolSize?: number }
) & {
  /** Key ring for credentials; read from ECOSYNC_SECRET_KEY on first use when absent. */
  keys?: Keyring;
};

/** The grouped repositories; the same shape inside and outside a transaction. */
export interface StoreApi {
  connections: ReturnType<typeof connectionsRepo>;
  links: ReturnType<typeof linksRepo>;
  records: ReturnType<typeof recordsRepo>;
  cursors: ReturnType<typeof cursorsRepo>;
  runs: ReturnType<typeof runsRepo>;
  deadLetters: ReturnType<typeof deadLettersRepo>;
  conflicts: ReturnType<typeof conflictsRepo>;
  agreements: ReturnType<typeof agreementsRepo>;
  commitments: ReturnType<typeof commitmentsRepo>;
  metering: ReturnType<typeof meteringRepo>;
  touchpoints: ReturnType<typeof touchpointsRepo>;
  audit: ReturnType<typeof auditRepo>;
  inbox: ReturnType<typeof inboxRepo>;
}

export interface Store extends StoreApi {
  readonly kind: 'pglite' | 'postgres';
  /** The raw database, for what the repositories do not cover. */
  readonly db: Db;
  /**
   * Runs fn with the same grouped API bound to one transaction. Use only `tx` inside fn: on
   * PGlite the outer store waits for the transaction to end, so using it there never returns.
   */
  transaction<T>(fn: (tx: StoreApi) => Promise<T>): Promise<T>;
  /** One connection's state, as the sync engine sees it. */
  hub(connectionId: string): HubState;
  close(): Promise<void>;
}

function repos(db: Db, keys: KeyHolder): StoreApi {
  return {
    connections: connectionsRepo(db, keys),
    links: linksRepo(db),
    records: recordsRepo(db),
    cursors: cursorsRepo(db),
    runs: runsRepo(db),
    deadLetters: deadLettersRepo(db),
    conflicts: conflictsRepo(db),
    agreements: agreementsRepo(db),
    commitments: commitmentsRepo(db),
    metering: meteringRepo(db),
    touchpoints: touchpointsRepo(db),
    audit: auditRepo(db),
    inbox: inboxRepo(db),
  };
}

/** Opens the database and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const db = options.kind === 'pglite'
    ? await openPgliteDb(options.dataDir)
    : openPostgresDb({ url: options.url, schema: options.schema, poolSize: options.poolSize });
  try {
    await migrate(db, { schema: options.kind === 'postgres' ? options.schema : undefined });
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return storeOn(db, options.keys);
}

/** The store over an already migrated Db (openStore does both); a second handle on one database. */
export function storeOn(db: Db, keys?: Keyring): Store {
  const holder = new KeyHolder(keys);
  const store: Store = {
    ...repos(db, holder),
    kind: db.kind,
    db,
    transaction: (fn) => db.transaction((tx) => fn(repos(tx, holder))),
    hub: (connectionId) => hubState(store, connectionId),
    close: () => db.close(),
  };
  return store;
}
