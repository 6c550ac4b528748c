import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import {
  DescribeChangeSetCommand, DescribeEntityCommand, MarketplaceCatalogClient, StartChangeSetCommand, type Change, type DescribeChangeSetCommandOutput,
} from '@aws-sdk/client-marketplace-catalog';
import { MarketplaceAgreementClient } from '@aws-sdk/client-marketplace-agreement';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { BUYER_ACCOUNT_IDS, SANDBOX_CREDENTIALS, startAwsMarketplaceSandbox, type AwsMarketplaceSandbox, type AwsMarketplaceSandboxOptions } from '../sandbox/index.js';

export const [BUYER, BUYER_2, BUYER_3] = BUYER_ACCOUNT_IDS;

type Credentials = { accessKeyId: string; secretAccessKey: string };

/** The three unmodified SDK clients pointed at the sandbox, as one account. */
export function clientsFor(url: string, credentials: Credentials = SANDBOX_CREDENTIALS.seller, maxAttempts?: number) {
  const config = { endpoint: url, region: 'us-east-1', credentials, ...(maxAttempts ? { maxAttempts } : {}) };
  return {
    catalog: new MarketplaceCatalogClient(config),
    agreement: new MarketplaceAgreementClient(config),
    metering: new MarketplaceMeteringClient(config),
  };
}

export interface Marketplace {
  sandbox: AwsMarketplaceSandbox;
  seller: ReturnType<typeof clientsFor>;
  reseller: ReturnType<typeof clientsFor>;
  /** Product ids: contract only, contract with usage dimensions, usage only. */
  products: { contract: string; hybrid: string; usage: string };
  productCodes: { contract: string; hybrid: string; usage: string };
  /** Starts a change set as the seller (or `as`), settles it, and describes it. */
  run(changes: Change[], extra?: { Intent?: 'APPLY' | 'VALIDATE'; ClientRequestToken?: string; as?: MarketplaceCatalogClient }): Promise<DescribeChangeSetCommandOutput>;
  describe(entityId: string, as?: MarketplaceCatalogClient): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export async function startMarketplace(options: AwsMarketplaceSandboxOptions = {}): Promise<Marketplace> {
  const sandbox = await startAwsMarketplaceSandbox({ demo: false, ...options });
  const seller = clientsFor(sandbox.url);
  const reseller = clientsFor(sandbox.url, SANDBOX_CREDENTIALS.reseller);
  const [contract, hybrid, usage] = [...sandbox.state.store.products.values()];
  return {
    sandbox,
    seller,
    reseller,
    products: { contract: contract.id, hybrid: hybrid.id, usage: usage.id },
    productCodes: { contract: contract.productCode, hybrid: hybrid.productCode, usage: usage.productCode },
    async run(changes, extra = {}) {
      const { as, ...rest } = extra;
      const client = as ?? seller.catalog;
      const { ChangeSetId } = await client.send(new StartChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSet: changes, ...rest }));
      sandbox.state.settle();
      return client.send(new DescribeChangeSetCommand({ Catalog: 'AWSMarketplace', ChangeSetId }));
    },
    async describe(entityId, as) {
      const out = await (as ?? seller.catalog).send(new DescribeEntityCommand({ Catalog: 'AWSMarketplace', EntityId: entityId }));
      expect(JSON.parse(out.Details!)).toEqual(out.DetailsDocument);
      return { ...(out.DetailsDocument as Record<string, unknown>), $entity: { identifier: out.EntityIdentifier, type: out.EntityType, arn: out.EntityArn } };
    },
    close: () => sandbox.close(),
  };
}

/** The entity a change set created (the first create of the set). */
export function createdId(set: DescribeChangeSetCommandOutput): string {
  const identifier = set.ChangeSet!.find((c) => c.ChangeType!.startsWith('Create'))!.Entity!.Identifier!;
  return identifier.replace(/@\d+$/, '');
}

/** Errors of a failed set as [ChangeType, ErrorCode] pairs. */
export function errorsOf(set: DescribeChangeSetCommandOutput): [string, string][] {
  return set.ChangeSet!.flatMap((c) => (c.ErrorDetailList ?? []).map((e): [string, string] => [c.ChangeType!, e.ErrorCode!]));
}

export function messagesOf(set: DescribeChangeSetCommandOutput): string[] {
  return set.ChangeSet!.flatMap((c) => (c.ErrorDetailList ?? []).map((e) => e.ErrorMessage!));
}

export const OFFER = { Type: 'Offer@1.0', Identifier: '$offer.Entity.Identifier' };
export const AUTHORIZATION = { Type: 'ResaleAuthorization@1.0', Identifier: '$auth.Entity.Identifier' };

/** A date `days` from the sandbox's now, YYYY-MM-DD. */
export function daysFrom(now: number, days: number): string {
  return new Date(now + days * 86_400_000).toISOString().slice(0, 10);
}

export const upfront = (keys: string[], price: string, selector = 'P12M') => ({
  Type: 'ConfigurableUpfrontPricingTerm',
  CurrencyCode: 'USD',
  RateCards: [{ Selector: { Type: 'Duration', Value: selector }, RateCard: keys.map((k) => ({ DimensionKey: k, Price: price })), Constraints: { MultipleDimensionSelection: 'Allowed', QuantityConfiguration: 'Allowed' } }],
});

export const customEula = { Terms: [{ Type: 'LegalTerm', Documents: [{ Type: 'CustomEula', Url: 'https://s3.amazonaws.com/ecosync-legal/custom-eula.pdf' }] }] };

/**
 * Every change of a direct private offer in one set, as AWS's own examples write it: create with
 * a ChangeName, then name, targeting, pricing, legal terms, availability and release by reference.
 * `patch` replaces documents by change type (undefined leaves a change out).
 */
export function directOffer(productId: string, availabilityEndDate: string, patch: Record<string, Record<string, unknown> | undefined> = {}): Change[] {
  const documents: Record<string, Record<string, unknown> | undefined> = {
    CreateOffer: { ProductId: productId },
    UpdateInformation: { Name: 'Acme annual analytics', Description: 'Private offer for Acme Analytics Corp.' },
    UpdateTargeting: { PositiveTargeting: { BuyerAccounts: [BUYER, BUYER_2] } },
    UpdatePricingTerms: { PricingModel: 'Contract', Terms: [upfront(['BasicService', 'PremiumService'], '15000.00')] },
    UpdateLegalTerms: customEula,
    UpdateAvailability: { AvailabilityEndDate: availabilityEndDate },
    ReleaseOffer: {},
    ...patch,
  };
  return Object.entries(documents)
    .filter(([, doc]) => doc !== undefined)
    .map(([ChangeType, DetailsDocument]) => ChangeType === 'CreateOffer'
      ? { ChangeType, ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument }
      : { ChangeType, Entity: OFFER, DetailsDocument }) as Change[];
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, any>;
}

/** An HTTP endpoint standing in for ecosync's event receiver: records what arrives; `status` is what it answers. */
export async function startReceiver(status = 200): Promise<{ url: string; received: Received[]; status: number; close(): Promise<void> }> {
  const received: Received[] = [];
  const state = { status };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    received,
    get status() { return state.status; },
    set status(s: number) { state.status = s; },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** Polls a condition until it holds or `ms` pass (a bound, not a sleep to wait for state). */
export async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Accepts an offer through the control route, as the buyer would on the offer's page. */
export async function acceptOffer(url: string, offerId: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${url}/_sandbox/offers/${offerId}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}
