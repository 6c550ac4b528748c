import { isCalendarDate } from './clock.js';
import { isExpired, termOf, type Dimension, type Offer, type Product, type ResaleAuthorization, type Term } from './entities.js';

/**
 * What AWS Marketplace checks while a change set runs: the asynchronous validation whose
 * failures fail the set with CLIENT_ERROR and an ErrorDetailList on the change at fault. Each
 * message names the field, as AWS's do, so a RevOps user can fix the offer.
 */
export interface ErrorDetail {
  ErrorCode: string;
  ErrorMessage: string;
}

export const PRIVATE_OFFER_CURRENCIES = ['USD', 'AUD', 'EUR', 'GBP', 'JPY'];
/** Contract durations a configurable-upfront rate card may be sold for. */
export const SELECTOR_DURATIONS = ['P1M', 'P12M', 'P24M', 'P36M'];
export const STANDARD_EULA_VERSIONS = ['2021-04-05', '2022-07-14'];
export const MAX_BUYER_ACCOUNTS = 26;
/** An installment plan has at most 60 payments. */
export const MAX_CHARGES = 60;

const error = (ErrorCode: string, ErrorMessage: string): ErrorDetail => ({ ErrorCode, ErrorMessage });

export function checkBuyerAccounts(accounts: string[], proposer: string, field: string): ErrorDetail[] {
  if (accounts.length === 0) return [error('MISSING_BUYER_ACCOUNTS', `${field}: at least one buyer account is required for a private offer.`)];
  if (accounts.length > MAX_BUYER_ACCOUNTS) {
    return [error('TOO_MANY_BUYER_ACCOUNTS', `${field}: ${accounts.length} buyer accounts given; a private offer targets at most ${MAX_BUYER_ACCOUNTS}.`)];
  }
  const issues: ErrorDetail[] = [];
  accounts.forEach((account, i) => {
    if (!/^\d{12}$/.test(account)) issues.push(error('INVALID_BUYER_ACCOUNTS', `${field}[${i}]: "${account}" is not a 12-digit AWS account id.`));
    else if (account === proposer) issues.push(error('INVALID_BUYER_ACCOUNTS', `${field}[${i}]: ${account} is the seller's own account; an offer cannot target its proposer.`));
    else if (accounts.indexOf(account) !== i) issues.push(error('INVALID_BUYER_ACCOUNTS', `${field}[${i}]: ${account} is listed twice.`));
  });
  return issues;
}

function checkCurrency(code: unknown, field: string): ErrorDetail[] {
  return PRIVATE_OFFER_CURRENCIES.includes(String(code))
    ? []
    : [error('INVALID_CURRENCY_CODE', `${field}: "${String(code)}" is not a currency private offers are priced in (${PRIVATE_OFFER_CURRENCIES.join(', ')}).`)];
}

function checkDimensions(keys: string[], dimensions: Dimension[], kind: 'Entitled' | 'ExternallyMetered', product: Product, field: string): ErrorDetail[] {
  const allowed = dimensions.filter((d) => d.Types.includes(kind)).map((d) => d.Key);
  const what = kind === 'Entitled' ? 'contract' : 'usage';
  const issues: ErrorDetail[] = [];
  if (keys.length === 0) issues.push(error('INVALID_RATE_CARD', `${field}: the rate card has no dimensions.`));
  keys.forEach((key, i) => {
    if (!allowed.includes(key)) {
      issues.push(error('INVALID_RATE_CARD', `${field}[${i}].DimensionKey: "${key}" is not a ${what} dimension of product ${product.id} (its ${what} dimensions: ${allowed.join(', ') || 'none'}).`));
    } else if (keys.indexOf(key) !== i) {
      issues.push(error('INVALID_RATE_CARD', `${field}[${i}].DimensionKey: "${key}" is priced twice.`));
    }
  });
  return issues;
}

