import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { CanonicalId, Cloud, CountryCode, CurrencyCode, DecimalString, Email, IsoDate, IsoDateTime } from './common.js';
import { PartnerRole } from './opportunity.js';

/**
 * Committed-spend drawdown: a customer's cloud commitment (AWS EDP/PPA, Azure MACC, Google Cloud
 * commit) is a ledger that marketplace agreements, invoices and metered usage draw down under the
 * program's eligibility rules (rules/*.yaml). Amounts are decimal strings, never floats.
 */

/** A non-negative decimal string. */
const Amount = DecimalString.refine((s) => !s.startsWith('-'), 'an amount of zero or more');
/** A percentage from 0 to 100, as a decimal string ("25", "12.5"). */
export const Percent = DecimalString.refine((s) => !s.startsWith('-') && Number(s) <= 100, 'a percentage from 0 to 100');

export const CommitmentProgram = z.enum(['edp', 'ppa', 'macc', 'gcp-commit']);
export type CommitmentProgram = z.infer<typeof CommitmentProgram>;

/** The cloud that runs each program. */
export const PROGRAM_CLOUD: Readonly<Record<CommitmentProgram, Cloud>> = { edp: 'aws', ppa: 'aws', macc: 'azure', 'gcp-commit': 'gcp' };

/** One period of a commitment: a year, or less at the end of a term that is not whole years. */
export const CommitmentPeriod = z.object({
  /** First day. */
  start: IsoDate,
  /** Last day (inclusive). */
  end: IsoDate,
  /** What the customer committed to spend in it, in the commitment's currency. */
  amount: Amount,
}).strict();
export type CommitmentPeriod = z.infer<typeof CommitmentPeriod>;

/** Terms of one contract that differ from its rule set's defaults. */
export const CommitmentOverrides = z.object({
  /**
   * AWS: the share of each annual period's commitment that marketplace purchases may draw, in
   * percent. A contract parameter (commonly 25); without it the rule file's default applies.
   */
  marketplaceCapPercent: Percent.optional(),
}).strict();
export type CommitmentOverrides = z.infer<typeof CommitmentOverrides>;

/**
 * What ecosync needs to know of a product the customer buys under a commitment, which neither the
 * marketplace agreement nor the ERP's invoice says: the facts rules look at, and the price of
 * each metered dimension (usage reaches the hub as quantities).
 */
export const ProductFacts = z.object({
  /** Facts rules may require (`deployedOnAws`, `azureBenefitEligible`, `underAgreement`…). */
  flags: z.record(z.string(), z.boolean()).optional(),
  /** Kinds of purchase rules may leave out (`professional-services`, `maps`…). */
  categories: z.array(z.string().min(1)).optional(),
  /** Price of one unit of each metered dimension, in the commitment's currency. */
  unitPrices: z.record(z.string(), Amount).optional(),
}).strict();
export type ProductFacts = z.infer<typeof ProductFacts>;

export const Commitment = z.object({
  id: CanonicalId,
  /** The customer (canonical Account). */
  accountId: CanonicalId,
  cloud: Cloud,
  program: CommitmentProgram,
  /** The cloud's reference of the contract (EDP or MACC agreement id), for people. */
  externalId: z.string().min(1).optional(),
  /** The whole commitment over the term. */
  amount: Amount,
  currency: CurrencyCode,
  startDate: IsoDate,
  /** The term's last day (inclusive). */
  endDate: IsoDate,
  /**
   * The yearly periods with their amounts, when they are not the even split of `amount` (a ramp:
   * 1,000,000 the first year, 1,500,000 the second). Without it each year from `startDate` is a
   * period and a last part-year gets its share by days.
   */
  periods: z.array(CommitmentPeriod).min(1).optional(),
  /** The rule file that decides eligibility: `aws-edp` is rules/aws-edp.yaml. */
  ruleSet: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a rule set name such as "aws-edp"'),
  /** The contract's country (Azure MACC does not count purchases from another country). */
  country: CountryCode.optional(),
  overrides: CommitmentOverrides.optional(),
  /**
   * Facts of the products bought under the commitment, by marketplace product id (agreements,
   * usage) or ERP item (invoice lines).
   */
  products: z.record(z.string(), ProductFacts).optional(),
  /** Who is told when the commitment crosses a threshold or heads for a shortfall (alliance managers). */
  alertTo: z.array(Email).optional(),
}).strict().superRefine((c, ctx) => {
  if (PROGRAM_CLOUD[c.program] !== c.cloud) {
    ctx.addIssue({ code: 'custom', path: ['program'], message: `${c.program} is a program of ${PROGRAM_CLOUD[c.program]}, not ${c.cloud}` });
  }
  if (c.endDate < c.startDate) ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'the term ends before it starts' });
  if (!c.periods) return;
  let expected = c.startDate;
  c.periods.forEach((p, i) => {
    if (p.start !== expected) ctx.addIssue({ code: 'custom', path: ['periods', i, 'start'], message: `period ${i + 1} must start on ${expected}: periods follow each other from the term's start` });
    if (p.end < p.start) ctx.addIssue({ code: 'custom', path: ['periods', i, 'end'], message: 'the period ends before it starts' });
    expected = nextDay(p.end);
  });
  if (c.periods.at(-1)!.end !== c.endDate) ctx.addIssue({ code: 'custom', path: ['periods'], message: `the last period must end on the term's end, ${c.endDate}` });
  if (!sameSum(c.periods.map((p) => p.amount), c.amount)) ctx.addIssue({ code: 'custom', path: ['periods'], message: `the periods' amounts must add up to the commitment's amount, ${c.amount}` });
});
export type Commitment = z.infer<typeof Commitment>;

