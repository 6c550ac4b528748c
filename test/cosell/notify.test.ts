import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundCoSell } from '../../src/model/cosell-inbound.js';
import type { CoSellReferral } from '../../src/model/index.js';
import { createActivities } from '../../src/runtime/activities.js';
import { defaultCoSellSettings, type NotifySettings } from '../../src/runtime/config.js';
import { webhookNotifier } from '../../src/runtime/notify.js';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { approveUpdate } from '../../workflows/cosell.js';
import { eventually, startTestTemporal } from '../support/temporal.js';
import { CoSellHub, DEAL_DESK, ESCALATION, sampleAccount, sampleOpportunityFor, testPolicy } from './support.js';

const SECRET = 'reminder-signing-key';
const REMINDER = { to: ['dana@example.com', 'boss@example.com'], subject: 'Co-sell waiting for deal_desk approval', text: 'aws co-sell of opportunity 42 waits for stage deal_desk.' };
const SENT_AT = new Date('2025-03-04T05:06:07.000Z');
const silent = pino({ level: 'silent' });

interface Received {
  method?: string;
  path?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local webhook receiver: records each request and answers with `answer(body)`'s status (200 unless told). */
async function startReceiver(answer: (body: string) => number | 'hang' = () => 200): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method, path: req.url, headers: req.headers, body });
      const status = answer(body);
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `refused ${req.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** What a receiver computes: the HMAC of "<timestamp header>.<raw body>". */
function signatureOf(request: { headers: Record<string, unknown>; body: string }, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${String(request.headers['x-ecosync-timestamp'])}.${request.body}`).digest('hex')}`;
}

async function failureOf(run: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the reminder to fail');
}

function notifier(settings: NotifySettings, timeoutMs?: number) {
  const notify = webhookNotifier(settings, { log: silent, now: () => SENT_AT, timeoutMs });
  if (!notify) throw new Error('expected a notifier');
  return notify;
}

describe('approval reminders to a webhook', () => {
  it('posts { to, subject, text, sentAt } signed with HMAC-SHA256 of the raw body', async () => {
    const receiver = await startReceiver();
    try {
      await notifier({ webhookUrl: `${receiver.url}/hooks/cosell`, format: 'json', secret: SECRET })(REMINDER);
      expect(receiver.received).toHaveLength(1);
      const [request] = receiver.received;
      expect(request).toMatchObject({ method: 'POST', path: '/hooks/cosell' });
      expect(request.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request.body)).toEqual({ ...REMINDER, sentAt: '2025-03-04T05:06:07.000Z' });
      expect(request.headers['x-ecosync-signature']).toBe(signatureOf(request, SECRET));
      expect(request.headers['x-ecosync-timestamp']).toBe(String(SENT_AT.getTime() / 1000));
    } finally {
      await receiver.close();
    }
  });

  it('posts a Slack incoming-webhook message, signed, with Slack markup escaped', async () => {
    const receiver = await startReceiver();
    try {
      await notifier({ webhookUrl: `${receiver.url}/services/T000/B000/abc`, format: 'slack', secret: SECRET })({ ...REMINDER, text: 'Acme <EMEA> & partners waits.' });
      const [request] = receiver.received;
      expect(JSON.parse(request.body)).toEqual({
        text: '*Co-sell waiting for deal_desk approval*\nAcme &lt;EMEA&gt; &amp; partners waits.\nto: dana@example.com, boss@example.com',
      });
      expect(request.headers['x-ecosync-signature']).toBe(signatureOf(request, SECRET));
      expect(signatureOf(request, 'another-key')).not.toBe(request.headers['x-ecosync-signature']);
      // The timestamp is signed: the same body replayed under a new timestamp does not verify.
      expect(signatureOf({ ...request, headers: { ...request.headers, 'x-ecosync-timestamp': '1' } }, SECRET)).not.toBe(request.headers['x-ecosync-signature']);
    } finally {
      await receiver.close();
    }
  });

  it('sends no signature without a secret, and no notifier without a URL', async () => {
    const receiver = await startReceiver();
    try {
      await notifier({ webhookUrl: receiver.url, format: 'json' })(REMINDER);
      expect(receiver.received[0].headers).not.toHaveProperty('x-ecosync-signature');
      expect(receiver.received[0].headers).not.toHaveProperty('x-ecosync-timestamp');
      expect(webhookNotifier({ format: 'json', secret: SECRET }, { log: silent })).toBeUndefined();
      expect(webhookNotifier(undefined, { log: silent })).toBeUndefined();
    } finally {
      await receiver.close();
    }
  });

  it('a 5xx, 408, 429, a timeout or an unreachable receiver is retryable; a 404 or a redirect is refused for good', async () => {
    let status = 500;
    const receiver = await startReceiver(() => status);
    const hanging = await startReceiver(() => 'hang');
    try {
      const notify = notifier({ webhookUrl: `${receiver.url}/hook?token=do-not-show`, format: 'json', secret: SECRET });
      for (const retryable of [500, 503, 408, 429]) {
        status = retryable;
        const failure = await failureOf(() => notify(REMINDER));
        expect(failure).toMatchObject({ type: 'NotifyFailed', nonRetryable: false });
        expect(failure.message).toContain(`${receiver.url} answered ${retryable}`);
      }
      for (const refused of [404, 400, 401, 410, 301]) {
        status = refused;
        const failure = await failureOf(() => notify(REMINDER));
        expect(failure).toMatchObject({ type: 'NotifyRefused', nonRetryable: true });
        expect(failure.message).toContain(`answered ${refused}`);
      }
      // The receiver echoed the path and query: neither reaches the message, which gets logged.
      status = 404;
      expect((await failureOf(() => notify(REMINDER))).message).not.toMatch(/do-not-show|\/hook/);

      const timedOut = await failureOf(() => notifier({ webhookUrl: hanging.url, format: 'json' }, 300)(REMINDER));
      expect(timedOut).toMatchObject({ type: 'NotifyFailed', nonRetryable: false });
      expect(timedOut.message).toContain('no answer within 0.3 s');

      const closed = await startReceiver();
      await closed.close();
      const unreachable = await failureOf(() => notifier({ webhookUrl: `${closed.url}/x?token=do-not-show`, format: 'json' })(REMINDER));
      expect(unreachable).toMatchObject({ type: 'NotifyFailed', nonRetryable: false });
      expect(unreachable.message).not.toContain('do-not-show');
    } finally {
      await Promise.all([receiver.close(), hanging.close()]);
    }
  });
});

describe('co-sell reminders reach the webhook', () => {
  let env: TestWorkflowEnvironment;
  let hub: CoSellHub;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  /** Opportunities whose reminders the webhook refuses (404). */
  const refusedFor = new Set<string>();
  beforeAll(async () => {
    const refuse = (body: string) => ([...refusedFor].some((id) => body.includes(id)) ? 404 : 200);
    const [started, bundle, listening] = await Promise.all([startTestTemporal(), bundleWorkflows(), startReceiver(refuse)]);
    env = started;
    receiver = listening;
    hub = await CoSellHub.start(env, bundle, { notify: webhookNotifier({ webhookUrl: `${receiver.url}/cosell`, format: 'json', secret: SECRET }, { log: silent }) });
  });
  afterAll(async () => {
    await hub?.close();
    await env?.teardown();
    await receiver?.close();
  });

  it('an approval stage whose SLA lapses posts the escalation, signed, to the webhook', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
    const handle = await hub.submit(hub.input('aws', { opportunity, account, policy: testPolicy(1) }));
    const request = await eventually(async () => receiver.received.find((r) => r.body.includes(opportunity.id) && r.body.includes(`Escalated to ${ESCALATION}`)), 20_000, 'the escalation at the webhook');
    const posted = JSON.parse(request.body) as { to: string[]; subject: string };
    expect(posted).toMatchObject({ to: [ESCALATION, DEAL_DESK], subject: 'Co-sell waiting for deal_desk approval' });
    expect(request.headers['x-ecosync-signature']).toBe(signatureOf(request, SECRET));

    await handle.executeUpdate(approveUpdate, { args: [{ by: ESCALATION }] });
    expect((await handle.result()).status).toBe('approved');
  });

  it('a webhook that refuses a reminder does not stop the co-sell: the next lapse reminds again', async () => {
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '5000.00', currency: 'USD' } });
    refusedFor.add(opportunity.id);
    const handle = await hub.submit(hub.input('aws', { opportunity, account, policy: testPolicy(1) }));
    const reminders = () => receiver.received.filter((r) => r.body.includes(opportunity.id)).length;
    // The refused reminder is not retried and the co-sell waits on: the next lapse reminds again.
    await eventually(async () => reminders() >= 2, 20_000, 'a second reminder after the refused one');
    expect((await handle.describe()).status.name).toBe('RUNNING');

    await handle.executeUpdate(approveUpdate, { args: [{ by: DEAL_DESK }] });
    expect((await handle.result()).status).toBe('approved');
  });

  it('the worker\'s activities send outbound and inbound reminders to the configured webhook', async () => {
    const activities = createActivities({
      store: hub.db.store, client: env.client, taskQueue: hub.taskQueue, log: silent,
      cosell: { ...defaultCoSellSettings(), notify: { webhookUrl: `${receiver.url}/wired`, format: 'slack' } },
    });
    const referral = { id: 'ref-1', cloud: 'aws', opportunityId: 'opp-wired', requestedBy: 'alex@example.com' } as CoSellReferral;
    await activities.remindApprovers({ referral, stage: 'deal_desk', approvers: [DEAL_DESK] });
    const inbound = { cloud: 'azure', invitationId: 'inv-wired', sender: { company: 'Microsoft' }, project: { title: 'Data platform' }, customer: { company: 'Fabrikam' } } as InboundCoSell;
    await activities.remindInboundApprovers({ inbound, approvers: [DEAL_DESK], escalatedTo: ESCALATION });

    const wired = receiver.received.filter((r) => r.path === '/wired').map((r) => (JSON.parse(r.body) as { text: string }).text);
    expect(wired).toHaveLength(2);
    expect(wired[0]).toContain('opp-wired');
    expect(wired[1]).toContain('inv-wired');
    expect(wired[1]).toContain(`Escalated to ${ESCALATION}`);
  });
});
