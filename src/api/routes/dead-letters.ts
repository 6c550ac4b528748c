import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ReplayResult } from '../../../workflows/sync-types.js';
import { ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { connectionFilter, connectionNamed, HttpError, parseInput } from './http.js';
import type { OperatorDeps } from './index.js';
import { updateConnectionWorkflow } from '../../service/sync-control.js';
import { updateFailure } from './workflow.js';

const ListQuery = z.object({
  connection: z.string().min(1).optional(),
  status: z.enum(['open', 'replayed', 'discarded']).optional(),
  system: z.string().min(1).optional(),
  object: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
}).strict();
const NameParams = z.object({ name: z.string().min(1) });
const IdParams = z.object({ id: z.uuid('a dead letter id (a UUID)') });
const ReplayBody = z.object({ ids: z.array(z.uuid('a dead letter id (a UUID)')).min(1).optional() }).strict();

/** GET /deadletters, POST /connections/:name/deadletters/replay, POST /deadletters/:id/discard. */
export function deadLetterRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  app.get('/deadletters', { config: { roles: ANY_ROLE } }, async (request) => {
    const query = parseInput(ListQuery, request.query, 'query');
    const connection = await connectionFilter(deps.store, query.connection);
    const letters = await deps.store.deadLetters.list({ connectionId: connection?.id, status: query.status, system: query.system, object: query.object, limit: query.limit });
    return { deadLetters: letters };
  });

  // Replays run in the connection's workflow, after any running cycle: one writer per connection.
  app.post('/connections/:name/deadletters/replay', { config: { roles: OPERATORS } }, async (request) => {
    const { name } = parseInput(NameParams, request.params, 'params');
    const { ids } = parseInput(ReplayBody, request.body, 'body');
    const connection = await connectionNamed(deps.store, name);
    if (ids) {
      for (const id of ids) {
        const letter = await deps.store.deadLetters.get(id);
        if (!letter || letter.connectionId !== connection.id) throw new HttpError(404, `connection ${connection.name} has no dead letter ${id}`);
      }
    }
    request.log.info({ connection: connection.name, by: callerOf(request).name, ids: ids?.length ?? 'all open' }, 'dead letter replay requested');
    try {
      return await updateConnectionWorkflow<ReplayResult>(control, connection, 'replayDeadLetters', { ids });
    } catch (error) {
      throw new HttpError(502, `the replay failed: ${updateFailure(error)}`);
    }
  });

  app.post('/deadletters/:id/discard', { config: { roles: OPERATORS } }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'params');
    const letter = await deps.store.deadLetters.get(id);
    if (!letter) throw new HttpError(404, `no dead letter ${id}`);
    if (letter.status !== 'open') throw new HttpError(409, `dead letter ${id} is already ${letter.status}`);
    await deps.store.deadLetters.discard([id]);
    request.log.info({ deadLetter: id, by: callerOf(request).name }, 'dead letter discarded');
    return deps.store.deadLetters.get(id);
  });
}
