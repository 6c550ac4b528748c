/**
 * The documents that may draw a commitment down, built from what the hub keeps: accepted
 * marketplace agreements, the ERP's invoices (canonical Invoice records), a month's usage the
 * cloud took, and documents people entered by hand (refunds, credit notes). Pure: the activity
 * reads the rows, this turns them into DrawdownSources with ids that stay the same for ever, so
 * the ledger holds one entry per document whatever run sees it.
 *
 * What neither the agreement nor the invoice says (whether a product is "Deployed on AWS", a
 * metered dimension's price) comes from the commitment's `products`.
 */
import type { Commitment, DrawdownSource, DrawdownSourceKind, DrawdownSourceLine, Invoice } from '../model/index.js';
import { Dec, money } from './money.js';
import { addDays } from './periods.js';
import type { RuleSet } from './rules.js';

/** An accepted agreement as the store keeps it (src/store/agreements.ts), the fields drawdown reads. */
export interface AgreementFacts {
  cloud: string;
  agreementId: string;
  offerId: string;
  status: string;
  acceptedAt: string;
  totalContractValue: string;
  currency: string;
  /**
   * What the offer workflow or a person recorded beside it: `productId` (the marketplace
   * product, for the commitment's product facts), `invoiceDate` (when the cloud invoiced the
   * charge, if not on acceptance), `conversion` ({ to, rate } recorded with it).
   */
  data: Record<string, unknown>;
}

/** A customer's usage of one dimension in one month that the cloud took (or that was reported, for clouds not metered). */
export interface MonthlyUsageFacts {
  cloud: string;
  product: string;
  dimension: string;
  /** YYYY-MM. */
  month: string;
  quantity: string;
}

/** A hub record that could not become a document yet, and why (shown with the ledger's pending documents). */
export interface Skipped {
  sourceId: string;
  reason: string;
}

export interface SourceInput {
  agreements: readonly AgreementFacts[];
  invoices: ReadonlyArray<{ canonicalId: string; invoice: Invoice }>;
  usage: readonly MonthlyUsageFacts[];
  /** Entered by hand (drawdown_documents): taken as they are. */
  documents: readonly DrawdownSource[];
  /** The day of the run: a month's usage becomes a document once the month and the clouds' late windows are over. */
  today: string;
}

/** How each cloud's marketplace is named as a channel in rule files. */
export const MARKETPLACE_CHANNEL: Readonly<Record<string, string>> = { aws: 'aws-marketplace', azure: 'azure-portal', gcp: 'gcp-marketplace' };

/** Agreement statuses that never drew anything (cancelled before it began). */
const NOT_DRAWING = new Set(['CANCELED', 'CANCELLED', 'canceled', 'cancelled']);

/**
 * Usage of a month is complete once the clouds' late windows have passed (AWS takes usage up to
 * 6 h late, Microsoft 24 h): two days after the month's end.
 */
const USAGE_SETTLES_DAYS = 2;

export const agreementSourceId = (cloud: string, agreementId: string) => `agreement:${cloud}:${agreementId}`;
export const invoiceSourceId = (canonicalId: string) => `invoice:${canonicalId.toLowerCase()}`;
export const usageSourceId = (u: Pick<MonthlyUsageFacts, 'cloud' | 'product' | 'dimension' | 'month'>) => `usage:${u.cloud}:${u.product}:${u.dimension}:${u.month}`;

/**
 * Every document of the commitment the hub holds today, and the records that cannot be one yet.
 * Only kinds some version of the rule set counts are collected (an AWS EDP never counts the
 * ERP's invoices, so they do not fill its ledger with lines of zero); documents entered by hand
 * are always taken.
 */
export function collectSources(c: Commitment, rules: RuleSet, input: SourceInput): { sources: DrawdownSource[]; skipped: Skipped[] } {
  const counted = new Set<DrawdownSourceKind>(rules.versions.flatMap((v) => v.sourceKinds));
  const sources: DrawdownSource[] = [];
  const skipped: Skipped[] = [];
  const take = (r: DrawdownSource | Skipped | undefined) => {
    if (!r) return;
    if ('reason' in r && !('kind' in r)) skipped.push(r);
    else sources.push(r as DrawdownSource);
  };
  if (counted.has('agreement')) for (const a of input.agreements) if (a.cloud === c.cloud) take(agreementSource(c, a));
  if (counted.has('invoice')) for (const i of input.invoices) if (i.invoice.accountId.toLowerCase() === c.accountId.toLowerCase()) take(invoiceSource(c, i.canonicalId, i.invoice));
  if (counted.has('usage')) for (const u of input.usage) if (u.cloud === c.cloud) take(usageSource(c, u, input.today));
  sources.push(...input.documents);
  return { sources, skipped };
}

