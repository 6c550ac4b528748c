import type { FieldSpec, FieldType, ObjectSpec } from '../../src/sync/protocol.js';

/**
 * The NetSuite records ecosync syncs, as flat fields named as the REST record service names them
 * (`companyName`, `creditLimit`, `entity`), and how the connector reads each one through SuiteQL
 * and writes it through the record service.
 *
 * Four presentations differ from the record's own JSON, so the mapping engine sees plain values:
 *
 * - References (`subsidiary`, `entity`, `company`, `createdFrom`, a line's `item`) are the internal
 *   id as a string; the connector writes them as `{ "id": "…" }`.
 * - `currency` is the currency's ISO code ("USD", from the currency record's symbol) and `terms`
 *   the payment term's name ("Net 30"), not their internal ids: the ids differ between accounts,
 *   the codes and names are what RevOps and the canonical model use (`Account.currency`,
 *   `paymentTerms`). The connector looks the ids up (one SuiteQL query each, cached) to write them.
 * - The default billing address is six flat fields, `billAddr1`, `billAddr2`,
 *   `billCity`, `billState`, `billZip`, `billCountry` (ISO 3166-1 alpha-2). NetSuite keeps
 *   addresses as lines of the customer's `addressBook` sublist, each with an `addressBookAddress`
 *   subrecord; SuiteQL reaches the default billing one by joining `entityaddress` on the
 *   customer's `defaultbillingaddress`. Writing any of them updates that line in place (its line
 *   id is read first, since `addressBook` is keyed by line id) or adds a line flagged
 *   `defaultBilling` when the customer has none; other addresses (shipping) are left alone.
 * - An order's or invoice's lines are one field, `item.items` (the sublist's path), a list of
 *   `{ item, description, quantity, rate, amount }` with positive quantities and amounts (SuiteQL's
 *   transactionline keeps sales quantities negative; the connector turns them round). Writing the
 *   field replaces every line (`?replace=item`).
 *
 * `balance` (open receivables) is read-only: NetSuite computes it from open invoices. It does
 * not move the customer's lastModifiedDate, so an incremental read sees a new balance only with
 * the customer's next edit or a full reconcile. Status fields are read-only here too; they are
 * shown by name ("Pending Fulfillment", "Paid In Full") rather than NetSuite's one-letter codes.
 */

/** The field ecosync owns on every record: the canonical id goes into NetSuite's external id. */
export const EXTERNAL_ID_FIELD = 'externalId';
/** The item sublist of an order or invoice, as one field holding every line. */
export const LINES_FIELD = 'item.items';
/** The flat fields of the customer's default billing address, by addressBookAddress field. */
export const BILLING_FIELDS = {
  billAddr1: 'addr1',
  billAddr2: 'addr2',
  billCity: 'city',
  billState: 'state',
  billZip: 'zip',
  billCountry: 'country',
} as const;
export type BillingField = keyof typeof BILLING_FIELDS;

/** ISO 3166-1 alpha-2, the codes NetSuite's address country field takes. */
export const COUNTRY_CODES = (
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP ' +
  'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT ' +
  'MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW ' +
  'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG ' +
  'UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
).split(' ');

/** Transaction statuses by SuiteQL code, per transaction type: NetSuite's own names. */
export const SALES_ORDER_STATUSES: Record<string, string> = {
  A: 'Pending Approval', B: 'Pending Fulfillment', C: 'Cancelled', D: 'Partially Fulfilled',
  E: 'Pending Billing/Partially Fulfilled', F: 'Pending Billing', G: 'Billed', H: 'Closed',
};
export const INVOICE_STATUSES: Record<string, string> = { A: 'Open', B: 'Paid In Full', V: 'Voided' };

/** How a value travels in SuiteQL results (every value is a string there). */
export type ColumnKind = 'string' | 'number' | 'boolean' | 'date' | 'datetime';

/** Tables joined for presented fields; `r` is the record's own table. */
export const JOINS = {
  currency: 'LEFT JOIN currency cur ON cur.id = r.currency',
  terms: 'LEFT JOIN term trm ON trm.id = r.terms',
  billing: 'LEFT JOIN entityaddress ba ON ba.nkey = r.defaultbillingaddress',
} as const;
export type JoinName = keyof typeof JOINS;

