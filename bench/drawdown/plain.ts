/**
 * The drawdown bench's peer: the ledger of an AWS EDP under rules/aws-edp.yaml computed by a loop
 * written for these rules alone, on plain numbers (integer cents) — no rule data, no decimal
 * library, no entry objects with reasons. It is the floor: what the same judgement costs with
 * nothing generic in the way. It does what the engine does with this bench's documents: judging
 * by invoice date, the version switch on 1 May 2025 ("Deployed on AWS"), the direct channel left
 * out, agreements and usage counted and invoices not, conversion at the recorded rate, the 25 %
 * cap per annual period, refunds through the cap and bounded by what is left of their original,
 * documents without an invoice date or a rate held back. The bench checks it against the engine
 * before timing.
 */
import type { DrawdownSource } from '../../src/model/index.js';

export interface PlainPeriod {
  start: string;
  end: string;
  /** The period's cap, in cents. */
  capCents: number;
}

export interface PlainEntry {
  id: string;
  /** Index of the period drawn, -1 outside the term. */
  period: number;
  eligibleCents: number;
  overCapCents: number;
}

/** Decimal string → integer units of 10^-digits ("12.5", 2 → 1250). */
function units(s: string, digits: number): number {
  const negative = s.startsWith('-');
  const [int, frac = ''] = (negative ? s.slice(1) : s).split('.');
  const n = Number(int) * 10 ** digits + Number((frac + '0'.repeat(digits)).slice(0, digits) || '0');
  return negative ? -n : n;
}

/** Half-up a / b for non-negative integers. */
const divRound = (a: number, b: number) => Math.floor((2 * a + b) / (2 * b));

/** A rate as an integer over 10^6 (rates have at most six decimals here). */
const RATE_SCALE = 1_000_000;

export function plainLedger(sources: readonly DrawdownSource[], periods: readonly PlainPeriod[], currency: string): { entries: PlainEntry[]; pending: number } {
  let pending = 0;
  const originalDate = new Map<string, string>();
  const items: { s: DrawdownSource; date: string; reversal: boolean }[] = [];
  for (const s of sources) {
    if (s.refundOf) continue;
    const date = s.invoiceDate ?? (s.kind === 'invoice' ? s.date : undefined);
    if (date === undefined) pending++;
    else {
      originalDate.set(s.id, date);
      items.push({ s, date, reversal: false });
    }
  }
  for (const s of sources) {
    if (!s.refundOf) continue;
    const o = originalDate.get(s.refundOf);
    if (o === undefined) {
      pending++;
      continue;
    }
    const own = s.invoiceDate ?? s.date;
    items.push({ s, date: own > o ? own : o, reversal: true });
  }
  items.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : (a.reversal ? 1 : 0) - (b.reversal ? 1 : 0) || (a.s.id < b.s.id ? -1 : a.s.id > b.s.id ? 1 : 0)));

  const capUsed = periods.map(() => 0);
  const done = new Map<string, { period: number; eligible: number; overCap: number; rate: number; currency: string; left: number; deployedRequired: boolean }>();
  const entries: PlainEntry[] = [];
  for (const { s, date, reversal } of items) {
    if (reversal) {
      const o = done.get(s.refundOf!);
      if (!o || s.currency !== o.currency) {
        pending++;
        continue;
      }
      let counted = 0;
      // Judged by the original's version: a line saying it is not Deployed on AWS gave nothing to take back.
      for (const l of s.lines) if (!o.deployedRequired || l.flags?.deployedOnAws !== false) counted += units(l.amount, 2);
      counted = divRound(counted * o.rate, RATE_SCALE);
      const throughCap = o.eligible === 0 ? 0 : divRound(counted * o.eligible, o.eligible + o.overCap);
      const back = Math.min(throughCap, Math.max(0, o.left));
      o.left -= back;
      if (o.period >= 0 && o.eligible > 0) capUsed[o.period] -= back;
      const overCap = o.overCap > 0 ? -(counted - throughCap) : 0;
      entries.push({ id: s.id, period: o.period, eligibleCents: -back, overCapCents: o.eligible === 0 ? 0 : overCap });
      continue;
    }
    const rate = s.currency === currency ? RATE_SCALE : s.conversion?.to === currency ? units(s.conversion.rate, 6) : -1;
    if (rate < 0) {
      pending++;
      continue;
    }
    let period = -1;
    for (let i = 0; i < periods.length; i++) if (periods[i].start <= date && date <= periods[i].end) period = i;
    const deployedRequired = date >= '2025-05-01';
    let eligible = 0;
    let overCap = 0;
    if (date >= '2020-01-01' && period >= 0 && (s.kind === 'agreement' || s.kind === 'usage') && s.channel !== 'direct') {
      let counted = 0;
      for (const l of s.lines) if (!deployedRequired || l.flags?.deployedOnAws === true) counted += units(l.amount, 2);
      counted = divRound(counted * rate, RATE_SCALE);
      const room = Math.max(0, periods[period].capCents - capUsed[period]);
      eligible = Math.min(counted, room);
      overCap = counted - eligible;
      capUsed[period] += eligible;
    }
    done.set(s.id, { period, eligible, overCap, rate, currency: s.currency, left: eligible, deployedRequired });
    entries.push({ id: s.id, period, eligibleCents: eligible, overCapCents: overCap });
  }
  return { entries, pending };
}
