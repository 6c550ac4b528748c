import type { FieldError } from './validate.js';

/**
 * Partner Central errors in plain form, so callers (approval workflows, the UI, dead letters)
 * can show the cloud's own reasons: `code` is AWS's error name (ValidationException,
 * ConflictException...) or a task's ReasonCode; `fields` is the ValidationException ErrorList.
 */
export interface PartnerCentralProblem {
  code: string;
  message: string;
  fields: { field: string; code: string; message: string }[];
  /** REQUEST_VALIDATION_FAILED | BUSINESS_VALIDATION_FAILED for validation errors. */
  reason?: string;
}

export class PartnerCentralError extends Error implements PartnerCentralProblem {
  override readonly name = 'PartnerCentralError';
  readonly code: string;
  readonly fields: { field: string; code: string; message: string }[];
  readonly reason?: string;
  /** Worth retrying as is (throttled, 5xx, network). */
  readonly retryable: boolean;
  /** True when nothing was sent: the local pre-validation caught it. */
  readonly local: boolean;

  constructor(problem: PartnerCentralProblem, options: { retryable?: boolean; local?: boolean; cause?: unknown } = {}) {
    super(problem.message, { cause: options.cause });
    this.code = problem.code;
    this.fields = problem.fields;
    this.reason = problem.reason;
    this.retryable = options.retryable ?? false;
    this.local = options.local ?? false;
  }

  toJSON(): PartnerCentralProblem {
    return { code: this.code, message: this.message, fields: this.fields, ...(this.reason ? { reason: this.reason } : {}) };
  }
}

const RETRYABLE_CODES = new Set([
  'ThrottlingException', 'InternalServerException', 'ServiceUnavailableException', 'RequestTimeout', 'RequestTimeoutException',
  'TimeoutError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT',
]);

/** Any error from the SDK (or the network under it) as a PartnerCentralError. */
export function toPartnerCentralError(error: unknown): PartnerCentralError {
  if (error instanceof PartnerCentralError) return error;
  const e = (error ?? {}) as {
    name?: string; code?: string; message?: string; Reason?: string; $fault?: string;
    $metadata?: { httpStatusCode?: number }; ErrorList?: { FieldName?: string; Code?: string; Message?: string }[];
  };
  const code = e.name && e.name !== 'Error' ? e.name : e.code ?? 'UnknownError';
  const status = e.$metadata?.httpStatusCode;
  const fields = (e.ErrorList ?? []).map((item) => ({ field: item.FieldName ?? '', code: item.Code ?? '', message: item.Message ?? '' }));
  return new PartnerCentralError(
    { code, message: e.message ?? String(error), fields, reason: e.Reason },
    { retryable: RETRYABLE_CODES.has(code) || RETRYABLE_CODES.has(e.code ?? '') || e.$fault === 'server' || (status !== undefined && status >= 500), cause: error },
  );
}

/** A validation failure found locally, before any call. */
export function localValidationError(errors: FieldError[], reason: string | undefined, what: string): PartnerCentralError {
  return new PartnerCentralError(
    { code: 'ValidationException', message: `${what} would be rejected by Partner Central: ${errors.map((e) => `${e.field} (${e.code})`).join(', ')}.`, fields: errors.map(({ field, code, message }) => ({ field, code, message })), reason },
    { local: true },
  );
}

/** Whether an edit was refused because AWS is reviewing the opportunity (queue it, don't drop it). */
export function isLockedForReview(error: unknown): boolean {
  return error instanceof PartnerCentralError && error.fields.some((f) => f.field === 'LifeCycle.ReviewStatus' && f.code === 'INVALID_RESOURCE_STATE');
}
