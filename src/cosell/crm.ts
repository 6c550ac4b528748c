import { COSELL_CLOUD_NAMES, FINAL_COSELL_STATUSES, type CoSellCloud, type CoSellStatus } from '../model/cosell-status.js';
import type { CoSellReferral } from '../model/index.js';

/**
 * What a CRM opportunity shows of its co-sell, and what a CRM change means for one. The CRM
 * fields themselves are in the mapping files (`coSell.*` in mappings/salesforce-opportunity.yaml
 * and mappings/hubspot-deal.yaml); ecosync writes the canonical fields through the sync layer.
 */

/** The object each CRM keeps opportunities in: where a co-sell's status shows. */
export const CRM_COSELL_FIELDS: Record<string, { object: string }> = {
  salesforce: { object: 'Opportunity' },
  hubspot: { object: 'deals' },
};

/** The message fits a Salesforce long text area (and HubSpot's text property) with room to spare. */
const MAX_MESSAGE = 32_000;

/** One line an alliance manager reads in the CRM: "AWS co-sell O1234567: rejected — <AWS's reason>". */
export function coSellSummary(referral: Pick<CoSellReferral, 'cloud' | 'externalId' | 'status' | 'lastError' | 'cloudSubstatus' | 'pendingApprovers'>): string {
  const head = `${COSELL_CLOUD_NAMES[referral.cloud]} co-sell${referral.externalId ? ` ${referral.externalId}` : ''}: ${referral.status.replaceAll('_', ' ')}`;
  const reasons = referral.lastError
    ? [referral.lastError.message, ...referral.lastError.fields.map((f) => `${f.field}: ${f.message}`)].filter(Boolean).join('; ')
    : referral.status === 'pending_approval' && referral.pendingApprovers.length > 0 ? `waiting for ${referral.pendingApprovers.join(', ')}` : '';
  const summary = reasons ? `${head} — ${reasons}` : head;
  return summary.length > MAX_MESSAGE ? `${summary.slice(0, MAX_MESSAGE - 1)}…` : summary;
}

/**
 * The canonical Opportunity fields a co-sell writes back (a patch by dotted path). Every field
 * is set, an absent cloud id included, so the CRM never shows a stale one.
 */
export function coSellValues(referral: Parameters<typeof coSellSummary>[0]): Record<string, unknown> {
  return {
    'coSell.cloud': referral.cloud,
    'coSell.status': referral.status,
    'coSell.cloudOpportunityId': referral.externalId,
    'coSell.message': coSellSummary(referral),
  };
}

// --- the CRM as a co-sell trigger ------------------------------------------------------------

/**
 * What a CRM change means for co-sell. `requested`: an alliance manager picked a cloud for an
 * opportunity with no co-sell going on. `edited`: an opportunity whose co-sell is going on
 * changed in a way the cloud sees.
 */
export interface CoSellEvent {
  connectionId: string;
  /** The opportunity's canonical id. */
  opportunityId: string;
  cloud: CoSellCloud;
  kind: 'requested' | 'edited';
  /**
   * The opportunity's canonical values after the change (id included). The hook runs before the
   * sync saves them, so this, not the store, is the opportunity as the CRM has it now.
   */
  opportunity: Record<string, unknown>;
}

/** The opportunity fields a cloud's payload is made of: a change to one is worth sending on. */
export const COSELL_COMMERCIAL_FIELDS = ['name', 'amount', 'stage', 'closeDate', 'type', 'description', 'accountId'] as const;

type CoSellPart = { cloud?: unknown; status?: unknown } | undefined;
const coSellOf = (data: Record<string, unknown> | undefined) => data?.coSell as CoSellPart;
const isCloud = (v: unknown): v is CoSellCloud => v === 'aws' || v === 'azure';
const isFinal = (status: unknown) => FINAL_COSELL_STATUSES.includes(status as CoSellStatus);

/**
 * The co-sell event of one opportunity change, from the agreed record before (undefined for an
 * opportunity ecosync did not know) and after. Cheap for the common case: an opportunity without
 * a cloud is two property reads.
 */
export function coSellEventOf(before: Record<string, unknown> | undefined, after: Record<string, unknown>): { kind: CoSellEvent['kind']; cloud: CoSellCloud } | undefined {
  const now = coSellOf(after);
  const cloud = now?.cloud;
  if (!isCloud(cloud)) return undefined;
  const was = coSellOf(before);
  const status = now?.status;
  if (was?.cloud !== cloud) {
    // A cloud picked (or changed) where no co-sell is going on: ask for one. A new cloud while
    // one is going on is not a request: that co-sell has to end first.
    return status === undefined || status === null || isFinal(status) ? { kind: 'requested', cloud } : undefined;
  }
  if (!before || isFinal(status)) return undefined;
  for (const field of COSELL_COMMERCIAL_FIELDS) {
    if (!sameValue(before[field], after[field])) return { kind: 'edited', cloud };
  }
  return undefined;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  // Money and other small objects: equal when every key is.
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
