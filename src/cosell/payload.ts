import type { Account, CoSellInvolvement, CoSellVisibility, Contact, Money, Opportunity, OpportunityStage } from '../model/index.js';

/**
 * Canonical opportunity (+ account and contacts) → the cloud's payload: an AWS Partner Central
 * CreateOpportunity body, or a Microsoft Partner Center co-sell referral. Pure; the cloud's rules
 * are checked on the result by the connector's own validator, and a rule's field is traced back
 * to the canonical field it came from (FIELD_SOURCES) so the alliance manager knows what to fix.
 */

/** What the co-sell is about, as the CRM had it when it was asked for. */
export interface CoSellSnapshot {
  opportunity: Opportunity;
  account?: Account;
  /** Customer contacts: Microsoft needs at least one on the referral's customer team. */
  contacts?: Contact[];
}

/** The co-sell choices an alliance manager makes besides the opportunity itself. */
export interface CoSellOptions {
  involvementType: CoSellInvolvement;
  visibility: CoSellVisibility;
  /** Partner solutions being co-sold: AWS solution ids (S-0000001) or Microsoft solution ids. */
  solutionIds: string[];
  /** AWS only; defaults fit a typical SaaS co-sell. */
  primaryNeedsFromAws?: string[];
  customerUseCase?: string;
  deliveryModels?: string[];
  salesActivities?: string[];
}

const AWS_STAGES: Record<OpportunityStage, string> = {
  prospecting: 'Prospect',
  qualification: 'Qualified',
  technical_validation: 'Technical Validation',
  business_validation: 'Business Validation',
  proposal: 'Business Validation',
  negotiation: 'Committed',
  committed: 'Committed',
  closed_won: 'Launched',
  closed_lost: 'Closed Lost',
};

const AWS_OPPORTUNITY_TYPES = { new_business: 'Net New Business', expansion: 'Expansion', renewal: 'Flat Renewal' } as const;

/** CRM industry picklist values → AWS Industry; an AWS value passes as is (and is checked). */
const AWS_INDUSTRIES: Record<string, string> = {
  Technology: 'Software and Internet',
  Finance: 'Financial Services',
  Energy: 'Energy - Power and Utilities',
  Media: 'Media and Entertainment',
};

/** AWS field → the canonical field it is built from, for messages the alliance manager can act on. */
export const FIELD_SOURCES: Record<string, string> = {
  'Customer.Account.CompanyName': 'Account.name',
  'Customer.Account.Industry': 'Account.industry',
  'Customer.Account.OtherIndustry': 'Account.industry',
  'Customer.Account.WebsiteUrl': 'Account.website (or Account.domain)',
  'Customer.Account.AwsAccountId': 'Account.awsAccountId',
  'Customer.Account.Address.CountryCode': 'Account.billingAddress.country',
  'Customer.Account.Address.PostalCode': 'Account.billingAddress.postalCode',
  'Customer.Account.Address.StateOrRegion': 'Account.billingAddress.state',
  'Project.Title': 'Opportunity.name',
  'Project.CustomerBusinessProblem': 'Opportunity.description',
  'Project.ExpectedCustomerSpend': 'Opportunity.amount',
  'LifeCycle.Stage': 'Opportunity.stage',
  'LifeCycle.TargetCloseDate': 'Opportunity.closeDate',
  OpportunityType: 'Opportunity.type',
  name: 'Opportunity.name',
  'customerProfile.name': 'Account.name',
  'customerProfile.address.country': 'Account.billingAddress.country',
  'customerProfile.team': 'contacts',
  'details.dealValue': 'Opportunity.amount',
  'details.currency': 'Opportunity.amount.currency',
  'details.closingDateTime': 'Opportunity.closeDate',
};

/** The canonical source of a cloud field path (array indexes ignored), when there is one. */
export function sourceOf(field: string): string | undefined {
  const bare = field.replace(/\[\d+\]/g, '');
  for (let path = bare; path; path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '') {
    if (FIELD_SOURCES[path]) return FIELD_SOURCES[path];
  }
  return undefined;
}

/**
 * The CreateOpportunity body (without Catalog and ClientToken). Missing canonical values are left
 * out, not invented: the validator then names the field.
 */
