import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { draw } from './engine.js';
import { summarize, summarizePeriods } from './summary.js';
import { commitment, line, RULES_DIR, rulesFrom, shippedRules, source } from './test-kit.js';

const GCP = shippedRules('gcp-commit');
const AWS = shippedRules('aws-edp');

/** 365,000.00 over 2025: 1,000.00 a day keeps it on track. */
const year = commitment({ program: 'gcp-commit', cloud: 'gcp', ruleSet: 'gcp-commit', amount: '365000.00', startDate: '2025-01-01', endDate: '2025-12-31' });
const usage = (id: string, date: string, amount: string) => source('usage', id, date, [line(amount)]);
const ledger = draw(year, GCP, [
  usage('U1', '2025-01-31', '31000.00'),
  usage('U2', '2025-02-28', '28000.00'),
  usage('U3', '2025-03-31', '31000.00'),
  usage('U4', '2025-06-30', '150000.00'),
  usage('U5', '2025-09-30', '60000.00'),
]).entries;

describe('where a commitment stands', () => {
  it('on track: consumed, remaining, run rate and a forecast that reaches the commitment', () => {
    expect(summarize(year, ledger, '2025-03-31')).toEqual({
      commitmentId: year.id,
      currency: 'USD',
      asOf: '2025-03-31',
      period: { number: 1, start: '2025-01-01', end: '2025-12-31', amount: '365000.00' },
      committed: '365000.00',
      consumed: '90000.00',
      remaining: '275000.00',
      percentConsumed: '24.66',
      daysElapsed: 90,
      daysInPeriod: 365,
      runRatePerDay: '1000.00',
      forecast: '365000.00',
      shortfall: '0.00',
      ended: false,
      alerts: [],
    });
  });

  it('behind: the forecast falls short, and the shortfall alert waits for 30 days of run rate', () => {
    // 31,000 in 46 days: 31,000 / 46 × 365 = 245,978.26 by the end of the year.
    const feb = summarize(year, ledger, '2025-02-15');
    expect(feb).toMatchObject({ consumed: '31000.00', daysElapsed: 46, runRatePerDay: '673.91', forecast: '245978.26', shortfall: '119021.74' });
    expect(feb.alerts).toEqual([{
      key: '2025-01-01/forecast-shortfall',
      kind: 'forecast-shortfall',
      message: 'at the current run rate the 2025-01-01 to 2025-12-31 period ends 119,021.74 USD short of its 365,000.00 USD commitment (forecast 245,978.26 USD)',
    }]);
    const jan = summarize(year, ledger, '2025-01-20');
    expect(jan).toMatchObject({ consumed: '0.00', daysElapsed: 20, forecast: '0.00', shortfall: '365000.00', alerts: [] });
    expect(summarize(year, ledger, '2025-01-20', { forecastAfterDays: 10 }).alerts.map((a) => a.key)).toEqual(['2025-01-01/forecast-shortfall']);
  });

  it('raises 50, 80 and 100 % consumed as they are crossed, each with a key that stays the same', () => {
    const keys = (asOf: string) => summarize(year, ledger, asOf).alerts.map((a) => a.key);
    expect(keys('2025-06-29')).toEqual(['2025-01-01/forecast-shortfall']); // 90,000 in 180 days
    expect(keys('2025-06-30')).toEqual(['2025-01-01/consumed-50']); // 240,000: 65.75 %
    expect(keys('2025-09-30')).toEqual(['2025-01-01/consumed-50', '2025-01-01/consumed-80']); // 300,000: 82.19 %
    const full = [...ledger, ...draw(year, GCP, [usage('U6', '2025-12-31', '65000.00')], ledger).entries];
    const end = summarize(year, full, '2025-12-31');
    expect(end).toMatchObject({ consumed: '365000.00', remaining: '0.00', percentConsumed: '100.00', ended: true, forecast: '365000.00', shortfall: '0.00' });
    expect(end.alerts.map((a) => [a.key, a.message])).toEqual([
      ['2025-01-01/consumed-50', '50 % of the 2025-01-01 to 2025-12-31 commitment consumed: 365,000.00 USD of 365,000.00 USD'],
      ['2025-01-01/consumed-80', '80 % of the 2025-01-01 to 2025-12-31 commitment consumed: 365,000.00 USD of 365,000.00 USD'],
      ['2025-01-01/consumed-100', '100 % of the 2025-01-01 to 2025-12-31 commitment consumed: 365,000.00 USD of 365,000.00 USD'],
    ]);
    expect(summarize(year, ledger, '2025-09-30', { thresholds: [25, 75, 90] }).alerts.map((a) => a.key)).toEqual(['2025-01-01/consumed-25', '2025-01-01/consumed-75']);
  });

  it('after the period: final figures, and the shortfall the cloud bills', () => {
    const after = summarize(year, ledger, '2026-01-15');
    expect(after).toMatchObject({ asOf: '2026-01-15', consumed: '300000.00', ended: true, daysElapsed: 365, forecast: '300000.00', shortfall: '65000.00' });
    expect(after.alerts.at(-1)).toEqual({
      key: '2025-01-01/forecast-shortfall',
      kind: 'forecast-shortfall',
      message: 'the 2025-01-01 to 2025-12-31 period ended 65,000.00 USD short of its 365,000.00 USD commitment',
    });
  });

  it('counts an entry from its effective date: a refund lowers consumption from the day it is made', () => {
    const refund = draw(year, GCP, [source('refund', 'R1', '2025-10-15', [line('20000.00')], { refundOf: 'U4' })], ledger).entries;
    expect(summarize(year, [...ledger, ...refund], '2025-10-14').consumed).toBe('300000.00');
    expect(summarize(year, [...ledger, ...refund], '2025-10-15').consumed).toBe('280000.00');
  });

  it('a last part-year period runs on its own days and amount', () => {
    // 546,000 over 18 months: 2026-01-01..06-30 is 181 days with 181,000.00.
    const c = commitment({ ...year, amount: '546000.00', endDate: '2026-06-30' });
    const entries = draw(c, GCP, [usage('U1', '2025-05-01', '100000.00'), usage('U7', '2026-01-31', '45000.00')]).entries;
    const s = summarize(c, entries, '2026-03-31');
    expect(s).toMatchObject({
      period: { number: 2, start: '2026-01-01', end: '2026-06-30', amount: '181000.00' },
      consumed: '45000.00', percentConsumed: '24.86', daysElapsed: 90, daysInPeriod: 181,
      runRatePerDay: '500.00', forecast: '90500.00', shortfall: '90500.00',
    });
    expect(summarizePeriods(c, entries, '2026-03-31').map((p) => [p.period.number, p.consumed, p.ended])).toEqual([[1, '100000.00', true], [2, '45000.00', false]]);
    // Before the term: the first period, nothing elapsed, nothing forecast.
    expect(summarize(c, entries, '2024-12-01')).toMatchObject({ period: { number: 1 }, daysElapsed: 0, runRatePerDay: '0.00', forecast: '0.00', alerts: [] });
  });
});

