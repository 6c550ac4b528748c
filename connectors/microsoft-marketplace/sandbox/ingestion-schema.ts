import { z } from 'zod';

/**
 * The JSON schemas of the Product Ingestion API's configure requests that the sandbox takes:
 * the configure envelope, private offers (2023-07-15) and the absolute prices of a plan in a
 * private offer (price-and-availability-private-offer-plan). A request that does not follow
 * them is refused at once with 400; what the schemas allow but Microsoft's business rules do
 * not (unknown plans, a discount over 100 %, dates out of order) fails the job instead.
 */
export const CONFIGURE_VERSION = '2022-07-01';
export const RESOURCE_VERSION = '2023-07-15';
export const CONFIGURE_SCHEMA = `https://schema.mp.microsoft.com/schema/configure/${CONFIGURE_VERSION}`;
export const CONFIGURE_STATUS_SCHEMA = `https://schema.mp.microsoft.com/schema/configure-status/${CONFIGURE_VERSION}`;
export const PRIVATE_OFFER_SCHEMA = `https://schema.mp.microsoft.com/schema/private-offer/${RESOURCE_VERSION}`;
export const PLAN_PRICE_SCHEMA = `https://schema.mp.microsoft.com/schema/price-and-availability-private-offer-plan/${RESOURCE_VERSION}`;
export const PRODUCT_SCHEMA = `https://schema.mp.microsoft.com/schema/product/${CONFIGURE_VERSION}`;
export const PLAN_SCHEMA = `https://schema.mp.microsoft.com/schema/plan/${CONFIGURE_VERSION}`;

export const OFFER_STATES = ['live', 'draft', 'withdrawn', 'deleted'] as const;
export const OFFER_TYPES = ['customerPromotion', 'cspPromotion', 'multipartyPromotionOriginator', 'multipartyPromotionChannelPartner'] as const;
export const PRICING_TYPES = ['editExistingOfferPricingOnly', 'saasNewCustomizedPlans', 'vmSoftwareReservations'] as const;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const term = z.strictObject({ type: z.enum(['month', 'year']), value: z.number().int().positive() });

const pricingItem = z.strictObject({
  product: z.string().min(1),
  productName: z.string().optional(),
  plan: z.string().optional(),
  planName: z.string().optional(),
  basePlan: z.string().optional(),
  discountType: z.enum(['percentage', 'absolute']),
  discountPercentage: z.number().optional(),
  priceDetails: z.union([z.strictObject({ resourceName: z.string().min(1) }), z.string()]).optional(),
  newPlanDetails: z.strictObject({ name: z.string(), description: z.string().optional() }).optional(),
});

export const privateOfferResource = z.strictObject({
  $schema: z.literal(PRIVATE_OFFER_SCHEMA),
  id: z.string().regex(/^private-offer\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected private-offer/<guid>').optional(),
  resourceName: z.string().optional(),
  name: z.string().min(1).max(150),
  state: z.enum(OFFER_STATES),
  privateOfferType: z.enum(OFFER_TYPES),
  offerPricingType: z.enum(PRICING_TYPES).optional(),
  variableStartDate: z.boolean().optional(),
  start: day.optional(),
  end: day.optional(),
  acceptBy: day.optional(),
  preparedBy: z.string().optional(),
  notificationContacts: z.array(z.string()).optional(),
  termsAndConditionsDocs: z.array(z.strictObject({ sasUrl: z.string(), fileName: z.string(), customerFacingDocumentName: z.string().optional() })).optional(),
  termsAndConditionsDocSasUrl: z.string().optional(),
  beneficiaries: z.array(z.strictObject({ id: z.string().min(1), description: z.string().optional() })).optional(),
  partners: z.array(z.strictObject({ id: z.string(), partnerName: z.string().optional(), location: z.string().optional() })).optional(),
  pricing: z.array(pricingItem).optional(),
  lastModified: z.string().optional(),
  eTag: z.string().optional(),
});
export type PrivateOfferResource = z.infer<typeof privateOfferResource>;
export type PricingItem = z.infer<typeof pricingItem>;

export const planPriceResource = z.strictObject({
  $schema: z.literal(PLAN_PRICE_SCHEMA),
  id: z.string().optional(),
  resourceName: z.string().min(1),
  product: z.string().min(1),
  plan: z.string().min(1),
  offerPricingType: z.enum(PRICING_TYPES).optional(),
  pricing: z.strictObject({
    recurrentPrice: z.strictObject({
      recurrentPriceMode: z.enum(['flatRate', 'perUser']).optional(),
      priceInputOption: z.literal('usd'),
      userLimits: z.strictObject({ min: z.number().int(), max: z.number().int() }).optional(),
      prices: z.array(z.strictObject({ pricePerPaymentInUsd: z.number(), billingTerm: term, paymentOption: term.optional() })),
    }).optional(),
    customMeters: z.strictObject({
      priceInputOption: z.literal('usd'),
      meters: z.record(z.string(), z.strictObject({ pricePerPaymentInUsd: z.number().optional(), includedQuantities: z.array(z.unknown()).optional() })),
    }).optional(),
  }),
});
export type PlanPriceResource = z.infer<typeof planPriceResource>;

export type ConfigureResource =
  | { kind: 'privateOffer'; index: number; resource: PrivateOfferResource }
  | { kind: 'planPrice'; index: number; resource: PlanPriceResource };

export interface SchemaProblem {
  code: 'schemaValidationError';
  message: string;
  target: string;
}

/** Reads a configure request body: the resources it holds, or what breaks the schemas, each with its path. */
export function parseConfigureRequest(body: unknown): { resources: ConfigureResource[] } | { problems: SchemaProblem[] } {
  const problem = (target: string, message: string): SchemaProblem => ({ code: 'schemaValidationError', message, target });
  if (!isObject(body)) return { problems: [problem('', 'The request body must be a JSON object.')] };
  if (body.$schema !== CONFIGURE_SCHEMA) return { problems: [problem('$schema', `$schema must be ${CONFIGURE_SCHEMA}.`)] };
  const extra = Object.keys(body).filter((k) => k !== '$schema' && k !== 'resources');
  if (extra.length > 0) return { problems: [problem(extra[0], `Property '${extra[0]}' is not allowed.`)] };
  if (!Array.isArray(body.resources) || body.resources.length === 0) return { problems: [problem('resources', 'resources must be a non-empty array.')] };
  const resources: ConfigureResource[] = [];
  const problems: SchemaProblem[] = [];
  body.resources.forEach((raw: unknown, index: number) => {
    const at = `resources[${index}]`;
    const schema = isObject(raw) ? raw.$schema : undefined;
    const parser = schema === PRIVATE_OFFER_SCHEMA ? privateOfferResource : schema === PLAN_PRICE_SCHEMA ? planPriceResource : undefined;
    if (!parser) {
      problems.push(problem(`${at}.$schema`, `Unknown resource $schema '${String(schema)}': expected ${PRIVATE_OFFER_SCHEMA} or ${PLAN_PRICE_SCHEMA}.`));
      return;
    }
    const parsed = parser.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(problem(pathOf(at, issue.path), issue.message));
      return;
    }
    resources.push(schema === PRIVATE_OFFER_SCHEMA
      ? { kind: 'privateOffer', index, resource: parsed.data as PrivateOfferResource }
      : { kind: 'planPrice', index, resource: parsed.data as PlanPriceResource });
  });
  return problems.length > 0 ? { problems } : { resources };
}

/** `resources[0]` + ['pricing', 1, 'plan'] → `resources[0].pricing[1].plan`. */
export function pathOf(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out;
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
