import type { ReferralInput } from './referral.js';

/** A valid Shared (co-sell) referral, for tests and demos; overrides replace top-level fields. */
export function sampleReferralInput(overrides: Partial<ReferralInput> = {}): ReferralInput {
  return {
    name: 'Contoso - Azure data platform',
    type: 'Shared',
    qualification: 'SalesQualified',
    customerProfile: {
      name: 'Contoso Ltd',
      address: { addressLine1: '1 Market Street', city: 'Seattle', state: 'WA', postalCode: '98101', country: 'US' },
      team: [{ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@contoso.example.com', phoneNumber: '+1 555 200 1000' }],
    },
    consent: { consentToShareReferralWithMicrosoftSellers: true, consentToContact: true },
    details: {
      dealValue: 120_000,
      currency: 'USD',
      closingDateTime: '2030-06-30T00:00:00Z',
      notes: 'Customer moving its warehouse to Azure',
      requirements: { solutions: [{ id: 'SOL-12345-ECO', name: 'ecosync' }] },
    },
    ...overrides,
  };
}