/** An UpdatePricingTerms document against the product it prices; `prefix` is "Resale" for a resale authorization's. */
export function checkPricing(doc: { PricingModel: string; Terms: Term[] }, product: Product, prefix: '' | 'Resale'): ErrorDetail[] {
  const issues: ErrorDetail[] = [];
  const types = doc.Terms.map((t) => t.Type.slice(prefix.length));
  doc.Terms.forEach((term, i) => {
    const at = `Terms[${i}]`;
    if (term.CurrencyCode !== undefined) issues.push(...checkCurrency(term.CurrencyCode, `${at}.CurrencyCode`));
    if (types.indexOf(types[i]) !== i) issues.push(error('INCOMPATIBLE_TERMS', `${at}.Type: ${term.Type} is given twice.`));
    if (types[i] === 'ConfigurableUpfrontPricingTerm') {
      const cards = term.RateCards as { Selector: { Value: string }; RateCard: { DimensionKey: string }[] }[];
      if (cards.length === 0) issues.push(error('INVALID_RATE_CARD', `${at}.RateCards: at least one rate card is required.`));
      const selectors = cards.map((c) => c.Selector.Value);
      cards.forEach((card, j) => {
        if (!SELECTOR_DURATIONS.includes(card.Selector.Value)) {
          issues.push(error('INVALID_SELECTOR_DURATION_VALUE', `${at}.RateCards[${j}].Selector.Value: "${card.Selector.Value}" is not a contract duration (one of ${SELECTOR_DURATIONS.join(', ')}).`));
        } else if (selectors.indexOf(card.Selector.Value) !== j) {
          issues.push(error('INVALID_RATE_CARD', `${at}.RateCards[${j}].Selector.Value: two rate cards are for ${card.Selector.Value}.`));
        }
        issues.push(...checkDimensions(card.RateCard.map((r) => r.DimensionKey), product.dimensions, 'Entitled', product, `${at}.RateCards[${j}].RateCard`));
      });
    }
    if (types[i] === 'UsageBasedPricingTerm') {
      const cards = term.RateCards as { RateCard: { DimensionKey: string }[] }[];
      if (cards.length !== 1) issues.push(error('INVALID_RATE_CARD', `${at}.RateCards: a usage-based term has exactly one rate card, got ${cards.length}.`));
      cards.forEach((card, j) => issues.push(...checkDimensions(card.RateCard.map((r) => r.DimensionKey), product.dimensions, 'ExternallyMetered', product, `${at}.RateCards[${j}].RateCard`)));
    }
    if (types[i] === 'FixedUpfrontPricingTerm') {
      if (Number(term.Price) !== 0) {
        issues.push(error('INCOMPATIBLE_TERMS', `${at}.Price: a ${term.Type} is paid through its payment schedule, so its Price must be "0" (got "${String(term.Price)}").`));
      }
      const grants = term.Grants as { DimensionKey: string }[];
      issues.push(...checkDimensions(grants.map((g) => g.DimensionKey), product.dimensions, 'Entitled', product, `${at}.Grants`));
    }
  });
  const currencies = new Set(doc.Terms.map((t) => t.CurrencyCode).filter((c) => c !== undefined));
  if (currencies.size > 1) issues.push(error('INVALID_CURRENCY_CODE', `Terms: every pricing term must be in one currency, got ${[...currencies].join(' and ')}.`));
  const has = (t: string) => types.includes(t);
  const model = doc.PricingModel;
  if (has('ConfigurableUpfrontPricingTerm') && has('FixedUpfrontPricingTerm')) {
    issues.push(error('INCOMPATIBLE_TERMS', 'Terms: a ConfigurableUpfrontPricingTerm and a FixedUpfrontPricingTerm cannot be in one offer.'));
  }
  if (model === 'Contract' && !has('ConfigurableUpfrontPricingTerm') && !has('FixedUpfrontPricingTerm')) {
    issues.push(error('INCOMPATIBLE_TERMS', 'PricingModel: Contract pricing needs a ConfigurableUpfrontPricingTerm or a FixedUpfrontPricingTerm.'));
  }
  if (model === 'Usage' && (types.length === 0 || types.some((t) => t !== 'UsageBasedPricingTerm'))) {
    issues.push(error('INCOMPATIBLE_TERMS', 'PricingModel: Usage pricing takes UsageBasedPricingTerm only.'));
  }
  if (model === 'Byol' && (types.length !== 1 || types[0] !== 'ByolPricingTerm')) issues.push(error('INCOMPATIBLE_TERMS', 'PricingModel: Byol pricing takes one ByolPricingTerm.'));
  if (model !== 'Byol' && has('ByolPricingTerm')) issues.push(error('INCOMPATIBLE_TERMS', `PricingModel: a ByolPricingTerm needs PricingModel Byol, not ${model}.`));
  if (model === 'Free' && types.length > 0) issues.push(error('INCOMPATIBLE_TERMS', 'PricingModel: Free pricing has no pricing terms.'));
  return issues;
}

