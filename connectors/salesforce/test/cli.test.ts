import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSalesforceSandboxCommand } from '../cli.js';

function program(): { root: Command; sandbox: Command } {
  const root = new Command('ecosync').exitOverride();
  const sandbox = root.command('sandbox').exitOverride();
  registerSalesforceSandboxCommand(sandbox).exitOverride().configureOutput({ writeErr: () => {} });
  return { root, sandbox };
}

describe('ecosync sandbox salesforce', () => {
  afterEach(() => vi.restoreAllMocks());

  it('rejects bad options with the reason', async () => {
    await expect(program().root.parseAsync(['node', 'ecosync', 'sandbox', 'salesforce', '--accounts', '-5'])).rejects.toThrow(/non-negative integer/);
    await expect(program().root.parseAsync(['node', 'ecosync', 'sandbox', 'salesforce', '--faults', 'nope=1'])).rejects.toThrow(/unknown fault "nope"/);
  });

  it('serves the org, prints where and how to log in, and stops on Ctrl-C', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { lines.push(args.join(' ')); });
    const run = program().root.parseAsync(['node', 'ecosync', 'sandbox', 'salesforce', '--port', '0', '--accounts', '5', '--org-id', '00D5g000004XyzE', '--faults', 'serverErrorRate=0']);
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.startsWith('Press Ctrl-C')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const url = /listening on (http:\/\/\S+)/.exec(lines.join('\n'))?.[1];
    expect(url).toBeDefined();
    expect(lines.join('\n')).toMatch(/5 Account, 10 Contact, 5 Opportunity\), org 00D5g000004XyzEEAS/);
    expect(lines.join('\n')).toMatch(/clientId\s+\S+/);
    const res = await fetch(`${url}/services/data`);
    expect(res.status).toBe(200);
    process.emit('SIGINT');
    await run;
    expect(lines.at(-1)).toMatch(/^Stopped\. API calls served: .*"versions":1/);
  });
});
