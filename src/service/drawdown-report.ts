/**
 * Where each commitment stands, as the report command and the burn-down page show it: the
 * current period's commitment line, what was consumed to date and the forecast to the period's
 * end, from the ledger lines behind them; and the revenue partners sourced or influenced, from
 * won opportunities and touchpoints. Read from the store; the figures are the pure engine's.
 */
import { Decimal } from 'decimal.js';
import { summarizePeriods, type PeriodSummary } from '../drawdown/index.js';
import type { Commitment, DrawdownEntry } from '../model/index.js';
import { loadRuleSet } from '../runtime/rules.js';
import type { AlertRow, Store } from '../store/index.js';

export interface BurndownPoint {
  date: string;
  /** Consumed in the period up to and with this day. */
  consumed: string;
}

export interface CommitmentReport {
  connectionId: string;
  commitment: Commitment;
  /** The period the day falls in (the last one once the term is over). */
  current: PeriodSummary;
  /** Each period's figures. */
  periods: PeriodSummary[];
  /** The current period's consumption day by day (a point per day with ledger lines), from 0 on its first day. */
  burndown: BurndownPoint[];
  /** Every ledger line, in the order it was written. */
  ledger: DrawdownEntry[];
  alerts: AlertRow[];
}

export interface PartnerRevenue {
  partnerId: string;
  partner: string;
  currency: string;
  /** Won revenue of opportunities the partner sourced. */
  sourced: string;
  /** Won revenue of opportunities it influenced (and did not source). */
  influenced: string;
  opportunities: number;
}

export interface DrawdownReport {
  asOf: string;
  commitments: CommitmentReport[];
  partners: PartnerRevenue[];
}

export interface ReportFilter {
  connectionId?: string;
  accountId?: string;
  /** The day the figures are for (today by default). */
  asOf?: string;
}

export async function drawdownReport(store: Store, filter: ReportFilter = {}): Promise<DrawdownReport> {
  const asOf = filter.asOf ?? new Date().toISOString().slice(0, 10);
  const rows = await store.commitments.list({ connectionId: filter.connectionId, accountId: filter.accountId });
  const commitments: CommitmentReport[] = [];
  for (const row of rows) {
    const c = row.commitment;
    const ledger = (await store.commitments.ledger(c.id)).map((r) => r.entry);
    // With its rules, a capped period (AWS) shows the marketplace cap and its room.
    const rules = await loadRuleSet(c.ruleSet).catch(() => undefined);
    const periods = summarizePeriods(c, ledger, asOf, { rules });
    const current = periods.find((p) => asOf <= p.period.end) ?? periods.at(-1)!;
    commitments.push({ connectionId: row.connectionId, commitment: c, current, periods, burndown: burndown(current, ledger), ledger, alerts: (await store.commitments.alerts(c.id)).sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true })) });
  }
  const connections = filter.connectionId ? [filter.connectionId] : [...new Set(rows.map((r) => r.connectionId))];
  const partners: PartnerRevenue[] = [];
  for (const id of connections) partners.push(...(await partnerRevenue(store, id)));
  return { asOf, commitments, partners };
}

/** Cumulative consumption of the period by effective date, up to the summary's day. */
export function burndown(s: PeriodSummary, ledger: readonly DrawdownEntry[]): BurndownPoint[] {
  const byDay = new Map<string, Decimal>();
  for (const e of ledger) {
    if (e.periodStart !== s.period.start || e.effectiveDate > s.asOf) continue;
    byDay.set(e.effectiveDate, (byDay.get(e.effectiveDate) ?? new Decimal(0)).plus(e.eligibleAmount));
  }
  const digits = s.committed.split('.')[1]?.length ?? 0;
  let sum = new Decimal(0);
  const points: BurndownPoint[] = [];
  if (!byDay.has(s.period.start)) points.push({ date: s.period.start, consumed: sum.toFixed(digits) });
  for (const day of [...byDay.keys()].sort()) {
    sum = sum.plus(byDay.get(day)!);
    points.push({ date: day, consumed: sum.toFixed(digits) });
  }
  return points;
}

/**
 * Per partner and currency: won revenue of the opportunities it sourced, and of those it only
 * influenced. A partner is sourcing when the CRM's partner fields or a touchpoint say so.
 */
export async function partnerRevenue(store: Store, connectionId: string): Promise<PartnerRevenue[]> {
  const [won, touchpoints, names] = await Promise.all([
    store.touchpoints.wonOpportunities(connectionId),
    store.touchpoints.list(connectionId),
    store.touchpoints.partnerNames(connectionId),
  ]);
  const roles = new Map<string, Map<string, 'sourced' | 'influenced'>>();
  const note = (opportunityId: string, partnerId: string | undefined, role: string) => {
    if (!partnerId) return;
    const key = opportunityId.toLowerCase();
    const of = roles.get(key) ?? new Map<string, 'sourced' | 'influenced'>();
    if (role === 'sourced' || !of.has(partnerId)) of.set(partnerId, role === 'sourced' ? 'sourced' : 'influenced');
    roles.set(key, of);
  };
  for (const o of won) for (const p of o.partners) note(o.id, p.partnerId, p.role);
  for (const t of touchpoints) note(t.opportunityId, t.partnerId, t.kind);

  const totals = new Map<string, { partnerId: string; currency: string; sourced: Decimal; influenced: Decimal; opportunities: number }>();
  for (const o of won) {
    if (!o.amount) continue;
    for (const [partnerId, role] of roles.get(o.id.toLowerCase()) ?? []) {
      const key = `${partnerId}\u0000${o.amount.currency}`;
      const t = totals.get(key) ?? { partnerId, currency: o.amount.currency, sourced: new Decimal(0), influenced: new Decimal(0), opportunities: 0 };
      t[role] = t[role].plus(o.amount.amount);
      t.opportunities++;
      totals.set(key, t);
    }
  }
  return [...totals.values()]
    .map((t) => ({ partnerId: t.partnerId, partner: names.get(t.partnerId) ?? t.partnerId, currency: t.currency, sourced: t.sourced.toFixed(2), influenced: t.influenced.toFixed(2), opportunities: t.opportunities }))
    .sort((a, b) => a.partner.localeCompare(b.partner) || a.currency.localeCompare(b.currency));
}
