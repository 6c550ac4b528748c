import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IsoDateTime, UsageRecord } from '../../model/index.js';
import { ConflictingKeys, ingestUsage, meteredClouds, replayMetering } from '../../service/metering-control.js';
import { METERED_CLOUDS, type MeteredCloud } from '../../../workflows/metering-types.js';
import { ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { HttpError, problems } from '../problem.js';
import { named } from '../schemas.js';
import { connectionFilter, connectionNamed, Limit, NameParams } from './http.js';
import type { OperatorDeps } from './index.js';
import { updateFailure } from './workflow.js';

/** At most this many usage records a request. */
export const USAGE_BATCH = 1000;
/** 1,000 records of a few hundred bytes each. */
const USAGE_BODY_LIMIT = 1024 * 1024;

const UsageBody = z.object({
  records: z.array(UsageRecord).min(1).max(USAGE_BATCH).describe(`Usage records, 1 to ${USAGE_BATCH}: each customer's use of one dimension in one hour, keyed by the sender`),
}).strict();

const IngestAnswer = z.object({
  accepted: z.number().int().min(0).describe('Records kept now'),
  duplicates: z.array(z.string()).describe('Keys already kept (sent again: counted once)'),
  woken: z.array(z.enum(METERED_CLOUDS as [MeteredCloud, ...MeteredCloud[]])).describe('The clouds whose metering workflow was woken to send it'),
});

const Cloud = z.enum(METERED_CLOUDS as [MeteredCloud, ...MeteredCloud[]]);

const MeteringDeadLetterView = named('MeteringDeadLetter', z.object({
  id: z.uuid(),
  connectionId: z.uuid(),
  cloud: z.string(),
  accountId: z.string(),
  product: z.string(),
  plan: z.string().nullable(),
  dimension: z.string(),
  hour: IsoDateTime,
  quantity: z.string().describe('The usage the letter holds, a decimal string'),
  reason: z.string(),
  errorCode: z.string().describe('Late, NoCustomer, AfterMetering, CustomerNotSubscribed, Expired, ResourceNotActive…'),
  status: z.enum(['open', 'replayed', 'discarded']),
  attempts: z.number().int(),
  createdAt: IsoDateTime,
  resolvedAt: IsoDateTime.nullable(),
}));

const LettersQuery = z.object({
  connection: z.string().min(1).optional(),
  cloud: Cloud.optional(),
  status: z.enum(['open', 'replayed', 'discarded']).optional(),
  limit: Limit,
}).strict();

const ReplayBody = z.object({
  cloud: Cloud,
  ids: z.array(z.uuid('a dead letter id (a UUID)')).min(1).optional().describe('These letters only; every open letter of the cloud when absent'),
}).strict();

const tags = ['usage'];

/** POST /connections/:name/usage, GET /usage/deadletters, POST /connections/:name/usage/replay. */
export function usageRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  api.post('/connections/:name/usage', {
    config: { roles: OPERATORS },
    bodyLimit: USAGE_BODY_LIMIT,
    schema: {
      tags,
      summary: 'Report metered usage, to be sent to AWS Marketplace and the Microsoft marketplace once per customer, dimension and hour',
      description: `Up to ${USAGE_BATCH} records a request. A bad record refuses the whole batch (each named by its path, body.records.N.field) and nothing is kept; a key sent before is counted once.`,
      params: NameParams,
      body: UsageBody,
      response: { 200: IngestAnswer.describe('Kept'), ...problems(400, 404, 413) },
    },
  }, async (request) => {
    const connection = await connectionNamed(deps.store, request.params.name);
    try {
      const outcome = await ingestUsage({ store: deps.store, control, log: request.log }, connection, request.body.records);
      request.log.info({ connection: connection.name, by: callerOf(request).name, accepted: outcome.accepted, duplicates: outcome.duplicates.length }, 'usage reported');
      return outcome;
    } catch (error) {
      if (!(error instanceof ConflictingKeys)) throw error;
      const errors = error.conflicts.map((c) => ({ path: `body.records.${c.index}.dedupeKey`, message: `"${c.key}" is the key of body.records.${c.first} too, with other usage` }));
      throw new HttpError(400, `${errors.map((e) => e.path).join(', ')} ${errors.length === 1 ? 'is' : 'are'} not valid`, errors);
    }
  });

  api.get('/usage/deadletters', {
    config: { roles: ANY_ROLE },
    schema: {
      tags,
      summary: 'Usage that will not reach the cloud as it stands, with the reason',
      querystring: LettersQuery,
      response: { 200: z.object({ deadLetters: z.array(MeteringDeadLetterView) }).describe('Newest first'), ...problems(400, 404) },
    },
  }, async (request) => {
    const { connection: name, limit, ...filter } = request.query;
    const connection = await connectionFilter(deps.store, name);
    return { deadLetters: await deps.store.metering.letters({ connectionId: connection?.id, ...filter, limit: limit ?? 100 }) };
  });

  api.post('/connections/:name/usage/replay', {
    config: { roles: OPERATORS },
    schema: {
      tags,
      summary: 'Send the usage of metering dead letters again, after the cause was fixed (an agreement recorded, say)',
      params: NameParams,
      body: ReplayBody,
      response: { 200: z.object({ replayed: z.number().int(), stillFailing: z.number().int() }).describe('What the replay came to'), ...problems(400, 404, 409, 502) },
    },
  }, async (request) => {
    const { cloud, ids } = request.body;
    const connection = await connectionNamed(deps.store, request.params.name);
    if (!(await meteredClouds(deps.store, connection)).includes(cloud)) throw new HttpError(409, `connection ${connection.name} has no ${cloud} marketplace credentials: it meters nothing there`);
    if (ids) {
      for (const id of ids) {
        const letter = await deps.store.metering.letter(id);
        if (!letter || letter.connectionId !== connection.id || letter.cloud !== cloud) throw new HttpError(404, `connection ${connection.name} has no ${cloud} metering dead letter ${id}`);
      }
    }
    request.log.info({ connection: connection.name, cloud, by: callerOf(request).name, ids: ids?.length ?? 'all open' }, 'metering replay requested');
    try {
      return await replayMetering(control, connection, cloud, ids);
    } catch (error) {
      throw new HttpError(502, `the replay failed: ${updateFailure(error)}`);
    }
  });
}
