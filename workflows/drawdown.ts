import {
  allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setCurrentDetails, setHandler,
  upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { CommitmentStanding } from '../src/model/drawdown.js';
import {
  DRAWDOWN_NON_RETRYABLE, type DrawdownActivities, type DrawdownInput, type DrawdownProgress, type DrawdownView, type DrawdownWake,
} from './drawdown-types.js';
import { SA } from './search-attributes.js';

/** Something new may draw the commitment down (an agreement booked, an invoice synced), or the day turned: judge now. */
export const drawdownWakeSignal = defineSignal<[DrawdownWake]>('wake');
export const drawdownStateQuery = defineQuery<DrawdownView>('state');

const activities = proxyActivities<DrawdownActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: DRAWDOWN_NON_RETRYABLE },
});
/** Posting alerts and writing the CRM give up after a few attempts: a receiver down for hours must not hold up judging; they are tried again on the next run. */
const outward = proxyActivities<Pick<DrawdownActivities, 'deliverDrawdownAlerts' | 'writeDrawdownStanding'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: DRAWDOWN_NON_RETRYABLE },
});
const short = proxyActivities<Pick<DrawdownActivities, 'wakeDrawdown'>>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 10 } });

const RUNS_PER_HISTORY = 30;

/**
 * One commitment's ledger (id `drawdown:<commitment id>`), for the commitment's life. Woken by
 * its daily Schedule and by signals when an agreement is booked or an invoice arrives, it judges
 * the documents the ledger has not got (one line per document ever: running it again adds
 * nothing), raises each alert once, posts new alerts to the notify webhook and writes the
 * standing to the customer's CRM account. Wakes that arrive while a run is under way make one
 * more run, not one each. Continues as new every month of daily runs.
 */
export async function drawdownWorkflow(input: DrawdownInput): Promise<void> {
  const p: DrawdownProgress = input.resume ?? { runs: 0, written: 0 };
  const waiting: DrawdownWake[] = input.resume ? [...(input.wakes ?? [])] : [{ reason: 'start' }];
  let written: string | undefined;
  /** Something failed in this run: the Temporal UI shows it until a run goes through. */
  let trouble = false;

  setHandler(drawdownWakeSignal, (wake) => {
    waiting.push(wake);
  });
  setHandler(drawdownStateQuery, (): DrawdownView => ({ commitmentId: input.commitmentId, runs: p.runs, written: p.written, waiting: waiting.length, ...(p.last ? { last: p.last } : {}) }));
  describe('waiting for the first run');

  for (let runs = 0; ; runs++) {
    if (runs >= (input.runsPerHistory ?? RUNS_PER_HISTORY) || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      // Wakes that came in since the last run are carried over.
      await continueAsNew<typeof drawdownWorkflow>({ ...input, resume: p, wakes: waiting.splice(0) });
    }
    await condition(() => waiting.length > 0);
    const wakes = waiting.splice(0);
    describe(`judging (${wakes.map((w) => (w.ref ? `${w.reason} ${w.ref}` : w.reason)).join(', ')})`);

    const asOf = new Date(Date.now()).toISOString().slice(0, 10);
    trouble = false;
    let result;
    try {
      result = await activities.judgeDrawdown({ commitmentId: input.commitmentId, asOf });
    } catch (error) {
      // A failure retrying cannot mend (a rule file with errors): the ledger waits for the next wake, after the fix.
      failed('judging', error);
      continue;
    }
    p.runs++;
    p.written += result.written;
    p.last = result;
    if (result.raised.length > 0 || p.undelivered) {
      try {
        await outward.deliverDrawdownAlerts({ commitmentId: input.commitmentId });
        p.undelivered = false;
      } catch (error) {
        // The webhook refused: the alerts stay raised and undelivered, and are posted on a later run.
        p.undelivered = true;
        failed('posting alerts', error);
      }
    }
    const key = standingKey(result.standing);
    if (key !== written) {
      try {
        await outward.writeDrawdownStanding({ commitmentId: input.commitmentId, standing: result.standing });
        written = key;
      } catch (error) {
        failed('writing the standing to the CRM', error);
      }
    }
    if (!trouble) {
      upsertSearchAttributes([{ key: SA.status, value: statusOf(result.standing) }]);
      describe(result.standing.message ?? '');
    }
  }

  function failed(what: string, error: unknown): void {
    trouble = true;
    const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    upsertSearchAttributes([{ key: SA.status, value: 'failed' }]);
    describe(`${what} failed: ${message}`);
  }

  function describe(what: string): void {
    setCurrentDetails(`Commitment ${input.commitmentId}: ${what}${p.runs > 0 ? ` · ${p.runs} runs, ${p.written} ledger lines written` : ''}`);
  }
}

/** Started by the commitment's daily Schedule: wakes the commitment's workflow (starting it if needed). */
export async function scheduledDrawdownWorkflow(commitmentId: string): Promise<void> {
  await short.wakeDrawdown({ commitmentId, wake: { reason: 'schedule' } });
}

function standingKey(s: CommitmentStanding): string {
  return `${s.asOf}|${s.consumed}|${s.forecast}|${s.committed}|${s.message ?? ''}`;
}

/** The EcosyncStatus of a commitment: how the Temporal UI finds the ones heading for a shortfall. */
function statusOf(s: CommitmentStanding): string {
  const consumed = Number(s.percentConsumed);
  if (consumed >= 100) return 'consumed';
  return Number(s.forecast) < Number(s.committed) ? 'shortfall-forecast' : 'on-track';
}
