import { describe, expect, it } from 'vitest';
import { Commitment, DrawdownSource, UsageRecord } from '../model/index.js';
import { commitmentPeriods, periodOn } from './periods.js';
import { commitment, CUSTOMER } from './test-kit.js';

const aws = { program: 'edp', cloud: 'aws', ruleSet: 'aws-edp' } as const;

describe('commitment periods', () => {
  it('splits whole years evenly, leap year or not', () => {
    expect(commitmentPeriods(commitment({ ...aws, amount: '3000000.00', startDate: '2024-01-01', endDate: '2026-12-31' }))).toEqual([
      { start: '2024-01-01', end: '2024-12-31', amount: '1000000.00' },
      { start: '2025-01-01', end: '2025-12-31', amount: '1000000.00' },
      { start: '2026-01-01', end: '2026-12-31', amount: '1000000.00' },
    ]);
  });

  it('gives a last part-year its share by days, the remainder of the rounding going to the last period', () => {
    // Weights 1, 1 and 181/365 (2026-01-01..06-30 of a 365-day year): 2,500,000 × 365/911 = 1,001,646.5422…
    expect(commitmentPeriods(commitment({ ...aws, amount: '2500000.00', startDate: '2024-01-01', endDate: '2026-06-30' }))).toEqual([
      { start: '2024-01-01', end: '2024-12-31', amount: '1001646.54' },
      { start: '2025-01-01', end: '2025-12-31', amount: '1001646.54' },
      { start: '2026-01-01', end: '2026-06-30', amount: '496706.92' },
    ]);
  });

  it('starts a year after 29 February on 1 March', () => {
    expect(commitmentPeriods(commitment({ ...aws, amount: '200000.00', startDate: '2024-02-29', endDate: '2026-02-28' }))).toEqual([
      { start: '2024-02-29', end: '2025-02-28', amount: '100000.00' },
      { start: '2025-03-01', end: '2026-02-28', amount: '100000.00' },
    ]);
  });

  it('rounds to the currency\'s minor units (JPY has none)', () => {
    expect(commitmentPeriods(commitment({ ...aws, amount: '1000000', currency: 'JPY', startDate: '2025-01-01', endDate: '2027-12-31' })).map((p) => p.amount))
      .toEqual(['333333', '333333', '333334']);
  });

  it('a term shorter than a year is one period', () => {
    expect(commitmentPeriods(commitment({ ...aws, amount: '50000.00', startDate: '2025-04-01', endDate: '2025-09-30' }))).toEqual([
      { start: '2025-04-01', end: '2025-09-30', amount: '50000.00' },
    ]);
  });

  it('takes the periods a contract lists (a ramp) as they are', () => {
    const periods = [
      { start: '2025-01-01', end: '2025-12-31', amount: '1000000.00' },
      { start: '2026-01-01', end: '2026-12-31', amount: '1500000.00' },
    ];
    const c = commitment({ ...aws, amount: '2500000.00', startDate: '2025-01-01', endDate: '2026-12-31', periods });
    expect(commitmentPeriods(c)).toEqual(periods);
    expect(periodOn(periods, '2025-12-31')?.start).toBe('2025-01-01');
    expect(periodOn(periods, '2026-01-01')?.start).toBe('2026-01-01');
    expect(periodOn(periods, '2024-12-31')).toBeUndefined();
    expect(periodOn(periods, '2027-01-01')).toBeUndefined();
  });
});

describe('the drawdown model refuses', () => {
  const base = { id: '0190f0a0-0000-7000-8000-0000000000c1', accountId: CUSTOMER, currency: 'USD', ...aws, amount: '2500000.00', startDate: '2025-01-01', endDate: '2026-12-31' };
  const problems = (input: unknown) => {
    const r = Commitment.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('a program of another cloud, a term ending before it starts', () => {
    expect(problems({ ...base, program: 'macc' })).toEqual(['program: macc is a program of azure, not aws']);
    expect(problems({ ...base, endDate: '2024-12-31' })).toEqual(['endDate: the term ends before it starts']);
  });

  it('listed periods with a gap, not ending with the term, or not adding up', () => {
    expect(problems({
      ...base,
      periods: [{ start: '2025-01-01', end: '2025-11-30', amount: '1000000.00' }, { start: '2026-01-01', end: '2026-11-30', amount: '1000000.00' }],
    })).toEqual([
      'periods.1.start: period 2 must start on 2025-12-01: periods follow each other from the term\'s start',
      'periods: the last period must end on the term\'s end, 2026-12-31',
      'periods: the periods\' amounts must add up to the commitment\'s amount, 2500000.00',
    ]);
  });

  it('money as a number, a negative amount, a cap over 100 %', () => {
    expect(problems({ ...base, amount: 2500000 })).toHaveLength(1);
    expect(problems({ ...base, amount: '-1.00' })).toEqual(['amount: an amount of zero or more']);
    expect(problems({ ...base, overrides: { marketplaceCapPercent: '120' } })).toEqual(['overrides.marketplaceCapPercent: a percentage from 0 to 100']);
  });

  it('a refund without its original, an original naming one, a usage hour that is not an hour', () => {
    const doc = { kind: 'refund', id: 'R1', date: '2025-03-01', currency: 'USD', lines: [{ amount: '10.00' }] };
    expect(DrawdownSource.safeParse(doc).error?.issues.map((i) => i.message)).toEqual(['a refund names the document it gives back against']);
    expect(DrawdownSource.safeParse({ ...doc, kind: 'invoice', refundOf: 'I1' }).error?.issues.map((i) => i.message))
      .toEqual(['only a refund or credit note gives back against another document, not an invoice']);
    const usage = { accountId: CUSTOMER, cloud: 'aws', product: 'prod-1', dimension: 'api_calls', quantity: '12', hour: '2025-03-01T14:00:00Z', dedupeKey: 'k1' };
    expect(UsageRecord.safeParse(usage).success).toBe(true);
    expect(UsageRecord.safeParse({ ...usage, hour: '2025-03-01T14:30:00Z' }).error?.issues.map((i) => i.message)).toEqual(['the start of an hour, e.g. "2025-03-01T14:00:00Z"']);
  });
});
