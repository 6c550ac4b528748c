import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { named } from './schemas.js';

/**
 * Every error the API answers has one shape: an RFC 9457 problem (`application/problem+json`)
 * with type, title, status and detail; a request that does not match the API also lists each
 * offending field in `errors`, as `{ path: "body.name", message }`.
 */

export const PROBLEM_TYPE = 'application/problem+json';

export const FieldError = z.object({
  /** Where in the request: `body.systems.0.name`, `query.limit`, `params.id`. */
  path: z.string(),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

export const Problem = named('Problem', z.object({
  type: z.string().describe('A URI naming the kind of problem; about:blank: the status says what kind'),
  title: z.string().describe('The HTTP status phrase'),
  status: z.number().int(),
  detail: z.string().describe('What went wrong with this request, in words'),
  instance: z.string().optional().describe('The request path'),
  errors: z.array(FieldError).optional().describe('Each field of the request that is not valid'),
}));
export type Problem = z.infer<typeof Problem>;

/** An error a handler throws to answer with a problem of this status. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string, readonly errors?: FieldError[]) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A 400 naming the request field at fault, as a schema mismatch would. */
export function invalid(path: string, message: string): HttpError {
  return new HttpError(400, detailOf([{ path, message }]), [{ path, message }]);
}

export function problemOf(status: number, detail: string, extra: { instance?: string; errors?: FieldError[] } = {}): Problem {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(extra.instance ? { instance: extra.instance } : {}),
    ...(extra.errors?.length ? { errors: extra.errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, status: number, detail: string, extra: { errors?: FieldError[] } = {}): FastifyReply {
  const instance = reply.request.url.split('?')[0];
  return reply.code(status).type(PROBLEM_TYPE).send(problemOf(status, detail, { instance, ...extra }));
}

/** What a problem with field errors says: which fields are not valid (`errors` says why). */
function detailOf(errors: readonly FieldError[]): string {
  const paths = [...new Set(errors.map((e) => e.path))];
  const list = paths.length === 1 ? paths[0] : `${paths.slice(0, -1).join(', ')} and ${paths[paths.length - 1]}`;
  return `${list} ${paths.length === 1 ? 'is' : 'are'} not valid`;
}

// --- schema mismatches -----------------------------------------------------------------------

interface Issue {
  code?: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
}

/** zod's words for a union that no alternative matched, when the schema gives none of its own. */
const DEFAULT_UNION_MESSAGE = 'Invalid input';

/**
 * One issue as field errors. A union that no alternative matched, and that has no message of its
 * own, reports the alternative the input came closest to (fewest issues): a connection body with
 * a bad name says so, rather than "Invalid input".
 */
function fieldErrors(issue: Issue, base: PropertyKey[]): FieldError[] {
  const at = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.message === DEFAULT_UNION_MESSAGE && issue.errors?.length) {
    const nearest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
    if (nearest.length > 0) return nearest.flatMap((i) => fieldErrors(i, at));
  }
  return [{ path: at.map(String).join('.'), message: issue.message }];
}

/** Fastify's names of request parts, as a client writes them. */
const PART: Record<string, string> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

/** The field errors of a request that failed its route's zod schema. */
export function validationErrors(error: FastifyError): FieldError[] {
  if (!hasZodFastifySchemaValidationErrors(error)) return [];
  const part = PART[error.validationContext ?? ''] ?? error.validationContext ?? 'request';
  return error.validation.flatMap((v) => {
    const params = v.params as { errors?: Issue[][] };
    const path = v.instancePath.split('/').filter((s) => s.length > 0);
    return fieldErrors({ code: v.keyword, path, message: v.message ?? 'is not valid', errors: params.errors }, [part]);
  });
}

// --- the handlers ----------------------------------------------------------------------------

/** The error handler of the whole API: every error becomes a problem. */
export function problemErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const fields = validationErrors(error);
  if (fields.length > 0) return sendProblem(reply, 400, detailOf(fields), { errors: fields });
  if (error instanceof HttpError) {
    if (error.statusCode >= 500) request.log.error({ status: error.statusCode, reason: error.message }, 'request failed');
    return sendProblem(reply, error.statusCode, error.message, { errors: error.errors });
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ route: `${error.method} ${error.url}`, issues: error.cause.issues }, 'an answer did not match its declared schema');
    return sendProblem(reply, 500, 'the hub\'s answer did not match its declared schema (see /openapi.json); the hub\'s log has the details');
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 413) return sendProblem(reply, 413, `the request body is larger than this route takes (${request.routeOptions.bodyLimit} bytes)`);
  if (status >= 400 && status < 500) return sendProblem(reply, status, error.message);
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, 500, 'an unexpected error; the hub\'s log has the details');
}

export function problemNotFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, 404, `no route ${request.method} ${request.url.split('?')[0]} (the API's routes are listed at /docs)`);
}

/** A response entry of a route's schema: a problem, as application/problem+json. */
export function problemResponse(description: string) {
  return { description, content: { [PROBLEM_TYPE]: { schema: Problem } } };
}

const WHY: Record<number, string> = {
  400: 'The request is not valid: `errors` names each field',
  401: 'No API token, or not a valid one',
  403: 'The token\'s role may not do this',
  404: 'Not found',
  409: 'The state of the hub does not allow this now',
  413: 'The request body is too large',
  502: 'A system the hub relies on (Temporal, a connector) failed',
  503: 'The hub cannot take this now; retry later',
};

/** The problems a route may answer, by status, for its schema's `response`. */
export function problems(...statuses: number[]): Record<number, ReturnType<typeof problemResponse>> {
  return Object.fromEntries(statuses.map((s) => [s, problemResponse(WHY[s] ?? STATUS_CODES[s] ?? 'Error')]));
}
