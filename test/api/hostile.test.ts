import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hubspot from '../../connectors/hubspot/webhooks.js';
import * as salesforce from '../../connectors/salesforce/webhooks.js';
import { ApiAuth, parseApiTokens, ROLES, type Role } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi, DEFAULT_BODY_LIMIT } from '../../src/api/server.js';
import { WEBHOOK_BODY_LIMIT, webhooksPlugin } from '../../src/api/webhooks/index.js';
import type { Connection } from '../../src/store/index.js';
import { connectionWorkflowId } from '../../workflows/sync-types.js';
import { CRM_HUB } from '../support/hub.js';
import { startTestTemporal } from '../support/temporal.js';
import { openTestStore, storeKinds, type TestStore } from '../store/stores.js';

/**
 * Hostile input against the running API (real Temporal dev server, real store): each attempt is
 * answered with a clear 4xx problem, nothing is started in Temporal or stored, and no token or
 * secret reaches the log.
 */
const TOKENS: Record<Role, string> = {
  admin: 'hostile-admin-token-0123456789',
  revops: 'hostile-revops-token-0123456789',
  alliance: 'hostile-alliance-token-0123456789',
  viewer: 'hostile-viewer-token-0123456789',
};
const NAMES: Record<Role, string> = { admin: 'root', revops: 'rita@example.com', alliance: 'alex@example.com', viewer: 'vic@example.com' };
const HS_SECRET = 'hs-client-secret-DO-NOT-LOG-1f2e3d';
const SF_SECRET = 'sf-webhook-secret-DO-NOT-LOG-9a8b7c';
const HS_ACCESS = 'hs-access-token-DO-NOT-LOG-5d6e7f';
const SECRETS = [...Object.values(TOKENS), HS_SECRET, SF_SECRET, HS_ACCESS];

/** SQL metacharacters, quotes, comments, control characters and terminal escapes in one string. */
const HOSTILE = `x'; DROP TABLE connections; -- " \\ %_ ; SELECT pg_sleep(10); /* */ \u0007\u001b[31m\r\n\t\u202e`;
const TRAVERSALS = ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '/etc/passwd', 'mappings/../../../etc/passwd', '....//....//etc/passwd', 'mappings/%2e%2e/%2e%2e/etc/passwd'];

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTestTemporal();
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

