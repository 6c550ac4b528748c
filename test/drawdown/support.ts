/**
 * A customer's year in the hub, as the drawdown workflow finds it: marketplace agreements booked
 * by the offer workflow, NetSuite invoices synced as canonical records, usage AWS took, a refund
 * and a credit note entered by hand; and the ledger each commitment must hold, computed by hand.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brief, type Brief } from '../../src/drawdown/test-kit.js';
import { Commitment, type DrawdownEntry, type Invoice } from '../../src/model/index.js';
import type { Store } from '../../src/store/index.js';

export const MONTHS = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
const lastDay = (m: number) => new Date(Date.UTC(2025, m, 0)).toISOString().slice(0, 10);

/** A uuid of the fixture, from a small number, per test so two tests never share rows. */
export function fixtureIds(seed: number) {
  const hex = seed.toString(16).padStart(4, '0');
  return {
    account: `0190f0a0-${hex}-7000-8000-0000000000a1`,
    ppa: `0190f0a0-${hex}-7000-8000-0000000000c1`,
    macc: `0190f0a0-${hex}-7000-8000-0000000000c2`,
    invoice: (n: number) => `0190f0a0-${hex}-7000-8000-${String(n).padStart(12, '0')}`,
  };
}

export function commitmentsOf(ids: ReturnType<typeof fixtureIds>) {
  const ppa = Commitment.parse({
    id: ids.ppa, accountId: ids.account, cloud: 'aws', program: 'ppa', externalId: 'PPA-2025', amount: '1200000.00', currency: 'USD',
    startDate: '2025-01-01', endDate: '2025-12-31', ruleSet: 'aws-edp', overrides: { marketplaceCapPercent: '20' },
    products: {
      'prod-saas': { flags: { deployedOnAws: true }, unitPrices: { requests: '0.01' } },
      'prod-legacy': {},
    },
    alertTo: ['alliance@example.com'],
  });
  const macc = Commitment.parse({
    id: ids.macc, accountId: ids.account, cloud: 'azure', program: 'macc', externalId: 'MACC-2025', amount: '600000.00', currency: 'USD',
    startDate: '2025-01-01', endDate: '2025-12-31', ruleSet: 'azure-macc', country: 'US',
    products: { 'saas-plan': { flags: { azureBenefitEligible: true, underAgreement: true } }, 'support-addon': { flags: { azureBenefitEligible: false, underAgreement: true } } },
  });
  return { ppa, macc };
}

