/**
 * The Catalog's entities as the sandbox keeps them: SaaS products (seeded, read-only), offers and
 * resale authorizations (made by change sets). Terms are kept in AWS's own DetailsDocument shape
 * (`{Type: "LegalTerm", Documents: [...]}`), so what a change set wrote is what DescribeEntity reads.
 */
export type Term = { Type: string } & Record<string, unknown>;

export interface Dimension {
  Key: string;
  Name: string;
  Description: string;
  Unit: string;
  /** Entitled: bought upfront in a contract; ExternallyMetered: reported with BatchMeterUsage. */
  Types: ('Entitled' | 'ExternallyMetered')[];
}

interface EntityBase {
  id: string;
  /** The account that made it (the manufacturer for products and resale authorizations). */
  owner: string;
  revision: number;
  created: number;
  lastModified: number;
}

export interface Product extends EntityBase {
  kind: 'SaaSProduct';
  title: string;
  shortDescription: string;
  visibility: 'Public' | 'Limited' | 'Restricted';
  /** What metering calls name the product by (BatchMeterUsage's ProductCode). */
  productCode: string;
  dimensions: Dimension[];
}

export interface Offer extends EntityBase {
  kind: 'Offer';
  productId: string;
  name?: string;
  description?: string;
  preExistingAgreement?: Record<string, unknown>;
  state: 'Draft' | 'Released';
  releaseDate?: number;
  /** Pricing, legal, validity, payment schedule, support and renewal terms. */
  terms: Term[];
  pricingModel?: string;
  /** YYYY-MM-DD: the offer expires at the end of that day (UTC). */
  availabilityEndDate?: string;
  buyerAccounts?: string[];
  offerSetId?: string;
  /** A channel partner's offer: made from this resale authorization, priced from it plus the markup. */
  resaleAuthorizationId?: string;
  markupPercentage?: string;
  /** A replacement offer: accepting it replaces this agreement. */
  replacesAgreementId?: string;
}

export interface ResaleAuthorization extends EntityBase {
  kind: 'ResaleAuthorization';
  productId: string;
  name?: string;
  description?: string;
  preExistingBuyerAgreement?: Record<string, unknown>;
  resellerAccountId: string;
  status: 'Draft' | 'Active' | 'Restricted';
  /** Resale* pricing, BuyerLegalTerm / ResaleLegalTerm, ResalePaymentScheduleTerm, BuyerTargetingTerm. */
  terms: Term[];
  pricingModel?: string;
  availabilityEndDate?: string;
  offersMaxQuantity?: number;
  offersCreated: number;
}

export type Entity = Product | Offer | ResaleAuthorization;

export const ENTITY_TYPE = { SaaSProduct: 'SaaSProduct@1.0', Offer: 'Offer@1.0', ResaleAuthorization: 'ResaleAuthorization@1.0' } as const;

/** Term types by what replaces them: an UpdatePricingTerms replaces every pricing term, and so on. */
export const PRICING_TERMS = ['ConfigurableUpfrontPricingTerm', 'UsageBasedPricingTerm', 'FixedUpfrontPricingTerm', 'ByolPricingTerm'];
export const RESALE_PRICING_TERMS = PRICING_TERMS.filter((t) => t !== 'ByolPricingTerm').map((t) => `Resale${t}`);

/** The entity's terms with those of `types` replaced by `next`. */
export function replaceTerms(terms: Term[], types: readonly string[], next: Term[]): Term[] {
  return [...terms.filter((t) => !types.includes(t.Type)), ...next];
}

export function termOf(terms: Term[], type: string): Term | undefined {
  return terms.find((t) => t.Type === type);
}

/** The offer is past its availability end date on this clock. */
export function isExpired(entity: { availabilityEndDate?: string }, now: number): boolean {
  return entity.availabilityEndDate !== undefined && now > Date.parse(`${entity.availabilityEndDate}T23:59:59.999Z`);
}

export function entityArn(account: string, kind: Entity['kind'], id: string): string {
  return `arn:aws:aws-marketplace:us-east-1:${account}:AWSMarketplace/${kind}/${id}`;
}
