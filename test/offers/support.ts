/**
 * A hub with private offers for tests on the real Temporal server: Salesforce, HubSpot and
 * NetSuite around each account (the demo hub's shape), the AWS Marketplace sandbox behind the
 * official SDKs, and a worker with every activity, its offer reminders kept for the test to read.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { BUYER_ACCOUNT_IDS, SANDBOX_CREDENTIALS, startAwsMarketplaceSandbox, type AwsMarketplaceSandbox, type AwsMarketplaceSandboxOptions } from '../../connectors/aws-marketplace/sandbox/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMicrosoftMarketplaceSandbox, type MicrosoftMarketplaceSandbox } from '../../connectors/microsoft-marketplace/sandbox/index.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../connectors/microsoft-partner-center/index.js';
import type { ApprovalPolicy } from '../../src/cosell/approval.js';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker } from '../../src/runtime/worker.js';
import { createOffer, offerStatus, type CreateOfferRequest, type OfferControl } from '../../src/service/offer-control.js';
import type { Connection } from '../../src/store/index.js';
import type { OfferView } from '../../workflows/offer-types.js';
import type { StoreKind } from '../store/stores.js';
import { crmCredentials, ERP_HUB, TestHub } from '../support/hub.js';
import { hubView } from '../support/hub-view.js';
import { eventually } from '../support/temporal.js';

export const ALLIANCE_MANAGER = 'alex@example.com';
export const DEAL_DESK = 'dana@example.com';
export const ALLIANCE_LEAD = 'lee@example.com';

/** The deal desk decides every offer; the alliance lead too from 20 % off list price. */
export const OFFER_POLICY: ApprovalPolicy = {
  currency: 'USD',
  stages: [
    { name: 'deal_desk', roles: ['deal_desk'], slaSeconds: 3600 },
    { name: 'alliance_lead', roles: ['alliance_lead'], minDiscountPercent: '20', slaSeconds: 3600 },
  ],
  users: { [DEAL_DESK]: ['deal_desk'], [ALLIANCE_LEAD]: ['alliance_lead'], [ALLIANCE_MANAGER]: ['alliance_manager'] },
};

/** Two of BasicService at 15,000 (list 18,000) and one PremiumService at 30,000: 60,000 USD, 9.09 % off a list of 66,000. */
export const DIMENSIONS = [
  { key: 'BasicService', price: '15000.00', listPrice: '18000.00', quantity: 2 },
  { key: 'PremiumService', price: '30000.00', listPrice: '30000.00', quantity: 1 },
];

export const inDays = (aws: AwsMarketplaceSandbox, days: number) => new Date(aws.state.now() + days * 86_400_000).toISOString().slice(0, 10);

export class OfferHub {
  readonly reminders: { to: string[]; subject: string; text: string }[] = [];
  connection!: Connection;
  control!: OfferControl;
  products!: { contract: string; hybrid: string; usage: string };

  /** Started when the options ask for Microsoft: Entra ID (the co-sell sandbox) and the marketplace. */
  entra?: MicrosoftSandbox;
  microsoft?: MicrosoftMarketplaceSandbox;

  private constructor(readonly hub: TestHub, readonly aws: AwsMarketplaceSandbox) {}

  static async start(env: TestWorkflowEnvironment, bundle: Awaited<ReturnType<typeof bundleWorkflows>>, options: { store?: StoreKind; worker?: boolean; aws?: AwsMarketplaceSandboxOptions; microsoft?: boolean | { landingPageUrl?: string }; accounts?: number } = {}): Promise<OfferHub> {
    // A seed of its own gives the org its own id, so the opportunities' ids (and offers' workflow ids) differ from other tests'.
    const [hub, aws] = await Promise.all([
      TestHub.start(env, bundle, { store: options.store, worker: false, sf: { accounts: options.accounts ?? 2, contactsPerAccount: 0, opportunitiesPerAccount: 1, seed: Math.floor(Math.random() * 1e9) }, ns: { customers: 0 } }),
      startAwsMarketplaceSandbox({ demo: false, ...options.aws }),
    ]);
    const offers = new OfferHub(hub, aws);
    const [contract, hybrid, usage] = [...aws.state.store.products.values()];
    offers.products = { contract: contract.id, hybrid: hybrid.id, usage: usage.id };
    const item = hub.ns!.state.all('inventoryItem')[0];
    if (options.microsoft) {
      offers.entra = await startMicrosoftSandbox({ dataDir: mkdtempSync(path.join(tmpdir(), 'ecosync-offers-ms-')), incoming: 0 });
      offers.microsoft = await startMicrosoftMarketplaceSandbox({
        authorityHost: offers.entra.url, authorityCaPem: offers.entra.caPem, jobMs: 200,
        ...(typeof options.microsoft === 'object' ? options.microsoft : {}),
        publisherApp: { tenantId: offers.entra.tenantId, clientId: offers.entra.clientId, clientSecret: offers.entra.clientSecret },
      });
    }
    const crm = crmCredentials(hub.sf, hub.hs, hub.ns);
    offers.connection = await hub.connect({
      ...ERP_HUB,
      credentials: {
        ...crm,
        // Orders of marketplace agreements are booked against this NetSuite item.
        netsuite: { ...crm.netsuite!, marketplaceItems: { default: item.id } },
        'aws-marketplace': { region: 'us-east-1', endpoint: aws.url, ...SANDBOX_CREDENTIALS.seller, reseller: SANDBOX_CREDENTIALS.reseller },
        ...(offers.microsoft && offers.entra ? { 'microsoft-marketplace': offers.microsoftConfig() } : {}),
      },
    });
    offers.control = {
      client: env.client, taskQueue: hub.taskQueue, store: hub.store, policy: OFFER_POLICY,
      timings: { pollIntervalMs: 50, maxPollIntervalMs: 400, acceptancePollMs: 60_000 },
    };
    if (options.worker === false) return offers;
    await offers.startWorker(bundle);
    await offers.firstSync();
    return offers;
  }

