/**
 * Types shared by the co-sell workflow, its activities and whoever drives it (API, CLI, tests).
 * Plain data and type-only imports: workflow code imports this file.
 */
import type { ApprovalPolicy, ApprovalProgress, DecisionRequest } from '../src/cosell/approval.js';
import type { CoSellOptions, CoSellSnapshot } from '../src/cosell/payload.js';
import type { CoSellCloud, CoSellError, CoSellReferral, CoSellStatus } from '../src/model/cosell.js';

export type { ApprovalPolicy, CoSellOptions, CoSellSnapshot, DecisionRequest };

/** The CRM record a co-sell came from: its id is the cloud's partner opportunity id. */
export interface CrmRecordRef {
  system: string;
  /** The system's object (Opportunity, deals); the system's usual one when absent. */
  object?: string;
  id: string;
}

export interface CoSellInput {
  cloud: CoSellCloud;
  /** The connection whose credentials reach the cloud (and the CRM, for write-back). */
  connectionId: string;
  /** The alliance manager asking (email). */
  requestedBy: string;
  snapshot: CoSellSnapshot;
  options: CoSellOptions;
  /** The CRM record it came from, when linked; the status is written back by canonical id either way. */
  crm?: CrmRecordRef;
  policy: ApprovalPolicy;
  /** First wait between polls of the cloud's review, doubled after each poll up to the max. Defaults 1 min and 1 h. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Continue-as-new once the history passes this many events (default 2,000). */
  historyLimit?: number;
  /** Carried across continue-as-new. */
  resume?: CoSellProgress;
}

/**
 * Where the workflow is: validate the payload, wait for approvers, wait for the alliance
 * manager's changes, send to the cloud, follow the review, wait for a fix the cloud asked for.
 */
export type CoSellPhase = 'validate' | 'approval' | 'changes' | 'cloud' | 'review' | 'fix' | 'done';

/** The workflow's whole state: enough to continue as new where it stopped. */
export interface CoSellProgress {
  phase: CoSellPhase;
  referral: CoSellReferral;
  snapshot: CoSellSnapshot;
  options: CoSellOptions;
  approval: ApprovalProgress;
  /** Who approved which stage in this round (one person approves one stage at most). */
  approvedBy: { stage: string; by: string }[];
  /** The cloud payload built from `snapshot` at `payloadVersion`. */
  payload?: Record<string, unknown>;
  snapshotVersion: number;
  payloadVersion: number;
  steps: { created: boolean; linked: boolean; engaged: boolean };
  /** CRM edits received while the cloud could not take them, merged, oldest first. */
  queued?: Partial<CoSellSnapshot>;
  queuedEdits: number;
  /** Edits sent to the cloud after they had waited for its review to end. */
  sentEdits: number;
  pollAttempt: number;
}

/** What the `state` query and every update answer. */
export interface CoSellView extends CoSellReferral {
  phase: CoSellPhase;
  /** CRM edits waiting for the cloud to allow editing again. */
  queuedEdits: number;
  sentEdits: number;
}

/** The alliance manager's fix after changes were requested (internally, by pre-validation or by the cloud). */
export interface ResubmitRequest {
  by: string;
  comment?: string;
  /** Replacements for the opportunity, account or contacts; absent ones are kept. */
  snapshot?: Partial<CoSellSnapshot>;
  options?: Partial<CoSellOptions>;
}

/** An edit made in the CRM after the co-sell began (the sync layer or a webhook sends it). */
export interface CrmEdit {
  snapshot: Partial<CoSellSnapshot>;
}

/** The cloud's view of the review, as the activity reads it. */
export interface CloudReview {
  status: CoSellStatus;
  cloudStatus: string;
  cloudSubstatus?: string;
  /** The cloud's reasons when it rejected or asked for action. */
  reasons?: CoSellError;
  /** The cloud takes edits now (not Submitted / In review). */
  editable: boolean;
}

export interface CloudCall {
  connectionId: string;
  cloud: CoSellCloud;
}

/** The activities the co-sell workflow calls; implemented in src/activities/cosell.ts. */
export interface CoSellActivities {
  /** Builds the cloud payload and checks it against the cloud's rules: no call to the cloud. */
  prepareCoSell(input: { cloud: CoSellCloud; snapshot: CoSellSnapshot; options: CoSellOptions; partnerOpportunityId: string }): Promise<{ payload: Record<string, unknown>; error?: CoSellError }>;
  /** Idempotent by `clientToken`: a retry finds the opportunity or referral the first attempt made. */
  createCloudOpportunity(input: CloudCall & { payload: Record<string, unknown>; clientToken: string }): Promise<{ externalId: string; cloudStatus?: string; cloudSubstatus?: string }>;
  linkSolutions(input: CloudCall & { externalId: string; solutionIds: string[] }): Promise<void>;
  startCloudEngagement(input: CloudCall & { externalId: string; options: CoSellOptions; clientToken: string }): Promise<void>;
  getCloudReview(input: CloudCall & { externalId: string }): Promise<CloudReview>;
  /** Sends the payload's editable fields; `locked` when the cloud is reviewing and refused. */
  updateCloudOpportunity(input: CloudCall & { externalId: string; payload: Record<string, unknown> }): Promise<{ sent: boolean; locked: boolean }>;
  /**
   * Writes the status to the canonical opportunity (`referral.opportunityId`) and every CRM record
   * linked to it; `crm`, when known, only names the record in logs.
   */
  writeCoSellToCrm(input: { connectionId: string; crm?: CrmRecordRef; referral: CoSellReferral }): Promise<void>;
  remindApprovers(input: { referral: CoSellReferral; stage: string; approvers: string[]; escalatedTo?: string }): Promise<void>;
}

/** Failures of these types are the cloud (or the payload) saying no: retrying cannot help. */
export const COSELL_NON_RETRYABLE = ['CloudValidation', 'CloudRefused', 'ConfigurationError', 'AuthError'];

/** One co-sell per opportunity and cloud. */
export const coSellWorkflowId = (cloud: CoSellCloud, opportunityId: string) => `cosell:${cloud}:${opportunityId}`;
