import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { COSELL_SYSTEMS } from '../../model/cosell-status.js';
import { ensureCoSellInboxes } from '../../service/cosell-inbox.js';
import { ensureSchedule, terminateConnectionWorkflow } from '../../service/sync-control.js';
import type { CheckResult } from '../../sync/protocol.js';
import { ADMINS, ANY_ROLE, callerOf, OPERATORS } from '../auth.js';
import { HttpError, invalid, problems } from '../problem.js';
import { CheckResultView, ConnectionView } from '../schemas.js';
import { audited } from './audit.js';
import { connectionNamed, NameParams, NoBody } from './http.js';
import { checkEntities, checkSystems, defaultEntities, fromPairs } from './objects.js';
import type { OperatorDeps } from './index.js';

const ObjectInput = z.object({
  sourceMapping: z.string().min(1),
  targetMapping: z.string().min(1),
  entity: z.string().min(1).optional(),
  sourceObject: z.string().min(1).optional(),
  targetObject: z.string().min(1).optional(),
}).strict();

const SystemName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'lower-case letters, digits and -, starting with a letter (at most 40)');

const SystemInput = z.object({
  name: SystemName.optional().describe('Its name in the connection (its credentials are kept under it); the kind when absent'),
  system: z.string().min(1).describe('The connector kind: salesforce, hubspot, netsuite…'),
  role: z.enum(['both', 'source', 'target']).optional().describe('both (default): read and written; source: only read; target: only written'),
}).strict();

const EntityInput = z.object({
  entity: z.string().min(1).optional(),
  members: z.array(z.object({ system: z.string().min(1), mapping: z.string().min(1), object: z.string().min(1).optional() }).strict()),
}).strict();

const Common = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ or - (at most 63), starting with a letter or digit'),
  deletePolicy: z.enum(['propagate', 'ignore']).default('ignore'),
  conflictPolicy: z.string().min(1).default('last-writer-wins').describe('last-writer-wins, manual (queue every conflict), or a system\'s name (it always wins)'),
  updateAfterDelete: z.enum(['skip', 'resurrect']).default('skip').describe('A record edited after it was deleted somewhere: skip it, or resurrect it everywhere'),
  scheduleSeconds: z.number().int().min(10, 'at least 10 seconds').nullable().default(null).describe('Seconds between scheduled syncs; null: on demand and by webhook only'),
  credentials: z.record(z.string(), z.record(z.string(), z.unknown())).describe('Per system name, that connector\'s settings; a co-sell cloud\'s too (aws-partner-central, microsoft-partner-center)'),
};

/** A hub: any number of systems, and per entity the systems that take part with their mapping files. */
const HubBody = z.object({
  ...Common,
  systems: z.array(SystemInput).min(2, 'a connection needs at least two systems'),
  entities: z.union([z.literal('default'), z.array(EntityInput)]).default('default').describe('"default": the shipped mappings of the systems'),
}).strict().describe('A hub of named systems');

/** Two systems, as connections were created before hubs. */
const PairBody = z.object({
  ...Common,
  source: z.string().min(1),
  target: z.string().min(1),
  mode: z.enum(['one-way', 'bidirectional']).default('bidirectional'),
  objects: z.union([z.literal('default'), z.array(ObjectInput)]).default('default').describe('"default": the shipped mappings of the system pair'),
}).strict().describe('Two systems, source and target');

export type CreateConnectionBody = z.input<typeof HubBody> | z.input<typeof PairBody>;

const tags = ['connections'];

