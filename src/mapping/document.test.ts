import { describe, expect, it } from 'vitest';
import { decimalDivide, decimalRound } from './expr.js';
import { formatDiagnostic, parseMapping, type CompiledMapping } from './index.js';
import { schemaFor } from './test-schemas.js';

/** Mapping files of `shape: document`: nested paths, lists, constants inside objects, outbound expressions. */

const HEADER = 'system: aws-partner-central\nobject: Opportunity\nentity: CoSellSubmission\nshape: document\ndefaults:\n  direction: outbound\n';

function load(body: string, withSchema = true): CompiledMapping {
  const { mapping, diagnostics } = parseMapping(HEADER + body, 'c.yaml', withSchema ? { schemaFor } : {});
  expect(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
  return mapping!;
}

function errors(body: string): string[] {
  return parseMapping(HEADER + body, 'c.yaml', { schemaFor }).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

const opportunity = { id: '0191d6a2-4c1f-7e3b-9a55-0c6f1f3e2a10', name: 'Acme', stage: 'qualification', closeDate: '2030-01-31', amount: { amount: '1000.00', currency: 'USD' } };
const submission = (extra: Record<string, unknown> = {}) => ({ involvementType: 'co_sell', visibility: 'full', solutionIds: ['S-1', 'S-2'], opportunity, ...extra });

describe('document mappings', () => {
  it('writes nested paths and array elements as objects and lists, and leaves out what is not set', () => {
    const m = load('fields:\n  opportunity.name: Project.Title\n  account.name: Customer.Account.CompanyName\n  partnerOpportunityId: Project.ExpectedCustomerSpend[0].TargetCompany\n  opportunity.description: Project.CustomerBusinessProblem\n');
    expect(m.reverse(submission({ partnerOpportunityId: 'P-9' }))).toEqual({ ok: true, unresolved: [], value: { Project: { Title: 'Acme', ExpectedCustomerSpend: [{ TargetCompany: 'P-9' }] } } });
  });

  it('writes top-level constants always and nested ones only into objects the fields made', () => {
    const m = load('constants:\n  Origin: Partner Referral\n  Project.ExpectedCustomerSpend[0].Frequency: Monthly\n'
      + 'fields:\n  opportunity.name: Project.Title\noutbound:\n  Project.ExpectedCustomerSpend[0].Amount: decimalDivide(record.opportunity.amount.amount, 12, 2)\n');
    expect(m.reverse(submission())).toEqual({ ok: true, unresolved: [], value: {
      Origin: 'Partner Referral', Project: { Title: 'Acme', ExpectedCustomerSpend: [{ Amount: '83.33', Frequency: 'Monthly' }] },
    } });
    const none = m.reverse(submission({ opportunity: { ...opportunity, amount: undefined } }));
    expect(none.ok && none.value).toEqual({ Origin: 'Partner Referral', Project: { Title: 'Acme' } });
  });

  it('maps lists: items field by field with a filter, scalars into their elements, defaults for absent lists', () => {
    const m = load('fields:\n  opportunity.name: Project.Title\n'
      + '  contacts:\n    from: Customer.Contacts[]\n    where: has(record.email)\n    items:\n      email: Email\n      lastName: LastName\n      firstName:\n        from: FirstName\n        default: "-"\n'
      + '  deliveryModels:\n    from: Project.DeliveryModels\n    default: [SaaS or PaaS]\n');
    const out = m.reverse(submission({ contacts: [{ id: 'c1', lastName: 'Lovelace', email: 'ada@example.com' }, { id: 'c2', lastName: 'Nomail' }] }));
    expect(out.ok && out.value).toEqual({
      Project: { Title: 'Acme', DeliveryModels: ['SaaS or PaaS'] },
      Customer: { Contacts: [{ Email: 'ada@example.com', LastName: 'Lovelace', FirstName: '-' }] },
    });
    // A list the filter empties is left out, like an empty object.
    const empty = m.reverse(submission({ contacts: [{ id: 'c2', lastName: 'Nomail' }], deliveryModels: ['Managed Services'] }));
    expect(empty.ok && empty.value).toEqual({ Project: { Title: 'Acme', DeliveryModels: ['Managed Services'] } });

    const ms = parseMapping('system: microsoft-partner-center\nobject: referrals\nentity: CoSellSubmission\nshape: document\ndefaults:\n  direction: outbound\nfields:\n  solutionIds: details.requirements.solutions[].id\n', 'm.yaml', { schemaFor });
    expect(ms.diagnostics).toEqual([]);
    const solutions = ms.mapping!.reverse(submission());
    expect(solutions.ok && solutions.value).toEqual({ details: { requirements: { solutions: [{ id: 'S-1' }, { id: 'S-2' }] } } });
  });

  it('value maps write back, with unmapped values passed through when the file says so', () => {
    const m = load('fields:\n  account.name: Customer.Account.CompanyName\n  account.industry:\n    from: Customer.Account.Industry\n    map:\n      Software and Internet: Technology\n    unmapped: keep\n'
      + '  opportunity.stage:\n    from: LifeCycle.Stage\n    map:\n      Qualified: qualification\n      Business Validation: business_validation\n    reverse:\n      proposal: Business Validation\n', false);
    const write = (industry: string, stage: string) => m.reverse(submission({ account: { id: 'a', name: 'Acme', industry }, opportunity: { ...opportunity, stage } }));
    expect(write('Technology', 'proposal')).toMatchObject({ ok: true, value: { Customer: { Account: { Industry: 'Software and Internet' } }, LifeCycle: { Stage: 'Business Validation' } } });
    expect(write('Healthcare', 'qualification')).toMatchObject({ ok: true, value: { Customer: { Account: { Industry: 'Healthcare' } }, LifeCycle: { Stage: 'Qualified' } } });
    expect(write('Healthcare', 'closed_won')).toMatchObject({ ok: false, errors: [{ field: 'opportunity.stage', code: 'unknown_value' }] });
  });

  it('computes outbound values from the canonical record; a field the record lacks gives no value', () => {
    const m = load('outbound:\n  Customer.Account.WebsiteUrl: \'has(record.account.website) ? record.account.website : "https://" + record.account.domain\'\n'
      + '  Project.ExpectedCustomerSpend[0].CurrencyCode: record.opportunity.amount.currency\n');
    const site = (account?: Record<string, unknown>) => m.reverse(submission({ account }));
    expect(site({ id: 'a', name: 'A', website: 'https://www.a.example' })).toMatchObject({ value: { Customer: { Account: { WebsiteUrl: 'https://www.a.example' } } } });
    expect(site({ id: 'a', name: 'A', domain: 'a.example' })).toMatchObject({ value: { Customer: { Account: { WebsiteUrl: 'https://a.example' } } } });
    expect(site(undefined)).toEqual({ ok: true, unresolved: [], value: { Project: { ExpectedCustomerSpend: [{ CurrencyCode: 'USD' }] } } });
    expect(m.writes).toEqual([
      { target: 'Customer.Account.WebsiteUrl', sources: ['account.website', 'account.domain'] },
      { target: 'Project.ExpectedCustomerSpend[0].CurrencyCode', sources: ['opportunity.amount.currency'] },
    ]);
  });

  it('divides and rounds decimals exactly, half away from zero', () => {
    expect(decimalDivide('250000.00', 12, 2)).toBe('20833.33');
    expect(decimalDivide('12', 12, 2)).toBe('1.00');
    expect(decimalDivide('0.05', 12, 2)).toBe('0.00');
    expect(decimalDivide('0.06', 12, 2)).toBe('0.01');
    expect(decimalDivide('1000000.06', 12n, 2n)).toBe('83333.34');
    expect(decimalDivide('-0.06', 12, 2)).toBe('-0.01');
    expect(decimalDivide('3000', 12, 0)).toBe('250');
    expect(decimalRound('20833.50', 0)).toBe('20834');
    expect(decimalRound('20833.49', 0)).toBe('20833');
    expect(() => decimalDivide('x', 12, 2)).toThrow(/not a decimal/);
  });

  it('checks a cloud mapping against the cloud\'s schema, at file:line:col', () => {
    // Lines 1-6 are the header; `fields:` is line 7.
    expect(errors('fields:\n  account.name: Customer.Account.CompanyNam\n  account.industry:\n    from: Customer.Account.Industry\n    map:\n      Software: Technology\n')).toEqual([
      'c.yaml:8:17: error: aws-partner-central Opportunity has no field `Customer.Account.CompanyNam` (did you mean `Customer.Account.CompanyName`?)',
      'c.yaml:12:7: error: `Software` is not a value of Customer.Account.Industry in aws-partner-central Opportunity',
    ]);
    expect(errors('constants:\n  NationalSecurity: Maybe\nfields:\n  deliveryModels:\n    from: Project.DeliveryModels\n    default: [SaaS]\noutbound:\n  LifeCycle.ReviewComments: record.opportunity.name\n  Project.Title: record.oportunity.name\n')).toEqual([
      'c.yaml:8:3: error: constant `NationalSecurity`: `Maybe` is not a value of NationalSecurity in aws-partner-central Opportunity',
      'c.yaml:12:14: error: default for `deliveryModels`: `SaaS` is not a value of Project.DeliveryModels in aws-partner-central Opportunity',
      'c.yaml:14:3: error: `LifeCycle.ReviewComments` is read-only in aws-partner-central Opportunity',
      'c.yaml:15:18: error: CoSellSubmission has no field `oportunity.name` (did you mean `opportunity.name`?)',
    ]);
  });

  it('checks document paths, lists and outbound fields without a schema too (a list may be read too: `direction: both`)', () => {
    expect(errors('fields:\n  opportunity.name: Project..Title\n  contacts: Customer.Contacts[]\n  solutionIds:\n    from: A[].b[].c\n    direction: both\noutbound:\n  Project.Amount: decimalDivide(record.opportunity.amount.amount, 12)\n')).toEqual([
      'c.yaml:8:21: error: `Project..Title` is not a document path: names separated by dots, each with an optional index such as `[0]` (`Project.ExpectedCustomerSpend[0].Amount`)',
      'c.yaml:9:3: error: `contacts` is a list of objects: map their fields under `items:`, e.g. `id: Field`',
      'c.yaml:11:11: error: `A[].b[].c`: a list path has one `[]`, after the list\'s name (`Customer.Contacts[]`, `details.requirements.solutions[].id`)',
      expect.stringMatching(/^c\.yaml:14:19: error: expression does not compile: /),
    ]);
  });
});
