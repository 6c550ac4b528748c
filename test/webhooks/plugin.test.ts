import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import * as hubspot from '../../connectors/hubspot/webhooks.js';
import { buildApi } from '../../src/api/server.js';
import { webhooksPlugin, type WebhookDeps } from '../../src/api/webhooks/index.js';
import type { Connection } from '../../src/store/index.js';
import type { SyncRequest } from '../../workflows/sync-types.js';
import { problemText } from '../api/problem.js';
import { CRM_HUB } from '../support/hub.js';

/**
 * The plugin with a fake store and a fake Temporal client: what it signals, and how it parses,
 * without a server. The real-server behaviour is in webhooks-hub.test.ts.
 */
const SECRET = 'hs-secret';
const connection: Connection = {
  id: '2b0c56f0-3c1b-4b1e-9d59-1f1f3e6f2a10', name: 'acme', systems: CRM_HUB.systems.map((s) => ({ ...s, role: s.role ?? 'both', instance: null })),
  entities: CRM_HUB.entities, deletePolicy: 'propagate', conflictPolicy: 'last-writer-wins', updateAfterDelete: 'skip', scheduleSeconds: null, enabled: true,
  hasCredentials: true, credentialsKeyId: 'k1', createdAt: '', updatedAt: '',
};

let app: FastifyInstance | undefined;
afterEach(async () => { await app?.close(); app = undefined; });

async function start(options: { enabled?: boolean; signal?: () => Promise<void>; publicBaseUrl?: string } = {}) {
  const signals: SyncRequest[] = [];
  const conn = { ...connection, enabled: options.enabled ?? true };
  const deps: WebhookDeps = {
    store: { connections: {
      getByName: async (name) => (name === conn.name ? conn : null),
      get: async (id) => (id === conn.id ? conn : null),
      getCredentials: async () => ({ hubspot: { accessToken: 'x', clientSecret: SECRET } }),
    } },
    sync: {
      taskQueue: 'q',
      client: { workflow: { signalWithStart: async (_type: string, o: { signalArgs: [SyncRequest] }) => { await options.signal?.(); signals.push(o.signalArgs[0]); } } } as unknown as Client,
    },
    publicBaseUrl: options.publicBaseUrl,
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
  return { app, signals };
}

function post(target: FastifyInstance, path: string, events: unknown[], uri = `http://localhost:80${path}`) {
  const body = JSON.stringify(events);
  const headers = hubspot.signedHeaders({ clientSecret: SECRET, method: 'POST', uri, body, now: Date.now() });
  return target.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', host: 'localhost:80', ...headers }, payload: body });
}

const event = (subscriptionType: string, objectId: number) => ({ subscriptionType, objectId, occurredAt: Date.now() });

describe('webhook plugin', () => {
  it('signals once per request with the events’ entities coalesced, by name or id, with reason webhook', async () => {
    const { app, signals } = await start();
    const response = await post(app, '/webhooks/hubspot/acme', [event('deal.propertyChange', 1), event('company.creation', 2), event('company.propertyChange', 2), event('ticket.creation', 3)]);
    expect(response.statusCode).toBe(204);
    expect(signals).toEqual([expect.objectContaining({ reason: 'webhook', entities: ['Account', 'Opportunity'], id: expect.any(String) })]);
    expect((await post(app, `/webhooks/hubspot/${connection.id}`, [event('contact.deletion', 4)])).statusCode).toBe(204);
    expect(signals[1].entities).toEqual(['Contact']);
  });

  it('keeps the raw body to its own routes: a neighbour still gets parsed JSON', async () => {
    const { app } = await start();
    const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' });
    expect(response.json()).toEqual({ got: { a: 1 } });
  });

  it('verifies against the public base URL when one is set (a proxy in front)', async () => {
    const { app, signals } = await start({ publicBaseUrl: 'https://hub.example.com/' });
    const events = [event('company.creation', 1)];
    expect((await post(app, '/webhooks/hubspot/acme', events)).statusCode).toBe(401);
    expect((await post(app, '/webhooks/hubspot/acme', events, 'https://hub.example.com/webhooks/hubspot/acme')).statusCode).toBe(204);
    expect(signals).toHaveLength(1);
  });

  it('accepts but signals nothing for a disabled connection or objects it does not sync', async () => {
    const disabled = await start({ enabled: false });
    expect((await post(disabled.app, '/webhooks/hubspot/acme', [event('company.creation', 1)])).statusCode).toBe(204);
    expect(disabled.signals).toEqual([]);
    await disabled.app.close();
    const enabled = await start();
    expect((await post(enabled.app, '/webhooks/hubspot/acme', [event('ticket.propertyChange', 1)])).statusCode).toBe(204);
    expect(enabled.signals).toEqual([]);
  });

  it('answers 503 when Temporal cannot take the signal, so HubSpot retries', async () => {
    const { app } = await start({ signal: async () => { throw new Error('connection refused'); } });
    const response = await post(app, '/webhooks/hubspot/acme', [event('company.creation', 1)]);
    expect(response.statusCode).toBe(503);
    expect(problemText(response)).toBe('the sync service is unavailable; retry later');
  });
});
