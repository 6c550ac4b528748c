import type { CompiledMapping } from '../mapping/index.js';
import type { OfferProblem, PrivateOffer } from '../model/index.js';

/**
 * A private offer as AWS Marketplace change sets. The offer's document comes from its mapping
 * file (mappings/aws-marketplace-offer.yaml: each top-level key a change type holding its
 * DetailsDocument); this glue puts the changes in order, refers each to the offer made in the
 * same set, and releases it. For a channel partner offer (CPPO) the same document becomes the
 * seller's resale authorization, and the reseller's offer is made from it with a markup. No I/O.
 */

/** One change of a StartChangeSet, as the Catalog SDK takes it. */
export interface CatalogChange {
  ChangeType: string;
  ChangeName?: string;
  Entity: { Type: string; Identifier?: string };
  DetailsDocument: Record<string, unknown>;
}

type Document = Record<string, Record<string, unknown> | undefined>;

const OFFER = { Type: 'Offer@1.0', Identifier: '$offer.Entity.Identifier' };
const AUTHORIZATION = { Type: 'ResaleAuthorization@1.0', Identifier: '$authorization.Entity.Identifier' };
/** The order the offer's changes go in after it is created; ReleaseOffer comes last. */
const OFFER_CHANGES = ['UpdateInformation', 'UpdateTargeting', 'UpdatePricingTerms', 'UpdateValidityTerms', 'UpdatePaymentScheduleTerms', 'UpdateLegalTerms', 'UpdateAvailability'];

