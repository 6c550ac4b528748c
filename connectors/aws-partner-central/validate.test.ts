import { describe, expect, it } from 'vitest';
import { mergeForUpdate } from './client.js';
import { sampleOpportunity } from './sample.js';
import { validateCreateOpportunity, validateSubmission, validationExceptionFor, valuesAt } from './validate.js';

const NOW = new Date('2030-06-15T12:00:00Z');
const valid = () => ({ ...sampleOpportunity({ targetCloseDate: '2030-09-30' }), Catalog: 'Sandbox' as const });
const codes = (issues: { field: string; code: string }[]) => issues.map((i) => `${i.field}:${i.code}`);

describe('validateCreateOpportunity', () => {
  it('accepts a complete opportunity', () => {
    expect(validateCreateOpportunity(valid(), { now: NOW })).toEqual([]);
  });

  it('names every missing required field with REQUIRED_FIELD_MISSING, as business rules', () => {
    const issues = validateCreateOpportunity({ Catalog: 'AWS', Customer: { Account: { CompanyName: 'Acme' } } }, { now: NOW });
    expect(codes(issues)).toEqual([
      'Customer.Account.Industry:REQUIRED_FIELD_MISSING',
      'Customer.Account.WebsiteUrl:REQUIRED_FIELD_MISSING',
      'Customer.Account.Address.CountryCode:REQUIRED_FIELD_MISSING',
      'Customer.Account.Address.PostalCode:REQUIRED_FIELD_MISSING',
      'OpportunityType:REQUIRED_FIELD_MISSING',
      'Origin:REQUIRED_FIELD_MISSING',
      'Project.Title:REQUIRED_FIELD_MISSING',
      'Project.CustomerBusinessProblem:REQUIRED_FIELD_MISSING',
      'Project.ExpectedCustomerSpend:REQUIRED_FIELD_MISSING',
      'LifeCycle.TargetCloseDate:REQUIRED_FIELD_MISSING',
    ]);
    expect(new Set(issues.map((i) => i.phase))).toEqual(new Set(['BUSINESS_VALIDATION_FAILED']));
  });

  it('flags formats, enums, lengths and duplicates as request validation', () => {
    const o = valid();
    o.Customer!.Account!.WebsiteUrl = 'not a url';
    o.Customer!.Account!.Industry = 'Software' as never;
    o.Customer!.Account!.Address!.CountryCode = 'USA' as never;
    o.Project!.CustomerBusinessProblem = 'Too short';
    o.Project!.ExpectedCustomerSpend = [{ Amount: '12,000', CurrencyCode: 'USD', Frequency: 'Yearly' as never, TargetCompany: 'AWS' }];
    o.PrimaryNeedsFromAws = ['Co-Sell - Deal Support', 'Co-Sell - Deal Support'];
    o.OpportunityType = 'New' as never;
    o.LifeCycle!.TargetCloseDate = '30/09/2030';
    const issues = validateCreateOpportunity(o, { now: NOW });
    expect(codes(issues)).toEqual([
      'OpportunityType:INVALID_ENUM_VALUE',
      'PrimaryNeedsFromAws:DUPLICATE_KEY_VALUE',
      'Customer.Account.Industry:INVALID_ENUM_VALUE',
      'Customer.Account.WebsiteUrl:INVALID_STRING_FORMAT',
      'Customer.Account.Address.CountryCode:INVALID_ENUM_VALUE',
      'Project.CustomerBusinessProblem:INVALID_VALUE',
      'Project.ExpectedCustomerSpend[0].Frequency:INVALID_ENUM_VALUE',
      'Project.ExpectedCustomerSpend[0].Amount:INVALID_STRING_FORMAT',
      'LifeCycle.TargetCloseDate:INVALID_STRING_FORMAT', // and not again as a date in the past
    ]);
    expect(validationExceptionFor(issues)!.Reason).toBe('REQUEST_VALIDATION_FAILED');
  });

  it('reports business problems alongside malformed fields, but AWS answers only the first failing phase', () => {
    const o = valid();
    o.Customer!.Account!.WebsiteUrl = 'not a url';
    delete o.Project!.Title;
    const issues = validateCreateOpportunity(o, { now: NOW });
    expect(codes(issues)).toEqual(['Customer.Account.WebsiteUrl:INVALID_STRING_FORMAT', 'Project.Title:REQUIRED_FIELD_MISSING']);
    const body = validationExceptionFor(issues)!;
    expect(body.Reason).toBe('REQUEST_VALIDATION_FAILED');
    expect(body.ErrorList.map((e) => `${e.FieldName}:${e.Code}`)).toEqual(['Customer.Account.WebsiteUrl:INVALID_STRING_FORMAT']);
  });

  it('applies cross-field business rules', () => {
    const o = valid();
    o.Customer!.Account!.Address!.PostalCode = 'EC1A 1BB'; // fine for GB, not for US
    o.Project!.ExpectedCustomerSpend![0].CurrencyCode = 'JPY';
    o.LifeCycle!.TargetCloseDate = '2030-06-14';
    o.NationalSecurity = 'Yes';
    o.LifeCycle!.ReviewStatus = 'Approved';
    const issues = validateCreateOpportunity({ ...o, Catalog: 'AWS', Origin: 'AWS Referral' }, { now: NOW });
    expect(codes(issues)).toEqual([
      'Customer.Account.Address.PostalCode:INVALID_STRING_FORMAT',
      'Origin:INVALID_VALUE',
      'NationalSecurity:INVALID_VALUE',
      'Project.ExpectedCustomerSpend[0].CurrencyCode:INVALID_VALUE',
      'LifeCycle.TargetCloseDate:INVALID_VALUE',
      'LifeCycle.ReviewStatus:INVALID_VALUE',
    ]);
    expect(validateCreateOpportunity({ ...o, LifeCycle: { ...o.LifeCycle, TargetCloseDate: '2030-06-15', ReviewStatus: undefined }, NationalSecurity: 'No',
      Customer: { ...o.Customer, Account: { ...o.Customer!.Account!, Address: { CountryCode: 'GB', PostalCode: 'EC1A 1BB' } } },
      Project: { ...o.Project, ExpectedCustomerSpend: [{ Amount: '10', CurrencyCode: 'EUR', Frequency: 'Monthly', TargetCompany: 'AWS' }] } }, { now: NOW })).toEqual([]);
  });

  it('rejects impossible calendar dates', () => {
    const o = valid();
    o.LifeCycle!.TargetCloseDate = '2031-02-30';
    expect(codes(validateCreateOpportunity(o, { now: NOW }))).toEqual(['LifeCycle.TargetCloseDate:INVALID_VALUE']);
  });
});

