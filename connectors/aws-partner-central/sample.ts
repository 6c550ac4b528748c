import type { OpportunityInput } from './client.js';

/**
 * A complete co-sell opportunity that passes every create and submission rule (once a solution
 * is associated): for demos, docs and tests. `targetCloseDate` defaults to 90 days from now.
 */
export function sampleOpportunity(options: { companyName?: string; partnerId?: string; targetCloseDate?: string } = {}): OpportunityInput {
  return {
    Origin: 'Partner Referral',
    OpportunityType: 'Net New Business',
    PartnerOpportunityIdentifier: options.partnerId ?? '006Dn000004ABCDEF',
    PrimaryNeedsFromAws: ['Co-Sell - Technical Consultation', 'Co-Sell - Deal Support'],
    NationalSecurity: 'No',
    Customer: {
      Account: {
        CompanyName: options.companyName ?? 'Acme Analytics',
        Industry: 'Software and Internet',
        WebsiteUrl: 'https://www.acme-analytics.example.com',
        Address: { City: 'Seattle', StateOrRegion: 'Washington', PostalCode: '98101', CountryCode: 'US', StreetAddress: '410 Terry Ave N' },
      },
      Contacts: [{ Email: 'ada.lovelace@acme-analytics.example.com', FirstName: 'Ada', LastName: 'Lovelace', BusinessTitle: 'CTO' }],
    },
    Project: {
      Title: 'Real-time analytics on AWS',
      CustomerBusinessProblem: 'Nightly batch reports arrive too late for store managers; the customer wants sales analytics within minutes.',
      CustomerUseCase: 'AI Machine Learning and Analytics',
      DeliveryModels: ['SaaS or PaaS'],
      SalesActivities: ['Initialized discussions with customer', 'Conducted POC / Demo'],
      ExpectedCustomerSpend: [{ Amount: '12000.00', CurrencyCode: 'USD', Frequency: 'Monthly', TargetCompany: 'AWS' }],
    },
    LifeCycle: {
      Stage: 'Qualified',
      TargetCloseDate: options.targetCloseDate ?? new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10),
      NextSteps: 'Joint architecture review with the AWS account team',
    },
  };
}
