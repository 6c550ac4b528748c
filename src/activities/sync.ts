/**
 * The sync activities: they build a connection's engine (src/sync) on its connectors, mappings
 * and the store, run it, heartbeat, and turn its errors into Temporal failures. Every decision
 * lives in the engine.
 */
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { coSellEventOf, type CoSellEvent } from '../cosell/crm.js';
import type { Connection, Store, SyncRun } from '../store/index.js';
import { ECOSYNC_ORIGIN, ECOSYNC_NAMESPACE, uuidv5, type EngineDeps, type RecordChange, type SyncCounts } from '../sync/index.js';
import { ZERO_COUNTERS, type ReplayResult, type SyncCounters, type SyncPageInput, type SyncPageResult, type SyncPlanSummary } from '../../workflows/sync-types.js';
import type { SyncActivities } from './sync-contract.js';
import { asActivityFailure, nonRetryable, type Hubs } from './hubs.js';
import type { SyncMetrics } from './metered.js';

export type { CoSellEvent };

export interface SyncDeps {
  store: Store;
  hubs: Hubs;
  /** Wakes a connection's workflow (signal-with-start); used by the Schedule's trigger workflow. */
  wake?(connection: Connection, reason: 'schedule' | 'webhook' | 'manual'): Promise<void>;
  log: Logger;
  /** How long one syncPage activity keeps reading pages before handing back to the workflow. */
  pageBudgetMs?: number;
  /** Re-read this far behind the cursor at the start of a cycle: catches late-visible writes. */
  lookbackMs?: number;
  /** Write calls in flight at once per page. */
  writeConcurrency?: number;
  /**
   * Told about opportunities a CRM asks to co-sell (`requested`: a cloud picked) or that
   * changed while their co-sell goes on (`edited`), once per commit of a page with all of its
   * events. It runs after the page's writes and before its records are saved, so a page that
   * fails is read, planned and announced again: delivery is at least once, and the hook must be
   * idempotent (start the co-sell workflow by its id; a repeated edit is harmless). An error
   * with `retryable: true` (Temporal unreachable) fails the page for that reason; any other
   * error is logged and the page goes on: a co-sell problem never stops the CRM sync.
   */
  coSellEvents?: (events: CoSellEvent[]) => Promise<void>;
  /**
   * Told which customers' invoices a page brought in, so their commitments' drawdown ledgers
   * count them now rather than at their next daily run (which catches anything missed here). A
   * failure is logged and the page goes on.
   */
  invoicesArrived?: (connectionId: string, accountIds: string[]) => Promise<void>;
  /** Times each cycle, and each webhook from its arrival to the end of the cycle that served it. */
  metrics?: SyncMetrics;
}

/** How often a page activity heartbeats while it waits (the workflow's heartbeat timeout is 10 s). */
const ALIVE_MS = 2_000;

