import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DrawdownSource } from '../model/index.js';
import { draw } from './engine.js';
import { brief, commitment, line, RULES_DIR, rulesFrom, shippedRules, source } from './test-kit.js';

const AWS = shippedRules('aws-edp');
const AZURE = shippedRules('azure-macc');
const GCP = shippedRules('gcp-commit');

/** Two annual periods of 1,000,000.00 USD: a marketplace cap of 250,000.00 each. */
const edp = commitment({ program: 'edp', cloud: 'aws', ruleSet: 'aws-edp', amount: '2000000.00', startDate: '2024-07-01', endDate: '2026-06-30' });
const deployed = { flags: { deployedOnAws: true } };

/** The same purchases each AWS test starts from (listed out of date order on purpose). */
const awsYear: DrawdownSource[] = [
  source('agreement', 'A4', '2025-06-01', [line('50000.00', deployed)], { invoiceDate: '2025-06-10' }),
  source('agreement', 'A1', '2024-08-01', [line('150000.00')], { invoiceDate: '2024-08-05' }),
  source('refund', 'R1', '2025-05-15', [line('30000.00')], { refundOf: 'A1' }),
  source('usage', 'U1', '2024-09-30', [line('60000.00')], { invoiceDate: '2024-10-03' }),
  source('invoice', 'INV1', '2024-10-10', [line('40000.00', { tax: '3200.00' })]),
  // Bought the same day; invoiced either side of 1 May 2025, when "Deployed on AWS" became required.
  source('agreement', 'A2', '2025-04-20', [line('80000.00')], { invoiceDate: '2025-05-02' }),
  source('agreement', 'A3', '2025-04-20', [line('80000.00')], { invoiceDate: '2025-04-28' }),
];

