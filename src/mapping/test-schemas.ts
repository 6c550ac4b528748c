/**
 * Field schemas of the Salesforce and HubSpot objects the shipped mappings cover, written the way
 * the connectors' `discover` describes them. Tests check the shipped mappings against these.
 */
import { z } from 'zod';
import { cloudObjectSpecsOf } from '../../connectors/registry.js';
import { CanonicalId, CURRENCY_MINOR_DIGITS, DecimalString, IsoDate, Money } from '../model/index.js';
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
      field('Ecosync_Credit_Limit__c', 'currency'),
      field('Ecosync_Balance__c', 'currency'),
      field('Ecosync_Payment_Terms__c', 'string'),
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
      field('ecosync_credit_limit', 'number'),
      field('ecosync_balance', 'number'),
      field('ecosync_payment_terms', 'string'),
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

/**
 * A canonical entity with lists, for the list mapping tests: an invoice whose `lines` are objects
 * (as the model's Invoice and SalesOrder, with a few more item kinds: an enum, a date, money, a
 * list inside the item) and whose `tags` are plain values. Given to the loader as `entities`.
 */
export const TestLine = z.object({
  item: z.string().min(1),
  description: z.string().optional(),
  quantity: DecimalString,
  rate: DecimalString.optional(),
  amount: DecimalString,
  kind: z.enum(['item', 'discount', 'subtotal']).optional(),
  shipDate: IsoDate.optional(),
  price: Money.optional(),
  lineId: z.string().optional(),
  serials: z.array(z.string()).optional(),
}).strict();

export const TestInvoice = z.object({
  id: CanonicalId,
  number: z.string().optional(),
  memo: z.string().optional(),
  total: DecimalString,
  lines: z.array(TestLine).optional(),
  tags: z.array(z.string()).optional(),
  quantities: z.array(z.number().int()).optional(),
}).strict();

export const TEST_ENTITIES = { TestInvoice };

/** An ERP invoice as a connector presents it: its lines one field of type list (NetSuite's `item.items`). */
export const ERP_INVOICE: ObjectSpec = {
  name: 'invoice',
  idField: 'id',
  modifiedField: 'lastModifiedDate',
  upsertKeyField: 'externalId',
  fields: [
    field('id', 'id', readOnly),
    field('tranId', 'string'),
    field('memo', 'text'),
    field('total', 'currency'),
    field('item.items', 'list', {
      items: [
        field('item', 'reference', { referenceTo: 'item' }),
        field('description', 'text'),
        field('quantity', 'number'),
        field('rate', 'currency'),
        field('amount', 'currency'),
        field('itemType', 'picklist', { picklistValues: ['InvtPart', 'Discount', 'Subtotal'] }),
        field('shipDate', 'date'),
        field('price', 'currency'),
        field('currency', 'picklist', { picklistValues: currencies }),
        field('line', 'id', readOnly),
      ],
    }),
    field('tags', 'list', { items: [field('name', 'string')] }),
    field('quantities', 'list'),
    field('externalId', 'string', { externalId: true }),
    field('lastModifiedDate', 'datetime', readOnly),
  ],
};

/** The CRM objects above; the co-sell clouds' objects as their connectors describe them. */
export const schemaFor = (system: string, object: string): ObjectSpec | undefined =>
  SYSTEM_SCHEMAS[system]?.[object] ?? cloudObjectSpecsOf(system)?.find((o) => o.name === object);

/** `schemaFor`, and the test ERP (`test-erp invoice`). */
export const erpSchemaFor = (system: string, object: string): ObjectSpec | undefined =>
  system === 'test-erp' && object === 'invoice' ? ERP_INVOICE : schemaFor(system, object);
