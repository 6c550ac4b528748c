/**
 * Stores for tests, one per driver. Typical use, running a suite on PGlite and PostgreSQL:
 *
 *   withStores(({ kind, store }) => {
 *     it('links', async () => { await store().links.upsertMany([...]); });
 *   });
 *
 * Each driver gets one store for the enclosing describe: PGlite in memory, PostgreSQL in a
 * random schema of ECOSYNC_TEST_DATABASE_URL (default the local test database) dropped at the
 * end. Tests in one file share it, so they use fresh ids and names. Credentials use a fixed
 * test key, so no environment variable is needed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { makeKeyring, openPgliteDb, openPostgresDb, openStore, type Db, type Keyring, type Store } from '../../src/store/index.js';

export const storeKinds = ['pglite', 'postgres'] as const;
export type StoreKind = (typeof storeKinds)[number];

export const TEST_DATABASE_URL = process.env.ECOSYNC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fixed key for tests (never used anywhere else). */
export const TEST_KEY = Buffer.alloc(32, 7).toString('base64');
export const testKeys: Keyring = makeKeyring(TEST_KEY);

export interface TestStore {
  kind: StoreKind;
  store: Store;
  /** The PostgreSQL schema, undefined on PGlite. */
  schema?: string;
  /** Closes the store and drops its schema. */
  close(): Promise<void>;
}

export function randomSchema(): string {
  return `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

const STALE_SCHEMA_MS = 60 * 60 * 1000;
let swept: Promise<void> | undefined;

/** Drops test schemas over an hour old, left behind by runs that were killed before their cleanup. */
function sweepStaleSchemas(store: Store): Promise<void> {
  swept ??= (async () => {
    const rows = await store.db.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'test\\_%'`);
    for (const { name } of rows) {
      const created = parseInt(/^test_([0-9a-z]+)_[0-9a-f]{8}$/.exec(name)?.[1] ?? '', 36);
      if (Number.isFinite(created) && Date.now() - created > STALE_SCHEMA_MS) {
        await store.db.exec(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => {});
      }
    }
  })();
  return swept;
}

/** A fresh, empty, migrated store of one kind. */
export async function openTestStore(kind: StoreKind, options: { keys?: Keyring } = {}): Promise<TestStore> {
  const keys = options.keys ?? testKeys;
  if (kind === 'pglite') {
    const store = await openStore({ kind: 'pglite', keys });
    return { kind, store, close: () => store.close() };
  }
  const schema = randomSchema();
  const store = await openStore({ kind: 'postgres', url: TEST_DATABASE_URL, schema, keys, poolSize: 4 });
  await sweepStaleSchemas(store);
  return {
    kind,
    store,
    schema,
    async close() {
      try {
        await store.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await store.close();
      }
    },
  };
}

/**
 * An empty, unmigrated database of one kind (for migration tests): PGlite in memory, or a random
 * PostgreSQL schema (created by the first migrate(db, { schema })) dropped on close.
 */
export async function openEmptyDb(kind: StoreKind): Promise<{ db: Db; schema?: string; close(): Promise<void> }> {
  if (kind === 'pglite') {
    const db = await openPgliteDb();
    return { db, close: () => db.close() };
  }
  const schema = randomSchema();
  const db = openPostgresDb({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
  return {
    db,
    schema,
    async close() {
      try {
        await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await db.close();
      }
    },
  };
}

export interface StoreContext {
  kind: StoreKind;
  /** The store of this driver (available from beforeAll on). */
  store(): Store;
}

/** Declares fn's tests once per driver, each inside its own describe with its own store. */
export function withStores(fn: (ctx: StoreContext) => void): void {
  for (const kind of storeKinds) {
    describe(kind, () => {
      let opened: TestStore | undefined;
      beforeAll(async () => {
        opened = await openTestStore(kind);
      });
      afterAll(async () => {
        await opened?.close();
      });
      fn({
        kind,
        store() {
          if (!opened) throw new Error('the test store is not open yet: use store() inside tests or hooks');
          return opened.store;
        },
      });
    });
  }
}
