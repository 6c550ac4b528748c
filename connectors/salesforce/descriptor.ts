import type { FieldSpec, FieldType, ObjectSpec } from '../../src/sync/protocol.js';

/**
 * The Salesforce objects and fields ecosync syncs, as the org describes them. The sandbox serves
 * `describe` from this, and the shipped mapping files name these fields.
 */

export const SALESFORCE_API_VERSION = '62.0';

/** The external-id field ecosync owns on every synced object: it holds the canonical id. */
export const ECOSYNC_ID_FIELD = 'Ecosync_Id__c';

export const INDUSTRY_VALUES = ['Technology', 'Healthcare', 'Finance', 'Retail', 'Manufacturing', 'Energy', 'Education', 'Media', 'Other'];

export const CURRENCY_VALUES = ['USD', 'EUR', 'GBP', 'JPY', 'AUD', 'CAD', 'CHF', 'CNY', 'INR', 'BRL', 'MXN', 'SEK', 'NOK', 'DKK', 'NZD', 'SGD', 'HKD', 'KRW', 'ZAR', 'PLN'];

/** ISO 3166-1 alpha-2: the state-and-country picklist of an org with it enabled. */
export const COUNTRY_CODES = (
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP ' +
  'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT ' +
  'MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW ' +
  'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG ' +
  'UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
).split(' ');

export const OPPORTUNITY_STAGE_VALUES = [
  'Prospecting', 'Qualification', 'Needs Analysis', 'Value Proposition', 'Id. Decision Makers',
  'Perception Analysis', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost',
];

export const OPPORTUNITY_TYPE_VALUES = ['New Customer', 'Existing Customer - Upgrade', 'Existing Customer - Replacement', 'Existing Customer - Downgrade'];

export const LEAD_SOURCE_VALUES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];

/**
 * The co-sell fields ecosync's package installs on Opportunity. The alliance manager picks the
 * cloud; ecosync writes the status, the cloud's id and the message.
 */
export const COSELL_CLOUD_FIELD = 'Ecosync_CoSell_Cloud__c';
export const COSELL_STATUS_FIELD = 'Ecosync_CoSell_Status__c';
export const COSELL_CLOUD_ID_FIELD = 'Ecosync_Cloud_Opportunity_Id__c';
export const COSELL_MESSAGE_FIELD = 'Ecosync_CoSell_Message__c';
export const COSELL_CLOUD_VALUES = ['AWS', 'Microsoft'];
/** Where an opportunity's private offer stands (written by ecosync). */
export const OFFER_STATUS_VALUES = [
  'Draft', 'Pending Approval', 'Changes Requested', 'Rejected Internally', 'Submitted', 'Failed', 'Live', 'Accepted', 'Expired', 'Withdrawn',
];
export const COSELL_STATUS_VALUES = [
  'Draft', 'Pending Approval', 'Changes Requested', 'Rejected Internally', 'Submitted', 'In Review',
  'Approved', 'Rejected', 'Action Required', 'Closed',
];

/** Key prefixes of record ids: the first three characters say the object. */
export const KEY_PREFIXES: Record<string, string> = { Account: '001', Contact: '003', Opportunity: '006', Organization: '00D' };

type Extra = Partial<Omit<FieldSpec, 'name' | 'type'>>;

/** An ordinary custom-editable field: nillable, createable, updateable. */
function field(name: string, type: FieldType, extra: Extra = {}): FieldSpec {
  return { name, type, nillable: true, createable: true, updateable: true, ...extra };
}
const required = { nillable: false };
const readOnly = { createable: false, updateable: false };

function systemFields(): FieldSpec[] {
  return [
    field('SystemModstamp', 'datetime', { ...readOnly, nillable: false }),
    field('LastModifiedDate', 'datetime', { ...readOnly, nillable: false }),
    field('CreatedDate', 'datetime', { ...readOnly, nillable: false }),
    field('IsDeleted', 'boolean', { ...readOnly, nillable: false }),
  ];
}

function idField(): FieldSpec {
  return field('Id', 'id', { ...readOnly, nillable: false, length: 18 });
}

function ecosyncIdField(): FieldSpec {
  return field(ECOSYNC_ID_FIELD, 'string', { label: 'Ecosync Id', externalId: true, length: 64 });
}

function spec(name: string, fields: FieldSpec[]): ObjectSpec {
  return { name, fields, idField: 'Id', modifiedField: 'SystemModstamp', upsertKeyField: ECOSYNC_ID_FIELD };
}

