import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareAws, prepareMicrosoft } from '../../src/activities/cosell.js';
import {
  awsOpportunityPayload, awsReviewStatus, COSELL_MAPPINGS, coSellSummary, coSellValues, microsoftReferralPayload, microsoftReferralStatus,
  sourceOf,
} from '../../src/cosell/index.js';
import type { CoSellOptions } from '../../src/cosell/index.js';
import { coSellMappingFiles } from '../../src/runtime/mappings.js';
import { sampleAccount, sampleContact, sampleOpportunityFor } from './support.js';

const options: CoSellOptions = { involvementType: 'co_sell', visibility: 'full', solutionIds: ['S-0000001'] };
// The payloads are mapped with the shipped files, read from disk as the worker reads them.
const files = coSellMappingFiles;

describe('co-sell payloads', () => {
  it('a complete canonical opportunity passes AWS\'s create and submission rules and Microsoft\'s referral rules', () => {
    const account = sampleAccount();
    const snapshot = { opportunity: sampleOpportunityFor(account), account, contacts: [sampleContact(account)] };
    const aws = prepareAws(files, snapshot, options, '006000000000001');
    expect(aws.error).toBeUndefined();
    expect(aws.payload).toMatchObject({
      Origin: 'Partner Referral', OpportunityType: 'Net New Business', PartnerOpportunityIdentifier: '006000000000001',
      LifeCycle: { Stage: 'Qualified', TargetCloseDate: snapshot.opportunity.closeDate },
      Customer: { Contacts: [{ Email: 'ada@acme-analytics.example.com', FirstName: 'Ada', LastName: 'Lovelace', BusinessTitle: 'CTO' }] },
    });
    expect(prepareMicrosoft(files, snapshot, options).error).toBeUndefined();
  });

  it('names every field AWS would refuse, with the canonical field it comes from', () => {
    const account = sampleAccount({ industry: 'Other', website: 'not a url', billingAddress: { country: 'US', postalCode: 'ABC', state: 'Washington' } });
    const opportunity = sampleOpportunityFor(account, { stage: 'prospecting', amount: { amount: '100.00', currency: 'GBP' } });
    const { error } = prepareAws(files, { opportunity, account }, { ...options, solutionIds: [] }, opportunity.id);
    expect(error?.code).toBe('ValidationFailed');
    expect(error?.fields.map((f) => `${f.field} ${f.code}`).sort()).toEqual([
      'Customer.Account.Address.PostalCode INVALID_STRING_FORMAT',
      'Customer.Account.WebsiteUrl INVALID_STRING_FORMAT',
      'LifeCycle.Stage INVALID_VALUE',
      'Project.ExpectedCustomerSpend[0].CurrencyCode INVALID_VALUE',
      'RelatedEntityIdentifiers.Solutions REQUIRED_FIELD_MISSING',
    ]);
    expect(error?.fields.find((f) => f.field === 'LifeCycle.Stage')?.message).toContain('(from Opportunity.stage)');
    // Sources come from the mapping files: the field itself, an enclosing one, or what is inside it.
    expect(sourceOf(files, 'Project.ExpectedCustomerSpend[0].CurrencyCode')).toBe('Opportunity.amount.currency');
    expect(sourceOf(files, 'Project.ExpectedCustomerSpend')).toBe('Opportunity.amount');
    expect(sourceOf(files, 'Customer.Account.WebsiteUrl')).toBe('Account.website, Account.domain');
    expect(sourceOf(files, 'customerProfile.team')).toBe('contacts');
    expect(sourceOf(files, 'customerProfile.team[0].email')).toBe('contacts.email');
    expect(sourceOf(files, 'details.dealValue')).toBe('Opportunity.amount');
    expect(sourceOf(files, 'RelatedEntityIdentifiers.Solutions')).toBeUndefined();
  });

  it('builds the whole AWS and Microsoft payloads from the mapping files', () => {
    const account = sampleAccount();
    const contact = sampleContact(account);
    const opportunity = sampleOpportunityFor(account);
    const snapshot = { opportunity, account, contacts: [{ ...contact, email: undefined, id: contact.id.replace(/.$/, '0') }, contact] };
    expect(awsOpportunityPayload(files, snapshot, options, 'P-1')).toEqual({
      Origin: 'Partner Referral', OpportunityType: 'Net New Business', PartnerOpportunityIdentifier: 'P-1',
      PrimaryNeedsFromAws: ['Co-Sell - Deal Support', 'Co-Sell - Technical Consultation'], NationalSecurity: 'No',
      Customer: {
        Account: {
          CompanyName: 'Acme Analytics', Industry: 'Software and Internet', WebsiteUrl: 'https://www.acme-analytics.example.com',
          Address: { StreetAddress: '410 Terry Ave N', City: 'Seattle', StateOrRegion: 'Washington', PostalCode: '98101', CountryCode: 'US' },
        },
        // The contact without an email is left out: AWS identifies customer contacts by email.
        Contacts: [{ Email: 'ada@acme-analytics.example.com', FirstName: 'Ada', LastName: 'Lovelace', BusinessTitle: 'CTO', Phone: '+1 555 200 1000' }],
      },
      Project: {
        Title: opportunity.name, CustomerBusinessProblem: opportunity.description, CustomerUseCase: 'AI Machine Learning and Analytics',
        DeliveryModels: ['SaaS or PaaS'], SalesActivities: ['Initialized discussions with customer'],
        ExpectedCustomerSpend: [{ Amount: '20833.33', CurrencyCode: 'USD', Frequency: 'Monthly', TargetCompany: 'AWS' }],
      },
      LifeCycle: { Stage: 'Qualified', TargetCloseDate: opportunity.closeDate },
    });
    expect(microsoftReferralPayload(files, snapshot, { ...options, solutionIds: ['S-1', 'S-2'] })).toEqual({
      name: opportunity.name, type: 'Shared', qualification: 'SalesQualified',
      customerProfile: {
        name: 'Acme Analytics',
        address: { addressLine1: '410 Terry Ave N', city: 'Seattle', state: 'Washington', postalCode: '98101', country: 'US' },
        team: [
          { firstName: 'Ada', lastName: 'Lovelace', phoneNumber: '+1 555 200 1000' },
          { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@acme-analytics.example.com', phoneNumber: '+1 555 200 1000' },
        ],
      },
      consent: { consentToShareReferralWithMicrosoftSellers: true, consentToContact: true },
      details: {
        dealValue: 250000, currency: 'USD', closingDateTime: `${opportunity.closeDate}T00:00:00Z`, notes: opportunity.description,
        requirements: { solutions: [{ id: 'S-1' }, { id: 'S-2' }] },
      },
    });
  });

  it('leaves out what the opportunity lacks, and fills in what the files default', () => {
    const account = sampleAccount({ website: undefined, domain: 'acme.example.com', industry: 'Other' });
    const opportunity = sampleOpportunityFor(account, { amount: { amount: '1000000.06', currency: 'EUR' }, description: undefined, type: undefined, stage: 'negotiation' });
    const visibility: CoSellOptions = { involvementType: 'for_visibility_only', visibility: 'full', solutionIds: [], deliveryModels: ['Managed Services'] };
    const aws = awsOpportunityPayload(files, { opportunity, account }, visibility, 'P-2');
    expect(aws).toMatchObject({
      OpportunityType: 'Net New Business', LifeCycle: { Stage: 'Committed' },
      Customer: { Account: { Industry: 'Other', OtherIndustry: 'Other', WebsiteUrl: 'https://acme.example.com' } },
      Project: { DeliveryModels: ['Managed Services'], ExpectedCustomerSpend: [{ Amount: '83333.34', CurrencyCode: 'EUR', Frequency: 'Monthly' }] },
    });
    expect(aws).not.toHaveProperty('PrimaryNeedsFromAws');
    expect(aws.Customer).not.toHaveProperty('Contacts');
    expect(aws.Project).not.toHaveProperty('CustomerBusinessProblem');
    const bare = awsOpportunityPayload(files, { opportunity: { ...opportunity, amount: undefined } }, visibility, 'P-2');
    // No amount, no expected spend: the constants inside it do not make one on their own.
    expect(bare.Project).not.toHaveProperty('ExpectedCustomerSpend');
    expect(bare).not.toHaveProperty('Customer');
    const ms = microsoftReferralPayload(files, { opportunity, account }, visibility);
    expect(ms).toMatchObject({ type: 'Independent', details: { dealValue: 1000000, currency: 'EUR' } });
    expect(ms).not.toHaveProperty('consent');
    expect(ms.details).not.toHaveProperty('requirements');
  });

  it('a RevOps edit of the mapping file changes the payload, with no code change', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cosell-mapping-'));
    const file = join(dir, 'aws.yaml');
    const shipped = readFileSync(COSELL_MAPPINGS.aws, 'utf8');
    writeFileSync(file, shipped
      .replace('Software and Internet: Technology', 'Computers and Electronics: Technology')
      .replace('opportunity.description: Project.CustomerBusinessProblem', 'opportunity.nextStep: Project.CustomerBusinessProblem'));
    const account = sampleAccount();
    const opportunity = sampleOpportunityFor(account, { nextStep: 'The customer needs sales analytics within minutes, not a day later.' });
    const payload = awsOpportunityPayload(files, { opportunity, account }, options, 'P-3', file) as { Customer: { Account: { Industry: string } }; Project: Record<string, unknown> };
    expect(payload.Customer.Account.Industry).toBe('Computers and Electronics');
    expect(payload.Project.CustomerBusinessProblem).toBe(opportunity.nextStep);
    expect(sourceOf(files, 'Project.CustomerBusinessProblem', [file])).toBe('Opportunity.nextStep');

    // A broken edit is refused with the place to fix, not sent half-mapped.
    writeFileSync(file, shipped.replace('Software and Internet: Technology', 'Software: Technology'));
    expect(() => awsOpportunityPayload(files, { opportunity, account }, options, 'P-3', file))
      .toThrow(/aws\.yaml:\d+:\d+: error: `Software` is not a value of Customer\.Account\.Industry in aws-partner-central Opportunity/);
  });

  it('maps the clouds\' review words onto the canonical status', () => {
    expect(['Pending Submission', 'Submitted', 'In review', 'Approved', 'Rejected', 'Action Required'].map(awsReviewStatus))
      .toEqual(['submitted', 'submitted', 'in_review', 'approved', 'rejected', 'action_required']);
    expect([['New', 'Pending'], ['Active', 'Accepted'], ['Active', 'Engaged'], ['Closed', 'Declined'], ['Closed', 'Won'], ['Closed', 'Expired']]
      .map(([s, sub]) => microsoftReferralStatus(s, sub))).toEqual(['in_review', 'approved', 'approved', 'rejected', 'closed', 'closed']);
  });

  it('summarises the co-sell for the CRM as the opportunity\'s co-sell fields', () => {
    const referral = { cloud: 'aws' as const, externalId: 'O1234567', status: 'action_required' as const, pendingApprovers: [], lastError: { code: 'ActionRequired', message: 'x'.repeat(400), fields: [] } };
    const written = coSellValues(referral);
    expect(written).toMatchObject({ 'coSell.cloud': 'aws', 'coSell.status': 'action_required', 'coSell.cloudOpportunityId': 'O1234567' });
    expect(String(written['coSell.message']).startsWith('AWS co-sell O1234567: action required — xxx')).toBe(true);
    expect(coSellSummary({ ...referral, lastError: { ...referral.lastError, message: 'x'.repeat(40_000) } })).toHaveLength(32_000);
    expect(coSellSummary({ ...referral, status: 'pending_approval', externalId: undefined, lastError: undefined, pendingApprovers: ['dana@example.com'] }))
      .toBe('AWS co-sell: pending approval — waiting for dana@example.com');
    // Before the cloud has an id, the write clears any id an earlier co-sell left.
    expect(coSellValues({ ...referral, externalId: undefined })).toHaveProperty(['coSell.cloudOpportunityId'], undefined);
  });
});
