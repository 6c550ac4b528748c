/**
 * Records workflow histories for the replay tests: runs real scenarios on the real Temporal
 * server and saves each workflow's history as JSON under test/workflows/histories/.
 * Run it when a workflow change is meant to be incompatible (then bump a workflow version);
 * otherwise the committed histories must keep replaying:
 *   node --import tsx test/workflows/record-histories.ts            (every scenario)
 *   node --import tsx test/workflows/record-histories.ts cosell     (only the groups named: sync, hub, webhook, cosell, inbound, metering, offer, drawdown)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findTemporalCli } from '../../src/runtime/temporal.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { ROOT } from '../../src/runtime/paths.js';
import { coSellInboxState, ensureCoSellInbox } from '../../src/service/cosell-inbox.js';
import { approveUpdate, requestChangesUpdate, resubmitUpdate } from '../../workflows/cosell.js';
import { approveUpdate as inboundApproveUpdate } from '../../workflows/cosell-inbound.js';
import { ALLIANCE_MANAGER as INBOUND_MANAGER, InboundHub, inboundPolicy } from '../cosell/inbound-support.js';
import { ALLIANCE_LEAD, ALLIANCE_MANAGER, CoSellHub, DEAL_DESK, sampleAccount, sampleContact, sampleOpportunityFor, testPolicy } from '../cosell/support.js';
import { hubspotSandboxConfig, startHubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { CRM_HUB, crmCredentials, startTestTemporal, TestHub } from '../support/hub.js';
import { eventually } from '../support/temporal.js';
import { createCommitment, drawdownState, wakeCommitment } from '../../src/service/drawdown-control.js';
import { drawdownScheduleId, drawdownWorkflowId } from '../../workflows/drawdown-types.js';
import { commitmentsOf, fixtureIds, seedYear } from '../drawdown/support.js';
import { createActivities } from '../../src/runtime/activities.js';
import { startWorker } from '../../src/runtime/worker.js';
import { wakeMetering } from '../../src/service/metering-control.js';
import { meteringWorkflowId } from '../../workflows/metering-types.js';
import { openTestStore } from '../store/stores.js';
import { meteringConnection, post, recordAgreements, startApi, startAwsMetering, usageEvents } from '../metering/rig.js';
import pino from 'pino';
import { BUYER_ACCOUNT_IDS } from '../../connectors/aws-marketplace/sandbox/index.js';
import { decideOffer, noticeOffer } from '../../src/service/offer-control.js';
import { DEAL_DESK as OFFER_DESK, OfferHub } from '../offers/support.js';

/** The history in Temporal's standard JSON form, as the CLI exports it. */
function save(workflowId: string, name: string): void {
  const json = execFileSync(findTemporalCli()!, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', env.address], { maxBuffer: 64 * 1024 * 1024 });
  const file = path.join(ROOT, 'test/workflows/histories', name);
  writeFileSync(file, json);
  console.log(`saved ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events to ${path.relative(ROOT, file)}`);
}

const groups = process.argv.slice(2);
const wanted = (group: string) => groups.length === 0 || groups.includes(group);

const env = await startTestTemporal();
const bundle = await bundleWorkflows();
try {
  if (wanted('sync')) await recordSync();
  if (wanted('hub')) await recordHub();
  if (wanted('webhook')) await recordWebhookCycles();
  if (wanted('cosell')) await recordCoSell();
  if (wanted('inbound')) await recordInbound();
  if (wanted('metering')) await recordMetering();
  if (wanted('offer')) await recordOffer();
  if (wanted('drawdown')) await recordDrawdown();
} finally {
  await env.teardown();
}

async function recordSync(): Promise<void> {
  const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 3, contactsPerAccount: 1, opportunitiesPerAccount: 1 } });
  try {
    // A connection's life: first sync, a user edit, a dead letter and its replay, a conflict resolved.
    const connection = await hub.connect();
    await hub.sync(connection);
    const [account] = hub.sfRecords('Account');
    hub.sf.state.update('Account', String(account.Id), { BillingCity: 'Lisbon' });
    await hub.sync(connection, { full: true });
    const handle = env.client.workflow.getHandle(`sync:${connection.id}`);
    await handle.executeUpdate('replayDeadLetters', { args: [{}] });
    await handle.signal('requestSync', { id: 'recorded-signal', reason: 'webhook', entities: ['Account'] });
    await hub.sync(connection);
    save(`sync:${connection.id}`, 'connection-sync.json');
    await env.client.workflow.execute('healthCheckWorkflow', { taskQueue: hub.taskQueue, workflowId: 'recorded-health', args: [] });
    save('recorded-health', 'health-check.json');
  } finally {
    await hub.close();
  }
}

