import { validationExceptionFor, type ValidationIssue } from '../validate.js';

/**
 * An error as Partner Central puts it on the wire (awsJson1_0): the HTTP status the SDK's model
 * gives the error shape, and a body whose `__type` the SDK maps back to its error class.
 */
export class ApiError extends Error {
  constructor(readonly type: string, readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { __type: this.type, message: this.message, ...this.extra };
  }
}

export const conflict = (message: string) => new ApiError('ConflictException', 409, message);
export const notFound = (message: string) => new ApiError('ResourceNotFoundException', 404, message);
export const accessDenied = (message: string) => new ApiError('AccessDeniedException', 403, message);
export const throttled = () => new ApiError('ThrottlingException', 429, 'Rate exceeded');
export const internalError = () => new ApiError('InternalServerException', 500, 'An internal error occurred. Try again.');

/** A ValidationException for these issues (first failing phase only, as AWS answers). */
export function invalid(issues: ValidationIssue[]): ApiError {
  const body = validationExceptionFor(issues);
  if (!body) throw new Error('invalid() needs at least one issue');
  return new ApiError('ValidationException', 400, body.message, { Reason: body.Reason, ErrorList: body.ErrorList });
}

/** Throws a ValidationException when there are issues. */
export function assertValid(issues: ValidationIssue[]): void {
  if (issues.length > 0) throw invalid(issues);
}
