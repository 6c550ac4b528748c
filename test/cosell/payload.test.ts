import { describe, expect, it } from 'vitest';
import { prepareAws, prepareMicrosoft } from '../../src/activities/cosell.js';
import { awsReviewStatus, coSellSummary, crmCoSellFields, microsoftReferralStatus, monthly, sourceOf } from '../../src/cosell/index.js';
import type { CoSellOptions } from '../../src/cosell/index.js';
import { sampleAccount, sampleContact, sampleOpportunityFor } from './support.js';

const options: CoSellOptions = { involvementType: 'co_sell', visibility: 'full', solutionIds: ['S-0000001'] };

describe('co-sell payloads', () => {
  it('a complete canonical opportunity passes AWS\'s create and submission rules and Microsoft\'s referral rules', () => {
    const account = sampleAccount();
    const snapshot = { opportunity: sampleOpportunityFor(account), account, contacts: [sampleContact(account)] };
    const aws = prepareAws(snapshot, options, '006000000000001');
    expect(aws.error).toBeUndefined();
    expect(aws.payload).toMatchObject({
      Origin: 'Partner Referral', OpportunityType: 'Net New Business', PartnerOpportunityIdentifier: '006000000000001',
      LifeCycle: { Stage: 'Qualified', TargetCloseDate: snapshot.opportunity.closeDate },
      Customer: { Contacts: [{ Email: 'ada@acme-analytics.example.com', FirstName: 'Ada', LastName: 'Lovelace', BusinessTitle: 'CTO' }] },
    });
    expect(prepareMicrosoft(snapshot, options).error).toBeUndefined();
  });

  it('names every field AWS would refuse, with the canonical field it comes from', () => {
    const account = sampleAccount({ industry: 'Other', website: 'not a url', billingAddress: { country: 'US', postalCode: 'ABC', state: 'Washington' } });
    const opportunity = sampleOpportunityFor(account, { stage: 'prospecting', amount: { amount: '100.00', currency: 'GBP' } });
    const { error } = prepareAws({ opportunity, account }, { ...options, solutionIds: [] }, opportunity.id);
    expect(error?.code).toBe('ValidationFailed');
    expect(error?.fields.map((f) => `${f.field} ${f.code}`).sort()).toEqual([
      'Customer.Account.Address.PostalCode INVALID_STRING_FORMAT',
      'Customer.Account.WebsiteUrl INVALID_STRING_FORMAT',
      'LifeCycle.Stage INVALID_VALUE',
      'Project.ExpectedCustomerSpend[0].CurrencyCode INVALID_VALUE',
      'RelatedEntityIdentifiers.Solutions REQUIRED_FIELD_MISSING',
    ]);
    expect(error?.fields.find((f) => f.field === 'LifeCycle.Stage')?.message).toContain('(from Opportunity.stage)');
    expect(sourceOf('Project.ExpectedCustomerSpend[0].CurrencyCode')).toBe('Opportunity.amount');
  });

  it('spreads the deal over twelve months to the cent without floats', () => {
    expect(monthly({ amount: '250000.00', currency: 'USD' })).toBe('20833.33');
    expect(monthly({ amount: '12', currency: 'USD' })).toBe('1.00');
    expect(monthly({ amount: '0.05', currency: 'USD' })).toBe('0.00');
    expect(monthly({ amount: '0.06', currency: 'USD' })).toBe('0.01');
  });

  it('maps the clouds\' review words onto the canonical status', () => {
    expect(['Pending Submission', 'Submitted', 'In review', 'Approved', 'Rejected', 'Action Required'].map(awsReviewStatus))
      .toEqual(['submitted', 'submitted', 'in_review', 'approved', 'rejected', 'action_required']);
    expect([['New', 'Pending'], ['Active', 'Accepted'], ['Active', 'Engaged'], ['Closed', 'Declined'], ['Closed', 'Won'], ['Closed', 'Expired']]
      .map(([s, sub]) => microsoftReferralStatus(s, sub))).toEqual(['in_review', 'approved', 'approved', 'rejected', 'closed', 'closed']);
  });

  it('summarises the co-sell for the CRM within the field\'s length', () => {
    const referral = { cloud: 'aws' as const, externalId: 'O1234567', status: 'action_required' as const, pendingApprovers: [], lastError: { code: 'ActionRequired', message: 'x'.repeat(400), fields: [] } };
    const written = crmCoSellFields('salesforce', referral)!;
    expect(written.object).toBe('Opportunity');
    expect(written.fields.NextStep).toHaveLength(255);
    expect(written.fields.NextStep.startsWith('AWS co-sell O1234567: action required — xxx')).toBe(true);
    expect(coSellSummary({ ...referral, status: 'pending_approval', externalId: undefined, lastError: undefined, pendingApprovers: ['dana@example.com'] }))
      .toBe('AWS co-sell: pending approval — waiting for dana@example.com');
    expect(crmCoSellFields('netsuite', referral)).toBeUndefined();
  });
});
