import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerMappingCommands } from '../cli/commands/mappings.js';
import { objectSpecOf as schemaFor } from '../../connectors/registry.js';

/** Runs `ecosync mappings …` in-process and returns what it printed and the exit code it set. */
async function run(...args: string[]): Promise<{ out: string[]; err: string[]; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('ecosync').exitOverride();
  registerMappingCommands(program, { schemaFor, out: (l) => out.push(l), err: (l) => err.push(l) });
  process.exitCode = undefined;
  await program.parseAsync(['node', 'ecosync', 'mappings', ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, err, code };
}

afterEach(() => {
  process.exitCode = undefined;
});

const dir = mkdtempSync(join(tmpdir(), 'mappings-cli-'));
const broken = join(dir, 'broken.yaml');
writeFileSync(broken, 'system: salesforce\nobject: Opportunity\nentity: Opportunity\nfields:\n  name: Name\n  stage: StageNam\n  closeDate:\n    from: CloseDate\n    type: datetime\n');

describe('ecosync mappings validate', () => {
  it('passes the shipped mappings directory by default', async () => {
    const { out, code } = await run('validate');
    expect(out).toEqual(['14 mapping files checked: 0 errors, 0 warnings']);
    expect(code).toBe(0);
  });

  it('prints every finding as file:line:col and exits 1', async () => {
    const { out, code } = await run('validate', broken);
    expect(out).toEqual([
      `${broken}:6:10: error: salesforce Opportunity has no field \`StageNam\` (did you mean \`StageName\`?)`,
      `${broken}:9:11: error: type \`datetime\` does not fit \`closeDate\`, which is a calendar date; use \`date\``,
      '1 mapping file checked: 2 errors, 0 warnings',
    ]);
    expect(code).toBe(1);
  });

  it('checks the co-sell payload files against the clouds\' schemas', async () => {
    for (const file of ['mappings/aws-partner-central-opportunity.yaml', 'mappings/microsoft-partner-center-referral.yaml']) {
      const { out, code } = await run('validate', file);
      expect(out).toEqual(['1 mapping file checked: 0 errors, 0 warnings']);
      expect(code).toBe(0);
    }
    const cloud = join(dir, 'cloud.yaml');
    writeFileSync(cloud, 'system: microsoft-partner-center\nobject: referrals\nentity: CoSellSubmission\nshape: document\ndefaults:\n  direction: outbound\nfields:\n  opportunity.name: nme\n  involvementType:\n    from: type\n    map:\n      Shard: co_sell\n');
    const { out, code } = await run('validate', cloud);
    expect(out).toEqual([
      `${cloud}:8:21: error: microsoft-partner-center referrals has no field \`nme\` (did you mean \`name\`?)`,
      // The map gives visibility-only referrals no type: they could not be written.
      `${cloud}:12:7: warning: canonical \`for_visibility_only\` has no system value: records with it will fail to write; add it under \`reverse:\``,
      `${cloud}:12:7: error: \`Shard\` is not a value of type in microsoft-partner-center referrals (did you mean \`Shared\`?)`,
      '1 mapping file checked: 2 errors, 1 warning',
    ]);
    expect(code).toBe(1);
  });

  it('says when the path cannot be read', async () => {
    const { err, code } = await run('validate', join(dir, 'missing'));
    expect(err[0]).toMatch(/^ecosync: cannot read .*missing: ENOENT/);
    expect(code).toBe(1);
  });
});

describe('ecosync mappings preview', () => {
  it('maps a Salesforce record given inline', async () => {
    const record = { Name: 'Acme', Amount: 1250.5, CurrencyIsoCode: 'USD', StageName: 'Closed Won', CloseDate: '2024-05-01', AccountId: '001A' };
    const { out, err, code } = await run('preview', 'mappings/salesforce-opportunity.yaml', '--input', JSON.stringify(record));
    expect(JSON.parse(out.join('\n'))).toEqual({ name: 'Acme', amount: { amount: '1250.50', currency: 'USD' }, stage: 'closed_won', closeDate: '2024-05-01' });
    expect(err).toEqual(['note: accountId refers to Account 001A, which a preview does not translate (the sync does)']);
    expect(code).toBe(0);
  });

  it('maps a canonical record back with --reverse, from a file', async () => {
    const input = join(dir, 'deal.json');
    writeFileSync(input, JSON.stringify({ name: 'Acme', stage: 'negotiation', closeDate: '2024-05-01', amount: { amount: '10.00', currency: 'EUR' } }));
    const { out, code } = await run('preview', 'mappings/hubspot-deal.yaml', '--input', input, '--reverse');
    expect(JSON.parse(out.join('\n'))).toMatchObject({ pipeline: 'default', dealname: 'Acme', dealstage: 'contractsent', amount: '10.00', deal_currency_code: 'EUR', closedate: '2024-05-01T00:00:00.000Z' });
    expect(code).toBe(0);
  });

  it('exits 1 with the reasons when a record does not map', async () => {
    const { out, err, code } = await run('preview', 'mappings/salesforce-opportunity.yaml', '--input', '[{"Name":"A","StageName":"Won","CloseDate":"2024-05-01"},{"Name":"B","StageName":"Closed Won","CloseDate":"2024-05-01"}]');
    expect(err).toEqual([
      'record 1: error: stage: StageName "Won" has no mapping; known values: Prospecting, Qualification, Needs Analysis, Value Proposition, Id. Decision Makers, Perception Analysis, Proposal/Price Quote, Negotiation/Review, Closed Won, Closed Lost (unknown_value)',
    ]);
    expect(JSON.parse(out.join('\n'))).toEqual([{ name: 'B', stage: 'closed_won', closeDate: '2024-05-01' }]);
    expect(code).toBe(1);
  });

  it('exits 1 on a broken mapping or bad JSON', async () => {
    expect((await run('preview', broken, '--input', '{}')).code).toBe(1);
    const bad = await run('preview', 'mappings/salesforce-contact.yaml', '--input', '{"LastName": ');
    expect(bad.err[0]).toMatch(/^ecosync: --input: not valid JSON/);
    expect(bad.code).toBe(1);
  });

  it('is a usage error without --input', async () => {
    await expect(run('preview', 'mappings/salesforce-contact.yaml')).rejects.toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
  });
});
