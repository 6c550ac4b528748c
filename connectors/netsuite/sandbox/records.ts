/**
 * The record types the sandbox account has, as the REST record service shows them: body fields
 * with their kinds, labels (NetSuite names a missing field by its label), references, read-only
 * fields and sublists. Validation, the JSON views and the metadata catalog all read this.
 */

export type WireKind = 'string' | 'text' | 'email' | 'phone' | 'url' | 'boolean' | 'number' | 'date' | 'datetime' | 'ref' | 'enum';

export interface WireField {
  name: string;
  label: string;
  kind: WireKind;
  /** Record type a reference points to. */
  refType?: string;
  /** Computed or system-set: refused in a request body. */
  readOnly?: boolean;
  maxLength?: number;
  /** Codes an enum field takes (a line's country, a transaction's status). */
  enumValues?: string[];
}

export type Sublist = 'addressBook' | 'item';

export interface RecordType {
  /** The record service's name (case-insensitive in URLs). */
  name: string;
  label: string;
  /** Internal ids are drawn per space: entities share one, transactions another. */
  idSpace: 'entity' | 'transaction' | 'item' | 'setup';
  fields: WireField[];
  sublists: Sublist[];
  /** Setup records (subsidiary, currency, term) can be read, not written, through the sandbox's API. */
  writable: boolean;
}

const f = (name: string, label: string, kind: WireKind, extra: Partial<WireField> = {}): WireField => ({ name, label, kind, ...extra });
const ref = (name: string, label: string, refType: string, extra: Partial<WireField> = {}): WireField => f(name, label, 'ref', { refType, ...extra });
const ro = { readOnly: true } as const;

const system = (created: string): WireField[] => [
  f('externalId', 'External ID', 'string', { maxLength: 255 }),
  f(created, 'Date Created', 'datetime', ro),
  f('lastModifiedDate', 'Last Modified', 'datetime', ro),
];

export const SALES_ORDER_STATUS_NAMES: Record<string, string> = {
  A: 'Pending Approval', B: 'Pending Fulfillment', C: 'Cancelled', D: 'Partially Fulfilled',
  E: 'Pending Billing/Partially Fulfilled', F: 'Pending Billing', G: 'Billed', H: 'Closed',
};
export const INVOICE_STATUS_NAMES: Record<string, string> = { A: 'Open', B: 'Paid In Full', V: 'Voided' };

const transaction = (statuses: Record<string, string>): WireField[] => [
  f('tranId', 'Document Number', 'string', ro),
  ref('entity', 'Customer', 'customer'),
  f('tranDate', 'Date', 'date'),
  f('status', 'Status', 'enum', { ...ro, enumValues: Object.keys(statuses) }),
  ref('currency', 'Currency', 'currency'),
  ref('subsidiary', 'Subsidiary', 'subsidiary'),
  f('memo', 'Memo', 'text', { maxLength: 999 }),
  f('otherRefNum', 'PO/Check Number', 'string', { maxLength: 45 }),
  f('total', 'Total', 'number', ro),
  ...system('createdDate'),
];

