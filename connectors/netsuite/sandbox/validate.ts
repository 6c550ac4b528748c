import { COUNTRY_CODES } from '../descriptor.js';
import { detail, invalidContent, missingValue, NetSuiteError, type ErrorDetail } from './errors.js';
import { ADDRESS_FIELDS, ADDRESS_LINE_FIELDS, ITEM_LINE_FIELDS, wireField, type RecordType, type WireField } from './records.js';
import { round2, type AddressLine, type ItemLine, type NetSuiteState, type StoredRecord } from './store.js';

/**
 * The record service's checks on a write: known fields of the right type, no read-only fields,
 * references to records that exist, mandatory fields present, and the sublists merged the way
 * NetSuite merges them (addressBook is keyed by line id; item lines are added unless the request
 * says `replace=item`). Every problem found is reported, each with its JSON path.
 */

export type WriteMode = 'create' | 'update';

export interface WriteOptions {
  /** Sublists the request replaces outright (`?replace=item,addressBook`). */
  replace?: readonly string[];
  /** X-NetSuite-PropertyNameValidation: unknown fields are an error (default), or ignored. */
  propertyNameValidation?: 'Error' | 'Warning' | 'Ignore';
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

type Issues = ErrorDetail[];

export function prepareWrite(
  state: NetSuiteState,
  type: RecordType,
  mode: WriteMode,
  existing: StoredRecord | undefined,
  body: Record<string, unknown>,
  options: WriteOptions,
  at: number,
): StoredRecord {
  if (!type.writable) throw new NetSuiteError(400, detail('USER_ERROR', `The sandbox keeps ${type.label} records as setup data; they cannot be written through the API.`));
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new NetSuiteError(400, invalidContent('', 'The request body must be a JSON object.'));
  const issues: Issues = [];
  const strict = (options.propertyNameValidation ?? 'Error') === 'Error';
  const changes: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(body)) {
    if (name === 'links' || (type.sublists as string[]).includes(name)) continue;
    const field = wireField(type, name);
    if (!field) {
      if (strict) issues.push(invalidContent(name, `The field ${name} is not a field of the ${type.label} record.`));
      continue;
    }
    if (field.readOnly) {
      issues.push(invalidContent(name, `The field ${name} is read-only and cannot be set.`));
      continue;
    }
    const converted = convert(state, field, raw, name, issues);
    if (converted !== INVALID) changes[name] = converted;
  }

  const base: Record<string, unknown> = mode === 'create' ? {} : { ...existing!.body };
  const merged = { ...base, ...changes };
  if (mode === 'create') applyCreateDefaults(state, type.name, merged, at);
  checkExternalId(state, type, existing, merged, issues);

  const replace = new Set(options.replace ?? []);
  const addressBook = type.sublists.includes('addressBook')
    ? mergeAddressBook(state, existing?.addressBook ?? [], body.addressBook, replace.has('addressBook'), issues)
    : undefined;
  const items = type.sublists.includes('item')
    ? mergeItems(state, existing?.items ?? [], body.item, replace.has('item') || mode === 'create', issues)
    : undefined;

  checkMandatory(type, merged, items, issues);
  if (issues.length > 0) throw new NetSuiteError(400, issues);

  const idNum = existing?.idNum ?? state.allocateId(type.name);
  if (mode === 'create') applyNumbering(state, type.name, merged, idNum);
  return {
    type: type.name,
    id: String(idNum),
    idNum,
    body: merged,
    ...(addressBook ? { addressBook } : {}),
    ...(items ? { items } : {}),
    createdMs: existing?.createdMs ?? at,
    modifiedMs: at,
  };
}

const INVALID = Symbol('invalid');

