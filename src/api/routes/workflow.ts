import { WorkflowUpdateFailedError } from '@temporalio/client';

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
