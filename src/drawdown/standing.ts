/**
 * A commitment's standing as the CRM account shows it, from the summary of its current period.
 */
import type { Commitment, CommitmentStanding } from '../model/index.js';
import { Dec, words } from './money.js';
import type { PeriodSummary } from './summary.js';

export function standingOf(c: Commitment, s: PeriodSummary, latestAlert?: string): CommitmentStanding {
  const cur = (v: string) => words(new Dec(v), c.currency);
  const figures = `${cur(s.consumed)} of ${cur(s.committed)} consumed (${s.percentConsumed} %) by ${s.asOf}; forecast ${cur(s.forecast)} by ${s.period.end}`;
  return {
    program: c.program,
    currency: c.currency,
    committed: s.committed,
    consumed: s.consumed,
    remaining: s.remaining,
    forecast: s.forecast,
    percentConsumed: s.percentConsumed,
    periodEnd: s.period.end,
    asOf: s.asOf,
    message: latestAlert ? `${figures}; ${latestAlert}` : figures,
  };
}