/** A body value in the field's kind, or INVALID with an issue recorded at `path`. */
function convert(state: NetSuiteState, field: WireField, raw: unknown, path: string, issues: Issues): unknown {
  if (raw === null) return null;
  const bad = (text: string) => {
    issues.push(invalidContent(path, text));
    return INVALID;
  };
  switch (field.kind) {
    case 'string': case 'text': case 'phone': case 'url': case 'email': {
      if (typeof raw !== 'string') return bad(`The value of ${field.name} must be a string.`);
      if (field.maxLength !== undefined && raw.length > field.maxLength) return bad(`The value of ${field.name} is longer than ${field.maxLength} characters.`);
      if (field.kind === 'email' && raw !== '' && !EMAIL.test(raw)) return bad(`Please enter a valid email address for ${field.label} (${raw}).`);
      return raw;
    }
    case 'boolean':
      return typeof raw === 'boolean' ? raw : bad(`The value of ${field.name} must be true or false.`);
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : bad(`The value of ${field.name} must be a number.`);
    case 'date':
      return typeof raw === 'string' && validDate(raw) ? raw : bad(`The value of ${field.name} must be a date as YYYY-MM-DD.`);
    case 'datetime':
      return typeof raw === 'string' && !Number.isNaN(Date.parse(raw)) ? raw : bad(`The value of ${field.name} must be an ISO 8601 date and time.`);
    case 'enum': {
      const code = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : raw;
      const allowed = field.name === 'country' ? COUNTRY_CODES : field.enumValues ?? [];
      return typeof code === 'string' && allowed.includes(code) ? code : bad(`You have entered an Invalid Field Value ${String(code)} for the following field: ${field.name}`);
    }
    case 'ref':
      return reference(state, field, raw, path, issues);
  }
}

/** A reference is {"id": …} or {"externalId": …} naming a record that exists. */
function reference(state: NetSuiteState, field: WireField, raw: unknown, path: string, issues: Issues): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issues.push(invalidContent(path, `The value of ${field.name} must be a reference object such as {"id": "42"}.`));
    return INVALID;
  }
  const { id, externalId } = raw as { id?: unknown; externalId?: unknown };
  const target = id !== undefined && id !== null
    ? state.get(field.refType!, String(id))
    : typeof externalId === 'string' ? state.getByExternalId(field.refType!, externalId) : undefined;
  if (!target) {
    // NetSuite's own wording (REST web services, "Request with an Invalid Body").
    issues.push(detail('INVALID_CONTENT', `Error while accessing resource: You have entered an Invalid Field Value ${String(id ?? externalId)} for the following field: ${field.name}`, { 'o:errorPath': path }));
    return INVALID;
  }
  return target.id;
}

function validDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** The account's calendar date of an instant (the sandbox account runs on UTC). */
export function accountDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function applyCreateDefaults(state: NetSuiteState, type: string, body: Record<string, unknown>, at: number): void {
  const subsidiaryOf = (customerId: unknown) => (typeof customerId === 'string' ? state.get('customer', customerId)?.body.subsidiary : undefined);
  switch (type) {
    case 'customer': {
      body.isPerson ??= false;
      body.isInactive ??= false;
      const sub = typeof body.subsidiary === 'string' ? state.get('subsidiary', body.subsidiary) : undefined;
      body.currency ??= sub?.body.currency ?? null;
      break;
    }
    case 'contact':
      body.isInactive ??= false;
      body.subsidiary ??= subsidiaryOf(body.company) ?? null;
      break;
    case 'inventoryItem':
      body.isInactive ??= false;
      break;
    case 'salesOrder': case 'invoice': {
      const customer = typeof body.entity === 'string' ? state.get('customer', body.entity) : undefined;
      body.tranDate ??= accountDate(at);
      body.currency ??= customer?.body.currency ?? null;
      body.subsidiary ??= customer?.body.subsidiary ?? null;
      if (type === 'salesOrder') {
        body.status = 'B';
      } else {
        body.terms ??= customer?.body.terms ?? null;
        const term = typeof body.terms === 'string' ? state.get('term', body.terms) : undefined;
        const days = Number(term?.body.daysUntilNetDue ?? 0);
        body.dueDate ??= accountDate(Date.parse(String(body.tranDate)) + days * DAY_MS);
        body.amountPaid = 0;
      }
      break;
    }
  }
  body.externalId ??= null;
}

