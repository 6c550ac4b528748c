import { Client, ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowNotFoundError } from '@temporalio/client';
import { drawdownScheduleId, drawdownWorkflowId, type DrawdownView, type DrawdownWake } from '../../workflows/drawdown-types.js';
import { SA } from '../../workflows/search-attributes.js';
import type { Commitment } from '../model/index.js';
import type { Store } from '../store/index.js';

/**
 * How the API, the CLI and activities drive commitments' ledgers: wake a commitment's workflow
 * (starting it when it does not run), keep its daily Schedule, wake every commitment of a
 * customer when one of its documents arrives.
 */
export interface DrawdownControlOptions {
  client: Client;
  taskQueue: string;
}

function startOptions(c: Commitment, taskQueue: string) {
  return {
    taskQueue,
    workflowId: drawdownWorkflowId(c.id),
    args: [{ commitmentId: c.id }] as [{ commitmentId: string }],
    staticSummary: `Drawdown ledger of ${c.program.toUpperCase()} commitment ${c.externalId ?? c.id}: ${c.amount} ${c.currency}, ${c.startDate} to ${c.endDate}`,
    typedSearchAttributes: [
      { key: SA.cloud, value: c.cloud },
      { key: SA.customer, value: c.accountId },
      { key: SA.status, value: 'on-track' },
    ],
  };
}

/** Signals the commitment's workflow, starting it first when it is not running. */
export async function wakeCommitment(options: DrawdownControlOptions, c: Commitment, wake: DrawdownWake): Promise<void> {
  await options.client.workflow.signalWithStart('drawdownWorkflow', { ...startOptions(c, options.taskQueue), signal: 'wake', signalArgs: [wake] });
}

/** Wakes the ledgers of every commitment of these customers with one cloud (or all their clouds): documents of theirs arrived. */
export async function wakeCustomers(options: DrawdownControlOptions, store: Store, filter: { connectionId: string; accountIds: readonly string[]; cloud?: string }, wake: DrawdownWake): Promise<number> {
  const wanted = new Set(filter.accountIds.map((a) => a.toLowerCase()));
  const rows = (await store.commitments.list({ connectionId: filter.connectionId, cloud: filter.cloud })).filter((r) => wanted.has(r.commitment.accountId.toLowerCase()));
  for (const r of rows) await wakeCommitment(options, r.commitment, wake);
  return rows.length;
}

/** The daily Schedule that wakes the commitment's workflow (created once; the same on a second call). */
export async function ensureDrawdownSchedule(options: DrawdownControlOptions, c: Commitment): Promise<'created' | 'exists'> {
  const scheduleId = drawdownScheduleId(c.id);
  try {
    await options.client.schedule.getHandle(scheduleId).describe();
    return 'exists';
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  await options.client.schedule.create({
    scheduleId,
    // Just after midnight UTC, when a day's documents are in.
    spec: { calendars: [{ hour: 0, minute: 15 }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledDrawdownWorkflow',
      args: [c.id],
      taskQueue: options.taskQueue,
      workflowId: `drawdown-trigger:${c.id.toLowerCase()}`,
      typedSearchAttributes: [{ key: SA.cloud, value: c.cloud }, { key: SA.customer, value: c.accountId }],
      staticSummary: `Daily run of the drawdown ledger of commitment ${c.externalId ?? c.id}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  });
  return 'created';
}

/** Records a commitment, starts its ledger and its daily Schedule; a second call with the same id changes nothing. */
export async function createCommitment(options: DrawdownControlOptions, store: Store, connectionId: string, c: Commitment): Promise<{ created: boolean }> {
  const created = await store.commitments.create(connectionId, c);
  await ensureDrawdownSchedule(options, c);
  await wakeCommitment(options, c, { reason: 'start' });
  return { created };
}

/** The workflow's state query, or undefined when it does not run. */
export async function drawdownState(options: DrawdownControlOptions, commitmentId: string): Promise<DrawdownView | undefined> {
  try {
    return await options.client.workflow.getHandle(drawdownWorkflowId(commitmentId)).query<DrawdownView>('state');
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}