/** How one flat field is read through SuiteQL. */
export interface ColumnRead {
  /** The SuiteQL expression (over `r` and the joins), without TO_CHAR for dates: the connector adds it. */
  sql: string;
  kind: ColumnKind;
  join?: JoinName;
  /** Display names by code (statuses). */
  names?: Record<string, string>;
}

/** How one flat field is written through the record service. */
export type FieldWrite =
  | { kind: 'value' }
  | { kind: 'reference' }
  | { kind: 'currencyCode' }
  | { kind: 'termsName' }
  | { kind: 'billing'; addressField: string }
  | { kind: 'lines' }
  | { kind: 'readOnly' };

export interface NetSuiteRecord {
  /** The descriptor's object name, which is also the record service's record type. */
  object: string;
  /** SuiteQL table. */
  table: string;
  /** SuiteQL condition selecting this record type in a shared table (`r.type = 'SalesOrd'`). */
  typeFilter?: string;
  /** DeletedRecord's recordtypeid for this record type. */
  deletedType: string;
  /** Whether the record has an item sublist (orders, invoices). */
  hasLines: boolean;
  columns: Record<string, ColumnRead>;
  writes: Record<string, FieldWrite>;
}

type Extra = Partial<Omit<FieldSpec, 'name' | 'type'>>;

interface Def {
  spec: FieldSpec;
  read?: ColumnRead;
  write: FieldWrite;
}

const readOnly = { createable: false, updateable: false } as const;

function def(name: string, type: FieldType, read: ColumnRead | undefined, write: FieldWrite, extra: Extra = {}): Def {
  const spec: FieldSpec = { name, type, nillable: true, createable: write.kind !== 'readOnly', updateable: write.kind !== 'readOnly', ...extra };
  return { spec, read, write };
}

const col = (sql: string, kind: ColumnKind, extra: Partial<ColumnRead> = {}): ColumnRead => ({ sql, kind, ...extra });
const value: FieldWrite = { kind: 'value' };
const reference: FieldWrite = { kind: 'reference' };
const ro: FieldWrite = { kind: 'readOnly' };

/** Fields every synced record has: internal id, external id (ecosync's key), timestamps. */
function systemDefs(created: { name: string; column: string }): Def[] {
  return [
    def('id', 'id', col('r.id', 'string'), ro, { label: 'Internal ID', nillable: false }),
    def(EXTERNAL_ID_FIELD, 'string', col('r.externalid', 'string'), value, { label: 'External ID', externalId: true, length: 255 }),
    def(created.name, 'datetime', col(`r.${created.column}`, 'datetime'), ro, { label: 'Date Created', nillable: false }),
    def('lastModifiedDate', 'datetime', col('r.lastmodifieddate', 'datetime'), ro, { label: 'Last Modified', nillable: false }),
  ];
}

function billingDefs(): Def[] {
  const labels: Record<BillingField, string> = {
    billAddr1: 'Billing Address 1', billAddr2: 'Billing Address 2', billCity: 'Billing City',
    billState: 'Billing State/Province', billZip: 'Billing Zip', billCountry: 'Billing Country',
  };
  return (Object.keys(BILLING_FIELDS) as BillingField[]).map((name) => {
    const addressField = BILLING_FIELDS[name];
    const type: FieldType = name === 'billCountry' ? 'picklist' : 'string';
    return def(name, type, col(`ba.${addressField}`, 'string', { join: 'billing' }), { kind: 'billing', addressField }, {
      label: labels[name], length: name === 'billCountry' ? 2 : 150,
      ...(name === 'billCountry' ? { picklistValues: COUNTRY_CODES } : {}),
    });
  });
}

/** The fields of one line of `item.items`. */
export const LINE_FIELDS: FieldSpec[] = [
  { name: 'item', type: 'reference', label: 'Item', referenceTo: 'inventoryItem', nillable: false, createable: true, updateable: true },
  { name: 'description', type: 'text', label: 'Description', length: 999, nillable: true, createable: true, updateable: true },
  { name: 'quantity', type: 'number', label: 'Quantity', nillable: true, createable: true, updateable: true },
  { name: 'rate', type: 'currency', label: 'Rate', nillable: true, createable: true, updateable: true },
  // Written only to price a line that has no rate; NetSuite computes it as quantity × rate otherwise.
  { name: 'amount', type: 'currency', label: 'Amount', nillable: true, createable: true, updateable: true },
  { name: 'line', type: 'id', label: 'Line', nillable: true, createable: false, updateable: false },
];