describe('AWS EDP/PPA', () => {
  it('counts marketplace purchases up to 25 % of each annual period, Deployed on AWS from May 2025 by invoice date', () => {
    const { entries, pending } = draw(edp, AWS, awsYear);
    expect(pending).toEqual([]);
    expect(brief(entries)).toEqual([
      { id: 'A1', period: '2024-07-01', date: '2024-08-05', eligible: '150000.00', version: '2020-01' },
      { id: 'U1', period: '2024-07-01', date: '2024-10-03', eligible: '60000.00', version: '2020-01' },
      // The seller's invoice: the agreement and its usage already carry the purchase.
      { id: 'INV1', period: '2024-07-01', date: '2024-10-10', eligible: '0.00', version: '2020-01', criteria: ['source-kind'] },
      // 250,000 − 210,000 = 40,000 of room left.
      { id: 'A3', period: '2024-07-01', date: '2025-04-28', eligible: '40000.00', overCap: '40000.00', version: '2020-01', criteria: ['marketplace-cap'] },
      { id: 'A2', period: '2024-07-01', date: '2025-05-02', eligible: '0.00', version: '2025-05', criteria: ['flag:deployedOnAws'] },
      // A1 counted in full: the refund takes back 30,000 and frees as much room under the cap …
      { id: 'R1', period: '2024-07-01', date: '2025-05-15', eligible: '-30000.00', version: '2020-01' },
      // … which A4 uses: 250,000 − 220,000 = 30,000.
      { id: 'A4', period: '2024-07-01', date: '2025-06-10', eligible: '30000.00', overCap: '20000.00', version: '2025-05', criteria: ['marketplace-cap'] },
    ]);
    const byId = new Map(entries.map((e) => [e.sourceId, e]));
    expect(byId.get('INV1')).toMatchObject({ grossAmount: '43200.00', taxAmount: '3200.00', reason: 'an invoice does not draw down aws-edp (version 2020-01 counts an agreement, a usage charge)' });
    expect(byId.get('A3')!.reason).toBe('40,000.00 USD over the marketplace cap: marketplace purchases draw at most 25 % of the period\'s 1,000,000.00 USD (250,000.00 USD), and 40,000.00 USD was left');
    expect(byId.get('A2')!.reason).toBe('line 1, 80,000.00 USD: from 1 May 2025 only SaaS products badged "Deployed on AWS" count toward an EDP or PPA');
    expect(byId.get('R1')).toMatchObject({ sourceKind: 'refund', refundOf: 'A1', grossAmount: '-30000.00', taxAmount: '0.00', ruleId: 'aws-edp' });
  });

  it('a document invoiced in the second annual period draws that period\'s own cap', () => {
    const more = [
      ...awsYear,
      source('agreement', 'A5', '2025-06-20', [line('100000.00', deployed)], { invoiceDate: '2025-07-01' }),
      source('agreement', 'A6', '2025-06-25', [line('10000.00', deployed)], { invoiceDate: '2025-06-30' }),
    ];
    expect(brief(draw(edp, AWS, more).entries).filter((e) => ['A5', 'A6'].includes(e.id))).toEqual([
      // The first period's cap is used up on its last day …
      { id: 'A6', period: '2024-07-01', date: '2025-06-30', eligible: '0.00', overCap: '10000.00', version: '2025-05', criteria: ['marketplace-cap'] },
      // … the next day is a new period with 250,000 of room.
      { id: 'A5', period: '2025-07-01', date: '2025-07-01', eligible: '100000.00', version: '2025-05' },
    ]);
  });

  it('a refund of a capped purchase takes back the share the cap let through, from the original\'s period', () => {
    const more = [...awsYear, source('refund', 'R2', '2025-07-20', [line('20000.00')], { refundOf: 'A3' })];
    const r2 = draw(edp, AWS, more).entries.find((e) => e.sourceId === 'R2')!;
    // A3 counted 40,000 of 80,000: half of the 20,000 refunded was counted.
    expect(brief([r2])).toEqual([{ id: 'R2', period: '2024-07-01', date: '2025-07-20', eligible: '-10000.00', overCap: '-10000.00', version: '2020-01', criteria: ['marketplace-cap'] }]);
    expect(r2.reason).toBe('10,000.00 USD of it was over the marketplace cap in A3');
  });

  it('a refund never takes back more than is left of its original', () => {
    const more = [...awsYear, source('refund', 'R3', '2025-08-01', [line('130000.00')], { refundOf: 'A1' })];
    const r3 = draw(edp, AWS, more).entries.find((e) => e.sourceId === 'R3')!;
    // A1 counted 150,000; R1 took back 30,000.
    expect(r3).toMatchObject({ eligibleAmount: '-120000.00', grossAmount: '-130000.00', criteria: ['more-than-original'] });
    expect(r3.reason).toBe('takes back more than is left of A1\'s 150,000.00 USD; only 120,000.00 USD');
    // A3 counted 40,000 of 80,000: of a 100,000 refund, 50,000 went through the cap, 40,000 is left to take back.
    const r4 = draw(edp, AWS, [...awsYear, source('refund', 'R4', '2025-08-01', [line('100000.00')], { refundOf: 'A3' })]).entries.find((e) => e.sourceId === 'R4')!;
    expect(r4).toMatchObject({ eligibleAmount: '-40000.00', overCapAmount: '-50000.00', criteria: ['marketplace-cap', 'more-than-original'] });
  });

  it('where the contract sets another cap, the contract wins', () => {
    const c = commitment({ ...edp, overrides: { marketplaceCapPercent: '30' } });
    expect(brief(draw(c, AWS, awsYear).entries).map((e) => [e.id, e.eligible, e.overCap])).toEqual([
      ['A1', '150000.00', undefined],
      ['U1', '60000.00', undefined],
      ['INV1', '0.00', undefined],
      ['A3', '80000.00', undefined], // 300,000 − 210,000 = 90,000 of room
      ['A2', '0.00', undefined],
      ['R1', '-30000.00', undefined],
      ['A4', '40000.00', '10000.00'], // 300,000 − 260,000
    ]);
  });

  it('where refunds do not free cap room, a refund lowers consumption but not the cap\'s use', () => {
    const text = readFileSync(`${RULES_DIR}aws-edp.yaml`, 'utf8').replaceAll('freeCapRoom: true', 'freeCapRoom: false');
    const a4 = draw(edp, rulesFrom(text, 'aws-edp.yaml'), awsYear).entries.find((e) => e.sourceId === 'A4')!;
    expect(a4).toMatchObject({ eligibleAmount: '0.00', overCapAmount: '50000.00' });
    expect(a4.reason).toContain('and 0.00 USD was left');
  });

  it('a last part-year period has the cap of its own, smaller amount', () => {
    // Periods of 1,001,646.54, 1,001,646.54 and 496,706.92 (2026-01-01..06-30): caps 250,411.64 and 124,176.73.
    const c = commitment({ ...edp, amount: '2500000.00', startDate: '2024-01-01', endDate: '2026-06-30' });
    const { entries } = draw(c, AWS, [
      source('agreement', 'P2', '2025-12-01', [line('260000.00', deployed)], { invoiceDate: '2025-12-31' }),
      source('agreement', 'P3', '2025-12-01', [line('130000.00', deployed)], { invoiceDate: '2026-01-01' }),
      source('agreement', 'LATE', '2026-06-01', [line('1000.00', deployed)], { invoiceDate: '2026-07-01' }),
    ]);
    expect(brief(entries)).toEqual([
      { id: 'P2', period: '2025-01-01', date: '2025-12-31', eligible: '250411.64', overCap: '9588.36', version: '2025-05', criteria: ['marketplace-cap'] },
      { id: 'P3', period: '2026-01-01', date: '2026-01-01', eligible: '124176.73', overCap: '5823.27', version: '2025-05', criteria: ['marketplace-cap'] },
      { id: 'LATE', date: '2026-07-01', eligible: '0.00', version: '2025-05', criteria: ['outside-term'] },
    ]);
    expect(entries[2].reason).toBe('judged on 2026-07-01, after its term ended on 2026-06-30');
  });

  it('converts at the rate recorded with the document; its refund at the original\'s rate, whatever it carries', () => {
    const { entries, pending } = draw(edp, AWS, [
      source('usage', 'EU1', '2025-07-31', [line('10000.00', deployed)], { invoiceDate: '2025-08-01', currency: 'EUR', conversion: { to: 'USD', rate: '1.0850' } }),
      source('refund', 'EU1-R', '2025-09-01', [line('1000.00')], { currency: 'EUR', conversion: { to: 'USD', rate: '1.2000' }, refundOf: 'EU1' }),
      source('usage', 'EU2', '2025-07-31', [line('10000.00', deployed)], { invoiceDate: '2025-08-01', currency: 'EUR' }),
      source('usage', 'EU3', '2025-07-31', [line('10000.00', deployed)], { invoiceDate: '2025-08-01', currency: 'EUR', conversion: { to: 'GBP', rate: '0.85' } }),
    ]);
    expect(entries.map((e) => [e.sourceId, e.grossAmount, e.sourceCurrency, e.conversionRate, e.eligibleAmount, e.currency])).toEqual([
      ['EU1', '10000.00', 'EUR', '1.0850', '10850.00', 'USD'],
      ['EU1-R', '-1000.00', 'EUR', '1.0850', '-1085.00', 'USD'],
    ]);
    expect(pending).toEqual([
      { sourceId: 'EU2', kind: 'usage', reason: 'in EUR without a recorded rate to USD; the ledger converts only at the rate recorded with the document' },
      { sourceId: 'EU3', kind: 'usage', reason: 'in EUR without a recorded rate to USD; the ledger converts only at the rate recorded with the document' },
    ]);
  });

  it('rounds a converted amount half-up to the commitment\'s currency, JPY without minor units', () => {
    const yen = commitment({ ...edp, currency: 'JPY', amount: '300000000' });
    const { entries } = draw(yen, AWS, [
      source('usage', 'Y1', '2025-07-31', [line('100.05', deployed)], { invoiceDate: '2025-08-01', conversion: { to: 'JPY', rate: '150.1' } }),
    ]);
    // 100.05 × 150.1 = 15,017.505
    expect(entries.map((e) => [e.eligibleAmount, e.currency, e.grossAmount, e.sourceCurrency])).toEqual([['15018', 'JPY', '100.05', 'USD']]);
  });
});

