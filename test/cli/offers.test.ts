import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUYER_ACCOUNT_IDS } from '../../connectors/aws-marketplace/sandbox/index.js';
import { ApiAuth, loadApiTokens, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { ALLIANCE_LEAD, ALLIANCE_MANAGER, DEAL_DESK, OFFER_POLICY, OfferHub } from '../offers/support.js';
import { runCli } from '../support/process.js';
import { eventually, startTestTemporal } from '../support/temporal.js';

const DANA = 'dana-token-0123456789abcdef';

describe('ecosync offers against a running hub\'s API', () => {
  let env: TestWorkflowEnvironment;
  let offers: OfferHub;
  let app: FastifyInstance;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    offers = await OfferHub.start(env, bundle);
    // The CLI finds the hub's generated local admin token in its data folder.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-offers-cli-'));
    const local = loadApiTokens({ dataDir, host: '127.0.0.1', env: {} });
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [operatorRoutes({
        store: offers.store, client: env.client, taskQueue: offers.hub.taskQueue,
        auth: new ApiAuth([...local.tokens, ...parseApiTokens(`${DEAL_DESK}:alliance:${DANA}`)]),
        offers: { policy: OFFER_POLICY, connection: offers.connection.name, timings: { pollIntervalMs: 50, maxPollIntervalMs: 400, acceptancePollMs: 60_000, reminderDays: [7, 1] } },
      })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    cliEnv = { ECOSYNC_DATA_DIR: dataDir, ECOSYNC_API_PORT: String(port), ECOSYNC_API_TOKEN: '' };
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await offers?.close();
    await env?.teardown();
  });

  it('asks for an offer, lists the approver\'s queue, refuses the wrong approver, approves, and shows the live offer with its buyer link', async () => {
    const sf = offers.opportunity(0);
    const create = await runCli([
      'offers', 'create', `salesforce:${sf.id}`, '--cloud', 'aws', '--by', ALLIANCE_MANAGER,
      '--dimension', 'BasicService=15000.00,qty=2,list=18000.00', '--dimension', 'PremiumService=30000.00,qty=1,list=30000.00', '--json',
    ], cliEnv);
    expect(create.code, create.output).toBe(0);
    const asked = JSON.parse(create.output);
    expect(asked).toMatchObject({ started: true, state: { status: 'pending_approval', totalValue: '60000.00', discountPercent: '9.09', pendingApprovers: [DEAL_DESK] } });
    const id = asked.id.slice('offer:'.length);

    const queue = await eventually(async () => {
      const list = await runCli(['offers', 'list', '--approver', DEAL_DESK], cliEnv);
      return list.code === 0 && list.output.includes(id) ? list.output : undefined;
    }, 60_000, 'the offer in the deal desk\'s queue');
    expect(queue).toMatch(/^ID\s+STATUS\s+WAITING FOR\s+BUYERS\s+OPPORTUNITY\s+REQUESTED BY\s+STARTED/);
    expect(queue).toContain(`${id}  pending_approval  ${DEAL_DESK}  ${BUYER_ACCOUNT_IDS[0]}`);
    const mine = await runCli(['offers', 'list', '--mine', '--json', '--token', DANA], cliEnv);
    expect(JSON.parse(mine.output).map((o: { id: string }) => o.id)).toContain(asked.id);

    const refused = await runCli(['offers', 'approve', id, '--by', ALLIANCE_LEAD], cliEnv);
    expect(refused.output).toContain(`ecosync: ${ALLIANCE_LEAD} may not decide stage deal_desk: it needs the role deal_desk`);
    expect(refused.code).toBe(1);
    const usage = await runCli(['offers', 'reject', id], cliEnv);
    expect(usage.output).toContain('--comment <text>');
    expect(usage.code).toBe(2);

    const approved = await runCli(['offers', 'approve', id, '--token', DANA, '--comment', 'fine'], cliEnv);
    expect(approved.code, approved.output).toBe(0);
    expect(approved.output).toContain(`approved: ${id}`);

    const live = await eventually(async () => {
      const s = await runCli(['offers', 'status', id, '--json'], cliEnv);
      const answer = JSON.parse(s.output);
      return answer.state?.status === 'live' ? answer.state : undefined;
    }, 60_000, 'the offer live on AWS Marketplace');
    const readable = await runCli(['offers', 'status', id], cliEnv);
    expect(readable.output).toContain(`${id} (running)`);
    expect(readable.output).toContain('status   live (live)');
    expect(readable.output).toContain(`cloud id ${live.cloudIds.offerId}`);
    expect(readable.output).toContain(`buyer    ${live.buyerUrl}`);
    expect(readable.output).toMatch(/deal_desk\s+dana@example\.com\s+approved\s+fine/);
    const byBuyer = await runCli(['offers', 'list', '--buyer', BUYER_ACCOUNT_IDS[0], '--status', 'live', '--json'], cliEnv);
    expect(JSON.parse(byBuyer.output).map((o: { id: string }) => o.id)).toEqual([asked.id]);
  }, 300_000);

  it('withdraws an offer with a reason, and says what is wrong with a bad dimension, a missing reason and an unknown opportunity', async () => {
    const sf = offers.opportunity(1);
    const badDimension = await runCli(['offers', 'create', `salesforce:${sf.id}`, '--cloud', 'aws', '--dimension', 'BasicService=cheap'], cliEnv);
    expect(badDimension.output).toContain('"BasicService=cheap": give <key>=<price>, such as BasicService=15000.00');
    expect(badDimension.code).toBe(2);
    const unknown = await runCli(['offers', 'create', 'salesforce:006000000000000AAA', '--cloud', 'aws', '--dimension', 'BasicService=15000.00', '--by', ALLIANCE_MANAGER], cliEnv);
    expect(unknown.output).toContain('ecosync: salesforce Opportunity 006000000000000AAA is unknown to ecosync');
    expect(unknown.code).toBe(1);

    const create = await runCli(['offers', 'create', `salesforce:${sf.id}`, '--cloud', 'aws', '--dimension', 'BasicService=15000.00,qty=2', '--by', ALLIANCE_MANAGER], cliEnv);
    expect(create.code, create.output).toBe(0);
    const id = /^asked for: (\S+)$/m.exec(create.output)![1];
    expect(create.output).toContain(`  waiting  deal_desk: ${DEAL_DESK}`);
    const noReason = await runCli(['offers', 'withdraw', id], cliEnv);
    expect(noReason.output).toContain('--reason <text>');
    expect(noReason.code).toBe(2);
    const withdrawn = await runCli(['offers', 'withdraw', id, '--by', ALLIANCE_MANAGER, '--reason', 'the buyer went with a reseller'], cliEnv);
    expect(withdrawn.code, withdrawn.output).toBe(0);
    expect(withdrawn.output).toContain(`withdrawn: ${id}`);
    expect(withdrawn.output).toContain('status   withdrawn (done)');
    const listed = await eventually(async () => {
      const list = await runCli(['offers', 'list', '--status', 'withdrawn', '--json'], cliEnv);
      return list.code === 0 && (JSON.parse(list.output) as { id: string }[]).some((o) => o.id === `offer:${id}`) ? list : undefined;
    }, 60_000, 'the withdrawn offer in the list');
    expect(listed.code).toBe(0);
  }, 240_000);
});
