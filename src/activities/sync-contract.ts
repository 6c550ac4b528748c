/** The engine's counters, as the workflows see them (workflows import no engine code). */
export type { SyncCounts } from '../sync/ports.js';
import type { ReplayResult, RunSummary, SyncCounters, SyncMode, SyncPageInput, SyncPageResult, SyncPlanSummary, SyncReason } from '../../workflows/sync-types.js';

/** The activities the sync workflows call; implemented in ./sync.ts. */
export interface SyncActivities {
  loadSyncPlan(connectionId: string): Promise<SyncPlanSummary>;
  startRun(input: { connectionId: string; mode: SyncMode; reasons: SyncReason[] }): Promise<{ runId: string; startedAt: string }>;
  /** `received`: when each webhook the cycle served reached the API (ISO 8601), for the webhook → written latency. */
  finishRun(input: { runId: string; status: RunSummary['status']; counters: SyncCounters; error?: string; received?: string[] }): Promise<{ finishedAt: string }>;
  syncPage(input: SyncPageInput): Promise<SyncPageResult>;
  wakeConnection(input: { connectionId: string; reason: SyncReason }): Promise<void>;
  replayDeadLetters(input: { connectionId: string; ids?: string[] }): Promise<ReplayResult>;
  applyConflictResolution(input: { connectionId: string; conflictId: string }): Promise<{ written: string[] }>;
}
