import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { startPartnerCentralSandbox, type PartnerCentralSandbox } from '../../connectors/aws-partner-central/sandbox/index.js';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../connectors/microsoft-partner-center/index.js';
import { createConnector } from '../../connectors/registry.js';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { createCanonicalWriter, type CanonicalWriter } from '../../src/activities/canonical-write.js';
import { createCoSellActivities } from '../../src/activities/cosell.js';
import { createHubs } from '../../src/activities/hubs.js';
import { createSyncActivities } from '../../src/activities/sync.js';
import type { ApprovalPolicy } from '../../src/cosell/index.js';
import type { Account, CoSellCloud, Contact, Opportunity } from '../../src/model/index.js';
import { cloudSandboxCredentials, SALESFORCE_HUBSPOT, sandboxCredentials } from '../../src/runtime/demo.js';
import { coSellMappingFiles, mappingCache } from '../../src/runtime/mappings.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import type { Connection, Store } from '../../src/store/index.js';
import { coSellWorkflow, stateQuery } from '../../workflows/cosell.js';
import { coSellWorkflowId, type CoSellActivities, type CoSellInput, type CoSellOptions, type CoSellView } from '../../workflows/cosell-types.js';
import type { SyncCounters } from '../../workflows/sync-types.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { HUBSPOT_WRITES, SALESFORCE_WRITES, hsCoSellOf, sfCoSellOf, syncCycle, type CrmCoSell } from '../sync/crm-rig.js';

export const ALLIANCE_MANAGER = 'alex@example.com';
export const DEAL_DESK = 'dana@example.com';
export const ALLIANCE_LEAD = 'lee@example.com';
export const SELLER = 'sam@example.com';
export const ESCALATION = 'boss@example.com';

/** Deal desk always; the alliance lead from 100,000 USD. */
export function testPolicy(slaSeconds = 3600): ApprovalPolicy {
  return {
    currency: 'USD',
    stages: [
      { name: 'deal_desk', roles: ['deal_desk'], slaSeconds, escalateTo: ESCALATION },
      { name: 'alliance_lead', roles: ['alliance_lead'], minAmount: '100000', slaSeconds: 3600 },
    ],
    users: { [DEAL_DESK]: ['deal_desk'], [ALLIANCE_LEAD]: ['alliance_lead'], [SELLER]: ['sales'], [ALLIANCE_MANAGER]: ['alliance_manager'] },
  };
}

/** The first AWS solution the sandbox seeds in each catalog. */
export const AWS_SOLUTION = 'S-0000001';

export function sampleAccount(overrides: Partial<Account> = {}): Account {
  return {
    id: randomUUID(),
    name: 'Acme Analytics',
    domain: 'acme-analytics.example.com',
    website: 'https://www.acme-analytics.example.com',
    industry: 'Technology',
    billingAddress: { street: '410 Terry Ave N', city: 'Seattle', state: 'Washington', postalCode: '98101', country: 'US' },
    ...overrides,
  };
}

export function sampleOpportunityFor(account: Account, overrides: Partial<Opportunity> = {}): Opportunity {
  return {
    id: randomUUID(),
    name: `Real-time analytics ${randomUUID().slice(0, 6)}`,
    amount: { amount: '250000.00', currency: 'USD' },
    stage: 'qualification',
    closeDate: new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10),
    type: 'new_business',
    accountId: account.id,
    description: 'Nightly batch reports arrive too late for store managers; they want sales analytics within minutes.',
    ...overrides,
  };
}

export function sampleContact(account: Account): Contact {
  return { id: randomUUID(), firstName: 'Ada', lastName: 'Lovelace', email: 'ada@acme-analytics.example.com', phone: '+1 555 200 1000', title: 'CTO', accountId: account.id };
}