describe('under a marketplace cap (AWS)', () => {
  const edp = commitment({ program: 'edp', cloud: 'aws', ruleSet: 'aws-edp', amount: '2000000.00', startDate: '2024-07-01', endDate: '2026-06-30' });
  const sources = [
    source('agreement', 'A1', '2024-08-01', [line('150000.00')], { invoiceDate: '2024-08-05' }),
    source('usage', 'U1', '2024-09-30', [line('60000.00')], { invoiceDate: '2024-10-03' }),
    source('agreement', 'A3', '2025-04-20', [line('80000.00')], { invoiceDate: '2025-04-28' }),
    source('refund', 'R1', '2025-05-15', [line('30000.00')], { refundOf: 'A1' }),
    source('agreement', 'A4', '2025-06-01', [line('50000.00', { flags: { deployedOnAws: true } })], { invoiceDate: '2025-06-10' }),
  ];

  it('shows the cap and its room, and alerts on the cap rather than forecasting a shortfall the ledger cannot see', () => {
    const entries = draw(edp, AWS, sources).entries;
    const s = summarize(edp, entries, '2025-06-30', { rules: AWS });
    expect(s).toMatchObject({ consumed: '250000.00', percentConsumed: '25.00', marketplaceCap: { percent: '25', amount: '250000.00', used: '250000.00', remaining: '0.00' } });
    expect(s.alerts.map((a) => a.key)).toEqual(['2024-07-01/marketplace-cap-50', '2024-07-01/marketplace-cap-80', '2024-07-01/marketplace-cap-100']);
    expect(s.alerts[2].message).toBe('100 % of the marketplace cap of the 2024-07-01 to 2025-06-30 period used: 250,000.00 USD of 250,000.00 USD (25 % of 1,000,000.00 USD)');
    // Without the rules the summary knows no cap.
    expect(summarize(edp, entries, '2025-06-30').alerts.map((a) => a.key)).toEqual(['2024-07-01/forecast-shortfall']);
    // The contract's own cap.
    const thirty = commitment({ ...edp, overrides: { marketplaceCapPercent: '30' } });
    expect(summarize(thirty, draw(thirty, AWS, sources).entries, '2025-06-30', { rules: AWS }).marketplaceCap)
      .toEqual({ percent: '30', amount: '300000.00', used: '300000.00', remaining: '0.00' });
  });

  it('where refunds do not free cap room, the cap\'s use keeps what a refund took back', () => {
    const rules = rulesFrom(readFileSync(`${RULES_DIR}aws-edp.yaml`, 'utf8').replaceAll('freeCapRoom: true', 'freeCapRoom: false'), 'aws-edp.yaml');
    const s = summarize(edp, draw(edp, rules, sources).entries, '2025-06-30', { rules });
    // 150,000 + 60,000 + 40,000 − 30,000 consumed; A4 found no room.
    expect(s).toMatchObject({ consumed: '220000.00', marketplaceCap: { used: '250000.00', remaining: '0.00' } });
  });
});