export const RECORD_TYPES: RecordType[] = [
  {
    name: 'customer', label: 'Customer', idSpace: 'entity', sublists: ['addressBook'], writable: true,
    fields: [
      f('entityId', 'Customer ID', 'string', ro),
      f('companyName', 'Company Name', 'string', { maxLength: 83 }),
      f('isPerson', 'Individual', 'boolean'),
      f('firstName', 'First Name', 'string', { maxLength: 32 }),
      f('lastName', 'Last Name', 'string', { maxLength: 32 }),
      f('email', 'Email', 'email', { maxLength: 254 }),
      f('phone', 'Phone', 'phone', { maxLength: 32 }),
      f('url', 'Web Address', 'url', { maxLength: 100 }),
      ref('subsidiary', 'Primary Subsidiary', 'subsidiary'),
      ref('currency', 'Currency', 'currency'),
      ref('terms', 'Terms', 'term'),
      f('creditLimit', 'Credit Limit', 'number'),
      f('balance', 'Balance', 'number', ro),
      f('isInactive', 'Inactive', 'boolean'),
      f('comments', 'Comments', 'text', { maxLength: 999 }),
      ...system('dateCreated'),
    ],
  },
  {
    name: 'contact', label: 'Contact', idSpace: 'entity', sublists: [], writable: true,
    fields: [
      f('entityId', 'Contact', 'string', ro),
      f('firstName', 'First Name', 'string', { maxLength: 32 }),
      f('lastName', 'Last Name', 'string', { maxLength: 32 }),
      f('email', 'Email', 'email', { maxLength: 254 }),
      f('phone', 'Phone', 'phone', { maxLength: 32 }),
      f('title', 'Job Title', 'string', { maxLength: 99 }),
      ref('company', 'Company', 'customer'),
      ref('subsidiary', 'Subsidiary', 'subsidiary'),
      f('isInactive', 'Inactive', 'boolean'),
      ...system('dateCreated'),
    ],
  },
  {
    name: 'inventoryItem', label: 'Inventory Item', idSpace: 'item', sublists: [], writable: true,
    fields: [
      f('itemId', 'Item Name/Number', 'string', { maxLength: 60 }),
      f('displayName', 'Display Name/Code', 'string', { maxLength: 60 }),
      f('salesDescription', 'Sales Description', 'text', { maxLength: 999 }),
      f('cost', 'Purchase Price', 'number'),
      f('isInactive', 'Inactive', 'boolean'),
      ...system('createdDate'),
    ],
  },
  {
    name: 'salesOrder', label: 'Sales Order', idSpace: 'transaction', sublists: ['item'], writable: true,
    fields: transaction(SALES_ORDER_STATUS_NAMES),
  },
  {
    name: 'invoice', label: 'Invoice', idSpace: 'transaction', sublists: ['item'], writable: true,
    fields: [
      ...transaction(INVOICE_STATUS_NAMES),
      f('dueDate', 'Due Date', 'date'),
      ref('terms', 'Terms', 'term'),
      ref('createdFrom', 'Created From', 'salesOrder'),
      f('amountPaid', 'Amount Paid', 'number', ro),
      f('amountRemaining', 'Amount Due', 'number', ro),
    ],
  },
  {
    name: 'subsidiary', label: 'Subsidiary', idSpace: 'setup', sublists: [], writable: false,
    fields: [f('name', 'Name', 'string'), ref('parent', 'Subsidiary Of', 'subsidiary'), ref('currency', 'Currency', 'currency'), f('country', 'Country', 'enum'), f('isInactive', 'Inactive', 'boolean')],
  },
  {
    name: 'currency', label: 'Currency', idSpace: 'setup', sublists: [], writable: false,
    fields: [f('name', 'Name', 'string'), f('symbol', 'ISO Code', 'string'), f('isBaseCurrency', 'Base Currency', 'boolean', ro), f('exchangeRate', 'Default Exchange Rate', 'number')],
  },
  {
    name: 'term', label: 'Term', idSpace: 'setup', sublists: [], writable: false,
    fields: [f('name', 'Terms', 'string'), f('daysUntilNetDue', 'Days Till Net Due', 'number')],
  },
];

/** addressBook lines and their address subrecord. */
export const ADDRESS_LINE_FIELDS: WireField[] = [
  f('defaultBilling', 'Default Billing', 'boolean'),
  f('defaultShipping', 'Default Shipping', 'boolean'),
  f('label', 'Label', 'string', { maxLength: 99 }),
];
export const ADDRESS_FIELDS: WireField[] = [
  f('addressee', 'Addressee', 'string', { maxLength: 150 }),
  f('addr1', 'Address 1', 'string', { maxLength: 150 }),
  f('addr2', 'Address 2', 'string', { maxLength: 150 }),
  f('city', 'City', 'string', { maxLength: 50 }),
  f('state', 'State/Province', 'string', { maxLength: 30 }),
  f('zip', 'Zip', 'string', { maxLength: 36 }),
  f('country', 'Country', 'enum'),
];
/** Lines of the item sublist on orders and invoices. */
export const ITEM_LINE_FIELDS: WireField[] = [
  ref('item', 'Item', 'inventoryItem'),
  f('description', 'Description', 'text', { maxLength: 999 }),
  f('quantity', 'Quantity', 'number'),
  f('rate', 'Rate', 'number'),
  f('amount', 'Amount', 'number'),
  f('line', 'Line', 'number', ro),
];

const BY_NAME = new Map(RECORD_TYPES.map((t) => [t.name.toLowerCase(), t]));

/** Record type names in URLs are case-insensitive (`salesorder` and `salesOrder` alike). */
export function recordType(name: string): RecordType | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function wireField(type: RecordType, name: string): WireField | undefined {
  return type.fields.find((x) => x.name === name);
}

/** Country names for the REST view of an address's country ({id, refName}). */
export const COUNTRY_NAMES: Record<string, string> = {
  US: 'United States', GB: 'United Kingdom', DE: 'Germany', FR: 'France', CA: 'Canada', AU: 'Australia',
  NL: 'Netherlands', IE: 'Ireland', JP: 'Japan', SG: 'Singapore', IN: 'India', BR: 'Brazil', MX: 'Mexico',
};
