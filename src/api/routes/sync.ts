import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { newRequest, requestSync, runSyncAndWait, syncStatus } from '../../service/sync-control.js';
import { ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { problems } from '../problem.js';
import { RunSummaryView, SyncRunView, SyncStatusView } from '../schemas.js';
import { connectionFilter, connectionNamed, Limit, NameParams } from './http.js';
import type { OperatorDeps } from './index.js';

const SyncBody = z.object({
  full: z.boolean().optional().describe('Full reconcile: read everything, not just the changes since the cursor'),
  wait: z.boolean().optional().describe('Answer with the run\'s summary when the cycle that serves this request ends'),
}).strict();
const RunsQuery = z.object({
  connection: z.string().min(1).optional().describe('Only this connection\'s runs'),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']).optional(),
  limit: Limit,
}).strict();
const StatusQuery = z.object({ runs: Limit.describe('How many recent runs to show (default 5)') }).strict();

const tags = ['sync'];

/** POST /connections/:name/sync, GET /connections/:name/status, GET /runs. */
export function syncRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  api.post('/connections/:name/sync', {
    config: { roles: OPERATORS },
    schema: {
      tags,
      summary: 'Ask the connection\'s workflow for a sync cycle',
      params: NameParams,
      body: SyncBody,
      response: {
        200: RunSummaryView.describe('With wait: the summary of the cycle that served the request'),
        202: z.object({ accepted: z.literal(true), requestId: z.string().describe('Found in status.workflow.lastRun.requestIds once served') }).describe('Asked: the workflow serves it in its next cycle'),
        ...problems(404),
      },
    },
  }, async (request, reply) => {
    const { full, wait } = request.body;
    const connection = await connectionNamed(deps.store, request.params.name);
    const syncRequest = newRequest('manual', { full });
    request.log.info({ connection: connection.name, by: callerOf(request).name, full: full === true, wait: wait === true }, 'sync requested');
    if (wait) return runSyncAndWait(control, connection, syncRequest);
    await requestSync(control, connection, syncRequest);
    return reply.code(202).send({ accepted: true, requestId: syncRequest.id });
  });

  api.get('/connections/:name/status', {
    config: { roles: ANY_ROLE },
    schema: {
      tags,
      summary: 'The connection\'s workflow (what it does now, totals) and its recent runs',
      params: NameParams,
      querystring: StatusQuery,
      response: {
        200: z.object({
          connection: z.string(),
          workflow: SyncStatusView.nullable().describe('null: the connection\'s workflow is not running (never synced yet)'),
          runs: z.array(SyncRunView),
        }).describe('What the connection does now, and its recent runs'),
        ...problems(400, 404),
      },
    },
  }, async (request) => {
    const connection = await connectionNamed(deps.store, request.params.name);
    const [workflow, runs] = await Promise.all([
      syncStatus(control, connection.id),
      deps.store.runs.list({ connectionId: connection.id, limit: request.query.runs ?? 5 }),
    ]);
    return { connection: connection.name, workflow: workflow ?? null, runs };
  });

  api.get('/runs', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'Sync runs, newest first', querystring: RunsQuery, response: { 200: z.object({ runs: z.array(SyncRunView) }).describe('The runs, newest first'), ...problems(400, 404) } },
  }, async (request) => {
    const { connection: name, status, limit } = request.query;
    const connection = await connectionFilter(deps.store, name);
    return { runs: await deps.store.runs.list({ connectionId: connection?.id, status, limit }) };
  });
}
