/**
 * The Temporal server killed mid-sync (SIGKILL: no clean shutdown) and started again on the same
 * SQLite file and port, as `ecosync up` runs it: the worker reconnects by itself, the workflow
 * carries on from its history, and the sync ends where an undisturbed one ends.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/runtime/worker.js';
import { findTemporalCli, startDevServer, type DevServer } from '../../src/runtime/temporal.js';
import { ERP_HUB, TestHub, type TemporalEnv } from '../support/hub.js';
import { freePort } from '../support/process.js';
import { eventually } from '../support/temporal.js';
import { duplicates, endState, type EndState } from './end-state.js';

const seed = { accounts: 120, contactsPerAccount: 1, opportunitiesPerAccount: 1 };

describe('the Temporal server restarted mid-sync', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-temporal-'));
  let server: DevServer;
  let port: number;
  let uiPort: number;
  let connection: Connection;
  let env: TemporalEnv;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  let reference: EndState;

  const start = () => startDevServer({ cli: findTemporalCli()!, dataDir, port, uiPort, namespace: 'default', log: pino({ level: 'silent' }) });

  beforeAll(async () => {
    [port, uiPort] = [await freePort(), await freePort()];
    [server, bundle] = await Promise.all([start(), bundleWorkflows()]);
    connection = await Connection.connect({ address: server.address });
    env = { address: server.address, namespace: 'default', client: new Client({ connection }) };
    const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: seed, ns: { customers: 0 } });
    try {
      const c = await hub.connect({ ...ERP_HUB });
      expect((await hub.sync(c)).status).toBe('succeeded');
      reference = await endState(hub, c.id);
      expect(reference.hub['links Account customer']).toBe(120);
    } finally {
      await hub.close();
    }
  }, 120_000);
  afterAll(async () => {
    await connection?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('killed with SIGKILL and started again on the same file and port: the worker reconnects and the end state is the undisturbed one', async () => {
    const hub = await TestHub.start(env, bundle, { store: 'postgres', sf: seed, ns: { customers: 0 } });
    try {
      const c = await hub.connect({ ...ERP_HUB });
      await hub.requestSync(c);
      const written = () => hub.hs.state.count('companies') + hub.hs.state.count('contacts') + hub.hs.state.count('deals') + hub.ns!.state.count('customer') + hub.ns!.state.count('contact');
      await eventually(async () => written() > 0, 60_000, 'the sync to be under way');
      // The server itself, not the shell that guards it: killed the way a crashed host kills it.
      const serverPid = Number(execFileSync('pgrep', ['-P', String(server.process.pid)]).toString().trim().split('\n')[0]);
      process.kill(serverPid, 'SIGKILL');
      await eventually(async () => server.process.exitCode !== null || server.process.signalCode !== null, 30_000, 'the dev server to be gone');
      // Every account, contact and deal goes to HubSpot, and accounts and contacts to NetSuite.
      const atKill = written();
      expect(atKill).toBeLessThan(120 * 5);
      server = await start();

      // The cycle the request started finishes on the restarted server, with no help.
      const run = await eventually(async () => {
        const status = await hub.status(c);
        return status?.phase === 'idle' && status.lastRun ? status.lastRun : undefined;
      }, 120_000, 'the interrupted cycle to finish');
      expect(run.status, run.error).toBe('succeeded');
      const again = await hub.sync(c);
      expect(again.counters).toMatchObject({ created: 0, failed: 0 });
      const state = await endState(hub, c.id);
      expect(duplicates(state)).toBe(0);
      expect(state).toEqual(reference);
      console.log(`Temporal killed with ${atKill} of 600 records written; the cycle finished after the restart`);
    } finally {
      await hub.close();
    }
  }, 180_000);
});
