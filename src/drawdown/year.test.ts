/**
 * A year of mixed agreements, invoices, refunds and usage per program, against a ledger and a
 * year-end summary computed by hand (the arithmetic is in the comments).
 */
import { describe, expect, it } from 'vitest';
import type { DrawdownSource } from '../model/index.js';
import { draw } from './engine.js';
import { summarize } from './summary.js';
import { brief, commitment, line, shippedRules, source } from './test-kit.js';

const MONTHS = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);

/** Every source once, shuffled by a fixed rule, so the ledger cannot lean on the order they came in. */
const mixed = (sources: DrawdownSource[]) => sources.map((s, i) => [(i * 7919) % 101, s] as const).sort((a, b) => a[0] - b[0]).map(([, s]) => s);

describe('a year of AWS PPA with a 20 % marketplace cap in the contract', () => {
  const ppa = commitment({
    program: 'ppa', cloud: 'aws', ruleSet: 'aws-edp', amount: '1200000.00', startDate: '2025-01-01', endDate: '2025-12-31',
    overrides: { marketplaceCapPercent: '20' },
  });
  const deployed = { flags: { deployedOnAws: true } };
  // Usage of each month, invoiced by AWS on the 3rd of the next: December's falls after the term.
  const usage = MONTHS.map((m, i) => source('usage', `U${m}`, lastDay(2025, i + 1), [line('10000.00', deployed)], { invoiceDate: i === 11 ? '2026-01-03' : `2025-${MONTHS[i + 1]}-03` }));
  const sources = mixed([
    ...usage,
    source('agreement', 'AG1', '2025-01-15', [line('60000.00')], { invoiceDate: '2025-01-15' }),
    source('agreement', 'AG2', '2025-04-25', [line('30000.00')], { invoiceDate: '2025-05-01' }),
    source('agreement', 'AG3', '2025-06-10', [line('90000.00', deployed)], { invoiceDate: '2025-06-10' }),
    source('invoice', 'INV1', '2025-03-31', [line('25000.00', { tax: '2000.00' })]),
    source('refund', 'R1', '2025-07-01', [line('12000.00')], { refundOf: 'AG1' }),
    source('agreement', 'AG4', '2025-09-15', [line('50000.00', deployed)], { invoiceDate: '2025-09-15' }),
    source('agreement', 'AG5', '2025-09-28', [line('20000.00', deployed)], { invoiceDate: '2025-10-01', currency: 'EUR', conversion: { to: 'USD', rate: '1.10' } }),
    source('refund', 'R2', '2025-11-20', [line('10000.00')], { refundOf: 'AG4' }),
  ]);

  it('equals the hand-computed ledger', () => {
    const { entries, pending } = draw(ppa, shippedRules('aws-edp'), sources);
    expect(pending).toEqual([]);
    const P = '2025-01-01';
    // Cap 20 % of 1,200,000 = 240,000. "used" is the cap's use after each line.
    expect(brief(entries)).toEqual([
      { id: 'AG1', period: P, date: '2025-01-15', eligible: '60000.00', version: '2020-01' }, // used 60,000
      { id: 'U01', period: P, date: '2025-02-03', eligible: '10000.00', version: '2020-01' }, // 70,000
      { id: 'U02', period: P, date: '2025-03-03', eligible: '10000.00', version: '2020-01' }, // 80,000
      { id: 'INV1', period: P, date: '2025-03-31', eligible: '0.00', version: '2020-01', criteria: ['source-kind'] },
      { id: 'U03', period: P, date: '2025-04-03', eligible: '10000.00', version: '2020-01' }, // 90,000
      { id: 'AG2', period: P, date: '2025-05-01', eligible: '0.00', version: '2025-05', criteria: ['flag:deployedOnAws'] }, // bought in April, invoiced in May
      { id: 'U04', period: P, date: '2025-05-03', eligible: '10000.00', version: '2025-05' }, // 100,000
      { id: 'U05', period: P, date: '2025-06-03', eligible: '10000.00', version: '2025-05' }, // 110,000
      { id: 'AG3', period: P, date: '2025-06-10', eligible: '90000.00', version: '2025-05' }, // 200,000
      { id: 'R1', period: P, date: '2025-07-01', eligible: '-12000.00', version: '2020-01' }, // 188,000: AG1's version
      { id: 'U06', period: P, date: '2025-07-03', eligible: '10000.00', version: '2025-05' }, // 198,000
      { id: 'U07', period: P, date: '2025-08-03', eligible: '10000.00', version: '2025-05' }, // 208,000
      { id: 'U08', period: P, date: '2025-09-03', eligible: '10000.00', version: '2025-05' }, // 218,000
      { id: 'AG4', period: P, date: '2025-09-15', eligible: '22000.00', overCap: '28000.00', version: '2025-05', criteria: ['marketplace-cap'] }, // 240,000
      { id: 'AG5', period: P, date: '2025-10-01', eligible: '0.00', overCap: '22000.00', version: '2025-05', criteria: ['marketplace-cap'] }, // 20,000 EUR × 1.10
      { id: 'U09', period: P, date: '2025-10-03', eligible: '0.00', overCap: '10000.00', version: '2025-05', criteria: ['marketplace-cap'] },
      { id: 'U10', period: P, date: '2025-11-03', eligible: '0.00', overCap: '10000.00', version: '2025-05', criteria: ['marketplace-cap'] },
      // AG4 counted 22,000 of 50,000: 10,000 × 0.44 = 4,400 taken back, freeing as much room (235,600) …
      { id: 'R2', period: P, date: '2025-11-20', eligible: '-4400.00', overCap: '-5600.00', version: '2025-05', criteria: ['marketplace-cap'] },
      // … which November's usage takes: 240,000 again.
      { id: 'U11', period: P, date: '2025-12-03', eligible: '4400.00', overCap: '5600.00', version: '2025-05', criteria: ['marketplace-cap'] },
      { id: 'U12', date: '2026-01-03', eligible: '0.00', version: '2025-05', criteria: ['outside-term'] },
    ]);
    expect(entries.find((e) => e.sourceId === 'AG5')).toMatchObject({ grossAmount: '20000.00', sourceCurrency: 'EUR', conversionRate: '1.10' });

    // 60,000 + 8 × 10,000 + 4,400 (usage) + 90,000 − 12,000 + 22,000 − 4,400 = 240,000: the cap, 20 % of the year.
    const end = summarize(ppa, entries, '2025-12-31', { rules: shippedRules('aws-edp') });
    expect(end).toMatchObject({
      consumed: '240000.00', remaining: '960000.00', percentConsumed: '20.00', ended: true,
      marketplaceCap: { percent: '20', amount: '240000.00', used: '240000.00', remaining: '0.00' },
    });
    expect(end.alerts.map((a) => a.key)).toEqual(['2025-01-01/marketplace-cap-50', '2025-01-01/marketplace-cap-80', '2025-01-01/marketplace-cap-100']);
  });
});

