import { ScheduleNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiAuth, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import type { Connection } from '../../src/store/index.js';
import { connectionWorkflowId, scheduleId, type RunSummary } from '../../workflows/sync-types.js';
import { CRM_HUB, crmCredentials, startTestTemporal, TestHub } from '../support/hub.js';
import { hubView } from '../support/hub-view.js';
import { eventually } from '../support/temporal.js';
import { problemText } from './problem.js';

const ADMIN = 'admin-token-0123456789abcdef';
const REVOPS = 'revops-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';

describe('operator API on the real Temporal server, store and sandboxes', () => {
  let env: TestWorkflowEnvironment;
  let hub: TestHub;
  let app: FastifyInstance;
  let connection: Connection;
  const name = 'sf-to-hs';

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    hub = await TestHub.start(env, bundle, { sf: { accounts: 3, contactsPerAccount: 1, opportunitiesPerAccount: 1 } });
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [operatorRoutes({
        store: hub.store,
        client: env.client,
        taskQueue: hub.taskQueue,
        auth: new ApiAuth(parseApiTokens(`root:admin:${ADMIN},rita:revops:${REVOPS},vic:viewer:${VIEWER}`)),
      })],
    });
  });
  afterAll(async () => {
    await app?.close();
    await hub?.close();
    await env?.teardown();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token = REVOPS) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
  const create = (overrides: Record<string, unknown> = {}) =>
    call('POST', '/connections', { name, source: 'salesforce', target: 'hubspot', deletePolicy: 'propagate', scheduleSeconds: 300, credentials: crmCredentials(hub.sf, hub.hs), ...overrides });

  it('rejects a connection with 400 and a message naming what is wrong', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ source: 'zoho' }, /unknown source system "zoho" \(known: salesforce, hubspot, netsuite\)/],
      [{ objects: [{ sourceMapping: 'mappings/nope.yaml', targetMapping: 'mappings/hubspot-company.yaml' }] }, /mapping file mappings\/nope\.yaml does not exist/],
      [{ objects: [{ sourceMapping: 'mappings/hubspot-company.yaml', targetMapping: 'mappings/hubspot-company.yaml' }] }, /mapping file mappings\/hubspot-company\.yaml maps hubspot, not salesforce \(system "salesforce" of this connection\)/],
      [{ objects: [{ sourceMapping: 'mappings/salesforce-account.yaml', targetMapping: 'mappings/hubspot-contact.yaml' }] }, /mapping file mappings\/hubspot-contact\.yaml maps Contact, not Account/],
      [{ credentials: { salesforce: {} } }, /body\.credentials\.hubspot: the credentials for hubspot are missing/],
      [{ name: 'has spaces' }, /body\.name: letters, digits/],
      [{ scheduleSeconds: 1 }, /body\.scheduleSeconds: at least 10 seconds/],
      [{ conflictPolicy: 'coin-toss' }, /"coin-toss" is not one of last-writer-wins, lww, manual, salesforce, hubspot/],
      [{ colour: 'blue' }, /body: Unrecognized key: "colour"/],
    ];
    for (const [overrides, message] of cases) {
      const res = await create(overrides);
      expect(res.statusCode, JSON.stringify(overrides)).toBe(400);
      expect(problemText(res)).toMatch(message);
    }
    expect(await hub.store.connections.list()).toEqual([]);
  });

  it('creates a connection with the shipped mappings and its Temporal schedule; credentials never come back', async () => {
    const res = await create();
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ schedule: 'created', connection: { name, ...CRM_HUB, scheduleSeconds: 300, hasCredentials: true } });
    expect(res.body).not.toContain(hub.hs.accessToken);
    connection = (await hub.store.connections.getByName(name))!;
    const schedule = await env.client.schedule.getHandle(scheduleId(connection.id)).describe();
    expect(schedule.spec.intervals?.[0]?.every).toBe(300_000);

    const read = await call('GET', `/connections/${name}`, undefined, VIEWER);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ name, hasCredentials: true });
    expect(read.body).not.toContain(hub.hs.accessToken);
    expect((await create()).statusCode).toBe(409);
  });

  it('creates a hub of named systems with the shipped mappings of each, and refuses one that cannot work', async () => {
    const portal = crmCredentials(hub.sf, hub.hs).hubspot;
    const body = {
      name: 'three-systems', scheduleSeconds: null,
      systems: [{ system: 'salesforce' }, { name: 'hubspot-us', system: 'hubspot' }, { name: 'hubspot-eu', system: 'hubspot', role: 'target' }],
      credentials: { salesforce: crmCredentials(hub.sf, hub.hs).salesforce, 'hubspot-us': portal, 'hubspot-eu': portal },
    };
    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [{ systems: [{ system: 'salesforce' }, { system: 'salesforce' }] }, /two systems are named "salesforce"; name them apart/],
      [{ systems: [{ system: 'salesforce', role: 'target' }, { system: 'hubspot', role: 'target' }], credentials: crmCredentials(hub.sf, hub.hs) }, /no system is read/],
      [{ credentials: { salesforce: {}, 'hubspot-us': portal } }, /body\.credentials\.hubspot-eu: the credentials for hubspot-eu are missing/],
      [{ entities: [{ members: [{ system: 'salesforce', mapping: 'mappings/salesforce-account.yaml' }, { system: 'netsuite', mapping: 'mappings/hubspot-company.yaml' }] }] }, /system "netsuite" is not one of the connection's \(salesforce, hubspot-us, hubspot-eu\)/],
      [{ systems: [{ name: 'Has Caps', system: 'hubspot' }, { system: 'salesforce' }] }, /body\.systems\.0\.name: lower-case letters/],
    ];
    for (const [overrides, message] of refusals) {
      const res = await call('POST', '/connections', { ...body, ...overrides });
      expect(res.statusCode, JSON.stringify(overrides)).toBe(400);
      expect(problemText(res)).toMatch(message);
    }
    expect(await hub.store.connections.getByName('three-systems')).toBeNull();

    const res = await call('POST', '/connections', body);
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json().connection as Connection;
    expect(created.systems).toEqual([
      { name: 'salesforce', system: 'salesforce', role: 'both', instance: null },
      { name: 'hubspot-us', system: 'hubspot', role: 'both', instance: null },
      { name: 'hubspot-eu', system: 'hubspot', role: 'target', instance: null },
    ]);
    expect(created.entities.map((e) => [e.entity, e.members.map((m) => `${m.system}:${m.object}`)])).toEqual([
      ['Account', ['salesforce:Account', 'hubspot-us:companies', 'hubspot-eu:companies']],
      ['Contact', ['salesforce:Contact', 'hubspot-us:contacts', 'hubspot-eu:contacts']],
      ['Opportunity', ['salesforce:Opportunity', 'hubspot-us:deals', 'hubspot-eu:deals']],
    ]);
    expect((await call('DELETE', '/connections/three-systems', undefined, ADMIN)).statusCode).toBe(200);
  });

  it('checks both systems with the stored credentials', async () => {
    const res = await call('POST', `/connections/${name}/check`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ connection: name, ok: true, systems: { salesforce: { ok: true }, hubspot: { ok: true } } });
  });

  it('runs a sync and answers with its summary when asked to wait; the records land in HubSpot', async () => {
    const res = await call('POST', `/connections/${name}/sync`, { wait: true });
    expect(res.statusCode).toBe(200);
    const summary = res.json() as RunSummary;
    expect(summary.status, summary.error).toBe('succeeded');
    expect(summary.counters).toMatchObject({ created: 9, failed: 0 });
    expect(hub.hs.state.count('companies')).toBe(3);
    expect(hub.hs.state.count('contacts')).toBe(3);
    expect(hub.hs.state.count('deals')).toBe(3);

    const status = await call('GET', `/connections/${name}/status`, undefined, VIEWER);
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({ connection: name, workflow: { phase: 'idle', cycles: 1, lastRun: { runId: summary.runId } }, runs: [{ id: summary.runId, status: 'succeeded' }] });
    const runs = await call('GET', `/runs?connection=${name}`, undefined, VIEWER);
    expect(runs.json().runs.map((r: { id: string }) => r.id)).toEqual([summary.runId]);
  });

  it('accepts a sync without waiting (202) and the workflow serves it', async () => {
    const res = await call('POST', `/connections/${name}/sync`, { full: true });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: true, requestId: expect.any(String) });
    const served = await eventually(async () => {
      const status = (await call('GET', `/connections/${name}/status`)).json();
      return status.workflow?.lastRun?.requestIds.includes(res.json().requestId) ? status : undefined;
    }, 30_000, 'the requested cycle');
    expect(served.workflow.lastRun).toMatchObject({ mode: 'full', status: 'succeeded' });
  });

  it('lists a dead letter and replays it after the record is fixed', async () => {
    const account = hub.sf.state.insert('Account', { Name: 'Bad Email Ltd' });
    const contact = hub.sf.state.insert('Contact', { LastName: 'Typo', Email: 'typo-at-example.com', AccountId: account.Id });
    const run = (await call('POST', `/connections/${name}/sync`, { wait: true })).json() as RunSummary;
    expect(run.counters.failed).toBe(1);

    const listed = await call('GET', `/deadletters?connection=${name}&status=open`, undefined, VIEWER);
    expect(listed.statusCode).toBe(200);
    const letters = listed.json().deadLetters as Array<{ id: string; system: string; object: string; externalId: string; reason: string }>;
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ system: 'salesforce', object: 'Contact', externalId: contact.Id });
    expect(letters[0].reason).toMatch(/email/i);

    const missing = await call('POST', `/connections/${name}/deadletters/replay`, { ids: ['00000000-0000-4000-8000-000000000000'] });
    expect(missing.statusCode).toBe(404);

    hub.sf.state.update('Contact', contact.Id as string, { Email: 'typo@example.com' });
    const replay = await call('POST', `/connections/${name}/deadletters/replay`, { ids: [letters[0].id] });
    expect(replay.statusCode, replay.body).toBe(200);
    expect(replay.json()).toEqual({ replayed: 1, stillFailing: 0, gone: 0 });
    expect((await hub.store.deadLetters.get(letters[0].id))?.status).toBe('replayed');
    expect(hub.hs.state.count('contacts')).toBe(4);
  });

  it('discards an open dead letter once', async () => {
    const letter = await hub.store.deadLetters.add({ connectionId: connection.id, direction: 'write', system: 'hubspot', object: 'companies', externalId: 'x-1', payload: {}, reason: 'rejected' });
    const res = await call('POST', `/deadletters/${letter.id}/discard`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: letter.id, status: 'discarded' });
    expect((await call('POST', `/deadletters/${letter.id}/discard`)).statusCode).toBe(409);
    expect(problemText(await call('POST', '/deadletters/not-a-uuid/discard'))).toMatch(/params\.id: a dead letter id/);
  });

  it('records a conflict resolution with the caller as resolvedBy, and writes the value to both systems', async () => {
    const view = hubView(hub.store, connection.id);
    const link = (await view.link('hubspot', 'companies', hub.hs.state.live('companies')[0].id))!;
    const [sfLink] = await view.links('Account', link.canonicalId, 'salesforce');
    const [conflict] = await hub.store.conflicts.openMany([{
      connectionId: connection.id, entity: 'Account', canonicalId: link.canonicalId, field: 'phone', baseValue: '+1 555 0100',
      sides: { salesforce: { value: '+1 555 0101', modifiedAt: null }, hubspot: { value: '+1 555 0202', modifiedAt: null } },
    }]);

    const listed = await call('GET', `/conflicts?connection=${name}&status=open`, undefined, VIEWER);
    expect(listed.json().conflicts.map((c: { id: string }) => c.id)).toEqual([conflict.id]);
    const wrongSide = await call('POST', `/conflicts/${conflict.id}/resolve`, { use: 'netsuite' });
    expect(wrongSide.statusCode).toBe(400);
    expect(problemText(wrongSide)).toMatch(/has no side "netsuite" \(sides: hubspot, salesforce\)/);
    expect(problemText(await call('POST', `/conflicts/${conflict.id}/resolve`, { use: 'hubspot', value: 1 }))).toMatch(/give either/);

    const res = await call('POST', `/conflicts/${conflict.id}/resolve`, { use: 'hubspot' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ applied: true, result: { written: ['salesforce', 'hubspot'] } });
    expect(hub.sf.state.get('Account', sfLink.externalId)?.Phone).toBe('+1 555 0202');
    expect(await hub.store.conflicts.get(conflict.id)).toMatchObject({ status: 'resolved', resolution: { kind: 'side', system: 'hubspot' }, resolvedValue: '+1 555 0202', resolvedBy: 'rita' });
    expect((await call('POST', `/conflicts/${conflict.id}/resolve`, { value: 'Other' })).statusCode).toBe(409);
  });

  it('deletes a connection (admin only): its schedule and workflow end with it', async () => {
    expect((await call('DELETE', `/connections/${name}`)).statusCode).toBe(403);
    const res = await call('DELETE', `/connections/${name}`, undefined, ADMIN);
    expect(res.statusCode).toBe(200);
    await expect(env.client.schedule.getHandle(scheduleId(connection.id)).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const described = await env.client.workflow.getHandle(connectionWorkflowId(connection.id)).describe();
    expect(described.status.name).toBe('TERMINATED');
    expect((await call('GET', `/connections/${name}`)).statusCode).toBe(404);
  });

  it('keeps an audit log of what succeeded, by whom: admins and viewers read it, with filters', async () => {
    expect((await call('GET', '/audit')).statusCode).toBe(403);
    const all = await call('GET', `/audit?connection=${name}`, undefined, VIEWER);
    expect(all.statusCode, all.body).toBe(200);
    const entries = all.json().entries as Array<{ actor: string; role: string; action: string; subject: string; detail: Record<string, unknown> }>;
    // Newest first; refused attempts (400, 403, 404, 409) left nothing.
    expect(entries.map((e) => `${e.actor}/${e.role} ${e.action}`)).toEqual([
      'root/admin connection.delete',
      'rita/revops conflict.resolve',
      'rita/revops deadletter.discard',
      'rita/revops deadletters.replay',
      'rita/revops connection.create',
    ]);
    expect(entries[1].detail).toMatchObject({ entity: 'Account', field: 'phone', use: 'hubspot' });
    expect(entries[3].detail).toMatchObject({ replayed: 1, stillFailing: 0, gone: 0 });
    const byRoot = await call('GET', `/audit?actor=root&action=connection.delete&limit=5`, undefined, ADMIN);
    expect(byRoot.json().entries.map((e: { subject: string }) => e.subject)).toContain(name);
    const bad = await call('GET', `/audit?action=drop.table&since=yesterday`, undefined, ADMIN);
    expect(bad.statusCode).toBe(400);
    expect(problemText(bad)).toMatch(/query\.action.*query\.since|query\.since.*query\.action/s);
  });
});
