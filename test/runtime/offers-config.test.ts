import { describe, expect, it } from 'vitest';
import { stagesFor } from '../../src/cosell/approval.js';
import { DEMO_APPROVAL_POLICY, DEMO_CONNECTION_NAME, loadConfig, offerSettingsOf } from '../../src/runtime/config.js';
import { dirWith, emptyDir, problemsOf } from './config-files.js';

describe('private offer configuration', () => {
  it('works with no file: the co-sell policy, its large-amount stage also reached from 20 % off list, the demo connection, the workflow\'s timings', () => {
    const { config } = loadConfig({ env: {}, cwd: emptyDir() });
    const offers = offerSettingsOf(config);
    expect(offers.policy.stages.map((s) => [s.name, s.minAmount, s.minDiscountPercent])).toEqual([['deal_desk', undefined, undefined], ['alliance_lead', '100000', '20']]);
    expect(offers.policy.users).toEqual(DEMO_APPROVAL_POLICY.users);
    expect(offers.connection).toBe(DEMO_CONNECTION_NAME);
    expect(offers.timings).toEqual({ pollIntervalMs: 30_000, maxPollIntervalMs: 600_000, acceptancePollMs: 3_600_000, reminderDays: [7, 1] });
    // A 60,000 USD offer 9 % off list: the deal desk only; 25 % off: the alliance lead too.
    expect(stagesFor(offers.policy, { amount: '60000', currency: 'USD' }, '9.09').map((s) => s.name)).toEqual(['deal_desk']);
    expect(stagesFor(offers.policy, { amount: '60000', currency: 'USD' }, '25').map((s) => s.name)).toEqual(['deal_desk', 'alliance_lead']);
    expect(config.demo.awsMarketplacePort).toBe(8706);
  });

  it('follows a configured co-sell policy and connection when offers name none', () => {
    const { cwd } = dirWith([
      'cosell:',
      '  connection: crm-and-clouds',
      '  policy:',
      '    currency: EUR',
      '    stages:',
      '      - { name: deal_desk, roles: [deal_desk], slaSeconds: 3600 }',
      '      - { name: cfo, roles: [cfo], minAmount: "250000", slaSeconds: 7200 }',
      '    users:',
      '      ann@example.com: [deal_desk]',
      '      cy@example.com: [cfo]',
      '',
    ].join('\n'));
    const offers = offerSettingsOf(loadConfig({ env: {}, cwd }).config);
    expect(offers.policy.stages).toEqual([
      { name: 'deal_desk', roles: ['deal_desk'], slaSeconds: 3600 },
      { name: 'cfo', roles: ['cfo'], minAmount: '250000', minDiscountPercent: '20', slaSeconds: 7200 },
    ]);
    expect(offers.connection).toBe('crm-and-clouds');
  });

  it('reads the offers\' own policy, connection and timings from ecosync.yaml, the connection also from ECOSYNC_OFFERS_CONNECTION', () => {
    const { cwd } = dirWith([
      'offers:',
      '  connection: marketplaces',
      '  pollSeconds: 5',
      '  maxPollSeconds: 120',
      '  acceptancePollSeconds: 900',
      '  reminderDays: [14, 3]',
      '  policy:',
      '    currency: USD',
      '    stages:',
      '      - { name: deal_desk, roles: [deal_desk], slaSeconds: 3600 }',
      '      - { name: pricing_committee, roles: [pricing], minDiscountPercent: "30", slaSeconds: 86400 }',
      '    users:',
      '      dana@example.com: [deal_desk]',
      '      pat@example.com: [pricing]',
      '',
    ].join('\n'));
    const offers = offerSettingsOf(loadConfig({ env: {}, cwd }).config);
    expect(offers.policy.stages.map((s) => [s.name, s.minDiscountPercent])).toEqual([['deal_desk', undefined], ['pricing_committee', '30']]);
    expect(offers.policy.users).toEqual({ 'dana@example.com': ['deal_desk'], 'pat@example.com': ['pricing'] });
    expect(offers.connection).toBe('marketplaces');
    expect(offers.timings).toEqual({ pollIntervalMs: 5_000, maxPollIntervalMs: 120_000, acceptancePollMs: 900_000, reminderDays: [14, 3] });
    expect(offerSettingsOf(loadConfig({ env: { ECOSYNC_OFFERS_CONNECTION: 'from-env' }, cwd }).config).connection).toBe('from-env');
  });

  it('points at file:line:col of each problem in the offers section', () => {
    const { cwd, file } = dirWith([
      'offers:',
      '  pollSeconds: 60',
      '  maxPollSeconds: 30',
      '  reminderDays: [7, 0]',
      '  colour: blue',
      '  policy:',
      '    currency: USD',
      '    stages:',
      '      - { name: pricing, roles: [pricing], minDiscountPercent: "lots", slaSeconds: 60 }',
      '    users:',
      '      pat@example.com: [pricing]',
      '',
    ].join('\n'));
    const problems = problemsOf(() => loadConfig({ env: {}, cwd }));
    expect(problems).toContain(`${file}:3:19: offers.maxPollSeconds: at least pollSeconds (60)`);
    expect(problems).toContain(`${file}:4:21: offers.reminderDays.1: Too small: expected number to be >=1`);
    expect(problems.some((p) => p.startsWith(`${file}:5:3: offers.colour: unknown key`))).toBe(true);
    expect(problems.some((p) => p.startsWith(`${file}:9:64: offers.policy.stages.0.minDiscountPercent: `))).toBe(true);
  });
});
