import { z } from 'zod';

/**
 * The words of co-sell that other entities use too (an Opportunity shows its co-sell status).
 * Kept apart from cosell.ts, whose CoSell types embed the Opportunity: importing them from here
 * keeps opportunity.ts free of an import cycle.
 */

/** The clouds ecosync co-sells with: AWS Partner Central and Microsoft Partner Center. */
export const CoSellCloud = z.enum(['aws', 'azure']);
export type CoSellCloud = z.infer<typeof CoSellCloud>;

/** The system whose credentials reach each cloud's co-sell programme (keys of a connection's credentials). */
export const COSELL_SYSTEMS: Record<CoSellCloud, string> = { aws: 'aws-partner-central', azure: 'microsoft-partner-center' };

/** Each cloud as an alliance manager names it (in CRM messages and the CLI). */
export const COSELL_CLOUD_NAMES: Record<CoSellCloud, string> = { aws: 'AWS', azure: 'Microsoft' };

/**
 * Where a co-sell stands, the same words for every cloud. The first four are ecosync's own
 * (internal approval); the rest follow the cloud's review (AWS ReviewStatus, Microsoft
 * status/substatus), whose own values are kept beside it in cloudStatus/cloudSubstatus.
 */
export const COSELL_STATUSES = [
  'draft', 'pending_approval', 'changes_requested', 'rejected_internal',
  'submitted', 'in_review', 'approved', 'rejected', 'action_required', 'closed',
] as const;
export const CoSellStatus = z.enum(COSELL_STATUSES);
export type CoSellStatus = z.infer<typeof CoSellStatus>;

/** Statuses after which nothing more happens to the referral. */
export const FINAL_COSELL_STATUSES: readonly CoSellStatus[] = ['rejected_internal', 'approved', 'rejected', 'closed'];
