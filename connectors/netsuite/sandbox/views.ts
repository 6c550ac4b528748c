import { COUNTRY_NAMES, INVOICE_STATUS_NAMES, recordType, SALES_ORDER_STATUS_NAMES, type WireField } from './records.js';
import { displayName, type NetSuiteState, type StoredRecord } from './store.js';

/**
 * Records as the REST record service shows them: HATEOAS links, references as
 * {links, id, refName}, enums as {id, refName}, empty fields left out, sublists collapsed to a
 * link unless expandSubResources=true, and the paging envelope of collections.
 */

export interface Link {
  rel: string;
  href: string;
}

const self = (href: string): Link[] => [{ rel: 'self', href }];

export interface ViewOptions {
  /** `?fields=a,b`: only these body fields (and id, links). */
  fields?: ReadonlySet<string>;
  /** `?expandSubResources=true`: sublist lines and subrecords inline. */
  expand: boolean;
}

export class RecordViews {
  constructor(private readonly state: NetSuiteState, private readonly base: () => string) {}

  recordUrl(type: string, id: string): string {
    return `${this.base()}/record/v1/${type}/${id}`;
  }

  record(rec: StoredRecord, options: ViewOptions): Record<string, unknown> {
    const type = this.state.typeOf(rec.type);
    const url = this.recordUrl(type.name, rec.id);
    const out: Record<string, unknown> = { links: self(url), id: rec.id };
    const wanted = (name: string) => !options.fields || options.fields.has(name);
    const values = this.values(rec);
    for (const field of type.fields) {
      if (!wanted(field.name)) continue;
      const v = values[field.name];
      if (v === undefined || v === null || v === '') continue;
      out[field.name] = this.wire(rec.type, field, v);
    }
    if (type.sublists.includes('addressBook') && wanted('addressBook')) out.addressBook = this.addressBook(rec, url, options.expand);
    if (type.sublists.includes('item') && wanted('item')) out.item = this.items(rec, url, options.expand);
    return out;
  }

  /** Stored body plus computed and system fields. */
  private values(rec: StoredRecord): Record<string, unknown> {
    const v: Record<string, unknown> = { ...rec.body, lastModifiedDate: iso(rec.modifiedMs) };
    v[rec.type === 'customer' || rec.type === 'contact' ? 'dateCreated' : 'createdDate'] = iso(rec.createdMs);
    if (rec.type === 'customer') v.balance = this.state.balanceOf(rec.id);
    if (rec.type === 'salesOrder' || rec.type === 'invoice') v.total = this.state.totalOf(rec);
    if (rec.type === 'invoice') {
      v.amountRemaining = this.state.amountRemaining(rec);
      v.status = this.state.invoiceStatus(rec);
    }
    return v;
  }

  private wire(type: string, field: WireField, v: unknown): unknown {
    if (field.kind === 'ref') return this.ref(field.refType!, String(v));
    if (field.kind === 'enum') return { id: v, refName: enumName(type, field, String(v)) };
    return v;
  }

  ref(type: string, id: string): Record<string, unknown> {
    const rec = this.state.get(type, id);
    const name = recordType(type)?.name ?? type;
    return { links: self(this.recordUrl(name, id)), id, ...(rec ? { refName: displayName(rec) } : {}) };
  }

  private addressBook(rec: StoredRecord, url: string, expand: boolean): Record<string, unknown> {
    const href = `${url}/addressBook`;
    if (!expand) return { links: self(href) };
    const items = (rec.addressBook ?? []).map((l) => {
      const lineUrl = `${href}/${l.id}`;
      const address: Record<string, unknown> = { links: self(`${lineUrl}/addressBookAddress`) };
      for (const [k, val] of Object.entries(l.address)) {
        if (val === null || val === '') continue;
        address[k] = k === 'country' ? { id: val, refName: COUNTRY_NAMES[val] ?? val } : val;
      }
      address.addrText = [l.address.addressee, l.address.addr1, l.address.addr2, [l.address.city, l.address.state, l.address.zip].filter(Boolean).join(' '), l.address.country && (COUNTRY_NAMES[l.address.country] ?? l.address.country)]
        .filter(Boolean).join('\n');
      return {
        links: self(lineUrl), id: l.id, defaultBilling: l.defaultBilling, defaultShipping: l.defaultShipping,
        ...(l.label ? { label: l.label } : {}), addressBookAddress: address,
      };
    });
    return sublistEnvelope(href, items);
  }

  private items(rec: StoredRecord, url: string, expand: boolean): Record<string, unknown> {
    const href = `${url}/item`;
    if (!expand) return { links: self(href) };
    const items = (rec.items ?? []).map((l) => ({
      links: self(`${href}/${l.line}`),
      line: l.line,
      item: this.ref('inventoryItem', l.item),
      ...(l.description ? { description: l.description } : {}),
      quantity: l.quantity,
      rate: l.rate,
      amount: l.amount,
    }));
    return sublistEnvelope(href, items);
  }
}

function sublistEnvelope(href: string, items: unknown[]): Record<string, unknown> {
  return { links: self(href), items, totalResults: items.length, count: items.length, hasMore: false, offset: 0 };
}

function enumName(type: string, field: WireField, code: string): string {
  if (field.name === 'country') return COUNTRY_NAMES[code] ?? code;
  if (field.name === 'status') return (type === 'invoice' ? INVOICE_STATUS_NAMES : SALES_ORDER_STATUS_NAMES)[code] ?? code;
  return code;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The collection envelope (record lists and SuiteQL alike): links to the first, previous, next and
 * last pages and to itself, count, hasMore, items, offset, totalResults.
 */
export function pageEnvelope(pageUrl: (offset: number) => string, items: unknown[], offset: number, limit: number, total: number): Record<string, unknown> {
  const links: Link[] = [];
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  if (offset > 0) {
    links.push({ rel: 'first', href: pageUrl(0) });
    links.push({ rel: 'previous', href: pageUrl(Math.max(0, offset - limit)) });
  }
  if (offset + limit < total) links.push({ rel: 'next', href: pageUrl(offset + limit) });
  links.push({ rel: 'last', href: pageUrl(lastOffset) });
  links.push({ rel: 'self', href: pageUrl(offset) });
  return { links, count: items.length, hasMore: offset + items.length < total, items, offset, totalResults: total };
}
