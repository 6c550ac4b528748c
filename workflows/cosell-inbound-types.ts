/**
 * Types shared by the inbound co-sell workflows (an invitation from a cloud; the inbox that finds
 * them), their activities and whoever drives them. Plain data and type-only imports.
 */
import type { ApprovalPolicy, ApprovalProgress, DecisionRequest } from '../src/cosell/approval.js';
import type { InboundInvitation } from '../src/cosell/inbound.js';
import type { CoSellCloud } from '../src/model/cosell.js';
import type { InboundCoSell, InboundMatch } from '../src/model/cosell-inbound.js';

export type { ApprovalPolicy, DecisionRequest, InboundInvitation, InboundMatch };

export interface InvitationInput {
  cloud: CoSellCloud;
  /** The connection whose credentials reach the cloud, and whose CRMs the opportunity goes to. */
  connectionId: string;
  /** Shown as the EcosyncConnection search attribute, as the sync workflows show it. */
  connectionName?: string;
  /** AWS engagement invitation id, or Microsoft referral id. */
  invitationId: string;
  policy: ApprovalPolicy;
  /** How long to wait before looking again when the cloud has not yet expired an invitation past its date. Default 1 min. */
  expiryRecheckMs?: number;
  /** Wait before writing to the CRM again after a failed write. Default 5 min. */
  crmRetryMs?: number;
  /** Continue-as-new once the history passes this many events (default 2,000). */
  historyLimit?: number;
  /** Carried across continue-as-new. */
  resume?: InvitationProgress;
}

/** read: fetch and match; decision: wait for approve/reject; accepting/declining: answer the cloud (and write the CRM). */
export type InvitationPhase = 'read' | 'decision' | 'accepting' | 'declining' | 'done';

export interface InvitationProgress {
  phase: InvitationPhase;
  inbound: InboundCoSell;
  /** The invitation as last read, for the CRM write. */
  invitation?: InboundInvitation;
  approval: ApprovalProgress;
  /** The decision being carried out. */
  decision?: { by: string; comment?: string };
  /** Canonical ids for records this invitation may create: fixed once, so every retry writes the same ones. */
  ids: { account: string; opportunity: string };
  steps: { cloudAnswered: boolean };
}

/** What the `state` query and the updates answer. */
export interface InvitationView extends InboundCoSell {
  phase: InvitationPhase;
}

export interface InboxInput {
  cloud: CoSellCloud;
  connectionId: string;
  connectionName?: string;
  /** Handed to each invitation workflow the inbox starts. */
  policy: ApprovalPolicy;
  /** Time between polls of the cloud. Default 5 min. */
  pollIntervalMs?: number;
  /** Options for the invitation workflows it starts. */
  invitation?: Pick<InvitationInput, 'expiryRecheckMs' | 'crmRetryMs' | 'historyLimit'>;
  /** Continue-as-new after this many polls (default 100): the history stays a few hundred events. */
  pollsPerRun?: number;
  cursor?: InboxCursor;
}

/** What the inbox carries from poll to poll and across continue-as-new: small by construction. */
export interface InboxCursor {
  /** Pending invitations already handed to a workflow (only those still pending: bounded by the cloud's own pending list). */
  started: string[];
  polls: number;
  startedTotal: number;
  lastPollAt?: string;
}

export interface InboxView extends InboxCursor {
  cloud: CoSellCloud;
  connectionId: string;
  pending: number;
}

interface CloudCall {
  connectionId: string;
  cloud: CoSellCloud;
}

/** The activities the inbound workflows call; implemented in src/activities/cosell-inbound.ts. */
export interface InboundActivities {
  readInvitation(input: CloudCall & { invitationId: string }): Promise<InboundInvitation>;
  /** Looks the customer and project up among the records ecosync knows. */
  matchInvitation(input: { connectionId: string; invitation: Pick<InboundInvitation, 'customer' | 'project'> }): Promise<InboundMatch>;
  /** Idempotent: a retry, or an invitation already accepted, is not an error. */
  acceptInvitation(input: CloudCall & { invitationId: string; clientToken: string }): Promise<{ cloudOpportunityId?: string; cloudStatus: string }>;
  declineInvitation(input: CloudCall & { invitationId: string; reason: string }): Promise<{ cloudStatus: string }>;
  /**
   * Writes the accepted co-sell to the CRMs through the canonical writer: patches the matched
   * opportunity, or creates the account (unless matched) and the opportunity with `ids`. `match`
   * is the workflow's latest (made right before); without one the activity matches itself.
   */
  writeInboundToCrm(input: {
    connectionId: string;
    cloud: CoSellCloud;
    invitation: InboundInvitation;
    cloudOpportunityId?: string;
    match?: InboundMatch;
    ids: { account: string; opportunity: string };
  }): Promise<{ accountId: string; opportunityId: string; match: InboundMatch; created: { account: boolean; opportunity: boolean } }>;
  remindInboundApprovers(input: { inbound: InboundCoSell; approvers: string[]; escalatedTo?: string }): Promise<void>;
  /** Lists the cloud's pending invitations and starts a workflow for each one not in `started`. */
  pollInbox(input: CloudCall & { started: string[]; taskQueue: string; policy: ApprovalPolicy; connectionName?: string; invitation?: InboxInput['invitation'] }): Promise<{ pending: string[]; newlyStarted: string[] }>;
}

/** One workflow per invitation and cloud. */
export const invitationWorkflowId = (cloud: CoSellCloud, invitationId: string) => `cosell-inbound:${cloud}:${invitationId}`;
/** One inbox per connection and cloud. */
export const inboxWorkflowId = (cloud: CoSellCloud, connectionId: string) => `cosell-inbox:${cloud}:${connectionId}`;
