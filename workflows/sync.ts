import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../src/activities/sync-contract.js';
import { SA } from './search-attributes.js';
import {
  addCounters,
  ZERO_COUNTERS,
  type ConnectionWorkflowInput,
  type ReplayResult,
  type RunSummary,
  type SyncCounters,
  type SyncMode,
  type SyncRequest,
  type SyncStatus,
} from './sync-types.js';

export const requestSyncSignal = defineSignal<[SyncRequest]>('requestSync');
export const runSyncUpdate = defineUpdate<RunSummary, [SyncRequest]>('runSync');
export const statusQuery = defineQuery<SyncStatus>('status');
/** Writes a resolved conflict's value to both systems (the resolution is recorded in the store first). */
export const resolveConflictUpdate = defineUpdate<{ written: string[] }, [{ conflictId: string }]>('resolveConflict');
/** Runs open dead letters again (all, or these ids) after a fix; answers with what happened. */
export const replayDeadLettersUpdate = defineUpdate<ReplayResult, [{ ids?: string[] }]>('replayDeadLetters');

/** Errors the activities throw that retrying cannot fix. */
const NON_RETRYABLE = ['AuthError', 'ConfigurationError', 'MappingError', 'DailyRateLimit', 'CanonicalRecordNotFound', 'InvalidValues'];

const short = proxyActivities<SyncActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});
// A cycle's bookkeeping (its run row opened and closed: one store statement each) runs in the
// worker's workflow task as local activities, sparing two round trips to the server per cycle,
// which is most of a webhook's time to written when the page itself is one record.
const bookkeeping = proxyLocalActivities<SyncActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});
// One page: read, map, plan, write in batches; heartbeats between batches so a dead worker is
// noticed within the heartbeat timeout and the page is retried elsewhere.
const pages = proxyActivities<SyncActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * How often a webhook cycle's read looks back (re-reads the last minute before its cursor, for
 * writes that became visible late, e.g. behind HubSpot's search index, or that share the cursor's
 * second). Every cycle used to: under a steady stream of webhooks that re-read grew with the
 * change rate and slowed every cycle. Now a cycle asked only by webhooks looks back when its last
 * look back is this old, and a cycle that skipped one is followed, if nothing else asks, by a
 * sweep once it is due: such a write is still found within this time plus its lag, as long as the
 * lag is under the lookback window (60 s) less this.
 */
const LOOKBACK_EVERY_MS = 10_000;

/** Continue-as-new well before Temporal's own limits: keeps every history small. */
const MAX_HISTORY_EVENTS = 2000;

/**
 * One long-running workflow per connection (id `sync:<connectionId>`). It sleeps until asked —
 * by its Schedule, a webhook, or the CLI — then runs one sync cycle over every object pair in
 * dependency order, a short activity per page, and sleeps again. Requests that arrive during a
 * cycle are served together by the next one.
 */
