import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  awsInvitation, companyNameVariants, domainOf, inboundOpportunityValues, matchInbound, microsoftInvitation, normaliseCompanyName,
  titleSimilarity, yearly, type CandidateAccount, type CandidateOpportunity,
} from '../../src/cosell/inbound.js';
import { inboundPolicy, refusal, type ApprovalPolicy } from '../../src/cosell/approval.js';
import { parseApprovalPolicy } from '../../src/cosell/policy-config.js';
import { InboundCoSell } from '../../src/model/cosell-inbound.js';
import { Opportunity } from '../../src/model/opportunity.js';

const ACME = '11111111-1111-4111-8111-111111111111';
const GLOBEX = '22222222-2222-4222-8222-222222222222';
const ACME_OPP = '33333333-3333-4333-8333-333333333333';

const invitation = (company: string, domain: string | undefined, title = 'Data lake modernisation') => ({
  customer: { company, domain }, project: { title },
});

describe('matching a shared customer and project against known CRM records', () => {
  const accounts: CandidateAccount[] = [
    { id: ACME, name: 'Acme, Inc.', domain: 'acme.com' },
    { id: GLOBEX, name: 'Globex Corporation', website: 'https://www.globex.example' },
  ];
  const opportunities: CandidateOpportunity[] = [
    { id: ACME_OPP, name: 'Acme – Data Lake Modernization', accountId: ACME, stage: 'qualification' },
    { id: '44444444-4444-4444-8444-444444444444', name: 'Acme contact center', accountId: ACME, stage: 'closed_won' },
  ];

  it('matches the account by domain, whatever the case or a www prefix', () => {
    for (const domain of ['acme.com', 'ACME.com', 'www.acme.com', 'https://www.Acme.com/about']) {
      expect(matchInbound({ customer: { company: 'Someone Else Ltd', domain: domainOf(domain) }, project: { title: 'x' } }, accounts, [])).toMatchObject({ accountId: ACME, reason: 'domain' });
    }
    // A website on the account counts as its domain.
    expect(matchInbound(invitation('Other name', 'globex.example'), accounts, [])).toMatchObject({ accountId: GLOBEX, reason: 'domain' });
    // The invitation's website, when it has no domain.
    expect(matchInbound({ customer: { company: 'x', website: 'http://www.globex.example' }, project: { title: 'y' } }, accounts, [])).toMatchObject({ accountId: GLOBEX });
  });

  it('falls back to the company name with punctuation, case and legal suffixes set aside', () => {
    expect(matchInbound(invitation('ACME Inc', undefined), accounts, [])).toMatchObject({ accountId: ACME, reason: 'company_name' });
    expect(matchInbound(invitation('acme', 'acme-holdings.com'), accounts, [])).toMatchObject({ accountId: ACME, reason: 'company_name' });
    expect(matchInbound(invitation('The Globex Corp.', undefined), accounts, [])).toMatchObject({ accountId: GLOBEX, reason: 'company_name' });
    expect(normaliseCompanyName('Acme, Inc.')).toBe(normaliseCompanyName('ACME Inc'));
    expect(normaliseCompanyName('Société Générale S.A.')).toBe('societe generale');
    expect(normaliseCompanyName('Procter & Gamble Co.')).toBe('procter and gamble');
    // The name a CRM may hold is among the spellings looked up.
    expect(companyNameVariants('ACME Inc')).toEqual(expect.arrayContaining(['acme, inc.', 'acme inc', 'acme']));
  });

  it('makes no false match: another domain and another name find nothing', () => {
    expect(matchInbound(invitation('Acme Widgets', 'acmewidgets.com'), accounts, opportunities)).toEqual(expect.objectContaining({ reason: 'none' }));
    expect(matchInbound(invitation('Acme Widgets', 'acmewidgets.com'), accounts, opportunities).accountId).toBeUndefined();
    expect(matchInbound(invitation('Initech', undefined), accounts, opportunities).reason).toBe('none');
    // A domain match wins over a name match of another account.
    expect(matchInbound(invitation('Globex', 'acme.com'), accounts, [])).toMatchObject({ accountId: ACME, reason: 'domain' });
    // A bare legal suffix is not a name.
    expect(matchInbound(invitation('Inc.', undefined), [{ id: ACME, name: 'Inc' }], []).accountId).toBe(ACME);
    expect(matchInbound(invitation('', undefined), accounts, []).reason).toBe('none');
  });

  it('picks an open opportunity of the account with a similar title, never a closed one or another account\'s', () => {
    expect(matchInbound(invitation('Acme', 'acme.com'), accounts, opportunities)).toMatchObject({ accountId: ACME, opportunityId: ACME_OPP });
    expect(matchInbound(invitation('Acme', 'acme.com', 'Contact centre migration'), accounts, opportunities).opportunityId).toBeUndefined();
    const elsewhere = opportunities.map((o) => ({ ...o, accountId: GLOBEX }));
    expect(matchInbound(invitation('Acme', 'acme.com'), accounts, elsewhere).opportunityId).toBeUndefined();
    const closed = opportunities.map((o) => ({ ...o, stage: 'closed_lost' }));
    expect(matchInbound(invitation('Acme', 'acme.com'), accounts, closed).opportunityId).toBeUndefined();
    expect(titleSimilarity('Data lake modernisation', 'Acme data lake modernization', 'Acme')).toBe(1);
    expect(titleSimilarity('Data lake modernisation', 'Acme security review', 'Acme')).toBe(0);
    expect(titleSimilarity('', 'anything')).toBe(0);
  });

  it('reads domains from URLs, hosts and e-mail domains, and nothing from junk', () => {
    expect(domainOf('https://WWW.Example.co.uk:8443/path?q=1')).toBe('example.co.uk');
    expect(domainOf('ada@acme.com')).toBe('acme.com');
    expect(domainOf('www2.acme.com')).toBe('acme.com');
    for (const junk of ['', 'localhost', 'not a domain', 'http://', undefined]) expect(domainOf(junk)).toBeUndefined();
    fc.assert(fc.property(fc.domain(), (d) => {
      const plain = d.toLowerCase().replace(/^www\d?\./, '');
      return domainOf(`https://www.${d.toUpperCase()}/x`) === plain || plain.split('.').length < 2;
    }));
  });
});

