import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/temporal.js';
import { freePort, runCli, startCli, type CliRun } from '../support/process.js';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/runtime/config.js';
import { checkPorts, portFree } from '../../src/runtime/doctor.js';

describe('ecosync up (the README start command)', () => {
  let hub: CliRun | undefined;
  afterAll(() => { hub?.child.kill('SIGKILL'); });

  it('brings up Temporal with its UI, the worker, the API, the database and the demo with its co-sell inboxes and a private offer booked from the marketplace event; doctor is green; Ctrl-C stops everything', async () => {
    const [port, uiPort, apiPort, sfPort, hsPort, awsPort, msPort, nsPort, marketPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    // Every port is the test's own, the cloud sandboxes' too: a hub on the default ports may be running.
    const env = {
      ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ecosync-up-')),
      TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(uiPort), ECOSYNC_API_PORT: String(apiPort),
      ECOSYNC_DEMO_SALESFORCE_PORT: String(sfPort), ECOSYNC_DEMO_HUBSPOT_PORT: String(hsPort),
      ECOSYNC_DEMO_AWS_PORT: String(awsPort), ECOSYNC_DEMO_MICROSOFT_PORT: String(msPort), ECOSYNC_DEMO_NETSUITE_PORT: String(nsPort),
      ECOSYNC_DEMO_AWS_MARKETPLACE_PORT: String(marketPort),
    };
    hub = startCli(['up'], env);
    await eventually(async () => hub!.output().includes('Press Ctrl-C to stop.'), 90_000, `the hub to start; output so far:\n${hub.output()}`);
    expect(hub.output()).toContain(`Temporal UI   http://127.0.0.1:${uiPort}`);
    expect(hub.output()).toContain(`AWS           http://127.0.0.1:${awsPort}`);
    expect(hub.output()).toMatch(new RegExp(`Microsoft     https?://127\\.0\\.0\\.1:${msPort}`));
    expect(hub.output()).toContain(`NetSuite      http://127.0.0.1:${nsPort}/services/rest`);
    expect(hub.output()).toContain(`Marketplace   http://127.0.0.1:${marketPort}`);
    // The marketplace's events have a receiver on the demo connection, and it wants the key.
    const unsigned = await fetch(`http://127.0.0.1:${apiPort}/webhooks/aws-marketplace/demo-hub`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);

    const health = await fetch(`http://127.0.0.1:${apiPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', parts: { store: 'ok', temporal: 'ok', worker: 'ok' } });
    const ui = await eventually(async () => { const r = await fetch(`http://127.0.0.1:${uiPort}/`); return r.ok ? r : undefined; }, 20_000, 'the Temporal UI');
    expect(await ui.text()).toMatch(/<html/i);

    // The demo hub synced on its own: HubSpot holds its 50 seeded companies, Salesforce's 200
    // accounts and NetSuite's 25 customers.
    const hubspot = `http://127.0.0.1:${hsPort}`;
    const token = /token (\S+)\)/.exec(hub.output())![1];
    const companies = await eventually(async () => {
      const r = await fetch(`${hubspot}/crm/v3/objects/companies/search`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ limit: 1 }) });
      const body = (await r.json()) as { total: number };
      return body.total >= 275 ? body.total : undefined;
    }, 90_000, 'the demo sync to fill HubSpot');
    expect(companies).toBe(275);

    // The CRM sandboxes send their changes to the hub by webhook: a rename in HubSpot is taken
    // into the inbox, handed to the demo hub's workflow, and its cycle finishes.
    const scrape = async () => (await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text());
    const count = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    const acceptedBefore = count(await scrape(), /^ecosync_webhooks_total\{system="hubspot",outcome="accepted"\} (\d+)/m);
    const [first] = ((await (await fetch(`${hubspot}/crm/v3/objects/companies?limit=1`, { headers: { authorization: `Bearer ${token}` } })).json()) as { results: Array<{ id: string }> }).results;
    const renamed = await fetch(`${hubspot}/crm/v3/objects/companies/${first.id}`, {
      method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ properties: { name: 'Renamed in the demo' } }),
    });
    expect(renamed.status).toBe(200);
    await eventually(async () => {
      const text = await scrape();
      return count(text, /^ecosync_webhooks_total\{system="hubspot",outcome="accepted"\} (\d+)/m) > acceptedBefore
        && count(text, /^ecosync_webhook_to_written_seconds_count\{connection="demo-hub"\} (\d+)/m) > 0;
    }, 60_000, 'the HubSpot rename to reach the hub by webhook and its cycle to finish');

    // The co-sell inboxes run from the start: the invitations AWS and Microsoft seeded wait for an alliance manager.
    const invitations = await eventually(async () => {
      const list = await runCli(['cosell', 'list', '--status', 'pending_acceptance', '--json'], env);
      if (list.code !== 0) return undefined;
      const items = JSON.parse(list.output) as Array<{ id: string; kind: string; cloud: string; status: string }>;
      return ['aws', 'azure'].every((cloud) => items.some((i) => i.cloud === cloud)) ? items : undefined;
    }, 90_000, 'the seeded invitations of both clouds to wait for acceptance');
    expect(invitations.every((i) => i.kind === 'inbound' && i.status === 'pending_acceptance' && i.id.startsWith(`cosell-inbound:${i.cloud}:`))).toBe(true);

    // A private offer end to end, as up's output says: asked, approved, live on the AWS Marketplace
    // sandbox, accepted by the buyer there, and booked from the event the sandbox delivered to the
    // hub (the offer's own poll for an acceptance is an hour away).
    const offerArgs = /ecosync offers create (.+)$/m.exec(hub.output())![1].trim().split(/\s+/);
    const asked = await runCli(['offers', 'create', ...offerArgs, '--json'], env);
    expect(asked.code, asked.output).toBe(0);
    const offerId = (JSON.parse(asked.output) as { id: string; state: { status: string } }).id.slice('offer:'.length);
    expect(JSON.parse(asked.output).state).toMatchObject({ status: 'pending_approval', pendingApprovers: ['dana@example.com'] });
    const approved = await runCli(['offers', 'approve', offerId, '--by', 'dana@example.com'], env);
    expect(approved.code, approved.output).toBe(0);
    const offerState = async () => (JSON.parse((await runCli(['offers', 'status', offerId, '--json'], env)).output) as { state?: { status: string; cloudIds: { offerId?: string }; agreementId?: string } }).state;
    const live = await eventually(async () => { const s = await offerState(); return s?.status === 'live' ? s : undefined; }, 90_000, 'the demo offer live');
    const buyer = offerArgs[offerArgs.indexOf('--buyers') + 1];
    const accept = await fetch(`http://127.0.0.1:${marketPort}/_sandbox/offers/${live.cloudIds.offerId}/accept`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ buyerAccountId: buyer, dimensions: { BasicService: 2 } }),
    });
    expect(accept.status, await accept.clone().text()).toBe(201);
    const { agreementId } = (await accept.json()) as { agreementId: string };
    const accepted = await eventually(async () => { const s = await offerState(); return s?.status === 'accepted' ? s : undefined; }, 60_000, 'the demo offer accepted');
    expect(accepted.agreementId).toBe(agreementId);

    const doctor = await runCli(['doctor'], env);
    expect(doctor.output).toContain('✓ Workflow round trip');
    expect(doctor.output).toMatch(/✓ Connection demo-hub: salesforce ✓ .*; hubspot ✓ .*; netsuite ✓ Connected to NetSuite account TSTDRV\d+/);
    expect(doctor.output).not.toContain('✗');
    expect(doctor.code).toBe(0);

    hub.child.kill('SIGINT');
    expect(await hub.exited).toBe(0);
    for (const p of [port, uiPort, apiPort, sfPort, hsPort, awsPort, msPort, nsPort, marketPort]) expect(await portFree(p)).toBe(true);
  }, 240_000);
});

