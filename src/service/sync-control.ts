import { randomUUID } from 'node:crypto';
import type { Workflow } from '@temporalio/common';
import { Client, ScheduleNotFoundError, ScheduleOverlapPolicy, WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { SA } from '../../workflows/search-attributes.js';
import { connectionWorkflowId, scheduleId, type RunSummary, type SyncRequest, type SyncStatus } from '../../workflows/sync-types.js';
import type { Connection } from '../store/index.js';
import { syncTriggerText, syncWorkflowText } from './summaries.js';

/**
 * How the CLI, the API and activities drive a connection's workflow: start it if it is not
 * running, ask it for a cycle, wait for one, read its status, keep its Schedule in step.
 */
export interface SyncControlOptions {
  client: Client;
  taskQueue: string;
}

/**
 * How a connection's workflow starts: its fixed id, its search attributes (the first system's
 * kind as EcosyncSource, the others' as EcosyncTarget, comma-separated) and what the Temporal UI
 * says of it.
 */
function startOptions(connection: Pick<Connection, 'id' | 'name' | 'systems' | 'entities' | 'scheduleSeconds'>, taskQueue: string) {
  return {
    ...syncWorkflowText(connection),
    taskQueue,
    workflowId: connectionWorkflowId(connection.id),
    args: [{ connectionId: connection.id }] as [{ connectionId: string }],
    typedSearchAttributes: [
      { key: SA.connection, value: connection.name },
      { key: SA.source, value: connection.systems[0].system },
      { key: SA.target, value: connection.systems.slice(1).map((s) => s.system).join(',') },
      { key: SA.status, value: 'idle' },
    ],
  };
}

export function newRequest(reason: SyncRequest['reason'], extra: Partial<SyncRequest> = {}): SyncRequest {
  return { id: randomUUID(), reason, ...extra };
}

/** Signals the connection's workflow, starting it first when it is not running. */
export async function requestSync(options: SyncControlOptions, connection: Connection, request: SyncRequest): Promise<void> {
  await options.client.workflow.signalWithStart('connectionSyncWorkflow', {
    ...startOptions(connection, options.taskQueue),
    signal: 'requestSync',
    signalArgs: [request],
  });
}

/**
 * Runs an update on the connection's workflow, starting the workflow first when it is not
 * running (update-with-start: one call).
 */
export async function updateConnectionWorkflow<R>(options: SyncControlOptions, connection: Connection, update: string, arg: unknown): Promise<R> {
  const start = new WithStartWorkflowOperation('connectionSyncWorkflow', {
    ...startOptions(connection, options.taskQueue),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return options.client.workflow.executeUpdateWithStart<Workflow, R, [unknown]>(update, { args: [arg], startWorkflowOperation: start });
}

/** Runs one cycle and returns its summary. */
export function runSyncAndWait(options: SyncControlOptions, connection: Connection, request: SyncRequest): Promise<RunSummary> {
  return updateConnectionWorkflow<RunSummary>(options, connection, 'runSync', request);
}

/** Ends the connection's workflow, if it runs (the connection is being deleted). */
export async function terminateConnectionWorkflow(options: SyncControlOptions, connection: Connection): Promise<void> {
  try {
    await options.client.workflow.getHandle(connectionWorkflowId(connection.id)).terminate('connection deleted');
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

/** The workflow's status query, or undefined when the connection's workflow is not running. */
export async function syncStatus(options: SyncControlOptions, connectionId: string): Promise<SyncStatus | undefined> {
  try {
    return await options.client.workflow.getHandle(connectionWorkflowId(connectionId)).query<SyncStatus>('status');
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Keeps the connection's Schedule in step with its scheduleSeconds: created, updated, or deleted
 * when the connection runs only on demand and by webhook.
 */
export async function ensureSchedule(options: SyncControlOptions, connection: Connection): Promise<'created' | 'updated' | 'deleted' | 'none'> {
  const id = scheduleId(connection.id);
  const handle = options.client.schedule.getHandle(id);
  const every = connection.enabled ? connection.scheduleSeconds : null;
  let exists = true;
  try {
    await handle.describe();
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    exists = false;
  }
  if (!every) {
    if (exists) await handle.delete();
    return exists ? 'deleted' : 'none';
  }
  const spec = { intervals: [{ every: `${every}s` }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'scheduledSyncWorkflow',
    args: [connection.id],
    taskQueue: options.taskQueue,
    workflowId: `sync-trigger:${connection.id}`,
    typedSearchAttributes: [{ key: SA.connection, value: connection.name }],
    ...syncTriggerText(connection),
  };
  if (exists) {
    await handle.update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
  await options.client.schedule.create({ scheduleId: id, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  return 'created';
}
