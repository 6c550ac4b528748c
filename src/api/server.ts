import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { registerDocs } from './docs.js';
import { invalid, problemErrorHandler, problemNotFoundHandler, sendProblem } from './problem.js';

export interface ApiOptions {
  log: Logger;
  /** Reports whether the hub's parts answer; /healthz returns 503 when one does not. */
  health: () => Promise<Record<string, 'ok' | string>>;
  metrics?: Registry;
  /** Prometheus text served after the registry's (the Temporal SDK's worker metrics, from its own exporter). */
  moreMetrics?: () => Promise<string>;
  /** Route groups added by capabilities (sync triggers, webhooks, approvals). */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
}

/**
 * The largest request body a route takes unless it says otherwise: ample for any operator request
 * (a connection with its credentials is a few KiB). Webhooks take more (see their plugin).
 */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  parts: z.record(z.string(), z.string()).describe('Each part of the hub: "ok", or what is wrong with it'),
});

/** The path of the first string (value or key) holding U+0000 in a parsed request part, or undefined. */
function nulAt(value: unknown, at: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? at : undefined;
  // Raw bodies (webhooks keep the bytes their signature covers) are not parsed here.
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = nulAt(v, `${at}.${i}`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return `${at}.${JSON.stringify(k)}`;
      const found = nulAt(v, `${at}.${k}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** A route as registered: method and URL (`/connections/:name`). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route the API serves (HEAD routes and the documentation's own files included). */
export function routesOf(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

/**
 * The HTTP API: the one door in besides the CLI. Capabilities register their routes as plugins;
 * each route declares its request and response schemas in zod, which validate the requests,
 * serialize the answers and make the OpenAPI document at /openapi.json (Swagger UI at /docs).
 * Every error is an RFC 9457 problem (see problem.ts).
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'api' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // What the router refuses before any route (a malformed URL, a parameter over its length) is a problem too.
    frameworkErrors: (error, _request, reply) => sendProblem(reply, error.statusCode ?? 400, error.message),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(problemNotFoundHandler);
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  // A request without a body is an empty one: a route whose fields are all optional needs none,
  // and one with required fields names them rather than saying the body is missing.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body) request.body = {};
    // PostgreSQL stores no NUL character in text or JSON: refuse it here, naming the field, rather than fail in the store.
    const nul = nulAt(request.body, 'body') ?? nulAt(request.query, 'query') ?? nulAt(request.params, 'params');
    if (nul) throw invalid(nul, 'contains a NUL character (U+0000), which the hub cannot store');
  });

  const registry = options.metrics ?? new Registry();
  if (!options.metrics) collectDefaultMetrics({ register: registry, prefix: 'ecosync_' });

  await registerDocs(app);
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/healthz', {
    schema: {
      tags: ['service'],
      summary: 'Whether the hub\'s parts (store, Temporal, worker) answer',
      response: { 200: Health.describe('Every part answers'), 503: Health.describe('A part does not answer') },
    },
  }, async (_req, reply) => {
    const parts = await options.health();
    const ok = Object.values(parts).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', parts });
  });
  api.get('/metrics', {
    schema: {
      tags: ['service'],
      summary: 'Prometheus metrics',
      response: { 200: { description: 'The Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
    },
  }, async (_req, reply) => {
    const [ours, more] = await Promise.all([registry.metrics(), options.moreMetrics?.() ?? '']);
    return reply.type(registry.contentType).send(more ? `${ours}\n${more}` : ours);
  });
  for (const plugin of options.plugins ?? []) await app.register(async (scope) => plugin(scope));
  return app;
}