  /** The CRM's accounts and opportunities are in the hub before anyone asks for an offer. */
  async firstSync(): Promise<void> {
    const run = await this.hub.sync(this.connection);
    if (run.status !== 'succeeded') throw new Error(`the first sync failed: ${run.error}`);
  }

  async startWorker(bundle: Awaited<ReturnType<typeof bundleWorkflows>>): Promise<void> {
    const activities = createActivities({ store: this.hub.store, client: this.hub.env.client, taskQueue: this.hub.taskQueue, log: pino({ level: 'silent' }), pageBudgetMs: 2_000 });
    this.hub.worker = await startWorker({
      address: this.hub.env.address,
      namespace: this.hub.env.namespace ?? 'default',
      taskQueue: this.hub.taskQueue,
      workflowBundle: bundle,
      activities: {
        ...activities,
        remindOffer: async (input: Parameters<typeof activities.remindOffer>[0]) => {
          this.reminders.push({ to: input.to, subject: input.subject, text: input.text });
          await activities.remindOffer(input);
        },
      },
    });
  }

  /** The publisher app's credentials for the Microsoft marketplace sandbox. */
  microsoftConfig() {
    const entra = this.entra!;
    return {
      tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, authorityHost: entra.url, caPem: entra.caPem,
      productIngestionUrl: this.microsoft!.productIngestionUrl, marketplaceApiUrl: this.microsoft!.marketplaceApiUrl,
    };
  }

  get store() {
    return this.hub.store;
  }

  /** A seeded Salesforce opportunity with the offer's terms filled in, as the alliance manager would. */
  opportunity(index = 0, terms: Record<string, unknown> = {}): { id: string; name: string } {
    // By id, so that an index names the same opportunity after others were edited.
    const opportunity = [...new Map(this.hub.sfRecords('Opportunity').map((o) => [String(o.Id), o])).values()].sort((a, b) => String(a.Id).localeCompare(String(b.Id)))[index];
    const name = String(opportunity.Name);
    this.hub.sf.state.update('Opportunity', String(opportunity.Id), {
      Ecosync_Offer_Product__c: this.products.contract,
      Ecosync_Offer_Buyers__c: terms.buyers ?? BUYER_ACCOUNT_IDS[0],
      Ecosync_Offer_Term_Months__c: 12,
      Ecosync_Offer_Expires__c: inDays(this.aws, 30),
      ...Object.fromEntries(Object.entries(terms).filter(([k]) => k !== 'buyers')),
    });
    return { id: String(opportunity.Id), name };
  }

  /** The Salesforce opportunity as it is now. */
  sfOpportunity(id: string): Record<string, unknown> {
    return this.hub.sfRecords('Opportunity').filter((o) => o.Id === id).at(-1)!;
  }

  async canonicalOpportunity(sfId: string): Promise<string> {
    return (await hubView(this.store, this.connection.id).link('salesforce', 'Opportunity', sfId))!.canonicalId;
  }

  create(sfOpportunityId: string, extra: Partial<CreateOfferRequest> = {}) {
    return createOffer(this.control, {
      connection: this.connection.name, opportunity: { system: 'salesforce', externalId: sfOpportunityId }, cloud: 'aws',
      requestedBy: ALLIANCE_MANAGER, pricingModel: 'contract', dimensions: DIMENSIONS, ...extra,
    });
  }

  /** Waits until the offer's state passes the check; on timeout, says where the offer stands and what its activities failed with. */
  async until(id: string, check: (state: OfferView) => boolean, what: string, timeoutMs = 60_000): Promise<OfferView> {
    let last: OfferView | undefined;
    try {
      return await eventually(async () => {
        const { state } = await offerStatus(this.control, id);
        last = state;
        return state && check(state) ? state : undefined;
      }, timeoutMs, what);
    } catch (error) {
      const description = await this.hub.env.client.workflow.getHandle(id).describe();
      const pending = description.raw.pendingActivities?.map((a) => `${a.activityType?.name}: attempt ${a.attempt}, ${a.lastFailure?.message ?? 'no failure'}`) ?? [];
      throw new Error(`${(error as Error).message}; the offer is ${last?.phase}/${last?.status} (${JSON.stringify(last?.problems)}), workflow ${description.status.name}; pending: ${pending.join('; ') || 'none'}`);
    }
  }

  async close(): Promise<void> {
    await this.hub.close();
    await this.aws.close();
    await this.microsoft?.close();
    await this.entra?.close();
  }
}

export { randomUUID };
