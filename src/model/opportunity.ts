import { z } from 'zod';
import { CanonicalId, Cloud, IsoDate, Money } from './common.js';
import { CoSellCloud, CoSellStatus } from './cosell-status.js';

/**
 * The canonical sales stages. Each CRM's picklist and each cloud's LifeCycle.Stage map onto
 * these in mapping files; order matters (a stage index is used for "moved forward" checks).
 */
export const OPPORTUNITY_STAGES = [
  'prospecting',
  'qualification',
  'technical_validation',
  'business_validation',
  'proposal',
  'negotiation',
  'committed',
  'closed_won',
  'closed_lost',
] as const;
export const OpportunityStage = z.enum(OPPORTUNITY_STAGES);
export type OpportunityStage = z.infer<typeof OpportunityStage>;

export const OpportunityType = z.enum(['new_business', 'expansion', 'renewal']);

/** How a partner took part: sourced the deal, or influenced one we sourced. */
export const PartnerRole = z.enum(['sourced', 'influenced']);

export const PartnerInvolvement = z.object({
  partnerId: CanonicalId.optional(),
  role: PartnerRole,
  /** Set when the partner is a cloud co-selling with us. */
  cloud: Cloud.optional(),
}).strict();
export type PartnerInvolvement = z.infer<typeof PartnerInvolvement>;

/**
 * The opportunity's co-sell as the CRM shows it. The alliance manager asks for a co-sell by
 * choosing the cloud; ecosync fills in the rest as the co-sell goes on.
 */
export const OpportunityCoSell = z.object({
  /** The cloud the alliance manager asked to co-sell with. */
  cloud: CoSellCloud.optional(),
  status: CoSellStatus.optional(),
  /** The cloud's id of the shared opportunity: O1234567 (AWS), the referral id (Microsoft). */
  cloudOpportunityId: z.string().optional(),
  /** For people: the status line, the cloud's reasons or the approvers being waited for. */
  message: z.string().optional(),
}).strict();
export type OpportunityCoSell = z.infer<typeof OpportunityCoSell>;

/**
 * The opportunity's private offer as the CRM shows it: ecosync writes where the offer stands, the
 * buyer's link once it is live, what to fix when the marketplace refused it, and the agreement
 * once the buyer accepted.
 */
export const OpportunityOffer = z.object({
  cloud: CoSellCloud.optional(),
  status: z.enum(['draft', 'pending_approval', 'changes_requested', 'rejected_internal', 'submitted', 'failed', 'live', 'accepted', 'expired', 'withdrawn']).optional(),
  offerId: z.string().optional(),
  buyerUrl: z.url().optional(),
  message: z.string().optional(),
  agreementId: z.string().optional(),
}).strict();
export type OpportunityOffer = z.infer<typeof OpportunityOffer>;

export const Opportunity = z.object({
  id: CanonicalId,
  name: z.string().min(1),
  amount: Money.optional(),
  stage: OpportunityStage,
  closeDate: IsoDate,
  probability: z.number().int().min(0).max(100).optional(),
  type: OpportunityType.optional(),
  accountId: CanonicalId.optional(),
  leadSource: z.string().optional(),
  nextStep: z.string().optional(),
  description: z.string().optional(),
  partnerInvolvement: z.array(PartnerInvolvement).optional(),
  coSell: OpportunityCoSell.optional(),
  offer: OpportunityOffer.optional(),
}).strict();
export type Opportunity = z.infer<typeof Opportunity>;
