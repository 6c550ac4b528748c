import type { Workflow } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { SyncControlOptions } from '../../service/sync-control.js';
import type { Connection } from '../../store/index.js';
import { SA } from '../../../workflows/search-attributes.js';
import { connectionWorkflowId } from '../../../workflows/sync-types.js';

/**
 * Runs a workflow update on the connection's workflow, starting the workflow when it is not
 * running (update-with-start), the way runSyncAndWait does for `runSync`.
 */
export async function updateConnectionWorkflow<R>(control: SyncControlOptions, connection: Connection, update: string, arg: unknown): Promise<R> {
  const start = new WithStartWorkflowOperation('connectionSyncWorkflow', {
    taskQueue: control.taskQueue,
    workflowId: connectionWorkflowId(connection.id),
    args: [{ connectionId: connection.id }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: SA.connection, value: connection.name },
      { key: SA.source, value: connection.sourceSystem },
      { key: SA.target, value: connection.targetSystem },
      { key: SA.status, value: 'idle' },
    ],
  });
  return control.client.workflow.executeUpdateWithStart<Workflow, R, [unknown]>(update, { args: [arg], startWorkflowOperation: start });
}

/** The workflow rejected the update because it has no handler by that name (an older worker). */
export function isMissingUpdate(error: unknown, update: string): boolean {
  if (!(error instanceof WorkflowUpdateFailedError)) return false;
  return (error.cause?.message ?? '').includes(`No registered handler for update: ${update}`);
}

/**
 * The message a failed update carries: the innermost cause (an activity's own error), not the
 * wrappers around it ("Workflow Update failed", "Activity task failed").
 */
export function updateFailure(error: unknown): string {
  let inner: unknown = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(inner);
}

/** Ends the connection's workflow, if it runs (the connection is being deleted). */
export async function terminateConnectionWorkflow(control: SyncControlOptions, connection: Connection): Promise<void> {
  try {
    await control.client.workflow.getHandle(connectionWorkflowId(connection.id)).terminate('connection deleted');
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}