function linesDef(): Def {
  return def(LINES_FIELD, 'list', undefined, { kind: 'lines' }, { label: 'Items', items: LINE_FIELDS });
}

function currencyDef(): Def {
  return def('currency', 'picklist', col('cur.symbol', 'string', { join: 'currency' }), { kind: 'currencyCode' }, { label: 'Currency (ISO code)' });
}

const CUSTOMER: Def[] = [
  ...systemDefs({ name: 'dateCreated', column: 'datecreated' }),
  def('entityId', 'string', col('r.entityid', 'string'), ro, { label: 'Customer ID (auto-numbered)' }),
  def('companyName', 'string', col('r.companyname', 'string'), value, { label: 'Company Name', length: 83 }),
  def('isPerson', 'boolean', col('r.isperson', 'boolean'), value, { label: 'Individual' }),
  def('firstName', 'string', col('r.firstname', 'string'), value, { label: 'First Name', length: 32 }),
  def('lastName', 'string', col('r.lastname', 'string'), value, { label: 'Last Name', length: 32 }),
  def('email', 'email', col('r.email', 'string'), value, { label: 'Email', length: 254 }),
  def('phone', 'phone', col('r.phone', 'string'), value, { label: 'Phone', length: 32 }),
  def('url', 'url', col('r.url', 'string'), value, { label: 'Web Address', length: 100 }),
  def('subsidiary', 'reference', col('r.subsidiary', 'string'), reference, { label: 'Primary Subsidiary', referenceTo: 'subsidiary', nillable: false }),
  currencyDef(),
  def('terms', 'picklist', col('trm.name', 'string', { join: 'terms' }), { kind: 'termsName' }, { label: 'Terms (name)' }),
  def('creditLimit', 'currency', col('r.creditlimit', 'number'), value, { label: 'Credit Limit' }),
  // SuiteQL has no `balance` column on customer; `balancesearch` is the same figure.
  def('balance', 'currency', col('r.balancesearch', 'number'), ro, { label: 'Balance' }),
  def('isInactive', 'boolean', col('r.isinactive', 'boolean'), value, { label: 'Inactive' }),
  def('comments', 'text', col('r.comments', 'string'), value, { label: 'Comments', length: 999 }),
  ...billingDefs(),
];

const CONTACT: Def[] = [
  ...systemDefs({ name: 'dateCreated', column: 'datecreated' }),
  def('firstName', 'string', col('r.firstname', 'string'), value, { label: 'First Name', length: 32 }),
  def('lastName', 'string', col('r.lastname', 'string'), value, { label: 'Last Name', length: 32 }),
  def('email', 'email', col('r.email', 'string'), value, { label: 'Email', length: 254 }),
  def('phone', 'phone', col('r.phone', 'string'), value, { label: 'Phone', length: 32 }),
  def('title', 'string', col('r.title', 'string'), value, { label: 'Job Title', length: 99 }),
  def('company', 'reference', col('r.company', 'string'), reference, { label: 'Company', referenceTo: 'customer', nillable: false }),
  def('isInactive', 'boolean', col('r.isinactive', 'boolean'), value, { label: 'Inactive' }),
];

const INVENTORY_ITEM: Def[] = [
  ...systemDefs({ name: 'createdDate', column: 'createddate' }),
  def('itemId', 'string', col('r.itemid', 'string'), value, { label: 'Item Name/Number', length: 60, nillable: false }),
  def('displayName', 'string', col('r.displayname', 'string'), value, { label: 'Display Name/Code', length: 60 }),
  def('salesDescription', 'text', col('r.description', 'string'), value, { label: 'Sales Description', length: 999 }),
  def('cost', 'currency', col('r.cost', 'number'), value, { label: 'Purchase Price' }),
  def('isInactive', 'boolean', col('r.isinactive', 'boolean'), value, { label: 'Inactive' }),
];

