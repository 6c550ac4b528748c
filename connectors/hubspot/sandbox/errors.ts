import { randomUUID } from 'node:crypto';

/**
 * HubSpot's error bodies: `Error` for a refused call ({status, message, correlationId, category,
 * errors?, context?}), `StandardError` for one failed input of a batch (category, message,
 * context, errors, links), and the batch envelope that carries results and errors.
 */

export interface Reply {
  status: number;
  body?: unknown;
}

export class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(String((reply.body as { message?: string } | undefined)?.message ?? reply.status));
  }
}

/** One problem inside an error: what and where (`in`), with its context. */
export interface ErrorDetail {
  message: string;
  code?: string;
  in?: string;
  context?: Record<string, string[]>;
}

/** HubSpot's error body for a refused call. */
export function errorBody(category: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

export function fail(status: number, category: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new HttpError({ status, body: errorBody(category, message, extra) });
}

/** A refusal for a request HubSpot cannot read ("Invalid input JSON"), naming where. */
export function invalidInput(message: string, where?: string): never {
  fail(400, 'VALIDATION_ERROR', `Invalid input JSON on line 1: ${message}`, where ? { errors: [{ message, in: where }] } : {});
}

export interface StandardError {
  status: 'error';
  category: string;
  subCategory?: string;
  message: string;
  context: Record<string, string[]>;
  errors: ErrorDetail[];
  links: Record<string, string>;
}

export function standardError(category: string, message: string, context: Record<string, string[]>, extra: { subCategory?: string; errors?: ErrorDetail[] } = {}): StandardError {
  return { status: 'error', category, ...(extra.subCategory ? { subCategory: extra.subCategory } : {}), message, context, errors: extra.errors ?? [], links: {} };
}

/** A batch answer: `okStatus` when every input went through, 207 with the errors otherwise. */
export function batchReply(okStatus: number, results: unknown[], errors: StandardError[], startedAt: string): Reply {
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  if (errors.length === 0) return { status: okStatus, body };
  return { status: 207, body: { ...body, errors, numErrors: errors.length } };
}