/**
 * Cycles as webhooks ask for them: reading only the system that sent them, run bookkeeping in
 * local activities, a look back skipped so soon after the last, and the sweep that follows.
 */
async function recordWebhookCycles(): Promise<void> {
  const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 2, contactsPerAccount: 0, opportunitiesPerAccount: 0 } });
  try {
    const connection = await hub.connect();
    const workflowId = `sync:${connection.id}`;
    const handle = await env.client.workflow.start('connectionSyncWorkflow', {
      taskQueue: hub.taskQueue, workflowId, args: [{ connectionId: connection.id, lookbackEveryMs: 2_000 }],
    });
    await handle.executeUpdate('runSync', { args: [{ id: 'recorded-manual', reason: 'manual' }] });
    await handle.signal('requestSync', { id: 'recorded-webhook', reason: 'webhook', entities: ['Account'], sources: ['hubspot'], receivedAt: new Date().toISOString() });
    await eventually(async () => (await handle.query<{ cycles: number }>('status')).cycles >= 3, 30_000, 'the webhook cycle and the sweep');
    save(workflowId, 'connection-sync-webhook.json');
  } finally {
    await hub.close();
  }
}

/** A hub of three systems (Salesforce and two HubSpot portals): a first cycle, then an edit read from the second portal. */
async function recordHub(): Promise<void> {
  const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: { accounts: 3, contactsPerAccount: 1, opportunitiesPerAccount: 1 } });
  const eu = await startHubSpotSandbox({ companies: 0, portalId: 2_000_002 });
  try {
    const connection = await hub.connect({
      systems: [...CRM_HUB.systems, { name: 'hubspot-eu', system: 'hubspot', role: 'both' }],
      entities: CRM_HUB.entities.map((e) => ({ ...e, members: [...e.members, { ...e.members[1], system: 'hubspot-eu' }] })),
      credentials: { ...crmCredentials(hub.sf, hub.hs), 'hubspot-eu': hubspotSandboxConfig(eu) },
    });
    await hub.sync(connection);
    const [company] = eu.state.live('companies');
    eu.state.update('companies', company.id, { phone: '+44 20 7946 0001' });
    await hub.sync(connection);
    save(`sync:${connection.id}`, 'connection-sync-hub.json');
  } finally {
    await eu.close();
    await hub.close();
  }
}

