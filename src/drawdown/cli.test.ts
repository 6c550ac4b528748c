import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { registerRuleCommands } from '../cli/commands/rules.js';
import { loadRuleSet } from '../runtime/rules.js';

/** Runs `ecosync rules …` in-process and returns what it printed and the exit code it set. */
async function run(...args: string[]): Promise<{ out: string[]; err: string[]; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('ecosync').exitOverride();
  registerRuleCommands(program, { out: (l) => out.push(l), err: (l) => err.push(l) });
  process.exitCode = undefined;
  await program.parseAsync(['node', 'ecosync', 'rules', ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, err, code };
}

const dir = mkdtempSync(join(tmpdir(), 'rules-cli-'));
afterEach(() => {
  process.exitCode = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ecosync rules validate', () => {
  it('passes the shipped rules directory by default', async () => {
    expect(await run('validate')).toEqual({ out: ['3 rule files checked: 0 errors, 0 warnings'], err: [], code: 0 });
  });

  it('prints every finding as file:line:col and exits 1', async () => {
    const file = join(dir, 'gcp-commit.yaml');
    writeFileSync(file, 'name: gcp-commit\ncloud: gcp\nprograms: [gcp-commit]\njudgedBy: document-date\nversions:\n  - version: "1"\n    effectiveFrom: 2025-13-01\n    sourceKinds: [agreement]\n    excludedCategory:\n      - category: maps\n');
    const { out, code } = await run('validate', file);
    expect(out).toEqual([
      `${file}:7:20: error: \`versions[0].effectiveFrom\`: Invalid ISO date`,
      `${file}:9:5: error: unknown key \`excludedCategory\` (did you mean \`excludedCategories\`?); known here: \`version\`, \`description\`, \`effectiveFrom\`, \`effectiveTo\`, \`sourceKinds\`, \`share\`, \`requiredFlags\`, \`excludedCategories\`, \`excludedChannels\`, \`excludeBeforeStart\`, \`excludeOtherCountry\`, \`marketplaceCap\`, \`refunds\``,
      '1 rule file checked: 2 errors, 0 warnings',
    ]);
    expect(code).toBe(1);
  });

  it('counts warnings without failing, and checks a directory\'s files together', async () => {
    const sub = mkdtempSync(join(dir, 'set-'));
    writeFileSync(join(sub, 'test-rules.yaml'), 'name: test-rules\ncloud: aws\nprograms: [ppa]\njudgedBy: invoice-date\nversions:\n  - version: a\n    effectiveFrom: 2024-01-01\n    effectiveTo: 2024-01-31\n    sourceKinds: [usage]\n  - version: b\n    effectiveFrom: 2024-03-01\n    sourceKinds: [usage]\n');
    writeFileSync(join(sub, 'notes.txt'), 'not a rule file');
    const { out, code } = await run('validate', sub);
    expect(out).toEqual([
      `${join(sub, 'test-rules.yaml')}:11:20: warning: no version is in effect from 2024-02-01 to 2024-02-29: documents judged then count nothing`,
      '1 rule file checked: 0 errors, 1 warning',
    ]);
    expect(code).toBe(0);
  });

  it('a path that does not exist is an error, not a crash', async () => {
    const { out, err, code } = await run('validate', join(dir, 'missing.yaml'));
    expect(out).toEqual([]);
    expect(err).toEqual([expect.stringMatching(/^ecosync: cannot read .*missing\.yaml: ENOENT/)]);
    expect(code).toBe(1);
  });
});

describe('rule sets read by name (as the drawdown reads a commitment\'s)', () => {
  it('finds rules/<name>.yaml, and refuses an invalid file with every finding', async () => {
    expect((await loadRuleSet('azure-macc')).versions.map((v) => v.version)).toEqual(['2019-01']);
    const sub = mkdtempSync(join(dir, 'named-'));
    writeFileSync(join(sub, 'broken.yaml'), 'name: broken\ncloud: aws\nprograms: [edp]\njudgedBy: invoice-date\nversions: []\n');
    await expect(loadRuleSet('broken', sub)).rejects.toThrow(`rule set broken is invalid:\n${join(sub, 'broken.yaml')}:5:11: error: \`versions\`: Too small: expected array to have >=1 items`);
    await expect(loadRuleSet('../etc', sub)).rejects.toThrow('not a rule set name: "../etc"');
  });
});
