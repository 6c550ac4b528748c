import { Client, Connection as TemporalConnection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../src/model/index.js';
import type { Connection } from '../../src/store/index.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { CRM_HUB } from '../support/hub.js';
import { problemText } from '../api/problem.js';
import { ADMIN_TOKEN, hourAgo, post, startApi } from './rig.js';

/**
 * The usage ingest route's contract, without Temporal (a lazy client that never connects; the
 * connection here meters to no cloud, so nothing is woken): a batch is validated whole, each bad
 * record named by its path, nothing kept from a bad batch, keys counted once.
 */
let db: TestStore;
let api: FastifyInstance;
let connection: Connection;
beforeAll(async () => {
  db = await openTestStore('pglite');
  const client = new Client({ connection: TemporalConnection.lazy({ address: '127.0.0.1:1' }) });
  api = await startApi(db.store, client, 'unused');
  connection = await db.store.connections.create({ name: 'usage-api', ...CRM_HUB, credentials: { salesforce: {}, hubspot: {} } });
});
afterAll(async () => {
  await api?.close();
  await db?.close();
});

const ACCOUNT = '0190f0a0-0000-7000-8000-000000000001';
const record = (key: string, over: Partial<UsageRecord> = {}): UsageRecord => ({
  accountId: ACCOUNT, cloud: 'aws', product: 'prod-abc', dimension: 'ApiCalls', quantity: '12', hour: hourAgo(2), dedupeKey: key, ...over,
});
const kept = async () => (await db.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_records'))[0].n;

describe('POST /connections/:name/usage', () => {
  it('keeps a batch once per key: a key sent again, in the batch or later, is counted once', async () => {
    const first = await post(api, '/connections/usage-api/usage', { records: [record('a'), record('b', { dimension: 'DataGB' }), record('a')] });
    expect(first).toEqual({ status: 200, body: { accepted: 2, duplicates: ['a'], woken: [] } });
    const again = await post(api, '/connections/usage-api/usage', { records: [record('b', { dimension: 'DataGB' }), record('c')] });
    expect(again.body).toEqual({ accepted: 1, duplicates: ['b'], woken: [] });
    expect(await kept()).toBe(3);
  });

  it('refuses the whole batch when a record is bad, naming each by its path, and keeps none of it', async () => {
    const before = await kept();
    const bad = await post(api, '/connections/usage-api/usage', {
      records: [record('ok-1'), record('bad-hour', { hour: '2026-12-07T14:30:00Z' }), record('bad-qty', { quantity: '-3' }), { ...record('extra'), colour: 'blue' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.records.1.hour', 'body.records.2.quantity', 'body.records.3']);
    expect(bad.body.errors[0].message).toMatch(/start of an hour/);
    expect(await kept()).toBe(before);

    // One key with two meanings in a batch: refused, the later record named.
    const conflict = await api.inject({
      method: 'POST', url: '/connections/usage-api/usage', headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { records: [record('k1'), record('k2'), record('k1', { quantity: '13' })] },
    });
    expect(conflict.statusCode).toBe(400);
    expect(problemText(conflict)).toBe('body.records.2.dedupeKey is not valid\nbody.records.2.dedupeKey: "k1" is the key of body.records.0 too, with other usage');
    expect(await kept()).toBe(before);

    const empty = await post(api, '/connections/usage-api/usage', { records: [] });
    expect(empty.body.errors).toEqual([{ path: 'body.records', message: expect.stringMatching(/>=1/) }]);
    const tooMany = await post(api, '/connections/usage-api/usage', { records: Array.from({ length: 1001 }, (_, i) => record(`n${i}`)) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([{ path: 'body.records', message: expect.stringMatching(/<=1000/) }]);
    expect(await kept()).toBe(before);
  });

  it('answers 404 for an unknown connection and 401 without a token; lists metering dead letters', async () => {
    expect((await post(api, '/connections/nope/usage', { records: [record('z')] })).status).toBe(404);
    const anonymous = await api.inject({ method: 'POST', url: '/connections/usage-api/usage', payload: { records: [record('z')] } });
    expect(anonymous.statusCode).toBe(401);
    const viewer = await api.inject({ method: 'GET', url: '/usage/deadletters?connection=usage-api', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(viewer.json()).toEqual({ deadLetters: [] });
    expect(connection.name).toBe('usage-api');
  });
});
