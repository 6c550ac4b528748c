/**
 * Where a commitment stands on a day: consumed, remaining, the run rate, the forecast to the
 * period's end, the shortfall it points to, and the alerts that are due. Pure functions over the
 * ledger; the workflow raises each alert once by its key.
 */
import type { Commitment, CommitmentPeriod, CurrencyCode, DrawdownEntry } from '../model/index.js';
import { Dec, max, money, round, words, ZERO } from './money.js';
import { commitmentPeriods, daysInclusive } from './periods.js';
import { versionNamed, versionOn, type RuleSet } from './rules.js';

export interface SummaryOptions {
  /**
   * The commitment's rule set: with it, a period whose rules cap marketplace purchases (AWS) shows
   * the cap and its room, and alerts on the cap instead of forecasting a shortfall, as the ledger
   * then holds only the marketplace share (the cloud's own services draw the rest, unseen here).
   */
  rules?: RuleSet;
  /** Percentages consumed that raise an alert: 50, 80 and 100 unless given. */
  thresholds?: readonly number[];
  /**
   * Days of a period that must have passed before its forecast may raise a shortfall alert (30
   * unless given): a run rate of a few days says little. At the period's end it always may.
   */
  forecastAfterDays?: number;
}

export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 100];

export interface DrawdownAlert {
  /** The same for the same alert of the same period on every run, so it is raised once: `2025-01-01/consumed-80`. */
  key: string;
  kind: 'consumed' | 'marketplace-cap' | 'forecast-shortfall';
  /** The percentage crossed (`consumed`, `marketplace-cap`). */
  threshold?: number;
  message: string;
}

export interface PeriodSummary {
  commitmentId: string;
  currency: CurrencyCode;
  /** The day the figures are for: entries effective after it do not count yet. */
  asOf: string;
  /** The period, numbered from 1. */
  period: CommitmentPeriod & { number: number };
  /** The period's commitment. */
  committed: string;
  consumed: string;
  /** What is still to be consumed (never below zero). */
  remaining: string;
  /** consumed / committed, in percent with two decimals. */
  percentConsumed: string;
  /** Days of the period up to and with asOf (0 before it starts), and all its days. */
  daysElapsed: number;
  daysInPeriod: number;
  /** Consumed per day so far. */
  runRatePerDay: string;
  /** Consumed at the period's end if the run rate holds (what was consumed, once it has ended). */
  forecast: string;
  /** What the forecast falls short of the commitment (zero when it reaches it); at the end, the shortfall the cloud bills. */
  shortfall: string;
  /** The period is over: the figures are final. */
  ended: boolean;
  /** Where the rules cap marketplace purchases (given `rules`): the cap in effect on asOf, and what is used of it. */
  marketplaceCap?: { percent: string; amount: string; used: string; remaining: string };
  alerts: DrawdownAlert[];
}

/**
 * The summary of the period `asOf` falls in (the first before the term, the last after it), from
 * the commitment's ledger entries.
 */
export function summarize(c: Commitment, entries: readonly DrawdownEntry[], asOf: string, options: SummaryOptions = {}): PeriodSummary {
  const periods = commitmentPeriods(c);
  let index = periods.findIndex((p) => asOf <= p.end);
  if (index < 0) index = periods.length - 1;
  return summarizePeriod(c, periods, index, entries, asOf, options);
}

/** Every period's summary on `asOf`, in order (periods not started yet have consumed nothing). */
export function summarizePeriods(c: Commitment, entries: readonly DrawdownEntry[], asOf: string, options: SummaryOptions = {}): PeriodSummary[] {
  const periods = commitmentPeriods(c);
  return periods.map((_, i) => summarizePeriod(c, periods, i, entries, asOf, options));
}