/** Outbound co-sells with AWS: the whole approval path, and a round of changes requested. */
async function recordCoSell(): Promise<void> {
  const hub = await CoSellHub.start(env, bundle);
  try {
    hub.aws.state.reviewOutcome = () => 'Approved';
    // Two approval stages (250,000 USD); the deal desk's 1 s SLA lapses once: a reminder and an escalation.
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account);
    const contacts = [sampleContact(account)];
    const { salesforceId } = await hub.createOpportunity({ opportunity, account, contacts });
    const approved = await hub.submit(hub.input('aws', { opportunity, account, contacts, crmId: salesforceId, policy: testPolicy(1) }));
    await hub.until(approved, (v) => v.approvals.some((a) => a.decision === 'escalated'), 'the escalation');
    await approved.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK, comment: 'margins fine' }] });
    await approved.executeUpdate(approveUpdate, { args: [{ by: ALLIANCE_LEAD }] });
    await approved.result();
    save(approved.workflowId, 'cosell-aws-approved.json');

    // One stage (5,000 USD): the deal desk asks for changes, the alliance manager resubmits, approved.
    const other = sampleAccount({ name: 'Northwind Traders' });
    const small = sampleOpportunityFor(other, { amount: { amount: '5000.00', currency: 'USD' } });
    const resubmitted = await hub.submit(hub.input('aws', { opportunity: small, account: other, contacts: [sampleContact(other)] }));
    await hub.until(resubmitted, (v) => v.status === 'pending_approval', 'the deal desk stage');
    await resubmitted.executeUpdate(requestChangesUpdate, { args: [{ by: DEAL_DESK, comment: 'add the customer use case' }] });
    await resubmitted.executeUpdate(resubmitUpdate, { args: [{ by: ALLIANCE_MANAGER, comment: 'use case added', snapshot: { opportunity: { ...small, description: `${small.description} Use case: store dashboards.` } } }] });
    await resubmitted.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    await resubmitted.result();
    save(resubmitted.workflowId, 'cosell-changes-resubmitted.json');
  } finally {
    await hub.close();
  }
}

/** Inbound co-sell: the inbox hands an AWS invitation to its workflow, which is accepted. */
async function recordInbound(): Promise<void> {
  const hub = await InboundHub.start(env, bundle);
  try {
    // Polls a second apart: the inbox's history stays a few polls long.
    const inbox = await ensureCoSellInbox(env.client, hub.taskQueue, hub.connection, 'aws', { policy: inboundPolicy(), pollIntervalMs: 1000 });
    const id = hub.aws.state.addInvitation({
      Payload: {
        OpportunityInvitation: {
          ReceiverResponsibilities: ['Software Partner'],
          SenderContacts: [{ Email: 'pat@amazon.com', FirstName: 'Pat', LastName: 'Partner', BusinessTitle: 'Partner Development Manager' }],
          Customer: { Industry: 'Retail', CompanyName: 'Northwind Traders', WebsiteUrl: 'https://www.northwind.example', CountryCode: 'US' },
          Project: {
            Title: 'Retail analytics platform',
            BusinessProblem: 'Store managers get yesterday\'s figures; they want sales analytics within minutes.',
            TargetCompletionDate: '2031-06-30',
            ExpectedCustomerSpend: [{ Amount: '12500.00', CurrencyCode: 'USD', Frequency: 'Monthly', TargetCompany: 'AWS' }],
          },
        },
      },
    });
    const { handle } = await hub.invitation('aws', id, (v) => v.phase === 'decision', 'the invitation waiting for a decision');
    await handle.executeUpdate(inboundApproveUpdate, { args: [{ by: INBOUND_MANAGER, comment: 'good fit' }] });
    await handle.result();
    save(handle.workflowId, 'cosell-invitation-accepted.json');
    // A second poll: the cursor carried from one poll to the next (the invitation no longer pending).
    await eventually(async () => (await coSellInboxState(env.client, 'aws', hub.connection.id)).polls >= 2, 15_000, 'a second poll of the inbox');
    await inbox.terminate('recorded');
    save(inbox.workflowId, 'cosell-inbox.json');
  } finally {
    await hub.close();
  }
}

