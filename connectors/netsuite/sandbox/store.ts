import { detail, NetSuiteError, nonexistentId } from './errors.js';
import { recordType, type RecordType } from './records.js';
import { prepareWrite, type WriteMode, type WriteOptions } from './validate.js';

/**
 * The sandbox account's data: records by type and internal id, the external-id index, address
 * subrecords, the deleted-record log and the account clock. Records are immutable versions; a
 * write replaces the record. Every write goes through the record service's validation, whether
 * it comes over HTTP or from a test acting as a user in the NetSuite UI.
 */

export interface AddressLine {
  /** The line's key in the addressBook sublist. */
  readonly id: string;
  readonly defaultBilling: boolean;
  readonly defaultShipping: boolean;
  readonly label: string | null;
  /** The address subrecord's key (SuiteQL entityaddress.nkey). */
  readonly nkey: number;
  readonly address: Readonly<Record<string, string | null>>;
}

export interface ItemLine {
  readonly line: number;
  readonly item: string;
  readonly description: string | null;
  readonly quantity: number;
  readonly rate: number;
  readonly amount: number;
}

export interface StoredRecord {
  readonly type: string;
  readonly id: string;
  readonly idNum: number;
  /** Body fields by their REST names; references hold the internal id; `_` fields are the sandbox's own. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly addressBook?: readonly AddressLine[];
  readonly items?: readonly ItemLine[];
  readonly createdMs: number;
  readonly modifiedMs: number;
}

export interface DeletedEntry {
  readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly externalId: string | null;
  readonly deletedMs: number;
}

export interface EditOptions {
  /** The instant the change happens at (epoch ms; whole seconds are kept, as NetSuite keeps them). */
  at?: number;
}

const FIRST_IDS: Record<RecordType['idSpace'], number> = { setup: 1, entity: 100, item: 500, transaction: 1000 };
const DOC_PREFIX: Record<string, string> = { salesOrder: 'SO', invoice: 'INV' };

export class NetSuiteState {
  private readonly records = new Map<string, Map<string, StoredRecord>>();
  private readonly externalIds = new Map<string, Map<string, string>>();
  private readonly nextId = new Map<string, number>();
  private readonly docNumbers = new Map<string, number>();
  private nextNkey = 1;
  private nextAddressLine = 1;
  private clockOffsetMs = 0;
  readonly deleted: DeletedEntry[] = [];
  /** Bumped on every write: SuiteQL results are cached on it. */
  version = 0;

  constructor(private readonly baseClock: () => number = Date.now) {}

  /** The account's clock (epoch ms): the base clock plus whatever tests advanced it by. */
  now(): number {
    return this.baseClock() + this.clockOffsetMs;
  }

  /** Moves the account clock forward: access tokens expire and new records are stamped later. */
  advanceClock(ms: number): void {
    this.clockOffsetMs += Math.max(0, ms);
  }

  /** NetSuite keeps record timestamps to the second. */
  stamp(at?: number): number {
    return Math.floor((at ?? this.now()) / 1000) * 1000;
  }

  // ---- reading -------------------------------------------------------------------------------

  get(type: string, id: string): StoredRecord | undefined {
    return this.table(type).get(id);
  }

  getByExternalId(type: string, externalId: string): StoredRecord | undefined {
    const id = this.eids(type).get(externalId);
    return id === undefined ? undefined : this.get(type, id);
  }

  /** A record by internal id or `eid:<external id>`, as the record service's URLs name it. */
  find(type: string, key: string): StoredRecord | undefined {
    return key.startsWith('eid:') ? this.getByExternalId(type, key.slice(4)) : this.get(type, key);
  }

  /** Like find, but a 404 in NetSuite's words when there is none. */
  require(type: string, key: string): StoredRecord {
    const rec = this.find(type, key);
    if (!rec) throw nonexistentId(type, key);
    return rec;
  }

  /** Every record of a type, by internal id. */
  all(type: string): StoredRecord[] {
    return [...this.table(type).values()].sort((a, b) => a.idNum - b.idNum);
  }

  count(type: string): number {
    return this.table(type).size;
  }

  // ---- computed fields -----------------------------------------------------------------------

  /** A transaction's total: the sum of its line amounts. */
  totalOf(rec: StoredRecord): number {
    return round2((rec.items ?? []).reduce((sum, l) => sum + l.amount, 0));
  }

  amountRemaining(invoice: StoredRecord): number {
    return Math.max(0, round2(this.totalOf(invoice) - Number(invoice.body.amountPaid ?? 0)));
  }

  /** Open (A), paid in full (B) or voided (V). */
  invoiceStatus(invoice: StoredRecord): string {
    if (invoice.body.status === 'V') return 'V';
    return this.amountRemaining(invoice) > 0 ? 'A' : 'B';
  }

  /** A customer's balance: what its open invoices still owe. */
  balanceOf(customerId: string): number {
    let sum = 0;
    for (const inv of this.table('invoice').values()) {
      if (inv.body.entity === customerId && this.invoiceStatus(inv) === 'A') sum += this.amountRemaining(inv);
    }
    return round2(sum);
  }

  // ---- writing (validated, as the record service and the UI do) ------------------------------

  create(type: string, body: Record<string, unknown>, options: EditOptions & WriteOptions = {}): StoredRecord {
    return this.write(type, 'create', undefined, body, options);
  }

