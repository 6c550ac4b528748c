import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APPROVAL_POLICY, defaultCoSellSettings } from '../../src/runtime/config.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { submitCoSell } from '../../src/service/cosell-control.js';
import { ensureCoSellInbox } from '../../src/service/cosell-inbox.js';
import { createOffer } from '../../src/service/offer-control.js';
import { HEALTH_CHECK_TEXT } from '../../src/service/summaries.js';
import { ensureSchedule } from '../../src/service/sync-control.js';
import { scheduleId } from '../../workflows/sync-types.js';
import { startTestTemporal, TestHub } from '../support/hub.js';
import { eventually } from '../support/temporal.js';

/** What the Temporal UI shows of a workflow: its static summary and details, and its current details. */
async function shown(handle: WorkflowHandle): Promise<{ summary?: string; details?: string; current: string }> {
  const description = await handle.describe();
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return { summary: await description.staticSummary(), details: await description.staticDetails(), current: metadata.currentDetails ?? '' };
}

describe('what the Temporal UI shows of each workflow ecosync starts', () => {
  let env: TestWorkflowEnvironment;
  let hub: TestHub;
  let opportunityId: string;

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 1, contactsPerAccount: 0, opportunitiesPerAccount: 1 } });
    const [opportunity] = hub.sfRecords('Opportunity');
    opportunityId = String(opportunity.Id);
    hub.sf.state.update('Opportunity', opportunityId, { Name: 'Aperture Logistics 1 – Analytics Add-on', Amount: 392000 });
  }, 120_000);
  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });

  it('a connection\'s sync: its systems in words, and what it did last and waits for', async () => {
    const connection = await hub.connect({ name: 'ui-text-hub' });
    const run = await hub.sync(connection);
    expect(run.status, run.error).toBe('succeeded');
    const sync = await shown(env.client.workflow.getHandle(`sync:${connection.id}`));
    expect(sync.summary).toBe('Sync · ui-text-hub · Salesforce ⇄ HubSpot');
    expect(sync.details).toContain(`Connection **ui-text-hub** (\`${connection.id}\`) keeps Account, Contact, Opportunity in step`);
    expect(sync.details).toContain('Systems: salesforce (salesforce, read and written), hubspot (hubspot, read and written).');
    expect(sync.current).toMatch(/^waiting for a sync request \(schedule, webhook or CLI\); 0 pending, 1 cycles so far\nlast cycle succeeded at \S+: /);

    // Its Schedule starts each trigger with the same words.
    await ensureSchedule({ client: env.client, taskQueue: hub.taskQueue }, { ...connection, scheduleSeconds: 3600 });
    const schedule = await env.client.schedule.getHandle(scheduleId(connection.id)).describe();
    expect(schedule.action.type).toBe('startWorkflow');
    expect(schedule.action).toMatchObject({ staticSummary: 'Sync trigger · ui-text-hub · every 3600 s' });
    await env.client.schedule.getHandle(scheduleId(connection.id)).delete();
  });

  it('a co-sell and a private offer name their opportunity and its amount; the co-sell says whom it waits for', async () => {
    const connection = await hub.connect({ name: 'ui-text-cosell' });
    expect((await hub.sync(connection)).status).toBe('succeeded');

    const cosell = await submitCoSell({ client: env.client, taskQueue: hub.taskQueue, store: hub.store, settings: defaultCoSellSettings() }, {
      connection: connection.name, opportunity: { system: 'salesforce', externalId: opportunityId }, cloud: 'aws', requestedBy: 'alex@example.com',
    });
    expect(cosell.state?.status).toBe('pending_approval');
    const shownCoSell = await shown(env.client.workflow.getHandle(cosell.workflowId));
    expect(shownCoSell.summary).toBe('AWS co-sell · Aperture Logistics 1 – Analytics Add-on · 392,000 USD');
    expect(shownCoSell.details).toContain(`Requested by alex@example.com through connection ui-text-cosell. Decide with \`ecosync cosell approve|reject|request-changes ${cosell.workflowId.slice('cosell:'.length)}\`.`);
    expect(shownCoSell.details).toContain(`salesforce ${opportunityId}`);
    expect(shownCoSell.current).toBe('aws co-sell of "Aperture Logistics 1 – Analytics Add-on": pending_approval; waiting for deal_desk: dana@example.com');

    const offer = await createOffer({ client: env.client, taskQueue: hub.taskQueue, store: hub.store, policy: DEMO_APPROVAL_POLICY }, {
      connection: connection.name, opportunity: { system: 'salesforce', externalId: opportunityId }, cloud: 'aws', requestedBy: 'alex@example.com',
      pricingModel: 'contract', dimensions: [{ key: 'Users', price: '392.00', quantity: 1000 }],
    });
    const handle = env.client.workflow.getHandle(offer.id);
    const shownOffer = await shown(handle);
    expect(shownOffer.summary).toBe('AWS private offer · Aperture Logistics 1 – Analytics Add-on · 392,000 USD');
    expect(shownOffer.details).toContain('contract pricing: Users at 392.00 × 1000.');
    expect(shownOffer.details).toContain('Asked for by alex@example.com through connection ui-text-cosell');
    // The offer workflow keeps its own current details (what it waits for).
    await eventually(async () => (await shown(handle)).current.startsWith('AWS private offer'), 15_000, 'the offer\'s current details');
    await handle.terminate('test done');
  });

  it('a cloud\'s inbox and the doctor\'s health check say what they are', async () => {
    const connection = await hub.connect({ name: 'ui-text-inbox' });
    // On a task queue no worker polls: what it says is given at its start (this connection has no AWS credentials to poll with).
    const inbox = await ensureCoSellInbox(env.client, `${hub.taskQueue}-idle`, connection, 'aws', { policy: DEMO_APPROVAL_POLICY, pollIntervalMs: 300_000 });
    const description = await inbox.describe();
    const shownInbox = { summary: await description.staticSummary(), details: await description.staticDetails() };
    expect(shownInbox.summary).toBe('AWS co-sell inbox · ui-text-inbox');
    expect(shownInbox.details).toBe('Polls AWS every 300 s for opportunities shared with connection ui-text-inbox, and starts one invitation workflow for each.');
    await inbox.terminate('test done');

    const health = await env.client.workflow.start('healthCheckWorkflow', { taskQueue: hub.taskQueue, workflowId: `doctor-${Date.now()}`, ...HEALTH_CHECK_TEXT, args: [] });
    await health.result();
    const shownHealth = await shown(health);
    expect(shownHealth.summary).toBe('Health check · worker and store');
    expect(shownHealth.current).toMatch(/^the store \(\S+\) answered a worker at /);
  });
});