export const SALESFORCE_OBJECTS: ObjectSpec[] = [
  spec('Account', [
    idField(),
    field('Name', 'string', { ...required, length: 255 }),
    field('Website', 'url', { length: 255 }),
    field('Industry', 'picklist', { picklistValues: INDUSTRY_VALUES }),
    field('Phone', 'phone', { length: 40 }),
    field('NumberOfEmployees', 'integer'),
    field('AnnualRevenue', 'currency'),
    field('BillingStreet', 'text', { length: 255 }),
    field('BillingCity', 'string', { length: 40 }),
    field('BillingState', 'string', { length: 80 }),
    field('BillingPostalCode', 'string', { length: 20 }),
    field('BillingCountryCode', 'picklist', { picklistValues: COUNTRY_CODES }),
    field('Description', 'text', { length: 32000 }),
    field('CurrencyIsoCode', 'picklist', { picklistValues: CURRENCY_VALUES }),
    // ecosync's fields: finance's standing of the customer, written from the ERP (read-only on the layout).
    field('Ecosync_Credit_Limit__c', 'currency', { label: 'Credit Limit' }),
    field('Ecosync_Balance__c', 'currency', { label: 'Open Balance' }),
    field('Ecosync_Payment_Terms__c', 'string', { label: 'Payment Terms', length: 40 }),
    // ecosync's fields: the customer's committed spend with AWS and Azure, written from the drawdown ledger.
    ...commitmentFields('AWS'),
    ...commitmentFields('Azure'),
    ecosyncIdField(),
    ...systemFields(),
  ]),
  spec('Contact', [
    idField(),
    field('FirstName', 'string', { length: 40 }),
    field('LastName', 'string', { ...required, length: 80 }),
    field('Email', 'email', { length: 80 }),
    field('Phone', 'phone', { length: 40 }),
    field('Title', 'string', { length: 128 }),
    field('AccountId', 'reference', { referenceTo: 'Account', length: 18 }),
    ecosyncIdField(),
    ...systemFields(),
  ]),
  spec('Opportunity', [
    idField(),
    field('Name', 'string', { ...required, length: 120 }),
    field('Amount', 'currency'),
    field('CurrencyIsoCode', 'picklist', { picklistValues: CURRENCY_VALUES }),
    field('StageName', 'picklist', { ...required, picklistValues: OPPORTUNITY_STAGE_VALUES }),
    field('CloseDate', 'date', required),
    field('Probability', 'percent'),
    field('Type', 'picklist', { picklistValues: OPPORTUNITY_TYPE_VALUES }),
    field('AccountId', 'reference', { referenceTo: 'Account', length: 18 }),
    field('LeadSource', 'picklist', { picklistValues: LEAD_SOURCE_VALUES }),
    field('NextStep', 'string', { length: 255 }),
    field('Description', 'text', { length: 32000 }),
    field(COSELL_CLOUD_FIELD, 'picklist', { label: 'Co-sell Cloud', picklistValues: COSELL_CLOUD_VALUES }),
    field(COSELL_STATUS_FIELD, 'picklist', { label: 'Co-sell Status', picklistValues: COSELL_STATUS_VALUES }),
    field(COSELL_CLOUD_ID_FIELD, 'string', { label: 'Cloud Opportunity Id', length: 64 }),
    // A long text area: the cloud's reasons can name many fields.
    field(COSELL_MESSAGE_FIELD, 'text', { label: 'Co-sell Message', length: 32000 }),
    // The private offer: its terms as the alliance manager fills them in …
    field('Ecosync_Offer_Product__c', 'string', { label: 'Marketplace Product', length: 100 }),
    field('Ecosync_Offer_Plan__c', 'string', { label: 'Marketplace Plan', length: 100 }),
    field('Ecosync_Offer_Buyers__c', 'text', { label: 'Offer Buyers (AWS accounts or Microsoft beneficiaries)', length: 1000 }),
    field('Ecosync_Offer_Term_Months__c', 'number', { label: 'Offer Term (months)' }),
    field('Ecosync_Offer_Expires__c', 'date', { label: 'Offer Expires' }),
    field('Ecosync_Offer_Eula_Url__c', 'url', { label: 'Offer EULA (custom)', length: 255 }),
    // … and where it stands, written by ecosync.
    field('Ecosync_Offer_Status__c', 'picklist', { label: 'Offer Status', picklistValues: OFFER_STATUS_VALUES }),
    field('Ecosync_Offer_Id__c', 'string', { label: 'Marketplace Offer Id', length: 100 }),
    field('Ecosync_Offer_Url__c', 'url', { label: 'Offer Buyer Link', length: 255 }),
    field('Ecosync_Offer_Message__c', 'text', { label: 'Offer Message', length: 32000 }),
    field('Ecosync_Agreement_Id__c', 'string', { label: 'Marketplace Agreement Id', length: 100 }),
    ecosyncIdField(),
    ...systemFields(),
  ]),
];

export function salesforceObject(name: string): ObjectSpec | undefined {
  return SALESFORCE_OBJECTS.find((o) => o.name === name);
}

/** A cloud commitment's standing on the account (Ecosync_<cloud>_Commit_*__c), written by ecosync from the drawdown ledger. */
function commitmentFields(cloud: 'AWS' | 'Azure') {
  const name = (part: string) => `Ecosync_${cloud}_Commit_${part}__c`;
  return [
    field(name('Program'), 'string', { label: `${cloud} Commitment Program`, length: 20 }),
    field(name('Currency'), 'string', { label: `${cloud} Commitment Currency`, length: 3 }),
    field(name('Amount'), 'currency', { label: `${cloud} Commitment (this period)` }),
    field(name('Consumed'), 'currency', { label: `${cloud} Commitment Consumed` }),
    field(name('Remaining'), 'currency', { label: `${cloud} Commitment Remaining` }),
    field(name('Forecast'), 'currency', { label: `${cloud} Commitment Forecast` }),
    field(name('Percent'), 'percent', { label: `${cloud} Commitment Consumed %` }),
    field(name('Period_End'), 'date', { label: `${cloud} Commitment Period End` }),
    field(name('As_Of'), 'date', { label: `${cloud} Commitment As Of` }),
    field(name('Status'), 'text', { label: `${cloud} Commitment Status`, length: 1000 }),
  ];
}
