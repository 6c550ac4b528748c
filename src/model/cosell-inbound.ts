import { z } from 'zod';
import { CanonicalId, CountryCode, Domain, IsoDate, IsoDateTime, Money } from './common.js';
import { APPROVAL_STATE, CoSellCloud } from './cosell.js';

/**
 * An opportunity a cloud shared with us: an AWS engagement invitation or a Microsoft referral
 * shared by Microsoft's sellers. It waits for an alliance manager to accept or reject it; accepted,
 * it becomes (or is linked to) a CRM opportunity.
 */

/**
 * pending_acceptance: waiting for our decision. accepted: accepted in the cloud and written to
 * the CRM. declined: rejected by us (with a reason the cloud passes on). expired: the cloud's
 * deadline passed first. withdrawn: the cloud closed it, or someone answered it outside ecosync.
 */
export const INBOUND_COSELL_STATUSES = ['pending_acceptance', 'accepted', 'declined', 'expired', 'withdrawn'] as const;
export const InboundCoSellStatus = z.enum(INBOUND_COSELL_STATUSES);
export type InboundCoSellStatus = z.infer<typeof InboundCoSellStatus>;

/** Who in the cloud shared it. */
export const InboundSender = z.object({
  company: z.string().optional(),
  /** AWS account id of the sender; Microsoft's seller has none. */
  accountId: z.string().optional(),
  contacts: z.array(z.object({
    email: z.string(),
    firstName: z.string().optional(),
    lastName: z.string().optional(),
    title: z.string().optional(),
    phone: z.string().optional(),
  }).strict()),
}).strict();
export type InboundSender = z.infer<typeof InboundSender>;

/** The customer as the cloud describes it. */
export const InboundCustomer = z.object({
  company: z.string().min(1),
  /** Lower-case host without www: from the website (AWS) or the customer contacts' e-mail (Microsoft). */
  domain: Domain.optional(),
  website: z.string().optional(),
  country: CountryCode.optional(),
  industry: z.string().optional(),
}).strict();
export type InboundCustomer = z.infer<typeof InboundCustomer>;

export const InboundProject = z.object({
  title: z.string().min(1),
  description: z.string().optional(),
  /** Yearly value (AWS gives a monthly spend: times twelve). */
  amount: Money.optional(),
  closeDate: IsoDate.optional(),
}).strict();
export type InboundProject = z.infer<typeof InboundProject>;

/** How the CRM match was found, in the order the matcher tries. */
export const MatchReason = z.enum(['domain', 'company_name', 'none']);
export type MatchReason = z.infer<typeof MatchReason>;

export const InboundMatch = z.object({
  accountId: CanonicalId.optional(),
  opportunityId: CanonicalId.optional(),
  reason: MatchReason,
  /** One line a person reads: "account by domain acme.com; opportunity "Acme data lake" by title". */
  detail: z.string(),
}).strict();
export type InboundMatch = z.infer<typeof InboundMatch>;

export const InboundCoSell = z.object({
  cloud: CoSellCloud,
  /** AWS engagement invitation id (engi-…) or Microsoft referral id. */
  invitationId: z.string().min(1),
  /** The cloud's opportunity: AWS's O… once accepted; for Microsoft the referral's engagement id. */
  cloudOpportunityId: z.string().optional(),
  status: InboundCoSellStatus,
  /** The cloud's own words: PENDING/ACCEPTED… (AWS), status/substatus (Microsoft). */
  cloudStatus: z.string().optional(),
  sender: InboundSender,
  customer: InboundCustomer,
  project: InboundProject,
  /** The cloud's message to us. */
  message: z.string().optional(),
  receivedAt: IsoDateTime.optional(),
  expiresAt: IsoDateTime.optional(),
  /** The existing CRM records it matched, before and after acceptance the ones written. */
  match: InboundMatch.optional(),
  /** Canonical ids of the CRM account and opportunity it is linked to once accepted. */
  accountId: CanonicalId.optional(),
  opportunityId: CanonicalId.optional(),
  ...APPROVAL_STATE,
}).strict();
export type InboundCoSell = z.infer<typeof InboundCoSell>;
