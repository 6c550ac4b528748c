/**
 * What the metering tests share: an AWS Marketplace sandbox whose two usage products have
 * customers subscribed for the whole metering window, the hub's agreements for them, the
 * operator API in process, and usage spread over customers, dimensions and hours.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { ApiAuth, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import type { UsageRecord } from '../../src/model/index.js';
import type { Connection, Store } from '../../src/store/index.js';
import { canonicalIdFor } from '../../src/sync/index.js';
import { SELLER_ACCOUNT_ID, startAwsMarketplaceSandbox, SANDBOX_CREDENTIALS, type AwsMarketplaceSandbox } from '../../connectors/aws-marketplace/sandbox/index.js';
import type { FaultPlan } from '../../src/sandbox/index.js';
import { CRM_HUB } from '../support/hub.js';

export const HOUR = 3_600_000;
export const ADMIN_TOKEN = 'metering-admin-token-0123456789';

/** The start of the hour `n` hours before the current one. */
export const hourAgo = (n: number, now = Date.now()) => new Date(Math.floor(now / HOUR) * HOUR - n * HOUR).toISOString();

export interface Customer {
  /** The canonical account. */
  accountId: string;
  /** The buyer's AWS account id. */
  awsAccountId: string;
}

export interface AwsMetering {
  sandbox: AwsMarketplaceSandbox;
  /** Product codes: `hybrid` meters ApiCalls and DataGB, `usage` Events and StorageGB. */
  products: { hybrid: string; usage: string };
  customers: Customer[];
  /** Every record the sandbox was sent, by product, customer, dimension and hour, with the quantities sent. */
  received: Map<string, number[]>;
  close(): Promise<void>;
}

export const DIMENSIONS = [
  { product: 'hybrid', dimension: 'ApiCalls' }, { product: 'hybrid', dimension: 'DataGB' },
  { product: 'usage', dimension: 'Events' }, { product: 'usage', dimension: 'StorageGB' },
] as const;

/**
 * The sandbox with `customers` buyers subscribed to the two usage products since eight hours ago
 * (its clock starts eight hours behind, the agreements are accepted, then it catches up), so
 * every hour of AWS's six-hour window is inside their agreements.
 */
