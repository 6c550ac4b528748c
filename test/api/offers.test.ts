/**
 * Private offers through the HTTP API and the EventBridge receiver, on the real Temporal server:
 * an alliance manager asks for an offer, approvers decide it by role, the AWS Marketplace sandbox
 * (official SDKs) publishes it and, once the buyer accepts, delivers its events to the running
 * hub's receiver as an API destination would, so the acceptance is booked at once rather than
 * at the workflow's hourly poll.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUYER_ACCOUNT_IDS } from '../../connectors/aws-marketplace/sandbox/index.js';
import { ApiAuth, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { WEBHOOK_BODY_LIMIT, webhooksPlugin } from '../../src/api/webhooks/index.js';
import { defaultCoSellSettings } from '../../src/runtime/config.js';
import { createMetrics, watchOffers, type HubMetrics } from '../../src/runtime/metrics.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { ALLIANCE_LEAD, ALLIANCE_MANAGER, DEAL_DESK, DIMENSIONS, inDays, OFFER_POLICY, OfferHub } from '../offers/support.js';
import { freePort } from '../support/process.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { problemText } from './problem.js';

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
// Alliance tokens named by email: the name is who decides.
const ALEX = 'alex-token-0123456789abcdef';
const DANA = 'dana-token-0123456789abcdef';
const LEE = 'lee-token-0123456789abcdef';

/** The workflow would look for an acceptance only after this long: a booking before it came from the event. */
const ACCEPTANCE_POLL_MS = 10 * 60_000;