/** GET/POST/DELETE /connections, and POST /connections/:name/check. */
export function connectionRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control = { client: deps.client, taskQueue: deps.taskQueue };

  api.get('/connections', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'List the connections', response: { 200: z.object({ connections: z.array(ConnectionView) }).describe('Every connection') } },
  }, async () => ({ connections: await deps.store.connections.list() }));

  api.get('/connections/:name', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'One connection (never its credentials)', params: NameParams, response: { 200: ConnectionView.describe('The connection'), ...problems(404) } },
  }, async (request) => connectionNamed(deps.store, request.params.name));

  api.post('/connections', {
    config: { roles: OPERATORS },
    schema: {
      tags,
      summary: 'Create a connection and its Temporal schedule',
      description: 'Each mapping file must exist, compile and map its system\'s kind; the credentials must cover every system.',
      body: z.union([HubBody, PairBody]),
      response: {
        201: z.object({ connection: ConnectionView, schedule: z.enum(['created', 'updated', 'deleted', 'none']) }).describe('Created, with its schedule (none: it syncs on demand and by webhook)'),
        ...problems(400, 409, 502),
      },
    },
  }, async (request, reply) => {
    const body = request.body;
    const hub = 'systems' in body ? { systems: body.systems, entities: body.entities } : fromPairs(body.source, body.target, body.mode, body.objects);
    const systems = checkSystems(hub.systems);
    const policies = ['last-writer-wins', 'lww', 'manual', ...new Set(systems.flatMap((s) => [s.name, s.system]))];
    if (!policies.includes(body.conflictPolicy)) throw invalid('body.conflictPolicy', `"${body.conflictPolicy}" is not one of ${policies.join(', ')}`);
    for (const s of systems) {
      if (!body.credentials[s.name]) throw invalid(`body.credentials.${s.name}`, `the credentials for ${s.name} are missing`);
    }
    // Besides its systems, a connection may hold the clouds' credentials: its CRM opportunities co-sell with them.
    const cloudSystems: string[] = Object.values(COSELL_SYSTEMS);
    const extra = Object.keys(body.credentials).filter((name) => !systems.some((s) => s.name === name) && !cloudSystems.includes(name));
    if (extra.length) throw invalid('body.credentials', `${extra.join(', ')} is not a system of this connection (nor a co-sell cloud: ${cloudSystems.join(', ')})`);
    const entities = await checkEntities(systems, hub.entities === 'default' ? await defaultEntities(systems) : hub.entities);
    if (await deps.store.connections.getByName(body.name)) throw new HttpError(409, `a connection named "${body.name}" already exists`);

    const connection = await deps.store.connections.create({
      name: body.name,
      systems,
      entities,
      deletePolicy: body.deletePolicy,
      conflictPolicy: body.conflictPolicy,
      updateAfterDelete: body.updateAfterDelete,
      scheduleSeconds: body.scheduleSeconds,
      credentials: body.credentials,
    });
    let schedule: Awaited<ReturnType<typeof ensureSchedule>>;
    try {
      schedule = await ensureSchedule(control, connection);
    } catch (error) {
      // Without its schedule the connection would look configured but never run: undo it.
      await deps.store.connections.delete(connection.id);
      throw new HttpError(502, `could not create the connection's Temporal schedule: ${(error as Error).message}`);
    }
    // Opportunities the clouds share with us start arriving; a connection without cloud credentials starts nothing.
    const inboxes = await ensureCoSellInboxes(deps.client, deps.taskQueue, connection, Object.keys(body.credentials), {
      policy: deps.cosell.policy,
      pollIntervalMs: deps.cosell.inboxSeconds * 1000,
    }).catch((error: Error) => {
      request.log.warn({ connection: connection.name, error: error.message }, 'co-sell inbox not started');
      return [];
    });
    request.log.info({ connection: connection.name, by: callerOf(request).name, schedule, inboxes }, 'connection created');
    await audited(deps.store, request, { action: 'connection.create', subject: connection.name, connection: connection.name, detail: { systems: systems.map((s) => s.name), schedule } });
    return reply.code(201).send({ connection, schedule });
  });

  api.post('/connections/:name/check', {
    config: { roles: OPERATORS },
    schema: {
      tags,
      summary: 'Check each system of the connection with its stored credentials',
      params: NameParams,
      body: NoBody,
      response: {
        200: z.object({ connection: z.string(), ok: z.boolean(), systems: z.record(z.string(), CheckResultView).describe('By system name') }).describe('Each system\'s answer; ok when all answered'),
        ...problems(400, 404),
      },
    },
  }, async (request) => {
    const connection = await connectionNamed(deps.store, request.params.name);
    const credentials = (await deps.store.connections.getCredentials(connection.id)) ?? {};
    const results = await Promise.all(connection.systems.map((s) => checkOne(deps, s.system, credentials[s.name])));
    const systems: Record<string, CheckResult> = Object.fromEntries(connection.systems.map((s, i) => [s.name, results[i]]));
    return { connection: connection.name, ok: Object.values(systems).every((s) => s.ok), systems };
  });

  api.delete('/connections/:name', {
    config: { roles: ADMINS },
    schema: {
      tags,
      summary: 'Delete a connection: its schedule and workflow stop, its runs, cursors, dead letters and conflicts go',
      params: NameParams,
      response: { 200: z.object({ deleted: z.string() }).describe('Deleted'), ...problems(404) },
    },
  }, async (request) => {
    const connection = await connectionNamed(deps.store, request.params.name);
    // Stop what would run it first, then forget it (its runs, cursors, letters and conflicts go too).
    await ensureSchedule(control, { ...connection, enabled: false });
    await terminateConnectionWorkflow(control, connection);
    await deps.store.connections.delete(connection.id);
    await audited(deps.store, request, { action: 'connection.delete', subject: connection.name, connection: connection.name });
    return { deleted: connection.name };
  });
}

const CHECK_TIMEOUT_MS = 20_000;

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** One side's check; a connector that cannot even be built or throws is a failed check, not a 500. */
async function checkOne(deps: OperatorDeps, system: string, credentials: unknown): Promise<CheckResult> {
  if (!credentials || typeof credentials !== 'object') return { ok: false, message: `no credentials for ${system}` };
  try {
    const connector = deps.connectorFor(system, credentials as Record<string, unknown>);
    try {
      return await withTimeout(connector.check(), CHECK_TIMEOUT_MS, `${system} did not answer within ${CHECK_TIMEOUT_MS / 1000} s`);
    } finally {
      await connector.close?.().catch(() => undefined);
    }
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}
