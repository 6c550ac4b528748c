import { fakeCompany, fakePerson, intBetween, pick, seededRandom } from '../../../src/sandbox/index.js';
import { CURRENCY_OPTIONS, DEAL_STAGE_OPTIONS, DEAL_TYPE_OPTIONS } from '../descriptor.js';
import type { HubSpotState, StoredRecord } from './store.js';

export interface SeedOptions {
  seed: number;
  companies: number;
  contactsPerCompany: number;
  dealsPerCompany: number;
}

/** Seeded records start here and spread over about a year. */
const EPOCH = Date.parse('2024-01-01T00:00:00.000Z');
const DAY_MS = 86_400_000;

/** What each open deal is about: AWS and Microsoft want the customer's business problem for a co-sell. */
const BUSINESS_PROBLEMS = [
  'Clinics lose appointment requests sent by email; the customer wants a self-service patient portal.',
  'Month-end close takes two weeks of spreadsheet work; finance wants ledgers reconciled every night.',
  'Field technicians cannot see parts inventory offline; the customer wants stock levels on every device.',
  'Marketing cannot tell which campaigns bring revenue; the customer wants attribution across every channel.',
];

/**
 * Fills the state with the same portal for the same options. Modified instants are drawn from a
 * coarse grid (about three records per instant) so ties on hs_lastmodifieddate are common, as
 * they are after imports and workflow bulk edits in a real portal.
 */
export function seedPortal(state: HubSpotState, options: SeedOptions): void {
  const random = seededRandom(options.seed);
  const today = Math.floor(state.now() / DAY_MS) * DAY_MS;
  const total = options.companies * (1 + options.contactsPerCompany + options.dealsPerCompany);
  const slots = Math.max(1, Math.floor(total / 3));
  const instant = () => {
    const modified = EPOCH + intBetween(random, 0, slots) * 1_237;
    return { created: modified - intBetween(random, 0, 90) * 86_400_000, modified };
  };
  const record = (type: string, props: Record<string, string>): StoredRecord => {
    const idNum = state.table(type).allocateId();
    const { created, modified } = instant();
    const modifiedField = state.table(type).spec.modifiedField;
    return {
      id: String(idNum), idNum, createdMs: created, modifiedMs: modified, archived: false,
      properties: { ...props, hs_object_id: String(idNum), createdate: new Date(created).toISOString(), [modifiedField]: new Date(modified).toISOString() },
    };
  };
  const companies: StoredRecord[] = [];
  const contacts: StoredRecord[] = [];
  const deals: StoredRecord[] = [];
  const links: [string, string, string, string][] = [];
  for (let i = 1; i <= options.companies; i++) {
    const c = fakeCompany(random, i);
    const company = record('companies', {
      name: c.name, domain: c.domain, website: c.website, industry: c.industry, phone: c.phone,
      numberofemployees: String(c.employees), annualrevenue: String(c.annualRevenue), address: c.street,
      city: c.city, state: c.state, zip: c.postalCode, country: c.country,
    });
    companies.push(company);
    for (let j = 0; j < options.contactsPerCompany; j++) {
      const p = fakePerson(random, i * 100 + j, c.domain);
      const contact = record('contacts', {
        firstname: p.firstName, lastname: p.lastName, email: p.email, phone: p.phone, jobtitle: p.title, associatedcompanyid: company.id,
      });
      contacts.push(contact);
      links.push(['contacts', contact.id, 'companies', company.id]);
    }
    for (let j = 0; j < options.dealsPerCompany; j++) {
      // Drawn in the same order as ever, so every seeded value but the open deals' dates stays put.
      const dealname = `${c.name} – ${pick(random, ['Expansion', 'Renewal', 'Pilot', 'Platform'])} ${j + 1}`;
      const amount = String(intBetween(random, 5, 500) * 1_000);
      const currency = pick(random, CURRENCY_OPTIONS.slice(0, 6));
      const dealstage = pick(random, DEAL_STAGE_OPTIONS);
      const offset = intBetween(random, 0, 540);
      const open = dealstage !== 'closedwon' && dealstage !== 'closedlost';
      const deal = record('deals', {
        dealname,
        amount,
        deal_currency_code: currency,
        dealstage,
        // Open deals close 30 to 570 days after the portal starts: a co-sell of one passes the
        // clouds' "close date today or later" rule on any day.
        closedate: new Date(open ? today + (offset + 30) * DAY_MS : EPOCH + offset * DAY_MS).toISOString(),
        dealtype: pick(random, DEAL_TYPE_OPTIONS),
        pipeline: 'default',
        ...(open ? { description: BUSINESS_PROBLEMS[deals.length % BUSINESS_PROBLEMS.length] } : {}),
      });
      deals.push(deal);
      links.push(['deals', deal.id, 'companies', company.id]);
    }
  }
  state.load('companies', companies);
  state.load('contacts', contacts);
  state.load('deals', deals);
  for (const [from, fromId, to, toId] of links) state.associate(from, fromId, to, toId);
}