/** What a document is to the ledger. A refund or credit note gives back part of an earlier one. */
export const DrawdownSourceKind = z.enum(['agreement', 'invoice', 'usage', 'refund', 'credit-note']);
export type DrawdownSourceKind = z.infer<typeof DrawdownSourceKind>;
export const REVERSAL_KINDS: readonly DrawdownSourceKind[] = ['refund', 'credit-note'];

/** One line of a source document, with the facts eligibility rules look at. */
export const DrawdownSourceLine = z.object({
  /** Before tax, in the document's currency (for a refund: the amount given back, positive). */
  amount: Amount,
  tax: Amount.optional(),
  /** What was bought: the marketplace product and plan, for people. */
  product: z.string().optional(),
  description: z.string().optional(),
  /**
   * Kinds of purchase rules may leave out, in lower-case words: `maps`, `professional-services`,
   * `not-on-google-cloud`, `resale-not-opted-in`, `self-owned`, `azure-prepayment`, `hybrid`…
   */
  categories: z.array(z.string().min(1)).optional(),
  /** Facts about the offer rules may require: `azureBenefitEligible`, `deployedOnAws`… */
  flags: z.record(z.string(), z.boolean()).optional(),
}).strict();
export type DrawdownSourceLine = z.infer<typeof DrawdownSourceLine>;

/**
 * A document that may draw a commitment down, as the drawdown engine reads it: an accepted
 * marketplace agreement, an invoice, a day's metered usage charge, a refund or a credit note.
 */
export const DrawdownSource = z.object({
  kind: DrawdownSourceKind,
  /** Stable for ever: the ledger holds one entry per id (e.g. `netsuite-invoice:INV-1042`). */
  id: z.string().min(1),
  /** The document's own date: the agreement's acceptance, the invoice's date, the usage's day, the refund's date. */
  date: IsoDate,
  /** When it was bought, if before `date` (an invoice for an earlier order); `date` otherwise. */
  purchaseDate: IsoDate.optional(),
  /** When the cloud invoiced it: rules judging by invoice date wait for it (an invoice's own date serves). */
  invoiceDate: IsoDate.optional(),
  currency: CurrencyCode,
  /**
   * The rate recorded with the document when the commitment is in another currency: one unit of
   * `currency` is `rate` units of `to`. The ledger never uses today's rate.
   */
  conversion: z.object({ to: CurrencyCode, rate: DecimalString.refine((s) => Number(s) > 0, 'a rate above zero') }).strict().optional(),
  /** How it was bought: `aws-marketplace`, `azure-portal`, `appsource`, `card`, `gcp-marketplace`, `direct`… */
  channel: z.string().min(1).optional(),
  /** Where it was bought from. */
  country: CountryCode.optional(),
  /** A refund's or credit note's original document (its `id`). */
  refundOf: z.string().min(1).optional(),
  lines: z.array(DrawdownSourceLine).min(1),
}).strict().superRefine((s, ctx) => {
  const reversal = REVERSAL_KINDS.includes(s.kind);
  if (reversal && !s.refundOf) ctx.addIssue({ code: 'custom', path: ['refundOf'], message: `a ${s.kind} names the document it gives back against` });
  if (!reversal && s.refundOf) ctx.addIssue({ code: 'custom', path: ['refundOf'], message: `only a refund or credit note gives back against another document, not ${/^[aeiou]/.test(s.kind) ? 'an' : 'a'} ${s.kind}` });
});
export type DrawdownSource = z.infer<typeof DrawdownSource>;