export async function connectionSyncWorkflow(input: ConnectionWorkflowInput): Promise<void> {
  const { connectionId } = input;
  const historyLimit = input.historyLimit ?? MAX_HISTORY_EVENTS;
  const lookbackEvery = input.lookbackEveryMs ?? LOOKBACK_EVERY_MS;
  const pending: SyncRequest[] = [...(input.pending ?? [])];
  const served = new Map<string, RunSummary>();
  let cycles = input.cycles ?? 0;
  let totals: SyncCounters = input.totals ?? { ...ZERO_COUNTERS };
  let lastRun = input.lastRun;
  let status: SyncStatus = { connectionId, phase: 'idle', pending: pending.length, cycles, lastRun, totals };
  let replaying = false;
  /** Per read (entity and source), when it last looked back (workflow time). */
  const lookedBack = new Map<string, number>();
  /** Reads (entity and source) whose look back was skipped since they last looked back: a sweep owes them one. */
  const owed = new Set<string>();
  /** When the sweep is due: the earliest look back owed. */
  let sweepAt: number | undefined;

  /** What the Temporal UI shows between cycles: what the workflow waits for and how the last cycle went. */
  function showIdle(): void {
    const last = lastRun
      ? `last cycle ${lastRun.status} at ${lastRun.finishedAt}: ${describe(lastRun.counters)}${lastRun.error ? `\n${lastRun.error}` : ''}`
      : 'no cycle yet';
    setCurrentDetails(`waiting for a sync request (schedule, webhook or CLI); ${pending.length} pending, ${cycles} cycles so far\n${last}`);
  }

  setHandler(requestSyncSignal, (request) => { pending.push(request); });
  setHandler(statusQuery, () => ({ ...status, pending: pending.length, cycles, lastRun, totals }));
  setHandler(runSyncUpdate, async (request) => {
    pending.push(request);
    await condition(() => served.has(request.id));
    return served.get(request.id)!;
  }, {
    validator: (request) => {
      if (!request || typeof request.id !== 'string' || request.id.length === 0) throw new Error('a sync request needs an id');
      if (request.entities !== undefined && (!Array.isArray(request.entities) || request.entities.some((e: unknown) => typeof e !== 'string'))) {
        throw new Error('entities must be a list of entity names');
      }
    },
  });

  setHandler(replayDeadLettersUpdate, async ({ ids }) => {
    // Replays wait for a running cycle to end: one writer per connection at a time.
    await condition(() => status.phase !== 'running' && !replaying);
    replaying = true;
    setCurrentDetails(`replaying ${ids ? `${ids.length} dead letter(s)` : 'every open dead letter'}`);
    try {
      return await pages.replayDeadLetters({ connectionId, ids });
    } finally {
      replaying = false;
      showIdle();
    }
  }, {
    validator: (request) => {
      if (request?.ids !== undefined && (!Array.isArray(request.ids) || request.ids.some((id: unknown) => typeof id !== 'string'))) throw new Error('ids must be a list of dead letter ids');
    },
  });

  setHandler(resolveConflictUpdate, async ({ conflictId }) => {
    await condition(() => status.phase !== 'running' && !replaying);
    replaying = true;
    setCurrentDetails(`writing the resolution of conflict ${conflictId} to every system`);
    try {
      return await short.applyConflictResolution({ connectionId, conflictId });
    } finally {
      replaying = false;
      showIdle();
    }
  }, {
    validator: (request) => {
      if (!request || typeof request.conflictId !== 'string' || request.conflictId.length === 0) throw new Error('a conflict id is required');
    },
  });

  const plan = await short.loadSyncPlan(connectionId);
  upsertSearchAttributes([
    { key: SA.connection, value: plan.name },
    { key: SA.source, value: plan.sourceSystem },
    { key: SA.target, value: plan.targetSystem },
    { key: SA.status, value: 'idle' },
  ]);
  showIdle();

  for (;;) {
    if (sweepAt !== undefined && pending.length === 0) {
      const asked = await condition(() => pending.length > 0, Math.max(1, sweepAt - Date.now()));
      if (!asked) pending.push({ id: `sweep-${uuid4()}`, reason: 'schedule' });
    }
    await condition(() => pending.length > 0 && !replaying);
    const batch = pending.splice(0);
    const mode: SyncMode = batch.some((r) => r.full) ? 'full' : 'incremental';
    const wanted = batch.every((r) => r.entities?.length) ? new Set(batch.flatMap((r) => r.entities!)) : undefined;
    // Webhooks say which systems changed: a cycle asked only by them reads only those.
    const fromSources = batch.every((r) => r.sources?.length) ? new Set(batch.flatMap((r) => r.sources!)) : undefined;
    const pairs = plan.pairs.filter((p) => !wanted || wanted.has(p.entity));
    // Each system the entity is read from, in turn; summaries recorded before hubs name directions.
    const readsOf = (pair: (typeof pairs)[number]) => pair.sources?.filter((source) => !fromSources || fromSources.has(source)).map((source) => ({ source, label: source }))
      ?? (plan.bidirectional ? (['forward', 'backward'] as const) : (['forward'] as const)).map((direction) => ({ direction, label: direction }));
    const runs = patched('sync-run-bookkeeping-local') ? bookkeeping : short;
    // Only cycles that webhooks alone asked for skip a look back: a schedule, a user or a sweep
    // always looks back (a system with coarse timestamps, NetSuite's, needs it for changes made
    // in the same second as the cursor).
    const throttled = patched('sync-lookback-every') && batch.every((r) => r.reason === 'webhook');

    const run = await runs.startRun({ connectionId, mode, reasons: batch.map((r) => r.reason) });
    const asked = [...new Set(batch.map((r) => r.reason))].join(', ');
    status = { ...status, phase: 'running' };
    setCurrentDetails(`${mode} cycle (asked by ${asked}): starting`);
    upsertSearchAttributes([{ key: SA.status, value: 'running' }]);
    let counters: SyncCounters = { ...ZERO_COUNTERS };
    let error: string | undefined;
    let failureDelay: number | undefined;
    try {
      for (const pair of pairs) {
        for (const { label, ...read } of readsOf(pair)) {
          let more = true;
          const key = `${pair.entity}:${label}`;
          let lookback = !throttled || mode === 'full' || Date.now() - (lookedBack.get(key) ?? -Infinity) >= lookbackEvery;
          if (lookback) {
            lookedBack.set(key, Date.now());
            owed.delete(key);
          } else {
            owed.add(key);
          }
          let pageCount = 0;
          while (more) {
            const page = await pages.syncPage({ connectionId, runId: run.runId, entity: pair.entity, ...read, mode, lookback });
            counters = addCounters(counters, page.counters);
            more = page.more;
            lookback = false;
            pageCount++;
            status = { ...status, phase: 'running', current: { entity: pair.entity, source: label, pages: pageCount, counters } };
            setCurrentDetails(`${mode} cycle (asked by ${asked}): ${pair.entity} from ${label}, page ${pageCount}${more ? ', more to read' : ''}\n${describe(counters)}`);
          }
        }
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      error = failureMessage(err);
      failureDelay = retryAfterOf(err);
    }
    // A cycle that reads other entities leaves what an earlier one owes in place.
    sweepAt = owed.size > 0 ? Math.min(...[...owed].map((key) => lookedBack.get(key)! + lookbackEvery)) : undefined;
    const received = batch.flatMap((r) => (r.receivedAt ? [r.receivedAt] : []));
    const finished = await runs.finishRun({ runId: run.runId, status: error ? 'failed' : 'succeeded', counters, error, ...(received.length > 0 ? { received } : {}) });
    cycles++;
    totals = addCounters(totals, counters);
    lastRun = { runId: run.runId, requestIds: batch.map((r) => r.id), mode, status: error ? 'failed' : 'succeeded', counters, error, startedAt: run.startedAt, finishedAt: finished.finishedAt };
    for (const request of batch) served.set(request.id, lastRun);
    status = { connectionId, phase: 'idle', pending: pending.length, cycles, lastRun, totals };
    upsertSearchAttributes([
      { key: SA.status, value: error ? 'failed' : 'idle' },
      { key: SA.recordsSynced, value: totals.created + totals.updated + totals.deleted },
      { key: SA.recordsFailed, value: totals.failed },
    ]);
    showIdle();

    // A daily API limit: wait for the window to reset before serving anything else.
    const retryAfterMs = dailyLimitRetryAfter(error, failureDelay);
    if (retryAfterMs !== undefined) {
      status = { ...status, phase: 'waiting-for-rate-limit' };
      setCurrentDetails(`waiting until ${new Date(Date.now() + retryAfterMs).toISOString()} for the daily API limit to reset, then a new cycle\n${error}`);
      await sleep(retryAfterMs);
      pending.push({ id: `retry-${run.runId}`, reason: 'schedule' });
    }

    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit) {
      // Waiting updates are answered first; what is still pending travels to the next run.
      await condition(allHandlersFinished);
      // A sweep still due is carried as a request: the next run looks back on its first cycle.
      if (sweepAt !== undefined && pending.length === 0) pending.push({ id: `sweep-${uuid4()}`, reason: 'schedule' });
      await continueAsNew<typeof connectionSyncWorkflow>({ connectionId, pending: pending.splice(0), cycles, totals, lastRun, historyLimit: input.historyLimit, lookbackEveryMs: input.lookbackEveryMs });
    }
  }
}

