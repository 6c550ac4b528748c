/** Small pure helpers that turn what the co-sell benchmark recorded into its figures. */

/**
 * The fewest AWS calls a co-sell can make: create the opportunity, associate the solution, submit
 * it (StartEngagementFromOpportunityTask), and read AWS's decision once.
 */
export const AWS_MINIMUM: Record<string, number> = { CreateOpportunity: 1, AssociateOpportunity: 1, StartEngagementFromOpportunityTask: 1, GetOpportunity: 1 };
/** The fewest Microsoft calls: create the Shared referral and read Microsoft's decision once. */
export const MICROSOFT_MINIMUM: Record<string, number> = { 'referrals.create': 1, 'referrals.get': 1 };

/** Why the clients make calls beyond the minimum (see each client), for the report. */
export const WHY_EXTRA: Record<string, string> = {
  GetOpportunity: 'the AWS client reads the opportunity before StartEngagementFromOpportunityTask to check the submission rules locally, so an incomplete one fails with its fields instead of a failed task',
  'referrals.list': 'Partner Center takes no idempotency key: before each create the client looks its key up by externalReferenceId, so a retried create finds the referral instead of making a second',
  'entra.token': 'one Entra ID token per client, cached until shortly before it expires: per run, not per co-sell',
  'entra.openid-configuration': 'MSAL reads the authority\'s metadata once per client: per run, not per co-sell',
  'entra.keys': 'MSAL reads the authority\'s keys once per client: per run, not per co-sell',
};

/** AWS sandbox counters: operations served or refused (`CreateOpportunity`), without the per-error counts (`Op.ThrottlingException`). */
export function awsCalls(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([name]) => !name.includes('.')));
}

/** AWS sandbox error counts (`CreateOpportunity.ThrottlingException`). */
export function awsErrors(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([name]) => name.includes('.')));
}

/** Microsoft sandbox counters: calls per endpoint (Entra and Partner Center), without the per-status counts (`200 referrals.get`) and the sandbox's control routes. */
export function microsoftCalls(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([name]) => !/^\d/.test(name) && !name.startsWith('control.')));
}

/** Microsoft sandbox answers that were not 2xx, by status and endpoint. */
export function microsoftErrors(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([name]) => /^[3-5]\d\d /.test(name)));
}

/** Calls per co-sell, by operation, to two decimals. */
export function perCoSell(calls: Record<string, number>, count: number): Record<string, number> {
  return Object.fromEntries(Object.entries(calls).map(([op, n]) => [op, Math.round((n / count) * 100) / 100]));
}

/** Per operation, how far calls per co-sell are from the minimum (operations at the minimum left out). */
export function extraCalls(perCoSellCalls: Record<string, number>, minimum: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of new Set([...Object.keys(perCoSellCalls), ...Object.keys(minimum)])) {
    const d = Math.round(((perCoSellCalls[op] ?? 0) - (minimum[op] ?? 0)) * 100) / 100;
    if (d !== 0) out[op] = d;
  }
  return out;
}

export interface Summary { count: number; p50: number; p95: number; max: number; mean: number }

/** Nearest-rank percentiles (p50, p95), max and mean, rounded to whole units. */
export function summarize(values: number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  const mean = sorted.length === 0 ? NaN : sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { count: sorted.length, p50: Math.round(at(0.5)), p95: Math.round(at(0.95)), max: Math.round(sorted.at(-1) ?? NaN), mean: Math.round(mean) };
}
