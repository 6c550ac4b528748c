import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../microsoft-partner-center/sandbox/server.js';
import { registerMicrosoftMarketplaceSandboxCommand } from '../sandbox/cli.js';
import { call, tokenFor } from './helpers.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-msmp-cli-'));
let entra: MicrosoftSandbox;
beforeAll(async () => { entra = await startMicrosoftSandbox({ dataDir, incoming: 0 }); });
afterAll(async () => {
  await entra?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function program(): Command {
  const root = new Command('ecosync').exitOverride();
  const sandbox = root.command('sandbox').exitOverride();
  registerMicrosoftMarketplaceSandboxCommand(sandbox).exitOverride().configureOutput({ writeErr: () => {} });
  return root;
}

describe('ecosync sandbox microsoft-marketplace', () => {
  afterEach(() => vi.restoreAllMocks());

  it('rejects bad options with the reason', async () => {
    const run = (...args: string[]) => program().parseAsync(['node', 'ecosync', 'sandbox', 'microsoft-marketplace', ...args]);
    await expect(run('--port', 'eighty')).rejects.toThrow(/non-negative integer/);
    await expect(run('--authority', 'localhost')).rejects.toThrow(/absolute URL/);
    await expect(run('--port', '0', '--authority-ca', path.join(dataDir, 'missing.pem'))).rejects.toThrow(/start `ecosync sandbox microsoft` first/);
    await expect(run('--port', '0', '--authority', entra.url, '--authority-ca', entra.caPemPath, '--client-secret', 's')).rejects.toThrow(/--tenant-id and --client-id go together/);
    await expect(run('--faults', 'oops=1')).rejects.toThrow(/unknown fault "oops"/);
  });

  it('serves the marketplace, prints the endpoints and the Entra settings (they work), and stops on Ctrl-C', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { lines.push(args.join(' ')); });
    const run = program().parseAsync([
      'node', 'ecosync', 'sandbox', 'microsoft-marketplace', '--port', '0', '--authority', entra.url, '--authority-ca', entra.caPemPath,
      '--tenant-id', entra.tenantId, '--client-id', entra.clientId, '--faults', 'latencyMs=1',
    ]);
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.startsWith('Press Ctrl-C')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const text = lines.join('\n');
    const setting = (name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)`, 'm').exec(text)?.[1];
    expect(text).toMatch(/^Microsoft commercial marketplace sandbox listening on http:\/\/127\.0\.0\.1:\d+$/m);
    expect(setting('authority host')).toBe(entra.url);
    expect(text).toContain(`offers' app        ${entra.clientId}`);
    expect(text).toMatch(/Products: ecosync-analytics \(product\/[0-9a-f-]+\): basic, pro; ecosync-seats/);

    const graphScope = /Product Ingestion\s+scope (\S+)/.exec(text)![1];
    const saasScope = /SaaS and metering\s+scope (\S+)/.exec(text)![1];
    const offers = await call(`${setting('Product Ingestion')}/private-offer/query?$version=2023-07-15`, { token: await tokenFor(entra, graphScope) });
    expect(offers).toMatchObject({ status: 200, body: { value: [] } });
    const subscriptions = await call(`${setting('SaaS fulfillment')}?api-version=2018-08-31`, { token: await tokenFor(entra, saasScope) });
    expect(subscriptions.status).toBe(200);

    process.emit('SIGINT');
    await run;
    expect(lines.at(-1)).toMatch(/^Stopped\. API calls served: .*"ingestion\.private-offers":1/);
  });
});