describe('private offers through the API and the AWS Marketplace event receiver, on the real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let offers: OfferHub;
  let app: FastifyInstance;
  let metrics: HubMetrics;
  let base: string;
  const connectionName = `market-${randomUUID().slice(0, 8)}`;
  const eventKey = randomBytes(24).toString('base64url');

  beforeAll(async () => {
    const [started, bundle, port] = await Promise.all([startTestTemporal(), bundleWorkflows(), freePort()]);
    env = started;
    base = `http://127.0.0.1:${port}`;
    // The sandbox delivers every EventBridge event to the hub's receiver, with the API destination's key.
    offers = await OfferHub.start(env, bundle, { aws: { events: { url: `${base}/webhooks/aws-marketplace/${connectionName}`, apiKeyValue: eventKey, retryBaseMs: 100 } } });
    // The connection by the name the destination calls, its credentials holding the same key.
    const credentials = (await offers.store.connections.getCredentials(offers.connection.id))!;
    offers.connection = await offers.store.connections.update(offers.connection.id, {
      name: connectionName,
      credentials: { ...credentials, 'aws-marketplace': { ...(credentials['aws-marketplace'] as object), eventApiKey: eventKey } },
    });
    metrics = createMetrics();
    watchOffers(metrics, env.client, pino({ level: 'silent' }), 0);
    const control = { client: env.client, taskQueue: offers.hub.taskQueue };
    app = await buildApi({
      log: pino({ level: 'silent' }),
      metrics: metrics.registry,
      health: async () => ({}),
      plugins: [
        operatorRoutes({
          store: offers.store, client: env.client, taskQueue: offers.hub.taskQueue,
          auth: new ApiAuth(parseApiTokens(`root:admin:${ADMIN},vic:viewer:${VIEWER},${ALLIANCE_MANAGER}:alliance:${ALEX},${DEAL_DESK}:alliance:${DANA},${ALLIANCE_LEAD}:alliance:${LEE}`)),
          cosell: { ...defaultCoSellSettings(), requester: ALLIANCE_MANAGER },
          offers: { policy: OFFER_POLICY, connection: connectionName, timings: { pollIntervalMs: 50, maxPollIntervalMs: 400, acceptancePollMs: ACCEPTANCE_POLL_MS, reminderDays: [7, 1] } },
        }),
        webhooksPlugin({ store: offers.store, sync: control, metrics: metrics.registry }),
      ],
    });
    await app.listen({ host: '127.0.0.1', port });
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    metrics?.close();
    await offers?.close();
    await env?.teardown();
  });

  const call = (method: 'GET' | 'POST', url: string, token: string, body?: unknown) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });
  const stateOf = async (id: string) => (await call('GET', `/offers/${id}`, VIEWER)).json();
  const event = (key: string | undefined, body: unknown, connection = connectionName) => app.inject({
    method: 'POST', url: `/webhooks/aws-marketplace/${connection}`,
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'x-api-key': key }) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

  it('asks, approves by role and publishes; the buyer\'s acceptance reaches the hub as an EventBridge event and is booked without waiting for the poll', async () => {
    const sf = offers.opportunity(0);
    const created = await call('POST', '/offers', ALEX, { opportunity: `salesforce:${sf.id}`, cloud: 'aws', pricingModel: 'contract', dimensions: DIMENSIONS });
    expect(created.statusCode, created.body).toBe(201);
    const answer = created.json();
    const id: string = answer.id;
    const short = id.slice('offer:'.length);
    expect(id).toMatch(/^offer:aws:[0-9a-f-]{36}$/);
    // The first answer is the approval the offer waits for, not its draft.
    expect(answer).toMatchObject({ started: true, execution: 'RUNNING', state: { status: 'pending_approval', currentStage: 'deal_desk', pendingApprovers: [DEAL_DESK], requestedBy: ALLIANCE_MANAGER, totalValue: '60000.00', discountPercent: '9.09' } });
    const again = await call('POST', '/offers', ALEX, { opportunity: `salesforce:${sf.id}`, cloud: 'aws', pricingModel: 'contract', dimensions: DIMENSIONS });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id, started: false });

    const queue = await eventually(async () => {
      const res = await call('GET', `/offers?approver=${encodeURIComponent(DEAL_DESK)}&status=pending_approval`, VIEWER);
      return (res.json().offers as { id: string }[]).find((o) => o.id === id);
    }, 20_000, 'the offer in the deal desk\'s queue');
    expect(queue).toMatchObject({ cloud: 'aws', status: 'pending_approval', approvers: [DEAL_DESK], buyers: [BUYER_ACCOUNT_IDS[0]], opportunity: sf.name, requestedBy: ALLIANCE_MANAGER, execution: 'RUNNING' });
    const mine = await call('GET', '/offers?mine=true', DANA);
    expect(mine.json().offers.map((o: { id: string }) => o.id)).toContain(id);

    const wrongRole = await call('POST', `/offers/${short}/approve`, LEE, {});
    expect(wrongRole.statusCode).toBe(409);
    expect(problemText(wrongRole)).toBe(`${ALLIANCE_LEAD} may not decide stage deal_desk: it needs the role deal_desk`);
    expect((await call('POST', `/offers/${short}/approve`, VIEWER, {})).statusCode).toBe(403);
    const onBehalf = await call('POST', `/offers/${short}/approve`, ALEX, { by: DEAL_DESK });
    expect(onBehalf.statusCode).toBe(403);
    expect(problemText(onBehalf)).toMatch(/only an admin acts on someone else's behalf/);

    const approved = await call('POST', `/offers/${id}/approve`, DANA, { comment: 'margin ok' });
    expect(approved.statusCode, approved.body).toBe(200);
    const live = await eventually(async () => {
      const { state } = await stateOf(short);
      return state?.status === 'live' ? state : undefined;
    }, 60_000, 'the offer live on AWS Marketplace');
    expect(live.cloudIds.offerId).toMatch(/^offer-/);
    expect(live.buyerUrl).toContain(live.cloudIds.offerId);
    expect(live.approvals.map((a: { stage: string; by: string; decision: string }) => [a.stage, a.by, a.decision])).toEqual([['submission', ALLIANCE_MANAGER, 'submitted'], ['deal_desk', DEAL_DESK, 'approved']]);
    const byBuyer = await call('GET', `/offers?buyer=${BUYER_ACCOUNT_IDS[0]}&status=live`, VIEWER);
    expect(byBuyer.json().offers.map((o: { id: string }) => o.id)).toEqual([id]);

    // The buyer accepts on AWS; only the event can tell the hub within the poll's ten minutes.
    const acceptedAt = Date.now();
    const agreement = offers.aws.state.accept(live.cloudIds.offerId, BUYER_ACCOUNT_IDS[0], { dimensions: { BasicService: 2, PremiumService: 1 } });
    const done = await env.client.workflow.getHandle(id).result();
    const bookedMs = Date.now() - acceptedAt;
    expect(done).toMatchObject({ phase: 'done', status: 'accepted', agreementId: agreement.id });
    expect(bookedMs).toBeLessThan(ACCEPTANCE_POLL_MS);
    console.log(`acceptance → booked through the EventBridge receiver: ${bookedMs} ms`);
    const created_ = offers.aws.events.of('Purchase Agreement Created - Proposer');
    expect(created_).toHaveLength(1);
    await offers.aws.events.idle();
    expect(offers.aws.events.counters.get('failed') ?? 0).toBe(0);
    const [record] = await offers.store.agreements.list({ connectionId: offers.connection.id });
    expect(record).toMatchObject({ agreementId: agreement.id, offerId: live.cloudIds.offerId, totalContractValue: '60000.00' });
    expect(offers.hub.ns!.state.all('salesOrder').filter((o) => o.body.otherRefNum === agreement.id)).toHaveLength(1);
    expect(await stateOf(short)).toMatchObject({ execution: 'COMPLETED', state: { status: 'accepted' } });

    // /metrics counts the receiver's events and the offers by status.
    const scrape = await (await app.inject({ url: '/metrics' })).body;
    expect(scrape).toMatch(/ecosync_webhooks_total\{system="aws-marketplace",outcome="signalled"\} [1-9]/);
    await eventually(async () => /ecosync_offers\{cloud="aws",status="accepted"\} 1\b/.test((await app.inject({ url: '/metrics' })).body), 20_000, 'the accepted offer in /metrics');
  }, 180_000);

  it('sends an offer back for changes, takes it resubmitted, and withdraws it; a rejection needs a comment', async () => {
    const sf = offers.opportunity(1);
    const created = await call('POST', '/offers', ADMIN, {
      opportunity: `salesforce:${sf.id}`, cloud: 'aws', requestedBy: ALLIANCE_MANAGER, pricingModel: 'contract',
      dimensions: [{ key: 'BasicService', price: '10000.00', listPrice: '18000.00', quantity: 2 }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const short = created.json().id.slice('offer:'.length);
    expect(created.json().state).toMatchObject({ requestedBy: ALLIANCE_MANAGER, discountPercent: '44.44', currentStage: 'deal_desk' });

    const noComment = await call('POST', `/offers/${short}/reject`, DANA, {});
    expect(noComment.statusCode).toBe(409);
    expect(problemText(noComment)).toBe('a rejection needs a comment for the alliance manager');
    const changes = await call('POST', `/offers/${short}/request-changes`, DANA, { comment: 'ask for a 2-year term instead' });
    expect(changes.statusCode, changes.body).toBe(200);
    expect(changes.json().state).toMatchObject({ status: 'changes_requested', phase: 'changes' });

    // Resubmitted at a smaller discount: back through every stage the new terms reach.
    const resubmitted = await call('POST', `/offers/${short}/resubmit`, ALEX, { comment: 'priced again', request: { dimensions: [{ key: 'BasicService', price: '16000.00', listPrice: '18000.00', quantity: 2 }] } });
    expect(resubmitted.statusCode, resubmitted.body).toBe(200);
    expect(resubmitted.json().state).toMatchObject({ status: 'pending_approval', currentStage: 'deal_desk', discountPercent: '11.11' });

    const noReason = await call('POST', `/offers/${short}/withdraw`, ALEX, {});
    expect(noReason.statusCode).toBe(400);
    expect(problemText(noReason)).toMatch(/^body\.reason is not valid/);
    const withdrawn = await call('POST', `/offers/${short}/withdraw`, ALEX, { reason: 'the buyer chose a reseller' });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json().state).toMatchObject({ status: 'withdrawn', phase: 'done' });
    expect(withdrawn.json().state.approvals.map((a: { decision: string }) => a.decision)).toEqual(['submitted', 'changes_requested', 'resubmitted', 'rejected']);
    const late = await call('POST', `/offers/${short}/approve`, DANA, {});
    expect([404, 409]).toContain(late.statusCode);
  }, 120_000);

  it('passes a change set\'s outcome, announced by EventBridge, to the offer following that change set', async () => {
    // A third opportunity of the first account, with the offer's terms, synced into the hub.
    const [first] = offers.hub.sfRecords('Opportunity');
    const sfId = String(offers.hub.sf.state.insert('Opportunity', {
      Name: `Offer by event ${randomUUID().slice(0, 6)}`, AccountId: first.AccountId, StageName: first.StageName, CloseDate: first.CloseDate, Amount: 40000,
      Ecosync_Offer_Product__c: offers.products.contract, Ecosync_Offer_Buyers__c: BUYER_ACCOUNT_IDS[1], Ecosync_Offer_Term_Months__c: 12, Ecosync_Offer_Expires__c: inDays(offers.aws, 30),
    }).Id);
    await offers.firstSync();
    // AWS takes an hour over each change set: only the event can end the wait before the workflow's next look.
    offers.aws.state.catalog.changeSetMs = 3_600_000;
    try {
      const created = await call('POST', '/offers', ALEX, { opportunity: `salesforce:${sfId}`, cloud: 'aws', pricingModel: 'contract', dimensions: [{ key: 'BasicService', price: '17000.00', listPrice: '18000.00', quantity: 2 }] });
      expect(created.statusCode, created.body).toBe(201);
      const id: string = created.json().id;
      expect((await call('POST', `/offers/${id}/approve`, DANA, {})).statusCode).toBe(200);
      const waiting = await eventually(async () => {
        const listed = (await call('GET', '/offers?status=submitted', VIEWER)).json().offers as { id: string }[];
        const { state } = await stateOf(id);
        return listed.some((o) => o.id === id) && state?.phase === 'follow' ? state : undefined;
      }, 30_000, 'the offer following its change set');
      const changeSetId: string = waiting.cloudIds.changeSetId;
      expect(offers.aws.state.catalog.sets.get(changeSetId)?.status).toBe('PREPARING');

      const succeeded = await event(eventKey, {
        version: '0', id: randomUUID(), 'detail-type': 'Change Set Succeeded', source: 'aws.marketplacecatalog', account: '123456789012',
        time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: { Catalog: 'AWSMarketplace', ChangeSetId: changeSetId, Intent: 'VALIDATE' },
      });
      expect(succeeded.statusCode, succeeded.body).toBe(200);
      expect(succeeded.json()).toMatchObject({ outcome: 'delivered', detail: `change set ${changeSetId} SUCCEEDED to the offer following it` });
    } finally {
      offers.aws.state.catalog.changeSetMs = 0;
    }
    // Settled, the sets apply and the offer goes live.
    offers.aws.state.settle();
    await eventually(async () => (await stateOf(`aws:${(await offers.canonicalOpportunity(sfId))}`)).state?.status === 'live', 60_000, 'the offer live');
  }, 120_000);

  it('answers 400, 404 and 403 with the reason for what it cannot take', async () => {
    const unknown = await call('POST', '/offers', ALEX, { opportunity: 'salesforce:006000000000000AAA', cloud: 'aws', pricingModel: 'contract', dimensions: DIMENSIONS });
    expect(unknown.statusCode).toBe(404);
    expect(problemText(unknown)).toMatch(/salesforce Opportunity 006000000000000AAA is unknown to ecosync/);
    const badCloud = await call('POST', '/offers', ALEX, { opportunity: randomUUID(), cloud: 'gcp', pricingModel: 'contract', dimensions: DIMENSIONS });
    expect(badCloud.statusCode).toBe(400);
    expect(problemText(badCloud)).toMatch(/body\.cloud/);
    const badPrice = await call('POST', '/offers', ALEX, { opportunity: randomUUID(), cloud: 'aws', pricingModel: 'contract', dimensions: [{ key: 'BasicService', price: 12.5 }] });
    expect(problemText(badPrice)).toMatch(/body\.dimensions\.0\.price/);
    const cppo = await call('POST', '/offers', ALEX, { opportunity: randomUUID(), cloud: 'aws', channel: 'cppo', pricingModel: 'contract', dimensions: DIMENSIONS });
    expect(cppo.statusCode).toBe(400);
    expect(problemText(cppo)).toMatch(/needs resale/);
    expect((await call('POST', '/offers', VIEWER, { opportunity: randomUUID(), cloud: 'aws', pricingModel: 'contract', dimensions: DIMENSIONS })).statusCode).toBe(403);
    expect((await call('GET', `/offers/aws:${randomUUID()}`, VIEWER)).statusCode).toBe(404);
    const badId = await call('GET', '/offers/not-an-offer', VIEWER);
    expect(badId.statusCode).toBe(400);
    expect(problemText(badId)).toMatch(/is not a private offer id/);
    expect((await call('GET', '/offers?status=lost', VIEWER)).statusCode).toBe(400);
    expect((await call('GET', '/offers?mine=true&approver=dana@example.com', VIEWER)).statusCode).toBe(400);
  });

  it('takes events only with the connection\'s key, answers events that move no offer with 200 and ignores them, and refuses what is not an event', async () => {
    const agreementEvent = {
      version: '0', id: randomUUID(), 'detail-type': 'Purchase Agreement Created - Proposer', source: 'aws.agreement-marketplace', account: '123456789012',
      time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: { agreement: { id: 'agmt-nothing' }, offer: { id: 'offer-nobody' } },
    };
    const noKey = await event(undefined, agreementEvent);
    expect(noKey.statusCode).toBe(401);
    expect(problemText(noKey)).toBe('the x-api-key header is missing or is not the connection\'s event key');
    const wrongKey = await event(`${eventKey}x`, agreementEvent);
    expect(wrongKey.statusCode).toBe(401);
    expect(wrongKey.body).not.toContain(eventKey);
    const noConnection = await event(eventKey, agreementEvent, 'nope');
    expect(noConnection.statusCode).toBe(404);
    expect(problemText(noConnection)).toBe('no connection "nope" with aws-marketplace');

    const nobody = await event(eventKey, agreementEvent);
    expect(nobody.statusCode).toBe(200);
    expect(nobody.json()).toEqual({ event: agreementEvent.id, outcome: 'ignored', detail: `no running private offer of ${connectionName} is offer-nobody` });
    const ended = await event(eventKey, { ...agreementEvent, id: randomUUID(), 'detail-type': 'Purchase Agreement Ended - Proposer' });
    expect(ended.json()).toMatchObject({ outcome: 'ignored', detail: '"Purchase Agreement Ended - Proposer" from aws.agreement-marketplace does not move a private offer' });
    const changeSet = await event(eventKey, { ...agreementEvent, id: randomUUID(), 'detail-type': 'Change Set Succeeded', source: 'aws.marketplacecatalog', detail: { ChangeSetId: 'cs-nobody' } });
    expect(changeSet.json()).toMatchObject({ outcome: 'ignored', detail: `no running private offer of ${connectionName} follows change set cs-nobody` });

    const notJson = await event(eventKey, 'not json');
    expect(notJson.statusCode).toBe(400);
    expect(problemText(notJson)).toBe('the body is not JSON: send the EventBridge event itself');
    const notEvent = await event(eventKey, { hello: 'world' });
    expect(notEvent.statusCode).toBe(400);
    expect(problemText(notEvent)).toMatch(/^the body is not an EventBridge event: id: .*detail-type: /);
    const flood = await event(eventKey, JSON.stringify({ ...agreementEvent, padding: 'x'.repeat(WEBHOOK_BODY_LIMIT) }));
    expect(flood.statusCode).toBe(413);
  });
});
