import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection as TemporalConnection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUsageFile } from '../../src/cli/commands/usage.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { CRM_HUB } from '../support/hub.js';
import { runCli } from '../support/process.js';
import { ADMIN_TOKEN, hourAgo, startApi } from '../metering/rig.js';

/**
 * `ecosync usage send` against a running hub's API (Temporal never reached: the connection here
 * meters to no cloud): a file's problems as file:line:col with nothing sent, then the records
 * sent, and sent again counted once.
 */
let db: TestStore;
let api: FastifyInstance;
let cliEnv: Record<string, string>;
const dir = mkdtempSync(path.join(tmpdir(), 'ecosync-usage-cli-'));
const ACCOUNT = '0190f0a0-0000-7000-8000-000000000001';

beforeAll(async () => {
  db = await openTestStore('pglite');
  api = await startApi(db.store, new Client({ connection: TemporalConnection.lazy({ address: '127.0.0.1:1' }) }), 'unused');
  await api.listen({ host: '127.0.0.1', port: 0 });
  await db.store.connections.create({ name: 'usage-cli', ...CRM_HUB, credentials: { salesforce: {}, hubspot: {} } });
  cliEnv = { ECOSYNC_DATA_DIR: dir, ECOSYNC_API_PORT: String((api.server.address() as { port: number }).port), ECOSYNC_API_TOKEN: ADMIN_TOKEN };
});
afterAll(async () => {
  await api?.close();
  await db?.close();
});

const hour = hourAgo(2);
const line = (key: string, over: Record<string, unknown> = {}) => JSON.stringify({ accountId: ACCOUNT, cloud: 'aws', product: 'prod-1', dimension: 'ApiCalls', quantity: 5, hour, dedupeKey: key, ...over });

describe('reading usage files', () => {
  it('points at each problem of a JSON Lines file by line and column', () => {
    const text = [line('a'), '', line('b', { quantity: '-1' }), '{"accountId": ', line('c', { hour: '2026-12-07T10:15:00Z', colour: 'red' })].join('\n');
    const read = readUsageFile('usage.jsonl', text);
    expect(read.lines.map((l) => [l.record.dedupeKey, l.line, l.record.quantity])).toEqual([['a', 1, '5']]);
    const col = (n: number, field: string) => text.split('\n')[n - 1].indexOf(`"${field}"`) + 1;
    expect(read.problems).toEqual([
      `usage.jsonl:3:${col(3, 'quantity')}: quantity: an amount of zero or more`,
      expect.stringMatching(/^usage\.jsonl:4:\d+: not JSON: /),
      `usage.jsonl:5:${col(5, 'hour')}: hour: the start of an hour, e.g. "2025-03-01T14:00:00Z"`,
      `usage.jsonl:5:${col(5, 'colour')}: colour: Unrecognized key: "colour"`,
    ]);
  });

  it('reads CSV by its header row, an empty plan left out, and points at a bad cell', () => {
    const text = ['accountId,cloud,product,plan,dimension,quantity,hour,dedupeKey', `${ACCOUNT},aws,prod-1,,ApiCalls,12,${hour},k1`, `${ACCOUNT},gcp-ish,prod-1,,ApiCalls,3,${hour},k2`].join('\n');
    const read = readUsageFile('usage.csv', text);
    expect(read.lines).toEqual([{ record: { accountId: ACCOUNT, cloud: 'aws', product: 'prod-1', dimension: 'ApiCalls', quantity: '12', hour, dedupeKey: 'k1' }, line: 2, columns: expect.any(Object) }]);
    expect(read.problems).toEqual([`usage.csv:3:${ACCOUNT.length + 2}: cloud: Invalid option: expected one of "aws"|"azure"|"gcp"`]);
  });
});

describe('ecosync usage send', () => {
  it('sends nothing from a file with a problem, then sends a good file 1,000 records a request, and again counts each once', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, `${line('x1')}\n${line('x2', { accountId: 'acme' })}\n`);
    const refused = await runCli(['usage', 'send', 'usage-cli', bad], cliEnv);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`bad.jsonl:2:2: accountId: `);
    expect(refused.output).toContain('1 problem(s) in');

    const good = path.join(dir, 'good.jsonl');
    writeFileSync(good, Array.from({ length: 1500 }, (_, i) => line(`g${i}`)).join('\n'));
    const sent = await runCli(['usage', 'send', 'usage-cli', good], cliEnv);
    expect(sent.output).toContain(`1500 usage record(s) kept, 0 already there (counted once), from 1500 in ${good}`);
    expect(sent.code).toBe(0);
    const again = await runCli(['usage', 'send', 'usage-cli', good], cliEnv);
    expect(again.output).toContain('0 usage record(s) kept, 1500 already there');
    const [{ n }] = await db.store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_records');
    expect(n).toBe(1500);
  }, 60_000);

  it('lists open metering dead letters and says why a replay cannot run', async () => {
    const connection = (await db.store.connections.getByName('usage-cli'))!;
    await db.store.metering.ingest(connection.id, [{ accountId: ACCOUNT, cloud: 'aws', product: 'prod-1', dimension: 'DataGB', quantity: '4', hour, dedupeKey: 'lettered' }]);
    await db.store.metering.deadLetter(connection.id, [{ cloud: 'aws', accountId: ACCOUNT, product: 'prod-1', dimension: 'DataGB', hour, plan: null, errorCode: 'NoCustomer', reason: 'no agreement' }]);
    const list = await runCli(['usage', 'deadletters', '--connection', 'usage-cli'], cliEnv);
    expect(list.code).toBe(0);
    expect(list.output).toMatch(/ID\s+CLOUD\s+ACCOUNT\s+PRODUCT\s+DIMENSION\s+HOUR\s+QUANTITY\s+REASON/);
    expect(list.output).toContain('NoCustomer: no agreement');
    const replay = await runCli(['usage', 'replay', 'usage-cli', '--cloud', 'aws'], cliEnv);
    expect(replay.code).toBe(1);
    expect(replay.output).toContain('connection usage-cli has no aws marketplace credentials: it meters nothing there');
  }, 60_000);
});
