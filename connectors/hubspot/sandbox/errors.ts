import { randomUUID } from 'node:crypto';

/** HubSpot's error bodies, and the exception that carries one out of a handler. */

export interface Reply {
  status: number;
  body?: unknown;
}

export class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(String((reply.body as { message?: string } | undefined)?.message ?? reply.status));
  }
}

/** HubSpot's error body. */
export function errorBody(category: string, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

export function fail(status: number, category: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new HttpError({ status, body: errorBody(category, message, extra) });
}

export interface BatchError {
  status: 'error';
  category: string;
  message: string;
  correlationId: string;
  subCategory?: string;
  context?: Record<string, string[]>;
  errors?: { message: string; code: string; context: { propertyName: string[] } }[];
}
