import { Decimal } from 'decimal.js';
import type { OfferDimension, PrivateOffer } from '../model/index.js';

/**
 * What an offer is worth and how far below list price it is, as approval stages judge it. Pure,
 * decimal arithmetic only: a threshold never rounds the wrong way.
 */

type Terms = Pick<PrivateOffer, 'pricingModel' | 'dimensions' | 'paymentSchedule'>;

/** Units a dimension counts for: its committed quantity, one when none is given. */
const unitsOf = (d: OfferDimension) => new Decimal(d.quantity ?? 1);

/**
 * The total contract value: a payment schedule's sum when the offer has one, else each contract
 * dimension's price × quantity. A usage offer commits to nothing up front: its value is 0.
 */
export function totalValue(terms: Terms): string {
  if (terms.paymentSchedule && terms.paymentSchedule.length > 0) {
    return terms.paymentSchedule.reduce((sum, i) => sum.plus(i.amount), new Decimal(0)).toFixed(2);
  }
  if (terms.pricingModel === 'usage') return '0.00';
  return terms.dimensions.reduce((sum, d) => sum.plus(new Decimal(d.price).times(unitsOf(d))), new Decimal(0)).toFixed(2);
}

/**
 * The discount off list price in percent (two decimals), weighted by units; undefined when a
 * dimension has no list price (approval then takes the strict path).
 */
export function discountPercent(terms: Terms): string | undefined {
  if (terms.dimensions.some((d) => d.listPrice === undefined)) return undefined;
  const list = terms.dimensions.reduce((sum, d) => sum.plus(new Decimal(d.listPrice!).times(unitsOf(d))), new Decimal(0));
  if (list.isZero()) return undefined;
  const offered = terms.dimensions.reduce((sum, d) => sum.plus(new Decimal(d.price).times(unitsOf(d))), new Decimal(0));
  return Decimal.max(0, new Decimal(1).minus(offered.dividedBy(list)).times(100)).toFixed(2);
}

/** A reseller's price: the wholesale price marked up by a percentage, to the cent. */
export function markedUp(price: string, markupPercent: string): string {
  return new Decimal(price).times(new Decimal(1).plus(new Decimal(markupPercent).dividedBy(100))).toFixed(2);
}
