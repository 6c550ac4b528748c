/**
 * What a sync leaves behind, comparable between an undisturbed run and a run under faults: the
 * records in every system without their ids and timestamps (which differ from run to run), the
 * hub's links and records counted per entity and object, and whether any system holds a record
 * twice. Two runs over the same seed must give equal end states.
 */
import type { TestHub } from '../support/hub.js';

/** Fields that differ between two runs of the same data: ids the systems gave, and when things happened. */
const VOLATILE = /(^id$|^Id$|Id$|_id$|^hs_object_id$|date$|Date$|^createdate$|SystemModstamp|^internalId$|^links$|^ecosync_id$|^externalId$|^Ecosync_Id__c$|^lastModified|Time$|time$|At$)/;

function stripped(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !VOLATILE.test(k)).sort(([a], [b]) => a.localeCompare(b)));
}

function sorted(rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return rows.map(stripped).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** A system's records of one object, each once, keyed by the id ecosync gave it, and whether any key repeats. */
function keyed(rows: Array<Record<string, unknown>>, key: (r: Record<string, unknown>) => unknown) {
  const keys = rows.map(key).filter((k) => k !== undefined && k !== null && k !== '');
  return { count: rows.length, duplicateKeys: keys.length - new Set(keys).size };
}

export interface EndState {
  salesforce: Record<string, unknown>;
  hubspot: Record<string, unknown>;
  netsuite?: Record<string, unknown>;
  /** The hub's links and records per entity (and object), as counts. */
  hub: Record<string, number>;
}

/** The end state of a connection's systems and hub after a sync. */
export async function endState(hub: TestHub, connectionId: string): Promise<EndState> {
  const salesforce: Record<string, unknown> = {};
  for (const object of ['Account', 'Contact', 'Opportunity']) {
    const rows = hub.sfRecords(object);
    // The sandbox's change index holds each version: the latest per id is the record.
    const latest = new Map<unknown, Record<string, unknown>>();
    for (const r of rows) latest.set(r.Id, r);
    salesforce[object] = { ...keyed([...latest.values()], (r) => r.Id), records: sorted([...latest.values()]) };
  }
  const hubspot: Record<string, unknown> = {};
  for (const type of ['companies', 'contacts', 'deals']) {
    const rows = hub.hs.state.live(type);
    hubspot[type] = {
      ...keyed(rows.map((r) => r.properties), (p) => p.ecosync_id),
      records: sorted(rows.map((r) => ({
        ...r.properties,
        // A deal's company, by the company's name: the association survives, whatever its id.
        ...(type === 'deals' ? { company: hub.hs.state.associations('deals', r.id, 'companies').map((id) => hub.hs.state.get('companies', id)?.properties.name) } : {}),
      }))),
    };
  }
  let netsuite: Record<string, unknown> | undefined;
  if (hub.ns) {
    netsuite = {};
    const ns = hub.ns;
    // A contact's company by the customer's name: internal ids follow the order of creation, which faults change.
    const customerName = new Map(ns.state.all('customer').map((c) => [c.id, c.body.companyName]));
    for (const type of ['customer', 'contact']) {
      const rows = ns.state.all(type).map((r) => (type === 'contact' ? { ...r.body, company: customerName.get(String(r.body.company)) ?? r.body.company } : r.body) as Record<string, unknown>);
      netsuite[type] = { ...keyed(rows, (b) => b.externalId), records: sorted(rows) };
    }
  }
  const counts: Record<string, number> = {};
  const links = await hub.store.db.query<{ entity: string; object: string; n: number }>(
    `SELECT entity, object, count(*)::int AS n FROM links WHERE connection_id = $1 GROUP BY entity, object`, [connectionId]);
  for (const l of links) counts[`links ${l.entity} ${l.object}`] = Number(l.n);
  const records = await hub.store.db.query<{ entity: string; n: number }>(
    `SELECT entity, count(*)::int AS n FROM records WHERE connection_id = $1 GROUP BY entity`, [connectionId]);
  for (const r of records) counts[`records ${r.entity}`] = Number(r.n);
  return { salesforce, hubspot, netsuite, hub: counts };
}

/** Duplicates found anywhere in an end state (0 when every system holds each record once). */
export function duplicates(state: EndState): number {
  let n = 0;
  for (const system of [state.salesforce, state.hubspot, state.netsuite ?? {}]) {
    for (const object of Object.values(system)) n += (object as { duplicateKeys: number }).duplicateKeys;
  }
  return n;
}