describe('Azure MACC', () => {
  const macc = commitment({ program: 'macc', cloud: 'azure', ruleSet: 'azure-macc', amount: '3000000.00', startDate: '2025-01-01', endDate: '2027-12-31', country: 'US' });
  const ok = { flags: { azureBenefitEligible: true, underAgreement: true } };
  const bought = { channel: 'azure-portal', country: 'US' } as const;
  const invoice = (id: string, date: string, lines: DrawdownSource['lines'], more: Partial<DrawdownSource> = {}) => source('invoice', id, date, lines, { ...bought, ...more });

  it('counts the pre-tax amount of benefit-eligible purchases Microsoft invoices, with the listed exclusions', () => {
    const { entries, pending } = draw(macc, AZURE, [
      invoice('I1', '2025-02-10', [line('12000.00', { ...ok, tax: '960.00' })]),
      invoice('I2', '2025-03-05', [line('5000.00', ok), line('3000.00', { product: 'Backup add-on', flags: { azureBenefitEligible: false, underAgreement: true } })]),
      invoice('I3', '2025-03-10', [line('4000.00', ok)], { channel: 'card' }),
      invoice('I4', '2025-03-11', [line('4000.00', ok)], { channel: 'appsource' }),
      invoice('I5', '2025-03-12', [line('4000.00', ok)], { country: 'DE' }),
      invoice('I6', '2025-01-15', [line('4000.00', ok)], { purchaseDate: '2024-12-20' }),
      invoice('I7', '2025-04-01', [line('20000.00', { ...ok, categories: ['azure-prepayment'] })]),
      invoice('I8', '2025-04-02', [line('4000.00', { flags: { azureBenefitEligible: true } })]),
      invoice('I9', '2025-05-01', [line('10000.00', ok)], { currency: 'GBP', conversion: { to: 'USD', rate: '1.2650' } }),
      invoice('I10', '2024-12-31', [line('4000.00', ok)]),
      source('agreement', 'AG1', '2025-02-01', [line('50000.00', ok)], { ...bought, invoiceDate: '2025-02-10' }),
      source('usage', 'U1', '2025-02-01', [line('100.00', ok)], bought),
      source('credit-note', 'CN1', '2025-04-10', [line('3000.00', { flags: { azureBenefitEligible: false, underAgreement: true } })], { refundOf: 'I2' }),
      source('credit-note', 'CN2', '2025-04-11', [line('2000.00', { ...ok, tax: '160.00' })], { refundOf: 'I1' }),
      source('credit-note', 'CN3', '2025-06-01', [line('1000.00', ok)], { refundOf: 'I9', currency: 'GBP', conversion: { to: 'USD', rate: '1.3000' } }),
    ]);
    expect(pending).toEqual([{ sourceId: 'U1', kind: 'usage', reason: 'not invoiced yet: azure-macc counts a document on the date the cloud invoices it' }]);
    const P = '2025-01-01';
    const V = '2019-01';
    expect(brief(entries)).toEqual([
      { id: 'I10', date: '2024-12-31', eligible: '0.00', version: V, criteria: ['outside-term'] },
      { id: 'I6', period: P, date: '2025-01-15', eligible: '0.00', version: V, criteria: ['before-start'] },
      { id: 'AG1', period: P, date: '2025-02-10', eligible: '0.00', version: V, criteria: ['source-kind'] },
      { id: 'I1', period: P, date: '2025-02-10', eligible: '12000.00', version: V },
      { id: 'I2', period: P, date: '2025-03-05', eligible: '5000.00', version: V, criteria: ['flag:azureBenefitEligible'] },
      { id: 'I3', period: P, date: '2025-03-10', eligible: '0.00', version: V, criteria: ['channel:card'] },
      { id: 'I4', period: P, date: '2025-03-11', eligible: '0.00', version: V, criteria: ['channel:appsource'] },
      { id: 'I5', period: P, date: '2025-03-12', eligible: '0.00', version: V, criteria: ['other-country'] },
      { id: 'I7', period: P, date: '2025-04-01', eligible: '0.00', version: V, criteria: ['category:azure-prepayment'] },
      { id: 'I8', period: P, date: '2025-04-02', eligible: '0.00', version: V, criteria: ['flag:underAgreement'] },
      // The line credited had not counted: nothing to take back.
      { id: 'CN1', period: P, date: '2025-04-10', eligible: '0.00', version: V, criteria: ['flag:azureBenefitEligible'] },
      { id: 'CN2', period: P, date: '2025-04-11', eligible: '-2000.00', version: V },
      { id: 'I9', period: P, date: '2025-05-01', eligible: '12650.00', version: V },
      { id: 'CN3', period: P, date: '2025-06-01', eligible: '-1265.00', version: V },
    ]);
    const reasons = Object.fromEntries(entries.map((e) => [e.sourceId, e.reason]));
    expect(reasons).toMatchObject({
      I10: 'judged on 2024-12-31, before the commitment starts on 2025-01-01',
      I6: 'bought on 2024-12-20, before the commitment\'s start on 2025-01-01',
      AG1: 'an agreement does not draw down azure-macc (version 2019-01 counts an invoice)',
      I2: 'line 2 (Backup add-on), 3,000.00 USD: the offer is not "Azure benefit eligible"',
      I3: 'paid by card at checkout, not invoiced on the agreement',
      I4: 'bought through AppSource checkout, not the Azure portal',
      I5: 'bought from DE; the commitment is for US',
      I7: 'line 1, 20,000.00 USD: Azure prepayment does not draw down a MACC',
      I8: 'line 1, 4,000.00 USD: bought on a subscription outside the MACC\'s agreement',
    });
    expect(reasons.I1).toBeUndefined();
    expect(entries.find((e) => e.sourceId === 'I1')).toMatchObject({ grossAmount: '12960.00', taxAmount: '960.00', eligibleAmount: '12000.00' });
    expect(entries.find((e) => e.sourceId === 'CN2')).toMatchObject({ grossAmount: '-2160.00', taxAmount: '-160.00' });
  });
});

