/**
 * Types shared by the private offer workflow, its activities and whoever drives it (API, CLI,
 * tests). Plain data and type-only imports: workflow code imports this file.
 */
import type { ApprovalPolicy, ApprovalProgress, DecisionRequest } from '../src/cosell/approval.js';
import type { OfferCloud, OfferProblem, OfferStatus, PrivateOffer } from '../src/model/offer.js';
import type { OfferRequest } from '../src/model/offer.js';
import type { CrmRecordRef } from './cosell-types.js';

export type { ApprovalPolicy, DecisionRequest, OfferRequest };

export interface OfferInput {
  cloud: OfferCloud;
  /** The connection holding the CRM's and the marketplace's credentials. */
  connectionId: string;
  /** The offer's canonical id (UUID v5 of cloud and opportunity): the same offer whoever asks twice. */
  offerId: string;
  /** The CRM record the offer's terms are read from. */
  crm: CrmRecordRef;
  request: OfferRequest;
  policy: ApprovalPolicy;
  /** First wait between reads of a change set or job, doubled after each read up to the max. Defaults 30 s and 10 min. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** How often a live offer is checked for an acceptance no event announced. Default 1 h. */
  acceptancePollMs?: number;
  /** Days before expiry on which the alliance manager is reminded. Default 7 and 1. */
  reminderDays?: number[];
  historyLimit?: number;
  /** Carried across continue-as-new. */
  resume?: OfferProgress;
}

/**
 * Where the offer is: its terms checked, approvers deciding, the alliance manager fixing what
 * was refused, the marketplace applying it, live and waiting for the buyer, booked.
 */
export type OfferPhase = 'prepare' | 'approval' | 'changes' | 'publish' | 'follow' | 'fix' | 'live' | 'book' | 'done';

/** The step of publishing a change set stands for: a direct offer, or a CPPO's two sides. */
export type PublishStep = 'direct' | 'authorization' | 'resale';

export interface OfferProgress {
  phase: OfferPhase;
  offer: PrivateOffer;
  approval: ApprovalProgress;
  approvedBy: { stage: string; by: string }[];
  /** The change set (AWS) or job (Microsoft) being followed, which step it is and whether it only validates. */
  pending?: { id: string; step: PublishStep; intent: 'VALIDATE' | 'APPLY'; as: 'seller' | 'reseller'; attempt: number };
  /** Steps AWS validated in this round: they are applied next. */
  validated: PublishStep[];
  /** Resubmissions so far: each publishes with a new idempotency token. */
  round: number;
  /** Expiry reminders already sent (days before). */
  reminded: number[];
  /** An acceptance announced by an event, not yet booked. */
  announced?: { agreementId: string };
  /** What accepting made: the agreement and its ERP order. */
  booked?: { agreementId: string; salesOrderId?: string };
}

/** What the `state` query and every update answer. */
export interface OfferView extends PrivateOffer {
  phase: OfferPhase;
}

/** The alliance manager's fix after the marketplace refused the offer or approvers asked for changes. */
export interface OfferResubmit {
  by: string;
  comment?: string;
  /** Replacements for the request's pricing or terms; the CRM's terms are read again either way. */
  request?: Partial<Pick<OfferRequest, 'pricingModel' | 'dimensions' | 'paymentSchedule' | 'terms' | 'resale'>>;
}

export interface OfferWithdraw {
  by: string;
  reason: string;
}

/** What the marketplace announced (an EventBridge event, a Microsoft notification) about this offer. */
export type MarketplaceNotice =
  | { kind: 'changeSet'; changeSetId: string; status: string }
  | { kind: 'agreement'; agreementId: string; offerId: string }
  | { kind: 'subscription'; subscriptionId: string; offerId: string };

export interface OfferCall {
  connectionId: string;
  cloud: OfferCloud;
}

/** A change set's or job's progress, with the marketplace's refusals in words. */
export interface PublishProgress {
  status: 'running' | 'succeeded' | 'failed' | 'retry';
  /** The entity the step made: the offer, the resale authorization, the Microsoft private offer. */
  entityId?: string;
  /** Where the buyer accepts, once the offer is live. */
  buyerUrl?: string;
  problems?: OfferProblem[];
}

/** An agreement as the offer workflow books it. */
export interface AgreementSeen {
  agreementId: string;
  offerId: string;
  acceptor: string;
  status: string;
  acceptedAt: string;
  startDate: string;
  endDate?: string;
  totalContractValue: string;
  currency: string;
  /** Microsoft: the plan as the SaaS subscription names it (what metering sends). */
  planId?: string;
}

/** The activities the offer workflow calls; implemented in src/activities/offers.ts. */
export interface OfferActivities {
  /** Reads the opportunity's terms from the CRM and builds the offer, or says what to fix. */
  prepareOffer(input: OfferCall & { offerId: string; crm: CrmRecordRef; request: OfferRequest; previous?: PrivateOffer }): Promise<{ offer?: PrivateOffer; problems: OfferProblem[] }>;
  /** Sends one step to the marketplace, idempotent by `token`; a marketplace busy with the entity answers `busy`. */
  publishOffer(input: OfferCall & { offer: PrivateOffer; step: PublishStep; intent: 'VALIDATE' | 'APPLY'; token: string }): Promise<{ id: string; as: 'seller' | 'reseller' } | { busy: true } | { problems: OfferProblem[] }>;
  followPublish(input: OfferCall & { offer: PrivateOffer; id: string; as: 'seller' | 'reseller' }): Promise<PublishProgress>;
  /** An acceptance of the offer, if the buyer accepted. */
  findAcceptance(input: OfferCall & { offer: PrivateOffer; agreementId?: string }): Promise<AgreementSeen | undefined>;
  /**
   * Books an acceptance once: the agreement recorded, the opportunity won at its value, the buyer
   * a customer in the ERP, one sales order made (keyed by the agreement, so a second booking finds it).
   */
  bookAgreement(input: OfferCall & { offer: PrivateOffer; agreement: AgreementSeen }): Promise<{ salesOrderId?: string; erp: string }>;
  /** Withdraws a live offer (AWS: ends its availability today; Microsoft: state withdrawn). */
  withdrawOffer(input: OfferCall & { offer: PrivateOffer; token: string }): Promise<void>;
  writeOfferToCrm(input: { connectionId: string; offer: PrivateOffer }): Promise<void>;
  remindOffer(input: { offer: PrivateOffer; to: string[]; subject: string; text: string }): Promise<void>;
}

/** Failures of these types are the marketplace (or the CRM's terms) saying no: retrying cannot help. */
export const OFFER_NON_RETRYABLE = ['MarketplaceRefused', 'ConfigurationError', 'AuthError'];

/** Statuses after which the offer's workflow ends. */
export const FINAL_OFFER_PHASES: readonly OfferPhase[] = ['done'];

export type { OfferStatus };
