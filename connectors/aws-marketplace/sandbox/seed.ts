import type { Dimension, Product } from './entities.js';
import type { MarketplaceState } from './state.js';

/**
 * The marketplace a sandbox starts with: a seller with three SaaS products (contract, contract
 * with usage, usage only), a channel partner, buyers, and for a demo a few offers, a resale
 * authorization and agreements made through the same change sets and acceptance a client uses.
 */
export const SELLER_ACCOUNT_ID = '123456789012';
export const RESELLER_ACCOUNT_ID = '210987654321';
export const BUYER_ACCOUNT_IDS = ['444455556666', '777788889999', '333344445555'] as const;

const LEGAL_NAMES: Record<string, string> = {
  [SELLER_ACCOUNT_ID]: 'Ecosync Demo Software Inc.',
  [RESELLER_ACCOUNT_ID]: 'Summit Cloud Partners LLC',
  [BUYER_ACCOUNT_IDS[0]]: 'Acme Analytics Corp.',
  [BUYER_ACCOUNT_IDS[1]]: 'Globex Logistics Ltd.',
  [BUYER_ACCOUNT_IDS[2]]: 'Initech Health Inc.',
};

const dimension = (Key: string, Name: string, Unit: string, type: Dimension['Types'][number]): Dimension => ({ Key, Name, Description: `${Name} (${Unit.toLowerCase()})`, Unit, Types: [type] });

const PRODUCTS: Omit<Product, 'id' | 'productCode' | 'owner' | 'revision' | 'created' | 'lastModified' | 'kind'>[] = [
  {
    title: 'Ecosync Analytics Platform',
    shortDescription: 'Analytics for partner ecosystems, sold as an annual contract by tier.',
    visibility: 'Public',
    dimensions: [dimension('BasicService', 'Basic tier', 'Units', 'Entitled'), dimension('PremiumService', 'Premium tier', 'Units', 'Entitled')],
  },
  {
    title: 'Ecosync Data Pipeline',
    shortDescription: 'Seats under contract, with API calls and data processed billed as used.',
    visibility: 'Public',
    dimensions: [
      dimension('Users', 'Seats', 'Users', 'Entitled'),
      dimension('ApiCalls', 'API calls', 'Requests', 'ExternallyMetered'),
      dimension('DataGB', 'Data processed', 'GB', 'ExternallyMetered'),
    ],
  },
  {
    title: 'Ecosync Event Relay',
    shortDescription: 'Pay as you go: events relayed and storage used.',
    visibility: 'Limited',
    dimensions: [dimension('Events', 'Events relayed', 'Requests', 'ExternallyMetered'), dimension('StorageGB', 'Storage', 'GB', 'ExternallyMetered')],
  },
];

export interface SeedOptions {
  /** Offers, a resale authorization and agreements to show (default true); products are always there. */
  demo?: boolean;
}

/** Seeds the marketplace; returns the products (contract, contract + usage, usage only). */
export function seedMarketplace(state: MarketplaceState, options: SeedOptions = {}): Product[] {
  const store = state.store;
  for (const [account, name] of Object.entries(LEGAL_NAMES)) store.legalNames.set(account, name);
  const now = store.now();
  const products = PRODUCTS.map((p): Product => ({
    ...p, kind: 'SaaSProduct', id: store.ids.product(), productCode: store.ids.productCode(), owner: SELLER_ACCOUNT_ID, revision: 1, created: now, lastModified: now,
  }));
  for (const product of products) store.products.set(product.id, product);
  if (options.demo !== false) seedDemo(state, products);
  store.events.clear();
  return products;
}

