import { displayName, type NetSuiteState, type StoredRecord } from './store.js';
import { SqlTime, type Row, type SqlValue, type Table } from './suiteql.js';

/**
 * The account's records as SuiteQL tables (the analytics data source's names: customer, contact,
 * item, transaction, transactionline, entityaddress, customeraddressbook, subsidiary, currency,
 * term, deletedrecord). Column names are lower case; booleans are 'T'/'F'; references are the
 * internal id; dates are DATE values. Rows are built from the current state on each query.
 */

const tf = (v: unknown): SqlValue => (v === true ? 'T' : v === false ? 'F' : null);
const num = (v: unknown): SqlValue => (v === null || v === undefined || v === '' ? null : Number(v));
const str = (v: unknown): SqlValue => (v === null || v === undefined || v === '' ? null : String(v));
const time = (ms: number | undefined): SqlValue => (ms === undefined ? null : new SqlTime(ms));
const day = (v: unknown): SqlValue => (typeof v === 'string' ? new SqlTime(Date.parse(`${v}T00:00:00.000Z`)) : null);

/** SuiteQL's transaction type codes. */
const TRANSACTION_TYPES: Record<string, string> = { salesOrder: 'SalesOrd', invoice: 'CustInvc' };
const TYPE_LABELS: Record<string, string> = { SalesOrd: 'Sales Order', CustInvc: 'Invoice' };

function table(columns: string[], rows: () => Iterable<Row>, display?: Table['display']): Table {
  return { columns, rows, ...(display ? { display } : {}) };
}

/** Customers' balances (open invoices' amounts due), computed once per table build. */
function balances(state: NetSuiteState): Map<string, number> {
  const out = new Map<string, number>();
  for (const inv of state.all('invoice')) {
    if (state.invoiceStatus(inv) !== 'A') continue;
    const customer = String(inv.body.entity);
    out.set(customer, Math.round(((out.get(customer) ?? 0) + state.amountRemaining(inv)) * 100) / 100);
  }
  return out;
}

/**
 * The tables, each built once per state version: a read's pages are separate queries over the
 * same data, and rebuilding every row for each would make a large account slow to page.
 */
export function suiteqlTables(state: NetSuiteState): (name: string) => Table | undefined {
  const built = new Map<string, { version: number; table: Table }>();
  const all = rawTables(state);
  return (name) => {
    const make = all[name];
    if (!make) return undefined;
    const hit = built.get(name);
    if (hit && hit.version === state.version) return hit.table;
    const fresh = make();
    const rows = [...fresh.rows()];
    const table = { ...fresh, rows: () => rows };
    built.set(name, { version: state.version, table });
    return table;
  };
}

