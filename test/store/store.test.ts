import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, describe, vi } from 'vitest';
import {
  generateSecretKey, makeKeyring, storeOn, type Connection, type ConnectionInput, type ConnectionSystem, type LinkUpsert,
} from '../../src/store/index.js';
import type { Commit, DeadLetterInput } from '../../src/sync/ports.js';
import { openTestStore, testKeys, TEST_KEY, withStores, type TestStore } from './stores.js';

const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A two-system connection (salesforce ⇄ hubspot) in the shape of ConnectionInput, without its name. */
const SF_HS: Omit<ConnectionInput, 'name'> = {
  systems: [{ name: 'salesforce', system: 'salesforce', role: 'both' }, { name: 'hubspot', system: 'hubspot', role: 'both' }],
  entities: [{ entity: 'Account', members: [
    { system: 'salesforce', object: 'Account', mapping: 'salesforce.Account.yaml' },
    { system: 'hubspot', object: 'companies', mapping: 'hubspot.companies.yaml' },
  ] }],
};

/** A minimal one-way connection input. */
const oneWay = (name: string, extra: Partial<ConnectionInput> = {}): ConnectionInput => ({
  name, systems: [{ name: 'a', system: 'a', role: 'source' }, { name: 'b', system: 'b', role: 'target' }], ...extra,
});