function seedDemo(state: MarketplaceState, [contract, hybrid, usage]: Product[]): void {
  const until = new Date(state.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const legal = { Terms: [{ Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] }] };
  const run = (account: string, changes: Record<string, unknown>[]): string[] => {
    const { ChangeSetId } = state.catalog.startChangeSet(account, { Catalog: 'AWSMarketplace', ChangeSet: changes });
    state.settle();
    const set = state.catalog.sets.get(ChangeSetId)!;
    if (set.status !== 'SUCCEEDED') throw new Error(`the demo seed's change set failed: ${JSON.stringify(set.changes.flatMap((c) => c.errors))}`);
    return set.changes.filter((c) => c.creates).map((c) => c.entityId);
  };
  const offer = (productId: string, name: string, buyers: string[], pricing: Record<string, unknown>, release: boolean) => {
    const ref = { Type: 'Offer@1.0', Identifier: '$offer.Entity.Identifier' };
    return run(SELLER_ACCOUNT_ID, [
      { ChangeType: 'CreateOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: { ProductId: productId } },
      { ChangeType: 'UpdateInformation', Entity: ref, DetailsDocument: { Name: name, Description: `${name}, a private offer` } },
      { ChangeType: 'UpdateTargeting', Entity: ref, DetailsDocument: { PositiveTargeting: { BuyerAccounts: buyers } } },
      { ChangeType: 'UpdatePricingTerms', Entity: ref, DetailsDocument: pricing },
      { ChangeType: 'UpdateLegalTerms', Entity: ref, DetailsDocument: legal },
      { ChangeType: 'UpdateAvailability', Entity: ref, DetailsDocument: { AvailabilityEndDate: until } },
      ...(release ? [{ ChangeType: 'ReleaseOffer', Entity: ref, DetailsDocument: {} }] : []),
    ])[0];
  };
  const upfront = (keys: string[], price: string) => ({
    Type: 'ConfigurableUpfrontPricingTerm',
    CurrencyCode: 'USD',
    RateCards: [{ Selector: { Type: 'Duration', Value: 'P12M' }, RateCard: keys.map((k) => ({ DimensionKey: k, Price: price })), Constraints: { MultipleDimensionSelection: 'Allowed', QuantityConfiguration: 'Allowed' } }],
  });
  const [buyer1, buyer2, buyer3] = BUYER_ACCOUNT_IDS;
  const analytics = offer(contract.id, 'Analytics annual contract', [buyer1, buyer2], { PricingModel: 'Contract', Terms: [upfront(['BasicService', 'PremiumService'], '12000.00')] }, true);
  const pipeline = offer(hybrid.id, 'Data pipeline seats and usage', [buyer2], {
    PricingModel: 'Contract',
    Terms: [upfront(['Users'], '300.00'), { Type: 'UsageBasedPricingTerm', CurrencyCode: 'USD', RateCards: [{ RateCard: [{ DimensionKey: 'ApiCalls', Price: '0.002' }, { DimensionKey: 'DataGB', Price: '0.10' }] }] }],
  }, true);
  offer(usage.id, 'Event relay pay as you go', [buyer3], {
    PricingModel: 'Usage',
    Terms: [{ Type: 'UsageBasedPricingTerm', CurrencyCode: 'USD', RateCards: [{ RateCard: [{ DimensionKey: 'Events', Price: '0.0001' }, { DimensionKey: 'StorageGB', Price: '0.05' }] }] }],
  }, false);
  const authorization = { Type: 'ResaleAuthorization@1.0', Identifier: '$auth.Entity.Identifier' };
  run(SELLER_ACCOUNT_ID, [
    { ChangeType: 'CreateResaleAuthorization', ChangeName: 'auth', Entity: { Type: 'ResaleAuthorization@1.0' }, DetailsDocument: { ProductId: hybrid.id, Name: 'Data pipeline through Summit Cloud Partners', ResellerAccountId: RESELLER_ACCOUNT_ID } },
    { ChangeType: 'UpdatePricingTerms', Entity: authorization, DetailsDocument: { PricingModel: 'Contract', Terms: [{ ...upfront(['Users'], '250.00'), Type: 'ResaleConfigurableUpfrontPricingTerm' }] } },
    { ChangeType: 'UpdateLegalTerms', Entity: authorization, DetailsDocument: { Terms: [{ Type: 'BuyerLegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] }] } },
    { ChangeType: 'UpdateAvailability', Entity: authorization, DetailsDocument: { AvailabilityEndDate: until } },
    { ChangeType: 'ReleaseResaleAuthorization', Entity: authorization, DetailsDocument: {} },
  ]);
  state.accept(analytics, buyer1, { dimensions: { BasicService: 1 } });
  state.accept(pipeline, buyer2, { dimensions: { Users: 25 } });
}
