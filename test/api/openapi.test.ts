import { Client, Connection } from '@temporalio/client';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiAuth, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi, DEFAULT_BODY_LIMIT, routesOf } from '../../src/api/server.js';
import { WEBHOOK_BODY_LIMIT, webhooksPlugin } from '../../src/api/webhooks/index.js';
import { CRM_HUB } from '../support/hub.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { problemText } from './problem.js';

// ajv ships CommonJS: its default export is the module object under NodeNext.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';

type Operation = {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
};
type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, Record<string, string>> };
};

/** `/connections/:name` as OpenAPI writes it. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

/**
 * The API's contract, without Temporal (a lazy client that never connects; no route here reaches
 * it): the document at /openapi.json lists every route with its schemas, real answers match
 * what it declares, and every error is a problem.
 */
describe('the API describes itself and keeps to it', () => {
  let db: TestStore;
  let app: FastifyInstance;
  let doc: OpenApi;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);

  beforeAll(async () => {
    db = await openTestStore('postgres');
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({ store: 'ok', temporal: 'connection refused' }),
      plugins: [
        operatorRoutes({ store: db.store, client, taskQueue: 'unused', auth: new ApiAuth(parseApiTokens(`root:admin:${ADMIN},vic:viewer:${VIEWER}`)) }),
        webhooksPlugin({ store: db.store, sync: { client, taskQueue: 'unused' } }),
      ],
    });
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    app.inject({
      method, url,
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });

  /** Checks an answer against the schema the document declares for its route, status and content type. */
  function expectDeclared(route: string, method: string, res: Awaited<ReturnType<typeof call>>): void {
    const response = doc.paths[openApiPath(route)]?.[method.toLowerCase()]?.responses[String(res.statusCode)];
    expect(response, `${method} ${route} declares ${res.statusCode}`).toBeDefined();
    const mediaType = String(res.headers['content-type']).split(';')[0];
    const schema = response!.content?.[mediaType]?.schema;
    expect(schema, `${method} ${route} ${res.statusCode} declares ${mediaType}`).toBeDefined();
    const validate = ajv.compile({ ...schema, components: doc.components });
    expect(validate(res.json()), `${method} ${route} ${res.statusCode}: ${ajv.errorsText(validate.errors)}\n${res.body}`).toBe(true);
  }

  it('is an OpenAPI 3.1 document with the bearer scheme, reachable without a token, and /docs shows it', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ui = await call('GET', '/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
    expect(ui.body).toContain('swagger');
    // Every schema in it is valid JSON Schema 2020-12, the dialect of OpenAPI 3.1.
    for (const [id, schema] of Object.entries(doc.components.schemas)) expect(() => ajv.compile({ ...schema, components: doc.components }), id).not.toThrow();
  });

  it('lists every route the API serves, with its parameters, body and answers; operator routes need a token and a role', () => {
    const served = routesOf(app).filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'));
    expect(served.length).toBeGreaterThan(20);
    for (const { method, url } of served) {
      const operation = doc.paths[openApiPath(url)]?.[method.toLowerCase()];
      expect(operation, `${method} ${url}`).toBeDefined();
      const answers = Object.keys(operation!.responses);
      expect(answers.filter((s) => /^2/.test(s)), `${method} ${url} success answers`).not.toEqual([]);
      for (const name of url.match(/:(\w+)/g) ?? []) {
        expect(operation!.parameters, `${method} ${url} ${name}`).toContainEqual(expect.objectContaining({ in: 'path', name: name.slice(1), required: true }));
      }
      if (method === 'POST') expect(operation!.requestBody?.content['application/json']?.schema, `${method} ${url} body`).toBeDefined();
      // Every error is a problem (a health report that says a part is down is not an error).
      for (const status of answers.filter((s) => /^[45]/.test(s) && !(url === '/healthz' && s === '503'))) {
        expect(operation!.responses[status].content, `${method} ${url} ${status}`).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
      }
      const guarded = !/^\/(healthz|metrics|openapi\.json|webhooks\/)/.test(url);
      if (guarded) {
        expect(operation!.security, `${method} ${url}`).toEqual([{ bearerAuth: [] }]);
        expect(answers, `${method} ${url}`).toEqual(expect.arrayContaining(['401', '403']));
      } else {
        expect(operation!.security, `${method} ${url}`).toBeUndefined();
      }
    }
    // And nothing it lists is missing from the server.
    const listed = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`));
    expect(listed.sort()).toEqual(served.map((r) => `${r.method} ${openApiPath(r.url)}`).sort());
  });

  it('answers what it declares, for real records of the store', async () => {
    const connection = await db.store.connections.create({
      name: 'contract', systems: CRM_HUB.systems.map((s) => ({ ...s, role: s.role ?? 'both' })), entities: CRM_HUB.entities,
      scheduleSeconds: 300, credentials: { salesforce: { accessToken: 'never-shown-0123' }, hubspot: { accessToken: 'never-shown-4567' } },
    });
    const run = await db.store.runs.start({ connectionId: connection.id, mode: 'full', workflowId: 'sync:x', runId: 'r1' });
    await db.store.runs.finish(run.id, { status: 'succeeded', counters: { read: 3, created: 3 } });
    await db.store.deadLetters.add({ connectionId: connection.id, direction: 'write', system: 'hubspot', object: 'contacts', externalId: '003x', payload: { Email: 'typo' }, reason: 'INVALID_EMAIL', errorCode: 'INVALID_EMAIL', failingFields: ['email'] });
    await db.store.conflicts.openMany([{
      connectionId: connection.id, entity: 'Account', canonicalId: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f', field: 'phone', baseValue: null,
      sides: { salesforce: { value: '+1 555 0101', modifiedAt: new Date().toISOString() }, hubspot: { value: '+1 555 0202', modifiedAt: null } },
    }]);

    const reads: Array<[string, string]> = [
      ['/connections', '/connections'], ['/connections/:name', '/connections/contract'], ['/runs', '/runs?connection=contract'],
      ['/deadletters', '/deadletters?status=open'], ['/conflicts', '/conflicts?connection=contract'],
    ];
    for (const [route, url] of reads) {
      const res = await call('GET', url, { token: VIEWER });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      expect(res.body).not.toContain('never-shown');
      expectDeclared(route, 'GET', res);
    }
    expect((await call('GET', '/runs', { token: VIEWER })).json().runs).toEqual([expect.objectContaining({ id: run.id, status: 'succeeded', counters: expect.objectContaining({ created: 3 }) })]);
    const health = await call('GET', '/healthz');
    expect(health.statusCode).toBe(503);
    expectDeclared('/healthz', 'GET', health);
    expectDeclared('/openapi.json', 'GET', await call('GET', '/openapi.json'));

    // Errors keep to the document too.
    expectDeclared('/connections/:name', 'GET', await call('GET', '/connections/nope', { token: VIEWER }));
    expectDeclared('/connections', 'POST', await call('POST', '/connections', { token: ADMIN, body: { name: 'x' } }));
    expectDeclared('/connections', 'POST', await call('POST', '/connections', { token: VIEWER, body: {} }));
    expectDeclared('/runs', 'GET', await call('GET', '/runs'));
    await db.store.connections.delete(connection.id);
  });

  it('names each field that does not match, wherever it is, and checks none of it by hand', async () => {
    const body = await call('POST', '/connections', { token: ADMIN, body: { name: 'has spaces', source: 'salesforce', target: 'hubspot', scheduleSeconds: 5, credentials: {} } });
    expect(body.statusCode).toBe(400);
    expect(body.json()).toMatchObject({
      detail: 'body.name and body.scheduleSeconds are not valid',
      errors: [{ path: 'body.name', message: expect.stringMatching(/^letters, digits/) }, { path: 'body.scheduleSeconds', message: 'at least 10 seconds' }],
    });
    const query = await call('GET', '/deadletters?limit=5000&colour=blue', { token: VIEWER });
    expect(problemText(query)).toBe('query.limit and query are not valid\nquery.limit: Too big: expected number to be <=1000\nquery: Unrecognized key: "colour"');
    const params = await call('POST', '/conflicts/42/resolve', { token: ADMIN, body: { use: 'hubspot' } });
    expect(problemText(params)).toBe('params.id is not valid\nparams.id: a conflict id (a UUID)');
    // A POST without a body is an empty one: the fields it lacks are named.
    const empty = await call('POST', '/cosells', { token: ADMIN });
    expect(problemText(empty)).toMatch(/^body\.opportunity and body\.cloud are not valid\nbody\.opportunity: /);
  });

  it('answers unknown routes, bodies that are not JSON and bodies over the limit with problems, before any handler', async () => {
    const unknown = await call('GET', '/connectoins');
    expect(unknown.statusCode).toBe(404);
    expect(problemText(unknown)).toBe('no route GET /connectoins (the API\'s routes are listed at /docs)');
    expect(unknown.json().instance).toBe('/connectoins');
    const badUrl = await call('GET', '/connections/%E0%A4%A', { token: VIEWER });
    expect(badUrl.statusCode).toBe(400);
    expect(problemText(badUrl)).toMatch(/is not a valid url component/);

    const notJson = await call('POST', '/connections', { token: ADMIN, body: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(problemText(notJson)).toMatch(/JSON/);
    const xml = await call('POST', '/connections', { token: ADMIN, body: '<name>x</name>', headers: { 'content-type': 'application/xml' } });
    expect(xml.statusCode).toBe(415);
    problemText(xml);
    const text = await call('POST', '/connections', { token: ADMIN, body: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect(problemText(text)).toMatch(/^body is not valid\nbody: Invalid input: expected object, received string/);

    const big = JSON.stringify({ name: 'big', source: 'salesforce', target: 'hubspot', credentials: { salesforce: { padding: 'x'.repeat(DEFAULT_BODY_LIMIT) } } });
    const tooLarge = await call('POST', '/connections', { token: ADMIN, body: big, headers: { 'content-type': 'application/json' } });
    expect(tooLarge.statusCode).toBe(413);
    expect(problemText(tooLarge)).toBe(`the request body is larger than this route takes (${DEFAULT_BODY_LIMIT} bytes)`);
    expect(await db.store.connections.getByName('big')).toBeNull();
    // Unauthenticated callers are refused before their body is read.
    expect((await call('POST', '/connections', { body: big, headers: { 'content-type': 'application/json' } })).statusCode).toBe(401);

    // Webhooks take larger batches: past the default limit their signature is what refuses them.
    const batch = JSON.stringify([{ subscriptionType: 'company.propertyChange', objectId: 1, occurredAt: Date.now(), propertyValue: 'x'.repeat(DEFAULT_BODY_LIMIT) }]);
    const hook = await call('POST', '/webhooks/hubspot/nope', { body: batch, headers: { 'content-type': 'application/json' } });
    expect(hook.statusCode).toBe(404);
    expect(problemText(hook)).toBe('no connection "nope" with hubspot');
    const flood = await call('POST', '/webhooks/hubspot/nope', { body: 'x'.repeat(WEBHOOK_BODY_LIMIT + 1), headers: { 'content-type': 'application/json' } });
    expect(flood.statusCode).toBe(413);
    problemText(flood);
  });
});
