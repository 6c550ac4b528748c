import type { OfferProblem, PrivateOffer } from '../model/index.js';

/**
 * A private offer as a Microsoft Product Ingestion resource (`private-offer`, 2023-07-15): a
 * customer promotion of one product's plan to its beneficiaries, at the offer's discount from the
 * plan's list prices, accepted by `acceptBy` and starting when the customer accepts. Microsoft's
 * job errors name the path in the request (`resources[0].beneficiaries`): each becomes a problem
 * naming the offer's field and, through the terms mapping, the CRM field. No I/O.
 */

export const PRIVATE_OFFER_SCHEMA = 'https://schema.mp.microsoft.com/schema/private-offer/2023-07-15';

/** The resource a configure request carries; `state: withdrawn` withdraws it by its id. */
export function microsoftOfferResource(offer: PrivateOffer, options: { state?: 'live' | 'withdrawn'; id?: string } = {}): Record<string, unknown> {
  if (options.state === 'withdrawn') {
    return { $schema: PRIVATE_OFFER_SCHEMA, id: options.id, name: offer.name, state: 'withdrawn' };
  }
  const months = Number(/^P(\d+)M$/.exec(offer.duration)?.[1] ?? Number(/^P(\d+)Y$/.exec(offer.duration)?.[1] ?? 1) * 12);
  return {
    $schema: PRIVATE_OFFER_SCHEMA,
    name: offer.name,
    state: 'live',
    privateOfferType: 'customerPromotion',
    offerPricingType: 'editExistingOfferPricingOnly',
    // The offer starts when the customer accepts it, and its pricing holds for the term after the last day to accept.
    variableStartDate: true,
    end: addMonths(offer.expiresOn, months),
    acceptBy: offer.expiresOn,
    preparedBy: offer.requestedBy,
    notificationContacts: [offer.requestedBy],
    beneficiaries: offer.buyerAccounts.map((id) => ({ id: beneficiaryId(id), ...(offer.description ? { description: offer.description.slice(0, 100) } : {}) })),
    pricing: [{ product: offer.productId, plan: offer.planId, discountType: 'percentage', discountPercentage: Number(offer.discountPercent ?? '0') }],
  };
}

/** Microsoft names a beneficiary `<tenant>:<billing account>_2019-05-31`; the CRM may hold it without the version. */
export function beneficiaryId(id: string): string {
  return /_\d{4}-\d{2}-\d{2}$/.test(id) ? id : `${id}_2019-05-31`;
}

/** The offer's field a configure error's target names. */
const TARGET_FIELDS: Array<[RegExp, string]> = [
  [/\.beneficiaries/, 'buyerAccounts'],
  [/\.acceptBy|\.end$/, 'expiresOn'],
  [/\.pricing\[\d+\]\.product/, 'productId'],
  [/\.pricing\[\d+\]\.plan/, 'planId'],
  [/\.pricing/, 'dimensions'],
  [/\.name/, 'name'],
];

const LABELS: Record<string, string> = {
  buyerAccounts: 'the beneficiaries', expiresOn: 'the accept-by date', productId: 'the product', planId: 'the plan', dimensions: 'the prices', name: 'the name',
};

export interface MicrosoftError {
  code: string;
  message: string;
  target?: string;
}

export function microsoftProblems(errors: readonly MicrosoftError[], crmFieldOf: (field: string) => string | undefined): OfferProblem[] {
  return errors.map((e) => {
    const field = e.target ? TARGET_FIELDS.find(([pattern]) => pattern.test(e.target!))?.[1] : undefined;
    const crmField = field ? crmFieldOf(field) : undefined;
    const where = crmField ? ` (${crmField} on the opportunity)` : field ? ' (in the offer\'s request)' : '';
    return {
      code: e.code,
      message: `The Microsoft marketplace refused ${field ? LABELS[field] : 'the offer'}${where}: ${e.message}`,
      ...(field ? { field } : {}),
      ...(crmField ? { crmField } : {}),
    };
  });
}

function addMonths(day: string, months: number): string {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1 + months, d));
  return date.toISOString().slice(0, 10);
}
