import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { ClientSecretCredential } from '@azure/identity';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/runtime/log.js';
import { RateLimitError } from '../../src/sync/protocol.js';
import { MicrosoftPartnerCenterClient, PARTNER_CENTER_SCOPE, PartnerCenterError, plainError, type MicrosoftPartnerCenterClientOptions } from './client.js';
import type { Referral } from './referral.js';
import { sampleReferralInput } from './sample.js';
import { startMicrosoftSandbox, type MicrosoftSandbox, type MicrosoftSandboxOptions } from './sandbox/server.js';
import { validateReferral } from './validate.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-ms-'));
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function sandbox(options: Partial<MicrosoftSandboxOptions> = {}): Promise<MicrosoftSandbox> {
  const sb = await startMicrosoftSandbox({ dataDir, incoming: 0, ...options });
  open.push(sb);
  return sb;
}

function clientFor(sb: MicrosoftSandbox, options: MicrosoftPartnerCenterClientOptions = {}, secret = sb.clientSecret): MicrosoftPartnerCenterClient {
  const client = new MicrosoftPartnerCenterClient(
    { tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: secret, authorityHost: sb.url, apiBaseUrl: sb.url, caPem: sb.caPem },
    { ...options, retry: { backoffMs: 5, ...options.retry } },
  );
  open.push(client);
  return client;
}

