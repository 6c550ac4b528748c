import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from 'pino';

export interface ApiOptions {
  log: Logger;
  /** Reports whether the hub's parts answer; /healthz returns 503 when one does not. */
  health: () => Promise<Record<string, 'ok' | string>>;
  metrics?: Registry;
  /** Route groups added by capabilities (sync triggers, webhooks, approvals). */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
}

/** The HTTP API: the one door in besides the CLI. Capabilities register their routes as plugins. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.log.child({ component: 'api' }), logController: new LogController({ disableRequestLogging: true }) }) as unknown as FastifyInstance;
  const registry = options.metrics ?? new Registry();
  if (!options.metrics) collectDefaultMetrics({ register: registry, prefix: 'ecosync_' });

  app.get('/healthz', async (_req, reply) => {
    const parts = await options.health();
    const ok = Object.values(parts).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', parts });
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  for (const plugin of options.plugins ?? []) await app.register(async (scope) => plugin(scope));
  return app;
}