describe('ecosync up killed with SIGKILL', () => {
  it('leaves no Temporal server behind', async () => {
    const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      ECOSYNC_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ecosync-up-')),
      TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(uiPort), ECOSYNC_API_PORT: String(apiPort),
    };
    const hub = startCli(['up', '--no-demo'], env);
    try {
      await eventually(async () => hub.output().includes('Press Ctrl-C to stop.'), 90_000, `the hub to start; output so far:\n${hub.output()}`);
      expect(await portFree(port)).toBe(false);
      hub.child.kill('SIGKILL');
      await hub.exited;
      await eventually(async () => (await portFree(port)) && (await portFree(uiPort)), 20_000, 'the orphaned Temporal server to stop');
    } finally {
      hub.child.kill('SIGKILL');
    }
  }, 180_000);
});

describe('doctor before ecosync up', () => {
  it('names a demo sandbox port another process holds, and how to choose another', async () => {
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const awsPort = (held.address() as { port: number }).port;
    try {
      const ports = async (env: Record<string, string>) => {
        const [port, uiPort, apiPort, sfPort, hsPort, msPort, nsPort, marketPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
        const { config } = loadConfig({ env: {
          TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(uiPort), ECOSYNC_API_PORT: String(apiPort),
          ECOSYNC_DEMO_SALESFORCE_PORT: String(sfPort), ECOSYNC_DEMO_HUBSPOT_PORT: String(hsPort),
          ECOSYNC_DEMO_AWS_PORT: String(awsPort), ECOSYNC_DEMO_MICROSOFT_PORT: String(msPort), ECOSYNC_DEMO_NETSUITE_PORT: String(nsPort),
          ECOSYNC_DEMO_AWS_MARKETPLACE_PORT: String(marketPort), ...env,
        } });
        return { check: await checkPorts(config, false), msPort };
      };
      const { check, msPort } = await ports({});
      expect(check).toMatchObject({ ok: false, detail: `taken by another process: AWS sandbox ${awsPort}` });
      expect(check.fix).toContain('ECOSYNC_DEMO_AWS_PORT');
      expect(check.fix).toContain('ECOSYNC_DEMO_MICROSOFT_PORT');
      // The Microsoft sandbox's port is checked as well, and found free.
      const free = await ports({ ECOSYNC_DEMO_AWS_PORT: String(await freePort()) });
      expect(free.check.ok).toBe(true);
      expect(free.check.detail).toContain(`Microsoft sandbox ${free.msPort}`);
    } finally {
      await new Promise((resolve) => held.close(resolve));
    }
  });
});