describe('what the clouds send, read into ecosync\'s words', () => {
  it('reads an AWS invitation: customer, domain, project, a year of the monthly spend, dates and sender', () => {
    const read = awsInvitation({
      Id: 'engi-abc', Status: 'PENDING', SenderAwsAccountId: '000000000000', SenderCompanyName: 'Amazon Web Services',
      InvitationDate: new Date('2026-01-01T00:00:00Z'), ExpirationDate: '2026-01-16T00:00:00.000Z', InvitationMessage: 'hi',
      Payload: { OpportunityInvitation: {
        SenderContacts: [{ Email: 'am@amazon.com', FirstName: 'Ann', BusinessTitle: 'Account Manager' }],
        Customer: { CompanyName: 'Acme, Inc.', WebsiteUrl: 'https://www.acme.com', CountryCode: 'US', Industry: 'Retail' },
        Project: { Title: 'Data lake', BusinessProblem: 'Slow reports', TargetCompletionDate: '2026-06-30', ExpectedCustomerSpend: [{ Amount: '2500.50', CurrencyCode: 'USD', Frequency: 'Monthly' }] },
      } },
    });
    expect(read).toEqual({
      invitationId: 'engi-abc', status: 'pending_acceptance', cloudStatus: 'PENDING',
      sender: { company: 'Amazon Web Services', accountId: '000000000000', contacts: [{ email: 'am@amazon.com', firstName: 'Ann', title: 'Account Manager' }] },
      customer: { company: 'Acme, Inc.', domain: 'acme.com', website: 'https://www.acme.com', country: 'US', industry: 'Retail' },
      project: { title: 'Data lake', description: 'Slow reports', amount: { amount: '30006.00', currency: 'USD' }, closeDate: '2026-06-30' },
      message: 'hi', receivedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-16T00:00:00.000Z',
    });
    expect(['ACCEPTED', 'REJECTED', 'EXPIRED', 'ODD'].map((Status) => awsInvitation({ Id: 'engi-x', Status }).status)).toEqual(['accepted', 'declined', 'expired', 'withdrawn']);
    expect(yearly('0.125', 'USD')).toEqual({ amount: '1.50', currency: 'USD' });
    expect(yearly('100', 'JPY')).toEqual({ amount: '1200', currency: 'JPY' });
    expect(yearly('100', 'XYZ')).toBeUndefined();
  });

  it('reads a Microsoft referral shared with us: the customer domain comes from its contacts', () => {
    const read = microsoftInvitation({
      id: 'r-1', engagementId: 'e-1', name: 'Globex - Azure migration', status: 'New', substatus: 'Received',
      customerProfile: { name: 'Globex', address: { country: 'DE' }, team: [{ email: 'kim@globex.example' }] },
      details: { dealValue: 120000, currency: 'EUR', closingDateTime: '2026-09-30T00:00:00Z', notes: 'seller notes' },
      createdDateTime: '2026-01-01T00:00:00.000Z', expirationDateTime: '2026-04-01T00:00:00.000Z',
    });
    expect(read).toMatchObject({
      invitationId: 'r-1', status: 'pending_acceptance', cloudStatus: 'New/Received', cloudOpportunityId: 'e-1',
      customer: { company: 'Globex', domain: 'globex.example', country: 'DE' },
      project: { title: 'Globex - Azure migration', amount: { amount: '120000.00', currency: 'EUR' }, closeDate: '2026-09-30', description: 'seller notes' },
    });
    expect(microsoftInvitation({ ...baseReferral, status: 'Active', substatus: 'Accepted' }).status).toBe('accepted');
    expect(microsoftInvitation({ ...baseReferral, status: 'Closed', substatus: 'Declined' }).status).toBe('declined');
    expect(microsoftInvitation({ ...baseReferral, status: 'Closed', substatus: 'Expired' }).status).toBe('expired');
    expect(microsoftInvitation({ ...baseReferral, status: 'Closed', substatus: 'Lost' }).status).toBe('withdrawn');
  });

  it('makes a valid canonical opportunity, named after the customer unless the title already is', () => {
    const values = inboundOpportunityValues('aws', { customer: { company: 'Acme' }, project: { title: 'Data lake' } }, ACME, '2026-01-01');
    expect(Opportunity.parse({ id: ACME_OPP, ...values })).toMatchObject({ name: 'Acme: Data lake', closeDate: '2026-04-01', accountId: ACME, stage: 'qualification' });
    expect(inboundOpportunityValues('azure', { customer: { company: 'Globex' }, project: { title: 'Globex - Azure migration', closeDate: '2026-09-30' } }, ACME, '2026-01-01'))
      .toMatchObject({ name: 'Globex - Azure migration', closeDate: '2026-09-30', partnerInvolvement: [{ role: 'sourced', cloud: 'azure' }] });
    expect(InboundCoSell.safeParse({ cloud: 'aws', invitationId: 'engi-1', status: 'pending_acceptance', sender: { contacts: [] }, customer: { company: 'A' }, project: { title: 'T' }, pendingApprovers: [], approvals: [], createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' }).success).toBe(true);
  });
});

const baseReferral = { id: 'r-2', name: 'n', status: 'New', substatus: 'Received' };

describe('who decides an invitation', () => {
  const policy: ApprovalPolicy = {
    currency: 'USD',
    stages: [
      { name: 'deal_desk', roles: ['deal_desk'], slaSeconds: 60 },
      { name: 'alliance_lead', roles: ['alliance_lead'], minAmount: '100000', slaSeconds: 120, escalateTo: 'vp@example.com' },
    ],
    users: { 'dana@example.com': ['deal_desk'], 'lee@example.com': ['alliance_lead'], 'ali@example.com': ['alliance_manager'] },
  };
  const progress = { stages: ['inbound'], index: 0, escalated: [] };

  it('uses the last stage\'s roles, SLA and escalation when the policy has no inbound section', () => {
    expect(inboundPolicy(policy).stages).toEqual([{ name: 'inbound', roles: ['alliance_lead'], slaSeconds: 120, escalateTo: 'vp@example.com' }]);
    expect(refusal(inboundPolicy(policy), progress, { by: 'lee@example.com' }, [])).toBeUndefined();
    expect(refusal(inboundPolicy(policy), progress, { by: 'dana@example.com' }, [])).toMatch(/needs the role alliance_lead/);
  });

  it('uses the inbound section when there is one, and checks it like the stages', () => {
    const withInbound = { ...policy, inbound: { roles: ['alliance_manager'], slaSeconds: 30 } };
    expect(inboundPolicy(withInbound).stages).toEqual([{ name: 'inbound', roles: ['alliance_manager'], slaSeconds: 30 }]);
    expect(refusal(inboundPolicy(withInbound), progress, { by: 'ali@example.com' }, [])).toBeUndefined();
    expect(refusal(inboundPolicy(withInbound), progress, { by: 'lee@example.com' }, [])).toMatch(/needs the role alliance_manager/);
    expect(parseApprovalPolicy(withInbound).inbound).toEqual({ roles: ['alliance_manager'], slaSeconds: 30 });
    expect(() => parseApprovalPolicy({ ...policy, inbound: { roles: ['nobody'], slaSeconds: 30 } })).toThrow(/inbound\.roles: nobody holds nobody/);
    expect(() => parseApprovalPolicy({ ...policy, inbound: { roles: [], slaSeconds: -1 } })).toThrow(/inbound\.roles.*inbound\.slaSeconds|inbound\.slaSeconds.*inbound\.roles/);
  });
});
