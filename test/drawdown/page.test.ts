/**
 * Commitments through the API and the burn-down page in a real browser: commitments recorded by
 * POST /commitments start their ledgers on the real Temporal server; Debian's Chromium, driven
 * by playwright-core, opens GET /drawdown, and the charts' data (Chart.getChart(canvas).data)
 * must be the ledger's: the commitment line, consumption day by day, the forecast, and partner-
 * sourced vs partner-influenced revenue. A screenshot is kept in the test's temp dir.
 */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Decimal } from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiAuth, tokenDigest } from '../../src/api/auth.js';
import { drawdownPagePlugin } from '../../src/api/routes/drawdown.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { createActivities } from '../../src/runtime/activities.js';
import { bundleWorkflows, startWorker, type RunningWorker } from '../../src/runtime/worker.js';
import type { Connection } from '../../src/store/index.js';
import { TestHub } from '../support/hub.js';
import { runCli } from '../support/process.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { commitmentsOf, enterReversals, fixtureIds, seedYear } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'alliance-token-0123456789abcdef0123';

let env: TestWorkflowEnvironment;
let hub: TestHub;
let worker: RunningWorker;
let api: FastifyInstance;
let url: string;
let connection: Connection;
let browser: Browser;
const ids = fixtureIds(3);
const { ppa, macc } = commitmentsOf(ids);
const partners = { north: '0190f0a0-0003-7000-8000-0000000000b1', south: '0190f0a0-0003-7000-8000-0000000000b2' };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the burn-down page test needs Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  env = await startTestTemporal();
  const bundle = await bundleWorkflows();
  hub = await TestHub.start(env, bundle, { store: 'pglite', worker: false });
  worker = await startWorker({
    address: env.address, namespace: 'default', taskQueue: hub.taskQueue, workflowBundle: bundle,
    activities: createActivities({ store: hub.store, client: env.client, taskQueue: hub.taskQueue, log: pino({ level: 'silent' }) }),
  });
  connection = await hub.connect();
  await seedYear(hub.store, connection.id, ids, { commitments: false });
  await seedPartners();
  api = await buildApi({
    log: pino({ level: 'silent' }),
    plugins: [
      operatorRoutes({ store: hub.store, client: env.client, taskQueue: hub.taskQueue, auth: new ApiAuth([{ name: 'alex', role: 'alliance', sha256: tokenDigest(TOKEN) }]) }),
      drawdownPagePlugin(),
    ],
    health: async () => ({}),
  });
  url = await api.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await worker?.shutdown().catch(() => undefined);
  await hub?.close();
  await env?.teardown();
});

/** Two partners: North sourced a won deal (CRM field) and influenced another (touchpoint); South influenced the first. */
async function seedPartners(): Promise<void> {
  const opp = (n: number) => `0190f0a0-0003-7000-8000-0000000000d${n}`;
  await hub.store.records.upsertMany(connection.id, [
    { entity: 'Partner', canonicalId: partners.north, data: { name: 'North Consulting' }, hash: 'p1' },
    { entity: 'Partner', canonicalId: partners.south, data: { name: 'South Systems' }, hash: 'p2' },
    { entity: 'Opportunity', canonicalId: opp(1), hash: 'o1', data: { name: 'Acme platform', stage: 'closed_won', closeDate: '2025-03-01', amount: { amount: '120000.00', currency: 'USD' }, partnerInvolvement: [{ partnerId: partners.north, role: 'sourced' }] } },
    { entity: 'Opportunity', canonicalId: opp(2), hash: 'o2', data: { name: 'Acme expansion', stage: 'closed_won', closeDate: '2025-08-01', amount: { amount: '45000.00', currency: 'USD' } } },
    { entity: 'Opportunity', canonicalId: opp(3), hash: 'o3', data: { name: 'Acme lost', stage: 'closed_lost', closeDate: '2025-09-01', amount: { amount: '99000.00', currency: 'USD' }, partnerInvolvement: [{ partnerId: partners.south, role: 'sourced' }] } },
  ]);
  await hub.store.touchpoints.add(connection.id, [
    { id: '0190f0a0-0003-7000-8000-0000000000e1', partnerId: partners.south, opportunityId: opp(1), kind: 'influenced', date: '2025-02-01' },
    { id: '0190f0a0-0003-7000-8000-0000000000e2', partnerId: partners.north, opportunityId: opp(2), kind: 'influenced', date: '2025-07-01' },
  ]);
}

const call = (method: string, path: string, body?: unknown) => fetch(url + path, {
  method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
});