describe('Google Cloud commit', () => {
  // 546,000 over 2025-01-01..2026-06-30: 365,000.00 for 2025 and 181/365 of a year, 181,000.00, for 2026.
  const gcp = commitment({ program: 'gcp-commit', cloud: 'gcp', ruleSet: 'gcp-commit', amount: '546000.00', startDate: '2025-01-01', endDate: '2026-06-30' });

  it('counts 100 % of marketplace purchases by their own date, except Maps, services off Google Cloud, resale not opted in, self-owned and professional services', () => {
    const { entries, pending } = draw(gcp, GCP, [
      source('agreement', 'AG1', '2025-01-20', [line('100000.00', { product: 'Analytics SaaS' }), line('20000.00', { product: 'Onboarding', categories: ['professional-services'] })]),
      source('agreement', 'AG2', '2025-02-01', [line('15000.00', { categories: ['maps'] })]),
      source('agreement', 'AG3', '2025-02-02', [line('8000.00', { categories: ['not-on-google-cloud'] })]),
      source('agreement', 'AG4', '2025-02-03', [line('9000.00', { categories: ['resale-not-opted-in'] })]),
      source('agreement', 'AG5', '2025-02-04', [line('7000.00', { categories: ['self-owned'] })]),
      source('agreement', 'AG6', '2025-02-05', [line('6000.00', { categories: ['affiliate-owned'] })]),
      source('agreement', 'D1', '2025-02-06', [line('5000.00')], { channel: 'direct' }),
      source('usage', 'U1', '2025-03-31', [line('12345.67')]),
      source('invoice', 'INV1', '2025-04-01', [line('120000.00')]),
      source('usage', 'U2', '2025-12-31', [line('1000.00')]),
      source('usage', 'U3', '2026-01-01', [line('1000.00')]),
      source('refund', 'R1', '2026-02-01', [line('20000.00', { categories: ['professional-services'] })], { refundOf: 'AG1' }),
      source('refund', 'R2', '2026-02-02', [line('50000.00')], { refundOf: 'AG1' }),
    ]);
    expect(pending).toEqual([]);
    const V = '2019-01';
    expect(brief(entries)).toEqual([
      { id: 'AG1', period: '2025-01-01', date: '2025-01-20', eligible: '100000.00', version: V, criteria: ['category:professional-services'] },
      { id: 'AG2', period: '2025-01-01', date: '2025-02-01', eligible: '0.00', version: V, criteria: ['category:maps'] },
      { id: 'AG3', period: '2025-01-01', date: '2025-02-02', eligible: '0.00', version: V, criteria: ['category:not-on-google-cloud'] },
      { id: 'AG4', period: '2025-01-01', date: '2025-02-03', eligible: '0.00', version: V, criteria: ['category:resale-not-opted-in'] },
      { id: 'AG5', period: '2025-01-01', date: '2025-02-04', eligible: '0.00', version: V, criteria: ['category:self-owned'] },
      { id: 'AG6', period: '2025-01-01', date: '2025-02-05', eligible: '0.00', version: V, criteria: ['category:affiliate-owned'] },
      { id: 'D1', period: '2025-01-01', date: '2025-02-06', eligible: '0.00', version: V, criteria: ['channel:direct'] },
      { id: 'U1', period: '2025-01-01', date: '2025-03-31', eligible: '12345.67', version: V },
      { id: 'INV1', period: '2025-01-01', date: '2025-04-01', eligible: '0.00', version: V, criteria: ['source-kind'] },
      { id: 'U2', period: '2025-01-01', date: '2025-12-31', eligible: '1000.00', version: V },
      { id: 'U3', period: '2026-01-01', date: '2026-01-01', eligible: '1000.00', version: V },
      // Refunds draw back from the original's period (2025), dated when they happen.
      { id: 'R1', period: '2025-01-01', date: '2026-02-01', eligible: '0.00', version: V, criteria: ['category:professional-services'] },
      { id: 'R2', period: '2025-01-01', date: '2026-02-02', eligible: '-50000.00', version: V },
    ]);
    expect(entries[0].reason).toBe('line 2 (Onboarding), 20,000.00 USD: professional services do not draw down a Google Cloud commit');
  });
});

