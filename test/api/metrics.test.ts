import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import * as hubspotWebhooks from '../../connectors/hubspot/webhooks.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { defaultCoSellSettings } from '../../src/runtime/config.js';
import { submitCoSell } from '../../src/service/cosell-control.js';
import { newRequest, runSyncAndWait, syncStatus } from '../../src/service/sync-control.js';
import { canonicalIdFor } from '../../src/sync/index.js';
import type { Connection } from '../../src/store/index.js';
import { SA } from '../../workflows/search-attributes.js';
import { openTestStore, TEST_DATABASE_URL, TEST_KEY, type TestStore } from '../store/stores.js';
import { CRM_HUB, crmCredentials, withMapping } from '../support/hub.js';
import { mappingVariant } from '../support/mapping-variant.js';
import { freePort, startCli, type CliRun } from '../support/process.js';
import { eventually, startTestTemporal } from '../support/temporal.js';

const HUBSPOT_SECRET = 'hubspot-app-client-secret-for-metrics';

/** One sample of the Prometheus text format: a metric's name, its labels and its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a scrape (comments skipped); label values are plain in our metrics and the SDK's. */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of a metric's samples whose labels include `match`. */
function total(scrape: Sample[], name: string, match: Record<string, string> = {}): number {
  return scrape.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

describe('/metrics of a running hub (ecosync up against the test\'s Temporal server and PostgreSQL)', () => {
  let env: TestWorkflowEnvironment;
  let db: TestStore;
  let sf: SalesforceSandbox;
  let hs: HubSpotSandbox;
  let hub: CliRun | undefined;
  let apiUrl: string;
  let connection: Connection;
  const taskQueue = `metrics-${randomUUID()}`;
  const control = () => ({ client: env.client, taskQueue });

  beforeAll(async () => {
    [env, db, sf, hs] = await Promise.all([
      startTestTemporal(),
      openTestStore('postgres'),
      startSalesforceSandbox({ accounts: 3, contactsPerAccount: 0, opportunitiesPerAccount: 1 }),
      startHubSpotSandbox({ companies: 0 }),
    ]);
    // Account's phone is RevOps' to decide (a change on both sides is a conflict), and one industry
    // is unknown to the mapping (that account goes to dead letters).
    const salesforceAccount = mappingVariant('mappings/salesforce-account.yaml', (t) => t
      .replace(/^  phone: Phone$/m, '  phone:\n    from: Phone\n    systemOfRecord: manual')
      .replace(/^  industry: Industry$/m, '  industry:\n    from: Industry\n    map: { Technology: Technology, Healthcare: Healthcare, Finance: Finance, Retail: Retail, Manufacturing: Manufacturing, Energy: Energy, Education: Education }'));
    const hubspotCompany = mappingVariant('mappings/hubspot-company.yaml', (t) => t.replace(/^  phone: phone$/m, '  phone:\n    from: phone\n    systemOfRecord: manual'));
    const base = crmCredentials(sf, hs);
    connection = await db.store.connections.create({
      name: `metrics-${randomUUID().slice(0, 8)}`,
      ...CRM_HUB,
      entities: withMapping('Account', 'salesforce', salesforceAccount, withMapping('Account', 'hubspot', hubspotCompany)),
      deletePolicy: 'propagate',
      credentials: { ...base, hubspot: { ...base.hubspot, clientSecret: HUBSPOT_SECRET } },
    });

    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    hub = startCli(['up', '--no-demo'], {
      ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ecosync-metrics-')),
      TEMPORAL_ADDRESS: env.address,
      DATABASE_URL: TEST_DATABASE_URL,
      ECOSYNC_DATABASE_SCHEMA: db.schema!,
      ECOSYNC_SECRET_KEY: TEST_KEY,
      ECOSYNC_TASK_QUEUE: taskQueue,
      ECOSYNC_API_PORT: String(apiPort),
      ECOSYNC_COSELL_CONNECTION: connection.name,
    });
    await eventually(async () => hub!.output().includes('Press Ctrl-C to stop.'), 90_000, `the hub to start; output so far:\n${hub.output()}`);
  }, 180_000);

  afterAll(async () => {
    if (hub) {
      hub.child.kill('SIGINT');
      await hub.exited;
    }
    await Promise.all([sf?.close(), hs?.close()]);
    await db?.close();
    await env?.teardown();
  });

  it('counts what a sync, a conflict, a dead letter, throttling, a webhook and a co-sell caused, and passes on the Temporal SDK\'s worker metrics', async () => {
    const [odd, , third] = [...sf.state.org.table('Account').byId.values()].map((v) => String(v.fields.Id));
    sf.state.update('Account', odd, { Industry: 'Media' });
    // A quarter of HubSpot's answers are its ten-second limit: waited out and sent again.
    hs.faults.set({ rateLimitRate: 0.25, seed: 11 });

    const first = await runSyncAndWait(control(), connection, newRequest('manual'));
    expect(first.status, first.error).toBe('succeeded');
    // The account, and its opportunity, which cannot be written without it.
    expect(first.counters).toMatchObject({ failed: 2 });

    // The same phone changed on both sides: a conflict for RevOps.
    const company = hs.state.getByExternalId('companies', canonicalIdFor(`salesforce:${sf.orgId}`, 'Account', third))!;
    const t0 = Date.now();
    sf.state.update('Account', third, { Phone: '+1 555 0001' }, { at: t0 });
    hs.state.update('companies', company.id, { phone: '+1 555 0002' }, t0 + 5_000);
    const second = await runSyncAndWait(control(), connection, newRequest('manual'));
    expect(second.status, second.error).toBe('succeeded');
    expect(second.counters.conflicts).toBe(1);

    // A user renames the company in HubSpot, and HubSpot says so in a signed webhook.
    hs.faults.set({});
    hs.state.update('companies', company.id, { name: 'Renamed in HubSpot' });
    const url = `${apiUrl}/webhooks/hubspot/${connection.name}`;
    const body = JSON.stringify([{ subscriptionType: 'company.propertyChange', objectId: Number(company.id), occurredAt: Date.now(), propertyName: 'name', propertyValue: 'Renamed in HubSpot', changeSource: 'CRM_UI' }]);
    const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...hubspotWebhooks.signedHeaders({ clientSecret: HUBSPOT_SECRET, method: 'POST', uri: url, body, now: Date.now() }) }, body });
    expect(answer.status).toBe(204);
    await eventually(async () => sf.state.get('Account', third)?.Name === 'Renamed in HubSpot', 30_000, 'the webhook\'s change in Salesforce');
    const status = await eventually(async () => {
      const s = await syncStatus(control(), connection.id);
      return s?.phase === 'idle' && s.cycles === 3 && s.pending === 0 ? s : undefined;
    }, 30_000, 'the webhook\'s cycle to finish');

    // An alliance manager sends an opportunity to AWS: it waits for the deal desk.
    const opportunity = [...sf.state.org.table('Opportunity').byId.values()].map((v) => v.fields).find((o) => o.AccountId === third)!.Id as string;
    const cosell = await submitCoSell({ ...control(), store: db.store, settings: defaultCoSellSettings() }, {
      connection: connection.name, opportunity: { system: 'salesforce', externalId: opportunity }, cloud: 'aws', requestedBy: 'alex@example.com',
    });
    expect(cosell.state?.status).toBe('pending_approval');
    // Visibility (what the gauge counts) shows it: the hub's scrape counts it from then on.
    await eventually(async () => (await env.client.workflow.count(`WorkflowType = "coSellWorkflow" AND ${SA.connection.name} = "${connection.name}" AND ${SA.status.name} = "pending_approval"`)).count === 1, 20_000, 'the co-sell in visibility');

    // The co-sell writes its status back to the CRMs meanwhile: scrape once the sandboxes have seen every call.
    const hubspotCalls = () => hs.counters.sum(/./);
    // A token request jsforce makes on its own is not an API call: Salesforce does not count it against the limit.
    const salesforceCalls = () => sf.counters.sum(/^(?!token$)/);
    const scrape = await eventually(async () => {
      const res = await fetch(`${apiUrl}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const scraped = samples(await res.text());
      const counted = [total(scraped, 'ecosync_api_calls_total', { system: 'hubspot' }), total(scraped, 'ecosync_api_calls_total', { system: 'salesforce' })];
      return counted[0] === hubspotCalls() && counted[1] === salesforceCalls() ? scraped : undefined;
    }, 20_000, 'the calls counted to equal the calls the sandboxes received');
    const of = { connection: connection.name };

    // Records, per connection, system and object, agree with the runs the store recorded.
    const runs = await db.store.runs.list({ connectionId: connection.id });
    const sum = (key: 'read' | 'created' | 'updated' | 'failed' | 'conflicts') => runs.reduce((n, r) => n + r.counters[key], 0);
    expect(runs).toHaveLength(3);
    expect(total(scrape, 'ecosync_records_read_total', of)).toBe(sum('read'));
    expect(total(scrape, 'ecosync_records_read_total', { ...of, system: 'salesforce', object: 'Account' })).toBeGreaterThanOrEqual(3);
    expect(total(scrape, 'ecosync_records_written_total', { ...of, operation: 'created' })).toBe(sum('created'));
    expect(total(scrape, 'ecosync_records_written_total', { ...of, system: 'hubspot', object: 'companies', operation: 'created' })).toBe(2);
    expect(total(scrape, 'ecosync_records_written_total', { ...of, system: 'salesforce', object: 'Account', operation: 'updated' })).toBeGreaterThanOrEqual(1);
    expect(total(scrape, 'ecosync_records_failed_total', of)).toBe(sum('failed'));
    // A record that still fails fails again in each cycle that reads it; the open dead letters count it once.
    expect(total(scrape, 'ecosync_records_failed_total', { ...of, system: 'salesforce', object: 'Account', direction: 'read' })).toBeGreaterThanOrEqual(1);
    // Likewise a conflict still open is found again by a cycle that reads the record; it stays one open conflict.
    expect(total(scrape, 'ecosync_conflicts_total', { ...of, entity: 'Account' })).toBe(sum('conflicts'));
    expect(sum('conflicts')).toBeGreaterThanOrEqual(1);
    expect(total(scrape, 'ecosync_conflicts_open', { ...of, entity: 'Account' })).toBe(1);
    expect(total(scrape, 'ecosync_dead_letters_open', { ...of, system: 'salesforce', object: 'Account', direction: 'read' })).toBe(1);
    expect(total(scrape, 'ecosync_dead_letters_open', of)).toBe(2);

    // Calls per external system: every request the sandboxes received, 429s and their retries included.
    const throttled = total(scrape, 'ecosync_api_throttled_total', { system: 'hubspot', reason: 'TEN_SECONDLY_ROLLING' });
    expect(throttled).toBeGreaterThan(0);
    expect(throttled).toBe(total(scrape, 'ecosync_api_retries_total', { system: 'hubspot' }) + total(scrape, 'ecosync_api_gave_up_total', { system: 'hubspot' }));
    expect(total(scrape, 'ecosync_api_calls_total', { system: 'hubspot' })).toBeGreaterThan(throttled);

    // Three cycles timed; the webhook's from its arrival to its record written.
    expect(total(scrape, 'ecosync_sync_cycle_seconds_count', { ...of, status: 'succeeded' })).toBe(3);
    expect(total(scrape, 'ecosync_webhook_to_written_seconds_count', of)).toBe(1);
    const latency = total(scrape, 'ecosync_webhook_to_written_seconds_sum', of);
    expect(latency).toBeGreaterThan(0);
    expect(latency).toBeLessThan(30);
    expect(total(scrape, 'ecosync_webhooks_total', { system: 'hubspot', outcome: 'accepted' })).toBe(1);
    // Handed over: nothing waits in the webhook inbox.
    expect(scrape.some((s) => s.name === 'ecosync_webhook_inbox_pending')).toBe(true);
    expect(total(scrape, 'ecosync_webhook_inbox_pending')).toBe(0);
    expect(status.lastRun?.status).toBe('succeeded');

    // Co-sells and invitations by cloud and status.
    expect(total(scrape, 'ecosync_cosells', { cloud: 'aws', status: 'pending_approval' })).toBe(1);
    expect(total(scrape, 'ecosync_cosells', { cloud: 'azure' })).toBe(0);
    expect(scrape.filter((s) => s.name === 'ecosync_cosell_invitations' && s.labels.cloud === 'aws').map((s) => s.labels.status)).toContain('pending_acceptance');
    expect(total(scrape, 'ecosync_cosell_invitations')).toBe(0);

    // The Temporal SDK's worker metrics, passed on: our activities ran on our task queue.
    expect(total(scrape, 'temporal_activity_execution_latency_count', { activity_type: 'syncPage', task_queue: taskQueue })).toBeGreaterThan(0);
    expect(scrape.some((s) => s.name.startsWith('temporal_worker_task_slots_available'))).toBe(true);
    // And the process's own, under the ecosync_ prefix.
    expect(scrape.some((s) => s.name === 'ecosync_process_resident_memory_bytes')).toBe(true);
  }, 180_000);
});