describe('a year of Azure MACC', () => {
  const macc = commitment({ program: 'macc', cloud: 'azure', ruleSet: 'azure-macc', amount: '600000.00', startDate: '2025-01-01', endDate: '2025-12-31', country: 'US' });
  const ok = { flags: { azureBenefitEligible: true, underAgreement: true } };
  const support = { product: 'Support add-on', flags: { azureBenefitEligible: false, underAgreement: true } };
  const bought = { channel: 'azure-portal', country: 'US' } as const;
  // Microsoft's monthly invoice on the 5th: the SaaS plan (eligible), and from April a support add-on that is not.
  const monthly = MONTHS.map((m, i) => source('invoice', `M${m}`, `2025-${m}-05`, [
    line('40000.00', { ...ok, product: 'SaaS plan', tax: '3200.00' }),
    ...(i >= 3 ? [line('2000.00', support)] : []),
  ], bought));
  const sources = mixed([
    ...monthly,
    source('agreement', 'AG1', '2025-02-01', [line('480000.00', ok)], { ...bought, invoiceDate: '2025-02-01' }),
    source('usage', 'US1', '2025-03-31', [line('1500.00', ok)], { ...bought, invoiceDate: '2025-04-05' }),
    source('invoice', 'CARD1', '2025-06-15', [line('5000.00', ok)], { ...bought, channel: 'card' }),
    source('credit-note', 'CN1', '2025-07-10', [line('8000.00', { ...ok, tax: '640.00' })], { refundOf: 'M06' }),
    source('credit-note', 'CN2', '2025-08-10', [line('2000.00', support)], { refundOf: 'M05' }),
    source('invoice', 'GBP1', '2025-09-20', [line('10000.00', ok)], { ...bought, currency: 'GBP', conversion: { to: 'USD', rate: '1.27' } }),
    source('invoice', 'PRE1', '2025-10-20', [line('50000.00', { ...ok, categories: ['azure-prepayment'] })], bought),
  ]);

  it('equals the hand-computed ledger', () => {
    const { entries, pending } = draw(macc, shippedRules('azure-macc'), sources);
    expect(pending).toEqual([]);
    const P = '2025-01-01';
    const V = '2019-01';
    const month = (m: string, withSupport: boolean) => ({ id: `M${m}`, period: P, date: `2025-${m}-05`, eligible: '40000.00', version: V, ...(withSupport ? { criteria: ['flag:azureBenefitEligible'] } : {}) });
    expect(brief(entries)).toEqual([
      month('01', false),
      { id: 'AG1', period: P, date: '2025-02-01', eligible: '0.00', version: V, criteria: ['source-kind'] },
      month('02', false), month('03', false), month('04', true),
      { id: 'US1', period: P, date: '2025-04-05', eligible: '0.00', version: V, criteria: ['source-kind'] },
      month('05', true), month('06', true),
      { id: 'CARD1', period: P, date: '2025-06-15', eligible: '0.00', version: V, criteria: ['channel:card'] },
      month('07', true),
      { id: 'CN1', period: P, date: '2025-07-10', eligible: '-8000.00', version: V },
      month('08', true),
      { id: 'CN2', period: P, date: '2025-08-10', eligible: '0.00', version: V, criteria: ['flag:azureBenefitEligible'] },
      month('09', true),
      { id: 'GBP1', period: P, date: '2025-09-20', eligible: '12700.00', version: V },
      month('10', true),
      { id: 'PRE1', period: P, date: '2025-10-20', eligible: '0.00', version: V, criteria: ['category:azure-prepayment'] },
      month('11', true), month('12', true),
    ]);

    const rules = shippedRules('azure-macc');
    // 50 %: 300,000. By 5 August: 8 × 40,000 − 8,000 = 312,000; the day before, 272,000.
    expect(summarize(macc, entries, '2025-08-04', { rules }).alerts.filter((a) => a.kind === 'consumed')).toEqual([]);
    expect(summarize(macc, entries, '2025-08-05', { rules }).alerts.filter((a) => a.kind === 'consumed').map((a) => a.key)).toEqual(['2025-01-01/consumed-50']);
    // 12 × 40,000 − 8,000 + 12,700 = 484,700 (80.78 %): 115,300 short, billed at the end.
    const end = summarize(macc, entries, '2025-12-31', { rules });
    expect(end).toMatchObject({ consumed: '484700.00', remaining: '115300.00', percentConsumed: '80.78', ended: true, forecast: '484700.00', shortfall: '115300.00' });
    expect(end.marketplaceCap).toBeUndefined();
    expect(end.alerts.map((a) => a.key)).toEqual(['2025-01-01/consumed-50', '2025-01-01/consumed-80', '2025-01-01/forecast-shortfall']);
  });
});