describe('rule versions', () => {
  const rules = rulesFrom(`name: test-rules
cloud: gcp
programs: [gcp-commit]
judgedBy: document-date
versions:
  - version: a
    effectiveFrom: 2025-01-01
    effectiveTo: 2025-06-30
    sourceKinds: [agreement]
  - version: b
    effectiveFrom: 2025-07-01
    effectiveTo: 2025-09-30
    sourceKinds: [agreement]
    share: { percent: 50, basis: with-tax }
  - version: c
    effectiveFrom: 2025-11-01
    sourceKinds: [agreement]
`, 'test-rules.yaml');
  const c = commitment({ program: 'gcp-commit', cloud: 'gcp', ruleSet: 'test-rules', amount: '100000.00', startDate: '2025-01-01', endDate: '2025-12-31' });

  it('a version changing mid-period: each document by the version in effect on its date, each refund by its original\'s', () => {
    const { entries } = draw(c, rules, [
      source('agreement', 'X1', '2025-06-30', [line('1000.00', { tax: '100.00' })]),
      source('agreement', 'X2', '2025-07-01', [line('1000.00', { tax: '100.00' })]),
      source('refund', 'X1-R', '2025-08-01', [line('500.00', { tax: '50.00' })], { refundOf: 'X1' }),
      source('refund', 'X2-R', '2025-08-02', [line('500.00', { tax: '50.00' })], { refundOf: 'X2' }),
      source('agreement', 'GAP', '2025-10-15', [line('1000.00')]),
      source('agreement', 'X3', '2025-11-01', [line('1000.00')]),
    ]);
    expect(brief(entries)).toEqual([
      { id: 'X1', period: '2025-01-01', date: '2025-06-30', eligible: '1000.00', version: 'a' },
      { id: 'X2', period: '2025-01-01', date: '2025-07-01', eligible: '550.00', version: 'b', criteria: ['share'] }, // 50 % of 1,100 with tax
      { id: 'X1-R', period: '2025-01-01', date: '2025-08-01', eligible: '-500.00', version: 'a' },
      { id: 'X2-R', period: '2025-01-01', date: '2025-08-02', eligible: '-275.00', version: 'b', criteria: ['share'] },
      { id: 'GAP', period: '2025-01-01', date: '2025-10-15', eligible: '0.00', criteria: ['no-rule-version'] },
      { id: 'X3', period: '2025-01-01', date: '2025-11-01', eligible: '1000.00', version: 'c' },
    ]);
    expect(entries[1].reason).toBe('counts 50 % of its amount');
    expect(entries[4].reason).toBe('no version of test-rules is in effect on 2025-10-15');
  });

  it('refuses a rule set that is not the commitment\'s', () => {
    expect(() => draw(c, AWS, [])).toThrow(`commitment ${c.id} is judged by rule set test-rules, not aws-edp`);
    const wrongProgram = { ...rules, programs: ['edp' as const] };
    expect(() => draw(c, wrongProgram, [])).toThrow(`rule set test-rules is for edp, not commitment ${c.id}'s gcp-commit`);
  });
});

