import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import * as hubspot from '../../connectors/hubspot/webhooks.js';
import * as salesforce from '../../connectors/salesforce/webhooks.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { connectionWorkflowId } from '../../workflows/sync-types.js';
import { crmCredentials, startTestTemporal } from '../support/hub.js';
import { eventually } from '../support/temporal.js';
import { HUBSPOT_CLIENT_SECRET, SALESFORCE_WEBHOOK_SECRET, startWebhookHub, type WebhookHub } from './hub.js';
import { problemText } from '../api/problem.js';

/** Write calls a sandbox received (reads excluded). */
const hubspotWrites = (w: WebhookHub) => w.hub.hs.counters.sum(/batch\.(create|update|upsert|archive)$|associations\.(put|batch\.associate)$|\.(create|update|archive)$/);
const salesforceWrites = (w: WebhookHub) => w.hub.sf.counters.sum(/^composite\.(create|update|upsert|delete)$|^sobject\.(create|update|delete|upsert)$/);

function postHubSpot(url: string, body: string, options: { secret?: string; now?: number; signature?: string } = {}) {
  const headers = hubspot.signedHeaders({ clientSecret: options.secret ?? HUBSPOT_CLIENT_SECRET, method: 'POST', uri: url, body, now: options.now ?? Date.now() });
  if (options.signature) headers['X-HubSpot-Signature-v3'] = options.signature;
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

function postSalesforce(url: string, body: string, options: { secret?: string; now?: number } = {}) {
  const signature = salesforce.signatureHeader(options.secret ?? SALESFORCE_WEBHOOK_SECRET, body, options.now ?? Date.now());
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Ecosync-Signature': signature }, body });
}

const companyEvent = (objectId: number | string) => ({ subscriptionType: 'company.propertyChange', objectId: Number(objectId), occurredAt: Date.now(), propertyName: 'name', propertyValue: 'x', changeSource: 'CRM_UI' });
const accountEvent = (id: string) => ({ sobject: 'Account', id, changeType: 'UPDATE', commitTimestamp: Date.now() });

describe('webhooks on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
  });
  afterAll(async () => { await env?.teardown(); });

  async function workflowExists(connectionId: string): Promise<boolean> {
    try {
      await env.client.workflow.getHandle(connectionWorkflowId(connectionId)).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  it('refuses a bad signature, a stale timestamp, a malformed body, an unknown connection and a connection without a secret — and starts nothing', async () => {
    const w = await startWebhookHub(env, bundle);
    try {
      const body = JSON.stringify([companyEvent(1)]);
      const sfBody = JSON.stringify({ events: [accountEvent('001000000000001AAA')] });
      const noSecret = await w.hub.connect({ credentials: crmCredentials(w.hub.sf, w.hub.hs) });
      const refusals: Array<[string, Promise<Response>, number]> = [
        ['hubspot: wrong secret', postHubSpot(w.hubspotUrl, body, { secret: 'not-the-secret' }), 401],
        ['hubspot: forged signature', postHubSpot(w.hubspotUrl, body, { signature: 'AAAA' }), 401],
        ['hubspot: no signature', fetch(w.hubspotUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body }), 401],
        ['hubspot: six minutes old', postHubSpot(w.hubspotUrl, body, { now: Date.now() - 6 * 60_000 }), 401],
        ['hubspot: not JSON', postHubSpot(w.hubspotUrl, '[{"subscriptionType":'), 400],
        ['hubspot: not a batch', postHubSpot(w.hubspotUrl, JSON.stringify({ objectId: 1 })), 400],
        ['hubspot: unknown connection', postHubSpot(`${w.apiUrl}/webhooks/hubspot/no-such-connection`, body), 404],
        ['hubspot: no clientSecret', postHubSpot(`${w.apiUrl}/webhooks/hubspot/${noSecret.name}`, body), 401],
        ['salesforce: wrong secret', postSalesforce(w.salesforceUrl, sfBody, { secret: 'nope' }), 401],
        ['salesforce: six minutes old', postSalesforce(w.salesforceUrl, sfBody, { now: Date.now() - 6 * 60_000 }), 401],
        ['salesforce: not a batch', postSalesforce(w.salesforceUrl, JSON.stringify({ events: [{ sobject: 'Account' }] })), 400],
        ['salesforce: unknown connection', postSalesforce(`${w.apiUrl}/webhooks/salesforce/no-such-connection`, sfBody), 404],
        ['salesforce: no webhookSecret', postSalesforce(`${w.apiUrl}/webhooks/salesforce/${noSecret.name}`, sfBody), 401],
      ];
      for (const [what, response, status] of refusals) {
        const answer = await response;
        expect(answer.status, what).toBe(status);
        expect(problemText(answer, await answer.json()), what).not.toBe('');
      }
      expect(w.receipts).toEqual([]);
      expect(await workflowExists(w.connection.id)).toBe(false);
      expect(await workflowExists(noSecret.id)).toBe(false);

      // The same request, signed right, is accepted and does start the connection's workflow.
      const accepted = await postHubSpot(w.hubspotUrl, body);
      expect(accepted.status).toBe(204);
      expect(w.receipts).toEqual([expect.objectContaining({ system: 'hubspot', entities: ['Account'], recordIds: ['1'], events: 1 })]);
      await eventually(async () => workflowExists(w.connection.id), 10_000, "the connection workflow to start");
      // Events about objects the connection does not sync are accepted and signal nothing.
      const tickets = await postSalesforce(`${w.apiUrl}/webhooks/salesforce/${w.connection.id}`, JSON.stringify({ events: [{ ...accountEvent('500000000000001AAA'), sobject: 'Case' }] }));
      expect(tickets.status).toBe(204);
      expect(w.receipts.at(-1)).toMatchObject({ system: 'salesforce', entities: [] });
    } finally {
      await w.close();
    }
  });

  it('a user edit in HubSpot reaches Salesforce through the webhook alone, and one in Salesforce reaches HubSpot', async () => {
    const w = await startWebhookHub(env, bundle, { sf: { accounts: 3, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
    try {
      const first = await w.hub.sync(w.connection);
      expect(first.status, first.error).toBe('succeeded');
      const [a, b] = [...w.hub.sf.state.org.table('Account').byId.values()].map((v) => String(v.fields.Id));
      const twinOf = (sfId: string) => w.hub.hubspotTwin('Account', sfId, 'companies')!;
      expect(twinOf(a)).toBeDefined();
      w.emitWebhooks();

      w.hub.hs.state.update('companies', twinOf(a).id, { name: 'Renamed in HubSpot' });
      await eventually(async () => w.hub.sf.state.get('Account', a)?.Name === 'Renamed in HubSpot', 15_000, 'the HubSpot edit in Salesforce');
      expect(w.receipts.find((r) => r.system === 'hubspot')).toMatchObject({ entities: ['Account'], recordIds: [twinOf(a).id] });

      w.hub.sf.state.update('Account', b, { Name: 'Renamed in Salesforce' });
      await eventually(async () => twinOf(b).properties.name === 'Renamed in Salesforce', 15_000, 'the Salesforce edit in HubSpot');
      expect(w.receipts.some((r) => r.system === 'salesforce' && r.recordIds.includes(b))).toBe(true);
    } finally {
      await w.close();
    }
  });

  it('a bidirectional pair quiesces under webhooks: echoes of the hub’s own writes write nothing', async () => {
    const w = await startWebhookHub(env, bundle, { sf: { accounts: 6, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
    try {
      // Webhooks on from the start: the first sync's own writes in HubSpot come back as webhooks too.
      w.emitWebhooks();
      expect((await w.hub.sync(w.connection)).status).toBe('succeeded');
      const ids = [...w.hub.sf.state.org.table('Account').byId.values()].map((v) => String(v.fields.Id));
      const twinOf = (sfId: string) => w.hub.hubspotTwin('Account', sfId, 'companies')!;

      const quiet = async () => {
        await Promise.all([w.hub.hs.webhooks.idle(), w.hub.sf.webhooks.idle()]);
        const status = await w.hub.status(w.connection);
        const last = status?.lastRun?.counters;
        return status?.phase === 'idle' && status.pending === 0 && last !== undefined && last.created + last.updated + last.deleted === 0;
      };
      await eventually(quiet, 20_000, 'the first sync’s echoes to settle');
      const [hsBefore, sfBefore] = [hubspotWrites(w), salesforceWrites(w)];

      // A burst: users edit three records in each system, three times each.
      let edits = 0;
      for (let round = 1; round <= 3; round++) {
        for (const id of ids.slice(0, 3)) w.hub.hs.state.update('companies', twinOf(id).id, { name: `HubSpot edit ${round} of ${id}` });
        for (const id of ids.slice(3)) w.hub.sf.state.update('Account', id, { Name: `Salesforce edit ${round} of ${id}` });
        edits += 3;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await eventually(async () => ids.slice(0, 3).every((id) => w.hub.sf.state.get('Account', id)?.Name === `HubSpot edit 3 of ${id}`)
        && ids.slice(3).every((id) => twinOf(id).properties.name === `Salesforce edit 3 of ${id}`), 20_000, 'the burst to land on both sides');
      await eventually(quiet, 20_000, 'the pair to quiesce');

      // Each user edit caused at most one write on the other side, and none bounced back.
      const [hsAfter, sfAfter] = [hubspotWrites(w), salesforceWrites(w)];
      expect(sfAfter - sfBefore).toBeGreaterThan(0);
      expect(sfAfter - sfBefore).toBeLessThanOrEqual(edits);
      expect(hsAfter - hsBefore).toBeLessThanOrEqual(edits);

      // Replaying webhooks for every record now runs cycles that write nothing.
      const cycles = (await w.hub.status(w.connection))!.cycles;
      expect((await postHubSpot(w.hubspotUrl, JSON.stringify(ids.map((id) => companyEvent(twinOf(id).id))))).status).toBe(204);
      expect((await postSalesforce(w.salesforceUrl, JSON.stringify({ events: ids.map(accountEvent) }))).status).toBe(204);
      await eventually(async () => ((await w.hub.status(w.connection))?.cycles ?? 0) > cycles && quiet(), 20_000, 'the replayed webhooks’ cycle');
      expect([hubspotWrites(w), salesforceWrites(w)]).toEqual([hsAfter, sfAfter]);
    } finally {
      await w.close();
    }
  });
});
