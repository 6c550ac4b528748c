import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, describe, vi } from 'vitest';
import { generateSecretKey, makeKeyring, storeOn, type Connection, type LinkUpsert } from '../../src/store/index.js';
import { openTestStore, testKeys, TEST_KEY, withStores, type TestStore } from './stores.js';

const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

withStores(({ store }) => {
  async function newConnection(credentials?: Record<string, unknown>): Promise<Connection> {
    return store().connections.create({
      name: uniqueName('sf-to-hs'), sourceSystem: 'salesforce', targetSystem: 'hubspot', mode: 'bidirectional',
      objects: [{ entity: 'Account', sourceObject: 'Account', targetObject: 'companies', sourceMapping: 'salesforce.Account.yaml', targetMapping: 'hubspot.companies.yaml' }],
      deletePolicy: 'propagate', scheduleSeconds: 300, credentials,
    });
  }

  describe('connections', () => {
    it('creates, finds, lists, updates and deletes', async () => {
      const c = await newConnection();
      expect(c).toMatchObject({ sourceSystem: 'salesforce', targetSystem: 'hubspot', mode: 'bidirectional', deletePolicy: 'propagate',
        conflictPolicy: 'last-writer-wins', scheduleSeconds: 300, enabled: true, hasCredentials: false });
      expect(c.objects[0].targetObject).toBe('companies');
      expect(await store().connections.get(c.id)).toEqual(c);
      expect(await store().connections.getByName(c.name)).toEqual(c);

      const updated = await store().connections.update(c.id, { enabled: false, conflictPolicy: 'source-wins', scheduleSeconds: null });
      expect(updated).toMatchObject({ enabled: false, conflictPolicy: 'source-wins', scheduleSeconds: null, name: c.name });
      expect((await store().connections.list({ enabled: false })).map((x) => x.id)).toContain(c.id);
      expect((await store().connections.list({ enabled: true })).map((x) => x.id)).not.toContain(c.id);

      await store().cursors.set(c.id, 'salesforce', 'Account', { modifiedAt: '2024-01-01T00:00:00.000Z', id: '001' });
      expect(await store().connections.delete(c.id)).toBe(true);
      expect(await store().connections.get(c.id)).toBeNull();
      expect(await store().cursors.get(c.id, 'salesforce', 'Account')).toBeNull();
      expect(await store().connections.delete(c.id)).toBe(false);
    });

    it('refuses a second connection with the same name', async () => {
      const c = await newConnection();
      await expect(store().connections.create({ name: c.name, sourceSystem: 'a', targetSystem: 'b', mode: 'one-way' }))
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
        await expect(withoutKey.connections.create({ name: uniqueName('x'), sourceSystem: 'a', targetSystem: 'b', mode: 'one-way', credentials: { a: 1 } }))
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
      const c1 = await local.connections.create({ name: uniqueName('rot'), sourceSystem: 'a', targetSystem: 'b', mode: 'one-way', credentials: { token: 'one' } });
      const c2 = await local.connections.create({ name: uniqueName('rot'), sourceSystem: 'a', targetSystem: 'b', mode: 'one-way', credentials: { token: 'two' } });
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
    const link = (canonicalId: string, externalId: string, extra: Partial<LinkUpsert> = {}): LinkUpsert => ({
      entity: 'Account', canonicalId, system: 'salesforce', object: 'Account', externalId, ...extra,
    });

    it('upserts idempotently and bumps the version only when the side changes', async () => {
      const ids = [randomUUID(), randomUUID()];
      const ext = [`001${randomUUID().slice(0, 8)}`, `001${randomUUID().slice(0, 8)}`];
      const first = await store().links.upsertMany([link(ids[0], ext[0], { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' }), link(ids[1], ext[1])]);
      expect(first.map((l) => [l.canonicalId, l.externalId, l.version])).toEqual([[ids[0], ext[0], 1], [ids[1], ext[1], 1]]);
      expect(first[0].lastModifiedAt).toBe('2024-05-01T10:00:00.000Z');

      const again = await store().links.upsertMany([link(ids[0], ext[0], { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' }), link(ids[1], ext[1])]);
      expect(again).toEqual(first);

      const changed = await store().links.upsertMany([link(ids[0], ext[0], { lastHash: 'h2' })]);
      expect(changed[0]).toMatchObject({ lastHash: 'h2', lastModifiedAt: '2024-05-01T10:00:00.000Z', version: 2 });
      const count = await store().db.query<{ n: number }>('SELECT count(*)::int AS n FROM links WHERE canonical_id = ANY($1::uuid[])', [ids]);
      expect(count[0].n).toBe(2);
    });

    it('saveMany writes like upsertMany without reading back, and leaves unchanged links alone', async () => {
      const id = randomUUID();
      const ext = `001${randomUUID().slice(0, 8)}`;
      await store().links.saveMany([link(id, ext, { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' })]);
      await store().links.saveMany([link(id, ext, { lastHash: 'h1', lastModifiedAt: '2024-05-01T10:00:00Z' })]);
      let [saved] = await store().links.findByExternalIds('salesforce', 'Account', [ext]);
      expect(saved).toMatchObject({ canonicalId: id, lastHash: 'h1', version: 1 });
      await store().links.saveMany([link(id, ext, { lastHash: 'h2' })]);
      [saved] = await store().links.findByExternalIds('salesforce', 'Account', [ext]);
      expect(saved).toMatchObject({ lastHash: 'h2', lastModifiedAt: '2024-05-01T10:00:00.000Z', version: 2 });
    });

    it('keeps the first canonical id of an external record, so racing workers converge', async () => {
      const ext = `001${randomUUID().slice(0, 8)}`;
      const winner = randomUUID();
      await store().links.upsertMany([link(winner, ext)]);
      const [stored] = await store().links.upsertMany([link(randomUUID(), ext)]);
      expect(stored.canonicalId).toBe(winner);
    });

    it('refuses a second external id for the same canonical record and system object', async () => {
      const id = randomUUID();
      await store().links.upsertMany([link(id, `001${randomUUID().slice(0, 8)}`)]);
      await expect(store().links.upsertMany([link(id, `001${randomUUID().slice(0, 8)}`)])).rejects.toMatchObject({ code: '23505' });
      // The same canonical record in another system is fine.
      const [other] = await store().links.upsertMany([link(id, '12345', { system: 'hubspot', object: 'companies' })]);
      expect(other.canonicalId).toBe(id);
    });

    it('looks many up in one call, by external or canonical id', async () => {
      const ids = Array.from({ length: 5 }, () => randomUUID());
      const sf = ids.map((id, i) => link(id, `sf-${id}-${i}`));
      const hs = ids.slice(0, 3).map((id, i) => link(id, `hs-${id}-${i}`, { system: 'hubspot', object: 'companies' }));
      await store().links.upsertMany([...sf, ...hs]);

      const found = await store().links.findByExternalIds('salesforce', 'Account', [sf[1].externalId, sf[3].externalId, 'missing']);
      expect(found.map((l) => l.canonicalId).sort()).toEqual([ids[1], ids[3]].sort());
      expect(await store().links.findByExternalIds('hubspot', 'companies', [sf[1].externalId])).toEqual([]);

      const sides = await store().links.findByCanonicalIds('Account', ids.slice(0, 2));
      expect(sides).toHaveLength(4);
      const onlyHubspot = await store().links.findByCanonicalIds('Account', ids, 'hubspot');
      expect(onlyHubspot.map((l) => l.externalId).sort()).toEqual(hs.map((l) => l.externalId).sort());
      expect(await store().links.findByCanonicalIds('Contact', ids)).toEqual([]);
      expect(await store().links.findByExternalIds('salesforce', 'Account', [])).toEqual([]);

      expect(await store().links.deleteByExternalIds('hubspot', 'companies', [hs[0].externalId])).toBe(1);
      expect(await store().links.findByCanonicalIds('Account', [ids[0]], 'hubspot')).toEqual([]);
    });

    it('takes the last of duplicate keys in one batch', async () => {
      const id = randomUUID();
      const ext = `dup-${id}`;
      const stored = await store().links.upsertMany([link(id, ext, { lastHash: 'a' }), link(id, ext, { lastHash: 'b' })]);
      expect(stored).toHaveLength(1);
      expect(stored[0].lastHash).toBe('b');
    });
  });

  describe('records', () => {
    it('creates, updates, leaves unchanged data alone and bumps the version on every change', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const created = await store().records.upsertMany([
        { entity: 'Account', canonicalId: a, data: { name: 'Acme' }, hash: 'h1' },
        { entity: 'Account', canonicalId: b, data: { name: 'Globex' }, hash: 'g1' },
      ]);
      expect(created.map((r) => [r.outcome, r.version])).toEqual([['created', 1], ['created', 1]]);

      const second = await store().records.upsertMany([
        { entity: 'Account', canonicalId: a, data: { name: 'Acme Corp' }, hash: 'h2' },
        { entity: 'Account', canonicalId: b, data: { name: 'Globex' }, hash: 'g1' },
      ]);
      expect(second.map((r) => [r.outcome, r.version])).toEqual([['updated', 2], ['unchanged', 1]]);

      const deleted = await store().records.upsertMany([{ entity: 'Account', canonicalId: a, data: { name: 'Acme Corp' }, hash: 'h2', deleted: true }]);
      expect(deleted[0]).toMatchObject({ outcome: 'updated', version: 3 });

      const rows = await store().records.getMany('Account', [a, b, randomUUID()]);
      const byId = new Map(rows.map((r) => [r.canonicalId, r]));
      expect(byId.get(a)).toMatchObject({ data: { name: 'Acme Corp' }, hash: 'h2', version: 3, deleted: true });
      expect(byId.get(b)).toMatchObject({ data: { name: 'Globex' }, hash: 'g1', version: 1, deleted: false });
      expect(rows).toHaveLength(2);
      expect(await store().records.getMany('Contact', [a])).toEqual([]);
    });

    it('skips a write based on a version that has moved on', async () => {
      const id = randomUUID();
      await store().records.upsertMany([{ entity: 'Opportunity', canonicalId: id, data: { amount: '10.00' }, hash: 'x1' }]);
      await store().records.upsertMany([{ entity: 'Opportunity', canonicalId: id, data: { amount: '20.00' }, hash: 'x2', expectedVersion: 1 }]);
      const [stale] = await store().records.upsertMany([{ entity: 'Opportunity', canonicalId: id, data: { amount: '30.00' }, hash: 'x3', expectedVersion: 1 }]);
      expect(stale).toMatchObject({ outcome: 'stale', version: 2 });
      const [current] = await store().records.getMany('Opportunity', [id]);
      expect(current).toMatchObject({ hash: 'x2', version: 2 });
      const [ok] = await store().records.upsertMany([{ entity: 'Opportunity', canonicalId: id, data: { amount: '30.00' }, hash: 'x3', expectedVersion: 2 }]);
      expect(ok).toMatchObject({ outcome: 'updated', version: 3 });
    });
    it('finds live records by a field, case-insensitively, nested paths included', async () => {
      const tag = randomUUID().slice(0, 8);
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await store().records.upsertMany([
        { entity: 'Account', canonicalId: a, data: { name: 'Acme', domain: `acme-${tag}.example.com`, billingAddress: { city: `Paris ${tag}` } }, hash: 'a' },
        { entity: 'Account', canonicalId: b, data: { name: 'Globex', domain: `globex-${tag}.example.com` }, hash: 'b' },
        { entity: 'Account', canonicalId: c, data: { name: 'Gone', domain: `acme-${tag}.example.com` }, hash: 'c', deleted: true },
      ]);
      const byDomain = await store().records.findByField('Account', 'domain', [` ACME-${tag}.example.com`, `missing-${tag}`]);
      expect(byDomain.map((r) => r.canonicalId)).toEqual([a]);
      expect((await store().records.findByField('Account', 'billingAddress.city', [`paris ${tag}`])).map((r) => r.canonicalId)).toEqual([a]);
      expect(await store().records.findByField('Contact', 'domain', [`acme-${tag}.example.com`])).toEqual([]);
      expect(await store().records.findByField('Account', 'domain', ['', '  '])).toEqual([]);
    });
  });

  describe('cursors', () => {
    it('stores one compound cursor per connection, system and object', async () => {
      const c = await newConnection();
      expect(await store().cursors.get(c.id, 'salesforce', 'Account')).toBeNull();
      await store().cursors.set(c.id, 'salesforce', 'Account', { modifiedAt: '2024-01-01T00:00:00.000Z', id: '001A' });
      await store().cursors.set(c.id, 'salesforce', 'Account', { modifiedAt: '2024-01-02T00:00:00.000Z', id: '001B' });
      await store().cursors.set(c.id, 'hubspot', 'companies', { modifiedAt: '2024-01-03T00:00:00.000Z', id: '9' });
      expect(await store().cursors.get(c.id, 'salesforce', 'Account')).toEqual({ modifiedAt: '2024-01-02T00:00:00.000Z', id: '001B' });
      expect((await store().cursors.list(c.id)).map((e) => [e.system, e.object, e.cursor.id])).toEqual([
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

  describe('conflicts', () => {
    it('keeps one open conflict per field and resolves it by side or by hand', async () => {
      const c = await newConnection();
      const id = randomUUID();
      const conflict = (sfValue: string) => ({
        connectionId: c.id, entity: 'Account', canonicalId: id, field: 'name', baseValue: 'Acme',
        sides: { salesforce: { value: sfValue, modifiedAt: '2024-06-01T10:00:00Z' }, hubspot: { value: 'ACME Inc', modifiedAt: '2024-06-01T10:00:05Z' } },
      });
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
  });

  describe('transactions', () => {
    it('commits together or not at all, with the same grouped API', async () => {
      const kept = randomUUID();
      await store().transaction(async (tx) => {
        await tx.records.upsertMany([{ entity: 'Account', canonicalId: kept, data: {}, hash: 'k' }]);
        await tx.links.upsertMany([{ entity: 'Account', canonicalId: kept, system: 'salesforce', object: 'Account', externalId: `tx-${kept}` }]);
      });
      expect(await store().records.getMany('Account', [kept])).toHaveLength(1);

      const lost = randomUUID();
      await expect(store().transaction(async (tx) => {
        await tx.records.upsertMany([{ entity: 'Account', canonicalId: lost, data: {}, hash: 'l' }]);
        throw new Error('write to the target failed');
      })).rejects.toThrow('write to the target failed');
      expect(await store().records.getMany('Account', [lost])).toEqual([]);
    });

    it('fails the whole transaction when a statement inside it failed, even if the error was caught', async () => {
      const id = randomUUID();
      const ext = `inner-${id}`;
      await store().links.upsertMany([{ entity: 'Account', canonicalId: id, system: 'salesforce', object: 'Account', externalId: ext }]);
      await expect(store().transaction(async (tx) => {
        await tx.records.upsertMany([{ entity: 'Account', canonicalId: id, data: {}, hash: 'i' }]);
        await tx.links.upsertMany([{ entity: 'Account', canonicalId: id, system: 'salesforce', object: 'Account', externalId: `${ext}-2` }])
          .catch(() => 'swallowed');
      })).rejects.toThrow(/rolled back|aborted/i);
      expect(await store().records.getMany('Account', [id])).toEqual([]);
    });

    it('nests transactions on the raw Db as savepoints', async () => {
      const id = randomUUID();
      await store().db.transaction(async (tx) => {
        await tx.query(`INSERT INTO records (entity, canonical_id, data, content_hash) VALUES ('Account', $1, '{}', 'n')`, [id]);
        await expect(tx.transaction(async (inner) => {
          await inner.query(`INSERT INTO records (entity, canonical_id, data, content_hash) VALUES ('Account', $1, '{}', 'n')`, [id]);
        })).rejects.toMatchObject({ code: '23505' });
      });
      expect(await store().records.getMany('Account', [id])).toHaveLength(1);
    });
  });
});

describe('PostgreSQL: concurrent workers', () => {
  let t: TestStore;
  beforeAll(async () => { t = await openTestStore('postgres'); });
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
    const link = (canonicalId: string): LinkUpsert => ({ entity: 'Account', canonicalId, system: 'salesforce', object: 'Account', externalId });
    const first = randomUUID();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let inserted!: () => void;
    const aHoldsRow = new Promise<void>((resolve) => { inserted = resolve; });
    const a = t.store.transaction(async (tx) => {
      await tx.links.upsertMany([link(first)]);
      inserted();
      await gate;
    });
    // B's statement starts only once A holds the new row (uncommitted), so its snapshot cannot see it.
    await aHoldsRow;
    const b = t.store.links.upsertMany([link(randomUUID())]);
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
