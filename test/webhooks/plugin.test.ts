import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import * as hubspot from '../../connectors/hubspot/webhooks.js';
import { buildApi } from '../../src/api/server.js';
import { webhooksPlugin, type WebhookDeps } from '../../src/api/webhooks/index.js';
import type { Store } from '../../src/store/index.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { eventually } from '../support/temporal.js';
import type { SyncRequest } from '../../workflows/sync-types.js';
import { problemText } from '../api/problem.js';
import { CRM_HUB } from '../support/hub.js';

/**
 * The plugin with a real store (its webhook inbox) and a fake Temporal client: what it signals,
 * and how it parses, without a server. The real-server behaviour is in webhooks-hub.test.ts.
 */
const SECRET = 'hs-secret';

let app: FastifyInstance | undefined;
let db: TestStore | undefined;
afterEach(async () => {
  await app?.close();
  await db?.close();
  app = undefined;
  db = undefined;
});

async function start(options: { enabled?: boolean; signal?: (request: SyncRequest) => Promise<void>; publicBaseUrl?: string; store?: (store: Store) => Store } = {}) {
  const signals: SyncRequest[] = [];
  db = await openTestStore('postgres');
  const connection = await db.store.connections.create({
    name: 'acme', ...CRM_HUB, deletePolicy: 'propagate', enabled: options.enabled ?? true,
    credentials: { hubspot: { accessToken: 'x', clientSecret: SECRET } },
  });
  const store = options.store ? options.store(db.store) : db.store;
  const deps: WebhookDeps = {
    store,
    sync: {
      taskQueue: 'q',
      client: { workflow: { signalWithStart: async (_type: string, o: { signalArgs: [SyncRequest] }) => { await options.signal?.(o.signalArgs[0]); signals.push(o.signalArgs[0]); } } } as unknown as Client,
    },
    publicBaseUrl: options.publicBaseUrl,
    inbox: { pollMs: 50, maxPauseMs: 50 },
  };
  app = await buildApi({
    log: pino({ level: 'silent' }),
    health: async () => ({}),
    plugins: [
      webhooksPlugin(deps),
      // A neighbour route group: JSON bodies must still be parsed there.
      (scope) => { scope.post('/echo', async (request) => ({ got: request.body })); },
    ],
  });
  await app.ready();
  /** Waits until the inbox is empty: every accepted request was handed over (or dropped). */
  const delivered = () => eventually(async () => (await db!.store.inbox.count()) === 0, 10_000, 'the inbox to be empty');
  return { app, signals, connection, delivered, store: db.store };
}

function post(target: FastifyInstance, path: string, events: unknown[], uri = `http://localhost:80${path}`) {
  const body = JSON.stringify(events);
  const headers = hubspot.signedHeaders({ clientSecret: SECRET, method: 'POST', uri, body, now: Date.now() });
  return target.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', host: 'localhost:80', ...headers }, payload: body });
}

const event = (subscriptionType: string, objectId: number) => ({ subscriptionType, objectId, occurredAt: Date.now() });

describe('webhook plugin', () => {
  it('signals once per request with the events’ entities coalesced, by name or id, with reason webhook', async () => {
    const { app, signals, connection, delivered } = await start();
    const response = await post(app, '/webhooks/hubspot/acme', [event('deal.propertyChange', 1), event('company.creation', 2), event('company.propertyChange', 2), event('ticket.creation', 3)]);
    expect(response.statusCode).toBe(204);
    await delivered();
    expect(signals).toEqual([expect.objectContaining({ reason: 'webhook', entities: ['Account', 'Opportunity'], sources: ['hubspot'], id: expect.any(String) })]);
    expect((await post(app, `/webhooks/hubspot/${connection.id}`, [event('contact.deletion', 4)])).statusCode).toBe(204);
    await delivered();
    expect(signals[1].entities).toEqual(['Contact']);
  });

  it('keeps the raw body to its own routes: a neighbour still gets parsed JSON', async () => {
    const { app } = await start();
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' });
    expect(response.json()).toEqual({ got: { a: 1 } });
  });

  it('verifies against the public base URL when one is set (a proxy in front)', async () => {
    const { app, signals, delivered } = await start({ publicBaseUrl: 'https://hub.example.com/' });
    const events = [event('company.creation', 1)];
    expect((await post(app, '/webhooks/hubspot/acme', events)).statusCode).toBe(401);
    expect((await post(app, '/webhooks/hubspot/acme', events, 'https://hub.example.com/webhooks/hubspot/acme')).statusCode).toBe(204);
    await delivered();
    expect(signals).toHaveLength(1);
  });

  it('accepts but signals nothing for a disabled connection or objects it does not sync', async () => {
    const disabled = await start({ enabled: false });
    expect((await post(disabled.app, '/webhooks/hubspot/acme', [event('company.creation', 1)])).statusCode).toBe(204);
    expect(await disabled.store.inbox.count()).toBe(0);
    expect(disabled.signals).toEqual([]);
    await disabled.app.close();
    await db!.close();
    const enabled = await start();
    expect((await post(enabled.app, '/webhooks/hubspot/acme', [event('ticket.propertyChange', 1)])).statusCode).toBe(204);
    expect(await enabled.store.inbox.count()).toBe(0);
    expect(enabled.signals).toEqual([]);
  });

  it('answers once the request is in the inbox, and hands it over when Temporal comes back', async () => {
    let down = true;
    const refused: SyncRequest[] = [];
    const { app, signals, delivered, store } = await start({ signal: async (request) => { if (down) { refused.push(request); throw new Error('connection refused'); } } });
    expect((await post(app, '/webhooks/hubspot/acme', [event('company.creation', 1)])).statusCode).toBe(204);
    expect((await post(app, '/webhooks/hubspot/acme', [event('contact.creation', 2)])).statusCode).toBe(204);
    expect(await store.inbox.count()).toBe(2);
    // The dispatcher keeps trying: wait for a try that carried both, then let Temporal answer.
    await eventually(async () => refused.some((r) => r.entities?.length === 2), 5_000, 'a refused signal carrying both requests');
    expect(signals).toEqual([]);
    down = false;
    await delivered();
    // Both waited together: one signal asks for both entities, from the earlier receipt.
    expect(signals).toEqual([expect.objectContaining({ reason: 'webhook', entities: ['Account', 'Contact'], sources: ['hubspot'] })]);
  });

  it('shares a signal among the webhooks that arrive while one is in flight', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let calls = 0;
    const { app, signals, delivered } = await start({ signal: async () => { if (calls++ === 0) await held; } });
    expect((await post(app, '/webhooks/hubspot/acme', [event('company.creation', 1)])).statusCode).toBe(204);
    await eventually(async () => calls === 1, 5_000, 'the first signal to be in flight');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(app, '/webhooks/hubspot/acme', [event(i % 2 ? 'contact.creation' : 'deal.creation', 10 + i)])));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(204));
    release();
    await delivered();
    expect(signals).toHaveLength(2);
    expect([...signals[1].entities!].sort()).toEqual(['Contact', 'Opportunity']);
  });

  it('answers 503 when the store cannot take the request, so HubSpot retries, and stores nothing', async () => {
    const { app, signals, store } = await start({
      store: (real) => ({ ...real, inbox: { ...real.inbox, add: async () => { throw new Error('connection refused'); } } }),
    });
    const response = await post(app, '/webhooks/hubspot/acme', [event('company.creation', 1)]);
    expect(response.statusCode).toBe(503);
    expect(problemText(response)).toBe('the sync service is unavailable; retry later');
    expect(await store.inbox.count()).toBe(0);
    expect(signals).toEqual([]);
  });
});