export function createSyncActivities(deps: SyncDeps): SyncActivities {
  const engineDeps = (connectionId: string): Partial<EngineDeps> => ({
    heartbeat,
    lookbackMs: deps.lookbackMs,
    writeConcurrency: deps.writeConcurrency,
    beforeCommit: deps.coSellEvents || deps.invoicesArrived
      ? async (entity, origin, changes) => {
        if (deps.coSellEvents) await announceCoSell(connectionId, entity.entity, origin, changes);
        if (deps.invoicesArrived && entity.entity === 'Invoice') await announceInvoices(connectionId, changes);
      }
      : undefined,
  });
  const engineOf = (connectionId: string) => deps.hubs.engine(connectionId, engineDeps(connectionId));

  /** Tells the co-sell hook what a CRM change about to be saved means for co-sell (see SyncDeps.coSellEvents). */
  async function announceCoSell(connectionId: string, entity: string, origin: string, changes: RecordChange[]): Promise<void> {
    // ecosync's own writes (a co-sell's status) are not requests from a CRM.
    if (entity !== 'Opportunity' || origin === ECOSYNC_ORIGIN) return;
    const events: CoSellEvent[] = [];
    for (const c of changes) {
      if (c.deleted) continue;
      const event = coSellEventOf(c.before, c.after);
      if (event) events.push({ connectionId, opportunityId: c.canonicalId, ...event, opportunity: { ...c.after, id: c.canonicalId } });
    }
    if (events.length === 0) return;
    try {
      await deps.coSellEvents!(events);
    } catch (error) {
      if ((error as { retryable?: unknown } | null)?.retryable === true) throw error;
      deps.log.error({ connectionId, err: error, events: events.map((e) => ({ opportunityId: e.opportunityId, cloud: e.cloud, kind: e.kind })) }, 'co-sell hook failed; the sync goes on');
    }
  }

  async function announceInvoices(connectionId: string, changes: RecordChange[]): Promise<void> {
    const accounts = [...new Set(changes.filter((c) => !c.deleted).map((c) => (c.after as { accountId?: unknown }).accountId).filter((a): a is string => typeof a === 'string'))];
    if (accounts.length === 0) return;
    try {
      await deps.invoicesArrived!(connectionId, accounts);
    } catch (error) {
      deps.log.error({ connectionId, err: error, accounts }, 'drawdown: could not wake the ledgers of customers with new invoices; their daily run will count them');
    }
  }

  /**
   * The cycle's duration, and for each webhook it served the time from the webhook's arrival at
   * the API to the cycle's end: every write of the cycle done, the webhook's record's included.
   */
  async function timeCycle(run: SyncRun, received: readonly string[]): Promise<void> {
    if (!deps.metrics || !run.finishedAt) return;
    const connection = (await deps.store.connections.get(run.connectionId))?.name ?? run.connectionId;
    const finished = Date.parse(run.finishedAt);
    deps.metrics.syncCycleSeconds.observe({ connection, mode: run.mode, status: run.status }, (finished - Date.parse(run.startedAt)) / 1000);
    for (const at of received) deps.metrics.webhookToWrittenSeconds.observe({ connection }, Math.max(0, finished - Date.parse(at)) / 1000);
  }

  return {
    async loadSyncPlan(connectionId: string): Promise<SyncPlanSummary> {
      const { connection: c } = await engineOf(connectionId);
      const reads = c.systems.filter((s) => s.role !== 'target').map((s) => s.name);
      return {
        connectionId: c.id, name: c.name,
        systems: c.systems.map((s) => s.name),
        sourceSystem: c.systems[0].system, targetSystem: c.systems.slice(1).map((s) => s.system).join(','),
        bidirectional: reads.length > 1,
        pairs: c.entities.map((e) => ({
          entity: e.entity,
          sourceObject: e.members[0]?.object ?? '', targetObject: e.members.slice(1).map((m) => m.object).join(','),
          sources: e.members.map((m) => m.system).filter((name) => reads.includes(name)),
        })),
      };
    },

    async startRun({ connectionId, mode, reasons }) {
      const info = activityInfo();
      const execution = info?.workflowExecution;
      // A retried start returns the run it already made: the id derives from the activity.
      const id = execution ? uuidv5(`${execution.workflowId}:${execution.runId}:${info!.activityId}`, ECOSYNC_NAMESPACE) : undefined;
      const run = await deps.store.runs.start({ connectionId, mode, workflowId: execution?.workflowId, runId: execution?.runId, id });
      deps.log.info({ connectionId, runId: run.id, mode, reasons }, 'sync cycle started');
      return { runId: run.id, startedAt: run.startedAt };
    },

    async finishRun({ runId, status, counters, error, received }) {
      // finish adds the counters once: a retried finish leaves a finished run alone (and times it once).
      const running = deps.metrics ? (await deps.store.runs.get(runId))?.status === 'running' : false;
      const run = await deps.store.runs.finish(runId, {
        status, error: error ?? null,
        counters: { read: counters.read, created: counters.created, updated: counters.updated, unchanged: counters.unchanged, deleted: counters.deleted, failed: counters.failed, conflicts: counters.conflicts },
      });
      if (running) await timeCycle(run, received ?? []);
      deps.log.info({ runId, status, counters, error }, 'sync cycle finished');
      return { finishedAt: run.finishedAt ?? new Date().toISOString() };
    },

    async syncPage(input: SyncPageInput): Promise<SyncPageResult> {
      // A read can wait long before its first page (a Salesforce bulk job being prepared): the
      // worker says it is alive meanwhile, well within the heartbeat timeout.
      const alive = setInterval(() => heartbeat(), ALIVE_MS);
      try {
        const { connection, engine } = await engineOf(input.connectionId);
        // Workflows started before connections had more than two systems name a direction.
        const source = input.source ?? connection.systems[input.direction === 'backward' ? 1 : 0].name;
        const result = await engine.syncPages(input.entity, source, { mode: input.mode, lookback: input.lookback, budgetMs: deps.pageBudgetMs });
        const counters: SyncCounters = { ...addInto({ ...ZERO_COUNTERS }, result.counts), readCalls: result.calls.read, writeCalls: result.calls.write };
        return { counters, more: result.more, cursor: result.cursor ? { modifiedAt: result.cursor.modifiedAt, id: result.cursor.id } : null };
      } catch (error) {
        throw asActivityFailure(error);
      } finally {
        clearInterval(alive);
      }
    },

    async wakeConnection({ connectionId, reason }) {
      const connection = await deps.store.connections.get(connectionId);
      if (!connection) throw nonRetryable('ConfigurationError', `connection ${connectionId} does not exist`);
      if (!connection.enabled) return;
      if (!deps.wake) throw nonRetryable('ConfigurationError', 'this worker cannot wake connections (no Temporal client)');
      await deps.wake(connection, reason === 'start' || reason === 'replay' ? 'manual' : reason);
    },

    /**
     * Applies a resolved conflict: the chosen value goes to every system that holds the record
     * and becomes the agreed value, so the next read of any of them finds nothing to merge.
     */
    async applyConflictResolution({ connectionId, conflictId }): Promise<{ written: string[] }> {
      const conflict = await deps.store.conflicts.get(conflictId);
      if (!conflict || conflict.connectionId !== connectionId) throw nonRetryable('ConfigurationError', `no conflict ${conflictId} on this connection`);
      if (conflict.status !== 'resolved') throw nonRetryable('ConfigurationError', `conflict ${conflictId} is not resolved yet`);
      try {
        const { engine } = await engineOf(connectionId);
        const result = await engine.patch(conflict.entity as never, conflict.canonicalId, { [conflict.field]: conflict.resolvedValue });
        const refused = result.skipped.find((s) => / refused: /.test(s.reason));
        if (refused) throw nonRetryable('WriteRejected', `${refused.system} refused the resolved value: ${refused.reason}`);
        return { written: result.written.map((w) => w.system) };
      } catch (error) {
        throw asActivityFailure(error);
      }
    },

    /**
     * Runs open dead letters again after a fix: re-reads each record from the system it came
     * from (its current state, not the stale payload) and sends it through the engine. Letters
     * whose record now goes through are closed as replayed; the others stay open.
     */
    async replayDeadLetters({ connectionId, ids }): Promise<ReplayResult> {
      try {
        const { engine } = await engineOf(connectionId);
        return await engine.replay(ids);
      } catch (error) {
        throw asActivityFailure(error);
      }
    },
  };
}

function addInto(counters: SyncCounters, counts: SyncCounts): SyncCounters {
  for (const key of ['read', 'created', 'updated', 'unchanged', 'deleted', 'failed', 'conflicts'] as const) counters[key] += counts[key];
  return counters;
}

function activityInfo() {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (replays from the CLI, tests): nothing to tell.
  }
}