/** Test-controlled faults in the co-sell activities. */
export interface ActivityFaults {
  /** The first createCloudOpportunity attempt fails after the cloud created it (a crash before the id was saved). */
  failAfterCreate?: boolean;
  /** Holds the write-back of this opportunity's status until `release` resolves (a slow CRM). */
  holdWriteBack?: { opportunityId: string; status: string; release: Promise<void> };
}

/**
 * The co-sell world of a test file: a store, the Salesforce, HubSpot, AWS and Microsoft
 * sandboxes, a Salesforce ⇄ HubSpot connection with the shipped mappings that also holds the
 * clouds' credentials, and a worker running the co-sell activities. The co-sell status reaches
 * the CRMs through the canonical writer; `syncOnce` runs the connection's sync directly.
 */
export class CoSellHub {
  worker?: RunningWorker;
  readonly faults: ActivityFaults = {};
  readonly reminders: { to: string[]; subject: string; text: string }[] = [];
  /** Also delivers each reminder (a webhook notifier), when set before the worker starts. */
  notify?: (reminder: { to: string[]; subject: string; text: string }) => Promise<void>;
  connection!: Connection;
  private readonly mappings = mappingCache();
  readonly writer: CanonicalWriter;
  private readonly sync: ReturnType<typeof createSyncActivities>;

  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly db: TestStore,
    readonly sf: SalesforceSandbox,
    readonly hs: HubSpotSandbox,
    readonly aws: PartnerCentralSandbox,
    readonly ms: MicrosoftSandbox,
    readonly taskQueue: string,
  ) {
    const log = pino({ level: 'silent' });
    const hubs = createHubs({ store: db.store, connectorFor: createConnector, mappingFor: (file: string) => this.mappings.get(file), log });
    this.writer = createCanonicalWriter(hubs);
    this.sync = createSyncActivities({ store: db.store, hubs, log });
  }

  static async start(env: TestWorkflowEnvironment, bundle: Awaited<ReturnType<typeof bundleWorkflows>>, options: { notify?: CoSellHub['notify'] } = {}): Promise<CoSellHub> {
    // AWS reviews at once; the figures measure calls and the workflow.
    const { db, sf, hs, aws, ms } = await startCoSellSandboxes({ reviewDelayMs: 0 });
    const hub = new CoSellHub(env, db, sf, hs, aws, ms, `cosell-${randomUUID()}`);
    hub.notify = options.notify;
    hub.connection = await coSellConnection(db.store, 'cosell', { sf, hs, aws, ms });
    await hub.startWorker(bundle);
    return hub;
  }

  async startWorker(bundle: Awaited<ReturnType<typeof bundleWorkflows>>): Promise<void> {
    // The co-sell activities map payloads with the shipped files, as the worker's do (src/runtime/activities.ts).
    const real = createCoSellActivities({
      mappings: coSellMappingFiles,
      store: this.db.store,
      writer: this.writer,
      log: pino({ level: 'silent' }),
      notify: async (reminder) => {
        this.reminders.push(reminder);
        await this.notify?.(reminder);
      },
    });
    const activities: CoSellActivities = {
      ...real,
      createCloudOpportunity: async (input) => {
        const created = await real.createCloudOpportunity(input);
        if (this.faults.failAfterCreate) {
          this.faults.failAfterCreate = false;
          throw new Error('worker lost before the cloud id was saved');
        }
        return created;
      },
      writeCoSellToCrm: async (input) => {
        const hold = this.faults.holdWriteBack;
        if (hold && hold.opportunityId === input.referral.opportunityId && hold.status === input.referral.status) await hold.release;
        return real.writeCoSellToCrm(input);
      },
    };
    this.worker = await startWorker({ address: this.env.address, namespace: this.env.namespace ?? 'default', taskQueue: this.taskQueue, workflowBundle: bundle, activities });
  }

  /** A Salesforce opportunity a user entered, unknown to ecosync (no canonical record, no link). */
  crmOpportunity(opportunity: Opportunity): string {
    const record = this.sf.state.insert('Opportunity', { Name: opportunity.name, StageName: 'Qualification', CloseDate: opportunity.closeDate, Amount: Number(opportunity.amount?.amount ?? 0) });
    return String(record.Id);
  }

  /**
   * The account, its contacts and the opportunity made in both CRMs through the canonical writer,
   * as ecosync makes them: the opportunity's Salesforce and HubSpot ids.
   */
  async createOpportunity(parts: { opportunity: Opportunity; account?: Account; contacts?: Contact[] }): Promise<{ salesforceId: string; hubspotId: string }> {
    const create = async (entity: 'Account' | 'Contact' | 'Opportunity', { id, ...values }: { id: string }) =>
      this.writer.create({ connectionId: this.connection.id, entity, canonicalId: id, values });
    if (parts.account) await create('Account', parts.account);
    for (const contact of parts.contacts ?? []) await create('Contact', contact);
    const result = await create('Opportunity', parts.opportunity);
    const idIn = (system: string) => result.written.find((w) => w.system === system)?.externalId;
    return { salesforceId: idIn('salesforce')!, hubspotId: idIn('hubspot')! };
  }

  /** The co-sell fields of a Salesforce opportunity. */
  sfCoSell(id: string): CrmCoSell {
    return sfCoSellOf(this.sf, id);
  }

  /** The co-sell properties of a HubSpot deal. */
  hsCoSell(id: string): CrmCoSell {
    return hsCoSellOf(this.hs, id);
  }

  /** Write calls the CRM sandboxes received so far. */
  crmWrites(): { salesforce: number; hubspot: number } {
    return { salesforce: this.sf.counters.sum(SALESFORCE_WRITES), hubspot: this.hs.counters.sum(HUBSPOT_WRITES) };
  }

  /** One incremental sync cycle of the connection, run directly on the sync activities. */
  syncOnce(): Promise<SyncCounters> {
    return syncCycle(this.sync, this.connection);
  }

  input(cloud: CoSellCloud, parts: { opportunity: Opportunity; account?: Account; contacts?: Contact[]; crmId?: string; policy?: ApprovalPolicy; options?: Partial<CoSellOptions> }): CoSellInput {
    return {
      cloud,
      connectionId: this.connection.id,
      requestedBy: ALLIANCE_MANAGER,
      snapshot: { opportunity: parts.opportunity, account: parts.account, contacts: parts.contacts },
      options: { involvementType: 'co_sell', visibility: 'full', solutionIds: cloud === 'aws' ? [AWS_SOLUTION] : ['SOL-12345-ECO'], ...parts.options },
      crm: parts.crmId ? { system: 'salesforce', id: parts.crmId } : undefined,
      policy: parts.policy ?? testPolicy(),
      pollIntervalMs: 100,
      maxPollIntervalMs: 1000,
    };
  }

  /** Starts the co-sell, or finds the one already running for this opportunity and cloud. */
  submit(input: CoSellInput): Promise<WorkflowHandle<typeof coSellWorkflow>> {
    return this.env.client.workflow.start(coSellWorkflow, {
      workflowId: coSellWorkflowId(input.cloud, input.snapshot.opportunity.id),
      taskQueue: this.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
  }

  /** Polls the workflow's state until `check` holds. */
  async until(handle: WorkflowHandle, check: (view: CoSellView) => boolean, what: string, timeoutMs = 15_000): Promise<CoSellView> {
    let last: CoSellView | undefined;
    try {
      return await eventually(async () => {
        last = await handle.query(stateQuery);
        return check(last) ? last : undefined;
      }, timeoutMs, what);
    } catch (error) {
      throw new Error(`${(error as Error).message}; last state: ${JSON.stringify(last)}`);
    }
  }

  /** Calls the AWS sandbox received, by operation (without errors). */
  awsCalls(): Record<string, number> {
    return awsCallsOf(this.aws);
  }

  async close(): Promise<void> {
    await this.worker?.shutdown().catch(() => undefined);
    await closeCoSellSandboxes(this);
  }
}

/** The store and the four sandboxes a co-sell test file runs against. */
export interface CoSellSandboxes {
  db: TestStore;
  sf: SalesforceSandbox;
  hs: HubSpotSandbox;
  aws: PartnerCentralSandbox;
  ms: MicrosoftSandbox;
}

/**
 * A Postgres store and empty CRM and cloud sandboxes. AWS's rate limits are off (the figures
 * count calls, not AWS's 1 write a second); Microsoft decides at once and shares nothing.
 */
export async function startCoSellSandboxes(aws: Parameters<typeof startPartnerCentralSandbox>[0]): Promise<CoSellSandboxes> {
  const [db, sf, hs, awsSandbox, ms] = await Promise.all([
    openTestStore('postgres'),
    startSalesforceSandbox({ accounts: 0 }),
    startHubSpotSandbox({ companies: 0 }),
    startPartnerCentralSandbox({ ...aws, writeRatePerSec: 0, readRatePerSec: 0 }),
    startMicrosoftSandbox({ dataDir: mkdtempSync(path.join(tmpdir(), 'ecosync-ms-')), decisionDelayMs: 0, incoming: 0 }),
  ]);
  return { db, sf, hs, aws: awsSandbox, ms };
}

export async function closeCoSellSandboxes({ db, sf, hs, aws, ms }: CoSellSandboxes): Promise<void> {
  await Promise.all([sf.close(), hs.close(), aws.close(), ms.close()]);
  await db.close();
}

/**
 * Starts Temporal and a hub before the file's tests (handing the hub to `ready`) and stops both
 * after them; the hub's `env` is the Temporal server.
 */
export function useHub<H extends { close(): Promise<void> }>(
  start: (env: TestWorkflowEnvironment, bundle: Awaited<ReturnType<typeof bundleWorkflows>>) => Promise<H>,
  ready: (hub: H) => unknown,
): void {
  let env: TestWorkflowEnvironment | undefined;
  let hub: H | undefined;
  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    hub = await start(env, bundle);
    await ready(hub);
  });
  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
  });
}