const DOCUMENT_TYPES: Record<string, string[]> = {
  LegalTerm: ['CustomEula', 'StandardEula'],
  BuyerLegalTerm: ['CustomEula', 'StandardEula'],
  ResaleLegalTerm: ['CustomResellerContract', 'StandardResellerContract'],
};

export function checkLegal(terms: Term[]): ErrorDetail[] {
  const issues: ErrorDetail[] = [];
  terms.forEach((term, i) => {
    const at = `Terms[${i}]`;
    if (terms.findIndex((t) => t.Type === term.Type) !== i) issues.push(error('INVALID_LEGAL_DOCUMENTS', `${at}.Type: ${term.Type} is given twice.`));
    const docs = term.Documents as { Type: string; Url?: string; Version?: string }[];
    if (docs.length === 0) issues.push(error('INVALID_LEGAL_DOCUMENTS', `${at}.Documents: at least one document is required.`));
    if (docs.length > 1) issues.push(error('INVALID_LEGAL_DOCUMENTS', `${at}.Documents: a ${term.Type} takes one document, got ${docs.length}.`));
    docs.forEach((doc, j) => {
      const field = `${at}.Documents[${j}]`;
      const allowed = DOCUMENT_TYPES[term.Type] ?? [];
      if (!allowed.includes(doc.Type)) {
        issues.push(error('INVALID_LEGAL_DOCUMENTS', `${field}.Type: "${doc.Type}" is not a document type of a ${term.Type} (one of ${allowed.join(', ')}).`));
      } else if (doc.Type.startsWith('Custom')) {
        if (!doc.Url || !/^https:\/\/\S+$/.test(doc.Url)) issues.push(error('INVALID_LEGAL_DOCUMENTS', `${field}.Url: a ${doc.Type} needs the https URL of the document, got ${doc.Url ? `"${doc.Url}"` : 'none'}.`));
      } else if (doc.Type === 'StandardEula' && !STANDARD_EULA_VERSIONS.includes(doc.Version ?? '')) {
        issues.push(error('INVALID_LEGAL_DOCUMENTS', `${field}.Version: "${doc.Version ?? ''}" is not a version of the Standard Contract for AWS Marketplace (${STANDARD_EULA_VERSIONS.join(', ')}).`));
      }
    });
  });
  return issues;
}

export function checkValidity(terms: Term[]): ErrorDetail[] {
  if (terms.length > 1) return [error('INCOMPATIBLE_TERMS', `Terms: an offer has one ValidityTerm, got ${terms.length}.`)];
  const term = terms[0];
  if (!term) return [];
  const { AgreementDuration: duration, AgreementStartDate: start, AgreementEndDate: end } = term as Record<string, string | undefined>;
  if (!duration && !end) return [error('MISSING_MANDATORY_TERMS', 'Terms[0]: a ValidityTerm needs AgreementDuration or AgreementEndDate.')];
  if (duration && end) return [error('INCOMPATIBLE_TERMS', 'Terms[0]: give AgreementDuration or AgreementEndDate, not both.')];
  if (start && end && end <= start) return [error('INCOMPATIBLE_TERMS', `Terms[0].AgreementEndDate: ${end} is not after AgreementStartDate ${start}.`)];
  return [];
}

export function checkPaymentSchedule(terms: Term[]): ErrorDetail[] {
  const issues: ErrorDetail[] = [];
  if (terms.length > 1) issues.push(error('INCOMPATIBLE_TERMS', `Terms: an offer has one payment schedule, got ${terms.length}.`));
  terms.forEach((term, i) => {
    const at = `Terms[${i}]`;
    issues.push(...checkCurrency(term.CurrencyCode, `${at}.CurrencyCode`));
    const schedule = term.Schedule as { ChargeDate: string; ChargeAmount: string }[];
    if (schedule.length === 0) issues.push(error('MISSING_MANDATORY_TERMS', `${at}.Schedule: a payment schedule needs at least one charge.`));
    if (schedule.length > MAX_CHARGES) issues.push(error('TOO_MANY_CHARGES', `${at}.Schedule: ${schedule.length} charges given; a payment schedule has at most ${MAX_CHARGES}.`));
    schedule.forEach((charge, j) => {
      const field = `${at}.Schedule[${j}].ChargeDate`;
      if (!isCalendarDate(charge.ChargeDate)) issues.push(error('INVALID_CHARGE_DATES', `${field}: "${charge.ChargeDate}" is not a date written YYYY-MM-DD.`));
      else if (j > 0 && isCalendarDate(schedule[j - 1].ChargeDate) && charge.ChargeDate <= schedule[j - 1].ChargeDate) {
        issues.push(error('INVALID_CHARGE_DATES', `${field}: ${charge.ChargeDate} is not after the previous charge's ${schedule[j - 1].ChargeDate}; charge dates must increase.`));
      }
    });
  });
  return issues;
}

