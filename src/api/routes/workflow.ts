import { WorkflowUpdateFailedError } from '@temporalio/client';

/** The workflow rejected the update because it has no handler by that name (an older worker). */
export function isMissingUpdate(error: unknown, update: string): boolean {
  if (!(error instanceof WorkflowUpdateFailedError)) return false;
  return (error.cause?.message ?? '').includes(`No registered handler for update: ${update}`);
}

/** Kept here for the routes that read it with isMissingUpdate; it lives in the service layer. */
export { updateFailure } from '../../service/failures.js';
