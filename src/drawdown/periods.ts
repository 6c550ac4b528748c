/**
 * A commitment's periods: its yearly periods from the start (or the ones the contract lists), the
 * last one shorter when the term is not whole years, and calendar-date arithmetic on YYYY-MM-DD.
 */
import type { Commitment, CommitmentPeriod } from '../model/index.js';
import { Dec, money } from './money.js';

const DAY_MS = 86_400_000;
const toMs = (date: string) => Date.parse(`${date}T00:00:00Z`);
const fromMs = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function addDays(date: string, days: number): string {
  return fromMs(toMs(date) + days * DAY_MS);
}

/** The same day `years` later (29 February becomes 1 March). */
export function addYears(date: string, years: number): string {
  const d = new Date(toMs(date));
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return fromMs(d.getTime());
}

/** Days from `from` to `to`, both counted: the same day is 1. */
export function daysInclusive(from: string, to: string): number {
  return Math.round((toMs(to) - toMs(from)) / DAY_MS) + 1;
}

/**
 * The commitment's periods in order. Listed periods are taken as they are. Otherwise each year
 * from the start is a period, the last one ending with the term; the amount is split so that
 * every whole year gets the same and a last part-year gets its share by days (a term of two and
 * a half years: 40 %, 40 %, 20 %), rounded to the currency with the remainder in the last period,
 * so the periods always add up to the commitment.
 */
export function commitmentPeriods(c: Commitment): CommitmentPeriod[] {
  if (c.periods) return c.periods;
  const spans: { start: string; end: string; weight: Dec }[] = [];
  for (let start = c.startDate; start <= c.endDate;) {
    const next = addYears(start, 1);
    const end = addDays(next, -1) < c.endDate ? addDays(next, -1) : c.endDate;
    const weight = new Dec(daysInclusive(start, end)).div(daysInclusive(start, addDays(next, -1)));
    spans.push({ start, end, weight });
    start = next;
  }
  const total = spans.reduce((sum, s) => sum.plus(s.weight), new Dec(0));
  let left = new Dec(c.amount);
  return spans.map((s, i) => {
    const amount = i === spans.length - 1 ? left : new Dec(money(new Dec(c.amount).times(s.weight).div(total), c.currency));
    left = left.minus(amount);
    return { start: s.start, end: s.end, amount: money(amount, c.currency) };
  });
}

/** The period a date falls in, or undefined outside the term. */
export function periodOn(periods: readonly CommitmentPeriod[], date: string): CommitmentPeriod | undefined {
  return periods.find((p) => p.start <= date && date <= p.end);
}
