/**
 * The Partner Center co-sell referral as it travels on the wire (`/v1.0/engagements/referrals`),
 * and the status machine both sides obey. Shared by the client, the pre-validation and the sandbox.
 */

export const REFERRAL_STATUSES = ['New', 'Active', 'Closed'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

export const REFERRAL_SUBSTATUSES = ['Pending', 'Received', 'Accepted', 'Engaged', 'Won', 'Lost', 'Declined', 'Expired'] as const;
export type ReferralSubstatus = (typeof REFERRAL_SUBSTATUSES)[number];

/** Which substatus may go with which status. */
export const SUBSTATUSES_BY_STATUS: Readonly<Record<ReferralStatus, readonly ReferralSubstatus[]>> = {
  New: ['Pending', 'Received'],
  Active: ['Accepted', 'Engaged'],
  Closed: ['Won', 'Lost', 'Declined', 'Expired'],
};

/** Independent: only we see it. Shared: co-sell, Microsoft sellers see it and decide. */
export const REFERRAL_TYPES = ['Independent', 'Shared'] as const;
export type ReferralType = (typeof REFERRAL_TYPES)[number];

export const REFERRAL_QUALIFICATIONS = ['SalesQualified', 'MarketingQualified', 'Direct', 'Unknown'] as const;
export type ReferralQualification = (typeof REFERRAL_QUALIFICATIONS)[number];

/** Outgoing: we created it. Incoming: Microsoft shared it with us. */
export type ReferralDirection = 'Incoming' | 'Outgoing';

export interface ReferralAddress {
  addressLine1?: string;
  addressLine2?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface ReferralMember {
  firstName: string;
  lastName: string;
  email?: string;
  phoneNumber?: string;
}

export interface CustomerProfile {
  name: string;
  address: ReferralAddress;
  size?: string;
  team: ReferralMember[];
}

export interface ReferralConsent {
  consentToShareReferralWithMicrosoftSellers?: boolean;
  consentToContact?: boolean;
  consentToShareInfoWithOthers?: boolean;
}

export interface ReferralSolution {
  id: string;
  name?: string;
  publisherName?: string;
  solutionType?: string;
}

export interface ReferralDetails {
  notes?: string;
  /** Whole currency units, as Partner Center takes it. */
  dealValue: number;
  /** ISO 4217. */
  currency: string;
  closingDateTime: string;
  requirements?: { solutions?: ReferralSolution[]; industries?: string[]; products?: string[] };
}

/** What we send to create a referral. */
export interface ReferralInput {
  name: string;
  /** Our reference: ecosync stores its idempotency key here (see client.createReferral). */
  externalReferenceId?: string;
  type: ReferralType;
  qualification: ReferralQualification;
  customerProfile: CustomerProfile;
  consent?: ReferralConsent;
  details: ReferralDetails;
  team?: ReferralMember[];
  status?: ReferralStatus;
  substatus?: ReferralSubstatus;
  statusReason?: string;
}

/** A referral as Partner Center returns it. */
export interface Referral extends ReferralInput {
  id: string;
  engagementId: string;
  direction: ReferralDirection;
  status: ReferralStatus;
  substatus: ReferralSubstatus;
  createdDateTime: string;
  updatedDateTime: string;
  acceptedDateTime?: string;
  expirationDateTime?: string;
}

/** Who makes a change: we (the partner) through the API, or Microsoft's sellers on their side. */
export type ReferralActor = 'partner' | 'microsoft';

export type StatusPair = `${ReferralStatus}/${ReferralSubstatus}`;

/**
 * Allowed status moves and who may make them. Staying on the same pair is always allowed
 * (an edit of other fields) except on Closed, which is final.
 */
export const REFERRAL_TRANSITIONS: ReadonlyArray<{ from: StatusPair; to: StatusPair; by: readonly ReferralActor[] }> = [
  // A co-sell we shared: Microsoft accepts or declines it; we may withdraw it.
  { from: 'New/Pending', to: 'Active/Accepted', by: ['microsoft'] },
  { from: 'New/Pending', to: 'Closed/Declined', by: ['microsoft'] },
  { from: 'New/Pending', to: 'Closed/Lost', by: ['partner'] },
  { from: 'New/Pending', to: 'Closed/Expired', by: ['microsoft'] },
  // A referral Microsoft shared with us: we accept or decline it.
  { from: 'New/Received', to: 'Active/Accepted', by: ['partner'] },
  { from: 'New/Received', to: 'Closed/Declined', by: ['partner'] },
  { from: 'New/Received', to: 'Closed/Expired', by: ['microsoft'] },
  // Working the deal.
  { from: 'Active/Accepted', to: 'Active/Engaged', by: ['partner', 'microsoft'] },
  { from: 'Active/Accepted', to: 'Closed/Won', by: ['partner', 'microsoft'] },
  { from: 'Active/Accepted', to: 'Closed/Lost', by: ['partner', 'microsoft'] },
  { from: 'Active/Engaged', to: 'Closed/Won', by: ['partner', 'microsoft'] },
  { from: 'Active/Engaged', to: 'Closed/Lost', by: ['partner', 'microsoft'] },
];

/** Closing as Lost or Declined needs a reason. */
export const SUBSTATUSES_NEEDING_REASON: readonly ReferralSubstatus[] = ['Lost', 'Declined'];

export function statusPair(status: ReferralStatus, substatus: ReferralSubstatus): StatusPair {
  return `${status}/${substatus}`;
}
