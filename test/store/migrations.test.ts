import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, openStore } from '../../src/store/index.js';
import { randomSchema, TEST_DATABASE_URL, testKeys, withStores } from './stores.js';

const migrations = loadMigrations();

describe('migrations', () => {
  it('are numbered SQL files in order', () => {
    expect(migrations.length).toBeGreaterThan(0);
    expect(migrations[0]).toMatchObject({ version: 1, name: 'init' });
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort((a, b) => a - b));
  });
});

withStores(({ store }) => {
  it('applies nothing the second time', async () => {
    expect(await migrate(store().db)).toEqual([]);
    const rows = await store().db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  });
});

describe('PGlite in a folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecosync-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its data across opens and migrates only once', async () => {
    const first = await openStore({ kind: 'pglite', dataDir: dir, keys: testKeys });
    const created = await first.connections.create({ name: 'kept', sourceSystem: 'salesforce', targetSystem: 'hubspot', mode: 'one-way' });
    await first.close();

    const second = await openStore({ kind: 'pglite', dataDir: dir, keys: testKeys });
    try {
      expect(await migrate(second.db)).toEqual([]);
      expect((await second.connections.getByName('kept'))?.id).toBe(created.id);
    } finally {
      await second.close();
    }
  });
});

describe('PostgreSQL workers starting together', () => {
  it('queue on the advisory lock: the schema is migrated once and both open', async () => {
    const schema = randomSchema();
    const open = () => openStore({ kind: 'postgres', url: TEST_DATABASE_URL, schema, keys: testKeys, poolSize: 2 });
    const opened = await Promise.allSettled([open(), open(), open()]);
    const stores = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    try {
      expect(opened.filter((o) => o.status === 'rejected')).toEqual([]);
      const rows = await stores[0].db.query<{ version: number }>('SELECT version FROM schema_migrations');
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      const c = await stores[1].connections.create({ name: 'raced', sourceSystem: 'a', targetSystem: 'b', mode: 'one-way' });
      expect((await stores[2].connections.get(c.id))?.name).toBe('raced');
    } finally {
      await stores[0]?.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openStore({ kind: 'postgres', url: TEST_DATABASE_URL, schema: 'x; DROP TABLE y' })).rejects.toThrow(/invalid schema name/);
  });
});
