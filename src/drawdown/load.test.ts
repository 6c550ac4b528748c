import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../mapping/diagnostics.js';
import { parseRuleSet, parseRuleSets } from './load.js';
import { versionOn } from './rules.js';
import { RULES_DIR, rulesFrom, shippedRules } from './test-kit.js';

const findings = (file: string, text: string) => parseRuleSet({ file, text }).diagnostics.map(formatDiagnostic);

const MINIMAL = `name: test-rules
cloud: aws
programs: [edp]
judgedBy: invoice-date
versions:
  - version: "1"
    effectiveFrom: 2024-01-01
    sourceKinds: [agreement]
`;

describe('shipped rule files', () => {
  it('every file in rules/ loads without a finding, one rule set per program', () => {
    const files = readdirSync(RULES_DIR).filter((n) => n.endsWith('.yaml')).sort()
      .map((n) => ({ file: `rules/${n}`, text: readFileSync(`${RULES_DIR}${n}`, 'utf8') }));
    const { ruleSets, diagnostics } = parseRuleSets(files);
    expect(diagnostics).toEqual([]);
    expect(ruleSets.map((r) => [r.name, r.cloud, r.programs, r.judgedBy])).toEqual([
      ['aws-edp', 'aws', ['edp', 'ppa'], 'invoice-date'],
      ['azure-macc', 'azure', ['macc'], 'invoice-date'],
      ['gcp-commit', 'gcp', ['gcp-commit'], 'document-date'],
    ]);
  });

  it('AWS: a 25 % marketplace cap throughout, and "Deployed on AWS" required from 1 May 2025', () => {
    const aws = shippedRules('aws-edp');
    expect(versionOn(aws, '2025-04-30')).toMatchObject({ version: '2020-01', requiredFlags: [], marketplaceCap: { percent: '25' } });
    expect(versionOn(aws, '2025-05-01')).toMatchObject({ version: '2025-05', requiredFlags: [{ flag: 'deployedOnAws' }], marketplaceCap: { percent: '25' } });
    expect(versionOn(aws, '2019-12-31')).toBeUndefined();
  });

  it('Azure and Google: 100 % of the pre-tax amount, with the programs\' exclusions', () => {
    const azure = versionOn(shippedRules('azure-macc'), '2025-01-01')!;
    expect(azure).toMatchObject({ share: { percent: '100', basis: 'pre-tax' }, sourceKinds: ['invoice'], excludeBeforeStart: true, excludeOtherCountry: true });
    expect(azure.requiredFlags.map((f) => f.flag)).toEqual(['azureBenefitEligible', 'underAgreement']);
    expect(azure.excludedChannels.map((c) => c.channel)).toEqual(['card', 'appsource', 'direct']);
    expect(azure.excludedCategories.map((c) => c.category)).toEqual(['azure-prepayment', 'hybrid', 'on-premises']);
    const gcp = versionOn(shippedRules('gcp-commit'), '2025-01-01')!;
    expect(gcp.excludedCategories.map((c) => c.category)).toEqual(['maps', 'not-on-google-cloud', 'resale-not-opted-in', 'self-owned', 'affiliate-owned', 'professional-services']);
    expect(gcp.marketplaceCap).toBeUndefined();
  });
});

