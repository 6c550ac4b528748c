import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { BUYER_ACCOUNT_IDS, SANDBOX_CREDENTIALS as MARKETPLACE_CREDENTIALS, startAwsMarketplaceSandbox, type AwsMarketplaceSandbox } from '../../connectors/aws-marketplace/sandbox/index.js';
import { SANDBOX_CREDENTIALS, startPartnerCentralSandbox, type PartnerCentralSandbox } from '../../connectors/aws-partner-central/sandbox/index.js';
import { hubspotSandboxConfig, startHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../connectors/microsoft-partner-center/index.js';
import { netsuiteSandboxConfig, startNetSuiteSandbox, type NetSuiteSandbox } from '../../connectors/netsuite/sandbox/index.js';
import { salesforceSandboxConfig, startSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.js';
import { ensureCoSellInboxes } from '../service/cosell-inbox.js';
import { ensureSchedule, newRequest, requestSync } from '../service/sync-control.js';
import type { ConnectionInput, Store } from '../store/index.js';
import { DEMO_CONNECTION_NAME, type Config } from './config.js';

export const DEMO_CONNECTION = DEMO_CONNECTION_NAME;

/** How long the AWS sandbox takes to review a submitted co-sell in the demo (In review at half). */
const DEMO_AWS_REVIEW_MS = 60_000;

/** Salesforce and HubSpot, both read and written, with the shipped mappings in dependency order. */
export const SALESFORCE_HUBSPOT: Required<Pick<ConnectionInput, 'systems' | 'entities'>> = {
  systems: [
    { name: 'salesforce', system: 'salesforce', role: 'both' },
    { name: 'hubspot', system: 'hubspot', role: 'both' },
  ],
  entities: [
    { entity: 'Account', members: [{ system: 'salesforce', object: 'Account', mapping: 'mappings/salesforce-account.yaml' }, { system: 'hubspot', object: 'companies', mapping: 'mappings/hubspot-company.yaml' }] },
    { entity: 'Contact', members: [{ system: 'salesforce', object: 'Contact', mapping: 'mappings/salesforce-contact.yaml' }, { system: 'hubspot', object: 'contacts', mapping: 'mappings/hubspot-contact.yaml' }] },
    { entity: 'Opportunity', members: [{ system: 'salesforce', object: 'Opportunity', mapping: 'mappings/salesforce-opportunity.yaml' }, { system: 'hubspot', object: 'deals', mapping: 'mappings/hubspot-deal.yaml' }] },
  ],
};

/**
 * The demo hub: Salesforce, HubSpot and NetSuite around each account and contact, opportunities
 * between the CRMs, and NetSuite's sales orders and invoices kept in the hub (NetSuite is their
 * system of record; private offers and drawdown read them there).
 */
export const DEMO_HUB: Required<Pick<ConnectionInput, 'systems' | 'entities'>> = {
  systems: [...SALESFORCE_HUBSPOT.systems, { name: 'netsuite', system: 'netsuite', role: 'both' }],
  entities: [
    { entity: 'Account', members: [...SALESFORCE_HUBSPOT.entities[0].members, { system: 'netsuite', object: 'customer', mapping: 'mappings/netsuite-customer.yaml' }] },
    { entity: 'Contact', members: [...SALESFORCE_HUBSPOT.entities[1].members, { system: 'netsuite', object: 'contact', mapping: 'mappings/netsuite-contact.yaml' }] },
    SALESFORCE_HUBSPOT.entities[2],
    { entity: 'SalesOrder', members: [{ system: 'netsuite', object: 'salesOrder', mapping: 'mappings/netsuite-sales-order.yaml' }] },
    { entity: 'Invoice', members: [{ system: 'netsuite', object: 'invoice', mapping: 'mappings/netsuite-invoice.yaml' }] },
  ],
};

/** A connection's credentials for the CRM sandboxes (and NetSuite's, when given), keyed by system as connections store them. */
export function sandboxCredentials(sf: SalesforceSandbox, hs: HubSpotSandbox, ns?: NetSuiteSandbox) {
  return { salesforce: salesforceSandboxConfig(sf), hubspot: hubspotSandboxConfig(hs), ...(ns ? { netsuite: netsuiteSandboxConfig(ns) } : {}) };
}

/** The co-sell clouds' credentials as a connection stores them, under the systems' names. */
export function cloudSandboxCredentials(aws: PartnerCentralSandbox, ms: MicrosoftSandbox) {
  return {
    'aws-partner-central': { region: 'us-east-1', catalog: 'Sandbox', endpoint: aws.url, ...SANDBOX_CREDENTIALS },
    'microsoft-partner-center': { tenantId: ms.tenantId, clientId: ms.clientId, clientSecret: ms.clientSecret, authorityHost: ms.url, apiBaseUrl: ms.url, caPem: ms.caPem },
  };
}

/**
 * The AWS Marketplace sandbox's credentials as a connection stores them: the seller's and the
 * reseller's keys, and the key its EventBridge events carry to the hub's receiver.
 */
export function marketplaceSandboxCredentials(market: AwsMarketplaceSandbox, eventApiKey: string) {
  return {
    'aws-marketplace': { region: 'us-east-1', endpoint: market.url, ...MARKETPLACE_CREDENTIALS.seller, reseller: MARKETPLACE_CREDENTIALS.reseller, eventApiKey },
  };
}

export interface Demo {
  salesforceUrl: string;
  hubspotUrl: string;
  hubspotToken: string;
  awsUrl: string;
  microsoftUrl: string;
  netsuiteUrl: string;
  netsuiteAccountId: string;
  awsMarketplaceUrl: string;
  /** The AWS Marketplace sandbox's product a demo offer can be for (a contract product), and a buyer of its seeded accounts. */
  offerProduct: string;
  offerBuyer: string;
  /** The Microsoft sandbox's CA (it serves TLS): trust it to call it from outside the hub. */
  microsoftCaPath: string;
  stop(): Promise<void>;
}

type Sandboxes = { sf: SalesforceSandbox; hs: HubSpotSandbox; aws: PartnerCentralSandbox; ms: MicrosoftSandbox; ns: NetSuiteSandbox; market: AwsMarketplaceSandbox };

/**
 * The six sandboxes, started side by side; when one fails, those that started are stopped. The
 * marketplace's EventBridge events go to `events` (the hub's receiver), as an API destination.
 */
async function startSandboxes(config: Config, events: { url: string; apiKeyValue: string } | undefined): Promise<Sandboxes> {
  const host = '127.0.0.1';
  const started = await Promise.allSettled([
    startSalesforceSandbox({ host, port: config.demo.salesforcePort, seed: 42, accounts: config.demo.accounts }),
    startHubSpotSandbox({ host, port: config.demo.hubspotPort, seed: 42, companies: Math.ceil(config.demo.accounts / 4) }),
    startPartnerCentralSandbox({ host, port: config.demo.awsPort, seed: 42, reviewDelayMs: DEMO_AWS_REVIEW_MS }),
    startMicrosoftSandbox({ host, port: config.demo.microsoftPort, seed: 42, dataDir: path.join(config.dataDir, 'sandbox', 'microsoft') }),
    startNetSuiteSandbox({
      host, port: config.demo.netsuitePort, seed: 42, companyName: 'Ecosync Demo Inc.', customers: Math.ceil(config.demo.accounts / 8),
      dataDir: path.join(config.dataDir, 'sandbox'),
    }),
    startAwsMarketplaceSandbox({ host, port: config.demo.awsMarketplacePort, seed: 42, ...(events ? { events } : {}) }),
  ]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.close().catch(() => undefined) : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  const [sf, hs, aws, ms, ns, market] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [SalesforceSandbox, HubSpotSandbox, PartnerCentralSandbox, MicrosoftSandbox, NetSuiteSandbox, AwsMarketplaceSandbox];
  return { sf, hs, aws, ms, ns, market };
}

/**
 * Seeded Salesforce, HubSpot and NetSuite sandboxes and one demo hub around them with the shipped
 * mappings, scheduled and synced once at start: a new user sees real runs in the Temporal UI
 * and can edit a mapping and watch its effect without touching production. The AWS Partner
 * Central and Microsoft Partner Center sandboxes (seeded solutions, invitations and referrals)
 * come along, their credentials on the same connection, so co-sell works out of the box; so does
 * the AWS Marketplace sandbox, its EventBridge events delivered to the hub's receiver
 * (`apiUrl`/webhooks/aws-marketplace/demo-hub) under a key made at each start, and NetSuite's
 * first item books accepted offers, so a private offer goes from opportunity to sales order.
 * The Salesforce and HubSpot sandboxes send signed webhooks for every change to the hub's
 * webhook routes (secrets made at each start), so an edit in either reaches the others in
 * about a second, as with the real systems' webhooks; the schedule stays the safety net.
 *
 * The sandboxes keep their data in memory, so each start begins a fresh demo: the demo
 * connection's links, records and cursors from an earlier start are cleared first (they would
 * point at records that no longer exist).
 */
export async function startDemo(config: Config, deps: { store: Store; client: Client; log: Logger; apiUrl?: string }): Promise<Demo | undefined> {
  const { store, client, log } = deps;
  const eventApiKey = randomBytes(24).toString('base64url');
  const hubspotClientSecret = randomBytes(24).toString('base64url');
  const salesforceWebhookSecret = randomBytes(24).toString('base64url');
  const events = deps.apiUrl ? { url: `${deps.apiUrl}/webhooks/aws-marketplace/${DEMO_CONNECTION}`, apiKeyValue: eventApiKey } : undefined;
  const { sf, hs, aws, ms, ns, market } = await startSandboxes(config, events);
  const closeAll = () => Promise.all([sf.close(), hs.close(), aws.close(), ms.close(), ns.close(), market.close()]);
  try {
    // Accepted offers become NetSuite sales orders of this item.
    const item = ns.state.all('inventoryItem')[0];
    const crm = sandboxCredentials(sf, hs, ns);
    const netsuite = { ...crm.netsuite!, ...(item ? { marketplaceItems: { default: item.id } } : {}) };
    const input: ConnectionInput = {
      name: DEMO_CONNECTION,
      ...DEMO_HUB,
      deletePolicy: 'propagate',
      conflictPolicy: 'last-writer-wins',
      scheduleSeconds: config.demo.scheduleSeconds,
      credentials: {
        salesforce: { ...crm.salesforce, webhookSecret: salesforceWebhookSecret },
        hubspot: { ...crm.hubspot, clientSecret: hubspotClientSecret },
        netsuite, ...cloudSandboxCredentials(aws, ms), ...marketplaceSandboxCredentials(market, eventApiKey),
      },
    };
    let connection = await store.connections.getByName(DEMO_CONNECTION);
    if (connection) {
      await resetDemoState(store, connection.id);
      await endDemoCoSells(client, log);
      connection = await store.connections.update(connection.id, input);
    } else {
      connection = await store.connections.create(input);
    }
    if (deps.apiUrl) {
      hs.webhooks.configure({ targetUrl: `${deps.apiUrl}/webhooks/hubspot/${DEMO_CONNECTION}`, clientSecret: hubspotClientSecret });
      sf.webhooks.configure({ targetUrl: `${deps.apiUrl}/webhooks/salesforce/${DEMO_CONNECTION}`, secret: salesforceWebhookSecret });
    }
    const control = { client, taskQueue: config.temporal.taskQueue };
    await ensureSchedule(control, connection);
    await requestSync(control, connection, newRequest('start'));
    // Opportunities the cloud sandboxes share with us (seeded invitations and referrals) wait for
    // an alliance manager's decision from the first poll on.
    await ensureCoSellInboxes(client, config.temporal.taskQueue, connection, Object.keys(input.credentials ?? {}), {
      policy: config.cosell.policy,
      pollIntervalMs: config.cosell.inboxSeconds * 1000,
    });
    return {
      salesforceUrl: sf.url,
      hubspotUrl: hs.url,
      hubspotToken: hs.accessToken,
      awsUrl: aws.url,
      microsoftUrl: ms.url,
      microsoftCaPath: ms.caPemPath,
      netsuiteUrl: ns.url,
      netsuiteAccountId: ns.accountId,
      awsMarketplaceUrl: market.url,
      offerProduct: [...market.state.store.products.values()][0].id,
      // The seeded agreements hold the first two buyers to the contract product; the third is free to accept.
      offerBuyer: BUYER_ACCOUNT_IDS[2],
      async stop() {
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Ends the co-sells of an earlier demo that still run: they follow opportunities and invitations
 * in cloud sandboxes that restarted empty.
 */
async function endDemoCoSells(client: Client, log: Logger): Promise<void> {
  const query = `EcosyncConnection = "${DEMO_CONNECTION}" AND EcosyncCloud IN ("aws", "azure") AND ExecutionStatus = "Running"`;
  let ended = 0;
  for await (const run of client.workflow.list({ query })) {
    await client.workflow.getHandle(run.workflowId, run.runId).terminate('the demo restarted with fresh cloud sandboxes').catch(() => undefined);
    ended++;
  }
  if (ended > 0) log.info({ ended }, 'ended the co-sells of the previous demo');
}

/** Forgets what an earlier demo synced: its sandboxes started over empty. */
async function resetDemoState(store: Store, connectionId: string): Promise<void> {
  await store.connections.forgetSynced(connectionId);
}
