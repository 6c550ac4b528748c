import type { FieldSpec, FieldType, ObjectSpec } from '../../src/sync/protocol.js';
import { REFERRAL_QUALIFICATIONS, REFERRAL_STATUSES, REFERRAL_SUBSTATUSES, REFERRAL_TYPES } from './referral.js';

/**
 * The Partner Center co-sell referral as a field schema, for checking the co-sell payload mapping
 * (mappings/microsoft-partner-center-referral.yaml) at load. Paths are nested as the JSON body is;
 * `[]` stands for every element of a list. The referral's rules (required fields, formats,
 * status moves) live in validate.ts and are checked on the payload itself.
 */

type Extra = Partial<Omit<FieldSpec, 'name' | 'type'>>;
const field = (name: string, type: FieldType, extra: Extra = {}): FieldSpec =>
  ({ name, type, nillable: true, createable: true, updateable: true, ...extra });
const pick = (name: string, values: readonly string[]): FieldSpec => field(name, 'picklist', { picklistValues: [...values] });
/** Set by Partner Center: read back, never written. */
const byMicrosoft = { createable: false, updateable: false, nillable: false } as const;

const member = (list: string): FieldSpec[] => [
  field(`${list}[].firstName`, 'string', { length: 100 }),
  field(`${list}[].lastName`, 'string', { length: 100 }),
  field(`${list}[].email`, 'email'),
  field(`${list}[].phoneNumber`, 'phone'),
];

export const REFERRAL_OBJECT: ObjectSpec = {
  name: 'referrals',
  idField: 'id',
  modifiedField: 'updatedDateTime',
  fields: [
    field('id', 'id', byMicrosoft),
    field('engagementId', 'id', byMicrosoft),
    field('direction', 'string', byMicrosoft),
    field('createdDateTime', 'datetime', byMicrosoft),
    field('updatedDateTime', 'datetime', byMicrosoft),
    field('name', 'string', { length: 255 }),
    field('externalReferenceId', 'string', { length: 100 }),
    pick('type', REFERRAL_TYPES),
    pick('qualification', REFERRAL_QUALIFICATIONS),
    pick('status', REFERRAL_STATUSES),
    pick('substatus', REFERRAL_SUBSTATUSES),
    field('statusReason', 'string', { length: 1000 }),
    field('customerProfile.name', 'string', { length: 255 }),
    field('customerProfile.size', 'string'),
    field('customerProfile.address.addressLine1', 'string'),
    field('customerProfile.address.addressLine2', 'string'),
    field('customerProfile.address.city', 'string'),
    field('customerProfile.address.state', 'string'),
    field('customerProfile.address.postalCode', 'string', { length: 20 }),
    // ISO 3166-1 alpha-2, checked by the referral rules.
    field('customerProfile.address.country', 'string', { length: 2 }),
    ...member('customerProfile.team'),
    field('consent.consentToShareReferralWithMicrosoftSellers', 'boolean'),
    field('consent.consentToContact', 'boolean'),
    field('consent.consentToShareInfoWithOthers', 'boolean'),
    // Whole currency units, as a JSON number.
    field('details.dealValue', 'number'),
    field('details.currency', 'string', { length: 3 }),
    field('details.closingDateTime', 'datetime'),
    field('details.notes', 'text', { length: 4000 }),
    field('details.requirements.solutions[].id', 'string', { length: 100 }),
    field('details.requirements.industries', 'multipicklist'),
    field('details.requirements.products', 'multipicklist'),
    ...member('team'),
  ],
};

export const MICROSOFT_PARTNER_CENTER_OBJECTS: readonly ObjectSpec[] = [REFERRAL_OBJECT];