  update(type: string, key: string, body: Record<string, unknown>, options: EditOptions & WriteOptions = {}): StoredRecord {
    return this.write(type, 'update', this.require(type, key), body, options);
  }

  /** PUT eid:<externalId>: updates the record with that external id, or creates it with it. */
  upsertByExternalId(type: string, externalId: string, body: Record<string, unknown>, options: EditOptions & WriteOptions = {}): { record: StoredRecord; created: boolean } {
    const existing = this.getByExternalId(type, externalId);
    const withKey = { ...body, externalId };
    if (existing) return { record: this.write(type, 'update', existing, withKey, options), created: false };
    return { record: this.write(type, 'create', undefined, withKey, options), created: true };
  }

  delete(type: string, key: string, options: EditOptions = {}): StoredRecord {
    const rec = this.require(type, key);
    this.checkDeletable(rec);
    this.table(type).delete(rec.id);
    const eid = rec.body.externalId;
    if (typeof eid === 'string') this.eids(type).delete(eid);
    this.deleted.push({ type, id: rec.id, name: displayName(rec), externalId: typeof eid === 'string' ? eid : null, deletedMs: this.stamp(options.at) });
    this.version++;
    return rec;
  }

  /** A customer payment applied to an invoice (the sandbox has no payment records): it moves the invoice's amount paid. */
  payInvoice(invoiceId: string, amount?: number, options: EditOptions = {}): StoredRecord {
    const inv = this.require('invoice', invoiceId);
    const paid = Number(inv.body.amountPaid ?? 0) + (amount ?? this.amountRemaining(inv));
    return this.commit({ ...inv, body: { ...inv.body, amountPaid: round2(Math.min(paid, this.totalOf(inv))) }, modifiedMs: this.stamp(options.at) });
  }

  // ---- the sandbox's own bookkeeping ---------------------------------------------------------

  allocateId(type: string): number {
    const space = this.typeOf(type).idSpace;
    const key = space === 'setup' ? type : space;
    const id = this.nextId.get(key) ?? FIRST_IDS[space];
    this.nextId.set(key, id + 1);
    return id;
  }

  allocateNkey(): number {
    return this.nextNkey++;
  }

  allocateAddressLine(): string {
    return String(this.nextAddressLine++);
  }

  /** Document numbers (SO1001, INV1001) and auto-numbered entity ids (CUST100). */
  nextDocumentNumber(type: string, idNum: number): string {
    const prefix = DOC_PREFIX[type];
    if (!prefix) return type === 'customer' ? `CUST${idNum}` : String(idNum);
    const n = (this.docNumbers.get(type) ?? 1000) + 1;
    this.docNumbers.set(type, n);
    return `${prefix}${n}`;
  }

  /** Stores a prepared version (seeding and writes both end here). */
  commit(rec: StoredRecord): StoredRecord {
    const before = this.table(rec.type).get(rec.id);
    const oldEid = before?.body.externalId;
    const newEid = rec.body.externalId;
    if (typeof oldEid === 'string' && oldEid !== newEid) this.eids(rec.type).delete(oldEid);
    if (typeof newEid === 'string') this.eids(rec.type).set(newEid, rec.id);
    this.table(rec.type).set(rec.id, rec);
    this.version++;
    return rec;
  }

  typeOf(name: string): RecordType {
    const type = recordType(name);
    if (!type) throw new Error(`unknown record type ${name}`);
    return type;
  }

  private write(type: string, mode: WriteMode, existing: StoredRecord | undefined, body: Record<string, unknown>, options: EditOptions & WriteOptions): StoredRecord {
    const at = this.stamp(options.at);
    const prepared = prepareWrite(this, this.typeOf(type), mode, existing, body, options, at);
    return this.commit(prepared);
  }

  /** NetSuite refuses to delete a record other records depend on. */
  private checkDeletable(rec: StoredRecord): void {
    const dependents = (t: string, field: string) => [...this.table(t).values()].some((r) => r.body[field] === rec.id);
    const blocked =
      (rec.type === 'customer' && (dependents('salesOrder', 'entity') || dependents('invoice', 'entity') || dependents('contact', 'company'))) ||
      (rec.type === 'salesOrder' && dependents('invoice', 'createdFrom')) ||
      (rec.type === 'inventoryItem' && ['salesOrder', 'invoice'].some((t) => [...this.table(t).values()].some((r) => (r.items ?? []).some((l) => l.item === rec.id))));
    if (blocked) throw new NetSuiteError(400, detail('USER_ERROR', 'This record cannot be deleted because it has dependent records.'));
  }

  private table(type: string): Map<string, StoredRecord> {
    const name = this.typeOf(type).name;
    let t = this.records.get(name);
    if (!t) this.records.set(name, (t = new Map()));
    return t;
  }

  private eids(type: string): Map<string, string> {
    const name = this.typeOf(type).name;
    let m = this.externalIds.get(name);
    if (!m) this.externalIds.set(name, (m = new Map()));
    return m;
  }
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** What DeletedRecord.name shows: the record's name or document number. */
export function displayName(rec: StoredRecord): string {
  const b = rec.body;
  const name = b.companyName ?? b.tranId ?? b.itemId ?? b.name ?? ([b.firstName, b.lastName].filter(Boolean).join(' ') || b.entityId);
  return typeof name === 'string' ? name : rec.id;
}
