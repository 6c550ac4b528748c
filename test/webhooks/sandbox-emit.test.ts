import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@hubspot/api-client';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import * as hubspot from '../../connectors/hubspot/webhooks.js';
import * as salesforce from '../../connectors/salesforce/webhooks.js';
import { eventually } from '../support/temporal.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A receiver that records every POST and answers with the next planned status (204 when none is left). */
async function startReceiver(plan: number[] = []) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      res.writeHead(plan.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=a%3Ab`;
  return { url, received, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function hubspotWithReceiver(plan: number[] = [], options: Parameters<typeof startHubSpotSandbox>[0] = {}) {
  const receiver = await startReceiver(plan);
  closers.push(receiver.close);
  const hs: HubSpotSandbox = await startHubSpotSandbox({ companies: 2, ...options, webhooks: { targetUrl: receiver.url, clientSecret: 'app-secret', retryBaseMs: 10, ...options.webhooks } });
  closers.push(() => hs.close());
  return { hs, receiver };
}

const eventsOf = (r: Received) => JSON.parse(r.body) as hubspot.WebhookEvent[];

describe('HubSpot sandbox webhooks', () => {
  it('sends a user edit as a signed company.propertyChange batch from CRM_UI, and the seed data as nothing', async () => {
    const { hs, receiver } = await hubspotWithReceiver();
    const [company] = hs.state.live('companies');
    hs.state.update('companies', company.id, { name: 'Renamed Inc', domain: company.properties.domain ?? null });
    await hs.webhooks.idle();

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    const verdict = hubspot.verifySignatureV3({
      clientSecret: 'app-secret', method: 'POST', uri: receiver.url, body: request.body,
      signature: request.headers['x-hubspot-signature-v3'] as string, timestamp: request.headers['x-hubspot-request-timestamp'] as string, now: Date.now(),
    });
    expect(verdict).toEqual({ ok: true });
    // One event per property whose value changed; an unchanged one sends nothing.
    expect(eventsOf(request)).toEqual([expect.objectContaining({
      subscriptionType: 'company.propertyChange', objectId: company.idNum, propertyName: 'name', propertyValue: 'Renamed Inc',
      changeSource: 'CRM_UI', attemptNumber: 0, portalId: expect.any(Number), eventId: expect.any(Number), occurredAt: expect.any(Number),
    })]);
    expect(hs.webhooks.counters.snapshot()).toEqual({ events: 1, sent: 1 });
  });

  it('sends API writes as INTEGRATION: creation and deletion events, batched 100 to a request', async () => {
    const { hs, receiver } = await hubspotWithReceiver();
    const client = new Client({ accessToken: hs.accessToken, basePath: hs.url });
    const inputs = Array.from({ length: 100 }, (_, i) => ({ properties: { name: `Batch ${i}` }, associations: [] }));
    const [a, b] = await Promise.all([
      client.crm.companies.batchApi.create({ inputs }),
      client.crm.companies.batchApi.create({ inputs: inputs.slice(0, 50) }),
    ]);
    await client.crm.companies.basicApi.archive(a.results[0].id);
    await hs.webhooks.idle();

    const events = receiver.received.flatMap(eventsOf);
    expect(events.filter((e) => e.subscriptionType === 'company.creation')).toHaveLength(150);
    expect(events.filter((e) => e.subscriptionType === 'company.deletion')).toEqual([expect.objectContaining({ objectId: Number(a.results[0].id), changeSource: 'INTEGRATION', changeFlag: 'DELETED' })]);
    expect(new Set(events.map((e) => e.changeSource))).toEqual(new Set(['INTEGRATION']));
    expect(b.results).toHaveLength(50);
    // 151 events: at most 100 a request, so at least two requests, none larger.
    expect(receiver.received.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...receiver.received.map((r) => eventsOf(r).length))).toBe(100);
    expect(hs.webhooks.counters.get('events')).toBe(151);
  });

  it('retries a batch answered 5xx with a new signature and attemptNumber; a 4xx is final', async () => {
    const { hs, receiver } = await hubspotWithReceiver([503, 500]);
    const [company] = hs.state.live('companies');
    hs.state.update('companies', company.id, { name: 'Retry me' });
    await hs.webhooks.idle();
    expect(receiver.received.map((r) => eventsOf(r)[0].attemptNumber)).toEqual([0, 1, 2]);
    expect(hs.webhooks.counters.snapshot()).toEqual({ events: 1, retries: 2, sent: 1 });

    const refused = await hubspotWithReceiver([401]);
    refused.hs.state.update('companies', refused.hs.state.live('companies')[0].id, { name: 'Refused' });
    await refused.hs.webhooks.idle();
    expect(refused.receiver.received).toHaveLength(1);
    expect(refused.hs.webhooks.counters.snapshot()).toEqual({ failed: 1 });
  });

  it('drops deliveries under fault injection, and sends nothing without a target', async () => {
    const { hs, receiver } = await hubspotWithReceiver([], { webhooks: { faults: { dropRate: 1 } } });
    const [company] = hs.state.live('companies');
    hs.state.update('companies', company.id, { name: 'Lost' });
    await hs.webhooks.idle();
    expect(receiver.received).toHaveLength(0);
    expect(hs.webhooks.counters.get('dropped')).toBe(1);

    hs.webhooks.faults = {};
    hs.webhooks.configure(undefined);
    hs.state.update('companies', company.id, { name: 'Nowhere' });
    await hs.webhooks.idle();
    expect(receiver.received).toHaveLength(0);
    hs.webhooks.configure({ targetUrl: receiver.url, clientSecret: 'app-secret' });
    hs.state.update('companies', company.id, { name: 'Delivered' });
    await eventually(async () => receiver.received.length === 1, 5_000, 'the delivery after configure');
  });
});

describe('Salesforce sandbox change notifications', () => {
  async function salesforceWithReceiver(plan: number[] = []) {
    const receiver = await startReceiver(plan);
    closers.push(receiver.close);
    const sf: SalesforceSandbox = await startSalesforceSandbox({ accounts: 2, contactsPerAccount: 0, opportunitiesPerAccount: 0, webhooks: { targetUrl: receiver.url, secret: 'wh-secret', retryBaseMs: 10 } });
    closers.push(() => sf.close());
    return { sf, receiver };
  }

  it('sends user edits and API writes, with the API client as changeOrigin, signed with X-Ecosync-Signature', async () => {
    const { sf, receiver } = await salesforceWithReceiver();
    expect(sf.webhooks.counters.snapshot()).toEqual({});
    const created = sf.state.insert('Account', { Name: 'User Made' });
    sf.state.update('Account', created.Id as string, { Name: 'User Edited' });
    sf.state.update('Account', created.Id as string, { Name: 'By the hub' }, { client: 'ecosync' });
    sf.state.delete('Account', created.Id as string);
    await sf.webhooks.idle();

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(salesforce.verifySignature({ secret: 'wh-secret', header: request.headers['x-ecosync-signature'] as string, body: request.body, now: Date.now() })).toEqual({ ok: true });
    const batch = salesforce.parseChangeBatch(request.body);
    if ('error' in batch) throw new Error(batch.error);
    expect(batch.events.map((e) => [e.sobject, e.id, e.changeType, e.changeOrigin])).toEqual([
      ['Account', created.Id, 'CREATE', undefined],
      ['Account', created.Id, 'UPDATE', undefined],
      ['Account', created.Id, 'UPDATE', 'client=ecosync'],
      ['Account', created.Id, 'DELETE', undefined],
    ]);
  });

  it('retries on 5xx and counts what it gave up on', async () => {
    const { sf, receiver } = await salesforceWithReceiver([502, 502, 502, 502, 502]);
    sf.state.insert('Account', { Name: 'Unlucky' });
    await sf.webhooks.idle();
    expect(receiver.received).toHaveLength(5);
    expect(sf.webhooks.counters.snapshot()).toEqual({ failed: 1, retries: 4 });
  });
});
