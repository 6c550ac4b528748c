import { Decimal } from 'decimal.js';
import { addDuration } from './clock.js';
import { termOf, type Offer, type ResaleAuthorization, type Term } from './entities.js';

/**
 * What terms mean once an offer is made: a channel partner's offer priced from its resale
 * authorization plus the markup, the agreement's start, end and value, and the accepted terms as
 * the Agreement API returns them. Money is decimal strings, computed with decimal.js.
 */

type RateCardItem = { DimensionKey: string; Price: string };

/** The terms a buyer sees on an offer: its own, or for a channel partner's offer those of the resale authorization with the markup. */
export function effectiveOfferTerms(offer: Offer, authorization: ResaleAuthorization | undefined): Term[] {
  if (!offer.resaleAuthorizationId || !authorization) return offer.terms;
  const factor = new Decimal(1).plus(new Decimal(offer.markupPercentage ?? '0').div(100));
  const markUp = (price: string) => new Decimal(price).times(factor).toString();
  const inherited: Term[] = [];
  for (const term of authorization.terms) {
    if (term.Type === 'BuyerLegalTerm') inherited.push({ Type: 'LegalTerm', Documents: term.Documents });
    else if (term.Type === 'ResalePaymentScheduleTerm') {
      const schedule = term.Schedule as { ChargeDate: string; ChargeAmount: string }[];
      inherited.push({ Type: 'PaymentScheduleTerm', CurrencyCode: term.CurrencyCode, Schedule: schedule.map((c) => ({ ...c, ChargeAmount: markUp(c.ChargeAmount) })) });
    } else if (term.Type.startsWith('Resale') && term.Type.endsWith('PricingTerm')) {
      const { Type, ...rest } = term;
      const priced: Term = { Type: Type.slice('Resale'.length), ...rest };
      if (typeof priced.Price === 'string') priced.Price = markUp(priced.Price);
      if (Array.isArray(priced.RateCards)) {
        priced.RateCards = (priced.RateCards as { RateCard: RateCardItem[] }[]).map((card) => ({
          ...card,
          RateCard: card.RateCard.map((item) => ({ ...item, Price: markUp(item.Price) })),
        }));
      }
      inherited.push(priced);
    }
  }
  // A fixed-upfront authorization fixes the duration; the reseller sets it otherwise.
  const fixed = termOf(authorization.terms, 'ResaleFixedUpfrontPricingTerm');
  const own = offer.terms.filter((t) => !(fixed?.Duration && t.Type === 'ValidityTerm'));
  if (fixed?.Duration) own.push({ Type: 'ValidityTerm', AgreementDuration: fixed.Duration });
  return [...inherited, ...own];
}

/** What the buyer chooses when accepting a configurable-upfront offer: the contract's duration and quantities. */
export interface BuyerChoice {
  selector?: string;
  /** Dimension key to quantity; default one of each dimension (or of the first, where only one may be chosen). */
  dimensions?: Record<string, number>;
}

export interface ConfigurableChoice {
  selector: string;
  dimensions: { dimensionKey: string; dimensionValue: number }[];
  rateCard: RateCardItem[];
}

export class ChoiceError extends Error {}

/** The rate card and quantities a buyer's choice comes to, checked against the offer's constraints. */
export function configurableChoice(term: Term, validity: Term | undefined, choice: BuyerChoice = {}): ConfigurableChoice {
  const cards = term.RateCards as { Selector: { Value: string }; RateCard: RateCardItem[]; Constraints: Record<string, string> }[];
  const wanted = choice.selector ?? (validity?.AgreementDuration as string | undefined);
  const card = cards.find((c) => c.Selector.Value === wanted) ?? cards[0];
  if (choice.selector && card.Selector.Value !== choice.selector) {
    throw new ChoiceError(`the offer has no contract duration ${choice.selector} (it offers ${cards.map((c) => c.Selector.Value).join(', ')})`);
  }
  const keys = card.RateCard.map((r) => r.DimensionKey);
  const multiple = card.Constraints.MultipleDimensionSelection === 'Allowed';
  const quantities = card.Constraints.QuantityConfiguration === 'Allowed';
  const chosen = choice.dimensions ?? (multiple ? Object.fromEntries(keys.map((k) => [k, 1])) : { [keys[0]]: 1 });
  const entries = Object.entries(chosen);
  if (entries.length === 0) throw new ChoiceError('choose at least one dimension');
  if (!multiple && entries.length > 1) throw new ChoiceError('the offer allows one dimension only');
  for (const [key, n] of entries) {
    if (!keys.includes(key)) throw new ChoiceError(`dimension ${key} is not in the offer (it has ${keys.join(', ')})`);
    if (!Number.isInteger(n) || n < 1) throw new ChoiceError(`the quantity of ${key} must be a whole number of 1 or more`);
    if (!quantities && n !== 1) throw new ChoiceError(`the offer does not let the buyer choose quantities (${key}: ${n})`);
  }
  return { selector: card.Selector.Value, dimensions: entries.map(([dimensionKey, dimensionValue]) => ({ dimensionKey, dimensionValue })), rateCard: card.RateCard };
}

