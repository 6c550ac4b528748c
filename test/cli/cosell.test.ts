import { mkdtempSync } from 'node:fs';
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
import { ALLIANCE_MANAGER, CoSellHub, DEAL_DESK, SELLER } from '../cosell/support.js';
import { storedOpportunity, surfaceSettings } from '../support/cosell-surface.js';
import { runCli } from '../support/process.js';
import { eventually, startTestTemporal } from '../support/temporal.js';

const DANA = 'dana-token-0123456789abcdef';

describe('ecosync cosell against a running hub\'s API', () => {
  let env: TestWorkflowEnvironment;
  let hub: CoSellHub;
  let app: FastifyInstance;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    hub = await CoSellHub.start(env, bundle);
    // The CLI finds the hub's generated local admin token in its data folder.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-cosell-cli-'));
    const local = loadApiTokens({ dataDir, host: '127.0.0.1', env: {} });
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [operatorRoutes({
        store: hub.db.store, client: env.client, taskQueue: hub.taskQueue,
        auth: new ApiAuth([...local.tokens, ...parseApiTokens(`${DEAL_DESK}:alliance:${DANA}`)]),
        cosell: surfaceSettings(hub),
      })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    cliEnv = { ECOSYNC_DATA_DIR: dataDir, ECOSYNC_API_PORT: String(port), ECOSYNC_API_TOKEN: '' };
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await hub?.close();
    await env?.teardown();
  });

  it('submits, lists the approver\'s queue, refuses the wrong approver and approves with the right one', async () => {
    const { opportunity, salesforceId } = await storedOpportunity(hub, { amount: { amount: '5000.00', currency: 'USD' } });
    const submit = await runCli(['cosell', 'submit', `salesforce:${salesforceId}`, '--cloud', 'aws', '--by', ALLIANCE_MANAGER, '--json'], cliEnv);
    expect(submit.code, submit.output).toBe(0);
    expect(JSON.parse(submit.output)).toMatchObject({ workflowId: `cosell:aws:${opportunity.id}`, started: true });

    const id = `aws:${opportunity.id}`;
    const queue = await eventually(async () => {
      const list = await runCli(['cosell', 'list', '--approver', DEAL_DESK], cliEnv);
      return list.code === 0 && list.output.includes(id) ? list.output : undefined;
    }, 60_000, 'the co-sell in the deal desk\'s queue');
    expect(queue).toMatch(/^ID\s+KIND\s+STATUS\s+WAITING FOR\s+OPPORTUNITY\s+AMOUNT\s+STARTED/);
    expect(queue).toContain(`${id}  outbound  pending_approval  ${DEAL_DESK}`);
    expect(queue).toContain('5000.00 USD');
    const mine = await runCli(['cosell', 'list', '--mine', '--json', '--token', DANA], cliEnv);
    expect(JSON.parse(mine.output).map((c: { id: string }) => c.id)).toContain(`cosell:${id}`);

    const refused = await runCli(['cosell', 'approve', id, '--by', SELLER], cliEnv);
    expect(refused.output).toContain(`ecosync: ${SELLER} may not decide stage deal_desk: it needs the role deal_desk`);
    expect(refused.code).toBe(1);
    const usage = await runCli(['cosell', 'reject', id], cliEnv);
    expect(usage.output).toContain('--comment <text>');
    expect(usage.code).toBe(2);

    const approved = await runCli(['cosell', 'approve', id, '--token', DANA, '--comment', 'fine'], cliEnv);
    expect(approved.code, approved.output).toBe(0);
    expect(approved.output).toContain(`approved: ${id}`);

    const status = await eventually(async () => {
      const s = await runCli(['cosell', 'status', id, '--json'], cliEnv);
      const answer = JSON.parse(s.output);
      return answer.state?.externalId ? answer : undefined;
    }, 60_000, 'the co-sell in AWS');
    expect(status).toMatchObject({ id: `cosell:${id}`, kind: 'outbound', state: { cloud: 'aws' } });
    const readable = await runCli(['cosell', 'status', id], cliEnv);
    expect(readable.output).toContain(`cloud id ${status.state.externalId}`);
    expect(readable.output).toMatch(/deal_desk\s+dana@example\.com\s+approved\s+fine/);
  }, 240_000);

  it('says what AWS would refuse, traced to the CRM field, and who must fix it', async () => {
    const { opportunity } = await storedOpportunity(hub, { description: undefined, amount: { amount: '5000.00', currency: 'USD' } });
    const submit = await runCli(['cosell', 'submit', opportunity.id, '--cloud', 'aws', '--by', ALLIANCE_MANAGER], cliEnv);
    expect(submit.code, submit.output).toBe(0);
    const status = await runCli(['cosell', 'status', `aws:${opportunity.id}`], cliEnv);
    expect(status.output).toContain('status   changes_requested');
    expect(status.output).toMatch(/Project\.CustomerBusinessProblem: .*\(from Opportunity\.description\)/);
    expect(status.output).toContain(`waiting  ${ALLIANCE_MANAGER} to fix and resubmit`);
  }, 120_000);

  it('says what is wrong with an unknown opportunity and a bad cloud', async () => {
    const unknown = await runCli(['cosell', 'submit', 'salesforce:006000000000000AAA', '--cloud', 'aws'], cliEnv);
    expect(unknown.output).toContain('ecosync: salesforce Opportunity 006000000000000AAA is unknown to ecosync');
    expect(unknown.code).toBe(1);
    const cloud = await runCli(['cosell', 'submit', 'salesforce:006', '--cloud', 'gcp'], cliEnv);
    expect(cloud.output).toContain('choose aws or azure');
    expect(cloud.code).toBe(2);
  }, 60_000);
});
