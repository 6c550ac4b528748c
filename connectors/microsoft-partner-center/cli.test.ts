import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, expect, it } from 'vitest';
import { registerMicrosoftSandboxCommand } from './cli.js';
import type { MicrosoftSandbox } from './sandbox/server.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ecosync-ms-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('`sandbox microsoft` starts the sandbox with the given faults and prints how to connect and trust it', async () => {
  let output = '';
  let started: MicrosoftSandbox | undefined;
  const program = new Command('ecosync').exitOverride();
  registerMicrosoftSandboxCommand(program.command('sandbox'), { write: (t) => { output += t; }, onStarted: (sb) => { started = sb; } });
  await program.parseAsync(['sandbox', 'microsoft', '--port', '0', '--data-dir', dataDir, '--faults', 'rateLimitRate=0.25,latencyMs=5', '--incoming', '2'], { from: 'user' });
  try {
    expect(started).toBeDefined();
    const sb = started!;
    expect(sb.faults.current).toMatchObject({ rateLimitRate: 0.25, latencyMs: 5 });
    expect(sb.caPemPath).toBe(path.join(dataDir, 'tls', 'ca.pem'));
    expect(sb.state.referrals()).toHaveLength(2);
    for (const value of [sb.url, sb.tenantId, sb.clientId, sb.clientSecret, `NODE_EXTRA_CA_CERTS=${sb.caPemPath}`]) {
      expect(output).toContain(value);
    }
  } finally {
    await started?.close();
  }
});

it('refuses a bad number or fault plan', async () => {
  const program = new Command('ecosync').exitOverride();
  registerMicrosoftSandboxCommand(program.command('sandbox'), { write: () => {}, onStarted: (sb) => { void sb.close(); } });
  await expect(program.parseAsync(['sandbox', 'microsoft', '--port', 'eighty', '--data-dir', dataDir], { from: 'user' })).rejects.toThrow(/--port needs a whole number/);
  await expect(program.parseAsync(['sandbox', 'microsoft', '--port', '0', '--data-dir', dataDir, '--faults', 'oops=1'], { from: 'user' })).rejects.toThrow(/unknown fault "oops"/);
});
