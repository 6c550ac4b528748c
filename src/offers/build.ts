import {
  PrivateOffer, type Installment, type OfferChannel, type OfferCloud, type OfferDimension, type OfferProblem, type OfferRequest, type OfferTerms, type PricingModel,
} from '../model/index.js';
import { discountPercent, totalValue } from './terms.js';

/**
 * A private offer from what the CRM holds (the opportunity's OfferTerms, through its mapping
 * file) and what the alliance manager asks for (cloud, channel, pricing): every missing or
 * malformed term is a problem naming the CRM field to fix, never a guess. No I/O.
 */

export type { OfferRequest };

/** Where each term comes from on the CRM, for problems: OfferTerms field → the CRM field (from the terms mapping). */
export type CrmFields = Partial<Record<keyof OfferTerms, string>>;

/** The PrivateOffer field each OfferTerms field becomes. */
export const OFFER_FIELD_OF_TERM: Record<keyof OfferTerms, string> = {
  name: 'name', description: 'description', currency: 'currency', productId: 'productId', planId: 'planId',
  buyers: 'buyerAccounts', termMonths: 'duration', expiresOn: 'expiresOn', eulaUrl: 'eula',
};

/** The CRM field a PrivateOffer field comes from, when the CRM holds it. */
export function crmFieldOf(crm: CrmFields, offerField: string): string | undefined {
  const term = (Object.keys(OFFER_FIELD_OF_TERM) as (keyof OfferTerms)[]).find((t) => OFFER_FIELD_OF_TERM[t] === offerField);
  return term ? crm[term] : undefined;
}

/** The items of a list a person typed into one text field: commas, semicolons or lines between them. */
export function splitList(text: string | undefined): string[] {
  return (text ?? '').split(/[,;\n\r]+/).map((item) => item.trim()).filter((item) => item !== '');
}

const AWS_ACCOUNT = /^\d{12}$/;
const BENEFICIARY = /^[0-9a-f-]{36}:[^\s:]+$/i;

export type Built = { ok: true; offer: PrivateOffer } | { ok: false; problems: OfferProblem[] };

/**
 * The offer as ecosync will send it, or what must be fixed first. `previous` keeps an offer's
 * identity, trail and cloud ids across a resubmission.
 */