/** An accepted agreement: its contract value, counted when the cloud invoices it (on acceptance unless recorded otherwise). */
export function agreementSource(c: Commitment, a: AgreementFacts): DrawdownSource | Skipped | undefined {
  if (NOT_DRAWING.has(a.status)) return undefined;
  const id = agreementSourceId(a.cloud, a.agreementId);
  if (a.totalContractValue.startsWith('-')) return { sourceId: id, reason: `its contract value ${a.totalContractValue} is negative` };
  const date = a.acceptedAt.slice(0, 10);
  const product = text(a.data.productId) ?? a.offerId;
  const conversion = a.data.conversion as { to?: unknown; rate?: unknown } | undefined;
  return {
    kind: 'agreement',
    id,
    date,
    invoiceDate: text(a.data.invoiceDate) ?? date,
    currency: a.currency as DrawdownSource['currency'],
    ...(conversion && typeof conversion.to === 'string' && typeof conversion.rate === 'string' ? { conversion: { to: conversion.to as DrawdownSource['currency'], rate: conversion.rate } } : {}),
    channel: MARKETPLACE_CHANNEL[a.cloud] ?? `${a.cloud}-marketplace`,
    ...(c.country ? { country: c.country } : {}),
    lines: [{ amount: a.totalContractValue, product, description: `agreement ${a.agreementId} (offer ${a.offerId})`, ...facts(c, product) }],
  };
}

/** An ERP invoice of the commitment's customer: one line per invoice line, the tax on the first; a voided one is no document. */
export function invoiceSource(c: Commitment, canonicalId: string, inv: Invoice): DrawdownSource | Skipped | undefined {
  if (inv.status === 'voided') return undefined;
  const id = invoiceSourceId(canonicalId);
  const tax = inv.taxTotal && !new Dec(inv.taxTotal).isZero() ? inv.taxTotal : undefined;
  let lines: DrawdownSourceLine[];
  if (inv.lines && inv.lines.length > 0) {
    const negative = inv.lines.find((l) => l.amount.startsWith('-'));
    if (negative) return { sourceId: id, reason: `line ${negative.item} has a negative amount (${negative.amount}): enter its credit as a credit note against ${id}` };
    lines = inv.lines.map((l) => ({ amount: l.amount, product: l.item, ...(l.description ? { description: l.description } : {}), ...facts(c, l.item) }));
  } else {
    const pre = inv.subtotal ?? money(new Dec(inv.total).minus(tax ?? 0), inv.currency);
    if (pre.startsWith('-')) return { sourceId: id, reason: `its amount ${pre} is negative: enter a credit as a credit note against the invoice it credits` };
    lines = [{ amount: pre, ...(inv.memo ? { description: inv.memo } : {}) }];
  }
  if (tax) {
    if (tax.startsWith('-')) return { sourceId: id, reason: `its tax ${tax} is negative` };
    lines[0] = { ...lines[0], tax };
  }
  return {
    kind: 'invoice',
    id,
    date: inv.invoiceDate,
    currency: inv.currency,
    ...(c.country ? { country: c.country } : {}),
    lines,
  };
}

/** A month's usage of one dimension, priced by the commitment's products; the cloud invoices it on the next month's first day. */
export function usageSource(c: Commitment, u: MonthlyUsageFacts, today: string): DrawdownSource | Skipped | undefined {
  const [y, m] = u.month.split('-').map(Number);
  const monthEnd = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  if (addDays(monthEnd, USAGE_SETTLES_DAYS) > today) return undefined;
  const id = usageSourceId(u);
  const price = c.products?.[u.product]?.unitPrices?.[u.dimension];
  if (price === undefined) return { sourceId: id, reason: `no unit price for ${u.product} ${u.dimension}: set products.${u.product}.unitPrices.${u.dimension} on the commitment` };
  return {
    kind: 'usage',
    id,
    date: monthEnd,
    invoiceDate: addDays(monthEnd, 1),
    currency: c.currency,
    channel: MARKETPLACE_CHANNEL[u.cloud] ?? `${u.cloud}-marketplace`,
    ...(c.country ? { country: c.country } : {}),
    lines: [{ amount: money(new Dec(u.quantity).times(price), c.currency), product: u.product, description: `${u.quantity} ${u.dimension} at ${price}`, ...facts(c, u.product) }],
  };
}

function facts(c: Commitment, product: string): Pick<DrawdownSourceLine, 'flags' | 'categories'> {
  const f = c.products?.[product];
  return { ...(f?.flags ? { flags: f.flags } : {}), ...(f?.categories ? { categories: f.categories } : {}) };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
