import type { FieldSpec, ObjectSpec } from '../../src/sync/protocol.js';

/**
 * The HubSpot CRM objects ecosync syncs, with the properties the shipped mappings use. Every
 * property value travels as a string on the wire; the types here say how to read that string.
 * The sandbox serves its properties API from this list, and the connector's discover() overlays it
 * on what the real properties API reports (HubSpot has no 'email' or 'reference' property types).
 */

/** Deals carry their company as an association, not a property; the connector exposes it as this pseudo-field. */
export const DEAL_COMPANY_FIELD = 'associations.companies';

export const INDUSTRY_OPTIONS = ['Technology', 'Healthcare', 'Finance', 'Retail', 'Manufacturing', 'Energy', 'Education', 'Media', 'Other'];
export const DEAL_STAGE_OPTIONS = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'];
export const DEAL_TYPE_OPTIONS = ['newbusiness', 'existingbusiness'];
export const CURRENCY_OPTIONS = ['USD', 'EUR', 'GBP', 'JPY', 'AUD', 'CAD', 'CHF', 'CNY', 'INR', 'SEK', 'NZD', 'SGD', 'BRL', 'MXN'];
export const PIPELINE_OPTIONS = ['default'];
/** Deal properties ecosync's app creates for co-sell: the cloud is picked by people, the rest written by ecosync. */
export const COSELL_CLOUD_OPTIONS = ['aws', 'microsoft'];
export const COSELL_STATUS_OPTIONS = [
  'draft', 'pending_approval', 'changes_requested', 'rejected_internal', 'submitted', 'in_review',
  'approved', 'rejected', 'action_required', 'closed',
];

function field(name: string, type: FieldSpec['type'], extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, type, nillable: true, createable: true, updateable: true, ...extra };
}
const readOnly = { createable: false, updateable: false } as const;
const systemFields = (modified: string): FieldSpec[] => [
  field(modified, 'datetime', { label: 'Last Modified Date', ...readOnly }),
  field('createdate', 'datetime', { label: 'Create Date', ...readOnly }),
];
const ecosyncId = field('ecosync_id', 'string', { label: 'ecosync ID', externalId: true, length: 100 });

