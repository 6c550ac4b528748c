import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ReplayResult } from '../../../workflows/sync-types.js';
import { updateConnectionWorkflow } from '../../service/sync-control.js';
import { ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { HttpError, problems } from '../problem.js';
import { DeadLetterView, ReplayResultView } from '../schemas.js';
import { audited } from './audit.js';
import { connectionFilter, connectionNamed, Limit, NameParams, NoBody } from './http.js';
import type { OperatorDeps } from './index.js';
import { updateFailure } from './workflow.js';

const ListQuery = z.object({
  connection: z.string().min(1).optional(),
  status: z.enum(['open', 'replayed', 'discarded']).optional(),
  system: z.string().min(1).optional(),
  object: z.string().min(1).optional(),
  limit: Limit,
}).strict();
const LetterId = z.uuid('a dead letter id (a UUID)');
const IdParams = z.object({ id: LetterId });
const ReplayBody = z.object({ ids: z.array(LetterId).min(1).optional().describe('These letters only; every open letter of the connection when absent') }).strict();

const tags = ['dead letters'];

/** GET /deadletters, POST /connections/:name/deadletters/replay, POST /deadletters/:id/discard. */
export function deadLetterRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  api.get('/deadletters', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'Records that failed, with the reason', querystring: ListQuery, response: { 200: z.object({ deadLetters: z.array(DeadLetterView) }).describe('The dead letters, newest first'), ...problems(400, 404) } },
  }, async (request) => {
    const { connection: name, ...filter } = request.query;
    const connection = await connectionFilter(deps.store, name);
    return { deadLetters: await deps.store.deadLetters.list({ connectionId: connection?.id, ...filter }) };
  });

  // Replays run in the connection's workflow, after any running cycle: one writer per connection.
  api.post('/connections/:name/deadletters/replay', {
    config: { roles: OPERATORS },
    schema: {
      tags,
      summary: 'Run dead letters again, after the cause was fixed',
      params: NameParams,
      body: ReplayBody,
      response: { 200: ReplayResultView.describe('What the replay came to'), ...problems(400, 404, 502) },
    },
  }, async (request) => {
    const { ids } = request.body;
    const connection = await connectionNamed(deps.store, request.params.name);
    if (ids) {
      for (const id of ids) {
        const letter = await deps.store.deadLetters.get(id);
        if (!letter || letter.connectionId !== connection.id) throw new HttpError(404, `connection ${connection.name} has no dead letter ${id}`);
      }
    }
    request.log.info({ connection: connection.name, by: callerOf(request).name, ids: ids?.length ?? 'all open' }, 'dead letter replay requested');
    let result: ReplayResult;
    try {
      result = await updateConnectionWorkflow<ReplayResult>(control, connection, 'replayDeadLetters', { ids });
    } catch (error) {
      throw new HttpError(502, `the replay failed: ${updateFailure(error)}`);
    }
    await audited(deps.store, request, { action: 'deadletters.replay', subject: connection.name, connection: connection.name, detail: { ids: ids ?? 'all open', ...result } });
    return result;
  });

  api.post('/deadletters/:id/discard', {
    config: { roles: OPERATORS },
    schema: { tags, summary: 'Give up on an open dead letter', params: IdParams, body: NoBody, response: { 200: DeadLetterView.describe('The discarded letter'), ...problems(400, 404, 409) } },
  }, async (request) => {
    const { id } = request.params;
    const letter = await deps.store.deadLetters.get(id);
    if (!letter) throw new HttpError(404, `no dead letter ${id}`);
    if (letter.status !== 'open') throw new HttpError(409, `dead letter ${id} is already ${letter.status}`);
    await deps.store.deadLetters.discard([id]);
    request.log.info({ deadLetter: id, by: callerOf(request).name }, 'dead letter discarded');
    const connection = await deps.store.connections.get(letter.connectionId);
    await audited(deps.store, request, { action: 'deadletter.discard', subject: id, connection: connection?.name, detail: { system: letter.system, object: letter.object, reason: letter.reason } });
    const discarded = await deps.store.deadLetters.get(id);
    if (!discarded) throw new HttpError(404, `dead letter ${id} was deleted with its connection`);
    return discarded;
  });
}
