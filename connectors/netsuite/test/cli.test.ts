import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNetSuiteConnector } from '../connector.js';
import { ConcurrencyPacer } from '../pacer.js';
import { registerNetSuiteSandboxCommand } from '../sandbox/cli.js';

function program(): Command {
  const root = new Command('ecosync').exitOverride();
  const sandbox = root.command('sandbox').exitOverride();
  registerNetSuiteSandboxCommand(sandbox).exitOverride().configureOutput({ writeErr: () => {} });
  return root;
}

describe('ecosync sandbox netsuite', () => {
  afterEach(() => vi.restoreAllMocks());

  it('rejects bad options with the reason', async () => {
    await expect(program().parseAsync(['node', 'ecosync', 'sandbox', 'netsuite', '--customers', '-1'])).rejects.toThrow(/non-negative integer/);
    await expect(program().parseAsync(['node', 'ecosync', 'sandbox', 'netsuite', '--key-algorithm', 'RS256'])).rejects.toThrow(/PS256, PS384/);
    await expect(program().parseAsync(['node', 'ecosync', 'sandbox', 'netsuite', '--concurrency-limit', '0'])).rejects.toThrow(/1 or more/);
  });

  it('serves the account, prints the settings a connector needs (they work), and stops on Ctrl-C removing its key', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { lines.push(args.join(' ')); });
    const run = program().parseAsync(['node', 'ecosync', 'sandbox', 'netsuite', '--port', '0', '--customers', '3', '--account-id', 'TSTDRV7770001']);
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.startsWith('Press Ctrl-C')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const text = lines.join('\n');
    const setting = (name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)`, 'm').exec(text)?.[1];
    expect(text).toMatch(/listening on http:\/\/\S+\/services\/rest \(3 customer, 6 contact/);
    expect(setting('accountId')).toBe('TSTDRV7770001');
    const keyPath = setting('privateKey')!;
    expect(existsSync(keyPath)).toBe(true);
    const ns = createNetSuiteConnector({
      accountId: setting('accountId')!, baseUrl: setting('baseUrl')!, clientId: setting('clientId')!,
      certificateId: setting('certificateId')!, privateKey: readFileSync(keyPath, 'utf8'),
    }, { pacer: new ConcurrencyPacer(2) });
    expect(await ns.identify()).toMatchObject({ instance: 'netsuite:TSTDRV7770001' });
    process.emit('SIGINT');
    await run;
    expect(lines.at(-1)).toMatch(/^Stopped\. API calls served: .*"token":1/);
    expect(existsSync(keyPath)).toBe(false);
  });
});
