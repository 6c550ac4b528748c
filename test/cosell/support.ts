import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import pino from 'pino';
import { startPartnerCentralSandbox, SANDBOX_CREDENTIALS, type PartnerCentralSandbox } from '../../connectors/aws-partner-central/sandbox/index.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../connectors/microsoft-partner-center/index.js';
import { createConnector } from '../../connectors/registry.js';
import { salesforceSandboxConfig, startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { createCoSellActivities } from '../../src/activities/cosell.js';
import type { ApprovalPolicy } from '../../src/cosell/index.js';
import type { Account, CoSellCloud, Contact, Opportunity } from '../../src/model/index.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import type { Connection } from '../../src/store/index.js';
import { coSellWorkflow, stateQuery } from '../../workflows/cosell.js';
import { coSellWorkflowId, type CoSellActivities, type CoSellInput, type CoSellOptions, type CoSellView } from '../../workflows/cosell-types.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { eventually } from '../support/temporal.js';

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
}

/**
 * The co-sell world of a test file: a store, the Salesforce, AWS and Microsoft sandboxes, a
 * connection holding their credentials and a worker running the co-sell activities.
 */
export class CoSellHub {
  worker?: RunningWorker;
  readonly faults: ActivityFaults = {};
  readonly reminders: { to: string[]; subject: string; text: string }[] = [];
  connection!: Connection;

  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly db: TestStore,
    readonly sf: SalesforceSandbox,
    readonly aws: PartnerCentralSandbox,
    readonly ms: MicrosoftSandbox,
    readonly taskQueue: string,
  ) {}

  static async start(env: TestWorkflowEnvironment, bundle: Awaited<ReturnType<typeof bundleWorkflows>>): Promise<CoSellHub> {
    const [db, sf, aws, ms] = await Promise.all([
      openTestStore('postgres'),
      startSalesforceSandbox({ accounts: 0 }),
      // No rate limits: the figures measure calls and the workflow, not AWS's 1 write a second.
      startPartnerCentralSandbox({ reviewDelayMs: 0, writeRatePerSec: 0, readRatePerSec: 0 }),
      startMicrosoftSandbox({ dataDir: mkdtempSync(path.join(tmpdir(), 'ecosync-ms-')), decisionDelayMs: 0, incoming: 0 }),
    ]);
    const hub = new CoSellHub(env, db, sf, aws, ms, `cosell-${randomUUID()}`);
    hub.connection = await db.store.connections.create({
      name: `cosell-${randomUUID().slice(0, 8)}`,
      sourceSystem: 'salesforce',
      targetSystem: 'aws-partner-central',
      mode: 'one-way',
      credentials: {
        salesforce: salesforceSandboxConfig(sf),
        'aws-partner-central': { region: 'us-east-1', catalog: 'Sandbox', endpoint: aws.url, ...SANDBOX_CREDENTIALS, writesPerSecond: 0, readsPerSecond: 0 },
        'microsoft-partner-center': { tenantId: ms.tenantId, clientId: ms.clientId, clientSecret: ms.clientSecret, authorityHost: ms.url, apiBaseUrl: ms.url, caPem: ms.caPem },
      },
    });
    await hub.startWorker(bundle);
    return hub;
  }

  async startWorker(bundle: Awaited<ReturnType<typeof bundleWorkflows>>): Promise<void> {
    const real = createCoSellActivities({
      store: this.db.store,
      connectorFor: createConnector,
      log: pino({ level: 'silent' }),
      notify: async (reminder) => { this.reminders.push(reminder); },
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
    };
    this.worker = await startWorker({ address: this.env.address, namespace: this.env.namespace ?? 'default', taskQueue: this.taskQueue, workflowBundle: bundle, activities });
  }

  /** A Salesforce opportunity for the canonical one: the record the co-sell status is written to. */
  crmOpportunity(opportunity: Opportunity): string {
    const record = this.sf.state.insert('Opportunity', { Name: opportunity.name, StageName: 'Qualification', CloseDate: opportunity.closeDate, Amount: Number(opportunity.amount?.amount ?? 0) });
    return String(record.Id);
  }

  sfNextStep(id: string): string | undefined {
    return this.sf.state.get('Opportunity', id)?.NextStep as string | undefined;
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
    return Object.fromEntries(Object.entries(this.aws.counters.snapshot()).filter(([k]) => !k.includes('.')));
  }

  async close(): Promise<void> {
    await this.worker?.shutdown().catch(() => undefined);
    await Promise.all([this.sf.close(), this.aws.close(), this.ms.close()]);
    await this.db.close();
  }
}

/** Differences of two call-counter snapshots (what happened in between). */
export function callsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}