withStores(({ store }) => {
  async function newConnection(credentials?: Record<string, unknown>, systems?: ConnectionSystem[]): Promise<Connection> {
    return store().connections.create({
      name: uniqueName('sf-to-hs'), ...SF_HS, ...(systems ? { systems } : {}),
      deletePolicy: 'propagate', scheduleSeconds: 300, credentials,
    });
  }

  /** How many links, records and cursors a connection has. */
  async function counts(connectionId: string): Promise<{ links: number; records: number; cursors: number }> {
    const [row] = await store().db.query<{ links: number; records: number; cursors: number }>(
      `SELECT (SELECT count(*)::int FROM links WHERE connection_id = $1) AS links,
              (SELECT count(*)::int FROM records WHERE connection_id = $1) AS records,
              (SELECT count(*)::int FROM cursors WHERE connection_id = $1) AS cursors`, [connectionId]);
    return row;
  }

  describe('connections', () => {
    it('creates, finds, lists, updates and deletes', async () => {
      const c = await newConnection();
      expect(c).toMatchObject({ deletePolicy: 'propagate', conflictPolicy: 'last-writer-wins', updateAfterDelete: 'skip',
        scheduleSeconds: 300, enabled: true, hasCredentials: false });
      expect(c.systems).toEqual([
        { name: 'salesforce', system: 'salesforce', role: 'both', instance: null },
        { name: 'hubspot', system: 'hubspot', role: 'both', instance: null },
      ]);
      expect(c.entities).toEqual(SF_HS.entities);
      expect(await store().connections.get(c.id)).toEqual(c);
      expect(await store().connections.getByName(c.name)).toEqual(c);

      const updated = await store().connections.update(c.id, { enabled: false, conflictPolicy: 'salesforce', scheduleSeconds: null, updateAfterDelete: 'resurrect' });
      expect(updated).toMatchObject({ enabled: false, conflictPolicy: 'salesforce', scheduleSeconds: null, updateAfterDelete: 'resurrect', name: c.name });
      expect(updated.systems).toEqual(c.systems);
      expect((await store().connections.list({ enabled: false })).map((x) => x.id)).toContain(c.id);
      expect((await store().connections.list({ enabled: true })).map((x) => x.id)).not.toContain(c.id);

      // A third system joins, only written; an entity gains it as a member.
      const systems: ConnectionSystem[] = [...c.systems, { name: 'netsuite', system: 'netsuite', role: 'target' }];
      const entities = [{ entity: 'Account', members: [...c.entities[0].members, { system: 'netsuite', object: 'customer', mapping: 'netsuite.customer.yaml' }] }];
      const grown = await store().connections.update(c.id, { systems, entities });
      expect(grown.systems.map((s) => [s.name, s.role, s.instance])).toEqual([['salesforce', 'both', null], ['hubspot', 'both', null], ['netsuite', 'target', null]]);
      expect(grown.entities).toEqual(entities);
      expect(await store().connections.get(c.id)).toEqual(grown);

      await store().cursors.set(c.id, 'salesforce', 'Account', { modifiedAt: '2024-01-01T00:00:00.000Z', id: '001' });
      await store().links.upsertMany(c.id, [{ entity: 'Account', canonicalId: randomUUID(), instance: 'salesforce', object: 'Account', externalId: '001' }]);
      await store().records.upsertMany(c.id, [{ entity: 'Account', canonicalId: randomUUID(), data: {}, hash: 'h' }]);
      expect(await store().connections.delete(c.id)).toBe(true);
      expect(await store().connections.get(c.id)).toBeNull();
      expect(await store().cursors.get(c.id, 'salesforce', 'Account')).toBeNull();
      expect(await counts(c.id)).toEqual({ links: 0, records: 0, cursors: 0 });
      expect(await store().connections.delete(c.id)).toBe(false);
    });

    it('refuses a second connection with the same name', async () => {
      const c = await newConnection();
      await expect(store().connections.create(oneWay(c.name)))
        .rejects.toThrow(`a connection named "${c.name}" already exists`);
      await expect(store().connections.update(randomUUID(), { enabled: true })).rejects.toThrow(/no connection with id/);
    });

    it('keeps credentials encrypted at rest and returns them only through getCredentials', async () => {
      const secret = `sk-live-${randomUUID()}`;
      const c = await newConnection({ clientId: 'ecosync', refreshToken: secret });
      expect(c.hasCredentials).toBe(true);
      expect(c.credentialsKeyId).toBe(testKeys.current.id);
      expect(JSON.stringify(c)).not.toContain(secret);

      const [raw] = await store().db.query<Record<string, unknown>>('SELECT * FROM connections WHERE id = $1', [c.id]);
      const rawText = JSON.stringify(raw);
      expect(rawText).not.toContain(secret);
      expect(rawText).not.toContain('refreshToken');
      expect(String(raw.credentials)).toMatch(/^v1\./);

      expect(await store().connections.getCredentials(c.id)).toEqual({ clientId: 'ecosync', refreshToken: secret });
      await store().connections.update(c.id, { credentials: null });
      expect(await store().connections.getCredentials(c.id)).toBeNull();
      expect((await store().connections.get(c.id))?.hasCredentials).toBe(false);
    });

    it('fails loudly when the key is wrong or missing', async () => {
      const c = await newConnection({ password: 'hunter2-correct-horse' });
      const withOtherKey = storeOn(store().db, makeKeyring(generateSecretKey()));
      await expect(withOtherKey.connections.getCredentials(c.id)).rejects.toThrow(/sealed with key .* which is neither ECOSYNC_SECRET_KEY/);

      vi.stubEnv('ECOSYNC_SECRET_KEY', '');
      try {
        const withoutKey = storeOn(store().db);
        await expect(withoutKey.connections.getCredentials(c.id)).rejects.toThrow(/ECOSYNC_SECRET_KEY is not set/);
        await expect(withoutKey.connections.create(oneWay(uniqueName('x'), { credentials: { a: 1 } })))
          .rejects.toThrow(/ECOSYNC_SECRET_KEY is not set/);
        // A connection without credentials needs no key.
        expect((await withoutKey.connections.get(c.id))?.id).toBe(c.id);
      } finally {
        vi.unstubAllEnvs();
      }
    });

    it('rotates every row to a new key', async () => {
      const oldKeys = makeKeyring(TEST_KEY);
      const local = storeOn(store().db, oldKeys);
      const c1 = await local.connections.create(oneWay(uniqueName('rot'), { credentials: { token: 'one' } }));
      const c2 = await local.connections.create(oneWay(uniqueName('rot'), { credentials: { token: 'two' } }));
      const before = await store().db.query<{ credentials: string }>('SELECT credentials FROM connections WHERE id = $1', [c1.id]);

      const newKey = generateSecretKey();
      const newKeys = makeKeyring(newKey, [TEST_KEY]);
      const rotated = await local.connections.rotateKey(newKeys);
      expect(rotated).toBeGreaterThanOrEqual(2);

      const after = await store().db.query<{ credentials: string; credentials_key_id: string }>(
        'SELECT credentials, credentials_key_id FROM connections WHERE credentials IS NOT NULL');
      expect(new Set(after.map((r) => r.credentials_key_id))).toEqual(new Set([newKeys.current.id]));
      expect(after.map((r) => r.credentials)).not.toContain(before[0].credentials);

      expect(await local.connections.getCredentials(c1.id)).toEqual({ token: 'one' });
      expect(await storeOn(store().db, makeKeyring(newKey)).connections.getCredentials(c2.id)).toEqual({ token: 'two' });
      await expect(storeOn(store().db, oldKeys).connections.getCredentials(c2.id)).rejects.toThrow(/sealed with key/);

      // Rotate back so the rest of this file keeps using the test key.
      await local.connections.rotateKey(testKeys);
      expect(await store().connections.getCredentials(c2.id)).toEqual({ token: 'two' });
    });
  });

  describe('links', () => {
    let conn: Connection;
    beforeAll(async () => { conn = await newConnection(); });
    const link = (canonicalId: string, externalId: string, extra: Partial<LinkUpsert> = {}): LinkUpsert => ({
      entity: 'Account', canonicalId, instance: 'salesforce', object: 'Account', externalId, ...extra,
    });

    it('upserts idempotently and bumps the version only when the side changes', async () => {
      const ids = [randomUUID(), randomUUID()];
      const ext = [`001${randomUUID().slice(0, 8)}`, `001${randomUUID().slice(0, 8)}`];
      const first = await store().links.upsertMany(conn.id, [link(ids[0], ext[0], { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' }), link(ids[1], ext[1])]);
      expect(first.map((l) => [l.connectionId, l.canonicalId, l.externalId, l.version])).toEqual([[conn.id, ids[0], ext[0], 1], [conn.id, ids[1], ext[1], 1]]);
      expect(first[0].lastModifiedAt).toBe('2024-05-01T10:00:00.000Z');

      const again = await store().links.upsertMany(conn.id, [link(ids[0], ext[0], { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' }), link(ids[1], ext[1])]);
      expect(again).toEqual(first);

      const changed = await store().links.upsertMany(conn.id, [link(ids[0], ext[0], { lastHash: 'h2' })]);
      expect(changed[0]).toMatchObject({ lastHash: 'h2', lastModifiedAt: '2024-05-01T10:00:00.000Z', version: 2 });
      const count = await store().db.query<{ n: number }>('SELECT count(*)::int AS n FROM links WHERE canonical_id = ANY($1::uuid[])', [ids]);
      expect(count[0].n).toBe(2);
    });

    it('saveMany writes like upsertMany without reading back, and leaves unchanged links alone', async () => {
      const id = randomUUID();
      const ext = `001${randomUUID().slice(0, 8)}`;
      await store().links.saveMany(conn.id, [link(id, ext, { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' })]);
      await store().links.saveMany(conn.id, [link(id, ext, { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' })]);
      let [saved] = await store().links.findByExternalIds(conn.id, 'salesforce', 'Account', [ext]);
      expect(saved).toMatchObject({ connectionId: conn.id, canonicalId: id, lastHash: 'h1', version: 1 });
      await store().links.saveMany(conn.id, [link(id, ext, { lastHash: 'h2' })]);
      [saved] = await store().links.findByExternalIds(conn.id, 'salesforce', 'Account', [ext]);
      expect(saved).toMatchObject({ lastHash: 'h2', lastModifiedAt: '2024-05-01T10:00:00.000Z', version: 2 });
    });

    it('keeps the first canonical id of an external record, so racing workers converge', async () => {
      const ext = `001${randomUUID().slice(0, 8)}`;
      const winner = randomUUID();
      await store().links.upsertMany(conn.id, [link(winner, ext)]);
      const [stored] = await store().links.upsertMany(conn.id, [link(randomUUID(), ext)]);
      expect(stored.canonicalId).toBe(winner);
    });

    it('refuses a second external id for the same canonical record and system object', async () => {
      const id = randomUUID();
      await store().links.upsertMany(conn.id, [link(id, `001${randomUUID().slice(0, 8)}`)]);
      await expect(store().links.upsertMany(conn.id, [link(id, `001${randomUUID().slice(0, 8)}`)])).rejects.toMatchObject({ code: '23505' });
      // The same canonical record in another system is fine.
      const [other] = await store().links.upsertMany(conn.id, [link(id, '12345', { instance: 'hubspot', object: 'companies' })]);
      expect(other.canonicalId).toBe(id);
      // And so is a second instance of the same system kind (two Salesforce orgs).
      const [secondOrg] = await store().links.upsertMany(conn.id, [link(id, `001${randomUUID().slice(0, 8)}`, { instance: 'salesforce:00D000000000002AAA' })]);
      expect(secondOrg.canonicalId).toBe(id);
    });

    it('looks many up in one call, by external or canonical id', async () => {
      const ids = Array.from({ length: 5 }, () => randomUUID());
      const sf = ids.map((id, i) => link(id, `sf-${id}-${i}`));
      const hs = ids.slice(0, 3).map((id, i) => link(id, `hs-${id}-${i}`, { instance: 'hubspot', object: 'companies' }));
      await store().links.upsertMany(conn.id, [...sf, ...hs]);

      const found = await store().links.findByExternalIds(conn.id, 'salesforce', 'Account', [sf[1].externalId, sf[3].externalId, 'missing']);
      expect(found.map((l) => l.canonicalId).sort()).toEqual([ids[1], ids[3]].sort());
      expect(await store().links.findByExternalIds(conn.id, 'hubspot', 'companies', [sf[1].externalId])).toEqual([]);

      const sides = await store().links.findByCanonicalIds(conn.id, 'Account', ids.slice(0, 2));
      expect(sides).toHaveLength(4);
      const onlyHubspot = await store().links.findByCanonicalIds(conn.id, 'Account', ids, 'hubspot');
      expect(onlyHubspot.map((l) => l.externalId).sort()).toEqual(hs.map((l) => l.externalId).sort());
      expect(await store().links.findByCanonicalIds(conn.id, 'Contact', ids)).toEqual([]);
      expect(await store().links.findByExternalIds(conn.id, 'salesforce', 'Account', [])).toEqual([]);
      expect(await store().links.findByCanonicalIds(conn.id, 'Account', [])).toEqual([]);

      expect(await store().links.deleteByExternalIds(conn.id, 'hubspot', 'companies', [hs[0].externalId])).toBe(1);
      expect(await store().links.findByCanonicalIds(conn.id, 'Account', [ids[0]], 'hubspot')).toEqual([]);
      expect(await store().links.deleteByExternalIds(conn.id, 'hubspot', 'companies', [])).toBe(0);
    });

    it('takes the last of duplicate keys in one batch', async () => {
      const id = randomUUID();
      const ext = `dup-${id}`;
      const stored = await store().links.upsertMany(conn.id, [link(id, ext, { lastHash: 'a' }), link(id, ext, { lastHash: 'b' })]);
      expect(stored).toHaveLength(1);
      expect(stored[0].lastHash).toBe('b');
    });
  });

  describe('records', () => {
    let conn: Connection;
    beforeAll(async () => { conn = await newConnection(); });

    it('creates, updates, leaves unchanged data alone and bumps the version on every change', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const created = await store().records.upsertMany(conn.id, [
        { entity: 'Account', canonicalId: a, data: { name: 'Acme' }, hash: 'h1' },
        { entity: 'Account', canonicalId: b, data: { name: 'Globex' }, hash: 'g1' },
      ]);
      expect(created.map((r) => [r.outcome, r.version])).toEqual([['created', 1], ['created', 1]]);

      const second = await store().records.upsertMany(conn.id, [
        { entity: 'Account', canonicalId: a, data: { name: 'Acme Corp' }, hash: 'h2' },
        { entity: 'Account', canonicalId: b, data: { name: 'Globex' }, hash: 'g1' },
      ]);
      expect(second.map((r) => [r.outcome, r.version])).toEqual([['updated', 2], ['unchanged', 1]]);

      const deleted = await store().records.upsertMany(conn.id, [{ entity: 'Account', canonicalId: a, data: { name: 'Acme Corp' }, hash: 'h2', deleted: true }]);
      expect(deleted[0]).toMatchObject({ outcome: 'updated', version: 3 });

      const rows = await store().records.getMany(conn.id, 'Account', [a, b, randomUUID()]);
      const byId = new Map(rows.map((r) => [r.canonicalId, r]));
      expect(byId.get(a)).toMatchObject({ connectionId: conn.id, data: { name: 'Acme Corp' }, hash: 'h2', version: 3, deleted: true });
      expect(byId.get(b)).toMatchObject({ connectionId: conn.id, data: { name: 'Globex' }, hash: 'g1', version: 1, deleted: false });
      expect(rows).toHaveLength(2);
      expect(await store().records.getMany(conn.id, 'Contact', [a])).toEqual([]);
      expect(await store().records.getMany(conn.id, 'Account', [])).toEqual([]);
    });

    it('skips a write based on a version that has moved on', async () => {
      const id = randomUUID();
      await store().records.upsertMany(conn.id, [{ entity: 'Opportunity', canonicalId: id, data: { amount: '10.00' }, hash: 'x1' }]);
      await store().records.upsertMany(conn.id, [{ entity: 'Opportunity', canonicalId: id, data: { amount: '20.00' }, hash: 'x2', expectedVersion: 1 }]);
      const [stale] = await store().records.upsertMany(conn.id, [{ entity: 'Opportunity', canonicalId: id, data: { amount: '30.00' }, hash: 'x3', expectedVersion: 1 }]);
      expect(stale).toMatchObject({ outcome: 'stale', version: 2 });
      const [current] = await store().records.getMany(conn.id, 'Opportunity', [id]);
      expect(current).toMatchObject({ hash: 'x2', version: 2 });
      const [ok] = await store().records.upsertMany(conn.id, [{ entity: 'Opportunity', canonicalId: id, data: { amount: '30.00' }, hash: 'x3', expectedVersion: 2 }]);
      expect(ok).toMatchObject({ outcome: 'updated', version: 3 });
    });

    it('finds live records by a field, case-insensitively, nested paths included', async () => {
      const tag = randomUUID().slice(0, 8);
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await store().records.upsertMany(conn.id, [
        { entity: 'Account', canonicalId: a, data: { name: 'Acme', domain: `acme-${tag}.example.com`, billingAddress: { city: `Paris ${tag}` } }, hash: 'a' },
        { entity: 'Account', canonicalId: b, data: { name: 'Globex', domain: `globex-${tag}.example.com` }, hash: 'b' },
        { entity: 'Account', canonicalId: c, data: { name: 'Gone', domain: `acme-${tag}.example.com` }, hash: 'c', deleted: true },
      ]);
      const byDomain = await store().records.findByField(conn.id, 'Account', 'domain', [` ACME-${tag}.example.com`, `missing-${tag}`]);
      expect(byDomain.map((r) => r.canonicalId)).toEqual([a]);
      expect((await store().records.findByField(conn.id, 'Account', 'billingAddress.city', [`paris ${tag}`])).map((r) => r.canonicalId)).toEqual([a]);
      expect(await store().records.findByField(conn.id, 'Contact', 'domain', [`acme-${tag}.example.com`])).toEqual([]);
      expect(await store().records.findByField(conn.id, 'Account', 'domain', ['', '  '])).toEqual([]);
    });
  });

  describe('cursors', () => {
    it('stores one compound cursor per connection, system instance and object', async () => {
      const c = await newConnection();
      expect(await store().cursors.get(c.id, 'salesforce', 'Account')).toBeNull();
      await store().cursors.set(c.id, 'salesforce', 'Account', { modifiedAt: '2024-01-01T00:00:00.000Z', id: '001A' });
      await store().cursors.set(c.id, 'salesforce', 'Account', { modifiedAt: '2024-01-02T00:00:00.000Z', id: '001B' });
      await store().cursors.set(c.id, 'hubspot', 'companies', { modifiedAt: '2024-01-03T00:00:00.000Z', id: '9' });
      expect(await store().cursors.get(c.id, 'salesforce', 'Account')).toEqual({ modifiedAt: '2024-01-02T00:00:00.000Z', id: '001B' });
      expect((await store().cursors.list(c.id)).map((e) => [e.instance, e.object, e.cursor.id])).toEqual([
        ['hubspot', 'companies', '9'], ['salesforce', 'Account', '001B'],
      ]);
      expect(await store().cursors.reset(c.id, 'hubspot')).toBe(1);
      expect(await store().cursors.get(c.id, 'hubspot', 'companies')).toBeNull();
      expect(await store().cursors.reset(c.id)).toBe(1);
      expect(await store().cursors.list(c.id)).toEqual([]);
    });
  });

  describe('sync runs', () => {
    it('counts concurrent batches exactly and finishes once', async () => {
      const c = await newConnection();
      const run = await store().runs.start({ connectionId: c.id, mode: 'incremental', workflowId: `sync-${c.id}`, runId: 'r1' });
      expect(run).toMatchObject({ status: 'running', finishedAt: null, counters: { read: 0, created: 0, conflicts: 0 } });

      await Promise.all(Array.from({ length: 10 }, () => store().runs.addCounters(run.id, { read: 200, created: 150, unchanged: 50 })));
      await store().runs.addCounters(run.id, { failed: 2, conflicts: 1 });
      const done = await store().runs.finish(run.id, { status: 'succeeded', counters: { deleted: 3 } });
      expect(done.counters).toEqual({ read: 2000, created: 1500, updated: 0, unchanged: 500, deleted: 3, failed: 2, conflicts: 1 });
      expect(done.status).toBe('succeeded');
      expect(done.finishedAt).not.toBeNull();

      const retried = await store().runs.finish(run.id, { status: 'failed', error: 'late retry', counters: { deleted: 3 } });
      expect(retried).toEqual(done);
      await expect(store().runs.addCounters(randomUUID(), { read: 1 })).rejects.toThrow(/no sync run/);
    });

    it('starts idempotently by id and lists newest first', async () => {
      const c = await newConnection();
      const id = randomUUID();
      const first = await store().runs.start({ id, connectionId: c.id, mode: 'full' });
      const again = await store().runs.start({ id, connectionId: c.id, mode: 'full' });
      expect(again).toEqual(first);
      await store().runs.finish(id, { status: 'failed', error: 'HubSpot said 401' });
      const second = await store().runs.start({ connectionId: c.id, mode: 'incremental' });

      const runs = await store().runs.list({ connectionId: c.id });
      expect(runs.map((r) => r.id)).toEqual([second.id, id]);
      expect((await store().runs.list({ connectionId: c.id, status: 'failed' })).map((r) => r.error)).toEqual(['HubSpot said 401']);
      expect(await store().runs.get(randomUUID())).toBeNull();
    });
  });

  describe('dead letters', () => {
    it('keeps one open letter per failing record and follows it through replay and discard', async () => {
      const c = await newConnection();
      const letter = (externalId: string, reason: string) => ({
        connectionId: c.id, direction: 'write' as const, system: 'hubspot', object: 'companies', externalId,
        payload: { id: externalId, fields: { Name: null } }, reason, errorCode: 'VALIDATION_ERROR', failingFields: ['name'],
      });
      const added = await store().deadLetters.addMany([letter('a', 'name is required'), letter('b', 'bad domain')]);
      expect(added.map((d) => [d.externalId, d.attempts, d.status])).toEqual([['a', 1, 'open'], ['b', 1, 'open']]);
      expect(added[0]).toMatchObject({ failingFields: ['name'], errorCode: 'VALIDATION_ERROR', payload: { id: 'a', fields: { Name: null } } });

      const again = await store().deadLetters.add(letter('a', 'name is still required'));
      expect(again).toMatchObject({ id: added[0].id, attempts: 2, reason: 'name is still required' });
      expect(await store().deadLetters.list({ connectionId: c.id, status: 'open' })).toHaveLength(2);

      expect(await store().deadLetters.incrementAttempt([added[1].id], { reason: 'domain rejected', errorCode: 'INVALID_DOMAIN', failingFields: ['domain'] })).toBe(1);
      expect(await store().deadLetters.get(added[1].id)).toMatchObject({ attempts: 2, reason: 'domain rejected', errorCode: 'INVALID_DOMAIN', failingFields: ['domain'] });

      expect(await store().deadLetters.markReplayed([added[0].id])).toBe(1);
      expect(await store().deadLetters.discard([added[1].id])).toBe(1);
      expect(await store().deadLetters.markReplayed([added[0].id, added[1].id])).toBe(0);
      expect(await store().deadLetters.incrementAttempt([added[0].id])).toBe(0);
      const replayed = await store().deadLetters.get(added[0].id);
      expect(replayed).toMatchObject({ status: 'replayed', attempts: 2 });
      expect(replayed?.resolvedAt).not.toBeNull();
      expect(await store().deadLetters.list({ connectionId: c.id, status: 'open' })).toEqual([]);

      // The same record failing after its replay opens a new letter.
      const reopened = await store().deadLetters.add(letter('a', 'fails again'));
      expect(reopened.id).not.toBe(added[0].id);
      expect(reopened.attempts).toBe(1);
      expect(await store().deadLetters.list({ connectionId: c.id, system: 'hubspot', object: 'companies' })).toHaveLength(3);
    });

    it('keys a letter by canonical id when the record has no external id yet, and never merges unkeyed ones', async () => {
      const c = await newConnection();
      const canonicalId = randomUUID();
      const base = { connectionId: c.id, direction: 'write' as const, system: 'hubspot', object: 'companies', payload: {}, reason: 'rejected' };
      const [one] = await store().deadLetters.addMany([{ ...base, canonicalId }]);
      const [two] = await store().deadLetters.addMany([{ ...base, canonicalId }]);
      expect(two).toMatchObject({ id: one.id, attempts: 2, canonicalId });
      const unkeyed = await store().deadLetters.addMany([{ ...base }, { ...base }]);
      expect(new Set(unkeyed.map((d) => d.id)).size).toBe(2);
    });
  });

  describe('agreements', () => {
    it('records an agreement once however often it is seen, keeps its first ids and order, and lists by account and offer', async () => {
      const c = await newConnection();
      const [account, offer, order] = [randomUUID(), randomUUID(), randomUUID()];
      const input = {
        connectionId: c.id, cloud: 'aws', agreementId: 'agmt-1a2b3c4d5e6f7', canonicalId: randomUUID(), offerId: 'offer-abcdefghijklm',
        privateOfferId: offer, accountId: account, opportunityId: null, acceptor: '444455556666', status: 'ACTIVE',
        acceptedAt: '2026-12-01T10:00:00.000Z', startDate: '2026-12-01', endDate: '2027-11-30', totalContractValue: '180000.00', currency: 'USD',
      };
      const first = await store().agreements.record(input);
      expect(first).toMatchObject({ created: true, agreement: { ...input, salesOrderId: null } });
      await store().agreements.setSalesOrder(c.id, 'aws', input.agreementId, order);
      // The poll sees it again after the event: one row, its order kept, the newer status taken.
      const again = await store().agreements.record({ ...input, canonicalId: randomUUID(), privateOfferId: null, status: 'ACTIVE', endDate: '2027-12-31' });
      expect(again.created).toBe(false);
      expect(again.agreement).toMatchObject({ canonicalId: input.canonicalId, privateOfferId: offer, salesOrderId: order, endDate: '2027-12-31' });
      await store().agreements.record({ ...input, agreementId: 'agmt-other', offerId: 'offer-other', accountId: randomUUID(), acceptedAt: '2026-12-02T00:00:00.000Z' });
      expect((await store().agreements.list({ connectionId: c.id, accountId: account })).map((a) => a.agreementId)).toEqual([input.agreementId]);
      expect((await store().agreements.list({ connectionId: c.id, offerId: 'offer-other' })).map((a) => a.agreementId)).toEqual(['agmt-other']);
      expect((await store().agreements.list({ connectionId: c.id })).map((a) => a.agreementId)).toEqual([input.agreementId, 'agmt-other']);
      expect(await store().agreements.get(c.id, 'aws', 'agmt-none')).toBeUndefined();
    });
  });

  describe('conflicts', () => {
    const conflictOf = (connectionId: string, canonicalId: string) => (sfValue: string) => ({
      connectionId, entity: 'Account', canonicalId, field: 'name', baseValue: 'Acme',
      sides: { salesforce: { value: sfValue, modifiedAt: '2024-06-01T10:00:00Z' }, hubspot: { value: 'ACME Inc', modifiedAt: '2024-06-01T10:00:05Z' } },
    });

    it('keeps one open conflict per field and resolves it by side or by hand', async () => {
      const c = await newConnection();
      const id = randomUUID();
      const conflict = conflictOf(c.id, id);
      const [opened, other] = await store().conflicts.openMany([
        conflict('Acme Corp'),
        { ...conflict('x'), field: 'website', baseValue: null, sides: { salesforce: { value: null, modifiedAt: null }, hubspot: { value: 'acme.com', modifiedAt: null } } },
      ]);
      expect(opened).toMatchObject({ status: 'open', baseValue: 'Acme', resolution: null });
      expect(other).toMatchObject({ field: 'website', baseValue: null });

      const [updated] = await store().conflicts.openMany([conflict('Acme Corporation')]);
      expect(updated.id).toBe(opened.id);
      expect(updated.sides.salesforce.value).toBe('Acme Corporation');
      expect(await store().conflicts.list({ canonicalId: id, status: 'open' })).toHaveLength(2);

      await expect(store().conflicts.resolve(opened.id, { kind: 'side', system: 'netsuite' }, 'revops@example.com')).rejects.toThrow(/no side "netsuite"/);
      const resolved = await store().conflicts.resolve(opened.id, { kind: 'side', system: 'hubspot' }, 'revops@example.com');
      expect(resolved).toMatchObject({ status: 'resolved', resolution: { kind: 'side', system: 'hubspot' }, resolvedValue: 'ACME Inc', resolvedBy: 'revops@example.com' });
      expect(resolved.resolvedAt).not.toBeNull();
      await expect(store().conflicts.resolve(opened.id, { kind: 'side', system: 'hubspot' }, 'x')).rejects.toThrow(/already resolved/);

      const manual = await store().conflicts.resolve(other.id, { kind: 'manual', value: 'https://acme.com' }, 'revops@example.com');
      expect(manual).toMatchObject({ resolution: { kind: 'manual', value: 'https://acme.com' }, resolvedValue: 'https://acme.com' });

      // A new disagreement on a resolved field opens a new conflict.
      const [fresh] = await store().conflicts.openMany([conflict('Acme 2')]);
      expect(fresh.id).not.toBe(opened.id);
      expect((await store().conflicts.list({ connectionId: c.id })).map((x) => x.id).sort()).toEqual([opened.id, other.id, fresh.id].sort());
      expect(await store().conflicts.get(fresh.id)).toEqual(fresh);
    });

    it('keeps one open conflict per connection: the same record and field in two connections are two conflicts', async () => {
      const [a, b] = [await newConnection(), await newConnection()];
      const id = randomUUID();
      const [inA, inB] = await store().conflicts.openMany([conflictOf(a.id, id)('in a'), conflictOf(b.id, id)('in b')]);
      expect(inA.id).not.toBe(inB.id);
      const [againA] = await store().conflicts.openMany([conflictOf(a.id, id.toUpperCase())('in a, later')]);
      expect(againA.id).toBe(inA.id);
      expect((await store().conflicts.list({ canonicalId: id, status: 'open' })).map((c) => [c.connectionId, c.sides.salesforce.value]).sort())
        .toEqual([[a.id, 'in a, later'], [b.id, 'in b']].sort());
      await store().conflicts.resolve(inA.id, { kind: 'side', system: 'salesforce' }, 'revops@example.com');
      expect(await store().conflicts.get(inB.id)).toMatchObject({ status: 'open' });
    });
  });

  describe('two connections sharing a system instance', () => {
    const ORG = `salesforce:00D${randomUUID().replace(/-/g, '').slice(0, 15)}`;
    let a: Connection;
    let b: Connection;
    beforeAll(async () => {
      [a, b] = [await newConnection(), await newConnection()];
      for (const c of [a, b]) await store().connections.setInstances(c.id, { salesforce: ORG });
    });
    const link = (canonicalId: string, externalId: string, lastHash: string | null = null): LinkUpsert =>
      ({ entity: 'Account', canonicalId, instance: ORG, object: 'Account', externalId, lastHash });

    it('keep their own links: a change one connection synced is still a change to the other', async () => {
      const ext = `001${randomUUID().slice(0, 12)}`;
      const [inA, inB] = [randomUUID(), randomUUID()];
      const [la] = await store().links.upsertMany(a.id, [link(inA, ext, 'h1')]);
      // The same external record gets its own canonical id in b: a's link does not claim it.
      const [lb] = await store().links.upsertMany(b.id, [link(inB, ext, 'h1')]);
      expect([la.connectionId, la.canonicalId]).toEqual([a.id, inA]);
      expect([lb.connectionId, lb.canonicalId]).toEqual([b.id, inB]);

      // a syncs the record's new content; b has not seen it yet, so its link keeps the old hash.
      await store().links.saveMany(a.id, [link(inA, ext, 'h2')]);
      expect(await store().links.findByExternalIds(a.id, ORG, 'Account', [ext])).toMatchObject([{ canonicalId: inA, lastHash: 'h2', version: 2 }]);
      expect(await store().links.findByExternalIds(b.id, ORG, 'Account', [ext])).toMatchObject([{ canonicalId: inB, lastHash: 'h1', version: 1 }]);
      expect(await store().links.findByCanonicalIds(b.id, 'Account', [inA])).toEqual([]);
      expect(await store().links.findByCanonicalIds(a.id, 'Account', [inA, inB], ORG)).toMatchObject([{ connectionId: a.id, externalId: ext }]);

      // One connection forgetting the record leaves the other's link.
      expect(await store().links.deleteByExternalIds(a.id, ORG, 'Account', [ext])).toBe(1);
      expect(await store().links.findByExternalIds(a.id, ORG, 'Account', [ext])).toEqual([]);
      expect(await store().links.findByExternalIds(b.id, ORG, 'Account', [ext])).toHaveLength(1);
      // Both connections may link one canonical id (a copied configuration) without colliding.
      await store().links.upsertMany(a.id, [link(inB, ext)]);
      expect((await store().links.findByCanonicalIds(a.id, 'Account', [inB])).map((l) => l.connectionId)).toEqual([a.id]);
      expect((await store().links.findByCanonicalIds(b.id, 'Account', [inB])).map((l) => l.connectionId)).toEqual([b.id]);
    });

    it('keep their own records: the same canonical id in two connections is two records', async () => {
      const id = randomUUID();
      const record = (hash: string, extra: { expectedVersion?: number } = {}) =>
        ({ entity: 'Account', canonicalId: id, data: { name: hash, domain: `${id}.example.com` }, hash, ...extra });
      expect(await store().records.upsertMany(a.id, [record('v1')])).toMatchObject([{ outcome: 'created', version: 1 }]);
      // Not 'unchanged': b has never stored this record.
      expect(await store().records.upsertMany(b.id, [record('v1')])).toMatchObject([{ outcome: 'created', version: 1 }]);
      expect(await store().records.upsertMany(a.id, [record('v2', { expectedVersion: 1 })])).toMatchObject([{ outcome: 'updated', version: 2 }]);
      // b's version did not move with a's: its write based on version 1 is not stale.
      expect(await store().records.getMany(b.id, 'Account', [id])).toMatchObject([{ connectionId: b.id, hash: 'v1', version: 1 }]);
      expect(await store().records.upsertMany(b.id, [record('v3', { expectedVersion: 1 })])).toMatchObject([{ outcome: 'updated', version: 2 }]);
      expect(await store().records.getMany(a.id, 'Account', [id])).toMatchObject([{ connectionId: a.id, hash: 'v2', version: 2 }]);
      expect((await store().records.findByField(b.id, 'Account', 'name', ['v2']))).toEqual([]);
      expect((await store().records.findByField(b.id, 'Account', 'domain', [`${id}.example.com`])).map((r) => [r.connectionId, r.hash])).toEqual([[b.id, 'v3']]);
      const [row] = await store().db.query<{ n: number }>('SELECT count(*)::int AS n FROM records WHERE canonical_id = $1', [id]);
      expect(row.n).toBe(2);
    });

    it('keep their own cursors on the instance', async () => {
      await store().cursors.set(a.id, ORG, 'Account', { modifiedAt: '2024-02-01T00:00:00.000Z', id: 'a' });
      await store().cursors.set(b.id, ORG, 'Account', { modifiedAt: '2024-03-01T00:00:00.000Z', id: 'b' });
      expect((await store().cursors.get(a.id, ORG, 'Account'))?.id).toBe('a');
      expect((await store().cursors.get(b.id, ORG, 'Account'))?.id).toBe('b');
    });
  });

  describe('setInstances', () => {
    const systems: ConnectionSystem[] = [
      { name: 'sf-eu', system: 'salesforce', role: 'both' },
      { name: 'hs', system: 'hubspot', role: 'target' },
    ];
    const sfLink = (canonicalId: string, externalId: string, instance = 'sf-eu'): LinkUpsert =>
      ({ entity: 'Account', canonicalId, instance, object: 'Account', externalId, lastHash: `h-${externalId}` });
    const cursor = { modifiedAt: '2024-04-01T00:00:00.000Z', id: '001Z' };
    const linksOf = (connectionId: string) => store().db.query<Record<string, unknown>>(
      'SELECT * FROM links WHERE connection_id = $1 ORDER BY instance, object, external_id', [connectionId]);
    const cursorsOf = (connectionId: string) => store().db.query<Record<string, unknown>>(
      'SELECT * FROM cursors WHERE connection_id = $1 ORDER BY instance, object', [connectionId]);

    it('moves links and cursors kept under a system name to the instance, once, without touching the connection', async () => {
      const c = await newConnection(undefined, systems);
      const other = await newConnection(undefined, systems);
      const [x, y] = [randomUUID(), randomUUID()];
      await store().links.upsertMany(c.id, [sfLink(x, '001X'), sfLink(y, '001Y'),
        { entity: 'Account', canonicalId: x, instance: 'hs', object: 'companies', externalId: '9' }]);
      await store().links.upsertMany(other.id, [sfLink(x, '001X')]);
      await store().cursors.set(c.id, 'sf-eu', 'Account', cursor);
      await store().cursors.set(c.id, 'hs', 'companies', cursor);
      await store().cursors.set(other.id, 'sf-eu', 'Account', cursor);
      // A change of the connection moves updated_at; learning instances is not one.
      await store().db.query(`UPDATE connections SET updated_at = '2024-01-01T00:00:00Z' WHERE id = $1`, [c.id]);
      const otherBefore = { links: await linksOf(other.id), cursors: await cursorsOf(other.id), connection: await store().connections.get(other.id) };

      const org = 'salesforce:00D000000000001EAA';
      const adopted = await store().connections.setInstances(c.id, { 'sf-eu': org, 'not-a-system': 'x:1' });
      expect(adopted.systems).toEqual([
        { name: 'sf-eu', system: 'salesforce', role: 'both', instance: org },
        { name: 'hs', system: 'hubspot', role: 'target', instance: null },
      ]);
      expect(adopted.updatedAt).toBe('2024-01-01T00:00:00.000Z');
      expect(await store().connections.get(c.id)).toEqual(adopted);
      expect((await store().links.findByExternalIds(c.id, org, 'Account', ['001X', '001Y'])).map((l) => [l.canonicalId, l.lastHash]).sort())
        .toEqual([[x, 'h-001X'], [y, 'h-001Y']].sort());
      expect(await store().links.findByExternalIds(c.id, 'sf-eu', 'Account', ['001X', '001Y'])).toEqual([]);
      expect(await store().links.findByExternalIds(c.id, 'hs', 'companies', ['9'])).toHaveLength(1);
      expect(await store().cursors.get(c.id, org, 'Account')).toEqual(cursor);
      expect(await store().cursors.get(c.id, 'sf-eu', 'Account')).toBeNull();
      expect(await store().cursors.get(c.id, 'hs', 'companies')).toEqual(cursor);
      // Another connection with a system of the same name keeps its own.
      expect({ links: await linksOf(other.id), cursors: await cursorsOf(other.id), connection: await store().connections.get(other.id) }).toEqual(otherBefore);

      // Once: the same instance again changes nothing, even for something kept under the name since.
      await store().links.upsertMany(c.id, [sfLink(randomUUID(), '001LATE')]);
      const links = await linksOf(c.id);
      const cursors = await cursorsOf(c.id);
      expect(await store().connections.setInstances(c.id, { 'sf-eu': org })).toEqual(adopted);
      expect(await linksOf(c.id)).toEqual(links);
      expect(await cursorsOf(c.id)).toEqual(cursors);
      expect(await store().connections.setInstances(c.id, {})).toEqual(adopted);

      // The other system adopts its own later, by itself.
      const both = await store().connections.setInstances(c.id, { 'sf-eu': org, hs: 'hubspot:4455667' });
      expect(both.systems.map((s) => s.instance)).toEqual([org, 'hubspot:4455667']);
      expect(both.updatedAt).toBe('2024-01-01T00:00:00.000Z');
      expect(await store().links.findByExternalIds(c.id, 'hubspot:4455667', 'companies', ['9'])).toHaveLength(1);
      expect(await store().links.findByExternalIds(c.id, org, 'Account', ['001X'])).toHaveLength(1);
      expect(await store().cursors.get(c.id, 'hubspot:4455667', 'companies')).toEqual(cursor);
    });

    it('lets a system that reaches another instance start afresh there, leaving the old instance\'s links alone', async () => {
      const c = await newConnection(undefined, systems);
      const [first, second] = ['salesforce:00D000000000001AAA', 'salesforce:00D000000000002AAA'];
      await store().connections.setInstances(c.id, { 'sf-eu': first });
      await store().links.upsertMany(c.id, [sfLink(randomUUID(), '001A', first), sfLink(randomUUID(), '001B', first)]);
      await store().cursors.set(c.id, first, 'Account', cursor);
      await store().db.query(`UPDATE connections SET updated_at = '2024-01-01T00:00:00Z' WHERE id = $1`, [c.id]);
      const links = await linksOf(c.id);
      const cursors = await cursorsOf(c.id);

      const moved = await store().connections.setInstances(c.id, { 'sf-eu': second });
      expect(moved.systems[0].instance).toBe(second);
      expect(moved.updatedAt).toBe('2024-01-01T00:00:00.000Z');
      expect(await linksOf(c.id)).toEqual(links);
      expect(await cursorsOf(c.id)).toEqual(cursors);
      expect(await store().links.findByExternalIds(c.id, second, 'Account', ['001A', '001B'])).toEqual([]);
      expect(await store().cursors.get(c.id, second, 'Account')).toBeNull();

      // Back on the first instance, its links are there again.
      await store().connections.setInstances(c.id, { 'sf-eu': first });
      expect(await store().links.findByExternalIds(c.id, first, 'Account', ['001A', '001B'])).toHaveLength(2);
      await expect(store().connections.setInstances(randomUUID(), { 'sf-eu': first })).rejects.toThrow(/no connection with id/);
    });
  });

  describe('forgetSynced', () => {
    it('removes the links, records and cursors of one connection only', async () => {
      const [a, b] = [await newConnection(), await newConnection()];
      const id = randomUUID();
      for (const c of [a, b]) {
        await store().links.upsertMany(c.id, [
          { entity: 'Account', canonicalId: id, instance: 'salesforce', object: 'Account', externalId: '001F' },
          { entity: 'Account', canonicalId: id, instance: 'hubspot', object: 'companies', externalId: '77' },
        ]);
        await store().records.upsertMany(c.id, [{ entity: 'Account', canonicalId: id, data: { name: 'F' }, hash: 'f' }]);
        await store().cursors.set(c.id, 'salesforce', 'Account', { modifiedAt: '2024-01-01T00:00:00.000Z', id: '001F' });
      }
      const run = await store().runs.start({ connectionId: a.id, mode: 'full' });
      const letter = await store().deadLetters.add({ connectionId: a.id, direction: 'read', system: 'salesforce', object: 'Account', externalId: '001G', payload: {}, reason: 'bad' });
      const [conflict] = await store().conflicts.openMany([{ connectionId: a.id, entity: 'Account', canonicalId: id, field: 'name', baseValue: null, sides: {} }]);
      expect(await counts(a.id)).toEqual({ links: 2, records: 1, cursors: 1 });

      await store().connections.forgetSynced(a.id);
      expect(await counts(a.id)).toEqual({ links: 0, records: 0, cursors: 0 });
      expect(await counts(b.id)).toEqual({ links: 2, records: 1, cursors: 1 });
      expect(await store().records.getMany(b.id, 'Account', [id])).toHaveLength(1);
      // What happened stays: runs, dead letters, conflicts.
      expect(await store().runs.get(run.id)).not.toBeNull();
      expect(await store().deadLetters.get(letter.id)).toMatchObject({ status: 'open' });
      expect(await store().conflicts.get(conflict.id)).toMatchObject({ status: 'open' });
      expect(await store().connections.get(a.id)).not.toBeNull();
    });
  });

  describe('hub state', () => {
    const sf = (canonicalId: string, externalId: string, lastHash: string | null = null) =>
      ({ entity: 'Account', canonicalId, instance: 'salesforce', object: 'Account', externalId, lastHash, lastModifiedAt: null });
    const hs = (canonicalId: string, externalId: string, lastHash: string | null = null) =>
      ({ entity: 'Account', canonicalId, instance: 'hubspot', object: 'companies', externalId, lastHash, lastModifiedAt: null });
    const readLetter = (externalId: string): DeadLetterInput => ({
      direction: 'read', system: 'salesforce', object: 'Account', externalId, canonicalId: null,
      payload: { Id: externalId }, reason: 'Name is required', errorCode: null, failingFields: ['name'], retryable: false,
    });
    const conflict = (canonicalId: string, field: string) => ({
      entity: 'Account', canonicalId, field, policy: 'manual', baseValue: 'base',
      sides: { salesforce: { value: 'sf', modifiedAt: null }, hubspot: { value: 'hs', modifiedAt: '2024-06-01T10:00:00.000Z' } },
    });
    const empty: Commit = { records: [], forgetLinks: [], links: [], deadLetters: [], conflicts: [] };

    it('reads and saves one connection\'s state: records, links, dead letters and conflicts in one commit', async () => {
      const c = await newConnection();
      const other = await newConnection();
      const hub = store().hub(c.id);
      const [x, y] = [randomUUID(), randomUUID()];
      expect(await hub.commit(empty)).toEqual({ stale: [] });
      const saved = await hub.commit({
        records: [
          { entity: 'Account', canonicalId: x, data: { name: 'X' }, hash: 'x1', deleted: false },
          { entity: 'Account', canonicalId: y, data: { name: 'Y' }, hash: 'y1', deleted: false },
        ],
        forgetLinks: [],
        links: [sf(x, '001X', 'x1'), hs(x, '90', 'x1'), sf(y, '001Y', 'y1')],
        deadLetters: [readLetter('001BAD')],
        conflicts: [conflict(x, 'name')],
      });
      expect(saved).toEqual({ stale: [] });

      expect((await hub.records('Account', [x, y])).map((r) => [r.canonicalId, r.hash, r.version]).sort())
        .toEqual([[x, 'x1', 1], [y, 'y1', 1]].sort());
      expect((await hub.linksByCanonicalIds('Account', [x])).map((l) => l.instance).sort()).toEqual(['hubspot', 'salesforce']);
      expect(await hub.linksByExternalIds('salesforce', 'Account', ['001Y'])).toMatchObject([{ canonicalId: y, lastHash: 'y1' }]);
      expect(await store().conflicts.list({ connectionId: c.id, status: 'open' })).toMatchObject([{ canonicalId: x, field: 'name', baseValue: 'base' }]);
      const letters = await hub.openDeadLetters();
      expect(letters).toMatchObject([{ direction: 'read', system: 'salesforce', object: 'Account', externalId: '001BAD', canonicalId: null, payload: { Id: '001BAD' } }]);
      expect(await store().deadLetters.get(letters[0].id)).toMatchObject({ connectionId: c.id, reason: 'Name is required', failingFields: ['name'] });

      // Nothing of it is another connection's.
      const otherHub = store().hub(other.id);
      expect(await otherHub.records('Account', [x, y])).toEqual([]);
      expect(await otherHub.linksByCanonicalIds('Account', [x, y])).toEqual([]);
      expect(await otherHub.linksByExternalIds('salesforce', 'Account', ['001X'])).toEqual([]);
      expect(await otherHub.openDeadLetters()).toEqual([]);
    });

    it('saves nothing of a record that moved on since it was planned, and everything of the others', async () => {
      const c = await newConnection();
      const hub = store().hub(c.id);
      const [x, y] = [randomUUID(), randomUUID()];
      await hub.commit({
        ...empty,
        records: [
          { entity: 'Account', canonicalId: x, data: { name: 'X' }, hash: 'x1', deleted: false },
          { entity: 'Account', canonicalId: y, data: { name: 'Y' }, hash: 'y1', deleted: false },
        ],
        links: [sf(x, '001X', 'x1'), hs(x, '90', 'x1'), sf(y, '001Y', 'y1'), hs(y, '91', 'y1')],
      });
      // Another writer changes x after this batch read it at version 1.
      await store().records.upsertMany(c.id, [{ entity: 'Account', canonicalId: x, data: { name: 'X by another' }, hash: 'x2' }]);

      const result = await hub.commit({
        records: [
          // Canonical ids are compared whatever their case.
          { entity: 'Account', canonicalId: x.toUpperCase(), data: { name: 'X3' }, hash: 'x3', deleted: false, expectedVersion: 1 },
          { entity: 'Account', canonicalId: y, data: { name: 'Y2' }, hash: 'y2', deleted: false, expectedVersion: 1 },
        ],
        // Both hubspot sides were deleted there and are replaced by new companies.
        forgetLinks: [
          { instance: 'hubspot', object: 'companies', externalId: '90', canonicalId: x },
          { instance: 'hubspot', object: 'companies', externalId: '91', canonicalId: y },
        ],
        links: [hs(x, '190', 'x3'), sf(x, '001X', 'x3'), hs(y, '191', 'y2'), sf(y, '001Y', 'y2')],
        deadLetters: [readLetter('001BAD')],
        conflicts: [conflict(x, 'website'), conflict(y, 'website')],
      });
      expect(result).toEqual({ stale: [x] });

      expect(await hub.records('Account', [x])).toMatchObject([{ hash: 'x2', version: 2, data: { name: 'X by another' } }]);
      expect(await hub.records('Account', [y])).toMatchObject([{ hash: 'y2', version: 2 }]);
      const sides = async (id: string) => (await hub.linksByCanonicalIds('Account', [id])).map((l) => [l.instance, l.externalId, l.lastHash]).sort();
      expect(await sides(x)).toEqual([['hubspot', '90', 'x1'], ['salesforce', '001X', 'x1']]);
      expect(await sides(y)).toEqual([['hubspot', '191', 'y2'], ['salesforce', '001Y', 'y2']]);
      expect((await store().conflicts.list({ connectionId: c.id, status: 'open' })).map((k) => k.canonicalId)).toEqual([y]);
      expect(await hub.openDeadLetters()).toMatchObject([{ externalId: '001BAD' }]);
    });

    it('saves nothing of a commit that fails', async () => {
      const c = await newConnection();
      const hub = store().hub(c.id);
      const z = randomUUID();
      // Two salesforce accounts for one canonical record break links_one_per_side.
      await expect(hub.commit({
        records: [{ entity: 'Account', canonicalId: z, data: {}, hash: 'z1', deleted: false }],
        forgetLinks: [],
        links: [sf(z, '001Z1'), sf(z, '001Z2')],
        deadLetters: [readLetter('001BAD')],
        conflicts: [conflict(z, 'name')],
      })).rejects.toMatchObject({ code: '23505' });
      expect(await hub.records('Account', [z])).toEqual([]);
      expect(await hub.linksByCanonicalIds('Account', [z])).toEqual([]);
      expect(await hub.openDeadLetters()).toEqual([]);
      expect(await store().conflicts.list({ connectionId: c.id })).toEqual([]);
    });

    it('keeps cursors per instance and object, null forgetting one', async () => {
      const c = await newConnection();
      const hub = store().hub(c.id);
      const cursor = { modifiedAt: '2024-05-01T00:00:00.000Z', id: '001C' };
      await hub.saveCursor('salesforce:00D000000000001AAA', 'Account', cursor);
      expect(await hub.cursor('salesforce:00D000000000001AAA', 'Account')).toEqual(cursor);
      expect(await hub.cursor('salesforce', 'Account')).toBeNull();
      expect(await store().hub((await newConnection()).id).cursor('salesforce:00D000000000001AAA', 'Account')).toBeNull();
      await hub.saveCursor('salesforce:00D000000000001AAA', 'Account', null);
      expect(await hub.cursor('salesforce:00D000000000001AAA', 'Account')).toBeNull();
      await hub.saveCursor('salesforce:00D000000000001AAA', 'Account', null);
    });

    it('hands out the connection\'s open dead letters, all or by id, and closes them', async () => {
      const c = await newConnection();
      const other = await newConnection();
      const hub = store().hub(c.id);
      await hub.commit({ ...empty, deadLetters: [readLetter('001A'), readLetter('001B'), readLetter('001C')] });
      await store().hub(other.id).commit({ ...empty, deadLetters: [readLetter('001A')] });
      const open = await hub.openDeadLetters();
      expect(open.map((l) => l.externalId).sort()).toEqual(['001A', '001B', '001C']);
      const id = (externalId: string) => open.find((l) => l.externalId === externalId)!.id;
      const [otherLetter] = await store().hub(other.id).openDeadLetters();

      // By id: only open letters of this connection; unknown ids are ignored.
      expect((await hub.openDeadLetters([id('001A'), otherLetter.id, randomUUID()])).map((l) => l.externalId)).toEqual(['001A']);

      await hub.closeDeadLetters([id('001A')], 'replayed');
      await hub.closeDeadLetters([id('001B')], 'discarded');
      await hub.closeDeadLetters([], 'discarded');
      expect(await store().deadLetters.get(id('001A'))).toMatchObject({ status: 'replayed' });
      expect(await store().deadLetters.get(id('001B'))).toMatchObject({ status: 'discarded' });
      expect(await hub.openDeadLetters([id('001A'), id('001B')])).toEqual([]);
      expect((await hub.openDeadLetters()).map((l) => l.externalId)).toEqual(['001C']);
      expect(await store().hub(other.id).openDeadLetters()).toHaveLength(1);
    });
  });

  describe('transactions', () => {
    let conn: Connection;
    beforeAll(async () => { conn = await newConnection(); });

    it('commits together or not at all, with the same grouped API', async () => {
      const kept = randomUUID();
      await store().transaction(async (tx) => {
        await tx.records.upsertMany(conn.id, [{ entity: 'Account', canonicalId: kept, data: {}, hash: 'k' }]);
        await tx.links.upsertMany(conn.id, [{ entity: 'Account', canonicalId: kept, instance: 'salesforce', object: 'Account', externalId: `tx-${kept}` }]);
      });
      expect(await store().records.getMany(conn.id, 'Account', [kept])).toHaveLength(1);

      const lost = randomUUID();
      await expect(store().transaction(async (tx) => {
        await tx.records.upsertMany(conn.id, [{ entity: 'Account', canonicalId: lost, data: {}, hash: 'l' }]);
        throw new Error('write to the target failed');
      })).rejects.toThrow('write to the target failed');
      expect(await store().records.getMany(conn.id, 'Account', [lost])).toEqual([]);
    });

    it('fails the whole transaction when a statement inside it failed, even if the error was caught', async () => {
      const id = randomUUID();
      const ext = `inner-${id}`;
      await store().links.upsertMany(conn.id, [{ entity: 'Account', canonicalId: id, instance: 'salesforce', object: 'Account', externalId: ext }]);
      await expect(store().transaction(async (tx) => {
        await tx.records.upsertMany(conn.id, [{ entity: 'Account', canonicalId: id, data: {}, hash: 'i' }]);
        await tx.links.upsertMany(conn.id, [{ entity: 'Account', canonicalId: id, instance: 'salesforce', object: 'Account', externalId: `${ext}-2` }])
          .catch(() => 'swallowed');
      })).rejects.toThrow(/rolled back|aborted/i);
      expect(await store().records.getMany(conn.id, 'Account', [id])).toEqual([]);
    });

    it('nests transactions on the raw Db as savepoints', async () => {
      const id = randomUUID();
      const insert = `INSERT INTO records (connection_id, entity, canonical_id, data, content_hash) VALUES ($1, 'Account', $2, '{}', 'n')`;
      await store().db.transaction(async (tx) => {
        await tx.query(insert, [conn.id, id]);
        await expect(tx.transaction(async (inner) => {
          await inner.query(insert, [conn.id, id]);
        })).rejects.toMatchObject({ code: '23505' });
      });
      expect(await store().records.getMany(conn.id, 'Account', [id])).toHaveLength(1);
    });
  });
});

describe('PostgreSQL: concurrent workers', () => {
  let t: TestStore;
  let connectionId: string;
  beforeAll(async () => {
    t = await openTestStore('postgres');
    connectionId = (await t.store.connections.create({ name: uniqueName('race'), ...SF_HS })).id;
  });
  afterAll(async () => { await t?.close(); });

  async function until(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('linking the same new external record twice converges on the first canonical id', async () => {
    const externalId = `race-${randomUUID()}`;
    const link = (canonicalId: string): LinkUpsert => ({ entity: 'Account', canonicalId, instance: 'salesforce', object: 'Account', externalId });
    const first = randomUUID();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let inserted!: () => void;
    const aHoldsRow = new Promise<void>((resolve) => { inserted = resolve; });
    const a = t.store.transaction(async (tx) => {
      await tx.links.upsertMany(connectionId, [link(first)]);
      inserted();
      await gate;
    });
    // B's statement starts only once A holds the new row (uncommitted), so its snapshot cannot see it.
    await aHoldsRow;
    const b = t.store.links.upsertMany(connectionId, [link(randomUUID())]);
    await until(async () => {
      const [row] = await t.store.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO links%'`);
      return row.n > 0;
    });
    release();
    await a;
    const [stored] = await b;
    expect(stored.canonicalId).toBe(first);
  });
});