function rawTables(state: NetSuiteState): Record<string, () => Table> {
  const nameOf = (type: string, id: SqlValue) => {
    if (id === null) return undefined;
    const rec = state.get(type, String(id));
    return rec ? displayName(rec) : undefined;
  };
  /** BUILTIN.DF of reference columns: the referenced record's name. */
  const refs = (map: Record<string, string>) => (column: string, value: SqlValue) => (map[column] ? nameOf(map[column], value) : undefined);

  const billingAddress = (rec: StoredRecord) => rec.addressBook?.find((l) => l.defaultBilling);
  const shippingAddress = (rec: StoredRecord) => rec.addressBook?.find((l) => l.defaultShipping);

  const tables: Record<string, () => Table> = {
    customer: () => table(
      ['id', 'entityid', 'companyname', 'isperson', 'firstname', 'lastname', 'email', 'phone', 'url', 'subsidiary', 'currency', 'terms',
        'creditlimit', 'balancesearch', 'isinactive', 'comments', 'externalid', 'datecreated', 'lastmodifieddate', 'defaultbillingaddress', 'defaultshippingaddress'],
      function* () {
        const owed = balances(state);
        for (const r of state.all('customer')) {
          const b = r.body;
          yield {
            id: r.idNum, entityid: str(b.entityId), companyname: str(b.companyName), isperson: tf(b.isPerson), firstname: str(b.firstName),
            lastname: str(b.lastName), email: str(b.email), phone: str(b.phone), url: str(b.url), subsidiary: num(b.subsidiary),
            currency: num(b.currency), terms: num(b.terms), creditlimit: num(b.creditLimit), balancesearch: owed.get(r.id) ?? 0,
            isinactive: tf(b.isInactive), comments: str(b.comments), externalid: str(b.externalId), datecreated: time(r.createdMs),
            lastmodifieddate: time(r.modifiedMs), defaultbillingaddress: billingAddress(r)?.nkey ?? null, defaultshippingaddress: shippingAddress(r)?.nkey ?? null,
          };
        }
      },
      refs({ subsidiary: 'subsidiary', currency: 'currency', terms: 'term' }),
    ),
    contact: () => table(
      ['id', 'entityid', 'firstname', 'lastname', 'email', 'phone', 'title', 'company', 'subsidiary', 'isinactive', 'externalid', 'datecreated', 'lastmodifieddate'],
      function* () {
        for (const r of state.all('contact')) {
          const b = r.body;
          yield {
            id: r.idNum, entityid: str(b.entityId), firstname: str(b.firstName), lastname: str(b.lastName), email: str(b.email), phone: str(b.phone),
            title: str(b.title), company: num(b.company), subsidiary: num(b.subsidiary), isinactive: tf(b.isInactive), externalid: str(b.externalId),
            datecreated: time(r.createdMs), lastmodifieddate: time(r.modifiedMs),
          };
        }
      },
      refs({ company: 'customer', subsidiary: 'subsidiary' }),
    ),
    item: () => table(
      ['id', 'itemid', 'displayname', 'description', 'itemtype', 'cost', 'isinactive', 'externalid', 'createddate', 'lastmodifieddate'],
      function* () {
        for (const r of state.all('inventoryItem')) {
          const b = r.body;
          yield {
            id: r.idNum, itemid: str(b.itemId), displayname: str(b.displayName), description: str(b.salesDescription), itemtype: 'InvtPart',
            cost: num(b.cost), isinactive: tf(b.isInactive), externalid: str(b.externalId), createddate: time(r.createdMs), lastmodifieddate: time(r.modifiedMs),
          };
        }
      },
    ),
    transaction: () => table(
      ['id', 'tranid', 'type', 'recordtype', 'entity', 'trandate', 'duedate', 'status', 'currency', 'terms', 'memo', 'otherrefnum',
        'foreigntotal', 'foreignamountpaid', 'foreignamountremaining', 'createdfrom', 'externalid', 'createddate', 'lastmodifieddate'],
      function* () {
        for (const type of ['salesOrder', 'invoice']) {
          for (const r of state.all(type)) {
            const b = r.body;
            const invoice = type === 'invoice';
            yield {
              id: r.idNum, tranid: str(b.tranId), type: TRANSACTION_TYPES[type], recordtype: type.toLowerCase(), entity: num(b.entity),
              trandate: day(b.tranDate), duedate: day(b.dueDate), status: invoice ? state.invoiceStatus(r) : str(b.status), currency: num(b.currency),
              terms: num(b.terms), memo: str(b.memo), otherrefnum: str(b.otherRefNum), foreigntotal: state.totalOf(r),
              foreignamountpaid: invoice ? Number(b.amountPaid ?? 0) : null, foreignamountremaining: invoice ? state.amountRemaining(r) : null,
              createdfrom: num(b.createdFrom), externalid: str(b.externalId), createddate: time(r.createdMs), lastmodifieddate: time(r.modifiedMs),
            };
          }
        }
      },
      (column, value) => {
        if (column === 'type') return TYPE_LABELS[String(value)];
        return refs({ entity: 'customer', currency: 'currency', terms: 'term', createdfrom: 'salesOrder' })(column, value);
      },
    ),
    transactionline: () => table(
      ['id', 'transaction', 'linesequencenumber', 'mainline', 'taxline', 'item', 'memo', 'quantity', 'rate', 'netamount', 'foreignamount'],
      function* () {
        for (const type of ['salesOrder', 'invoice']) {
          for (const r of state.all(type)) {
            // The main line carries the header; item lines follow. Sales quantities and amounts are negative here.
            yield { id: 0, transaction: r.idNum, linesequencenumber: 0, mainline: 'T', taxline: 'F', item: null, memo: str(r.body.memo), quantity: null, rate: null, netamount: state.totalOf(r), foreignamount: state.totalOf(r) };
            for (const l of r.items ?? []) {
              yield {
                id: l.line, transaction: r.idNum, linesequencenumber: l.line, mainline: 'F', taxline: 'F', item: Number(l.item), memo: str(l.description),
                quantity: -l.quantity, rate: l.rate, netamount: -l.amount, foreignamount: -l.amount,
              };
            }
          }
        }
      },
      refs({ item: 'inventoryItem' }),
    ),
    entityaddress: () => table(
      ['nkey', 'addressee', 'addr1', 'addr2', 'city', 'state', 'zip', 'country'],
      function* () {
        for (const r of state.all('customer')) {
          for (const l of r.addressBook ?? []) {
            const a = l.address;
            yield { nkey: l.nkey, addressee: str(a.addressee), addr1: str(a.addr1), addr2: str(a.addr2), city: str(a.city), state: str(a.state), zip: str(a.zip), country: str(a.country) };
          }
        }
      },
    ),
    customeraddressbook: () => table(
      ['id', 'entity', 'addressbookaddress', 'defaultbilling', 'defaultshipping', 'label'],
      function* () {
        for (const r of state.all('customer')) {
          for (const l of r.addressBook ?? []) {
            yield { id: Number(l.id), entity: r.idNum, addressbookaddress: l.nkey, defaultbilling: tf(l.defaultBilling), defaultshipping: tf(l.defaultShipping), label: str(l.label) };
          }
        }
      },
    ),
    subsidiary: () => table(['id', 'name', 'parent', 'currency', 'country', 'isinactive'], function* () {
      for (const r of state.all('subsidiary')) {
        const b = r.body;
        yield { id: r.idNum, name: str(b.name), parent: num(b.parent), currency: num(b.currency), country: str(b.country), isinactive: tf(b.isInactive) };
      }
    }, refs({ parent: 'subsidiary', currency: 'currency' })),
    currency: () => table(['id', 'name', 'symbol', 'isbasecurrency', 'exchangerate'], function* () {
      for (const r of state.all('currency')) {
        const b = r.body;
        yield { id: r.idNum, name: str(b.name), symbol: str(b.symbol), isbasecurrency: tf(b.isBaseCurrency), exchangerate: num(b.exchangeRate) };
      }
    }),
    term: () => table(['id', 'name', 'daysuntilnetdue'], function* () {
      for (const r of state.all('term')) yield { id: r.idNum, name: str(r.body.name), daysuntilnetdue: num(r.body.daysUntilNetDue) };
    }),
    deletedrecord: () => table(['recordid', 'recordtypeid', 'type', 'name', 'deleteddate', 'context'], function* () {
      for (const d of state.deleted) {
        yield { recordid: Number(d.id), recordtypeid: d.type.toLowerCase(), type: d.type.toLowerCase(), name: d.name, deleteddate: new SqlTime(d.deletedMs), context: 'WEBSERVICES' };
      }
    }),
  };
  return tables;
}