/** Start and end of an agreement accepted at `acceptedAt` (ms): the validity term's dates, or its duration, or the contract's. */
export function agreementPeriod(terms: Term[], acceptedAt: number, choice: ConfigurableChoice | undefined): { start: number; end?: number } {
  const validity = termOf(terms, 'ValidityTerm');
  const start = typeof validity?.AgreementStartDate === 'string' ? Math.max(acceptedAt, Date.parse(`${validity.AgreementStartDate}T00:00:00.000Z`)) : acceptedAt;
  if (typeof validity?.AgreementEndDate === 'string') return { start, end: Date.parse(`${validity.AgreementEndDate}T23:59:59.999Z`) };
  const duration = (validity?.AgreementDuration as string | undefined) ?? choice?.selector ?? (termOf(terms, 'FixedUpfrontPricingTerm')?.Duration as string | undefined);
  return { start, end: duration ? addDuration(start, duration) : undefined };
}

const MINOR_UNITS: Record<string, number> = { JPY: 0 };

/** The agreement's value: the payment schedule's sum, else the chosen upfront dimensions, else the fixed price; usage adds nothing upfront. */
export function agreementValue(terms: Term[], choice: ConfigurableChoice | undefined): { currencyCode: string; agreementValue: string } | undefined {
  const currencyCode = terms.map((t) => t.CurrencyCode).find((c): c is string => typeof c === 'string');
  if (!currencyCode) return undefined;
  let value = new Decimal(0);
  const schedule = termOf(terms, 'PaymentScheduleTerm');
  const fixed = termOf(terms, 'FixedUpfrontPricingTerm');
  if (schedule) {
    for (const charge of schedule.Schedule as { ChargeAmount: string }[]) value = value.plus(charge.ChargeAmount);
  } else if (choice) {
    for (const d of choice.dimensions) value = value.plus(new Decimal(choice.rateCard.find((r) => r.DimensionKey === d.dimensionKey)!.Price).times(d.dimensionValue));
  } else if (fixed) {
    value = value.plus(fixed.Price as string);
  }
  return { currencyCode, agreementValue: value.toFixed(MINOR_UNITS[currencyCode] ?? 2) };
}

const seconds = (ms: number) => ms / 1000;
const dateSeconds = (date: string) => seconds(Date.parse(`${date.slice(0, 10)}T00:00:00.000Z`));
const lower = (key: string) => key[0].toLowerCase() + key.slice(1);

/** AWS's DetailsDocument keys in the Agreement API's camelCase ({DimensionKey} → {dimensionKey}). */
function camel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camel);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [lower(k), camel(v)]));
  return value;
}

/** The accepted terms as GetAgreementTerms returns them: one member of the AcceptedTerm union each, with term ids. */
export function acceptedTerms(terms: Term[], choice: ConfigurableChoice | undefined, newTermId: () => string): Record<string, unknown>[] {
  return terms.map((term) => {
    const body = camel(term) as Record<string, unknown>;
    body.id = newTermId();
    if (term.Type === 'ConfigurableUpfrontPricingTerm' && choice) {
      body.configuration = { selectorValue: choice.selector, dimensions: choice.dimensions };
    }
    if (term.Type === 'RenewalTerm') body.configuration = { enableAutoRenew: false };
    if (term.Type === 'ValidityTerm') {
      if (typeof term.AgreementStartDate === 'string') body.agreementStartDate = dateSeconds(term.AgreementStartDate);
      if (typeof term.AgreementEndDate === 'string') body.agreementEndDate = dateSeconds(term.AgreementEndDate);
    }
    if (term.Type === 'PaymentScheduleTerm') {
      body.schedule = (term.Schedule as { ChargeDate: string; ChargeAmount: string }[]).map((c) => ({ chargeDate: dateSeconds(c.ChargeDate), chargeAmount: c.ChargeAmount }));
    }
    return { [lower(term.Type)]: body };
  });
}
