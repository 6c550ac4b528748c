import { describe, expect, it } from 'vitest';
import { DEMO_APPROVAL_POLICY, DEMO_CONNECTION_NAME, loadConfig } from '../../src/runtime/config.js';
import { dirWith, emptyDir, problemsOf } from './config-files.js';

describe('co-sell configuration', () => {
  it('works with no file: the demo policy, requester, connection and AWS solution', () => {
    const cwd = emptyDir();
    const { cosell, demo } = loadConfig({ env: {}, cwd }).config;
    expect(cosell.policy.stages.map((s) => [s.name, s.minAmount])).toEqual([['deal_desk', undefined], ['alliance_lead', '100000']]);
    expect(cosell.policy.users).toEqual(DEMO_APPROVAL_POLICY.users);
    expect(cosell).toMatchObject({ requester: 'alex@example.com', connection: DEMO_CONNECTION_NAME, pollSeconds: 60, aws: { solutionIds: ['S-0000001'], involvementType: 'co_sell', visibility: 'full' }, azure: { solutionIds: ['SOL-12345-ECO'] } });
    expect(demo).toMatchObject({ awsPort: 8703, microsoftPort: 8704 });
  });

  it('reads a policy and per-cloud defaults from ecosync.yaml', () => {
    const { cwd } = dirWith([
      'cosell:',
      '  requester: ops@example.com',
      '  connection: crm-and-clouds',
      '  azure:',
      '    solutionIds: [SOL-1]',
      '    visibility: limited',
      '  policy:',
      '    currency: EUR',
      '    stages:',
      '      - { name: deal_desk, roles: [deal_desk], slaSeconds: 3600 }',
      '    users:',
      '      ann@example.com: [deal_desk]',
      '',
    ].join('\n'));
    const { cosell } = loadConfig({ env: {}, cwd }).config;
    expect(cosell.policy).toEqual({ currency: 'EUR', stages: [{ name: 'deal_desk', roles: ['deal_desk'], slaSeconds: 3600 }], users: { 'ann@example.com': ['deal_desk'] } });
    expect(cosell.azure).toEqual({ solutionIds: ['SOL-1'], involvementType: 'co_sell', visibility: 'limited' });
    expect(cosell).toMatchObject({ requester: 'ops@example.com', connection: 'crm-and-clouds' });
  });

  it('points at file:line:col of each problem in a bad policy', () => {
    const { cwd, file } = dirWith([
      'cosell:',
      '  requester: not-an-email',
      '  policy:',
      '    currency: USD',
      '    stages:',
      '      - name: Deal Desk',
      '        roles: [deal_desk]',
      '        slaSeconds: -5',
      '      - name: alliance_lead',
      '        roles: [alliance_lead]',
      '        slaSeconds: 60',
      '        colour: blue',
      '    users:',
      '      dana@example.com: [deal_desk]',
      '',
    ].join('\n'));
    const problems = problemsOf(() => loadConfig({ env: {}, cwd }));
    expect(problems).toContain(`${file}:2:14: cosell.requester: Invalid email address`);
    expect(problems).toContain(`${file}:6:15: cosell.policy.stages.0.name: a lower-case name such as deal_desk`);
    expect(problems).toContain(`${file}:8:21: cosell.policy.stages.0.slaSeconds: Too small: expected number to be >0`);
    expect(problems.some((p) => p.startsWith(`${file}:12:9: cosell.policy.stages.1.colour: `))).toBe(true);
  });

  it('says when nobody could ever approve a stage, at the stage\'s roles', () => {
    const { cwd, file } = dirWith([
      'cosell:',
      '  policy:',
      '    currency: USD',
      '    stages:',
      '      - { name: deal_desk, roles: [deal_desk], slaSeconds: 60 }',
      '    users: {}',
      '',
    ].join('\n'));
    const problems = problemsOf(() => loadConfig({ env: {}, cwd }));
    expect(problems).toEqual([`${file}:5:35: cosell.policy.stages.0.roles: nobody holds deal_desk: stage deal_desk could never be approved`]);
  });

  it('reads where reminders go from ecosync.yaml, the webhook URL also from ECOSYNC_COSELL_NOTIFY_URL', () => {
    const none = loadConfig({ env: {}, cwd: emptyDir() }).config.cosell;
    expect(none.notify).toEqual({ format: 'json' });

    const { cwd } = dirWith([
      'cosell:',
      '  notify:',
      '    webhookUrl: https://hooks.slack.com/services/T000/B000/abc',
      '    format: slack',
      '    secret: signing-key',
      '',
    ].join('\n'));
    expect(loadConfig({ env: {}, cwd }).config.cosell.notify).toEqual({ webhookUrl: 'https://hooks.slack.com/services/T000/B000/abc', format: 'slack', secret: 'signing-key' });
    const fromEnv = loadConfig({ env: { ECOSYNC_COSELL_NOTIFY_URL: 'http://localhost:9000/reminders' }, cwd }).config.cosell.notify;
    expect(fromEnv).toEqual({ webhookUrl: 'http://localhost:9000/reminders', format: 'slack', secret: 'signing-key' });
  });

  it('refuses a plain-http webhook beyond this machine and an unknown format, at file:line:col or the variable', () => {
    const { cwd, file } = dirWith([
      'cosell:',
      '  notify:',
      '    webhookUrl: http://hooks.example.com/cosell',
      '    format: teams',
      '    secret: ""',
      '',
    ].join('\n'));
    const problems = problemsOf(() => loadConfig({ env: {}, cwd }));
    expect(problems).toContain(`${file}:3:17: cosell.notify.webhookUrl: an https:// URL (http:// only to localhost)`);
    expect(problems.some((p) => p.startsWith(`${file}:4:13: cosell.notify.format: `) && p.includes('"slack"'))).toBe(true);
    expect(problems.some((p) => p.startsWith(`${file}:5:13: cosell.notify.secret: `))).toBe(true);

    const bare = emptyDir();
    expect(problemsOf(() => loadConfig({ env: { ECOSYNC_COSELL_NOTIFY_URL: 'hooks.example.com' }, cwd: bare })))
      .toEqual(['environment ECOSYNC_COSELL_NOTIFY_URL: cosell.notify.webhookUrl: an https:// URL (http:// only to localhost)']);
  });
});