/** Puts the year's documents where the hub keeps them. */
export async function seedYear(store: Store, connectionId: string, ids: ReturnType<typeof fixtureIds>, options: { commitments?: boolean } = {}): Promise<void> {
  await store.records.upsertMany(connectionId, [{ entity: 'Account', canonicalId: ids.account, data: { name: 'Acme Corp', domain: 'acme.example' }, hash: 'seed' }]);
  const agreement = (agreementId: string, acceptedAt: string, value: string, productId: string) => store.agreements.record({
    connectionId, cloud: 'aws', agreementId, canonicalId: `0190f0a0-0000-7000-8000-${agreementId.replace(/\D/g, '').padStart(12, '0')}`, offerId: `offer-${agreementId}`,
    privateOfferId: null, accountId: ids.account, opportunityId: null, acceptor: '111122223333', status: 'ACTIVE',
    acceptedAt: `${acceptedAt}T10:00:00Z`, startDate: acceptedAt, endDate: null, totalContractValue: value, currency: 'USD', data: { productId },
  });
  await agreement('agmt-1', '2025-01-15', '60000.00', 'prod-legacy');
  await agreement('agmt-2', '2025-06-10', '90000.00', 'prod-saas');
  await agreement('agmt-3', '2025-07-01', '30000.00', 'prod-legacy');
  await agreement('agmt-4', '2025-09-15', '100000.00', 'prod-saas');

  // AWS took 1,000,000 requests (10,000.00 USD) on the 15th of each month.
  const hours = MONTHS.map((m) => ({ cloud: 'aws', accountId: ids.account, product: 'prod-saas', dimension: 'requests', hour: `2025-${m}-15T10:00:00.000Z` }));
  await store.metering.ingest(connectionId, hours.map((h) => ({ ...h, hour: h.hour.replace('.000', ''), quantity: '1000000', dedupeKey: `u-${h.hour}` })) as never);
  await store.metering.startSends(connectionId, hours.map((h) => ({ ...h, plan: null, customer: '111122223333' })));
  await store.metering.finish(connectionId, hours.map((h) => ({ ...h, status: 'sent' as const, recordId: `rec-${h.hour}` })));

  // NetSuite's invoices: Microsoft's monthly one on the 5th (the SaaS plan, from April a support
  // add-on that is not benefit eligible), one voided, and the seller's own AWS invoice.
  const invoices: Array<{ id: string; data: Omit<Invoice, 'id'> }> = MONTHS.map((m, i) => ({
    id: ids.invoice(i + 1),
    data: {
      number: `INV-MS-${m}`, accountId: ids.account, invoiceDate: `2025-${m}-05`, status: 'paid', currency: 'USD', taxTotal: '3200.00',
      total: i >= 3 ? '45200.00' : '43200.00',
      lines: [
        { item: 'saas-plan', quantity: '1', amount: '40000.00' },
        ...(i >= 3 ? [{ item: 'support-addon', quantity: '1', amount: '2000.00' }] : []),
      ],
    },
  }));
  invoices.push({ id: ids.invoice(13), data: { number: 'INV-VOID', accountId: ids.account, invoiceDate: '2025-08-20', status: 'voided', currency: 'USD', total: '99999.00' } });
  invoices.push({ id: ids.invoice(14), data: { number: 'INV-AWS-1', accountId: ids.account, invoiceDate: '2025-03-31', status: 'paid', currency: 'USD', taxTotal: '2000.00', total: '27000.00', lines: [{ item: 'prod-saas', quantity: '1', amount: '25000.00' }] } });
  await store.records.upsertMany(connectionId, invoices.map((inv) => ({ entity: 'Invoice', canonicalId: inv.id, data: inv.data, hash: inv.data.number! })));

  const { ppa, macc } = commitmentsOf(ids);
  if (options.commitments === false) return;
  await store.commitments.create(connectionId, ppa);
  await store.commitments.create(connectionId, macc);
  await enterReversals(store, ids);
}

/** The refund and credit note a person enters by hand. */
export async function enterReversals(store: Store, ids: ReturnType<typeof fixtureIds>): Promise<void> {
  const { ppa, macc } = commitmentsOf(ids);
  await store.commitments.addDocument(ppa.id, { kind: 'refund', id: 'refund:R1', date: '2025-07-01', currency: 'USD', refundOf: 'agreement:aws:agmt-1', lines: [{ amount: '12000.00' }] }, 'alex@example.com');
  await store.commitments.addDocument(macc.id, {
    kind: 'credit-note', id: 'credit-note:CN1', date: '2025-07-10', currency: 'USD', refundOf: `invoice:${ids.invoice(6)}`,
    lines: [{ amount: '8000.00', tax: '640.00', product: 'saas-plan', flags: { azureBenefitEligible: true, underAgreement: true } }],
  }, 'alex@example.com');
}

