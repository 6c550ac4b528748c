import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { updateConnectionWorkflow } from '../../service/sync-control.js';
import type { ConflictResolution } from '../../store/index.js';
import { ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { HttpError, invalid, problems } from '../problem.js';
import { ConflictView } from '../schemas.js';
import { audited } from './audit.js';
import { connectionFilter, Limit } from './http.js';
import type { OperatorDeps } from './index.js';
import { isMissingUpdate, updateFailure } from './workflow.js';

const ListQuery = z.object({
  connection: z.string().min(1).optional(),
  status: z.enum(['open', 'resolved']).optional(),
  entity: z.string().min(1).optional(),
  limit: Limit,
}).strict();
const IdParams = z.object({ id: z.uuid('a conflict id (a UUID)') });
const ResolveBody = z.union([
  z.object({ use: z.string().min(1).describe('The side that wins, by system name') }).strict(),
  // A typed value may be any JSON, null included.
  z.object({ value: z.json().describe('The value to write to every system') }).strict(),
], { error: 'give either { "use": "<system>" } or { "value": <json> }' });

/** The workflow update that writes a resolution to both systems. */
export const RESOLVE_UPDATE = 'resolveConflict';

const tags = ['conflicts'];

/** GET /conflicts, POST /conflicts/:id/resolve. */
export function conflictRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  api.get('/conflicts', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'Fields changed on more than one side that the connection\'s policy did not settle', querystring: ListQuery, response: { 200: z.object({ conflicts: z.array(ConflictView) }).describe('The conflicts, newest first'), ...problems(400, 404) } },
  }, async (request) => {
    const { connection: name, ...filter } = request.query;
    const connection = await connectionFilter(deps.store, name);
    return { conflicts: await deps.store.conflicts.list({ connectionId: connection?.id, ...filter }) };
  });

  /**
   * Records the decision (with the caller's token name as resolvedBy), then asks the
   * connection's workflow to write the winning value to both systems.
   */
  api.post('/conflicts/:id/resolve', {
    config: { roles: OPERATORS },
    schema: {
      tags,
      summary: 'Settle a conflict with one side\'s value or a typed one; the connection\'s workflow writes it everywhere',
      params: IdParams,
      body: ResolveBody,
      response: {
        200: z.object({ conflict: ConflictView, applied: z.literal(true), result: z.unknown().describe('What the workflow wrote') }).describe('Recorded and written to the systems'),
        202: z.object({ conflict: ConflictView, applied: z.literal(false), note: z.string() }).describe('Recorded; the worker cannot write resolutions yet'),
        ...problems(400, 404, 409, 502),
      },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const body = request.body;
    const current = await deps.store.conflicts.get(id);
    if (!current) throw new HttpError(404, `no conflict ${id}`);
    if (current.status !== 'open') throw new HttpError(409, `conflict ${id} is already resolved (by ${current.resolvedBy ?? 'the sync'})`);
    let resolution: ConflictResolution;
    if ('use' in body) {
      if (!current.sides[body.use]) throw invalid('body.use', `conflict ${id} has no side "${body.use}" (sides: ${Object.keys(current.sides).sort().join(', ')})`);
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
    // The decision is the act: it stands (and the workflow writes it) whether or not the write below succeeds now.
    await audited(deps.store, request, {
      action: 'conflict.resolve', subject: id, connection: connection.name,
      detail: { entity: conflict.entity, field: conflict.field, ...(resolution.kind === 'side' ? { use: resolution.system } : { value: resolution.value }) },
    });
    try {
      const applied = await updateConnectionWorkflow<unknown>(control, connection, RESOLVE_UPDATE, { conflictId: id });
      return { conflict, applied: true as const, result: applied ?? null };
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
