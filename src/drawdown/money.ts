/**
 * Money for the ledger: decimal.js with its own settings (34 significant digits, half-up), so
 * nothing else in the process that configures decimal.js changes a ledger's amounts.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import { CURRENCY_MINOR_DIGITS, type CurrencyCode } from '../model/index.js';

export const Dec = DecimalJs.clone({ precision: 34, rounding: DecimalJs.ROUND_HALF_UP });
export type Dec = InstanceType<typeof Dec>;

export const ZERO = new Dec(0);

/** Rounded to the currency's minor digits (half-up). */
export function round(amount: Dec, currency: CurrencyCode): Dec {
  return amount.toDecimalPlaces(CURRENCY_MINOR_DIGITS[currency]);
}

/** The amount as a decimal string with exactly the currency's minor digits ("1250.00", "3000" JPY), never "-0.00". */
export function money(amount: Dec, currency: CurrencyCode): string {
  const rounded = round(amount, currency);
  return (rounded.isZero() ? ZERO : rounded).toFixed(CURRENCY_MINOR_DIGITS[currency]);
}

/** For people: "1,250.00 USD". */
export function words(amount: Dec, currency: CurrencyCode): string {
  const [int, frac] = money(amount, currency).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${frac === undefined ? grouped : `${grouped}.${frac}`} ${currency}`;
}

export const min = (a: Dec, b: Dec): Dec => (a.lt(b) ? a : b);
export const max = (a: Dec, b: Dec): Dec => (a.gt(b) ? a : b);
