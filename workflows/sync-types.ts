/**
 * Types shared by the sync workflows, their activities and the code that drives them (CLI,
 * API). Plain data only: workflow code imports this file.
 */
import type { SyncCounts } from '../src/activities/sync-contract.js';

export type SyncDirection = 'forward' | 'backward';
export type SyncMode = 'incremental' | 'full';
export type SyncReason = 'schedule' | 'manual' | 'webhook' | 'replay' | 'start';

export interface SyncRequest {
  /** Caller's id: `sync run --wait` waits for the cycle that served it. */
  id: string;
  reason: SyncReason;
  /** Full reconcile: read everything, not just changes since the cursor. */
  full?: boolean;
  /** Only these entities (e.g. a webhook about one object); all when absent. */
  entities?: string[];
  /**
   * Only reads from these systems (names in the connection), e.g. a webhook saying HubSpot
   * changed; every source when absent. Requests from before it existed read every source.
   */
  sources?: string[];
  /** When the webhook that asked for it reached the API (ISO 8601): the cycle serving it reports the time to written. */
  receivedAt?: string;
}

/** The planner's counts, plus the calls made to the systems. */
export interface SyncCounters extends SyncCounts {
  writeCalls: number;
  readCalls: number;
}

export const ZERO_COUNTERS: SyncCounters = { read: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, conflicts: 0, writeCalls: 0, readCalls: 0 };

export function addCounters(a: SyncCounters, b: Partial<SyncCounters>): SyncCounters {
  const sum = { ...a };
  for (const key of Object.keys(ZERO_COUNTERS) as Array<keyof SyncCounters>) sum[key] += b[key] ?? 0;
  return sum;
}

export interface SyncPair {
  entity: string;
  /** The first system's object, and the others' (comma-separated). */
  sourceObject: string;
  targetObject: string;
  /**
   * The systems read for this entity, by name, in the connection's order. Summaries recorded
   * before connections had more than two systems lack it: their cycles read forward (and
   * backward when bidirectional).
   */
  sources?: string[];
}

export interface SyncPlanSummary {
  connectionId: string;
  name: string;
  /** Every system of the connection, by name (absent in summaries recorded before hubs). */
  systems?: string[];
  /** The first system's kind, and the others' (comma-separated): for search attributes. */
  sourceSystem: string;
  targetSystem: string;
  /** More than one system is read. */
  bidirectional: boolean;
  /** In dependency order: accounts before the contacts and opportunities that refer to them. */
  pairs: SyncPair[];
}

export interface SyncPageInput {
  connectionId: string;
  runId: string;
  entity: string;
  /** The system to read, by name. */
  source?: string;
  /** Before hubs: forward reads the first system, backward the second. */
  direction?: SyncDirection;
  mode: SyncMode;
  /** First page of a cycle re-reads the lookback window; later pages continue strictly after the cursor. */
  lookback: boolean;
}

export interface SyncPageResult {
  counters: SyncCounters;
  /** More pages wait after this one. */
  more: boolean;
  /** Cursor after this page, for status display. */
  cursor: { modifiedAt: string; id: string } | null;
}

export interface RunSummary {
  runId: string;
  requestIds: string[];
  mode: SyncMode;
  status: 'succeeded' | 'failed';
  counters: SyncCounters;
  error?: string;
  startedAt: string;
  finishedAt: string;
}

export interface SyncStatus {
  connectionId: string;
  phase: 'idle' | 'running' | 'waiting-for-rate-limit';
  current?: { entity: string; source: string; pages: number; counters: SyncCounters };
  pending: number;
  cycles: number;
  lastRun?: RunSummary;
  totals: SyncCounters;
}

export interface ReplayResult {
  replayed: number;
  stillFailing: number;
  /** The record no longer exists in its system: the letter was discarded. */
  gone: number;
}

export interface ConnectionWorkflowInput {
  connectionId: string;
  /** Carried across continue-as-new. */
  pending?: SyncRequest[];
  cycles?: number;
  totals?: SyncCounters;
  lastRun?: RunSummary;
  /** Continue-as-new once the history passes this many events (default 2,000). */
  historyLimit?: number;
  /** How often a read looks back before its cursor (default 10 s; see LOOKBACK_EVERY_MS). */
  lookbackEveryMs?: number;
}

export const connectionWorkflowId = (connectionId: string) => `sync:${connectionId}`;
export const scheduleId = (connectionId: string) => `sync-schedule:${connectionId}`;
