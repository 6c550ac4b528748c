/**
 * Field schemas of the Salesforce and HubSpot objects the shipped mappings cover, written the way
 * the connectors' `discover` describes them. Tests check the shipped mappings against these.
 */
import { cloudObjectSpecsOf } from '../../connectors/registry.js';
import { CURRENCY_MINOR_DIGITS } from '../model/index.js';
import type { FieldSpec as SystemFieldSpec, FieldType, ObjectSpec } from '../sync/protocol.js';

type Extra = Partial<Omit<SystemFieldSpec, 'name' | 'type'>>;
const field = (name: string, type: FieldType, extra: Extra = {}): SystemFieldSpec =>
  ({ name, type, nillable: true, createable: true, updateable: true, ...extra });
const readOnly = { createable: false, updateable: false, nillable: false } as const;
const currencies = Object.keys(CURRENCY_MINOR_DIGITS);

const STAGES = [
  'Prospecting', 'Qualification', 'Needs Analysis', 'Value Proposition', 'Id. Decision Makers',
  'Perception Analysis', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost',
];

const salesforce = (name: string, fields: SystemFieldSpec[]): ObjectSpec => ({
  name,
  idField: 'Id',
  modifiedField: 'SystemModstamp',
  upsertKeyField: 'Ecosync_Id__c',
  fields: [
    field('Id', 'id', readOnly),
    ...fields,
    field('Ecosync_Id__c', 'string', { externalId: true, length: 36 }),
    field('SystemModstamp', 'datetime', readOnly),
    field('IsDeleted', 'boolean', readOnly),
  ],
});

const hubspot = (name: string, modified: string, fields: SystemFieldSpec[]): ObjectSpec => ({
  name,
  idField: 'hs_object_id',
  modifiedField: modified,
  upsertKeyField: 'ecosync_id',
  fields: [
    field('hs_object_id', 'id', readOnly),
    ...fields,
    field('ecosync_id', 'string', { externalId: true }),
    field(modified, 'datetime', readOnly),
  ],
});

export const SYSTEM_SCHEMAS: Record<string, Record<string, ObjectSpec>> = {
  salesforce: {
    Account: salesforce('Account', [
      field('Name', 'string', { nillable: false }),
      field('Website', 'url'),
      field('Industry', 'picklist', { picklistValues: ['Agriculture', 'Banking', 'Education', 'Finance', 'Healthcare', 'Retail', 'Technology', 'Other'] }),
      field('Phone', 'phone'),
      field('NumberOfEmployees', 'integer'),
      field('AnnualRevenue', 'currency'),
      field('BillingStreet', 'text'),
      field('BillingCity', 'string'),
      field('BillingState', 'string'),
      field('BillingPostalCode', 'string'),
      field('BillingCountryCode', 'picklist', { picklistValues: ['US', 'CA', 'GB', 'DE', 'FR', 'JP', 'AU', 'IN', 'BR', 'NL'] }),
      field('Description', 'text'),
      field('CurrencyIsoCode', 'picklist', { picklistValues: currencies }),
    ]),
    Contact: salesforce('Contact', [
      field('FirstName', 'string'),
      field('LastName', 'string', { nillable: false }),
      field('Email', 'email'),
      field('Phone', 'phone'),
      field('Title', 'string'),
      field('AccountId', 'reference', { referenceTo: 'Account' }),
    ]),
    Opportunity: salesforce('Opportunity', [
      field('Name', 'string', { nillable: false }),
      field('Amount', 'currency'),
      field('CurrencyIsoCode', 'picklist', { picklistValues: currencies }),
      field('StageName', 'picklist', { nillable: false, picklistValues: STAGES }),
      field('CloseDate', 'date', { nillable: false }),
      field('Probability', 'percent'),
      field('Type', 'picklist', {
        picklistValues: ['New Customer', 'Existing Customer - Upgrade', 'Existing Customer - Replacement', 'Existing Customer - Downgrade'],
      }),
      field('AccountId', 'reference', { referenceTo: 'Account' }),
      field('LeadSource', 'picklist', { picklistValues: ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'] }),
      field('NextStep', 'string'),
      field('Description', 'text'),
      field('Ecosync_CoSell_Cloud__c', 'picklist', { picklistValues: ['AWS', 'Microsoft'] }),
      field('Ecosync_CoSell_Status__c', 'picklist', {
        picklistValues: ['Draft', 'Pending Approval', 'Changes Requested', 'Rejected Internally', 'Submitted', 'In Review', 'Approved', 'Rejected', 'Action Required', 'Closed'],
      }),
      field('Ecosync_Cloud_Opportunity_Id__c', 'string'),
      field('Ecosync_CoSell_Message__c', 'text'),
    ]),
  },
  hubspot: {
    companies: hubspot('companies', 'hs_lastmodifieddate', [
      field('name', 'string'),
      field('domain', 'string'),
      field('website', 'string'),
      field('industry', 'string'),
      field('phone', 'string'),
      field('numberofemployees', 'number'),
      field('annualrevenue', 'number'),
      field('address', 'string'),
      field('city', 'string'),
      field('state', 'string'),
      field('zip', 'string'),
      field('country', 'string'),
      field('description', 'text'),
    ]),
    contacts: hubspot('contacts', 'lastmodifieddate', [
      field('firstname', 'string'),
      field('lastname', 'string'),
      field('email', 'email'),
      field('phone', 'string'),
      field('jobtitle', 'string'),
      field('associatedcompanyid', 'reference', { referenceTo: 'companies' }),
    ]),
    deals: hubspot('deals', 'hs_lastmodifieddate', [
      field('dealname', 'string'),
      field('amount', 'number'),
      field('deal_currency_code', 'picklist', { picklistValues: currencies }),
      field('dealstage', 'picklist', {
        picklistValues: ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'],
      }),
      field('closedate', 'datetime'),
      field('dealtype', 'picklist', { picklistValues: ['newbusiness', 'existingbusiness'] }),
      field('pipeline', 'picklist', { picklistValues: ['default'] }),
      field('description', 'text'),
      field('hs_next_step', 'string'),
      field('ecosync_cosell_cloud', 'picklist', { picklistValues: ['aws', 'microsoft'] }),
      field('ecosync_cosell_status', 'picklist', {
        picklistValues: ['draft', 'pending_approval', 'changes_requested', 'rejected_internal', 'submitted', 'in_review', 'approved', 'rejected', 'action_required', 'closed'],
      }),
      field('ecosync_cloud_opportunity_id', 'string'),
      field('ecosync_cosell_message', 'text'),
      field('associations.companies', 'reference', { referenceTo: 'companies' }),
    ]),
  },
};

/** The CRM objects above; the co-sell clouds' objects as their connectors describe them. */
export const schemaFor = (system: string, object: string): ObjectSpec | undefined =>
  SYSTEM_SCHEMAS[system]?.[object] ?? cloudObjectSpecsOf(system)?.find((o) => o.name === object);