export function buildOffer(input: {
  id: string;
  terms: OfferTerms;
  request: OfferRequest;
  crm: CrmFields;
  now: string;
  previous?: PrivateOffer;
}): Built {
  const { request, crm } = input;
  const terms: OfferTerms = { ...input.terms, ...definedOnly(request.terms ?? {}) };
  const problems: OfferProblem[] = [];
  const problem = (term: keyof OfferTerms, code: string, message: string) => {
    const crmField = crm[term];
    problems.push({ code, message: `${message}${crmField ? ` (${crmField} on the opportunity)` : ''}`, field: OFFER_FIELD_OF_TERM[term], ...(crmField ? { crmField } : {}) });
  };

  if (!terms.name?.trim()) problem('name', 'MISSING_NAME', 'The offer needs a name');
  if (!terms.productId?.trim()) problem('productId', 'MISSING_PRODUCT', 'The offer needs the marketplace product');
  if (request.cloud === 'azure' && !terms.planId?.trim()) problem('planId', 'MISSING_PLAN', 'A Microsoft private offer needs the plan');
  const buyers = splitList(terms.buyers);
  if (buyers.length === 0) problem('buyers', 'MISSING_BUYER_ACCOUNTS', 'The offer needs at least one buyer');
  const badBuyer = buyers.find((b) => !(request.cloud === 'aws' ? AWS_ACCOUNT : BENEFICIARY).test(b));
  if (badBuyer) {
    problem('buyers', 'INVALID_BUYER_ACCOUNTS', request.cloud === 'aws'
      ? `"${badBuyer}" is not an AWS account id (12 digits)`
      : `"${badBuyer}" is not a Microsoft beneficiary (<tenant id>:<billing account id>)`);
  }
  const months = terms.termMonths;
  if (months === undefined) problem('termMonths', 'MISSING_TERM', 'The offer needs its term in months');
  else if (!Number.isInteger(months) || months < 1 || months > 60) problem('termMonths', 'INVALID_TERM', `A term of ${months} months is not a whole number of months from 1 to 60`);
  if (!terms.expiresOn) problem('expiresOn', 'MISSING_AVAILABILITY_END_DATE', 'The offer needs the last day the buyer may accept it');
  else if (terms.expiresOn <= input.now.slice(0, 10)) problem('expiresOn', 'EXPIRY_IN_THE_PAST', `The expiry date ${terms.expiresOn} has passed`);
  if (!terms.currency) problem('currency', 'MISSING_CURRENCY', 'The offer needs a currency');
  if (problems.length > 0) return { ok: false, problems };

  const offer = {
    id: input.id,
    cloud: request.cloud,
    channel: request.channel,
    opportunityId: request.opportunityId,
    ...(request.accountId ? { accountId: request.accountId } : {}),
    name: terms.name!.trim(),
    ...(terms.description ? { description: terms.description.slice(0, 255) } : {}),
    productId: terms.productId!.trim(),
    ...(terms.planId ? { planId: terms.planId.trim() } : {}),
    buyerAccounts: buyers,
    pricingModel: request.pricingModel,
    currency: terms.currency,
    dimensions: request.dimensions,
    duration: `P${months}M`,
    ...(request.paymentSchedule?.length ? { paymentSchedule: request.paymentSchedule } : {}),
    eula: terms.eulaUrl ? { type: 'custom' as const, url: terms.eulaUrl } : { type: 'standard' as const },
    expiresOn: terms.expiresOn!,
    ...(request.resale ? {
      markupPercent: request.resale.markupPercent,
      resale: {
        id: input.id, cloud: request.cloud, resellerAccountId: request.resale.resellerAccountId, productId: terms.productId!.trim(),
        name: terms.name!.trim(), dimensions: request.dimensions, currency: terms.currency, markupPercent: request.resale.markupPercent,
        buyerAccounts: buyers, ...previousResale(input.previous),
      },
    } : {}),
    totalValue: totalValue({ pricingModel: request.pricingModel, dimensions: request.dimensions, paymentSchedule: request.paymentSchedule }),
    ...(() => { const d = discountPercent({ pricingModel: request.pricingModel, dimensions: request.dimensions }); return d === undefined ? {} : { discountPercent: d }; })(),
    status: input.previous?.status ?? 'draft',
    cloudIds: input.previous?.cloudIds ?? {},
    ...(input.previous?.buyerUrl ? { buyerUrl: input.previous.buyerUrl } : {}),
    problems: [],
    requestedBy: request.requestedBy,
    pendingApprovers: input.previous?.pendingApprovers ?? [],
    approvals: input.previous?.approvals ?? [],
    createdAt: input.previous?.createdAt ?? input.now,
    updatedAt: input.now,
  };
  const checked = PrivateOffer.safeParse(offer);
  if (!checked.success) {
    return {
      ok: false,
      problems: checked.error.issues.map((i) => {
        const field = String(i.path[0] ?? '');
        const crmField = crmFieldOf(crm, field);
        return { code: 'INVALID_VALUE', message: `${i.path.join('.')}: ${i.message}${crmField ? ` (${crmField} on the opportunity)` : ''}`, field, ...(crmField ? { crmField } : {}) };
      }),
    };
  }
  return { ok: true, offer: checked.data };
}

/** What the cloud said of a CPPO's resale authorization before a resubmission. */
function previousResale(previous: PrivateOffer | undefined): { cloudId?: string; released?: boolean } {
  const r = previous?.resale;
  return { ...(r?.cloudId ? { cloudId: r.cloudId } : {}), ...(r?.released ? { released: r.released } : {}) };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}
