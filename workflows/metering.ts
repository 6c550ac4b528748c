import {
  ApplicationFailure, allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, defineUpdate, isCancellation, proxyActivities,
  setCurrentDetails, setHandler, sleep, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import {
  addMetering, METERING_NON_RETRYABLE, ZERO_METERING,
  type MeteringActivities, type MeteringCounts, type MeteringReplayResult, type MeteringStatus, type MeteringWorkflowInput, type PassSummary,
} from './metering-types.js';
import { SA } from './search-attributes.js';

/** Usage arrived (the ingest API), or the hourly Schedule came round: look for hours due. */
export const usageArrivedSignal = defineSignal<[]>('usageArrived');
export const meteringStatusQuery = defineQuery<MeteringStatus>('meteringStatus');
/** Opens dead letters to be sent again (after an agreement was recorded, say), then runs a pass. */
export const replayMeteringUpdate = defineUpdate<MeteringReplayResult, [{ ids?: string[] }]>('replayMetering');

const short = proxyActivities<MeteringActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: METERING_NON_RETRYABLE },
});
// One pass: up to batchesPerPass calls, a heartbeat after each, so a dead worker is noticed
// within the heartbeat timeout and the pass runs again elsewhere (sending again, as they are,
// the hours whose outcome the dead worker never wrote).
const passes = proxyActivities<MeteringActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes: METERING_NON_RETRYABLE },
});

const MAX_HISTORY_EVENTS = 2000;
const DEFAULT_GRACE_MS = 10 * 60_000;
const DEFAULT_QUIET_MS = 5_000;
const DEFAULT_BATCHES_PER_PASS = 40;

/**
 * One long-running workflow per connection and cloud (id `metering:<connection>:<cloud>`). It
 * sleeps until usage arrives (a signal from the ingest API), its hourly Schedule wakes it, or the
 * next waiting hour falls due; then it runs passes until nothing due is left. Each pass sends the
 * closed hours of usage in calls of at most 25 records, writing the intent before each call and
 * the outcome after, so an hour is sent once even when a worker dies mid-call.
 */
export async function meteringWorkflow(input: MeteringWorkflowInput): Promise<void> {
  const { connectionId, cloud, settings = {} } = input;
  const graceMs = settings.graceMs ?? DEFAULT_GRACE_MS;
  const quietMs = settings.quietMs ?? DEFAULT_QUIET_MS;
  const batchesPerPass = settings.batchesPerPass ?? DEFAULT_BATCHES_PER_PASS;
  let totals: MeteringCounts = input.totals ?? { ...ZERO_METERING };
  let passCount = input.passes ?? 0;
  let last: PassSummary | undefined = input.last;
  let awake = input.awake ?? true;
  let lastSignalAt = 0;
  let phase: MeteringStatus['phase'] = 'idle';
  let nextDueAt: string | undefined;
  let replaying = false;

  const cloudName = cloud === 'aws' ? 'AWS Marketplace' : 'the Microsoft marketplace';
  const showIdle = () => setCurrentDetails([
    `waiting for usage (ingest API), the hourly Schedule${nextDueAt ? ` or ${nextDueAt}, when the next waiting hour falls due` : ''}`,
    `so far: ${describe(totals)} in ${passCount} passes`,
    ...(last ? [`last pass at ${last.at}: ${describe(last.counts)}${last.error ? `\n${last.error}` : ''}`] : []),
  ].join('\n'));

  setHandler(usageArrivedSignal, () => { awake = true; lastSignalAt = Date.now(); });
  setHandler(meteringStatusQuery, () => ({ connectionId, cloud, phase, passes: passCount, totals, last, nextDueAt }));
  setHandler(replayMeteringUpdate, async ({ ids }) => {
    await condition(() => phase === 'idle' && !replaying);
    replaying = true;
    try {
      const result = await short.replayMeteringLetters({ connectionId, cloud, ids });
      if (result.replayed > 0) awake = true;
      return result;
    } finally {
      replaying = false;
    }
  }, {
    validator: (request) => {
      if (request?.ids !== undefined && (!Array.isArray(request.ids) || request.ids.some((id: unknown) => typeof id !== 'string'))) throw new Error('ids must be a list of dead letter ids');
    },
  });

  upsertSearchAttributes([
    { key: SA.connection, value: input.connectionName },
    { key: SA.cloud, value: cloud },
    { key: SA.status, value: 'idle' },
  ]);
  if (!input.scheduled) await short.ensureMeteringSchedule({ connectionId, cloud });
  showIdle();

  for (;;) {
    if (nextDueAt === undefined) await condition(() => awake && !replaying);
    // The next waiting hour falls due when its timer fires.
    else if (!(await condition(() => awake && !replaying, Math.max(0, Date.parse(nextDueAt) - Date.now()) + 1_000))) awake = true;
    // A burst of ingests is one pass: wait until usage stops arriving for a moment.
    while (lastSignalAt > 0 && Date.now() - lastSignalAt < quietMs) await sleep(quietMs - (Date.now() - lastSignalAt));
    await condition(() => !replaying);
    awake = false;
    phase = 'metering';
    upsertSearchAttributes([{ key: SA.status, value: 'metering' }]);
    let counts: MeteringCounts = { ...ZERO_METERING };
    let error: string | undefined;
    try {
      for (let more = true; more;) {
        setCurrentDetails(`sending closed hours of usage to ${cloudName}: ${describe(counts)} so far`);
        const result = await passes.meteringPass({ connectionId, cloud, graceMs, batchesPerPass });
        counts = addMetering(counts, result.counts);
        more = result.more;
        nextDueAt = result.nextDueAt;
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      error = failureMessage(err);
      // What failed needs a person (credentials) or was retried to its limit: the next pass waits for usage, a replay or the Schedule.
      nextDueAt = undefined;
    }
    passCount++;
    totals = addMetering(totals, counts);
    last = { at: new Date().toISOString(), counts, ...(error ? { error } : {}) };
    phase = 'idle';
    upsertSearchAttributes([{ key: SA.status, value: error ? 'failed' : 'idle' }]);
    showIdle();

    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.historyLimit ?? MAX_HISTORY_EVENTS)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof meteringWorkflow>({
        connectionId, cloud, connectionName: input.connectionName, settings, totals, passes: passCount, last, awake, scheduled: true, historyLimit: input.historyLimit,
      });
    }
  }
}

/** Started by the hourly Schedule of a connection's cloud: wakes its metering workflow (starting it if needed). */
export async function scheduledMeteringWorkflow(input: { connectionId: string; cloud: MeteringWorkflowInput['cloud'] }): Promise<void> {
  await short.wakeMetering(input);
}

function describe(c: MeteringCounts): string {
  return `${c.calls} calls, ${c.sent} hours sent, ${c.duplicates} already there, ${c.deadLettered} dead-lettered, ${c.unprocessed} to send again`;
}

function failureMessage(err: unknown): string {
  const failure = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
  if (failure instanceof ApplicationFailure) return `${failure.type ?? 'Error'}: ${failure.message}`;
  return err instanceof Error ? err.message : String(err);
}
