import { Decimal } from 'decimal.js';

/**
 * The publisher's transactable SaaS products in Partner Center: each product (offer) has plans
 * with list prices per billing term and metering dimensions with a price per unit. Private
 * offers discount or re-price these plans; SaaS subscriptions and usage events refer to them
 * by their external ids (offerId, planId, dimension). Prices are decimal strings in USD.
 */
export type TermUnit = 'P1M' | 'P1Y';

export interface Meter {
  /** The dimension id usage events name. */
  id: string;
  displayName: string;
  unitOfMeasure: string;
  pricePerUnitUsd: string;
}

export interface Plan {
  /** Durable id: `plan/<product guid>/<plan guid>`. */
  id: string;
  guid: string;
  /** The planId of SaaS subscriptions and usage events. */
  externalId: string;
  displayName: string;
  description: string;
  /** Priced per seat (user); a subscription then has a quantity within the limits. */
  isPricePerSeat: boolean;
  minQuantity?: number;
  maxQuantity?: number;
  /** List price per billing term (per seat when priced per seat). */
  prices: Array<{ termUnit: TermUnit; priceUsd: string }>;
  meters: Meter[];
}

export interface Product {
  /** Durable id: `product/<guid>`. */
  id: string;
  guid: string;
  /** The offerId of SaaS subscriptions. */
  externalId: string;
  alias: string;
  publisherId: string;
  /** The Entra app of the offer's technical configuration; calls from another app are refused. Unset: any app. */
  appId?: string;
  plans: Plan[];
}

export interface PlanSeed {
  externalId: string;
  displayName: string;
  isPricePerSeat?: boolean;
  minQuantity?: number;
  maxQuantity?: number;
  prices: Array<{ termUnit: TermUnit; priceUsd: string }>;
  meters?: Meter[];
}

export interface ProductSeed {
  externalId: string;
  alias: string;
  appId?: string;
  plans: PlanSeed[];
}

/** What a sandbox starts with: one flat-rate product with metered dimensions and one priced per seat. */
export const DEFAULT_PRODUCTS: readonly ProductSeed[] = [
  {
    externalId: 'ecosync-analytics',
    alias: 'ecosync Analytics',
    plans: [
      {
        externalId: 'basic', displayName: 'Basic',
        prices: [{ termUnit: 'P1M', priceUsd: '100.00' }],
        meters: [
          { id: 'api_calls', displayName: 'API calls', unitOfMeasure: 'call', pricePerUnitUsd: '0.01' },
          { id: 'storage_gb', displayName: 'Storage', unitOfMeasure: 'GB-month', pricePerUnitUsd: '0.25' },
        ],
      },
      {
        externalId: 'pro', displayName: 'Professional',
        prices: [{ termUnit: 'P1M', priceUsd: '500.00' }, { termUnit: 'P1Y', priceUsd: '5400.00' }],
        meters: [
          { id: 'api_calls', displayName: 'API calls', unitOfMeasure: 'call', pricePerUnitUsd: '0.008' },
          { id: 'storage_gb', displayName: 'Storage', unitOfMeasure: 'GB-month', pricePerUnitUsd: '0.20' },
        ],
      },
    ],
  },
  {
    externalId: 'ecosync-seats',
    alias: 'ecosync Workspace',
    plans: [
      { externalId: 'team', displayName: 'Team', isPricePerSeat: true, minQuantity: 5, maxQuantity: 100, prices: [{ termUnit: 'P1M', priceUsd: '20.00' }] },
      {
        externalId: 'enterprise', displayName: 'Enterprise', isPricePerSeat: true, minQuantity: 50, maxQuantity: 10_000,
        prices: [{ termUnit: 'P1M', priceUsd: '35.00' }, { termUnit: 'P1Y', priceUsd: '378.00' }],
      },
    ],
  },
];

export class Catalog {
  private readonly byId = new Map<string, Product>();

  constructor(private readonly guid: () => string, private readonly publisherId: string) {}

  add(seed: ProductSeed): Product {
    const productGuid = this.guid();
    const product: Product = {
      id: `product/${productGuid}`, guid: productGuid, externalId: seed.externalId, alias: seed.alias,
      publisherId: this.publisherId, appId: seed.appId,
      plans: seed.plans.map((p) => {
        const planGuid = this.guid();
        return {
          id: `plan/${productGuid}/${planGuid}`, guid: planGuid, externalId: p.externalId, displayName: p.displayName,
          description: `${seed.alias} ${p.displayName}`, isPricePerSeat: p.isPricePerSeat ?? false,
          minQuantity: p.minQuantity, maxQuantity: p.maxQuantity, prices: p.prices.map((x) => ({ ...x })), meters: (p.meters ?? []).map((m) => ({ ...m })),
        };
      }),
    };
    this.byId.set(product.id, product);
    return product;
  }

  all(): Product[] {
    return [...this.byId.values()];
  }

  /** By durable id (`product/<guid>`). */
  product(ref: string): Product | undefined {
    return this.byId.get(ref.toLowerCase());
  }

  byOfferId(offerId: string): Product | undefined {
    return this.all().find((p) => p.externalId === offerId);
  }

  /** By `plan/<product guid>/<plan guid>` or the short `plan/<plan guid>`. */
  plan(product: Product, ref: string): Plan | undefined {
    const r = ref.toLowerCase();
    return product.plans.find((p) => p.id === r || `plan/${p.guid}` === r);
  }
}

/** A plan's list prices after a percentage discount, or as an absolute price resource sets them. */
export interface PlanPrices {
  terms: Array<{ termUnit: TermUnit; listPriceUsd: string; priceUsd: string }>;
  meters: Array<{ dimension: string; listPriceUsd: string; priceUsd: string }>;
}

export function discounted(plan: Plan, percentage: number): PlanPrices {
  const factor = new Decimal(100).minus(String(percentage)).div(100);
  const apply = (usd: string) => money(new Decimal(usd).times(factor));
  return {
    terms: plan.prices.map((p) => ({ termUnit: p.termUnit, listPriceUsd: p.priceUsd, priceUsd: apply(p.priceUsd) })),
    meters: plan.meters.map((m) => ({ dimension: m.id, listPriceUsd: m.pricePerUnitUsd, priceUsd: apply(m.pricePerUnitUsd) })),
  };
}

/** At least two decimals, and every decimal the value has (a meter may cost 0.008). */
export function money(value: Decimal.Value): string {
  const d = new Decimal(value);
  return d.toFixed(Math.max(2, d.decimalPlaces()));
}

export const TERM_OF: Record<TermUnit, { type: 'month' | 'year'; value: number }> = {
  P1M: { type: 'month', value: 1 },
  P1Y: { type: 'year', value: 1 },
};

export function termUnitOf(term: { type: string; value: number }): TermUnit | undefined {
  if (term.value !== 1) return undefined;
  return term.type === 'month' ? 'P1M' : term.type === 'year' ? 'P1Y' : undefined;
}
