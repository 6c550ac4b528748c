import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiAuth, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { ALLIANCE_LEAD, ALLIANCE_MANAGER, CoSellHub, DEAL_DESK, SELLER } from '../cosell/support.js';
import { storedOpportunity, surfaceSettings } from '../support/cosell-surface.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { problemText } from './problem.js';

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
// Alliance tokens named by email: the name is who decides.
const ALEX = 'alex-token-0123456789abcdef';
const DANA = 'dana-token-0123456789abcdef';
const SAM = 'sam-token-0123456789abcdef';

describe('co-sell API on the real Temporal server, store and cloud sandboxes', () => {
  let env: TestWorkflowEnvironment;
  let hub: CoSellHub;
  let app: FastifyInstance;

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([startTestTemporal(), bundleWorkflows()]);
    env = started;
    hub = await CoSellHub.start(env, bundle);
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [operatorRoutes({
        store: hub.db.store,
        client: env.client,
        taskQueue: hub.taskQueue,
        auth: new ApiAuth(parseApiTokens(`root:admin:${ADMIN},vic:viewer:${VIEWER},${ALLIANCE_MANAGER}:alliance:${ALEX},${DEAL_DESK}:alliance:${DANA},${SELLER}:alliance:${SAM}`)),
        cosell: surfaceSettings(hub),
      })],
    });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await hub?.close();
    await env?.teardown();
  });

  const call = (method: 'GET' | 'POST', url: string, token: string, body?: unknown) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
  const waitingFor = (approver: string, id: string) => eventually(async () => {
    const res = await call('GET', `/cosells?approver=${encodeURIComponent(approver)}&status=pending_approval`, VIEWER);
    const found = (res.json().cosells as { id: string }[]).find((c) => c.id === id);
    return found;
  }, 20_000, `${id} in ${approver}'s queue`);

  it('submits a stored opportunity by its Salesforce id; the deal desk finds it in its queue; approvals go by role', async () => {
    const { opportunity, salesforceId } = await storedOpportunity(hub);
    const submitted = await call('POST', '/cosells', ALEX, { opportunity: `salesforce:${salesforceId}`, cloud: 'aws' });
    expect(submitted.statusCode, submitted.body).toBe(201);
    const id = `cosell:aws:${opportunity.id}`;
    // The answer is the co-sell's first decision, not its draft: checked, and waiting for the deal desk.
    expect(submitted.json()).toMatchObject({ workflowId: id, started: true, state: { status: 'pending_approval', pendingApprovers: [DEAL_DESK] } });

    const listed = await waitingFor(DEAL_DESK, id);
    expect(listed).toMatchObject({ kind: 'outbound', cloud: 'aws', status: 'pending_approval', approvers: [DEAL_DESK], opportunity: opportunity.name, amount: { amount: '250000.00', currency: 'USD' }, requestedBy: ALLIANCE_MANAGER });
    const status = await call('GET', `/cosells/aws:${opportunity.id}`, VIEWER);
    expect(status.json()).toMatchObject({ id, kind: 'outbound', execution: 'RUNNING', state: { status: 'pending_approval', currentStage: 'deal_desk', requestedBy: ALLIANCE_MANAGER } });

    // Submitting again finds the running co-sell.
    const again = await call('POST', '/cosells', ALEX, { opportunity: opportunity.id, cloud: 'aws' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ workflowId: id, started: false });

    const wrongRole = await call('POST', `/cosells/aws:${opportunity.id}/approve`, SAM, {});
    expect(wrongRole.statusCode).toBe(409);
    expect(problemText(wrongRole)).toBe(`${SELLER} may not decide stage deal_desk: it needs the role deal_desk`);
    const onBehalf = await call('POST', `/cosells/aws:${opportunity.id}/approve`, ALEX, { by: DEAL_DESK });
    expect(onBehalf.statusCode).toBe(403);
    expect(problemText(onBehalf)).toMatch(/only an admin acts on someone else's behalf/);
    const viewer = await call('POST', `/cosells/aws:${opportunity.id}/approve`, VIEWER, {});
    expect(viewer.statusCode).toBe(403);

    const approved = await call('POST', `/cosells/${id}/approve`, DANA, { comment: 'margin ok' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id, state: { status: 'pending_approval', currentStage: 'alliance_lead', pendingApprovers: [ALLIANCE_LEAD] } });
    await waitingFor(ALLIANCE_LEAD, id);

    const noComment = await call('POST', `/cosells/aws:${opportunity.id}/reject`, ADMIN, { by: ALLIANCE_LEAD });
    expect(noComment.statusCode).toBe(409);
    expect(problemText(noComment)).toMatch(/a rejection needs a comment/);

    // The admin token acts for the alliance lead; the workflow then sends the co-sell to AWS.
    const last = await call('POST', `/cosells/aws:${opportunity.id}/approve`, ADMIN, { by: ALLIANCE_LEAD });
    expect(last.statusCode, last.body).toBe(200);
    const sent = await eventually(async () => {
      const state = (await call('GET', `/cosells/aws:${opportunity.id}`, VIEWER)).json().state;
      return state?.externalId && ['submitted', 'in_review', 'approved'].includes(state.status) ? state : undefined;
    }, 30_000, 'the co-sell in AWS');
    expect(sent.approvals.map((a: { stage: string; by: string; decision: string }) => [a.stage, a.by, a.decision])).toEqual([['submission', ALLIANCE_MANAGER, 'submitted'], ['deal_desk', DEAL_DESK, 'approved'], ['alliance_lead', ALLIANCE_LEAD, 'approved']]);
    expect(hub.aws.state.get(sent.externalId)?.Project?.Title).toBe(opportunity.name);

    // The audit log has what succeeded, newest first, and who an admin acted for; the refused attempts are not in it.
    const audit = await call('GET', `/audit?subject=${encodeURIComponent(id)}`, VIEWER);
    expect(audit.json().entries.map((e: { actor: string; onBehalf: string | null; action: string; detail: object }) => [e.actor, e.onBehalf, e.action, e.detail])).toEqual([
      ['root', ALLIANCE_LEAD, 'cosell.approve', {}],
      [DEAL_DESK, null, 'cosell.approve', { comment: 'margin ok' }],
      [ALLIANCE_MANAGER, null, 'cosell.submit', { cloud: 'aws' }],
    ]);
  }, 90_000);

  it('rejects with a comment; the ended co-sell takes no more decisions and cannot be submitted again', async () => {
    const { opportunity } = await storedOpportunity(hub, { amount: { amount: '5000.00', currency: 'USD' } });
    const submitted = await call('POST', '/cosells', ADMIN, { opportunity: opportunity.id, cloud: 'aws', requestedBy: ALLIANCE_MANAGER });
    expect(submitted.statusCode, submitted.body).toBe(201);
    await waitingFor(DEAL_DESK, `cosell:aws:${opportunity.id}`);
    // A slow CRM holds the last write-back: the workflow still runs after its decision is final.
    let release!: () => void;
    hub.faults.holdWriteBack = { opportunityId: opportunity.id, status: 'rejected_internal', release: new Promise<void>((resolve) => { release = resolve; }) };
    try {
      const rejected = await call('POST', `/cosells/aws:${opportunity.id}/reject`, DANA, { comment: 'no AWS marketplace listing for this product' });
      expect(rejected.statusCode, rejected.body).toBe(200);
      expect(rejected.json().state).toMatchObject({ status: 'rejected_internal', pendingApprovers: [] });
      expect((await call('GET', `/cosells/aws:${opportunity.id}`, VIEWER)).json()).toMatchObject({ execution: 'RUNNING', state: { status: 'rejected_internal' } });

      const late = await call('POST', `/cosells/aws:${opportunity.id}/approve`, DANA, {});
      expect(late.statusCode).toBe(409);
      const whileWriting = await call('POST', '/cosells', ALEX, { opportunity: opportunity.id, cloud: 'aws' });
      expect(whileWriting.statusCode, whileWriting.body).toBe(409);
      expect(problemText(whileWriting)).toMatch(/already ended \(rejected_internal\)/);
    } finally {
      release();
      hub.faults.holdWriteBack = undefined;
    }
    await eventually(async () => (await call('GET', `/cosells/aws:${opportunity.id}`, VIEWER)).json().execution === 'COMPLETED', 20_000, 'the co-sell completed');
    const resubmitted = await call('POST', '/cosells', ALEX, { opportunity: opportunity.id, cloud: 'aws' });
    expect(resubmitted.statusCode).toBe(409);
    expect(problemText(resubmitted)).toMatch(/already ended \(rejected_internal\)/);
    const listed = await eventually(async () => {
      const res = await call('GET', '/cosells?cloud=aws&status=rejected_internal', VIEWER);
      return (res.json().cosells as { id: string; execution: string }[]).find((c) => c.id === `cosell:aws:${opportunity.id}`);
    }, 20_000, 'the rejected co-sell in the list');
    expect(listed.execution).toBe('COMPLETED');
  }, 60_000);

  it('sends changes back to the alliance manager, who resubmits', async () => {
    const { opportunity } = await storedOpportunity(hub, { amount: { amount: '5000.00', currency: 'USD' } });
    expect((await call('POST', '/cosells', ALEX, { opportunity: opportunity.id, cloud: 'aws' })).statusCode).toBe(201);
    await waitingFor(DEAL_DESK, `cosell:aws:${opportunity.id}`);
    const changes = await call('POST', `/cosells/aws:${opportunity.id}/request-changes`, DANA, { comment: 'add the customer use case' });
    expect(changes.statusCode, changes.body).toBe(200);
    expect(changes.json().state).toMatchObject({ status: 'changes_requested' });
    const again = await call('POST', `/cosells/aws:${opportunity.id}/resubmit`, ALEX, { comment: 'use case added' });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().state).toMatchObject({ status: 'pending_approval', currentStage: 'deal_desk' });
  }, 60_000);

  it('answers 404 with the reason for an opportunity ecosync does not know, and 400 for bad input', async () => {
    const unknown = await call('POST', '/cosells', ALEX, { opportunity: randomUUID(), cloud: 'aws' });
    expect(unknown.statusCode).toBe(404);
    expect(problemText(unknown)).toMatch(/opportunity .* is unknown to ecosync: sync the CRM connection that holds it first/);
    const unlinked = await call('POST', '/cosells', ALEX, { opportunity: { system: 'salesforce', externalId: '006000000000000AAA' }, cloud: 'azure' });
    expect(unlinked.statusCode).toBe(404);
    expect(problemText(unlinked)).toMatch(/salesforce Opportunity 006000000000000AAA is unknown to ecosync/);
    const badCloud = await call('POST', '/cosells', ALEX, { opportunity: randomUUID(), cloud: 'gcp' });
    expect(badCloud.statusCode).toBe(400);
    expect(problemText(badCloud)).toMatch(/body\.cloud/);
    const noSuch = await call('GET', `/cosells/aws:${randomUUID()}`, VIEWER);
    expect(noSuch.statusCode).toBe(404);
    expect((await call('GET', '/cosells?status=lost', VIEWER)).statusCode).toBe(400);
    expect((await call('POST', '/cosells', VIEWER, { opportunity: randomUUID(), cloud: 'aws' })).statusCode).toBe(403);
    // Someone else's name on a submit needs an admin.
    const asOther = await call('POST', '/cosells', SAM, { opportunity: randomUUID(), cloud: 'aws', requestedBy: ALLIANCE_MANAGER });
    expect(asOther.statusCode).toBe(403);
  });
});