/** What an offer must have to be released (checked on the offer as the whole set leaves it). */
export function offerReleaseIssues(offer: Offer, terms: Term[]): ErrorDetail[] {
  const issues: ErrorDetail[] = [];
  if (!offer.name?.trim()) issues.push(error('MISSING_NAME', 'Name: an offer needs a name before it is released (UpdateInformation).'));
  if (!offer.buyerAccounts?.length) issues.push(error('MISSING_BUYER_ACCOUNTS', 'PositiveTargeting.BuyerAccounts: a private offer needs its buyer accounts before it is released (UpdateTargeting).'));
  if (!offer.availabilityEndDate) issues.push(error('MISSING_AVAILABILITY_END_DATE', 'AvailabilityEndDate: a private offer needs an expiry date before it is released (UpdateAvailability).'));
  const pricing = terms.filter((t) => t.Type.endsWith('PricingTerm'));
  if (pricing.length === 0 && offer.pricingModel !== 'Free') issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: the offer has no pricing terms (UpdatePricingTerms).'));
  if (!termOf(terms, 'LegalTerm')) issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: the offer has no LegalTerm (UpdateLegalTerms).'));
  const fixed = termOf(terms, 'FixedUpfrontPricingTerm');
  const configurable = termOf(terms, 'ConfigurableUpfrontPricingTerm');
  const schedule = termOf(terms, 'PaymentScheduleTerm');
  const validity = termOf(terms, 'ValidityTerm');
  if (fixed && !schedule) issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: a FixedUpfrontPricingTerm is paid through a PaymentScheduleTerm, and the offer has none (UpdatePaymentScheduleTerms).'));
  if (fixed && !validity) issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: a FixedUpfrontPricingTerm needs a ValidityTerm for the contract\'s length (UpdateValidityTerms).'));
  if (schedule && !fixed) issues.push(error('INCOMPATIBLE_TERMS', 'Terms: a PaymentScheduleTerm goes with a FixedUpfrontPricingTerm only.'));
  if (schedule && fixed && schedule.CurrencyCode !== fixed.CurrencyCode) {
    issues.push(error('INVALID_CURRENCY_CODE', `Terms: the payment schedule is in ${String(schedule.CurrencyCode)} but the price in ${String(fixed.CurrencyCode)}.`));
  }
  if (configurable && validity?.AgreementDuration) {
    const selectors = (configurable.RateCards as { Selector: { Value: string } }[]).map((c) => c.Selector.Value);
    if (!selectors.includes(validity.AgreementDuration as string)) {
      issues.push(error('INVALID_SELECTOR_DURATION_VALUE', `Terms: the ValidityTerm's AgreementDuration ${String(validity.AgreementDuration)} matches no rate card's Selector.Value (${selectors.join(', ')}).`));
    }
  }
  if (!configurable && !validity && pricing.some((t) => t.Type !== 'UsageBasedPricingTerm' && t.Type !== 'ByolPricingTerm')) {
    issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: the offer has no ValidityTerm (UpdateValidityTerms).'));
  }
  return issues;
}

/**
 * A channel partner's offer against the resale authorization it is made from: usable by this
 * reseller, released, unexpired, not used up, for the authorization's buyers, and a markup above
 * 0 only where the authorization has no fixed upfront price or payment schedule.
 */
