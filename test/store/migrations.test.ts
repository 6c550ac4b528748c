import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, openStore, seal, storeOn, type ConnectionInput, type Db, type Store } from '../../src/store/index.js';
import { openEmptyDb, randomSchema, storeKinds, TEST_DATABASE_URL, testKeys, withStores } from './stores.js';

const migrations = loadMigrations();

const oneWay = (name: string): ConnectionInput => ({
  name, systems: [{ name: 'a', system: 'a', role: 'source' }, { name: 'b', system: 'b', role: 'target' }],
});

describe('migrations', () => {
  it('are numbered SQL files in order', () => {
    expect(migrations.length).toBeGreaterThan(1);
    expect(migrations[0]).toMatchObject({ version: 1, name: 'init' });
    expect(migrations[1]).toMatchObject({ version: 2, name: 'hubs' });
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

for (const kind of storeKinds) {
  describe(`${kind}: migration 002 (hubs) from a version-1 database with data`, () => {
    let opened: Awaited<ReturnType<typeof openEmptyDb>>;
    let db: Db;
    let store: Store;
    const ids = { both: randomUUID(), oneWay: randomUUID(), elsewhere: randomUUID() };
    const rec = { x: randomUUID(), y: randomUUID(), orphan: randomUUID(), unlinked: randomUUID() };
    const conflictId = randomUUID();
    const letterId = randomUUID();
    const credentials = { salesforce: { refreshToken: 'kept' } };

    beforeAll(async () => {
      opened = await openEmptyDb(kind);
      db = opened.db;
      // The version-1 schema: migrate stops after the migrations it is given.
      expect((await migrate(db, { schema: opened.schema, migrations: migrations.slice(0, 1) })).map((m) => m.version)).toEqual([1]);

      const sealed = seal(testKeys, JSON.stringify(credentials), ids.both);
      const connection = `INSERT INTO connections (id, name, source_system, target_system, mode, objects, delete_policy, schedule_seconds, credentials, credentials_key_id)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)`;
      await db.query(connection, [ids.both, 'sf-hs', 'salesforce', 'hubspot', 'bidirectional', JSON.stringify([
        { entity: 'Account', sourceObject: 'Account', targetObject: 'companies', sourceMapping: 'salesforce.Account.yaml', targetMapping: 'hubspot.companies.yaml' },
        { entity: 'Contact', sourceObject: 'Contact', targetObject: 'contacts', sourceMapping: 'salesforce.Contact.yaml', targetMapping: 'hubspot.contacts.yaml' },
      ]), 'propagate', 300, sealed.envelope, sealed.keyId]);
      await db.query(connection, [ids.oneWay, 'sf-to-ns', 'salesforce', 'netsuite', 'one-way', JSON.stringify([
        { entity: 'Account', sourceObject: 'Account', targetObject: 'customer', sourceMapping: 'salesforce.Account.yaml', targetMapping: 'netsuite.customer.yaml' },
      ]), 'ignore', null, null, null]);
      await db.query(connection, [ids.elsewhere, 'zd-to-ic', 'zendesk', 'intercom', 'one-way', '[]', 'ignore', null, null, null]);
      await db.query(`UPDATE connections SET updated_at = '2024-01-01T00:00:00Z'`);

      const link = `INSERT INTO links (entity, canonical_id, system, object, external_id, last_hash, last_modified_at, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
      await db.query(link, ['Account', rec.x, 'salesforce', 'Account', '001X', 'sx', '2024-05-01T10:00:00Z', 3]);
      await db.query(link, ['Account', rec.x, 'hubspot', 'companies', '90', 'hx', null, 1]);
      await db.query(link, ['Account', rec.x, 'netsuite', 'customer', 'N1', 'nx', null, 2]);
      await db.query(link, ['Contact', rec.y, 'salesforce', 'Contact', '003Y', 'sy', null, 1]);
      await db.query(link, ['Contact', rec.y, 'hubspot', 'contacts', '501', 'hy', null, 1]);
      // A system no connection has any more: its link goes, and so does its record.
      await db.query(link, ['Account', rec.orphan, 'pipedrive', 'organization', '7', 'p', null, 1]);

      const record = 'INSERT INTO records (entity, canonical_id, data, content_hash, version, deleted) VALUES ($1, $2, $3::jsonb, $4, $5, $6)';
      await db.query(record, ['Account', rec.x, JSON.stringify({ name: 'Acme', domain: 'acme.example.com' }), 'x', 4, false]);
      await db.query(record, ['Contact', rec.y, JSON.stringify({ email: 'y@acme.example.com' }), 'y', 2, true]);
      await db.query(record, ['Account', rec.orphan, JSON.stringify({ name: 'Orphan' }), 'o', 1, false]);
      await db.query(record, ['Account', rec.unlinked, JSON.stringify({ name: 'Unlinked' }), 'u', 1, false]);

      const cursor = 'INSERT INTO cursors (connection_id, system, object, cursor) VALUES ($1, $2, $3, $4::jsonb)';
      await db.query(cursor, [ids.both, 'salesforce', 'Account', JSON.stringify({ modifiedAt: '2024-05-01T10:00:00.000Z', id: '001X' })]);
      await db.query(cursor, [ids.both, 'hubspot', 'companies', JSON.stringify({ modifiedAt: '2024-05-02T10:00:00.000Z', id: '90' })]);
      await db.query(cursor, [ids.oneWay, 'netsuite', 'customer', JSON.stringify({ modifiedAt: '2024-05-03T10:00:00.000Z', id: 'N1' })]);

      await db.query(`INSERT INTO conflicts (id, connection_id, entity, canonical_id, field, base_value, sides) VALUES ($1, $2, 'Account', $3, 'name', '"Acme"', $4::jsonb)`,
        [conflictId, ids.both, rec.x, JSON.stringify({ salesforce: { value: 'Acme Corp', modifiedAt: null }, hubspot: { value: 'ACME', modifiedAt: null } })]);
      await db.query(`INSERT INTO dead_letters (id, connection_id, direction, system, object, external_id, payload, reason) VALUES ($1, $2, 'write', 'hubspot', 'companies', '90', '{}', 'rejected')`,
        [letterId, ids.both]);

      expect((await migrate(db, { schema: opened.schema, migrations: migrations.slice(0, 2) })).map((m) => m.version)).toEqual([2]);
      // The later migrations apply on top of it.
      expect((await migrate(db, { schema: opened.schema })).map((m) => m.version)).toEqual(migrations.slice(2).map((m) => m.version));
      store = storeOn(db, testKeys);
    });
    afterAll(async () => {
      await opened?.close();
    });

    it('records every version and applies nothing more', async () => {
      expect((await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      expect(await migrate(db, { schema: opened.schema })).toEqual([]);
    });

    it('turns each connection into a hub of its two systems: both ⇄ both when bidirectional, source → target when one-way', async () => {
      const both = await store.connections.get(ids.both);
      expect(both).toMatchObject({
        name: 'sf-hs', deletePolicy: 'propagate', conflictPolicy: 'last-writer-wins', updateAfterDelete: 'skip',
        scheduleSeconds: 300, enabled: true, hasCredentials: true, updatedAt: '2024-01-01T00:00:00.000Z',
      });
      expect(both?.systems).toEqual([
        { name: 'salesforce', system: 'salesforce', role: 'both', instance: null },
        { name: 'hubspot', system: 'hubspot', role: 'both', instance: null },
      ]);
      expect(both?.entities).toEqual([
        { entity: 'Account', members: [
          { system: 'salesforce', object: 'Account', mapping: 'salesforce.Account.yaml' },
          { system: 'hubspot', object: 'companies', mapping: 'hubspot.companies.yaml' },
        ] },
        { entity: 'Contact', members: [
          { system: 'salesforce', object: 'Contact', mapping: 'salesforce.Contact.yaml' },
          { system: 'hubspot', object: 'contacts', mapping: 'hubspot.contacts.yaml' },
        ] },
      ]);
      expect(await store.connections.getCredentials(ids.both)).toEqual(credentials);

      const oneWay = await store.connections.get(ids.oneWay);
      expect(oneWay?.systems).toEqual([
        { name: 'salesforce', system: 'salesforce', role: 'source', instance: null },
        { name: 'netsuite', system: 'netsuite', role: 'target', instance: null },
      ]);
      expect(oneWay?.entities).toEqual([{ entity: 'Account', members: [
        { system: 'salesforce', object: 'Account', mapping: 'salesforce.Account.yaml' },
        { system: 'netsuite', object: 'customer', mapping: 'netsuite.customer.yaml' },
      ] }]);
      expect(oneWay?.hasCredentials).toBe(false);
      expect((await store.connections.get(ids.elsewhere))?.entities).toEqual([]);

      const [row] = await db.query<Record<string, unknown>>('SELECT * FROM connections WHERE id = $1', [ids.both]);
      for (const gone of ['source_system', 'target_system', 'mode', 'objects']) expect(row).not.toHaveProperty(gone);
    });

    it('keeps each link in every connection that has its system, under the system\'s name', async () => {
      const sides = async (connectionId: string, entity: string, id: string) =>
        (await store.links.findByCanonicalIds(connectionId, entity, [id])).map((l) => [l.instance, l.object, l.externalId, l.lastHash, l.version]).sort();
      expect(await sides(ids.both, 'Account', rec.x)).toEqual([['hubspot', 'companies', '90', 'hx', 1], ['salesforce', 'Account', '001X', 'sx', 3]]);
      expect(await sides(ids.both, 'Contact', rec.y)).toEqual([['hubspot', 'contacts', '501', 'hy', 1], ['salesforce', 'Contact', '003Y', 'sy', 1]]);
      expect(await sides(ids.oneWay, 'Account', rec.x)).toEqual([['netsuite', 'customer', 'N1', 'nx', 2], ['salesforce', 'Account', '001X', 'sx', 3]]);
      expect(await store.links.findByExternalIds(ids.both, 'salesforce', 'Account', ['001X'])).toMatchObject([{
        connectionId: ids.both, canonicalId: rec.x, lastModifiedAt: '2024-05-01T10:00:00.000Z',
      }]);
      expect(await store.links.findByCanonicalIds(ids.elsewhere, 'Account', [rec.x, rec.orphan])).toEqual([]);
      const [dropped] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM links WHERE instance = 'pipedrive' OR canonical_id = $1`, [rec.orphan]);
      expect(dropped.n).toBe(0);
      const [total] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM links WHERE connection_id = $1', [ids.both]);
      expect(total.n).toBe(4);

      // The new keys hold: an upsert of a migrated link updates it, a second external id for a side is refused.
      const [updated] = await store.links.upsertMany(ids.both, [{ entity: 'Account', canonicalId: randomUUID(), instance: 'hubspot', object: 'companies', externalId: '90', lastHash: 'hx2' }]);
      expect(updated).toMatchObject({ canonicalId: rec.x, lastHash: 'hx2', version: 2 });
      await expect(store.links.upsertMany(ids.both, [{ entity: 'Account', canonicalId: rec.x, instance: 'hubspot', object: 'companies', externalId: '99' }]))
        .rejects.toMatchObject({ code: '23505' });
    });

    it('keeps each record in every connection that links it', async () => {
      for (const connectionId of [ids.both, ids.oneWay]) {
        expect(await store.records.getMany(connectionId, 'Account', [rec.x])).toMatchObject([{
          connectionId, data: { name: 'Acme', domain: 'acme.example.com' }, hash: 'x', version: 4, deleted: false,
        }]);
      }
      expect(await store.records.getMany(ids.both, 'Contact', [rec.y])).toMatchObject([{ hash: 'y', version: 2, deleted: true }]);
      expect((await store.records.findByField(ids.oneWay, 'Account', 'domain', ['acme.example.com'])).map((r) => r.canonicalId)).toEqual([rec.x]);
      expect(await store.records.getMany(ids.elsewhere, 'Account', [rec.x])).toEqual([]);
      // A record no link ties to a connection (its system is gone, or no system took it) has no connection to go to.
      const [gone] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM records WHERE canonical_id = ANY($1::uuid[])', [[rec.orphan, rec.unlinked]]);
      expect(gone.n).toBe(0);
    });

    it('keeps cursors under the system\'s name', async () => {
      expect((await store.cursors.list(ids.both)).map((c) => [c.instance, c.object, c.cursor.id])).toEqual([
        ['hubspot', 'companies', '90'], ['salesforce', 'Account', '001X'],
      ]);
      expect(await store.cursors.get(ids.oneWay, 'netsuite', 'customer')).toEqual({ modifiedAt: '2024-05-03T10:00:00.000Z', id: 'N1' });
    });

    it('keeps conflicts and dead letters, with one open conflict per field in each connection', async () => {
      expect(await store.conflicts.get(conflictId)).toMatchObject({ connectionId: ids.both, canonicalId: rec.x, field: 'name', status: 'open', baseValue: 'Acme' });
      expect(await store.deadLetters.get(letterId)).toMatchObject({ connectionId: ids.both, status: 'open', externalId: '90' });
      const sides = { salesforce: { value: 'Acme Inc', modifiedAt: null }, netsuite: { value: 'ACME', modifiedAt: null } };
      const [same] = await store.conflicts.openMany([{ connectionId: ids.both, entity: 'Account', canonicalId: rec.x, field: 'name', baseValue: 'Acme', sides }]);
      expect(same.id).toBe(conflictId);
      const [other] = await store.conflicts.openMany([{ connectionId: ids.oneWay, entity: 'Account', canonicalId: rec.x, field: 'name', baseValue: 'Acme', sides }]);
      expect(other.id).not.toBe(conflictId);
    });

    it('lets the sync adopt the migrated links and cursors under the instance it reaches', async () => {
      const org = 'salesforce:00D000000000001AAA';
      const adopted = await store.connections.setInstances(ids.oneWay, { salesforce: org });
      expect(adopted.systems.map((s) => s.instance)).toEqual([org, null]);
      expect(adopted.updatedAt).toBe('2024-01-01T00:00:00.000Z');
      expect(await store.links.findByExternalIds(ids.oneWay, org, 'Account', ['001X'])).toMatchObject([{ canonicalId: rec.x }]);
      expect(await store.links.findByExternalIds(ids.oneWay, 'salesforce', 'Account', ['001X'])).toEqual([]);
      // The other connection's copy stays under the name until its own sync reaches the org.
      expect(await store.links.findByExternalIds(ids.both, 'salesforce', 'Account', ['001X'])).toHaveLength(1);
    });
  });
}

describe('PGlite in a folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecosync-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its data across opens and migrates only once', async () => {
    const first = await openStore({ kind: 'pglite', dataDir: dir, keys: testKeys });
    const created = await first.connections.create(oneWay('kept'));
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
      const c = await stores[1].connections.create(oneWay('raced'));
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