describe('rule file errors at file:line:col', () => {
  it('wrong values, unknown and missing keys, each at its node', () => {
    const text = `name: aws-edp
cloud: aws
programs: [edp]
judgedBy: invoice-dat
versions:
  - version: "1"
    effectiveFrom: 2024-01-01
    sourceKinds: [agreement, refund]
    share: { percent: 120 }
    marketplaceCaps:
      percent: 25
  - version: "2"
    sourceKinds: [usage]
    requiredFlags:
      - flag: deployedOnAws
    excludedCategories:
      - category: maps
        reason: ""
`;
    expect(findings('rules/aws-edp.yaml', text)).toEqual([
      'rules/aws-edp.yaml:4:11: error: `judgedBy`: Invalid option: expected one of "invoice-date"|"document-date"',
      'rules/aws-edp.yaml:8:30: error: `versions[0].sourceKinds[1]`: Invalid option: expected one of "agreement"|"invoice"|"usage"',
      'rules/aws-edp.yaml:9:23: error: `versions[0].share.percent`: a percentage from 0 to 100',
      'rules/aws-edp.yaml:10:5: error: unknown key `marketplaceCaps` (did you mean `marketplaceCap`?); known here: `version`, `description`, `effectiveFrom`, `effectiveTo`, `sourceKinds`, `share`, `requiredFlags`, `excludedCategories`, `excludedChannels`, `excludeBeforeStart`, `excludeOtherCountry`, `marketplaceCap`, `refunds`',
      'rules/aws-edp.yaml:12:5: error: missing `versions[1].effectiveFrom`',
      'rules/aws-edp.yaml:15:9: error: missing `versions[1].requiredFlags[0].reason`',
      'rules/aws-edp.yaml:18:17: error: `versions[1].excludedCategories[0].reason`: Too small: expected string to have >=1 characters',
    ]);
  });

  it('versions that overlap, repeat a name, end before they start, or go out of order; a program of another cloud', () => {
    const text = `name: aws-edp
cloud: aws
programs: [edp, macc]
judgedBy: invoice-date
versions:
  - version: "1"
    effectiveFrom: 2024-01-01
    effectiveTo: 2024-12-31
    sourceKinds: [agreement]
  - version: "2"
    effectiveFrom: 2024-06-01
    sourceKinds: [usage]
  - version: "1"
    effectiveFrom: 2025-06-01
    effectiveTo: 2025-01-01
    sourceKinds: [usage]
  - version: "3"
    effectiveFrom: 2025-02-01
    sourceKinds: [usage]
`;
    expect(findings('rules/aws-edp.yaml', text)).toEqual([
      'rules/aws-edp.yaml:3:17: error: `programs[1]`: macc is a program of azure, not aws',
      'rules/aws-edp.yaml:11:20: error: `versions[1].effectiveFrom`: version 2 starts on 2024-06-01 while 1 is in effect until 2024-12-31; one version is in effect on any day',
      'rules/aws-edp.yaml:13:14: error: `versions[2].version`: version 1 is already defined (versions[0])',
      'rules/aws-edp.yaml:15:18: error: `versions[2].effectiveTo`: version 1 ends before it starts (2025-06-01)',
      'rules/aws-edp.yaml:18:20: error: `versions[3].effectiveFrom`: versions go in the order they take effect: 3 must start after 1 (2025-06-01)',
    ]);
  });

  it('YAML that does not parse, a key given twice', () => {
    expect(findings('rules/bad.yaml', 'name: bad\nversions: [\n')).toEqual([
      'rules/bad.yaml:3:1: error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(findings('rules/test-rules.yaml', MINIMAL.replace('cloud: aws\n', 'cloud: aws\ncloud: gcp\n'))).toEqual([
      'rules/test-rules.yaml:3:1: error: Map keys must be unique',
    ]);
  });

  it('a rule set in a file of another name (commitments find it by name)', () => {
    expect(findings('rules/aws.yaml', MINIMAL)).toEqual([
      'rules/aws.yaml:1:7: error: the rule set `test-rules` must be in a file named test-rules.yaml, so a commitment\'s ruleSet finds it',
    ]);
  });

  it('a gap between versions is a warning: documents judged in it count nothing', () => {
    const text = MINIMAL.replace('    effectiveFrom: 2024-01-01\n', '    effectiveFrom: 2024-01-01\n    effectiveTo: 2024-06-30\n')
      + '  - version: "2"\n    effectiveFrom: 2024-09-01\n    sourceKinds: [agreement]\n';
    const result = parseRuleSet({ file: 'rules/test-rules.yaml', text });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'rules/test-rules.yaml:11:20: warning: no version is in effect from 2024-07-01 to 2024-08-31: documents judged then count nothing',
    ]);
    const set = result.ruleSet!;
    expect(['2023-12-31', '2024-01-01', '2024-06-30', '2024-07-01', '2024-08-31', '2024-09-01', '2030-01-01'].map((d) => versionOn(set, d)?.version))
      .toEqual([undefined, '1', '1', undefined, undefined, '2', '2']);
  });

  it('defaults: 100 % pre-tax, no exclusions, refunds free cap room', () => {
    const v = rulesFrom(MINIMAL, 'test-rules.yaml').versions[0];
    expect(v).toEqual({
      version: '1', effectiveFrom: '2024-01-01', sourceKinds: ['agreement'], share: { percent: '100', basis: 'pre-tax' },
      requiredFlags: [], excludedCategories: [], excludedChannels: [], excludeBeforeStart: false, excludeOtherCountry: false,
      refunds: { freeCapRoom: true },
    });
  });
});