export function awsOpportunityPayload(snapshot: CoSellSnapshot, options: CoSellOptions, partnerOpportunityId: string): Record<string, unknown> {
  const { opportunity: o, account: a } = snapshot;
  const industry = a?.industry === undefined ? undefined : AWS_INDUSTRIES[a.industry] ?? a.industry;
  const website = a?.website ?? (a?.domain ? `https://${a.domain}` : undefined);
  const address = a?.billingAddress;
  const contacts = (snapshot.contacts ?? []).filter((c) => c.email).map((c) => clean({
    Email: c.email, FirstName: c.firstName, LastName: c.lastName, BusinessTitle: c.title, Phone: c.phone,
  }));
  return clean({
    Origin: 'Partner Referral',
    OpportunityType: AWS_OPPORTUNITY_TYPES[o.type ?? 'new_business'],
    PartnerOpportunityIdentifier: partnerOpportunityId,
    PrimaryNeedsFromAws: options.involvementType === 'co_sell'
      ? options.primaryNeedsFromAws ?? ['Co-Sell - Deal Support', 'Co-Sell - Technical Consultation']
      : options.primaryNeedsFromAws,
    NationalSecurity: 'No',
    Customer: clean({
      Account: a && clean({
        CompanyName: a.name,
        Industry: industry,
        OtherIndustry: industry === 'Other' ? a.industry : undefined,
        WebsiteUrl: website,
        AwsAccountId: a.awsAccountId,
        Address: address && clean({
          StreetAddress: address.street, City: address.city, StateOrRegion: address.state, PostalCode: address.postalCode, CountryCode: address.country,
        }),
      }),
      Contacts: contacts.length > 0 ? contacts : undefined,
    }),
    Project: clean({
      Title: o.name,
      CustomerBusinessProblem: o.description,
      CustomerUseCase: options.customerUseCase ?? 'AI Machine Learning and Analytics',
      DeliveryModels: options.deliveryModels ?? ['SaaS or PaaS'],
      SalesActivities: options.salesActivities ?? ['Initialized discussions with customer'],
      ExpectedCustomerSpend: o.amount ? [{ Amount: monthly(o.amount), CurrencyCode: o.amount.currency, Frequency: 'Monthly', TargetCompany: 'AWS' }] : undefined,
    }),
    LifeCycle: clean({ Stage: AWS_STAGES[o.stage], TargetCloseDate: o.closeDate }),
  });
}

/** The fields of an existing AWS opportunity a CRM edit may change (UpdateOpportunity patch). */
export function awsOpportunityPatch(payload: Record<string, unknown>): Record<string, unknown> {
  const { Origin: _origin, ...patch } = payload;
  return patch;
}

/** The AwsSubmission of StartEngagementFromOpportunityTask. */
export function awsSubmission(options: CoSellOptions): { InvolvementType: string; Visibility: string } {
  return {
    InvolvementType: options.involvementType === 'co_sell' ? 'Co-Sell' : 'For Visibility Only',
    Visibility: options.visibility === 'full' ? 'Full' : 'Limited',
  };
}

/** A Microsoft co-sell referral: Shared (Microsoft's sellers decide) for co-sell, Independent for visibility only. */
export function microsoftReferralPayload(snapshot: CoSellSnapshot, options: CoSellOptions): Record<string, unknown> {
  const { opportunity: o, account: a } = snapshot;
  const address = a?.billingAddress;
  const shared = options.involvementType === 'co_sell';
  return clean({
    name: o.name,
    type: shared ? 'Shared' : 'Independent',
    qualification: 'SalesQualified',
    customerProfile: a && clean({
      name: a.name,
      address: address && clean({ addressLine1: address.street, city: address.city, state: address.state, postalCode: address.postalCode, country: address.country }),
      team: (snapshot.contacts ?? []).map((c) => clean({ firstName: c.firstName ?? '', lastName: c.lastName, email: c.email, phoneNumber: c.phone })),
    }),
    consent: shared ? { consentToShareReferralWithMicrosoftSellers: true, consentToContact: true } : undefined,
    details: clean({
      // Partner Center takes whole currency units as a number.
      dealValue: o.amount ? wholeUnits(o.amount.amount) : undefined,
      currency: o.amount?.currency,
      closingDateTime: `${o.closeDate}T00:00:00Z`,
      notes: o.description,
      requirements: options.solutionIds.length > 0 ? { solutions: options.solutionIds.map((id) => ({ id })) } : undefined,
    }),
  });
}

/** The referral fields a CRM edit may change (Microsoft's status stays Microsoft's). */
export function microsoftReferralPatch(payload: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, consent: _consent, ...patch } = payload;
  return patch;
}

/** A yearly amount spread over twelve months, to the cent, rounded half up. */
export function monthly(money: Money): string {
  const [whole, fraction = ''] = money.amount.replace(/^-/, '').split('.');
  const cents = BigInt(whole + fraction.padEnd(2, '0').slice(0, 2));
  const perMonth = (cents * 10n + 60n) / 120n;
  const text = perMonth.toString().padStart(3, '0');
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
}

function wholeUnits(amount: string): number {
  const [whole, fraction = '0'] = amount.split('.');
  return Number(whole) + (Number(fraction[0] ?? '0') >= 5 ? 1 : 0);
}

/** Drops undefined members, and objects left empty, so absent stays absent. */
function clean<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}