function describe(c: SyncCounters): string {
  return `read ${c.read}, created ${c.created}, updated ${c.updated}, unchanged ${c.unchanged}, deleted ${c.deleted}, failed ${c.failed}, conflicts ${c.conflicts}`;
}

function failureMessage(err: unknown): string {
  if (err instanceof ApplicationFailure) return `${err.type ?? 'Error'}: ${err.message}`;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** The delay a rate-limit failure carries in its details ({ retryAfterMs }), if any. */
function retryAfterOf(err: unknown): number | undefined {
  const failure = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  const details = failure.details?.[0] as { retryAfterMs?: unknown } | undefined;
  return typeof details?.retryAfterMs === 'number' ? details.retryAfterMs : undefined;
}

/**
 * How long a DailyRateLimit failure says to wait: its details, or (failures recorded before
 * details carried it) "retry after N ms" in its message.
 */
function dailyLimitRetryAfter(error: string | undefined, fromDetails: number | undefined): number | undefined {
  if (!error?.startsWith('DailyRateLimit')) return undefined;
  if (fromDetails !== undefined) return fromDetails;
  const match = /retry after (\d+) ms/.exec(error);
  return match ? Number(match[1]) : 60 * 60 * 1000;
}

/** Started by the connection's Temporal Schedule: wakes the connection workflow (starting it if needed). */
export async function scheduledSyncWorkflow(connectionId: string): Promise<void> {
  await short.wakeConnection({ connectionId, reason: 'schedule' });
}