/** Auto-numbered fields, set once the internal id is known. */
function applyNumbering(state: NetSuiteState, type: string, body: Record<string, unknown>, idNum: number): void {
  if (type === 'customer') body.entityId = state.nextDocumentNumber(type, idNum);
  if (type === 'contact') body.entityId = [body.firstName, body.lastName].filter(Boolean).join(' ') || String(idNum);
  if (type === 'salesOrder' || type === 'invoice') body.tranId = state.nextDocumentNumber(type, idNum);
}

function checkExternalId(state: NetSuiteState, type: RecordType, existing: StoredRecord | undefined, body: Record<string, unknown>, issues: Issues): void {
  const eid = body.externalId;
  if (typeof eid !== 'string') return;
  const holder = state.getByExternalId(type.name, eid);
  if (holder && holder.id !== existing?.id) {
    issues.push(detail('USER_ERROR', `Error while accessing a resource. A ${type.label.toLowerCase()} with the external ID ${eid} already exists (internal ID ${holder.id}).`, { 'o:errorPath': 'externalId' }));
  }
}

function checkMandatory(type: RecordType, body: Record<string, unknown>, items: readonly ItemLine[] | undefined, issues: Issues): void {
  // A field already refused (a bad reference) is not reported missing as well.
  const refused = new Set(issues.map((i) => i['o:errorPath']?.split(/[.[]/)[0]));
  const empty = (name: string) => body[name] === undefined || body[name] === null || body[name] === '';
  const need = (name: string) => {
    if (empty(name) && !refused.has(name)) issues.push(missingValue(name, wireField(type, name)!.label));
  };
  switch (type.name) {
    case 'customer':
      need('subsidiary');
      if (body.isPerson === true) {
        need('firstName');
        need('lastName');
      } else {
        need('companyName');
      }
      break;
    case 'contact':
      if (empty('firstName') && empty('lastName')) issues.push(missingValue('lastName', 'Name (First Name or Last Name)'));
      need('company');
      break;
    case 'inventoryItem':
      need('itemId');
      break;
    case 'salesOrder': case 'invoice':
      need('entity');
      if ((items ?? []).length === 0 && !refused.has('item')) issues.push(detail('USER_ERROR', 'You must enter at least one line item for this transaction.', { 'o:errorPath': 'item' }));
      break;
  }
}

/** The `{ "items": [...] }` wrapper of a sublist in a request body, or undefined when absent. */
function sublistLines(raw: unknown, name: string, issues: Issues): Record<string, unknown>[] | undefined {
  if (raw === undefined) return undefined;
  const lines = (raw as { items?: unknown } | null)?.items;
  if (!Array.isArray(lines) || lines.some((l) => typeof l !== 'object' || l === null || Array.isArray(l))) {
    issues.push(invalidContent(name, `The ${name} sublist must be given as {"items": [ {…}, … ]}.`));
    return undefined;
  }
  return lines as Record<string, unknown>[];
}

/**
 * addressBook is keyed by line id: a line with an `id` updates that line (its address merged
 * field by field), a line without one is added, and other lines stay unless the request replaces
 * the sublist. At most one line is the default billing (and shipping) address: the last line of
 * the request that claims it wins.
 */
function mergeAddressBook(state: NetSuiteState, current: readonly AddressLine[], raw: unknown, replace: boolean, issues: Issues): AddressLine[] {
  const lines = sublistLines(raw, 'addressBook', issues);
  if (!lines) return [...current];
  const out: AddressLine[] = replace ? [] : [...current];
  let billing: string | undefined;
  let shipping: string | undefined;
  lines.forEach((line, i) => {
    const path = `addressBook.items[${i}]`;
    const key = line.id === undefined || line.id === null ? undefined : String(line.id);
    const old = key === undefined ? undefined : current.find((l) => l.id === key);
    if (key !== undefined && !old) {
      issues.push(detail('INVALID_CONTENT', `Error while accessing resource: You have entered an Invalid Field Value ${key} for the following field: id`, { 'o:errorPath': `${path}.id` }));
      return;
    }
    const values: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(line)) {
      if (name === 'id' || name === 'links' || name === 'addressBookAddress') continue;
      const field = ADDRESS_LINE_FIELDS.find((x) => x.name === name);
      if (!field) {
        issues.push(invalidContent(`${path}.${name}`, `The field ${name} is not a field of an address book line.`));
        continue;
      }
      const v = convert(state, field, value, `${path}.${name}`, issues);
      if (v !== INVALID) values[name] = v;
    }
    const address: Record<string, string | null> = { ...(old?.address ?? {}) };
    const rawAddress = line.addressBookAddress;
    if (rawAddress !== undefined) {
      if (typeof rawAddress !== 'object' || rawAddress === null || Array.isArray(rawAddress)) {
        issues.push(invalidContent(`${path}.addressBookAddress`, 'The address must be an object.'));
      } else {
        for (const [name, value] of Object.entries(rawAddress)) {
          if (name === 'links') continue;
          const field = ADDRESS_FIELDS.find((x) => x.name === name);
          if (!field) {
            issues.push(invalidContent(`${path}.addressBookAddress.${name}`, `The field ${name} is not a field of an address.`));
            continue;
          }
          const v = convert(state, field, value, `${path}.addressBookAddress.${name}`, issues);
          if (v !== INVALID) address[name] = v as string | null;
        }
      }
    }
    const next: AddressLine = {
      id: old?.id ?? state.allocateAddressLine(),
      nkey: old?.nkey ?? state.allocateNkey(),
      defaultBilling: (values.defaultBilling as boolean | undefined) ?? old?.defaultBilling ?? false,
      defaultShipping: (values.defaultShipping as boolean | undefined) ?? old?.defaultShipping ?? false,
      label: (values.label as string | null | undefined) ?? old?.label ?? null,
      address,
    };
    if (next.defaultBilling) billing = next.id;
    if (next.defaultShipping) shipping = next.id;
    const at = out.findIndex((l) => l.id === next.id);
    if (at >= 0) out[at] = next;
    else out.push(next);
  });
  return out.map((l) => ({
    ...l,
    defaultBilling: billing === undefined ? l.defaultBilling : l.id === billing,
    defaultShipping: shipping === undefined ? l.defaultShipping : l.id === shipping,
  }));
}

