import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiAuth, loadApiTokens, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { crmCredentials, startTestTemporal, TestHub } from '../support/hub.js';
import { freePort, runCli } from '../support/process.js';

const VIEWER = 'viewer-token-0123456789abcdef';

describe('ecosync connections|sync|deadletters|conflicts against a running hub\'s API', () => {
  let env: TestWorkflowEnvironment;
  let hub: TestHub;
  let app: FastifyInstance;
  let cliEnv: Record<string, string>;
  let apiUrl: string;
  let credentialsFile: string;

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    hub = await TestHub.start(env, bundle, { sf: { accounts: 2, contactsPerAccount: 1, opportunitiesPerAccount: 1 } });
    // The hub's data folder holds its generated local admin token; the CLI finds it there.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-cli-'));
    const local = loadApiTokens({ dataDir, host: '127.0.0.1', env: {} });
    const tokens = [...local.tokens, ...parseApiTokens(`vic:viewer:${VIEWER}`)];
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [operatorRoutes({ store: hub.store, client: env.client, taskQueue: hub.taskQueue, auth: new ApiAuth(tokens) })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    apiUrl = `http://127.0.0.1:${port}`;
    cliEnv = { ECOSYNC_DATA_DIR: dataDir, ECOSYNC_API_PORT: String(port), ECOSYNC_API_TOKEN: '' };
    credentialsFile = path.join(dataDir, 'credentials.json');
    writeFileSync(credentialsFile, JSON.stringify(crmCredentials(hub.sf, hub.hs)));
  });
  afterAll(async () => {
    await app?.close();
    await hub?.close();
    await env?.teardown();
  });

  it('says the hub is not running, and where it looked, when nothing answers', async () => {
    const port = await freePort();
    const { code, output } = await runCli(['connections', 'list'], { ...cliEnv, ECOSYNC_API_PORT: String(port) });
    expect(output).toContain(`is \`ecosync up\` running? API at http://127.0.0.1:${port}`);
    expect(code).toBe(1);
  });

  it('adds a connection with the default mappings and lists it', async () => {
    const add = await runCli(['connections', 'add', 'demo', '--source', 'salesforce', '--target', 'hubspot', '--credentials', credentialsFile, '--schedule', '0', '--delete-policy', 'propagate'], cliEnv);
    expect(add.output).toContain('connection demo created: salesforce ⇄ hubspot, Account, Contact, Opportunity; syncs on demand');
    expect(add.code).toBe(0);

    const list = await runCli(['connections', 'list', '--json', '--api', apiUrl], cliEnv);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.output) as Array<{ name: string; scheduleSeconds: number | null; deletePolicy: string }>;
    expect(listed).toEqual([expect.objectContaining({ name: 'demo', scheduleSeconds: null, deletePolicy: 'propagate' })]);
  });

  it('adds a hub of named systems with --system, refuses a malformed one, and lists both connections', async () => {
    const hubCredentials = path.join(path.dirname(credentialsFile), 'hub-credentials.json');
    const { salesforce, hubspot } = crmCredentials(hub.sf, hub.hs);
    writeFileSync(hubCredentials, JSON.stringify({ salesforce, 'hubspot-eu': hubspot }));
    const bad = await runCli(['connections', 'add', 'eu', '--system', 'salesforce', '--system', 'Hubspot EU', '--credentials', hubCredentials], cliEnv);
    expect(bad.output).toContain('--system Hubspot EU: write [name=]kind[:role]');
    expect(bad.code).toBe(2);

    const add = await runCli(['connections', 'add', 'eu', '--system', 'salesforce:source', '--system', 'hubspot-eu=hubspot:target', '--credentials', hubCredentials, '--schedule', '0'], cliEnv);
    expect(add.output).toContain('connection eu created: salesforce → hubspot-eu, Account, Contact, Opportunity; syncs on demand');
    expect(add.code).toBe(0);
    const list = await runCli(['connections', 'list'], cliEnv);
    expect(list.output).toMatch(/demo\s+salesforce ⇄ hubspot\s+Account,Contact,Opportunity/);
    expect(list.output).toMatch(/eu\s+salesforce → hubspot-eu\s+Account,Contact,Opportunity/);
    expect((await runCli(['connections', 'remove', 'eu'], cliEnv)).code).toBe(0);
  });

  it('runs a sync and waits for it, printing the summary; status shows the run', async () => {
    const run = await runCli(['sync', 'run', 'demo', '--wait'], cliEnv);
    expect(run.output).toMatch(/sync of demo succeeded in \d+\.\d s: read \d+, created 6, .*failed 0, conflicts 0/);
    expect(run.code).toBe(0);
    expect(hub.hs.state.count('companies')).toBe(2);

    const status = await runCli(['sync', 'status', 'demo', '--json'], cliEnv);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.output)).toMatchObject({ connection: 'demo', workflow: { phase: 'idle', cycles: 1 }, runs: [{ status: 'succeeded', counters: { created: 6 } }] });
  });

  it('checks the connection, and lists empty dead letters and conflicts', async () => {
    const check = await runCli(['connections', 'check', 'demo'], cliEnv);
    expect(check.output).toMatch(/✓ salesforce: .*\n✓ hubspot: /);
    expect(check.code).toBe(0);
    const letters = await runCli(['deadletters', 'list', '--connection', 'demo'], cliEnv);
    expect(letters.output.trim()).toBe('no open dead letters');
    const conflicts = await runCli(['conflicts', 'list', '--json'], cliEnv);
    expect(JSON.parse(conflicts.output)).toEqual([]);
  });

  it('refuses a viewer\'s sync (403, exit 1) and a conflict resolution that names neither side nor value (usage, exit 2)', async () => {
    const denied = await runCli(['sync', 'run', 'demo', '--token', VIEWER], cliEnv);
    expect(denied.output).toContain('ecosync: the role viewer (vic) may not do this: it needs admin or revops');
    expect(denied.code).toBe(1);
    const usage = await runCli(['conflicts', 'resolve', '00000000-0000-4000-8000-000000000000'], cliEnv);
    expect(usage.output).toContain('give either --use <system> or --value <json>');
    expect(usage.code).toBe(2);
  });
});