function transactionDefs(statuses: Record<string, string>): Def[] {
  return [
    ...systemDefs({ name: 'createdDate', column: 'createddate' }),
    def('tranId', 'string', col('r.tranid', 'string'), ro, { label: 'Document Number (auto-numbered)' }),
    def('entity', 'reference', col('r.entity', 'string'), reference, { label: 'Customer', referenceTo: 'customer', nillable: false }),
    def('tranDate', 'date', col('r.trandate', 'date'), value, { label: 'Date' }),
    def('status', 'picklist', col('r.status', 'string', { names: statuses }), ro, { label: 'Status', picklistValues: Object.values(statuses) }),
    currencyDef(),
    def('memo', 'text', col('r.memo', 'string'), value, { label: 'Memo', length: 999 }),
    def('otherRefNum', 'string', col('r.otherrefnum', 'string'), value, { label: 'PO/Check Number', length: 45 }),
    def('total', 'currency', col('r.foreigntotal', 'number'), ro, { label: 'Total' }),
  ];
}

const SALES_ORDER: Def[] = [...transactionDefs(SALES_ORDER_STATUSES), linesDef()];

const INVOICE: Def[] = [
  ...transactionDefs(INVOICE_STATUSES),
  def('dueDate', 'date', col('r.duedate', 'date'), value, { label: 'Due Date' }),
  def('createdFrom', 'reference', col('r.createdfrom', 'string'), reference, { label: 'Created From (sales order)', referenceTo: 'salesOrder' }),
  def('amountPaid', 'currency', col('r.foreignamountpaid', 'number'), ro, { label: 'Amount Paid' }),
  def('amountRemaining', 'currency', col('r.foreignamountremaining', 'number'), ro, { label: 'Amount Due' }),
  linesDef(),
];

function record(object: string, defs: Def[], table: Omit<NetSuiteRecord, 'object' | 'columns' | 'writes'>): { spec: ObjectSpec; info: NetSuiteRecord } {
  const columns: Record<string, ColumnRead> = {};
  const writes: Record<string, FieldWrite> = {};
  for (const d of defs) {
    if (d.read) columns[d.spec.name] = d.read;
    writes[d.spec.name] = d.write;
  }
  return {
    spec: { name: object, fields: defs.map((d) => d.spec), idField: 'id', modifiedField: 'lastModifiedDate', upsertKeyField: EXTERNAL_ID_FIELD },
    info: { object, columns, writes, ...table },
  };
}

const RECORDS = [
  record('customer', CUSTOMER, { table: 'customer', deletedType: 'customer', hasLines: false }),
  record('contact', CONTACT, { table: 'contact', deletedType: 'contact', hasLines: false }),
  record('inventoryItem', INVENTORY_ITEM, { table: 'item', typeFilter: "r.itemtype = 'InvtPart'", deletedType: 'inventoryitem', hasLines: false }),
  record('salesOrder', SALES_ORDER, { table: 'transaction', typeFilter: "r.type = 'SalesOrd'", deletedType: 'salesorder', hasLines: true }),
  record('invoice', INVOICE, { table: 'transaction', typeFilter: "r.type = 'CustInvc'", deletedType: 'invoice', hasLines: true }),
];

export const NETSUITE_OBJECTS: ObjectSpec[] = RECORDS.map((r) => r.spec);

const INFO = new Map(RECORDS.map((r) => [r.spec.name, r.info]));

export function netsuiteObject(name: string): ObjectSpec {
  const spec = NETSUITE_OBJECTS.find((o) => o.name === name);
  if (!spec) throw new Error(`unknown NetSuite object "${name}" (known: ${NETSUITE_OBJECTS.map((o) => o.name).join(', ')})`);
  return spec;
}

export function netsuiteRecord(name: string): NetSuiteRecord {
  netsuiteObject(name);
  return INFO.get(name)!;
}

/**
 * Custom fields the account adds (custentity_…, custbody_…, custitem_…) are not in the
 * descriptor; discover() finds them, SuiteQL names them in lower case and the record service as is.
 */
export function isCustomField(name: string): boolean {
  return /^cust(entity|body|item|col|record)_\w+$/.test(name);
}