/**
 * One ledger line: what one source document drew from a commitment, decided by one version of
 * the commitment's rule set. A refund or credit note is a negative line against its original.
 * Written once per (commitmentId, sourceId), never changed.
 */
export const DrawdownEntry = z.object({
  commitmentId: CanonicalId,
  sourceKind: DrawdownSourceKind,
  /** The source document's id: one entry per source document ever. */
  sourceId: z.string().min(1),
  /** For a refund or credit note: the original's source id. */
  refundOf: z.string().min(1).optional(),
  /** The commitment period drawn (its first day); a refund draws back from its original's. Absent when judged outside the term. */
  periodStart: IsoDate.optional(),
  /** The date it counts from: the judging date (the invoice date for AWS and Azure). */
  effectiveDate: IsoDate,
  /** The document's total with tax, in its own currency; negative for a refund. */
  grossAmount: DecimalString,
  /** The tax within grossAmount (negative for a refund). */
  taxAmount: DecimalString,
  sourceCurrency: CurrencyCode,
  /** One unit of sourceCurrency in the commitment's currency, as recorded with the source; absent when they are the same. */
  conversionRate: DecimalString.optional(),
  /** What counts toward the commitment, in its currency; negative for a refund. */
  eligibleAmount: DecimalString,
  /** The eligible part the marketplace cap left out (AWS), in the commitment's currency. */
  overCapAmount: DecimalString.optional(),
  /** The commitment's currency. */
  currency: CurrencyCode,
  /** The rule set (rules/<ruleId>.yaml) … */
  ruleId: z.string().min(1),
  /** … and its version that decided; absent when none was in effect on the judging date. */
  ruleVersion: z.string().min(1).optional(),
  /** Why it counts less than its pre-tax amount, in words. */
  reason: z.string().optional(),
  /** The criteria that left part or all of it out (`category:maps`, `marketplace-cap`…), for reports. */
  criteria: z.array(z.string()).optional(),
}).strict();
export type DrawdownEntry = z.infer<typeof DrawdownEntry>;

/** Metered usage of a marketplace product, as a customer's system reports it (before metering to the cloud). */
export const UsageRecord = z.object({
  /** The customer (canonical Account). */
  accountId: CanonicalId,
  cloud: Cloud,
  /** The marketplace product (AWS product code, Microsoft offer id). */
  product: z.string().min(1),
  /** The plan, where the marketplace has plans (Microsoft). */
  plan: z.string().min(1).optional(),
  /** The priced dimension, as the listing names it. */
  dimension: z.string().min(1),
  quantity: Amount,
  /** The hour the usage belongs to: its first instant (UTC, minutes and seconds zero). */
  hour: IsoDateTime.refine((s) => /T\d{2}:00:00(\.0+)?Z$/.test(s), 'the start of an hour, e.g. "2025-03-01T14:00:00Z"'),
  /** The sender's key: the same key is the same usage, counted once. */
  dedupeKey: z.string().min(1),
}).strict();
export type UsageRecord = z.infer<typeof UsageRecord>;

/**
 * Where a customer's commitment with one cloud stands, as the CRM account shows it: the current
 * period's commitment, what the ledger says is consumed, and the forecast to the period's end.
 * ecosync writes it; nobody edits it in the CRM.
 */
export const CommitmentStanding = z.object({
  program: CommitmentProgram,
  currency: CurrencyCode,
  /** The current period's commitment. */
  committed: DecimalString,
  consumed: DecimalString,
  remaining: DecimalString,
  /** Consumed at the period's end if the run rate holds. */
  forecast: DecimalString,
  /** consumed / committed in percent, two decimals. */
  percentConsumed: DecimalString,
  periodEnd: IsoDate,
  /** The day the figures are for. */
  asOf: IsoDate,
  /** For people: the figures and the latest alert in words. */
  message: z.string().optional(),
}).strict();
export type CommitmentStanding = z.infer<typeof CommitmentStanding>;

/** A partner's part in an opportunity, for sourced vs influenced revenue. */
export const Touchpoint = z.object({
  id: CanonicalId,
  partnerId: CanonicalId,
  opportunityId: CanonicalId,
  kind: PartnerRole,
  date: IsoDate,
  note: z.string().optional(),
}).strict();
export type Touchpoint = z.infer<typeof Touchpoint>;

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** Whether decimal strings add up to a total, exactly. */
function sameSum(parts: string[], total: string): boolean {
  return parts.reduce((sum, p) => sum.plus(p), new Decimal(0)).eq(total);
}