/** Metering to AWS: usage through the API sent in one pass, a customer's usage lettered for want of an agreement, then replayed. */
async function recordMetering(): Promise<void> {
  const aws = await startAwsMetering(4);
  const db = await openTestStore('postgres');
  const taskQueue = 'record-metering';
  const worker = await startWorker({
    address: env.address, namespace: 'default', taskQueue, workflowBundle: bundle,
    activities: createActivities({ store: db.store, client: env.client, taskQueue, log: pino({ level: 'silent' }) }),
  });
  try {
    const [latecomer] = aws.customers.splice(3);
    const connection = await meteringConnection(db.store, aws);
    await recordAgreements(db.store, connection.id, aws.customers);
    await wakeMetering({ client: env.client, taskQueue, settings: { graceMs: 0, quietMs: 1_000 } }, connection, 'aws');
    const api = await startApi(db.store, env.client, taskQueue);
    const { events } = usageEvents(aws, { events: 100, hours: [1, 2] });
    const stranger = { ...events[0], accountId: latecomer.accountId, dedupeKey: 'stranger' };
    await post(api, `/connections/${connection.name}/usage`, { records: [...events, stranger] });
    await eventually(async () => (await db.store.metering.letters({ connectionId: connection.id, status: 'open' })).length === 1, 30_000, 'the letter');
    await recordAgreements(db.store, connection.id, [latecomer]);
    await post(api, `/connections/${connection.name}/usage/replay`, { cloud: 'aws' });
    await eventually(async () => (await db.store.metering.sends(connection.id, { status: 'sent' })).length === 25, 30_000, 'every hour sent');
    const id = meteringWorkflowId(connection.id, 'aws');
    await eventually(async () => (await env.client.workflow.getHandle(id).query<{ phase: string }>('meteringStatus')).phase === 'idle', 30_000, 'the pass to end');
    save(id, 'metering.json');
    await env.client.workflow.getHandle(id).terminate('recorded');
    await env.client.schedule.getHandle(`metering-schedule:${connection.id}:aws`).delete();
    await api.close();
  } finally {
    await worker.shutdown();
    await db.close();
    await aws.close();
  }
}

async function recordOffer(): Promise<void> {
  // An AWS private offer: approved, VALIDATE then APPLY, live, accepted (announced), booked into NetSuite.
  const offers = await OfferHub.start(env, bundle, { store: 'postgres' });
  try {
    const sf = offers.opportunity(0);
    const asked = await offers.create(sf.id);
    await decideOffer(offers.control, asked.id, 'approve', { by: OFFER_DESK });
    const live = await offers.until(asked.id, (s) => s.status === 'live', 'the offer to go live');
    const agreement = offers.aws.state.accept(live.cloudIds.offerId!, BUYER_ACCOUNT_IDS[0], { dimensions: { BasicService: 2, PremiumService: 1 } });
    await noticeOffer(offers.control, offers.connection.name, live.cloudIds.offerId!, { kind: 'agreement', agreementId: agreement.id, offerId: live.cloudIds.offerId! });
    await env.client.workflow.getHandle(asked.id).result();
    save(asked.id, 'offer-aws-accepted.json');
  } finally {
    await offers.close();
  }
}

/** A commitment's ledger: started, judged, woken again by an agreement (nothing new), by its Schedule's trigger, and after a refund entered by hand. */
async function recordDrawdown(): Promise<void> {
  const hub = await TestHub.start(env, bundle, { store: 'postgres' });
  try {
    const ids = fixtureIds(9);
    const { ppa } = commitmentsOf(ids);
    const connection = await hub.connect();
    await seedYear(hub.store, connection.id, ids, { commitments: false });
    const control = { client: env.client, taskQueue: hub.taskQueue };
    const runs = async (n: number) => eventually(async () => ((await drawdownState(control, ppa.id))?.runs ?? 0) >= n, 60_000, `${n} drawdown runs`);
    await createCommitment(control, hub.store, connection.id, ppa);
    await runs(1);
    await wakeCommitment(control, ppa, { reason: 'agreement', ref: 'agmt-2' });
    await runs(2);
    await hub.store.commitments.addDocument(ppa.id, { kind: 'refund', id: 'refund:R1', date: '2025-07-01', currency: 'USD', refundOf: 'agreement:aws:agmt-1', lines: [{ amount: '12000.00' }] });
    await wakeCommitment(control, ppa, { reason: 'document', ref: 'refund:R1' });
    await runs(3);
    await env.client.schedule.getHandle(drawdownScheduleId(ppa.id)).trigger();
    await runs(4);
    await env.client.schedule.getHandle(drawdownScheduleId(ppa.id)).delete();
    save(drawdownWorkflowId(ppa.id), 'drawdown.json');
  } finally {
    await hub.close();
  }
}
