import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiAuth, loadApiTokens, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { runCli } from '../support/process.js';

const REVOPS = 'revops-token-0123456789abcdef';

describe('ecosync audit list against a running hub\'s API', () => {
  let db: TestStore;
  let app: FastifyInstance;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    db = await openTestStore('pglite');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-audit-'));
    const local = loadApiTokens({ dataDir, host: '127.0.0.1', env: {} });
    // Reading the log needs no Temporal: a lazy connection never connects.
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [operatorRoutes({ store: db.store, client, taskQueue: 'unused', auth: new ApiAuth([...local.tokens, ...parseApiTokens(`rita:revops:${REVOPS}`)]) })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cliEnv = { ECOSYNC_DATA_DIR: dataDir, ECOSYNC_API_PORT: String((app.server.address() as { port: number }).port), ECOSYNC_API_TOKEN: '' };
    await db.store.audit.record({ actor: 'rita', role: 'revops', action: 'conflict.resolve', subject: 'c0ffee00-0000-4000-8000-000000000001', connection: 'demo', detail: { use: 'hubspot' } });
    await db.store.audit.record({ actor: 'local-admin', role: 'admin', onBehalf: 'dana@example.com', action: 'offer.approve', subject: 'offer:aws:0061', detail: { stage: 'deal-desk' } });
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('lists who did what, newest first, with filters, and as JSON', async () => {
    const all = await runCli(['audit', 'list'], cliEnv);
    expect(all.code).toBe(0);
    const rows = all.output.trim().split('\n');
    expect(rows[0]).toMatch(/^AT +WHO +ROLE +ACTION +SUBJECT +CONNECTION +DETAIL/);
    expect(rows[1]).toMatch(/local-admin for dana@example\.com +admin +offer\.approve +offer:aws:0061 +- +\{"stage":"deal-desk"\}/);
    expect(rows[2]).toMatch(/rita +revops +conflict\.resolve +c0ffee00-0000-4000-8000-000000000001 +demo +\{"use":"hubspot"\}/);

    const mine = await runCli(['audit', 'list', '--actor', 'dana@example.com', '--json'], cliEnv);
    expect(JSON.parse(mine.output)).toEqual([expect.objectContaining({ action: 'offer.approve', actor: 'local-admin', onBehalf: 'dana@example.com' })]);
    expect((await runCli(['audit', 'list', '--action', 'deadletters.replay'], cliEnv)).output.trim()).toBe('no audit entries');
  });

  it('refuses an unknown action (exit 2) and a role that may not read the log (exit 1)', async () => {
    const bad = await runCli(['audit', 'list', '--action', 'drop.table'], cliEnv);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/choose one of connection\.create/);
    const denied = await runCli(['audit', 'list', '--token', REVOPS], cliEnv);
    expect(denied.code).toBe(1);
    expect(denied.output).toMatch(/the role revops \(rita\) may not do this: it needs admin or viewer/);
  });
});