/** Repeats a call after a retryable failure, as Temporal repeats the activity that made it. */
async function asTemporalWould<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      expect(error).toMatchObject({ retryable: true });
      if (attempt >= 20) throw error;
    }
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A call that skips the client (and so its pre-validation), to see what the sandbox itself says. */
async function rawCall(sb: MicrosoftSandbox, method: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }> {
  const credential = new ClientSecretCredential(sb.tenantId, sb.clientId, sb.clientSecret, { authorityHost: sb.url, disableInstanceDiscovery: true, tlsOptions: { ca: sb.caPem } });
  const token = (await credential.getToken(PARTNER_CENTER_SCOPE)).token;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(pathname, sb.url), {
      method, ca: sb.caPem, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('tokens over TLS with the unmodified @azure/identity', () => {
  it('acquires a token from the sandbox authority and uses it for the API', async () => {
    const sb = await sandbox({ incoming: 3 });
    const client = clientFor(sb);
    const incoming = await collect(client.listReferrals({ direction: 'Incoming' }));
    expect(incoming).toHaveLength(3);
    expect(incoming.every((r) => r.status === 'New' && r.substatus === 'Received')).toBe(true);
    await client.getReferral(incoming[0].id);
    expect(sb.counters.get('200 entra.openid-configuration')).toBe(1);
    expect(sb.counters.get('200 entra.token')).toBe(1);
    expect(sb.counters.get('200 referrals.get')).toBe(1);
  });

  it('fails on TLS without the sandbox CA, and on a wrong secret without echoing it', async () => {
    const sb = await sandbox();
    const untrusting = new MicrosoftPartnerCenterClient({ tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: sb.clientSecret, authorityHost: sb.url, apiBaseUrl: sb.url });
    open.push(untrusting);
    await expect(untrusting.getReferral('x')).rejects.toMatchObject({ code: 'AuthenticationFailed' });
    expect(sb.counters.get('entra.token')).toBe(0);

    const wrong = clientFor(sb, {}, 'not-the-secret-123');
    const error = await wrong.getReferral('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerCenterError);
    expect(error).toMatchObject({ code: 'AuthenticationFailed', message: expect.stringMatching(/AADSTS7000215/) });
    expect(JSON.stringify((error as PartnerCenterError).toJSON())).not.toContain('not-the-secret-123');
    expect(sb.counters.get('401 entra.token')).toBe(1);
  });

  it('works for a separate Node process that trusts the CA through NODE_EXTRA_CA_CERTS', async () => {
    const sb = await sandbox();
    const script = `
      import { ClientSecretCredential } from '@azure/identity';
      const c = new ClientSecretCredential(process.env.T, process.env.C, process.env.S, { authorityHost: process.env.U, disableInstanceDiscovery: true });
      const t = await c.getToken('${PARTNER_CENTER_SCOPE}');
      const res = await fetch(process.env.U + '/v1.0/engagements/referrals?$top=1', { headers: { Authorization: 'Bearer ' + t.token } });
      console.log(res.status);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: sb.caPemPath, T: sb.tenantId, C: sb.clientId, S: sb.clientSecret, U: sb.url },
    });
    expect(stdout.trim()).toBe('200');
    expect(sb.counters.get('200 entra.token')).toBe(1);
  });

  it('gets a new token when the API says the old one expired', async () => {
    const sb = await sandbox({ incoming: 1, tokenLifetimeSec: 600 });
    const client = clientFor(sb);
    const [one] = await collect(client.listReferrals());
    sb.state.advanceClock(601_000);
    const again = await client.getReferral(one.id);
    expect(again.referral.id).toBe(one.id);
    expect(sb.counters.get('401 referrals.get')).toBe(1);
    expect(sb.counters.get('200 referrals.get')).toBe(1);
    expect(sb.counters.get('200 entra.token')).toBe(2);
  });
});

describe('co-sell referrals against the simulated Microsoft side', () => {
  const decide = (r: Referral) => (r.name.includes('[decline]')
    ? { accept: false as const, reason: 'Customer is already covered by a Microsoft seller' }
    : { accept: true as const });

  it('creates a Shared referral that Microsoft accepts when its decision falls due', async () => {
    const sb = await sandbox({ decisionDelayMs: 60_000, decide });
    const client = clientFor(sb);
    const created = await client.createReferral(sampleReferralInput(), 'ecosync:opp-1');
    expect(created).toMatchObject({ created: true, referral: { status: 'New', substatus: 'Pending', direction: 'Outgoing', externalReferenceId: 'ecosync:opp-1' } });
    sb.state.advanceClock(59_000);
    expect((await client.getReferral(created.referral.id)).referral.substatus).toBe('Pending');
    sb.state.advanceClock(1_000);
    const { referral, etag } = await client.getReferral(created.referral.id);
    expect(referral).toMatchObject({ status: 'Active', substatus: 'Accepted' });
    expect(Date.parse(referral.acceptedDateTime!)).toBe(Date.parse(referral.createdDateTime) + 60_000);
    expect(etag).not.toBe(created.etag);
  });

  it('reads back a decline with Microsoft\'s reason', async () => {
    const sb = await sandbox({ decisionDelayMs: 1_000, decide });
    const client = clientFor(sb);
    const { referral } = await client.createReferral(sampleReferralInput({ name: 'Fabrikam [decline]' }), 'ecosync:opp-2');
    sb.state.advanceClock(1_000);
    expect((await client.getReferral(referral.id)).referral).toMatchObject({
      status: 'Closed', substatus: 'Declined', statusReason: 'Customer is already covered by a Microsoft seller',
    });
  });

  it('declines small deals by default', async () => {
    const sb = await sandbox({ decisionDelayMs: 0 });
    const client = clientFor(sb);
    const small = sampleReferralInput();
    small.details = { ...small.details, dealValue: 500 };
    const { referral } = await client.createReferral(small, 'ecosync:opp-small');
    expect((await client.getReferral(referral.id)).referral).toMatchObject({ substatus: 'Declined', statusReason: expect.stringMatching(/threshold/) });
  });

  it('re-reads and re-applies an update once when the ETag went stale', async () => {
    const sb = await sandbox({ decisionDelayMs: 0 });
    const client = clientFor(sb);
    const { referral } = await client.createReferral(sampleReferralInput(), 'ecosync:opp-3');
    const seen = await client.getReferral(referral.id);
    expect(seen.referral.substatus).toBe('Accepted');
    // Microsoft's seller edits the deal after we read it.
    sb.state.microsoftEdit(referral.id, { details: { ...seen.referral.details, notes: 'Microsoft seller assigned' } });
    const updated = await client.updateReferral(referral.id, { substatus: 'Engaged', details: { dealValue: 150_000 } }, seen);
    expect(updated.retried).toBe(true);
    expect(updated.referral).toMatchObject({ status: 'Active', substatus: 'Engaged', details: { dealValue: 150_000, notes: 'Microsoft seller assigned' } });
    expect(sb.counters.get('412 referrals.update')).toBe(1);
    expect(sb.counters.get('200 referrals.update')).toBe(1);
    expect(sb.state.referral(referral.id).etag).toBe(updated.etag);

    // An update that changes nothing costs no call.
    const before = sb.counters.get('referrals.update');
    await client.updateReferral(referral.id, { substatus: 'Engaged' }, updated);
    expect(sb.counters.get('referrals.update')).toBe(before);
  });

  it('accepts an incoming referral and refuses a move the status machine forbids without calling', async () => {
    const sb = await sandbox({ incoming: 2 });
    const client = clientFor(sb);
    const [first, second] = await collect(client.listReferrals({ direction: 'Incoming' }));
    const accepted = await client.updateReferral(first.id, { status: 'Active', substatus: 'Accepted' });
    expect(accepted.referral).toMatchObject({ status: 'Active', substatus: 'Accepted', acceptedDateTime: expect.any(String) });

    const patches = sb.counters.get('referrals.update');
    await expect(client.updateReferral(second.id, { status: 'Closed', substatus: 'Won' })).rejects.toMatchObject({ code: 'InvalidStateTransition', fields: ['status'] });
    await expect(client.updateReferral(second.id, { status: 'Closed', substatus: 'Declined' })).rejects.toMatchObject({ code: 'InvalidInput', fields: ['statusReason'] });
    expect(sb.counters.get('referrals.update')).toBe(patches);
    // The sandbox holds the same line when the client's check is skipped.
    const raw = await rawCall(sb, 'PATCH', `/v1.0/engagements/referrals/${second.id}`, [
      { op: 'replace', path: '/status', value: 'Closed' }, { op: 'replace', path: '/substatus', value: 'Won' },
    ]);
    expect(raw).toMatchObject({ status: 400, body: { code: 'InvalidStateTransition' } });
  });

  it('lists with $filter across pages, and picks up only what changed after a cursor', async () => {
    const sb = await sandbox({ incoming: 7, maxPageSize: 50 });
    const client = clientFor(sb);
    await client.createReferral(sampleReferralInput({ type: 'Independent', consent: undefined }), 'ecosync:opp-4');
    const pages = await collect(client.listReferralPages({ direction: 'Incoming', status: 'New', pageSize: 2 }));
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    const all = pages.flat();
    expect(new Set(all.map((r) => r.id)).size).toBe(7);
    expect(all.map((r) => r.updatedDateTime)).toEqual([...all.map((r) => r.updatedDateTime)].sort());
    expect(sb.counters.get('200 referrals.list')).toBe(1 + 4); // the create's idempotency lookup, then four pages

    // An incremental reader keeps the newest updatedDateTime it has seen as its cursor.
    const cursor = (await collect(client.listReferrals())).at(-1)!.updatedDateTime;
    sb.state.advanceClock(1_000);
    sb.state.microsoftEdit(all[2].id, { statusReason: 'Customer asked for a partner demo' });
    const changed = await collect(client.listReferrals({ updatedAfter: cursor }));
    expect(changed.map((r) => r.id)).toEqual([all[2].id]);

    expect(await collect(client.listReferrals({ type: 'Independent' }))).toHaveLength(1);
    const bad = await rawCall(sb, 'GET', "/v1.0/engagements/referrals?$filter=colour eq 'red'");
    expect(bad).toMatchObject({ status: 400, body: { code: 'InvalidFilter', description: expect.stringMatching(/colour/) } });
  });

  it('creates one referral per idempotency key, even when creates fail half the time', async () => {
    const sb = await sandbox({ faults: { serverErrorRate: 0.5, endpoints: /^referrals\.create$/, seed: 7 } });
    const client = clientFor(sb);
    const results = [];
    // A failed create is repeated as the co-sell activity is, each repeat looking the key up first.
    for (let i = 0; i < 4; i++) results.push(await asTemporalWould(() => client.createReferral(sampleReferralInput(), 'ecosync:opp-5')));
    expect(results.map((r) => r.created)).toEqual([true, false, false, false]);
    expect(new Set(results.map((r) => r.referral.id)).size).toBe(1);
    expect(sb.state.referrals().filter((r) => r.externalReferenceId === 'ecosync:opp-5')).toHaveLength(1);
    expect(sb.counters.get('201 referrals.create')).toBe(1);
    expect(sb.counters.get('503 referrals.create')).toBe(2); // seed 7 fails the first two POSTs
    await expect(client.createReferral(sampleReferralInput({ externalReferenceId: 'other' }), 'ecosync:opp-5')).rejects.toMatchObject({ fields: ['externalReferenceId'] });
  });

  it('stops a bad referral before any call, naming the fields the sandbox would name', async () => {
    const sb = await sandbox();
    const client = clientFor(sb);
    const bad = sampleReferralInput({ consent: { consentToShareReferralWithMicrosoftSellers: false } });
    bad.customerProfile = { ...bad.customerProfile, address: { country: 'United States' } };
    bad.details = { ...bad.details, currency: 'dollars' };
    const error = await client.createReferral(bad, 'ecosync:opp-6').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'InvalidInput', fields: ['customerProfile.address.country', 'consent.consentToShareReferralWithMicrosoftSellers', 'details.currency'] });
    expect(sb.counters.sum(/./)).toBe(0);

    const raw = await rawCall(sb, 'POST', '/v1.0/engagements/referrals', bad);
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ code: 'InvalidInput', description: expect.any(String) });
    expect(raw.body.data.map((d: { field: string }) => d.field)).toEqual(validateReferral(bad).map((e) => e.field));
  });
});

describe('throttling and failures', () => {
  it('waits out a 429 for as long as Retry-After says', async () => {
    const sb = await sandbox({ incoming: 1 });
    const client = clientFor(sb);
    const [one] = await collect(client.listReferrals());
    sb.faults.set({ callsPerSecond: 1, endpoints: /^referrals\.get$/ });
    await client.getReferral(one.id);
    const started = Date.now();
    await client.getReferral(one.id);
    const waited = Date.now() - started;
    expect(sb.counters.get('429 referrals.get')).toBe(1);
    expect(sb.counters.get('200 referrals.get')).toBe(2);
    expect(waited).toBeGreaterThanOrEqual(1000);
  });

  it('gives up on a 429 that persists after the bounded attempts, or asks for longer than the window, with a RateLimitError', async () => {
    const sb = await sandbox({ incoming: 1 });
    const [one] = await collect(clientFor(sb).listReferrals());
    sb.faults.set({ rateLimitRate: 1, endpoints: /^referrals\.get$/ });
    const bounded = await clientFor(sb, { retry: { maxAttempts: 2 } }).getReferral(one.id).catch((e: unknown) => e);
    expect(bounded).toBeInstanceOf(RateLimitError);
    expect(bounded).toMatchObject({ retryAfterMs: 1000, message: expect.stringMatching(/^Partner Center throttled GET .*Rate limit is exceeded.*still refused after 2 attempts$/) });
    expect(sb.counters.get('429 referrals.get')).toBe(2);
    const tooLong = await clientFor(sb, { retry: { maxWaitMs: 500 } }).getReferral(one.id).catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ retryAfterMs: 1000, message: expect.stringContaining('longer than ecosync waits in process (1 attempt made)') });
    expect(sb.counters.get('429 referrals.get')).toBe(3);
  });

  it('a 5xx goes back at once as a plain, retryable error: a persistent one costs one call', async () => {
    const sb = await sandbox({ incoming: 1 });
    const client = clientFor(sb);
    const [one] = await collect(client.listReferrals());
    sb.faults.set({ serverErrorRate: 0.3, endpoints: /^referrals\.get$/, seed: 11 });
    for (let i = 0; i < 10; i++) expect((await asTemporalWould(() => client.getReferral(one.id))).referral.id).toBe(one.id);
    expect(sb.counters.get('503 referrals.get')).toBeGreaterThan(0);

    sb.faults.set({ serverErrorRate: 1, endpoints: /^referrals\.get$/ });
    const before = sb.counters.get('referrals.get');
    const error = await client.getReferral(one.id).catch((e: unknown) => e) as PartnerCenterError;
    expect(plainError(error)).toEqual({ code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.', fields: [] });
    expect(error.retryable).toBe(true);
    expect(sb.counters.get('referrals.get') - before).toBe(1);
    await expect(client.getReferral('no-such-id')).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    sb.faults.set({});
    await expect(client.getReferral('no-such-id')).rejects.toMatchObject({ code: 'NotFound', status: 404, retryable: false });
  });

  it('gives up on a hung call after the timeout, retryable, without repeating it itself', async () => {
    const sb = await sandbox({ incoming: 1, faults: { timeoutRate: 1, endpoints: /^referrals\.get$/ } });
    const client = clientFor(sb, { timeoutMs: 200 });
    const [one] = await collect(client.listReferrals());
    await expect(client.getReferral(one.id)).rejects.toMatchObject({ code: 'NetworkError', retryable: true });
    expect(sb.counters.get('referrals.get')).toBe(1);
  });

  it('never logs the client secret or a token', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const sb = await sandbox({ incoming: 1, tokenLifetimeSec: 600 });
    const client = clientFor(sb, { logger: createLogger({ level: 'debug', destination, pretty: false }) });
    const [one] = await collect(client.listReferrals());
    sb.state.advanceClock(601_000);
    // The refused token's call counts against the limit too: the call after the new token is throttled once.
    sb.faults.set({ callsPerSecond: 1, endpoints: /^referrals\.get$/ });
    await client.getReferral(one.id);
    const text = lines.join('');
    expect(text).toMatch(/calling again after the wait/);
    expect(text).toMatch(/acquiring a new one/);
    expect(text).not.toContain(sb.clientSecret);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
  });
});