describe('commitments through the API', () => {
  it('records a commitment once and starts its ledger', async () => {
    const first = await call('POST', '/commitments', { connection: connection.name, commitment: ppa });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ connection: connection.name, commitment: { id: ppa.id, program: 'ppa' } });
    expect((await call('POST', '/commitments', { connection: connection.name, commitment: ppa })).status).toBe(200);
    expect((await call('POST', '/commitments', { connection: connection.name, commitment: macc })).status).toBe(201);
    await enterReversals(hub.store, ids);
    for (const c of [ppa, macc]) expect((await call('POST', `/commitments/${c.id}/run`)).status).toBe(202);
    await eventually(async () => (await hub.store.commitments.ledger(ppa.id)).length === 17 && (await hub.store.commitments.ledger(macc.id)).length === 14, 60_000, 'both ledgers');
    const list = await (await call('GET', `/commitments?customer=${ids.account}`)).json() as { commitments: Array<{ commitment: { id: string } }> };
    expect(list.commitments.map((c) => c.commitment.id)).toEqual([ppa.id, macc.id]);
  });

  it('refuses a commitment that does not hold together, naming the field', async () => {
    const answer = await call('POST', '/commitments', { connection: connection.name, commitment: { ...ppa, id: '0190f0a0-0003-7000-8000-0000000000c9', program: 'macc' } });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ errors: [{ path: 'body.commitment.program', message: 'macc is a program of azure, not aws' }] });
    expect((await call('POST', `/commitments/${ppa.id}/documents`, { document: { kind: 'invoice', id: 'x', date: '2025-01-01', currency: 'USD', lines: [{ amount: '1' }] } })).status).toBe(400);
    expect((await fetch(`${url}/drawdown/report`)).status).toBe(401);
  });

  it('describes the routes in the OpenAPI document', async () => {
    const doc = await (await fetch(`${url}/openapi.json`)).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/commitments', '/commitments/{id}/documents', '/commitments/{id}/run', '/drawdown/report', '/drawdown']));
  });
});

describe('the burn-down page in Chromium', () => {
  it('charts what the ledger says', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const failures: string[] = [];
    page.on('pageerror', (e) => failures.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') failures.push(m.text()); });
    await page.goto(`${url}/drawdown?customer=${ids.account}&asOf=2025-10-15#token=${TOKEN}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    expect(failures).toEqual([]);
    // The token left the address bar.
    expect(page.url()).not.toContain(TOKEN);

    type ChartData = { labels: string[]; datasets: Array<{ label: string; data: Array<number | null> }> };
    // Runs in the page: what chart.js holds for each canvas.
    const charts = await page.evaluate(() => {
      const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ id: string }> }; Chart: { getChart(c: unknown): { data: ChartData } } };
      return Object.fromEntries(Array.from(g.document.querySelectorAll('canvas')).map((c) => [c.id, g.Chart.getChart(c).data]));
    }) as Record<string, ChartData>;

    // The PPA on 15 October 2025, from its ledger: each day's running total of what counted.
    const ledger = (await hub.store.commitments.ledger(ppa.id)).map((r) => r.entry).filter((e) => e.effectiveDate <= '2025-10-15');
    const running = new Map<string, number>();
    let sum = new Decimal(0);
    for (const e of [...ledger].sort((a, b) => a.effectiveDate.localeCompare(b.effectiveDate))) {
      sum = sum.plus(e.eligibleAmount);
      running.set(e.effectiveDate, sum.toNumber());
    }
    expect(sum.toFixed(2)).toBe('240000.00');
    const chart = charts[`chart-${ppa.id}`];
    const byLabel = (name: string) => Object.fromEntries(chart.labels.map((l, i) => [l, chart.datasets.find((d) => d.label === name)!.data[i]]));
    const consumed = byLabel('Consumed');
    for (const [date, total] of running) expect(consumed[date], date).toBe(total);
    expect(consumed['2025-01-01']).toBe(0);
    expect(consumed['2025-10-15']).toBe(240000);
    expect(consumed['2025-12-31']).toBeNull();
    expect(new Set(chart.datasets.find((d) => d.label === 'Commitment')!.data)).toEqual(new Set([1200000]));
    // 240,000 in 288 days: 833.33 a day; 240,000 + 77 × 833.33 = 304,166.67 by 31 December.
    const forecast = byLabel('Forecast');
    expect(forecast['2025-10-15']).toBe(240000);
    expect(forecast['2025-12-31']).toBe(304166.67);

    // The MACC: the credit note on 10 July takes 8,000 back.
    const m = charts[`chart-${macc.id}`];
    const mConsumed = Object.fromEntries(m.labels.map((l: string, i: number) => [l, m.datasets[1].data[i]]));
    expect(mConsumed['2025-07-05']).toBe(280000);
    expect(mConsumed['2025-07-10']).toBe(272000);
    expect(mConsumed['2025-10-05']).toBe(392000);

    // Sourced vs influenced: North sourced 120,000 and influenced 45,000; South influenced 120,000; the lost deal counts for nobody.
    expect(charts['partners-chart']).toEqual({
      labels: ['North Consulting (USD)', 'South Systems (USD)'],
      datasets: [expect.objectContaining({ label: 'Sourced', data: [120000, 0] }), expect.objectContaining({ label: 'Influenced', data: [45000, 120000] })],
    });

    // The ledger lines behind the chart are on the page too.
    expect(await page.locator(`section[data-commitment="${ppa.id}"] table.ledger tbody tr`).count()).toBe(17);
    const dir = mkdtempSync(path.join(tmpdir(), 'drawdown-page-'));
    const shot = path.join(dir, 'burn-down.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('asks for a token when it has none, and says when it is refused', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/drawdown`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', 'not-a-valid-token-at-all-000000');
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-ready="error"]');
    expect(await page.textContent('#error')).toBe('the API token is not valid');
    await page.close();
  });
});

