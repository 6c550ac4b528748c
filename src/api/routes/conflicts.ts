import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ConflictResolution } from '../../store/index.js';
import { ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { connectionFilter, HttpError, parseInput } from './http.js';
import type { OperatorDeps } from './index.js';
import { updateConnectionWorkflow } from '../../service/sync-control.js';
import { isMissingUpdate, updateFailure } from './workflow.js';

const ListQuery = z.object({
  connection: z.string().min(1).optional(),
  status: z.enum(['open', 'resolved']).optional(),
  entity: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
}).strict();
const IdParams = z.object({ id: z.uuid('a conflict id (a UUID)') });
const ResolveBody = z.union([
  z.object({ use: z.string().min(1) }).strict(),
  // A typed value may be any JSON, null included.
  z.object({ value: z.json() }).strict(),
], { error: 'give either { "use": "<system>" } or { "value": <json> }' });

/** The workflow update that writes a resolution to both systems. */
export const RESOLVE_UPDATE = 'resolveConflict';

/** GET /conflicts, POST /conflicts/:id/resolve. */
export function conflictRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  app.get('/conflicts', { config: { roles: ANY_ROLE } }, async (request) => {
    const query = parseInput(ListQuery, request.query, 'query');
    const connection = await connectionFilter(deps.store, query.connection);
    return { conflicts: await deps.store.conflicts.list({ connectionId: connection?.id, status: query.status, entity: query.entity, limit: query.limit }) };
  });

  /**
   * Records the decision (with the caller's token name as resolvedBy), then asks the
   * connection's workflow to write the winning value to both systems.
   */
  app.post('/conflicts/:id/resolve', { config: { roles: OPERATORS } }, async (request, reply) => {
    const { id } = parseInput(IdParams, request.params, 'params');
    const body = parseInput(ResolveBody, request.body, 'body');
    const current = await deps.store.conflicts.get(id);
    if (!current) throw new HttpError(404, `no conflict ${id}`);
    if (current.status !== 'open') throw new HttpError(409, `conflict ${id} is already resolved (by ${current.resolvedBy ?? 'the sync'})`);
    let resolution: ConflictResolution;
    if ('use' in body) {
      if (!current.sides[body.use]) throw new HttpError(400, `body.use: conflict ${id} has no side "${body.use}" (sides: ${Object.keys(current.sides).sort().join(', ')})`);
      resolution = { kind: 'side', system: body.use };
    } else {
      resolution = { kind: 'manual', value: body.value };
    }
    const caller = callerOf(request);
    let conflict;
    try {
      conflict = await deps.store.conflicts.resolve(id, resolution, caller.name);
    } catch (error) {
      // Someone else resolved it between the read above and now.
      if (/already resolved/.test((error as Error).message)) throw new HttpError(409, (error as Error).message);
      throw error;
    }
    request.log.info({ conflict: id, by: caller.name, resolution: resolution.kind }, 'conflict resolved');

    const connection = await deps.store.connections.get(conflict.connectionId);
    if (!connection) throw new HttpError(404, `the conflict's connection no longer exists`);
    try {
      const applied = await updateConnectionWorkflow<unknown>(control, connection, RESOLVE_UPDATE, { conflictId: id });
      return { conflict, applied: true, result: applied ?? null };
    } catch (error) {
      if (isMissingUpdate(error, RESOLVE_UPDATE)) {
        return reply.code(202).send({
          conflict,
          applied: false,
          note: 'the resolution is recorded; this worker cannot write resolutions to the systems yet (its workflow has no resolveConflict update), so the value is written once the worker is upgraded',
        });
      }
      throw new HttpError(502, `the resolution is recorded, but writing it to the systems failed: ${updateFailure(error)}`);
    }
  });
}