describe('documents that wait', () => {
  it('a refund whose original is not in the ledger or not judged yet, in another currency, or against a refund', () => {
    const { entries, pending } = draw(edp, AWS, [
      source('agreement', 'A1', '2024-08-01', [line('1000.00')], { invoiceDate: '2024-08-05' }),
      source('agreement', 'UNBILLED', '2024-08-01', [line('1000.00')]),
      source('refund', 'R-UNKNOWN', '2024-09-01', [line('10.00')], { refundOf: 'NOT-HERE' }),
      source('refund', 'R-UNBILLED', '2024-09-01', [line('10.00')], { refundOf: 'UNBILLED' }),
      source('refund', 'R-EUR', '2024-09-01', [line('10.00')], { refundOf: 'A1', currency: 'EUR', conversion: { to: 'USD', rate: '1.1' } }),
      source('refund', 'R1', '2024-09-01', [line('10.00')], { refundOf: 'A1' }),
      source('refund', 'R-R1', '2024-09-02', [line('5.00')], { refundOf: 'R1' }),
      source('agreement', 'NO-RATE', '2024-08-01', [line('1000.00')], { invoiceDate: '2024-08-05', currency: 'EUR' }),
      source('refund', 'R-NO-RATE', '2024-09-01', [line('10.00')], { refundOf: 'NO-RATE', currency: 'EUR' }),
    ]);
    expect(entries.map((e) => [e.sourceId, e.eligibleAmount])).toEqual([['A1', '1000.00'], ['R1', '-10.00']]);
    expect(pending).toEqual([
      { sourceId: 'NO-RATE', kind: 'agreement', reason: 'in EUR without a recorded rate to USD; the ledger converts only at the rate recorded with the document' },
      { sourceId: 'R-EUR', kind: 'refund', reason: 'in EUR, but its original A1 is in USD' },
      { sourceId: 'R-NO-RATE', kind: 'refund', reason: 'its original NO-RATE is not judged yet' },
      { sourceId: 'R-R1', kind: 'refund', reason: 'R1 is itself a refund; a refund gives back against the original document' },
      { sourceId: 'R-UNBILLED', kind: 'refund', reason: 'its original UNBILLED is not judged yet' },
      { sourceId: 'R-UNKNOWN', kind: 'refund', reason: 'its original NOT-HERE is not in this commitment\'s ledger yet' },
      { sourceId: 'UNBILLED', kind: 'agreement', reason: 'not invoiced yet: aws-edp counts a document on the date the cloud invoices it' },
    ]);
  });

  it('a refund arriving in a later run finds its original in the ledger; a waiting document counts once it is invoiced', () => {
    const first = draw(edp, AWS, [
      source('agreement', 'A1', '2024-08-01', [line('1000.00')], { invoiceDate: '2024-08-05' }),
      source('agreement', 'A2', '2024-08-01', [line('500.00')]),
    ]);
    expect(first.pending.map((p) => p.sourceId)).toEqual(['A2']);
    const second = draw(edp, AWS, [
      source('agreement', 'A1', '2024-08-01', [line('1000.00')], { invoiceDate: '2024-08-05' }),
      source('agreement', 'A2', '2024-08-01', [line('500.00')], { invoiceDate: '2024-09-05' }),
      source('refund', 'R1', '2024-08-20', [line('250.00')], { refundOf: 'A1' }),
    ], first.entries);
    expect(brief(second.entries)).toEqual([
      { id: 'R1', period: '2024-07-01', date: '2024-08-20', eligible: '-250.00', version: '2020-01' },
      { id: 'A2', period: '2024-07-01', date: '2024-09-05', eligible: '500.00', version: '2020-01' },
    ]);
    expect(second.pending).toEqual([]);
  });

  it('copies of one document count once; two different documents under one id wait', () => {
    const a = source('agreement', 'A1', '2024-08-01', [line('1000.00')], { invoiceDate: '2024-08-05' });
    const { entries, pending } = draw(edp, AWS, [
      a, structuredClone(a),
      source('usage', 'U1', '2024-08-01', [line('10.00')], { invoiceDate: '2024-08-05' }),
      source('usage', 'U1', '2024-08-01', [line('20.00')], { invoiceDate: '2024-08-05' }),
    ]);
    expect(entries.map((e) => e.sourceId)).toEqual(['A1']);
    expect(pending).toEqual([{ sourceId: 'U1', kind: 'usage', reason: '2 different documents carry the id U1; one id is one document' }]);
  });

  it('entries of other commitments in the ledger are not this one\'s', () => {
    const other = commitment({ ...edp, id: '0190f0a0-0000-7000-8000-0000000000c2' });
    const a = source('agreement', 'A1', '2024-08-01', [line('1000.00')], { invoiceDate: '2024-08-05' });
    const theirs = draw(other, AWS, [a]).entries;
    expect(draw(edp, AWS, [a], theirs).entries.map((e) => [e.commitmentId, e.sourceId])).toEqual([[edp.id, 'A1']]);
  });
});
