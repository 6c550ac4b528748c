import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { TokenCheck } from './auth.js';
import { SandboxRefusal } from './refusal.js';
import { FORBIDDEN_MESSAGE } from './saas.js';

/**
 * Each API family's error shapes:
 * - Product Ingestion is served through Microsoft Graph: `{"error": {"code", "message", ...}}`,
 *   401 InvalidAuthenticationToken with Graph's WWW-Authenticate;
 * - SaaS fulfillment: `{"error": {"code", "message"}}` (the shape of its OpenAPI's errors); a
 *   token of another app is a 403 whose body is the bare message string Microsoft sends;
 * - metering: `{"message", "target", "details": [{"message", "target", "code"}], "code"}` for a 400,
 *   `{"message", "code": "Forbidden"}` for a 403;
 * - the marketplace API's gateway refuses a token that does not verify with 401 and the reason
 *   in WWW-Authenticate, and throttles with 429 `{"statusCode", "message"}` and Retry-After.
 */
export type ApiFamily = 'ingestion' | 'saas' | 'metering' | 'control';

/** Audiences of Microsoft Graph tokens, as Graph accepts them. */
export const GRAPH_AUDIENCES = ['https://graph.microsoft.com', 'https://graph.microsoft.com/', '00000003-0000-0000-c000-000000000000'];
/** The SaaS fulfillment and metering API's resource id (and the older one Microsoft still honours). */
export const MARKETPLACE_API_AUDIENCES = ['20e940b3-4c77-4b0b-9a53-9e16a1b010a7', '62d94f6c-d599-489b-a797-3e10e42fbe22'];
export const SAAS_API_VERSION = '2018-08-31';

export function sendRefusal(reply: FastifyReply, api: ApiFamily, refusal: SandboxRefusal): FastifyReply {
  reply.code(refusal.status);
  if (api === 'saas' && refusal.status === 403) return reply.type('application/json; charset=utf-8').send(JSON.stringify(FORBIDDEN_MESSAGE));
  if (api === 'metering') {
    if (refusal.status === 403) return reply.send({ message: refusal.message, code: 'Forbidden' });
    return reply.send({ message: 'One or more errors have occurred.', target: 'usageEventRequest', details: [{ message: refusal.message, target: 'usageEventRequest', code: refusal.code }], code: 'BadArgument' });
  }
  return reply.send({ error: { code: refusal.code, message: refusal.message } });
}

/** Sends a refusal, or rethrows what is not one (Fastify answers 500). */
export function refused(reply: FastifyReply, api: ApiFamily, error: unknown): FastifyReply {
  if (error instanceof SandboxRefusal) return sendRefusal(reply, api, error);
  throw error;
}

export function sendUnauthorized(reply: FastifyReply, api: ApiFamily, check: Extract<TokenCheck, { ok: false }>): FastifyReply {
  if (api === 'ingestion') {
    const message = {
      missing: 'Access token is empty.',
      malformed: 'CompactToken parsing failed with error code: 80049217',
      untrusted: 'Access token validation failure. Invalid issuer.',
      signature: 'Access token validation failure.',
      audience: 'Access token validation failure. Invalid audience.',
      expired: 'Access token has expired or is not yet valid.',
    }[check.reason];
    const now = new Date().toISOString().slice(0, 19);
    return reply.code(401)
      .header('WWW-Authenticate', 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"')
      .send({ error: { code: 'InvalidAuthenticationToken', message, innerError: { date: now, 'request-id': randomUUID(), 'client-request-id': randomUUID() } } });
  }
  return reply.code(401).header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${check.message.replace(/"/g, "'")}"`).send();
}

export function sendThrottled(reply: FastifyReply, api: ApiFamily, retryAfterMs: number): FastifyReply {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  reply.code(429).header('Retry-After', String(seconds));
  if (api === 'ingestion') return reply.send({ error: { code: 'TooManyRequests', message: `Too many requests. Retry after ${seconds} seconds.` } });
  return reply.send({ statusCode: 429, message: `Rate limit is exceeded. Try again in ${seconds} seconds.` });
}

export function sendServerError(reply: FastifyReply, api: ApiFamily): FastifyReply {
  if (api === 'ingestion') return reply.code(503).send({ error: { code: 'serviceNotAvailable', message: 'The service is temporarily unavailable. Retry later.' } });
  return reply.code(500).send({ error: { code: 'InternalServerError', message: 'An unexpected error occurred. Retry the call.' } });
}

/** A request whose version parameter is missing or not the one the route serves. */
export function versionRefusal(api: ApiFamily, name: string, given: unknown, expected: readonly string[]): SandboxRefusal | undefined {
  if (typeof given === 'string' && expected.includes(given)) return undefined;
  const code = api === 'ingestion' ? 'badRequest' : 'BadArgument';
  return new SandboxRefusal(400, code, given === undefined
    ? `The ${name} query parameter is required: use ${expected.join(' or ')}.`
    : `${name} '${String(given)}' is not supported: use ${expected.join(' or ')}.`);
}
