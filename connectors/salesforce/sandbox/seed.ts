import { fakeCompany, fakePerson, intBetween, pick, seededRandom } from '../../../src/sandbox/index.js';
import type { FieldSpec, FieldType, ObjectSpec } from '../../../src/sync/protocol.js';
import { LEAD_SOURCE_VALUES, OPPORTUNITY_STAGE_VALUES, OPPORTUNITY_TYPE_VALUES } from '../descriptor.js';
import { sandboxOrgId } from './auth.js';
import type { SalesforceOrg } from './org.js';

export interface SeedOptions {
  seed?: number;
  /** The org's id (00D…); by default derived from the seed, so two seeds are two orgs. */
  orgId?: string;
  /** The org's name, as Organization.Name answers it. */
  orgName?: string;
  accounts?: number;
  contactsPerAccount?: number;
  opportunitiesPerAccount?: number;
  /** When the bulk load happened (epoch ms). */
  loadedAt?: number;
  /**
   * Records per bulk-load batch. All records of one batch share one SystemModstamp, the way a
   * data load leaves an org: incremental readers must handle ties larger than a query page.
   */
  batchSize?: number;
  /** The sandbox's clock: open opportunities close after the day it starts (the seed's own dates are fixed). */
  now?: () => number;
}

export const SEED_DEFAULTS = {
  seed: 42,
  orgName: 'Ecosync Sandbox',
  accounts: 100,
  contactsPerAccount: 2,
  opportunitiesPerAccount: 1,
  loadedAt: Date.UTC(2025, 0, 1),
  batchSize: 2_500,
} as const;

const PRODUCTS = ['Platform', 'Analytics Add-on', 'Support Plan', 'Enterprise License', 'Data Pipeline', 'Security Suite'];
/**
 * What each open opportunity is about, in the customer's words: AWS and Microsoft want the
 * customer's business problem (AWS: 20 to 2,000 characters) before they take a co-sell.
 */
const BUSINESS_PROBLEMS = [
  'Nightly batch reports reach store managers a day late; they need sales figures within minutes to plan staffing.',
  'Customer data sits in four regional databases; the team wants one governed view for finance and support.',
  'A failed compliance audit found no central audit trail; the customer needs continuous monitoring across all accounts.',
  'Peak-season traffic overloads the on-premises order system; the customer wants to scale checkout without rewriting it.',
  'Data scientists wait weeks for training data; the customer wants a self-service pipeline with access controls.',
  'Support tickets take days to route; the customer wants incoming requests classified and assigned automatically.',
];
const DAY_MS = 86_400_000;

function readOnlyField(name: string, type: FieldType, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, type, nillable: false, createable: false, updateable: false, ...extra };
}

/** The org itself: SOQL on Organization is how a client learns which org it reached and its name. */
export const ORGANIZATION_OBJECT: ObjectSpec = {
  name: 'Organization',
  idField: 'Id',
  modifiedField: 'SystemModstamp',
  fields: [
    readOnlyField('Id', 'id', { length: 18 }),
    readOnlyField('Name', 'string', { length: 80 }),
    readOnlyField('OrganizationType', 'string', { length: 40 }),
    readOnlyField('IsSandbox', 'boolean'),
    readOnlyField('SystemModstamp', 'datetime'),
    readOnlyField('LastModifiedDate', 'datetime'),
    readOnlyField('CreatedDate', 'datetime'),
  ],
};

const PROBABILITY: Record<string, number> = {
  'Prospecting': 10, 'Qualification': 10, 'Needs Analysis': 20, 'Value Proposition': 50, 'Id. Decision Makers': 60,
  'Perception Analysis': 70, 'Proposal/Price Quote': 75, 'Negotiation/Review': 90, 'Closed Won': 100, 'Closed Lost': 0,
};

/** Fills the org (an org built with ORGANIZATION_OBJECT) with the same accounts, contacts and opportunities for the same options, every time. */
export function seedOrg(org: SalesforceOrg, options: SeedOptions = {}): void {
  const o = { ...SEED_DEFAULTS, ...options };
  const random = seededRandom(o.seed);
  const stampOf = (index: number) => o.loadedAt + Math.floor(index / o.batchSize) * 1000;
  const today = Math.floor((o.now ?? Date.now)() / DAY_MS) * DAY_MS;
  org.insertRaw('Organization', {
    Id: sandboxOrgId(o.seed, o.orgId), Name: o.orgName, OrganizationType: 'Developer Edition', IsSandbox: true,
  }, o.loadedAt);
  const accounts: Array<{ id: string; domain: string; name: string }> = [];
  for (let i = 0; i < o.accounts; i++) {
    const c = fakeCompany(random, i + 1);
    const v = org.insertRaw('Account', {
      Name: c.name,
      Website: c.website,
      Industry: c.industry,
      Phone: c.phone,
      NumberOfEmployees: c.employees,
      AnnualRevenue: c.annualRevenue,
      BillingStreet: c.street,
      BillingCity: c.city,
      BillingState: c.state || null,
      BillingPostalCode: c.postalCode,
      BillingCountryCode: c.country,
      Description: `${c.industry} customer in ${c.city}`,
    }, stampOf(i));
    accounts.push({ id: v.fields.Id as string, domain: c.domain, name: c.name });
  }
  let contact = 0;
  for (const a of accounts) {
    for (let k = 0; k < o.contactsPerAccount; k++) {
      const p = fakePerson(random, contact + 1, a.domain);
      org.insertRaw('Contact', {
        FirstName: p.firstName, LastName: p.lastName, Email: p.email, Phone: p.phone, Title: p.title, AccountId: a.id,
      }, stampOf(contact));
      contact++;
    }
  }
  let opportunity = 0;
  for (const a of accounts) {
    for (let k = 0; k < o.opportunitiesPerAccount; k++) {
      const stage = pick(random, OPPORTUNITY_STAGE_VALUES);
      const closed = stage.startsWith('Closed');
      // Closed deals closed around the load; open ones close 30 to 390 days after the sandbox starts,
      // so a co-sell of one passes the clouds' "close date today or later" rule on any day.
      const offset = intBetween(random, -90, 270);
      const close = new Date(closed ? o.loadedAt + offset * DAY_MS : today + (offset + 120) * DAY_MS).toISOString().slice(0, 10);
      org.insertRaw('Opportunity', {
        Name: `${a.name} - ${pick(random, PRODUCTS)}`,
        Amount: intBetween(random, 5, 500) * 1000,
        CurrencyIsoCode: 'USD',
        StageName: stage,
        CloseDate: close,
        Probability: PROBABILITY[stage],
        Type: pick(random, OPPORTUNITY_TYPE_VALUES),
        AccountId: a.id,
        LeadSource: pick(random, LEAD_SOURCE_VALUES),
        NextStep: closed ? null : 'Follow up with the buyer',
        // Drawn without the random stream, so every other seeded value stays as it was.
        Description: closed ? null : BUSINESS_PROBLEMS[opportunity % BUSINESS_PROBLEMS.length],
      }, stampOf(opportunity));
      opportunity++;
    }
  }
}
