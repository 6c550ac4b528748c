import { fakeCompany, fakePerson, intBetween, pick, seededRandom } from '../../../src/sandbox/index.js';
import { accountDate } from './validate.js';
import { round2, type AddressLine, type ItemLine, type NetSuiteState, type StoredRecord } from './store.js';

/**
 * A OneWorld account with the same data for the same seed: a parent company and three
 * subsidiaries (US, UK, EU) in their currencies, payment terms, inventory items, and customers
 * with their default billing (some also shipping) address, some with credit limits, each with
 * contacts, sales orders and the invoices billing them, some paid and some open.
 */
export interface SeedOptions {
  seed: number;
  /** The root subsidiary's name: the company the account belongs to. */
  companyName: string;
  customers: number;
  contactsPerCustomer: number;
  ordersPerCustomer: number;
  items: number;
}

/** Seeded records start here and spread over about a year. */
const EPOCH = Date.parse('2024-01-01T00:00:00.000Z');

export const SEED_CURRENCIES = [
  { symbol: 'USD', name: 'US Dollar', rate: 1 },
  { symbol: 'GBP', name: 'British pound', rate: 1.27 },
  { symbol: 'CAD', name: 'Canadian Dollar', rate: 0.74 },
  { symbol: 'EUR', name: 'Euro', rate: 1.08 },
  { symbol: 'AUD', name: 'Australian Dollar', rate: 0.66 },
];
export const SEED_TERMS = [
  { name: 'Net 15', days: 15 },
  { name: 'Net 30', days: 30 },
  { name: 'Net 60', days: 60 },
  { name: 'Due on receipt', days: 0 },
];
const SUBSIDIARIES = [
  { name: 'US', currency: 'USD', country: 'US' },
  { name: 'UK', currency: 'GBP', country: 'GB' },
  { name: 'EU', currency: 'EUR', country: 'DE' },
];
const PRODUCTS = ['Platform Licence', 'Support Plan', 'Onboarding Package', 'Data Connector', 'Analytics Add-on', 'Training Day', 'Storage Block', 'API Bundle'];