/** The offer's change-set document, from its mapping file. Missing values are left out, not invented: AWS then names them. */
export function awsOfferDocument(mapping: CompiledMapping, offer: PrivateOffer): Document {
  const result = mapping.reverse(offer as unknown as Record<string, unknown>);
  if (!result.ok) throw new Error(`offer mapping ${mapping.file} cannot map this offer: ${result.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  return result.value as Document;
}

/** A direct private offer in one set: created, described, targeted, priced, given its terms, released. */
export function directOfferChanges(doc: Document): CatalogChange[] {
  return [
    { ChangeType: 'CreateOffer', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' }, DetailsDocument: doc.CreateOffer ?? {} },
    ...OFFER_CHANGES.filter((type) => doc[type] !== undefined).map((type) => ({ ChangeType: type, Entity: OFFER, DetailsDocument: doc[type]! })),
    { ChangeType: 'ReleaseOffer', Entity: OFFER, DetailsDocument: {} },
  ];
}

/**
 * The seller's side of a CPPO: a resale authorization for the reseller, for one offer to the
 * offer's buyers, priced at the offer's (wholesale) prices, with the offer's EULA for the buyer.
 */
export function resaleAuthorizationChanges(doc: Document, offer: Pick<PrivateOffer, 'resale'>): CatalogChange[] {
  const reseller = offer.resale?.resellerAccountId;
  if (!reseller) throw new Error('a channel partner offer needs the reseller\'s account (resale.resellerAccountId)');
  const pricing = doc.UpdatePricingTerms;
  const terms = (pricing?.Terms as Record<string, unknown>[] | undefined)?.map((t) => ({ ...t, Type: `Resale${String(t.Type)}` }));
  const legal = (doc.UpdateLegalTerms?.Terms as { Documents?: unknown[] }[] | undefined)?.[0]?.Documents;
  const buyers = (doc.UpdateTargeting?.PositiveTargeting as { BuyerAccounts?: string[] } | undefined)?.BuyerAccounts;
  const schedule = doc.UpdatePaymentScheduleTerms?.Terms as Record<string, unknown>[] | undefined;
  const changes: CatalogChange[] = [
    {
      ChangeType: 'CreateResaleAuthorization', ChangeName: 'authorization', Entity: { Type: 'ResaleAuthorization@1.0' },
      DetailsDocument: definedOnly({ ProductId: doc.CreateOffer?.ProductId, Name: doc.UpdateInformation?.Name, Description: doc.UpdateInformation?.Description, ResellerAccountId: reseller }),
    },
  ];
  if (pricing) changes.push({ ChangeType: 'UpdatePricingTerms', Entity: AUTHORIZATION, DetailsDocument: definedOnly({ PricingModel: pricing.PricingModel, Terms: terms }) });
  if (schedule) changes.push({ ChangeType: 'UpdatePaymentScheduleTerms', Entity: AUTHORIZATION, DetailsDocument: { Terms: schedule.map((t) => ({ ...t, Type: 'ResalePaymentScheduleTerm' })) } });
  if (legal) changes.push({ ChangeType: 'UpdateLegalTerms', Entity: AUTHORIZATION, DetailsDocument: { Terms: [{ Type: 'BuyerLegalTerm', Documents: legal }] } });
  changes.push({ ChangeType: 'UpdateAvailability', Entity: AUTHORIZATION, DetailsDocument: definedOnly({ AvailabilityEndDate: doc.UpdateAvailability?.AvailabilityEndDate, OffersMaxQuantity: 1 }) });
  if (buyers) changes.push({ ChangeType: 'UpdateBuyerTargetingTerms', Entity: AUTHORIZATION, DetailsDocument: { Terms: [{ Type: 'BuyerTargetingTerm', PositiveTargeting: { BuyerAccounts: buyers } }] } });
  changes.push({ ChangeType: 'ReleaseResaleAuthorization', Entity: AUTHORIZATION, DetailsDocument: {} });
  return changes;
}

/** The reseller's side of a CPPO: its offer made from the authorization, marked up, targeted and released. */
export function resellerOfferChanges(doc: Document, resaleAuthorizationId: string, markupPercent: string): CatalogChange[] {
  return [
    {
      ChangeType: 'CreateOfferUsingResaleAuthorization', ChangeName: 'offer', Entity: { Type: 'Offer@1.0' },
      DetailsDocument: definedOnly({ ResaleAuthorizationId: resaleAuthorizationId, Name: doc.UpdateInformation?.Name, Description: doc.UpdateInformation?.Description }),
    },
    { ChangeType: 'UpdateMarkup', Entity: OFFER, DetailsDocument: { Percentage: markupPercent } },
    ...(doc.UpdateTargeting ? [{ ChangeType: 'UpdateTargeting', Entity: OFFER, DetailsDocument: doc.UpdateTargeting }] : []),
    ...(doc.UpdateAvailability ? [{ ChangeType: 'UpdateAvailability', Entity: OFFER, DetailsDocument: doc.UpdateAvailability }] : []),
    { ChangeType: 'ReleaseOffer', Entity: OFFER, DetailsDocument: {} },
  ];
}

/** Where the buyer accepts a SaaS private offer. */
export function awsBuyerUrl(productId: string, offerId: string): string {
  return `https://aws.amazon.com/marketplace/saas/ordering?productId=${encodeURIComponent(productId)}&offerId=${encodeURIComponent(offerId)}`;
}

/** What a failed change set says, change by change. */
export interface ChangeError {
  changeType: string;
  code: string;
  message: string;
}

/** The offer's fields as people call them, for messages. */
const LABELS: Record<string, string> = {
  productId: 'the marketplace product', name: 'the offer name', description: 'the description', buyerAccounts: 'the buyers',
  pricingModel: 'the pricing model', currency: 'the currency', dimensions: 'the prices', duration: 'the term',
  expiresOn: 'the expiry date', paymentSchedule: 'the payment schedule', eula: 'the EULA', markupPercent: 'the markup', resale: 'the resale authorization',
};

/** Where AWS's codes point when its message names no field. */
const CODE_FIELDS: Record<string, string> = {
  INCOMPATIBLE_PRODUCT: 'productId', INVALID_BUYER_ACCOUNTS: 'buyerAccounts', TOO_MANY_BUYER_ACCOUNTS: 'buyerAccounts', MISSING_BUYER_ACCOUNTS: 'buyerAccounts',
  INVALID_LEGAL_DOCUMENTS: 'eula', INVALID_RATE_CARD: 'dimensions', INVALID_CURRENCY_CODE: 'currency', INVALID_SELECTOR_DURATION_VALUE: 'duration',
  MISSING_AVAILABILITY_END_DATE: 'expiresOn', MISSING_NAME: 'name', TOO_MANY_CHARGES: 'paymentSchedule', INVALID_CHARGE_DATES: 'paymentSchedule',
  INCOMPATIBLE_RESALE_AUTHORIZATION: 'resale',
};

/**
 * The marketplace's refusals in words an alliance manager acts on: which of the offer's fields,
 * and the CRM field it comes from (through the CRM's terms mapping), so they fix it there and
 * resubmit. `crmFieldOf` maps a PrivateOffer field to the CRM field, when the CRM holds it.
 */
export function offerProblems(errors: readonly ChangeError[], mapping: CompiledMapping, crmFieldOf: (field: string) => string | undefined): OfferProblem[] {
  return errors.map((e) => {
    const named = /^([A-Za-z][\w.[\]]*): (.*)$/s.exec(e.message);
    const path = named ? `${e.changeType}.${named[1]}` : undefined;
    const field = (path && canonicalFieldOf(mapping, path)) ?? CODE_FIELDS[e.code];
    const crmField = field ? crmFieldOf(field) : undefined;
    const what = field ? LABELS[field] ?? field : 'the offer';
    const where = crmField ? ` (${crmField} on the opportunity)` : field ? ' (in the offer\'s request)' : '';
    const text = named ? named[2] : e.message;
    return {
      code: e.code,
      message: `AWS Marketplace refused ${what}${where}: ${text}`,
      ...(field ? { field } : {}),
      ...(crmField ? { crmField } : {}),
    };
  });
}

/** The canonical field a change-set document path is written from, as the mapping says. */
function canonicalFieldOf(mapping: CompiledMapping, path: string): string | undefined {
  const bare = path.replace(/\[\d+\]/g, '[]');
  const writes = mapping.writes.map((w) => ({ target: w.target.replace(/\[\d+\]/g, '[]'), sources: w.sources })).filter((w) => w.sources.length > 0);
  for (let p = bare; p; p = p.replace(/(\.[^.[\]]*|\[\])$/, '')) {
    const hit = writes.find((w) => w.target === p || w.target.startsWith(`${p}.`) || w.target.startsWith(`${p}[]`));
    if (hit) return hit.sources[0].split('.')[0];
    if (!/(\.[^.[\]]*|\[\])$/.test(p)) break;
  }
  return undefined;
}

function definedOnly(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
