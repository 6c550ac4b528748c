import { z } from 'zod';
import { Account } from './account.js';
import { CanonicalId, Email, IsoDateTime } from './common.js';
import { Contact } from './contact.js';
import { Opportunity } from './opportunity.js';

// The cloud and status words live in cosell-status.ts: the Opportunity uses them too, and the
// types here embed the Opportunity.
import { CoSellCloud, CoSellStatus } from './cosell-status.js';
export { CoSellCloud, COSELL_STATUSES, CoSellStatus, FINAL_COSELL_STATUSES } from './cosell-status.js';

/** Co-sell asks the cloud's sellers to work the deal with us; visibility-only just tells them. */
export const CoSellInvolvement = z.enum(['co_sell', 'for_visibility_only']);
export type CoSellInvolvement = z.infer<typeof CoSellInvolvement>;

/** How much of the opportunity the cloud's sellers see. */
export const CoSellVisibility = z.enum(['full', 'limited']);
export type CoSellVisibility = z.infer<typeof CoSellVisibility>;

export const ApprovalDecision = z.enum(['submitted', 'approved', 'rejected', 'changes_requested', 'escalated', 'resubmitted']);
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/** One line of the approval trail: who decided what at which stage. `by` is "ecosync" for escalations. */
export const ApprovalEntry = z.object({
  stage: z.string().min(1),
  by: z.string().min(1),
  decision: ApprovalDecision,
  comment: z.string().optional(),
  at: IsoDateTime,
}).strict();
export type ApprovalEntry = z.infer<typeof ApprovalEntry>;

/** The last thing that went wrong, in the cloud's own terms when it came from the cloud. */
export const CoSellError = z.object({
  code: z.string().min(1),
  message: z.string(),
  /** Every field named, as the cloud names it (Customer.Account.WebsiteUrl, details.dealValue). */
  fields: z.array(z.object({ field: z.string(), code: z.string(), message: z.string() }).strict()),
}).strict();
export type CoSellError = z.infer<typeof CoSellError>;

/**
 * What both kinds of co-sell (ours to a cloud, a cloud's to us) carry of their internal
 * approval: the stage waiting for a decision and who may decide it, the trail, the last error.
 */
export const APPROVAL_STATE = {
  currentStage: z.string().optional(),
  pendingApprovers: z.array(z.string()),
  approvals: z.array(ApprovalEntry),
  lastError: CoSellError.optional(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
};

/** An opportunity shared with a cloud's co-sell programme: an AWS opportunity or a Microsoft referral. */
export const CoSellReferral = z.object({
  id: CanonicalId,
  opportunityId: CanonicalId,
  cloud: CoSellCloud,
  /** The cloud's id: O1234567 (AWS), the referral id (Microsoft). Absent until created. */
  externalId: z.string().optional(),
  status: CoSellStatus,
  /** The cloud's own words: ReviewStatus (AWS), status (Microsoft). */
  cloudStatus: z.string().optional(),
  /** Microsoft's substatus; AWS's ReviewStatusReason. */
  cloudSubstatus: z.string().optional(),
  involvementType: CoSellInvolvement,
  visibility: CoSellVisibility,
  requestedBy: Email,
  ...APPROVAL_STATE,
}).strict();
export type CoSellReferral = z.infer<typeof CoSellReferral>;

/**
 * What ecosync sends to a cloud's co-sell programme: the CRM snapshot (opportunity, its account
 * and customer contacts) and the alliance manager's choices. The cloud payloads are mapped from
 * it by mapping files (mappings/aws-partner-central-opportunity.yaml,
 * mappings/microsoft-partner-center-referral.yaml); it is never stored, so it has no id.
 */
export const CoSellSubmission = z.object({
  /** Our id of the deal as the cloud shows it to the partner (the CRM record id). */
  partnerOpportunityId: z.string().min(1).optional(),
  involvementType: CoSellInvolvement,
  visibility: CoSellVisibility,
  /** Partner solutions being co-sold: AWS solution ids (S-0000001) or Microsoft solution ids. */
  solutionIds: z.array(z.string().min(1)),
  /** AWS only: what the partner asks AWS for, the use case, how it is delivered, what was done so far. */
  primaryNeedsFromAws: z.array(z.string()).optional(),
  customerUseCase: z.string().optional(),
  deliveryModels: z.array(z.string()).optional(),
  salesActivities: z.array(z.string()).optional(),
  opportunity: Opportunity,
  account: Account.optional(),
  /** Customer contacts: Microsoft needs at least one on the referral's customer team. */
  contacts: z.array(Contact).optional(),
}).strict();
export type CoSellSubmission = z.infer<typeof CoSellSubmission>;
