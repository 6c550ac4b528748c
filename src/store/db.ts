import { PGlite, type Transaction as PgliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * The one seam between the store and a database driver. Everything above it is plain SQL that
 * runs unchanged on PostgreSQL (pg) and PGlite, so both drivers get the same repositories.
 */
export interface Db {
  /** One statement with $1.. parameters; returns the rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs fn inside a transaction: committed when fn resolves, rolled back when it throws.
   * Nested calls on a transaction's Db become savepoints.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly kind: 'postgres' | 'pglite';
}

export interface PostgresOptions {
  url: string;
  /** Schema to live in (search_path); created by the migrations. Lets tests and tenants share a database. */
  schema?: string;
  poolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name "${schema}": use lower-case letters, digits and _ (at most 63 characters)`);
  }
}

/** Runs fn in a savepoint so a caught failure inside a transaction does not abort the outer one. */
async function inSavepoint<T>(query: (sql: string) => Promise<unknown>, depth: number, fn: () => Promise<T>): Promise<T> {
  const name = `sp_${depth}`;
  await query(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (err) {
    await query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw err;
  }
}

export function openPostgresDb(options: PostgresOptions): Db {
  if (options.schema !== undefined) assertSchemaName(options.schema);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // Every pooled connection resolves unqualified names in the chosen schema only.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client losing its server (restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});

  function clientDb(client: pg.PoolClient, depth: number): Db {
    return {
      kind: 'postgres',
      async query<T>(sql: string, params: unknown[] = []) {
        return (await client.query(sql, params)).rows as T[];
      },
      async exec(sql: string) {
        await client.query(sql);
      },
      transaction<T>(fn: (tx: Db) => Promise<T>) {
        return inSavepoint((s) => client.query(s), depth, () => fn(clientDb(client, depth + 1)));
      },
      async close() {
        throw new Error('close() the store, not a transaction');
      },
    };
  }

  return {
    kind: 'postgres',
    async query<T>(sql: string, params: unknown[] = []) {
      return (await pool.query(sql, params)).rows as T[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(clientDb(client, 1));
        // After a failed statement whose error fn swallowed, PostgreSQL answers COMMIT with a
        // silent ROLLBACK; fail as PGlite does instead of reporting a commit that did not happen.
        const commit = await client.query('COMMIT');
        if (commit.command === 'ROLLBACK') throw new Error('transaction was rolled back: a statement inside it failed');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PGlite is one Postgres backend in this process: a single connection. Its own mutex already
 * makes a transaction exclusive (other queries wait until it ends), so transactions are
 * serialised. Calling the outer Db from inside a transaction would wait forever: always use
 * the `tx` handed to the callback.
 */
export async function openPgliteDb(dataDir?: string): Promise<Db> {
  const lite = await PGlite.create(dataDir);

  function txDb(tx: PgliteTransaction, depth: number): Db {
    return {
      kind: 'pglite',
      async query<T>(sql: string, params: unknown[] = []) {
        return (await tx.query<T>(sql, params)).rows;
      },
      async exec(sql: string) {
        await tx.exec(sql);
      },
      transaction<T>(fn: (inner: Db) => Promise<T>) {
        return inSavepoint((s) => tx.exec(s), depth, () => fn(txDb(tx, depth + 1)));
      },
      async close() {
        throw new Error('close() the store, not a transaction');
      },
    };
  }

  return {
    kind: 'pglite',
    async query<T>(sql: string, params: unknown[] = []) {
      return (await lite.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await lite.exec(sql);
    },
    transaction<T>(fn: (tx: Db) => Promise<T>) {
      return lite.transaction((tx) => fn(txDb(tx, 1)));
    },
    close: () => lite.close(),
  };
}