describe('a year of Google Cloud commit, April to March', () => {
  const commit = commitment({ program: 'gcp-commit', cloud: 'gcp', ruleSet: 'gcp-commit', amount: '240000.00', startDate: '2025-04-01', endDate: '2026-03-31' });
  // Usage reported on each month's last day, April 2025 to March 2026, and March 2025's before the term.
  const usage = [...MONTHS.slice(3).map((m) => [2025, Number(m)]), ...MONTHS.slice(0, 3).map((m) => [2026, Number(m)])]
    .map(([y, m], i) => source('usage', `G${String(i + 1).padStart(2, '0')}`, lastDay(y, m), [line('15000.00')]));
  const sources = mixed([
    ...usage,
    source('usage', 'G00', '2025-03-31', [line('15000.00')]),
    source('agreement', 'AG1', '2025-04-10', [line('50000.00', { product: 'Platform subscription' }), line('10000.00', { product: 'Onboarding', categories: ['professional-services'] })]),
    source('agreement', 'AG2', '2025-06-01', [line('20000.00', { categories: ['maps'] })]),
    source('agreement', 'AG3', '2025-08-15', [line('12000.00', { categories: ['resale-not-opted-in'] })]),
    source('invoice', 'INV1', '2025-05-01', [line('60000.00', { tax: '4800.00' })]),
    source('refund', 'R1', '2025-10-01', [line('10000.00', { categories: ['professional-services'] })], { refundOf: 'AG1' }),
    source('refund', 'R2', '2025-11-01', [line('5000.00')], { refundOf: 'AG1' }),
  ]);

  it('equals the hand-computed ledger', () => {
    const { entries, pending } = draw(commit, shippedRules('gcp-commit'), sources);
    expect(pending).toEqual([]);
    const P = '2025-04-01';
    const V = '2019-01';
    const g = (n: number, date: string) => ({ id: `G${String(n).padStart(2, '0')}`, period: P, date, eligible: '15000.00', version: V });
    expect(brief(entries)).toEqual([
      { id: 'G00', date: '2025-03-31', eligible: '0.00', version: V, criteria: ['outside-term'] },
      { id: 'AG1', period: P, date: '2025-04-10', eligible: '50000.00', version: V, criteria: ['category:professional-services'] },
      g(1, '2025-04-30'),
      { id: 'INV1', period: P, date: '2025-05-01', eligible: '0.00', version: V, criteria: ['source-kind'] },
      g(2, '2025-05-31'),
      { id: 'AG2', period: P, date: '2025-06-01', eligible: '0.00', version: V, criteria: ['category:maps'] },
      g(3, '2025-06-30'), g(4, '2025-07-31'),
      { id: 'AG3', period: P, date: '2025-08-15', eligible: '0.00', version: V, criteria: ['category:resale-not-opted-in'] },
      g(5, '2025-08-31'), g(6, '2025-09-30'),
      { id: 'R1', period: P, date: '2025-10-01', eligible: '0.00', version: V, criteria: ['category:professional-services'] },
      g(7, '2025-10-31'),
      { id: 'R2', period: P, date: '2025-11-01', eligible: '-5000.00', version: V },
      g(8, '2025-11-30'), g(9, '2025-12-31'), g(10, '2026-01-31'), g(11, '2026-02-28'), g(12, '2026-03-31'),
    ]);

    // 30 September: 6 × 15,000 + 50,000 = 140,000 in 183 days; 140,000 / 183 × 365 = 279,234.97 by the end.
    const mid = summarize(commit, entries, '2025-09-30');
    expect(mid).toMatchObject({ consumed: '140000.00', percentConsumed: '58.33', daysElapsed: 183, runRatePerDay: '765.03', forecast: '279234.97', shortfall: '0.00' });
    expect(mid.alerts.map((a) => a.key)).toEqual(['2025-04-01/consumed-50']);
    // 12 × 15,000 + 50,000 − 5,000 = 225,000 (93.75 %): 15,000 short.
    const end = summarize(commit, entries, '2026-03-31');
    expect(end).toMatchObject({ consumed: '225000.00', percentConsumed: '93.75', ended: true, shortfall: '15000.00' });
    expect(end.alerts.map((a) => a.key)).toEqual(['2025-04-01/consumed-50', '2025-04-01/consumed-80', '2025-04-01/forecast-shortfall']);
  });
});
