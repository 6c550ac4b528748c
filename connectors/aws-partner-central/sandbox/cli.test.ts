import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerPartnerCentralSandboxCommand } from './cli.js';

describe('ecosync sandbox aws-partner-central', () => {
  it('registers under the sandbox group with its options and defaults', () => {
    const sandbox = new Command('sandbox');
    const command = registerPartnerCentralSandboxCommand(sandbox);
    expect(sandbox.commands.map((c) => c.name())).toEqual(['aws-partner-central']);
    const defaults = Object.fromEntries(command.options.map((o) => [o.long, o.defaultValue]));
    expect(defaults).toMatchObject({ '--port': 8703, '--review-delay': 5000, '--write-rate': 1, '--read-rate': 10, '--writes-per-day': 10_000 });
    expect(Object.keys(defaults)).toContain('--faults');
  });

  it('rejects a bad fault plan before starting anything', async () => {
    const program = new Command('ecosync').exitOverride();
    registerPartnerCentralSandboxCommand(program.command('sandbox').exitOverride()).exitOverride().configureOutput({ writeErr: () => {} });
    await expect(program.parseAsync(['node', 'ecosync', 'sandbox', 'aws-partner-central', '--faults', 'latencyMs=-1'])).rejects.toThrow(/non-negative/);
  });
});