describe('validateSubmission', () => {
  const stored = () => ({ ...valid(), RelatedEntityIdentifiers: { Solutions: ['S-0000001'] }, LifeCycle: { ...valid().LifeCycle, ReviewStatus: 'Pending Submission' } });

  it('needs a solution, a matured stage and an allowed review status', () => {
    expect(validateSubmission(stored(), { InvolvementType: 'Co-Sell', Visibility: 'Full' }, { now: NOW })).toEqual([]);
    const o = { ...stored(), RelatedEntityIdentifiers: { Solutions: [] }, LifeCycle: { ...stored().LifeCycle, Stage: 'Prospect', ReviewStatus: 'In review' } };
    expect(codes(validateSubmission(o, { InvolvementType: 'Co-Sell' }, { now: NOW }))).toEqual([
      'RelatedEntityIdentifiers.Solutions:REQUIRED_FIELD_MISSING',
      'LifeCycle.Stage:INVALID_VALUE',
      'LifeCycle.ReviewStatus:INVALID_RESOURCE_STATE',
    ]);
  });

  it('checks the submission itself', () => {
    expect(codes(validateSubmission(stored(), { InvolvementType: 'Cosell' }, { now: NOW }))).toEqual(['AwsSubmission.InvolvementType:INVALID_ENUM_VALUE']);
    expect(codes(validateSubmission(stored(), { InvolvementType: 'For Visibility Only', Visibility: 'Limited' }, { now: NOW })))
      .toEqual(['AwsSubmission.Visibility:INVALID_VALUE']);
  });
});

describe('valuesAt', () => {
  it('walks arrays and reports absent parents once', () => {
    expect(valuesAt({ a: [{ b: 1 }, { b: 2 }] }, 'a[].b')).toEqual([{ path: 'a[0].b', value: 1 }, { path: 'a[1].b', value: 2 }]);
    expect(valuesAt({}, 'a.b.c')).toEqual([{ path: 'a.b.c', value: undefined }]);
    expect(valuesAt({}, 'a[].b')).toEqual([]);
  });
});

describe('mergeForUpdate', () => {
  it('carries the whole record over, merges objects, replaces arrays, clears with null and drops AWS-owned fields', () => {
    const current = {
      Id: 'O1', LastModifiedDate: new Date(), CreatedDate: new Date(), RelatedEntityIdentifiers: {},
      ...valid(),
      LifeCycle: { ...valid().LifeCycle, ReviewStatus: 'Approved' as const, ReviewComments: 'ok' },
    };
    const body = mergeForUpdate(current, {
      Customer: { Account: { WebsiteUrl: 'https://acme.example.org' } },
      Project: { DeliveryModels: ['Professional Services'] },
      LifeCycle: { NextSteps: null },
    });
    expect(body.Customer?.Account?.CompanyName).toBe('Acme Analytics');
    expect(body.Customer?.Account?.WebsiteUrl).toBe('https://acme.example.org');
    expect(body.Customer?.Contacts).toHaveLength(1);
    expect(body.Project?.DeliveryModels).toEqual(['Professional Services']);
    expect(body.Project?.Title).toBe('Real-time analytics on AWS');
    expect(body.LifeCycle).toEqual({ Stage: 'Qualified', TargetCloseDate: '2030-09-30' });
    expect(body).not.toHaveProperty('Id');
  });
});