export const HUBSPOT_OBJECTS: ObjectSpec[] = [
  {
    name: 'companies',
    idField: 'hs_object_id',
    modifiedField: 'hs_lastmodifieddate',
    upsertKeyField: 'ecosync_id',
    fields: [
      field('hs_object_id', 'id', { label: 'Record ID', nillable: false, ...readOnly }),
      field('name', 'string', { label: 'Company name', nillable: false }),
      field('domain', 'string', { label: 'Company Domain Name' }),
      field('website', 'url', { label: 'Website URL' }),
      field('industry', 'picklist', { label: 'Industry', picklistValues: INDUSTRY_OPTIONS }),
      field('phone', 'phone', { label: 'Phone Number' }),
      field('numberofemployees', 'number', { label: 'Number of Employees' }),
      field('annualrevenue', 'number', { label: 'Annual Revenue' }),
      field('address', 'string', { label: 'Street Address' }),
      field('city', 'string', { label: 'City' }),
      field('state', 'string', { label: 'State/Region' }),
      field('zip', 'string', { label: 'Postal Code' }),
      field('country', 'string', { label: 'Country/Region' }),
      field('description', 'text', { label: 'Description' }),
      // ecosync's properties: finance's standing of the customer, written from the ERP.
      field('ecosync_credit_limit', 'number', { label: 'Credit limit' }),
      field('ecosync_balance', 'number', { label: 'Open balance' }),
      field('ecosync_payment_terms', 'string', { label: 'Payment terms' }),
      // ecosync's properties: the customer's committed spend with AWS and Azure, written from the drawdown ledger.
      ...commitmentFields('aws', 'AWS'),
      ...commitmentFields('azure', 'Azure'),
      ecosyncId,
      ...systemFields('hs_lastmodifieddate'),
    ],
  },
  {
    name: 'contacts',
    idField: 'hs_object_id',
    modifiedField: 'lastmodifieddate',
    upsertKeyField: 'ecosync_id',
    fields: [
      field('hs_object_id', 'id', { label: 'Record ID', nillable: false, ...readOnly }),
      field('firstname', 'string', { label: 'First Name' }),
      field('lastname', 'string', { label: 'Last Name' }),
      field('email', 'email', { label: 'Email' }),
      field('phone', 'phone', { label: 'Phone Number' }),
      field('jobtitle', 'string', { label: 'Job Title' }),
      field('associatedcompanyid', 'reference', { label: 'Primary Associated Company ID', referenceTo: 'companies' }),
      ecosyncId,
      ...systemFields('lastmodifieddate'),
    ],
  },
  {
    name: 'deals',
    idField: 'hs_object_id',
    modifiedField: 'hs_lastmodifieddate',
    upsertKeyField: 'ecosync_id',
    fields: [
      field('hs_object_id', 'id', { label: 'Record ID', nillable: false, ...readOnly }),
      field('dealname', 'string', { label: 'Deal Name', nillable: false }),
      field('amount', 'number', { label: 'Amount' }),
      field('deal_currency_code', 'picklist', { label: 'Currency', picklistValues: CURRENCY_OPTIONS }),
      field('dealstage', 'picklist', { label: 'Deal Stage', nillable: false, picklistValues: DEAL_STAGE_OPTIONS }),
      field('closedate', 'datetime', { label: 'Close Date' }),
      field('dealtype', 'picklist', { label: 'Deal Type', picklistValues: DEAL_TYPE_OPTIONS }),
      field('pipeline', 'picklist', { label: 'Pipeline', picklistValues: PIPELINE_OPTIONS }),
      field('description', 'text', { label: 'Deal Description' }),
      field('hs_next_step', 'text', { label: 'Next Step' }),
      field('ecosync_cosell_cloud', 'picklist', { label: 'Co-sell cloud', picklistValues: COSELL_CLOUD_OPTIONS }),
      field('ecosync_cosell_status', 'picklist', { label: 'Co-sell status', picklistValues: COSELL_STATUS_OPTIONS }),
      field('ecosync_cloud_opportunity_id', 'string', { label: 'Cloud opportunity ID', length: 64 }),
      field('ecosync_cosell_message', 'text', { label: 'Co-sell message' }),
      ecosyncId,
      ...systemFields('hs_lastmodifieddate'),
      field(DEAL_COMPANY_FIELD, 'reference', { label: 'Associated company', referenceTo: 'companies' }),
    ],
  },
];

export function hubspotObject(name: string): ObjectSpec {
  const spec = HUBSPOT_OBJECTS.find((o) => o.name === name);
  if (!spec) throw new Error(`unknown HubSpot object "${name}" (known: ${HUBSPOT_OBJECTS.map((o) => o.name).join(', ')})`);
  return spec;
}

/** Fields that are HubSpot properties (the association pseudo-field is not). */
export function propertyFields(spec: ObjectSpec): FieldSpec[] {
  return spec.fields.filter((f) => !f.name.startsWith('associations.'));
}

/** A cloud commitment's standing on the company (ecosync_<cloud>_commit_*), written by ecosync from the drawdown ledger. */
function commitmentFields(cloud: 'aws' | 'azure', label: string) {
  const parts = [
    ['program', 'string', 'program'], ['currency', 'string', 'currency'], ['amount', 'number', '(this period)'],
    ['consumed', 'number', 'consumed'], ['remaining', 'number', 'remaining'], ['forecast', 'number', 'forecast'],
    ['percent', 'number', 'consumed %'], ['period_end', 'date', 'period end'], ['as_of', 'date', 'as of'], ['status', 'text', 'status'],
  ] as const;
  return parts.map(([part, type, words]) => field(`ecosync_${cloud}_commit_${part}`, type, { label: `${label} commitment ${words}` }));
}
