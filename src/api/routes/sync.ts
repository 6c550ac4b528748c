import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { newRequest, requestSync, runSyncAndWait, syncStatus } from '../../service/sync-control.js';
import { ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { connectionFilter, connectionNamed, parseInput } from './http.js';
import type { OperatorDeps } from './index.js';

const NameParams = z.object({ name: z.string().min(1) });
const SyncBody = z.object({
  /** Full reconcile: read everything, not just the changes since the cursor. */
  full: z.boolean().optional(),
  /** Answer with the run's summary when the cycle that serves this request ends. */
  wait: z.boolean().optional(),
}).strict();
const Limit = z.coerce.number().int().min(1).max(1000).optional();
const RunsQuery = z.object({ connection: z.string().min(1).optional(), status: z.enum(['running', 'succeeded', 'failed', 'cancelled']).optional(), limit: Limit }).strict();
const StatusQuery = z.object({ runs: Limit }).strict();

/** POST /connections/:name/sync, GET /connections/:name/status, GET /runs. */
export function syncRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  app.post('/connections/:name/sync', { config: { roles: OPERATORS } }, async (request, reply) => {
    const { name } = parseInput(NameParams, request.params, 'params');
    const body = parseInput(SyncBody, request.body, 'body');
    const connection = await connectionNamed(deps.store, name);
    const syncRequest = newRequest('manual', { full: body.full });
    request.log.info({ connection: connection.name, by: callerOf(request).name, full: body.full === true, wait: body.wait === true }, 'sync requested');
    if (body.wait) return runSyncAndWait(control, connection, syncRequest);
    await requestSync(control, connection, syncRequest);
    return reply.code(202).send({ accepted: true, requestId: syncRequest.id });
  });

  app.get('/connections/:name/status', { config: { roles: ANY_ROLE } }, async (request) => {
    const { name } = parseInput(NameParams, request.params, 'params');
    const query = parseInput(StatusQuery, request.query, 'query');
    const connection = await connectionNamed(deps.store, name);
    const [workflow, runs] = await Promise.all([
      syncStatus(control, connection.id),
      deps.store.runs.list({ connectionId: connection.id, limit: query.runs ?? 5 }),
    ]);
    // null: the connection's workflow is not running (never synced, or deleted and re-created).
    return { connection: connection.name, workflow: workflow ?? null, runs };
  });

  app.get('/runs', { config: { roles: ANY_ROLE } }, async (request) => {
    const query = parseInput(RunsQuery, request.query, 'query');
    const connection = await connectionFilter(deps.store, query.connection);
    return { runs: await deps.store.runs.list({ connectionId: connection?.id, status: query.status, limit: query.limit }) };
  });
}
