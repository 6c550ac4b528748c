/** What the hub's rows become as drawdown documents, and what waits. */
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../model/index.js';
import { collectSources, type SourceInput } from './sources.js';
import { commitment, CUSTOMER, shippedRules } from './test-kit.js';

const macc = commitment({
  program: 'macc', cloud: 'azure', ruleSet: 'azure-macc', amount: '600000.00', startDate: '2025-01-01', endDate: '2025-12-31', country: 'US',
  products: { 'saas-plan': { flags: { azureBenefitEligible: true, underAgreement: true } } },
});
const edp = commitment({
  program: 'edp', cloud: 'aws', ruleSet: 'aws-edp', amount: '1000000.00', startDate: '2025-01-01', endDate: '2025-12-31',
  products: { 'prod-saas': { flags: { deployedOnAws: true }, unitPrices: { requests: '0.0125' } } },
});
const invoice = (id: string, fields: Partial<Invoice>): { canonicalId: string; invoice: Invoice } => ({
  canonicalId: id,
  invoice: { id, accountId: CUSTOMER, invoiceDate: '2025-03-05', status: 'open', currency: 'USD', total: '0', ...fields },
});
const input = (more: Partial<SourceInput>): SourceInput => ({ agreements: [], invoices: [], usage: [], documents: [], today: '2025-06-01', ...more });
const ID = (n: number) => `0190f0a0-0000-7000-8000-00000000000${n}`;

describe('collectSources', () => {
  it('turns an invoice into a document of its lines, the tax on the first, facts by item', () => {
    const { sources, skipped } = collectSources(macc, shippedRules('azure-macc'), input({
      invoices: [invoice(ID(1), { taxTotal: '3200.00', total: '45200.00', lines: [{ item: 'saas-plan', quantity: '1', amount: '40000.00' }, { item: 'support', quantity: '1', amount: '2000.00', description: 'Support' }] })],
    }));
    expect(skipped).toEqual([]);
    expect(sources).toEqual([{
      kind: 'invoice', id: `invoice:${ID(1)}`, date: '2025-03-05', currency: 'USD', country: 'US',
      lines: [
        { amount: '40000.00', product: 'saas-plan', tax: '3200.00', flags: { azureBenefitEligible: true, underAgreement: true } },
        { amount: '2000.00', product: 'support', description: 'Support' },
      ],
    }]);
  });

  it('leaves out a voided invoice, holds back one with a negative line, and an invoice without lines is its pre-tax total', () => {
    const { sources, skipped } = collectSources(macc, shippedRules('azure-macc'), input({
      invoices: [
        invoice(ID(1), { status: 'voided', total: '100.00' }),
        invoice(ID(2), { total: '90.00', lines: [{ item: 'saas-plan', quantity: '1', amount: '100.00' }, { item: 'discount', quantity: '1', amount: '-10.00' }] }),
        invoice(ID(3), { total: '108.00', taxTotal: '8.00', memo: 'March' }),
      ],
    }));
    expect(sources.map((s) => [s.id, s.lines])).toEqual([[`invoice:${ID(3)}`, [{ amount: '100.00', description: 'March', tax: '8.00' }]]]);
    expect(skipped).toEqual([{ sourceId: `invoice:${ID(2)}`, reason: `line discount has a negative amount (-10.00): enter its credit as a credit note against invoice:${ID(2)}` }]);
  });

  it('prices a month of usage once the month and the late windows are over, invoiced the next month', () => {
    const usage = [
      { cloud: 'aws', product: 'prod-saas', dimension: 'requests', month: '2025-04', quantity: '1000001' },
      { cloud: 'aws', product: 'prod-saas', dimension: 'requests', month: '2025-05', quantity: '5' },
      { cloud: 'aws', product: 'prod-saas', dimension: 'storage', month: '2025-04', quantity: '5' },
      { cloud: 'azure', product: 'prod-saas', dimension: 'requests', month: '2025-04', quantity: '5' },
    ];
    expect(collectSources(edp, shippedRules('aws-edp'), input({ usage, today: '2025-06-01' }))).toEqual({
      sources: [{
        kind: 'usage', id: 'usage:aws:prod-saas:requests:2025-04', date: '2025-04-30', invoiceDate: '2025-05-01', currency: 'USD', channel: 'aws-marketplace',
        lines: [{ amount: '12500.01', product: 'prod-saas', description: '1000001 requests at 0.0125', flags: { deployedOnAws: true } }],
      }],
      skipped: [{ sourceId: 'usage:aws:prod-saas:storage:2025-04', reason: 'no unit price for prod-saas storage: set products.prod-saas.unitPrices.storage on the commitment' }],
    });
    // May's usage is a document from 2 June, when AWS can no longer take late records of it.
    expect(collectSources(edp, shippedRules('aws-edp'), input({ usage, today: '2025-06-02' })).sources.map((s) => s.id)).toContain('usage:aws:prod-saas:requests:2025-05');
  });

  it('counts an agreement on acceptance unless its invoice date is recorded, and leaves out a cancelled one', () => {
    const agreement = { cloud: 'aws', agreementId: 'agmt-1', offerId: 'offer-1', status: 'ACTIVE', acceptedAt: '2025-02-03T10:00:00.000Z', totalContractValue: '5000.00', currency: 'EUR', data: { productId: 'prod-saas', conversion: { to: 'USD', rate: '1.08' } } };
    const { sources } = collectSources(edp, shippedRules('aws-edp'), input({
      agreements: [agreement, { ...agreement, agreementId: 'agmt-2', data: { invoiceDate: '2025-03-01' } }, { ...agreement, agreementId: 'agmt-3', status: 'CANCELED' }, { ...agreement, cloud: 'azure', agreementId: 'ms-1' }],
    }));
    expect(sources).toEqual([
      {
        kind: 'agreement', id: 'agreement:aws:agmt-1', date: '2025-02-03', invoiceDate: '2025-02-03', currency: 'EUR', conversion: { to: 'USD', rate: '1.08' }, channel: 'aws-marketplace',
        lines: [{ amount: '5000.00', product: 'prod-saas', description: 'agreement agmt-1 (offer offer-1)', flags: { deployedOnAws: true } }],
      },
      {
        kind: 'agreement', id: 'agreement:aws:agmt-2', date: '2025-02-03', invoiceDate: '2025-03-01', currency: 'EUR', channel: 'aws-marketplace',
        lines: [{ amount: '5000.00', product: 'offer-1', description: 'agreement agmt-2 (offer offer-1)' }],
      },
    ]);
  });

  it('collects only the kinds some version of the rule set counts; documents entered by hand always', () => {
    const refund = { kind: 'refund' as const, id: 'refund:R1', date: '2025-03-01', currency: 'USD' as const, refundOf: 'x', lines: [{ amount: '1.00' }] };
    const rows = input({ invoices: [invoice(ID(1), { total: '10.00' })], documents: [refund] });
    // An EDP never counts the ERP's invoices: they would only fill its ledger with lines of zero.
    expect(collectSources(edp, shippedRules('aws-edp'), rows).sources.map((s) => s.id)).toEqual(['refund:R1']);
    expect(collectSources(macc, shippedRules('azure-macc'), rows).sources.map((s) => s.id)).toEqual([`invoice:${ID(1)}`, 'refund:R1']);
  });
});