describe('ecosync commitments and ecosync drawdown report', () => {
  const cli = (...args: string[]) => runCli([...args, '--api', url], { ECOSYNC_API_TOKEN: TOKEN, ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'drawdown-cli-')) });

  it('prints each commitment\'s figures as a table, CSV or JSON', async () => {
    const table = await cli('drawdown', 'report', '--customer', ids.account, '--as-of', '2025-12-31');
    expect(table.code).toBe(0);
    const lines = table.output.split('\n');
    expect(lines[0]).toBe('as of 2025-12-31');
    expect(lines[1]).toMatch(/^COMMITMENT +CUSTOMER +PROGRAM +PERIOD +CURRENCY +COMMITTED +CONSUMED +PERCENT +REMAINING +FORECAST +SHORTFALL +LEDGER LINES$/);
    expect(lines[2].split(/ +/)).toEqual(['PPA-2025', ids.account, 'ppa', '2025-01-01..2025-12-31', 'USD', '1200000.00', '240000.00', '20.00', '960000.00', '240000.00', '960000.00', '17']);
    expect(lines[3].split(/ +/)).toEqual(['MACC-2025', ids.account, 'macc', '2025-01-01..2025-12-31', 'USD', '600000.00', '472000.00', '78.67', '128000.00', '472000.00', '128000.00', '14']);
    expect(table.output).toContain('MACC-2025: the 2025-01-01 to 2025-12-31 period ended 128,000.00 USD short of its 600,000.00 USD commitment');

    const csv = await cli('drawdown', 'report', '--customer', ids.account, '--as-of', '2025-12-31', '--csv');
    expect(csv.output.trim().split('\n')).toEqual([
      'commitment,customer,program,period,currency,committed,consumed,percent,remaining,forecast,shortfall,ledger_lines',
      `PPA-2025,${ids.account},ppa,2025-01-01..2025-12-31,USD,1200000.00,240000.00,20.00,960000.00,240000.00,960000.00,17`,
      `MACC-2025,${ids.account},macc,2025-01-01..2025-12-31,USD,600000.00,472000.00,78.67,128000.00,472000.00,128000.00,14`,
    ]);
    const json = JSON.parse((await cli('drawdown', 'report', '--customer', ids.account, '--json')).output) as { commitments: Array<{ ledger: unknown[] }> };
    expect(json.commitments.map((c) => c.ledger.length)).toEqual([17, 14]);
  });

  it('creates a commitment from a file and lists it; a bad file is refused at file:line:col', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'drawdown-cli-'));
    const good = path.join(dir, 'gcp.yaml');
    writeFileSync(good, [
      'id: 0190f0a0-0003-7000-8000-0000000000c3', `accountId: ${ids.account}`, 'cloud: gcp', 'program: gcp-commit', 'externalId: GCP-1',
      'amount: "240000.00"', 'currency: USD', 'startDate: 2025-04-01', 'endDate: 2026-03-31', 'ruleSet: gcp-commit', '',
    ].join('\n'));
    const created = await cli('commitments', 'create', good, '--connection', connection.name);
    expect(created).toEqual({ code: 0, output: `commitment GCP-1 (gcp-commit, 240000.00 USD, 2025-04-01 to 2026-03-31) recorded in ${connection.name}; its ledger runs daily and whenever an agreement or invoice arrives\n` });
    const list = await cli('commitments', 'list', '--customer', ids.account);
    expect(list.output.trim().split('\n').slice(1).map((l) => l.split(/ +/)[1])).toContain('GCP-1');

    const bad = (name: string, program: string, amount: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, ['id: 0190f0a0-0003-7000-8000-0000000000c4', `accountId: ${ids.account}`, 'cloud: aws', `program: ${program}`, `amount: ${amount}`, 'currency: USD', 'startDate: 2025-04-01', 'endDate: 2026-03-31', 'ruleSet: azure-macc', ''].join('\n'));
      return file;
    };
    const mismatched = bad('mismatched.yaml', 'macc', '"10"');
    expect(await cli('commitments', 'create', mismatched, '--connection', connection.name)).toEqual({ code: 1, output: `${mismatched}:4:10: error: \`program\`: macc is a program of azure, not aws\n` });
    const number = bad('number.yaml', 'edp', '10');
    expect(await cli('commitments', 'create', number, '--connection', connection.name)).toEqual({ code: 1, output: `${number}:5:9: error: \`amount\`: Invalid input: expected string, received number\n` });
    expect((await call('GET', '/commitments')).ok).toBe(true);
    expect(await hub.store.commitments.get('0190f0a0-0003-7000-8000-0000000000c4')).toBeUndefined();
  });
});