export function resaleOfferIssues(offer: Offer, authorization: ResaleAuthorization | undefined, now: number, creating: boolean): ErrorDetail[] {
  const id = offer.resaleAuthorizationId;
  if (!authorization) return [error('INCOMPATIBLE_RESALE_AUTHORIZATION', `ResaleAuthorizationId: resale authorization ${id} does not exist or is not shared with account ${offer.owner}.`)];
  const issues: ErrorDetail[] = [];
  if (authorization.resellerAccountId !== offer.owner) {
    issues.push(error('INCOMPATIBLE_RESALE_AUTHORIZATION', `ResaleAuthorizationId: resale authorization ${id} is for reseller ${authorization.resellerAccountId}, not ${offer.owner}.`));
  }
  if (authorization.status !== 'Active') issues.push(error('INCOMPATIBLE_RESALE_AUTHORIZATION', `ResaleAuthorizationId: resale authorization ${id} is ${authorization.status}, not Active.`));
  if (isExpired(authorization, now)) issues.push(error('INCOMPATIBLE_RESALE_AUTHORIZATION', `ResaleAuthorizationId: resale authorization ${id} expired on ${authorization.availabilityEndDate}.`));
  if (creating && authorization.offersMaxQuantity !== undefined && authorization.offersCreated >= authorization.offersMaxQuantity) {
    issues.push(error('INCOMPATIBLE_RESALE_AUTHORIZATION', `ResaleAuthorizationId: resale authorization ${id} allows ${authorization.offersMaxQuantity} offer(s) and has been used for all of them.`));
  }
  const buyers = termOf(authorization.terms, 'BuyerTargetingTerm')?.PositiveTargeting as { BuyerAccounts: string[] } | undefined;
  for (const account of offer.buyerAccounts ?? []) {
    if (buyers && !buyers.BuyerAccounts.includes(account)) {
      issues.push(error('INCOMPATIBLE_RESALE_AUTHORIZATION', `PositiveTargeting.BuyerAccounts: ${account} is not a buyer resale authorization ${id} may be sold to (${buyers.BuyerAccounts.join(', ')}).`));
    }
  }
  if (offer.availabilityEndDate && authorization.availabilityEndDate && offer.availabilityEndDate > authorization.availabilityEndDate) {
    issues.push(error('INCOMPATIBLE_RESALE_AUTHORIZATION', `AvailabilityEndDate: ${offer.availabilityEndDate} is after resale authorization ${id}'s end date ${authorization.availabilityEndDate}.`));
  }
  return issues;
}

export function markupIssues(offer: Offer, authorization: ResaleAuthorization | undefined): ErrorDetail[] {
  if (!authorization || Number(offer.markupPercentage ?? '0') === 0) return [];
  const fixed = termOf(authorization.terms, 'ResaleFixedUpfrontPricingTerm');
  const schedule = termOf(authorization.terms, 'ResalePaymentScheduleTerm');
  if (!fixed && !schedule) return [];
  return [error('INCOMPATIBLE_TERMS', `Percentage: a markup of ${offer.markupPercentage}% cannot be added to resale authorization ${authorization.id}, whose ${fixed ? 'fixed upfront price' : 'payment schedule'} the buyer pays as set; use 0.`)];
}

/** What a resale authorization must have to be released. */
export function authorizationReleaseIssues(authorization: ResaleAuthorization): ErrorDetail[] {
  const issues: ErrorDetail[] = [];
  const terms = authorization.terms;
  if (!authorization.name?.trim()) issues.push(error('MISSING_NAME', 'Name: a resale authorization needs a name before it is released.'));
  if (!terms.some((t) => t.Type.startsWith('Resale') && t.Type.endsWith('PricingTerm'))) {
    issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: the resale authorization has no pricing terms (UpdatePricingTerms).'));
  }
  if (!termOf(terms, 'BuyerLegalTerm')) issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: the resale authorization has no BuyerLegalTerm (UpdateLegalTerms).'));
  const fixed = termOf(terms, 'ResaleFixedUpfrontPricingTerm');
  const schedule = termOf(terms, 'ResalePaymentScheduleTerm');
  if (fixed && !schedule) issues.push(error('MISSING_MANDATORY_TERMS', 'Terms: a ResaleFixedUpfrontPricingTerm is paid through a ResalePaymentScheduleTerm, and the authorization has none.'));
  if (schedule && !fixed) issues.push(error('INCOMPATIBLE_TERMS', 'Terms: a ResalePaymentScheduleTerm goes with a ResaleFixedUpfrontPricingTerm only.'));
  return issues;
}