function summarizePeriod(
  c: Commitment, periods: readonly CommitmentPeriod[], index: number, entries: readonly DrawdownEntry[], asOf: string, options: SummaryOptions,
): PeriodSummary {
  const period = periods[index];
  const committed = new Dec(period.amount);
  let consumed = ZERO;
  // Against the cap: what counted, less what refunds gave back where their rules free the room.
  let capUsed = ZERO;
  for (const e of entries) {
    if (e.commitmentId !== c.id || e.periodStart !== period.start || e.effectiveDate > asOf) continue;
    consumed = consumed.plus(e.eligibleAmount);
    const keepsRoom = e.refundOf && options.rules && e.ruleVersion && versionNamed(options.rules, e.ruleVersion)?.refunds.freeCapRoom === false;
    if (!keepsRoom) capUsed = capUsed.plus(e.eligibleAmount);
  }
  const daysInPeriod = daysInclusive(period.start, period.end);
  const daysElapsed = asOf < period.start ? 0 : asOf >= period.end ? daysInPeriod : daysInclusive(period.start, asOf);
  const ended = daysElapsed === daysInPeriod;
  const runRate = daysElapsed > 0 ? consumed.div(daysElapsed) : ZERO;
  const forecast = consumed.plus(runRate.times(daysInPeriod - daysElapsed));
  const shortfall = max(ZERO, committed.minus(new Dec(money(forecast, c.currency))));
  const percent = committed.isZero() ? ZERO : consumed.div(committed).times(100);

  const capVersion = options.rules && versionOn(options.rules, asOf < period.start ? period.start : asOf > period.end ? period.end : asOf);
  const capPercent = capVersion?.marketplaceCap && (c.overrides?.marketplaceCapPercent ?? capVersion.marketplaceCap.percent);
  const cap = capPercent ? round(committed.times(capPercent).div(100), c.currency) : undefined;

  const alerts: DrawdownAlert[] = [];
  const cur = (d: Dec) => words(d, c.currency);
  for (const t of options.thresholds ?? DEFAULT_THRESHOLDS) {
    if (committed.gt(0) && percent.gte(t)) {
      alerts.push({
        key: `${period.start}/consumed-${t}`,
        kind: 'consumed',
        threshold: t,
        message: `${t} % of the ${period.start} to ${period.end} commitment consumed: ${cur(consumed)} of ${cur(committed)}`,
      });
    }
  }
  for (const t of cap?.gt(0) ? options.thresholds ?? DEFAULT_THRESHOLDS : []) {
    if (capUsed.div(cap!).times(100).gte(t)) {
      alerts.push({
        key: `${period.start}/marketplace-cap-${t}`,
        kind: 'marketplace-cap',
        threshold: t,
        message: `${t} % of the marketplace cap of the ${period.start} to ${period.end} period used: ${cur(capUsed)} of ${cur(cap!)} (${capPercent} % of ${cur(committed)})`,
      });
    }
  }
  if (!cap && shortfall.gt(0) && (ended || daysElapsed >= (options.forecastAfterDays ?? 30))) {
    alerts.push({
      key: `${period.start}/forecast-shortfall`,
      kind: 'forecast-shortfall',
      message: ended
        ? `the ${period.start} to ${period.end} period ended ${cur(shortfall)} short of its ${cur(committed)} commitment`
        : `at the current run rate the ${period.start} to ${period.end} period ends ${cur(shortfall)} short of its ${cur(committed)} commitment (forecast ${cur(forecast)})`,
    });
  }

  return {
    commitmentId: c.id,
    currency: c.currency,
    asOf,
    period: { ...period, number: index + 1 },
    committed: money(committed, c.currency),
    consumed: money(consumed, c.currency),
    remaining: money(max(ZERO, committed.minus(consumed)), c.currency),
    percentConsumed: percent.toFixed(2),
    daysElapsed,
    daysInPeriod,
    runRatePerDay: money(runRate, c.currency),
    forecast: money(forecast, c.currency),
    shortfall: money(shortfall, c.currency),
    ended,
    ...(cap ? { marketplaceCap: { percent: capPercent!, amount: money(cap, c.currency), used: money(capUsed, c.currency), remaining: money(max(ZERO, cap.minus(capUsed)), c.currency) } } : {}),
    alerts,
  };
}