/** A CoSellHub on its own Temporal server for the file's tests. */
export function useCoSellHub(ready: (hub: CoSellHub) => unknown): void {
  useHub((env, bundle) => CoSellHub.start(env, bundle), ready);
}

/** Calls the AWS sandbox received, by operation (errors, counted as `<operation>.<error>`, left out). */
export function awsCallsOf(aws: PartnerCentralSandbox): Record<string, number> {
  return Object.fromEntries(Object.entries(aws.counters.snapshot()).filter(([k]) => !k.includes('.')));
}

/** Differences of two call-counter snapshots (what happened in between). */
export function callsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/**
 * A Salesforce ⇄ HubSpot connection with the shipped mappings that also holds the clouds'
 * credentials, as co-sell runs in production; AWS's client paces nothing (the sandbox's rate
 * limits are off), so tests count calls, not seconds.
 */
export function coSellConnection(
  store: Store, prefix: string,
  sandboxes: { sf: SalesforceSandbox; hs: HubSpotSandbox; aws: PartnerCentralSandbox; ms: MicrosoftSandbox },
): Promise<Connection> {
  const { sf, hs, aws, ms } = sandboxes;
  const clouds = cloudSandboxCredentials(aws, ms);
  return store.connections.create({
    name: `${prefix}-${randomUUID().slice(0, 8)}`,
    ...SALESFORCE_HUBSPOT,
    deletePolicy: 'propagate',
    credentials: {
      ...sandboxCredentials(sf, hs),
      ...clouds,
      'aws-partner-central': { ...clouds['aws-partner-central'], writesPerSecond: 0, readsPerSecond: 0 },
    },
  });
}