/** Item lines are not keyed: lines in a request are added, or replace every line with `replace=item` (and on create). */
function mergeItems(state: NetSuiteState, current: readonly ItemLine[], raw: unknown, replace: boolean, issues: Issues): ItemLine[] {
  const lines = sublistLines(raw, 'item', issues);
  if (!lines) return [...current];
  const out: ItemLine[] = replace ? [] : [...current];
  let next = out.reduce((max, l) => Math.max(max, l.line), 0) + 1;
  lines.forEach((line, i) => {
    const path = `item.items[${i}]`;
    const values: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(line)) {
      if (name === 'links' || name === 'line') continue;
      const field = ITEM_LINE_FIELDS.find((x) => x.name === name);
      if (!field) {
        issues.push(invalidContent(`${path}.${name}`, `The field ${name} is not a field of an item line.`));
        continue;
      }
      const v = convert(state, field, value, `${path}.${name}`, issues);
      if (v !== INVALID) values[name] = v;
    }
    if (values.item === undefined || values.item === null) {
      if (!('item' in line)) issues.push(missingValue(`${path}.item`, 'Item'));
      return;
    }
    const item = state.get('inventoryItem', values.item as string)!;
    const quantity = (values.quantity as number | null | undefined) ?? 1;
    const rate = (values.rate as number | null | undefined) ?? (values.amount !== undefined && values.amount !== null && quantity !== 0
      ? round2((values.amount as number) / quantity)
      : Number(item.body._basePrice ?? 0));
    out.push({
      line: next++,
      item: item.id,
      description: (values.description as string | null | undefined) ?? (item.body.salesDescription as string | null | undefined) ?? null,
      quantity,
      rate,
      amount: (values.amount as number | null | undefined) ?? round2(quantity * rate),
    });
  });
  return out;
}