/** The PPA's ledger by hand: cap 20 % of 1,200,000 = 240,000; "used" is the cap's use after the line. */
export function expectedPpa(): Brief[] {
  const P = '2025-01-01';
  const u = (m: number, date: string, eligible: string, version: string, overCap?: string): Brief => ({
    id: `usage:aws:prod-saas:requests:2025-${MONTHS[m - 1]}`, period: P, date, eligible, ...(overCap ? { overCap } : {}), version, ...(overCap ? { criteria: ['marketplace-cap'] } : {}),
  });
  return [
    { id: 'agreement:aws:agmt-1', period: P, date: '2025-01-15', eligible: '60000.00', version: '2020-01' }, // 60,000
    u(1, '2025-02-01', '10000.00', '2020-01'), // 70,000
    u(2, '2025-03-01', '10000.00', '2020-01'), // 80,000
    u(3, '2025-04-01', '10000.00', '2020-01'), // 90,000
    u(4, '2025-05-01', '10000.00', '2025-05'), // 100,000: Deployed on AWS
    u(5, '2025-06-01', '10000.00', '2025-05'), // 110,000
    { id: 'agreement:aws:agmt-2', period: P, date: '2025-06-10', eligible: '90000.00', version: '2025-05' }, // 200,000
    { id: 'agreement:aws:agmt-3', period: P, date: '2025-07-01', eligible: '0.00', version: '2025-05', criteria: ['flag:deployedOnAws'] },
    u(6, '2025-07-01', '10000.00', '2025-05'), // 210,000
    { id: 'refund:R1', period: P, date: '2025-07-01', eligible: '-12000.00', version: '2020-01' }, // 198,000: agmt-1's version
    u(7, '2025-08-01', '10000.00', '2025-05'), // 208,000
    u(8, '2025-09-01', '10000.00', '2025-05'), // 218,000
    { id: 'agreement:aws:agmt-4', period: P, date: '2025-09-15', eligible: '22000.00', overCap: '78000.00', version: '2025-05', criteria: ['marketplace-cap'] }, // 240,000
    u(9, '2025-10-01', '0.00', '2025-05', '10000.00'),
    u(10, '2025-11-01', '0.00', '2025-05', '10000.00'),
    u(11, '2025-12-01', '0.00', '2025-05', '10000.00'),
    // December's usage is invoiced on 1 January 2026, after the term.
    { id: 'usage:aws:prod-saas:requests:2025-12', date: '2026-01-01', eligible: '0.00', version: '2025-05', criteria: ['outside-term'] },
  ];
}

/** The MACC's ledger by hand: every month's SaaS plan (40,000 pre-tax), the support add-on left out, a credit note. */
export function expectedMacc(ids: ReturnType<typeof fixtureIds>): Brief[] {
  const P = '2025-01-01';
  const V = '2019-01';
  const month = (i: number): Brief => ({ id: `invoice:${ids.invoice(i + 1)}`, period: P, date: `2025-${MONTHS[i]}-05`, eligible: '40000.00', version: V, ...(i >= 3 ? { criteria: ['flag:azureBenefitEligible'] } : {}) });
  return [
    month(0), month(1), month(2),
    // The seller's own invoice for an AWS purchase: not an Azure benefit eligible offer.
    { id: `invoice:${ids.invoice(14)}`, period: P, date: '2025-03-31', eligible: '0.00', version: V, criteria: ['flag:azureBenefitEligible'] },
    month(3), month(4), month(5), month(6),
    { id: 'credit-note:CN1', period: P, date: '2025-07-10', eligible: '-8000.00', version: V },
    month(7), month(8), month(9), month(10), month(11),
  ];
}

/** Ledger entries in brief, in the order they were written, for comparing with the hand-computed ones. */
export function ledgerBrief(entries: readonly DrawdownEntry[]): Brief[] {
  return brief(entries);
}

/** A webhook receiver that keeps what the notifier posts. */
export async function startReceiver(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; answer: { status: number }; close(): Promise<void> }> {
  const bodies: Array<Record<string, unknown>> = [];
  /** What it answers: 204 takes the alert; 410 is a hook that was removed. */
  const answer = { status: 204 };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => { text += c.toString(); });
    req.on('end', () => {
      if (answer.status < 300) bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(answer.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, answer, close: () => new Promise((r) => server.close(() => r())) };
}