describe.each(storeKinds)('hostile input on the API (%s)', (kind) => {
  let db: TestStore;
  let app: FastifyInstance;
  let acme: Connection;
  let quiet: Connection;
  const lines: string[] = [];

  beforeAll(async () => {
    db = await openTestStore(kind);
    const credentials = { salesforce: { webhookSecret: SF_SECRET }, hubspot: { clientSecret: HS_SECRET, accessToken: HS_ACCESS } };
    acme = await db.store.connections.create({ name: 'acme', ...CRM_HUB, credentials });
    // Disabled: an accepted webhook signals nothing, so replays can be tried without starting a workflow.
    quiet = await db.store.connections.create({ name: 'quiet', ...CRM_HUB, enabled: false, credentials });
    const log = pino({ level: 'trace' }, { write: (line: string) => { lines.push(line); } });
    const taskQueue = `hostile-${kind}`;
    app = await buildApi({
      log,
      health: async () => ({}),
      plugins: [
        operatorRoutes({
          store: db.store, client: env.client, taskQueue,
          auth: new ApiAuth(parseApiTokens(ROLES.map((r) => `${NAMES[r]}:${r}:${TOKENS[r]}`).join(','))),
        }),
        webhooksPlugin({ store: db.store, sync: { client: env.client, taskQueue }, publicBaseUrl: 'http://localhost' }),
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const call = (method: string, url: string, options: { token?: string; body?: unknown; raw?: string; contentType?: string } = {}) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.raw !== undefined || options.body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
      },
      ...(options.raw !== undefined ? { payload: options.raw } : options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
    });

  /** A clear 4xx: a problem document whose detail says what is wrong. */
  function expectProblem(res: LightMyRequestResponse, status: number | number[], what: string, detail?: RegExp): string {
    expect([status].flat(), `${what}: ${res.statusCode} ${res.body}`).toContain(res.statusCode);
    expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
    const problem = res.json() as { status: number; detail: string; errors?: unknown[] };
    expect(problem.status, what).toBe(res.statusCode);
    expect(problem.detail.length, what).toBeGreaterThan(0);
    // The detail, or the field errors it points at, say which field and why.
    if (detail) expect(`${problem.detail} ${JSON.stringify(problem.errors ?? [])}`, what).toMatch(detail);
    return problem.detail;
  }

  const hubspotPost = (connection: string, body: string, options: { now?: number; secret?: string; headers?: Record<string, string> } = {}) => {
    const path = `/webhooks/hubspot/${connection}`;
    const headers = options.headers ?? hubspot.signedHeaders({ clientSecret: options.secret ?? HS_SECRET, method: 'POST', uri: `http://localhost${path}`, body, now: options.now ?? Date.now() });
    return { headers, send: () => app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', ...headers }, payload: body }) };
  };
  const salesforcePost = (connection: string, body: string, options: { now?: number; secret?: string; header?: string } = {}) => {
    const header = options.header ?? salesforce.signatureHeader(options.secret ?? SF_SECRET, body, options.now ?? Date.now());
    return { header, send: () => app.inject({ method: 'POST', url: `/webhooks/salesforce/${connection}`, headers: { 'content-type': 'application/json', [salesforce.SIGNATURE_HEADER]: header }, payload: body }) };
  };
  const hsBatch = JSON.stringify([{ subscriptionType: 'company.creation', objectId: 1, occurredAt: Date.now() }]);
  const sfBatch = JSON.stringify({ events: [{ sobject: 'Account', id: '001000000000001AAA', changeType: 'UPDATE', commitTimestamp: Date.now() }] });

  it('refuses bad, expired, replayed and unsigned webhooks, and bodies that are oversized, truncated or not JSON', async () => {
    const old = Date.now() - 10 * 60 * 1000;
    expectProblem(await hubspotPost('acme', hsBatch, { secret: 'guessed-secret' }).send(), 401, 'hubspot bad signature');
    expectProblem(await hubspotPost('acme', hsBatch, { now: old }).send(), 401, 'hubspot expired');
    expectProblem(await hubspotPost('acme', hsBatch, { now: Date.now() + 10 * 60 * 1000 }).send(), 401, 'hubspot from the future');
    expectProblem(await hubspotPost('acme', hsBatch, { headers: {} }).send(), 401, 'hubspot unsigned');
    expectProblem(await salesforcePost('acme', sfBatch, { secret: 'guessed-secret' }).send(), 401, 'salesforce bad signature');
    expectProblem(await salesforcePost('acme', sfBatch, { now: old }).send(), 401, 'salesforce expired');
    expectProblem(await salesforcePost('acme', sfBatch, { header: 't=abc,v1=zz' }).send(), 401, 'salesforce malformed header');
    // A signature taken from one body does not cover another.
    const signed = hubspotPost('acme', hsBatch);
    expectProblem(await hubspotPost('acme', hsBatch.replace('company', 'deal'), { headers: signed.headers }).send(), 401, 'hubspot tampered body');

    // Well signed, but not an event batch.
    for (const body of [hsBatch.slice(0, -5), 'not json at all', '{"a":1}', '[]', '\u0000\u0001']) {
      expectProblem(await hubspotPost('acme', body).send(), 400, `hubspot body ${JSON.stringify(body)}`);
      expectProblem(await salesforcePost('acme', body).send(), 400, `salesforce body ${JSON.stringify(body)}`);
    }
    const huge = JSON.stringify([{ subscriptionType: 'company.creation', objectId: 1, padding: 'x'.repeat(WEBHOOK_BODY_LIMIT) }]);
    expectProblem(await hubspotPost('acme', huge).send(), 413, 'hubspot oversized', /larger than this route takes/);
    expectProblem(await salesforcePost('acme', huge).send(), 413, 'salesforce oversized');
    for (const name of TRAVERSALS) {
      expectProblem(await hubspotPost(encodeURIComponent(name), hsBatch).send(), [400, 404], `hubspot connection ${name}`);
    }

    // Replays: the first delivery is accepted (a disabled connection: nothing to signal), the same signed request again is not.
    const hs = hubspotPost('quiet', hsBatch);
    expect((await hs.send()).statusCode).toBe(204);
    expectProblem(await hs.send(), 409, 'hubspot replay', /already accepted/);
    const sf = salesforcePost('quiet', sfBatch);
    expect((await sf.send()).statusCode).toBe(204);
    expectProblem(await sf.send(), 409, 'salesforce replay', /already accepted/);
  });

  it('refuses operator requests that are oversized, truncated, not JSON, carry unknown fields or NUL characters', async () => {
    const token = TOKENS.admin;
    const valid = { name: 'hostile-body', source: 'salesforce', target: 'hubspot', credentials: { salesforce: {}, hubspot: {} } };
    expectProblem(await call('POST', '/connections', { token, raw: JSON.stringify(valid).slice(0, -3) }), 400, 'truncated JSON');
    expectProblem(await call('POST', '/connections', { token, raw: 'name=x&source=y' }), 400, 'form body as JSON');
    expectProblem(await call('POST', '/connections', { token, raw: 'name=x', contentType: 'text/plain' }), [400, 415], 'text/plain');
    expectProblem(await call('POST', '/connections', { token, raw: '{"__proto__": {"admin": true}, "name": "x"}' }), 400, 'prototype pollution');
    expectProblem(await call('POST', '/connections', { token, body: { ...valid, padding: 'x'.repeat(DEFAULT_BODY_LIMIT) } }), 413, 'oversized', /larger than this route takes \(65536 bytes\)/);
    expectProblem(await call('POST', '/connections', { token, body: { ...valid, isAdmin: true } }), 400, 'unknown field', /isAdmin|Unrecognized key/);
    expectProblem(await call('POST', '/connections', { token, body: { ...valid, credentials: { salesforce: { key: 'a\u0000b' }, hubspot: {} } } }), 400, 'NUL', /body\.credentials\.salesforce\.key.*contains a NUL character/);
    expectProblem(await call('GET', '/deadletters?system=a%00b', { token }), 400, 'NUL in a query', /query\.system/);
    expectProblem(await call('POST', '/cosells/x/approve', { token, body: { comment: 'ok', extra: 1 } }), 400, 'unknown decision field');
    expectProblem(await call('GET', `/conflicts?limit=${'9'.repeat(400)}`, { token }), 400, 'huge number');
  });

  it('refuses path traversal in connection names and mapping file paths without reading the file', async () => {
    const token = TOKENS.admin;
    for (const name of TRAVERSALS) {
      expectProblem(await call('POST', '/connections', { token, body: { name, source: 'salesforce', target: 'hubspot', credentials: { salesforce: {}, hubspot: {} } } }), 400, `name ${name}`, /body\.name/);
      expectProblem(await call('GET', `/connections/${encodeURIComponent(name)}`, { token }), [400, 404], `GET ${name}`);
      expectProblem(await call('DELETE', `/connections/${encodeURIComponent(name)}`, { token }), [400, 404], `DELETE ${name}`);
      for (const objects of [
        [{ sourceMapping: name, targetMapping: 'mappings/hubspot-company.yaml' }],
        [{ sourceMapping: 'mappings/salesforce-account.yaml', targetMapping: name }],
      ]) {
        const detail = expectProblem(await call('POST', '/connections', { token, body: { name: 'trav', source: 'salesforce', target: 'hubspot', objects, credentials: { salesforce: {}, hubspot: {} } } }), 400, `mapping ${name}`, /is not a \.yaml file inside the hub's folder/);
        // Nothing of the file comes back.
        expect(detail).not.toMatch(/root:|nologin|\/bin\//);
      }
    }
    expect(await db.store.connections.getByName('trav')).toBeNull();
  });

  it('keeps SQL metacharacters and control characters as data: refused or stored verbatim, never executed', async () => {
    const token = TOKENS.admin;
    const base = { name: 'hostile-text', source: 'salesforce', target: 'hubspot', credentials: { salesforce: {}, hubspot: {} } };
    const refused: Array<[string, Record<string, unknown>]> = [
      ['name', { name: HOSTILE }],
      ['source', { source: HOSTILE }],
      ['target', { target: HOSTILE }],
      ['conflictPolicy', { conflictPolicy: HOSTILE }],
      ['deletePolicy', { deletePolicy: HOSTILE }],
      ['objects', { objects: [{ sourceMapping: HOSTILE, targetMapping: HOSTILE, entity: HOSTILE }] }],
      ['credentials key', { credentials: { salesforce: {}, hubspot: {}, [HOSTILE]: {} } }],
      ['systems', { source: undefined, target: undefined, systems: [{ name: HOSTILE, system: 'salesforce' }, { system: HOSTILE }] }],
      ['entities', { source: undefined, target: undefined, systems: [{ system: 'salesforce' }, { system: 'hubspot' }], entities: [{ entity: HOSTILE, members: [{ system: HOSTILE, mapping: HOSTILE, object: HOSTILE }] }] }],
    ];
    for (const [field, overrides] of refused) {
      expectProblem(await call('POST', '/connections', { token, body: { ...base, ...overrides } }), [400, 404], `connection ${field}`);
    }
    // Stored verbatim: credential values are the user's own data.
    const created = await call('POST', '/connections', { token, body: { ...base, credentials: { salesforce: { instanceUrl: HOSTILE, [`k${HOSTILE}`]: HOSTILE }, hubspot: { accessToken: HOSTILE } } } });
    expect(created.statusCode, created.body).toBe(201);
    const stored = (await db.store.connections.getByName('hostile-text'))!;
    expect(await db.store.connections.getCredentials(stored.id)).toEqual({ salesforce: { instanceUrl: HOSTILE, [`k${HOSTILE}`]: HOSTILE }, hubspot: { accessToken: HOSTILE } });

    // Co-sells and private offers: every text field, every decision.
    const people = [TOKENS.admin, TOKENS.alliance];
    for (const t of people) {
      for (const body of [
        { opportunity: HOSTILE, cloud: 'aws' },
        { opportunity: `salesforce:${HOSTILE}`, cloud: 'aws', connection: HOSTILE },
        { opportunity: { system: HOSTILE, externalId: HOSTILE }, cloud: 'aws', connection: 'acme' },
        { opportunity: 'salesforce:006', cloud: HOSTILE },
        { opportunity: 'salesforce:006', cloud: 'aws', requestedBy: HOSTILE },
        { opportunity: 'salesforce:006', cloud: 'aws', connection: 'acme', options: { customerUseCase: HOSTILE, solutionIds: [HOSTILE] } },
      ]) {
        expectProblem(await call('POST', '/cosells', { token: t, body }), [400, 403, 404, 409], `co-sell ${JSON.stringify(body)}`);
        expectProblem(await call('POST', '/offers', { token: t, body: { ...body, pricingModel: HOSTILE } }), [400, 403, 404, 409], `offer ${JSON.stringify(body)}`);
      }
      for (const segment of ['approve', 'reject', 'request-changes', 'resubmit']) {
        for (const id of [HOSTILE, `aws:${HOSTILE}`, '../../etc/passwd']) {
          expectProblem(await call('POST', `/cosells/${encodeURIComponent(id)}/${segment}`, { token: t, body: { comment: HOSTILE, stage: HOSTILE } }), [400, 403, 404, 409], `co-sell ${segment} ${id}`);
          expectProblem(await call('POST', `/offers/${encodeURIComponent(id)}/${segment}`, { token: t, body: { comment: HOSTILE } }), [400, 403, 404, 409], `offer ${segment} ${id}`);
        }
      }
      expectProblem(await call('POST', `/offers/${encodeURIComponent(HOSTILE)}/withdraw`, { token: t, body: { reason: HOSTILE } }), [400, 403, 404, 409], 'offer withdraw');
      expectProblem(await call('GET', `/cosells?approver=${encodeURIComponent(HOSTILE)}`, { token: t }), [400], 'co-sell approver filter');
    }
    // Filters are data: a value nothing has finds nothing, a value outside a list is refused.
    expectProblem(await call('GET', `/deadletters?connection=${encodeURIComponent(HOSTILE)}`, { token }), 404, 'deadletters connection');
    expectProblem(await call('GET', `/deadletters?status=${encodeURIComponent(HOSTILE)}`, { token }), 400, 'deadletters status');
    for (const q of ['system', 'object']) {
      expect((await call('GET', `/deadletters?${q}=${encodeURIComponent(HOSTILE)}`, { token })).json()).toEqual({ deadLetters: [] });
    }
    expect((await call('GET', `/audit?actor=${encodeURIComponent(HOSTILE)}&subject=${encodeURIComponent(HOSTILE)}`, { token })).json()).toEqual({ entries: [] });

    // The tables are all there, and hold only what was meant to be stored.
    expect((await db.store.connections.list()).map((c) => c.name).sort()).toEqual(['acme', 'hostile-text', 'quiet']);
    expect(await db.store.audit.list({ action: 'cosell.submit' })).toEqual([]);
    expect(await db.store.audit.list({ action: 'offer.create' })).toEqual([]);
  });

  it('refuses every mutating route of the OpenAPI document to a token of a role it does not name (and to no token)', async () => {
    const doc = (await call('GET', '/openapi.json')).json() as { paths: Record<string, Record<string, { security?: unknown[]; description?: string }>> };
    let tried = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (!['post', 'put', 'patch', 'delete'].includes(method) || !operation.security) continue;
        const roles = /Roles: ([^.]*)\./.exec(operation.description ?? '')?.[1].split(', ') ?? [];
        expect(roles.length, `${method} ${path} names its roles`).toBeGreaterThan(0);
        const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
        expectProblem(await call(method.toUpperCase(), url, { body: {} }), 401, `${method} ${path} without a token`);
        for (const role of ROLES.filter((r) => !roles.includes(r))) {
          expectProblem(await call(method.toUpperCase(), url, { token: TOKENS[role], body: {} }), 403, `${role} ${method} ${path}`, new RegExp(`the role ${role} .* may not do this`));
          tried++;
        }
      }
    }
    // Every role but admin is refused somewhere; the count grows with the routes.
    expect(tried).toBeGreaterThan(30);
  });

  it('started nothing in Temporal and logged no token or secret', async () => {
    for (const c of [acme, quiet]) {
      await expect(env.client.workflow.getHandle(connectionWorkflowId(c.id)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
    const started: string[] = [];
    for await (const w of env.client.workflow.list()) started.push(w.workflowId);
    expect(started).toEqual([]);
    expect(await db.store.runs.list()).toEqual([]);
    const text = lines.join('');
    expect(text.length).toBeGreaterThan(0);
    for (const secret of SECRETS) expect(text, 'a secret in the log').not.toContain(secret);
  });
});