export async function startAwsMetering(customers: number, faults: FaultPlan = {}): Promise<AwsMetering> {
  const sandbox = await startAwsMarketplaceSandbox({ demo: false, now: () => Date.now() - 8 * HOUR, faults });
  const { state } = sandbox;
  const [, hybrid, usage] = [...state.store.products.values()];
  const until = new Date(state.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const legal = { Terms: [{ Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] }] };
  const usageTerm = (keys: string[]) => ({ Type: 'UsageBasedPricingTerm', CurrencyCode: 'USD', RateCards: [{ RateCard: keys.map((k) => ({ DimensionKey: k, Price: '0.01' })) }] });
  const pricing = {
    [hybrid.id]: {
      PricingModel: 'Contract',
      Terms: [{
        Type: 'ConfigurableUpfrontPricingTerm', CurrencyCode: 'USD',
        RateCards: [{ Selector: { Type: 'Duration', Value: 'P12M' }, RateCard: [{ DimensionKey: 'Users', Price: '300.00' }], Constraints: { MultipleDimensionSelection: 'Allowed', QuantityConfiguration: 'Allowed' } }],
      }, usageTerm(['ApiCalls', 'DataGB'])],
    },
    [usage.id]: { PricingModel: 'Usage', Terms: [usageTerm(['Events', 'StorageGB'])] },
  };
  /** A released private offer of the product for these buyers (at most 26 an offer). */
  const offerFor = (productId: string, buyers: string[]): string => {
    const ref = { Type: 'Offer@1.0', Identifier: '$offer.Entity.Identifier' };
    const { ChangeSetId } = state.catalog.startChangeSet(SELLER_ACCOUNT_ID, {
      Catalog: 'AWSMarketplace',
      ChangeSet: [
        { ChangeType: 'CreateOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { ProductId: productId } },
        { ChangeType: 'UpdateInformation', Entity: ref, DetailsDocument: { Name: 'Metered usage', Description: 'Usage billed as metered' } },
        { ChangeType: 'UpdateTargeting', Entity: ref, DetailsDocument: { PositiveTargeting: { BuyerAccounts: buyers } } },
        { ChangeType: 'UpdatePricingTerms', Entity: ref, DetailsDocument: pricing[productId] },
        { ChangeType: 'UpdateLegalTerms', Entity: ref, DetailsDocument: legal },
        { ChangeType: 'UpdateAvailability', Entity: ref, DetailsDocument: { AvailabilityEndDate: until } },
        { ChangeType: 'ReleaseOffer', Entity: ref, DetailsDocument: {} },
      ],
    });
    state.settle();
    const set = state.catalog.sets.get(ChangeSetId)!;
    if (set.status !== 'SUCCEEDED') throw new Error(`offer change set failed: ${JSON.stringify(set.changes.flatMap((c) => c.errors))}`);
    return set.changes.find((c) => c.creates)!.entityId;
  };
  const subscribeAll = (buyers: string[]) => {
    for (let i = 0; i < buyers.length; i += 25) {
      const chunk = buyers.slice(i, i + 25);
      const offers = { hybrid: offerFor(hybrid.id, chunk), usage: offerFor(usage.id, chunk) };
      for (const buyer of chunk) {
        state.accept(offers.hybrid, buyer, { dimensions: { Users: 1 } });
        state.accept(offers.usage, buyer);
      }
    }
  };
  const list: Customer[] = Array.from({ length: customers }, (_, i) => ({ accountId: canonicalIdFor('test', 'Account', `customer-${i}`), awsAccountId: String(100_000_000_000 + i) }));
  subscribeAll(list.map((c) => c.awsAccountId));
  state.advanceClock(8 * HOUR);

  // Every record the sandbox is sent, as it is sent (resends after a crash included).
  const received = new Map<string, number[]>();
  const batchMeterUsage = state.metering.batchMeterUsage.bind(state.metering);
  state.metering.batchMeterUsage = (account, input) => {
    const answer = batchMeterUsage(account, input);
    for (const r of input.UsageRecords as Array<{ CustomerAWSAccountId: string; Dimension: string; Timestamp: number; Quantity: number }>) {
      const key = `${input.ProductCode}|${r.CustomerAWSAccountId}|${r.Dimension}|${new Date(r.Timestamp * 1000).toISOString()}`;
      received.set(key, [...(received.get(key) ?? []), r.Quantity]);
    }
    return answer;
  };
  return {
    sandbox,
    products: { hybrid: hybrid.productCode, usage: usage.productCode },
    customers: list,
    received,
    close: () => sandbox.close(),
  };
}

/** A connection with the CRM sandboxes' credentials (never reached here) and the AWS Marketplace sandbox's. */
export async function meteringConnection(store: Store, aws: AwsMetering, extra: Record<string, unknown> = {}): Promise<Connection> {
  return store.connections.create({
    name: `metering-${randomUUID().slice(0, 8)}`,
    ...CRM_HUB,
    credentials: {
      // The CRMs are never reached: metering reads only the hub's usage and agreements.
      salesforce: { instanceUrl: 'http://127.0.0.1:9', accessToken: 'unused-0123456789' }, hubspot: { accessToken: 'unused-0123456789' },
      'aws-marketplace': { endpoint: aws.sandbox.url, region: 'us-east-1', ...SANDBOX_CREDENTIALS.seller },
      ...extra,
    },
  });
}

/** Records the hub's agreements for the customers, as the private offer workflow would have. */
export async function recordAgreements(store: Store, connectionId: string, customers: readonly Customer[]): Promise<void> {
  for (const c of customers) {
    await store.agreements.record({
      connectionId, cloud: 'aws', agreementId: `agmt-${c.awsAccountId}`, canonicalId: randomUUID(), offerId: 'offer-metered', privateOfferId: null,
      accountId: c.accountId, opportunityId: null, acceptor: c.awsAccountId, status: 'ACTIVE', acceptedAt: new Date(Date.now() - 8 * HOUR).toISOString(),
      startDate: new Date(Date.now() - 8 * HOUR).toISOString().slice(0, 10), endDate: null, totalContractValue: '0', currency: 'USD',
    });
  }
}

/** The operator API in process (fastify inject), with one admin token. */
export async function startApi(store: Store, client: Client, taskQueue: string): Promise<FastifyInstance> {
  return buildApi({
    log: pino({ level: 'silent' }),
    health: async () => ({ store: 'ok' }),
    plugins: [operatorRoutes({ store, client, taskQueue, auth: new ApiAuth(parseApiTokens(`root:admin:${ADMIN_TOKEN}`)) })],
  });
}

export async function post(app: FastifyInstance, url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: body as object });
  return { status: res.statusCode, body: res.json() };
}

/**
 * `events` usage events over the customers, the four dimensions and `hours` closed hours: event i
 * goes to key i mod (customers × 4 × hours), a quantity of 1 to 100 each. Returns the events and
 * each key's sum as the sandbox will see it (product code|AWS account|dimension|hour).
 */
export function usageEvents(aws: AwsMetering, options: { events: number; hours: number[]; prefix?: string; now?: number }): { events: UsageRecord[]; sums: Map<string, number> } {
  const keys = aws.customers.flatMap((c) => DIMENSIONS.flatMap((d) => options.hours.map((h) => ({ c, d, hour: hourAgo(h, options.now) }))));
  const events: UsageRecord[] = [];
  const sums = new Map<string, number>();
  for (let i = 0; i < options.events; i++) {
    const { c, d, hour } = keys[i % keys.length];
    const quantity = 1 + ((i * 7919) % 100);
    events.push({ accountId: c.accountId, cloud: 'aws', product: aws.products[d.product], dimension: d.dimension, quantity: String(quantity), hour, dedupeKey: `${options.prefix ?? 'e'}-${i}` });
    const key = `${aws.products[d.product]}|${c.awsAccountId}|${d.dimension}|${hour}`;
    sums.set(key, (sums.get(key) ?? 0) + quantity);
  }
  return { events, sums };
}

/** The fewest calls that can carry these keys: per product, 25 records a call. */
export function minimalCalls(keys: Iterable<string>): number {
  const perProduct = new Map<string, number>();
  for (const key of keys) perProduct.set(key.split('|')[0], (perProduct.get(key.split('|')[0]) ?? 0) + 1);
  return [...perProduct.values()].reduce((n, count) => n + Math.ceil(count / 25), 0);
}
