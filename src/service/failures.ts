/**
 * The message a failed update carries: the innermost cause (an activity's own error), not the
 * wrappers around it ("Workflow Update failed", "Activity task failed"). Shared by the services
 * and the API routes that run workflow updates.
 */
export function updateFailure(error: unknown): string {
  let inner: unknown = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(inner);
}
