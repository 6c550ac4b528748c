import type { CoSellReferral } from '../model/index.js';

/**
 * What the CRM opportunity shows of its co-sell. The standard objects have no fields for it, so
 * the status, the cloud's id and the cloud's reasons go into the next-step field; an org that
 * adds custom fields (Salesforce `Cosell_Status__c`, `AWS_Opportunity_Id__c`,
 * `Cosell_Reasons__c`; HubSpot `ecosync_cosell_status`, `ecosync_cloud_opportunity_id`) maps
 * them here instead.
 */
export const CRM_COSELL_FIELDS: Record<string, { object: string; summary: string; maxLength: number }> = {
  salesforce: { object: 'Opportunity', summary: 'NextStep', maxLength: 255 },
  hubspot: { object: 'deals', summary: 'hs_next_step', maxLength: 65_536 },
};

const CLOUD_NAMES = { aws: 'AWS', azure: 'Microsoft' } as const;

/** One line an alliance manager reads in the CRM: "AWS co-sell O1234567: rejected — <AWS's reason>". */
export function coSellSummary(referral: Pick<CoSellReferral, 'cloud' | 'externalId' | 'status' | 'lastError' | 'cloudSubstatus' | 'pendingApprovers'>): string {
  const head = `${CLOUD_NAMES[referral.cloud]} co-sell${referral.externalId ? ` ${referral.externalId}` : ''}: ${referral.status.replaceAll('_', ' ')}`;
  const reasons = referral.lastError
    ? [referral.lastError.message, ...referral.lastError.fields.map((f) => `${f.field}: ${f.message}`)].filter(Boolean).join('; ')
    : referral.status === 'pending_approval' && referral.pendingApprovers.length > 0 ? `waiting for ${referral.pendingApprovers.join(', ')}` : '';
  return reasons ? `${head} — ${reasons}` : head;
}

/** The CRM fields to write for this referral, or undefined when the CRM has no place for them. */
export function crmCoSellFields(system: string, referral: Parameters<typeof coSellSummary>[0]): { object: string; fields: Record<string, string> } | undefined {
  const target = CRM_COSELL_FIELDS[system];
  if (!target) return undefined;
  const summary = coSellSummary(referral);
  return { object: target.object, fields: { [target.summary]: summary.length > target.maxLength ? `${summary.slice(0, target.maxLength - 1)}…` : summary } };
}
