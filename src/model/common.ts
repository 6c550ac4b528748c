import { z } from 'zod';

/** Canonical ids are assigned by ecosync (UUID v4/v7), never taken from an external system. */
export const CanonicalId = z.uuid();
export type CanonicalId = z.infer<typeof CanonicalId>;

/** ISO 4217 codes we handle, with the number of minor-unit digits each uses. */
export const CURRENCY_MINOR_DIGITS = {
  USD: 2, EUR: 2, GBP: 2, JPY: 0, AUD: 2, CAD: 2, CHF: 2, CNY: 2, INR: 2, BRL: 2,
  MXN: 2, SEK: 2, NOK: 2, DKK: 2, NZD: 2, SGD: 2, HKD: 2, KRW: 0, ZAR: 2, PLN: 2,
} as const;
export type CurrencyCode = keyof typeof CURRENCY_MINOR_DIGITS;
export const CurrencyCode = z.enum(Object.keys(CURRENCY_MINOR_DIGITS) as [CurrencyCode, ...CurrencyCode[]]);

/**
 * Money is a decimal string (never a float) plus a currency. The string carries exactly the
 * currency's minor digits ("1250.00" USD, "3000" JPY), so equal amounts hash equally.
 */
export const DecimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal number written as a string, e.g. "1250.00"');
export const Money = z.object({ amount: DecimalString, currency: CurrencyCode }).strict();
export type Money = z.infer<typeof Money>;

/** Calendar date without a time zone: YYYY-MM-DD. */
export const IsoDate = z.iso.date();
/** Instant in UTC: an ISO 8601 timestamp with Z. */
export const IsoDateTime = z.iso.datetime({ offset: false });

export const CountryCode = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code such as "US"');

export const Address = z.object({
  street: z.string().optional(),
  city: z.string().optional(),
  state: z.string().optional(),
  postalCode: z.string().optional(),
  country: CountryCode.optional(),
}).strict();
export type Address = z.infer<typeof Address>;

export const Email = z.email();
export const Domain = z.string().regex(/^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a lower-case domain name such as "example.com"');

export const Cloud = z.enum(['aws', 'azure', 'gcp']);
export type Cloud = z.infer<typeof Cloud>;
