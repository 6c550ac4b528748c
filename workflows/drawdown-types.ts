/**
 * Types shared by the drawdown workflow, its activities and whoever drives it (API, CLI, tests).
 * Plain data and type-only imports: workflow code imports this file.
 */
import type { CommitmentStanding } from '../src/model/drawdown.js';

/** The fixed workflow id of a commitment's ledger: one workflow per commitment, whoever starts it. */
export const drawdownWorkflowId = (commitmentId: string) => `drawdown:${commitmentId.toLowerCase()}`;
/** The commitment's daily Temporal Schedule. */
export const drawdownScheduleId = (commitmentId: string) => `drawdown-daily:${commitmentId.toLowerCase()}`;

export interface DrawdownInput {
  commitmentId: string;
  /** Runs before continue-as-new (default 30: a month of daily runs and the signals between them). */
  runsPerHistory?: number;
  /** Carried across continue-as-new: the progress, and wakes not run yet. */
  resume?: DrawdownProgress;
  wakes?: DrawdownWake[];
}

/** Why a run was asked for. */
export type DrawdownReason = 'start' | 'schedule' | 'agreement' | 'invoice' | 'document' | 'manual';

export interface DrawdownWake {
  reason: DrawdownReason;
  /** The document that arrived, for the run's details (an agreement id, an invoice's canonical id). */
  ref?: string;
}

export interface DrawdownProgress {
  runs: number;
  /** Ledger lines written over the workflow's life. */
  written: number;
  last?: DrawdownRunResult;
  /** Alerts the webhook did not take yet: posted again on the next run. */
  undelivered?: boolean;
}

/** What one judging run did and where the commitment stands after it. */
export interface DrawdownRunResult {
  asOf: string;
  /** Ledger lines written by this run (0 when nothing new came in). */
  written: number;
  /** Lines the ledger holds. */
  ledgerLines: number;
  /** Documents not judged yet (not invoiced yet, no rate, no price…), with the first reasons. */
  pending: number;
  pendingReasons: string[];
  /** Alerts raised by this run (each alert once for good). */
  raised: string[];
  standing: CommitmentStanding;
  /** The current period, numbered from 1. */
  period: number;
}

/** What the `state` query answers. */
export interface DrawdownView {
  commitmentId: string;
  runs: number;
  written: number;
  waiting: number;
  last?: DrawdownRunResult;
}

/** The activities the drawdown workflow calls; implemented in src/activities/drawdown.ts. */
export interface DrawdownActivities {
  /**
   * Collects the commitment's documents (agreements, invoices, usage, documents entered by
   * hand), judges the new ones under its rule set, appends their ledger lines (one per document
   * ever), and raises the alerts due (once per key). Holds the commitment's row lock throughout.
   */
  judgeDrawdown(input: { commitmentId: string; asOf: string }): Promise<DrawdownRunResult>;
  /** Posts raised alerts not delivered yet to the notify webhook; returns how many went out. */
  deliverDrawdownAlerts(input: { commitmentId: string }): Promise<number>;
  /** Writes the standing to the customer's CRM account (`commitments.<cloud>`) through the hub; false when the hub does not know the account. */
  writeDrawdownStanding(input: { commitmentId: string; standing: CommitmentStanding }): Promise<boolean>;
  /** The Schedule's trigger: wakes the commitment's workflow, starting it if needed. */
  wakeDrawdown(input: { commitmentId: string; wake: DrawdownWake }): Promise<void>;
}

export const DRAWDOWN_NON_RETRYABLE = ['ConfigurationError', 'NotifyRefused'];