export function seedAccount(state: NetSuiteState, options: SeedOptions): void {
  const random = seededRandom(options.seed);
  // Records' instants come from a coarse grid (about three per second) so ties on lastmodifieddate are common.
  const total = options.customers * (1 + options.contactsPerCustomer + 2 * options.ordersPerCustomer) + options.items;
  const slots = Math.max(1, Math.floor(total / 3));
  const instant = () => {
    const modified = EPOCH + intBetween(random, 0, slots) * 1_000 * 7;
    return { createdMs: modified - intBetween(random, 0, 90) * 86_400_000, modifiedMs: modified };
  };
  const put = (type: string, body: Record<string, unknown>, extra: Partial<StoredRecord> = {}, times = instant()): StoredRecord => {
    const idNum = state.allocateId(type);
    return state.commit({ type, id: String(idNum), idNum, body: { externalId: null, ...body }, ...times, ...extra });
  };
  const setupTimes = { createdMs: EPOCH - 365 * 86_400_000, modifiedMs: EPOCH - 365 * 86_400_000 };

  const currencies = new Map<string, string>();
  SEED_CURRENCIES.forEach((c, i) => {
    currencies.set(c.symbol, put('currency', { name: c.name, symbol: c.symbol, isBaseCurrency: i === 0, exchangeRate: c.rate }, {}, setupTimes).id);
  });
  const terms = SEED_TERMS.map((t) => put('term', { name: t.name, daysUntilNetDue: t.days }, {}, setupTimes).id);
  const root = put('subsidiary', { name: options.companyName, parent: null, currency: currencies.get('USD'), country: 'US', isInactive: false }, {}, setupTimes);
  const subsidiaries = new Map(SUBSIDIARIES.map((s) => [s.country, put('subsidiary', {
    name: `${options.companyName} ${s.name}`, parent: root.id, currency: currencies.get(s.currency), country: s.country, isInactive: false,
  }, {}, setupTimes)]));

  const items: StoredRecord[] = [];
  for (let i = 0; i < options.items; i++) {
    const product = PRODUCTS[i % PRODUCTS.length];
    const price = intBetween(random, 2, 200) * 50;
    items.push(put('inventoryItem', {
      itemId: `SKU-${1001 + i}`, displayName: `${product}${i >= PRODUCTS.length ? ` ${Math.floor(i / PRODUCTS.length) + 1}` : ''}`,
      salesDescription: `${product} (annual)`, cost: round2(price * 0.35), isInactive: false, _basePrice: price,
    }));
  }

  for (let i = 1; i <= options.customers; i++) {
    const c = fakeCompany(random, i);
    const subsidiary = subsidiaries.get(c.country) ?? subsidiaries.get(c.country === 'FR' ? 'DE' : 'US')!;
    const addressBook: AddressLine[] = [line(state, true, true, c)];
    if (random() < 0.3) {
      addressBook.push(line(state, false, true, { ...c, street: `${intBetween(random, 1, 99)} Warehouse Road` }));
      addressBook[0] = { ...addressBook[0], defaultShipping: false };
    }
    const withCredit = random() < 0.5;
    const customer = put('customer', {
      companyName: c.name, isPerson: false, email: `billing@${c.domain}`, phone: c.phone, url: c.website,
      subsidiary: subsidiary.id, currency: subsidiary.body.currency, terms: pick(random, terms),
      creditLimit: withCredit ? intBetween(random, 5, 100) * 1_000 : null, isInactive: false, comments: null,
    }, { addressBook });
    state.commit({ ...customer, body: { ...customer.body, entityId: state.nextDocumentNumber('customer', customer.idNum) } });

    for (let j = 0; j < options.contactsPerCustomer; j++) {
      const p = fakePerson(random, i * 100 + j, c.domain);
      put('contact', {
        entityId: `${p.firstName} ${p.lastName}`, firstName: p.firstName, lastName: p.lastName, email: p.email, phone: p.phone,
        title: p.title, company: customer.id, subsidiary: subsidiary.id, isInactive: false,
      });
    }

    for (let j = 0; j < options.ordersPerCustomer && items.length > 0; j++) {
      const lines: ItemLine[] = Array.from({ length: intBetween(random, 1, 3) }, (_, k) => {
        const item = pick(random, items);
        const quantity = intBetween(random, 1, 20);
        const rate = Number(item.body._basePrice);
        return { line: k + 1, item: item.id, description: String(item.body.salesDescription), quantity, rate, amount: round2(quantity * rate) };
      });
      const times = instant();
      const billed = random() < 0.7;
      const tranDate = accountDate(times.createdMs);
      const order = put('salesOrder', {
        entity: customer.id, tranDate, status: billed ? 'G' : pick(random, ['B', 'F']), currency: customer.body.currency,
        subsidiary: subsidiary.id, memo: null, otherRefNum: `PO-${intBetween(random, 10_000, 99_999)}`,
      }, { items: lines }, times);
      state.commit({ ...order, body: { ...order.body, tranId: state.nextDocumentNumber('salesOrder', order.idNum) } });
      if (!billed) continue;
      const term = state.get('term', String(customer.body.terms));
      const paid = random() < 0.6;
      const invoiceTimes = { createdMs: times.modifiedMs, modifiedMs: times.modifiedMs + intBetween(random, 0, 30) * 86_400_000 };
      const invoice = put('invoice', {
        entity: customer.id, tranDate: accountDate(invoiceTimes.createdMs), currency: customer.body.currency, subsidiary: subsidiary.id,
        terms: customer.body.terms, dueDate: accountDate(invoiceTimes.createdMs + Number(term?.body.daysUntilNetDue ?? 30) * 86_400_000),
        createdFrom: order.id, memo: null, otherRefNum: order.body.otherRefNum, amountPaid: 0,
      }, { items: lines }, invoiceTimes);
      const totalDue = state.totalOf(invoice);
      state.commit({ ...invoice, body: { ...invoice.body, tranId: state.nextDocumentNumber('invoice', invoice.idNum), amountPaid: paid ? totalDue : 0 } });
    }
  }
}

function line(state: NetSuiteState, billing: boolean, shipping: boolean, c: { name: string; street: string; city: string; state: string; postalCode: string; country: string }): AddressLine {
  return {
    id: state.allocateAddressLine(), nkey: state.allocateNkey(), defaultBilling: billing, defaultShipping: shipping, label: billing ? 'Billing' : 'Warehouse',
    address: { addressee: c.name, addr1: c.street, addr2: null, city: c.city, state: c.state || null, zip: c.postalCode, country: c.country },
  };
}
