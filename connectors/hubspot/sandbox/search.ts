import type { FieldSpec, ObjectSpec } from '../../../src/sync/protocol.js';
import type { StoredRecord } from './store.js';
import { knownProperty } from './validate.js';

/**
 * CRM search semantics: filter groups are ORed, filters inside a group ANDed (at most 5 groups of
 * 6 filters, 18 in all); one sort property; offset paging through `after`; at most 10,000 results
 * reachable per query.
 */
export const SEARCH_RESULT_CAP = 10_000;
export const SEARCH_MAX_LIMIT = 200;
export const MAX_FILTER_GROUPS = 5;
export const MAX_FILTERS_PER_GROUP = 6;
/** Filters across all groups of one search. */
export const MAX_FILTERS = 18;

export interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: string | number;
  values?: (string | number)[];
  highValue?: string | number;
}

/** The SDK types sorts as strings ("-prop" for descending); the API also takes objects. */
export type SearchSort = string | { propertyName: string; direction?: string };

export interface SearchRequest {
  filterGroups?: { filters?: SearchFilter[] }[];
  sorts?: SearchSort[];
  query?: string;
  limit?: number;
  after?: string | number;
  properties?: string[];
}

export interface CompiledSearch {
  matches(rec: StoredRecord): boolean;
  /** Smallest modified instant any match can have, so the scan starts there in the sorted index. */
  fromModifiedMs: number;
  sort: { property: string; descending: boolean } | null;
}

const OPERATORS = new Set(['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN']);
const QUERY_PROPERTIES = ['name', 'domain', 'website', 'phone', 'firstname', 'lastname', 'email', 'dealname'];

/** What is wrong with a search request, in HubSpot's words, and where (`in`). */
export interface SearchProblem {
  message: string;
  in?: string;
}

/** The request's problem, or undefined when HubSpot would run it. */
export function checkSearchRequest(spec: ObjectSpec, req: SearchRequest): SearchProblem | undefined {
  const groups = req.filterGroups ?? [];
  if (groups.length > MAX_FILTER_GROUPS) return { message: `Too many filter groups (${groups.length}); the maximum is ${MAX_FILTER_GROUPS}.`, in: 'filterGroups' };
  let total = 0;
  for (const [g, group] of groups.entries()) {
    const filters = group.filters ?? [];
    total += filters.length;
    if (filters.length > MAX_FILTERS_PER_GROUP) return { message: `Too many filters in a filter group (${filters.length}); the maximum is ${MAX_FILTERS_PER_GROUP}.`, in: `filterGroups[${g}].filters` };
    for (const [i, f] of filters.entries()) {
      const at = `filterGroups[${g}].filters[${i}]`;
      const unset = [f.propertyName ? '' : 'propertyName', f.operator ? '' : 'operator'].filter(Boolean);
      if (unset.length > 0) return { message: `Invalid input JSON on line 1: Cannot build Filter, some of required attributes are not set [${unset.join(', ')}]`, in: at };
      if (!OPERATORS.has(f.operator)) return { message: `Unknown operator ${f.operator}.`, in: `${at}.operator` };
      if (!knownProperty(spec, f.propertyName)) return { message: `Property ${f.propertyName} does not exist for ${spec.name}.`, in: `${at}.propertyName` };
      if ((f.operator === 'IN' || f.operator === 'NOT_IN') && !Array.isArray(f.values)) return { message: `Operator ${f.operator} requires values.`, in: `${at}.values` };
      if (f.operator === 'BETWEEN' && (f.value === undefined || f.highValue === undefined)) {
        return { message: 'Invalid input JSON on line 1: Cannot construct instance of Filter, problem: operator BETWEEN requires a highValue', in: `${at}.highValue` };
      }
    }
  }
  if (total > MAX_FILTERS) return { message: `Too many filters (${total}); a search takes at most ${MAX_FILTERS} across its filter groups.`, in: 'filterGroups' };
  if ((req.sorts?.length ?? 0) > 1) return { message: 'Only one sort is supported.', in: 'sorts' };
  const limit = req.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_MAX_LIMIT) return { message: `limit must be between 1 and ${SEARCH_MAX_LIMIT}, got ${limit}.`, in: 'limit' };
  const after = Number(req.after ?? 0);
  if (!Number.isInteger(after) || after < 0) return { message: `after must be a non-negative integer, got ${String(req.after)}.`, in: 'after' };
  if (after >= SEARCH_RESULT_CAP) return { message: `The search API returns at most ${SEARCH_RESULT_CAP} results per query (requested after=${after}); narrow the query to page further.`, in: 'after' };
  const sort = parseSort(req.sorts?.[0]);
  if (sort && !knownProperty(spec, sort.property)) return { message: `Cannot sort by unknown property ${sort.property}.`, in: 'sorts' };
  return undefined;
}

function parseSort(raw: SearchSort | undefined): CompiledSearch['sort'] {
  if (raw === undefined) return null;
  if (typeof raw === 'string') return raw.startsWith('-') ? { property: raw.slice(1), descending: true } : { property: raw, descending: false };
  return { property: raw.propertyName, descending: raw.direction === 'DESCENDING' };
}

type Comparable = number | string;

/** Converts a property value to something ordered the way HubSpot orders that property type. */
export function comparable(f: FieldSpec | undefined, value: string | number): Comparable {
  const text = String(value);
  switch (f?.type) {
    case 'id':
    case 'number':
    case 'integer':
    case 'currency':
    case 'percent':
    case 'reference':
      return Number(text);
    case 'date':
    case 'datetime':
      return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    default:
      return text.toLowerCase();
  }
}

function compileFilter(spec: ObjectSpec, filter: SearchFilter): (rec: StoredRecord) => boolean {
  const f = knownProperty(spec, filter.propertyName);
  const name = filter.propertyName;
  const of = (v: string | number) => comparable(f, v);
  const get = (rec: StoredRecord): Comparable | undefined => {
    const v = rec.properties[name];
    return v === null || v === undefined || v === '' ? undefined : of(v);
  };
  const value = filter.value === undefined ? undefined : of(filter.value);
  switch (filter.operator) {
    case 'HAS_PROPERTY': return (r) => get(r) !== undefined;
    case 'NOT_HAS_PROPERTY': return (r) => get(r) === undefined;
    case 'EQ': return (r) => get(r) === value;
    case 'NEQ': return (r) => get(r) !== value;
    case 'GT': return (r) => { const v = get(r); return v !== undefined && value !== undefined && v > value; };
    case 'GTE': return (r) => { const v = get(r); return v !== undefined && value !== undefined && v >= value; };
    case 'LT': return (r) => { const v = get(r); return v !== undefined && value !== undefined && v < value; };
    case 'LTE': return (r) => { const v = get(r); return v !== undefined && value !== undefined && v <= value; };
    case 'BETWEEN': {
      const high = of(filter.highValue ?? '');
      return (r) => { const v = get(r); return v !== undefined && value !== undefined && v >= value && v <= high; };
    }
    case 'IN': case 'NOT_IN': {
      const set = new Set((filter.values ?? []).map(of));
      const wanted = filter.operator === 'IN';
      return (r) => { const v = get(r); return v !== undefined ? set.has(v) === wanted : !wanted; };
    }
    case 'CONTAINS_TOKEN': case 'NOT_CONTAINS_TOKEN': {
      const token = String(filter.value ?? '').replace(/\*/g, '').toLowerCase();
      const wanted = filter.operator === 'CONTAINS_TOKEN';
      return (r) => String(r.properties[name] ?? '').toLowerCase().includes(token) === wanted;
    }
    default: return () => false;
  }
}

/** Lower bound on the modified instant implied by one group's filters (GT/GTE/EQ/BETWEEN on it). */
function groupModifiedBound(spec: ObjectSpec, filters: SearchFilter[]): number {
  let bound = -Infinity;
  for (const f of filters) {
    if (f.propertyName !== spec.modifiedField || f.value === undefined) continue;
    if (['GT', 'GTE', 'EQ', 'BETWEEN'].includes(f.operator)) {
      const ms = Number(comparable(knownProperty(spec, f.propertyName), f.value));
      if (Number.isFinite(ms)) bound = Math.max(bound, ms);
    }
  }
  return bound;
}

export function compileSearch(spec: ObjectSpec, req: SearchRequest): CompiledSearch {
  const groups = (req.filterGroups ?? []).map((g) => (g.filters ?? []));
  const compiled = groups.map((filters) => filters.map((f) => compileFilter(spec, f)));
  const query = req.query?.trim().toLowerCase();
  const matchesGroups = compiled.length === 0
    ? () => true
    : (rec: StoredRecord) => compiled.some((group) => group.every((test) => test(rec)));
  const matches = query
    ? (rec: StoredRecord) => matchesGroups(rec) && QUERY_PROPERTIES.some((p) => rec.properties[p]?.toLowerCase().includes(query))
    : matchesGroups;
  const fromModifiedMs = groups.length === 0 ? -Infinity : Math.min(...groups.map((g) => groupModifiedBound(spec, g)));
  return { matches, fromModifiedMs, sort: parseSort(req.sorts?.[0]) };
}

/**
 * All matches in result order. The index is sorted by (modified, id), so a search sorted by the
 * modified field ascending returns ties in id order; other sorts are stable over that order.
 */
export function runSearch(spec: ObjectSpec, view: readonly StoredRecord[], search: CompiledSearch, startAt: number): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (let i = startAt; i < view.length; i++) if (search.matches(view[i])) out.push(view[i]);
  const sort = search.sort;
  if (!sort || (sort.property === spec.modifiedField && !sort.descending)) return out;
  if (sort.property === spec.modifiedField) return out.reverse();
  const f = knownProperty(spec, sort.property);
  const key = (r: StoredRecord): Comparable => {
    const v = r.properties[sort.property];
    return v === null || v === undefined ? '' : comparable(f, v);
  };
  const sign = sort.descending ? -1 : 1;
  return out
    .map((rec) => ({ rec, k: key(rec) }))
    .sort((a, b) => (a.k < b.k ? -sign : a.k > b.k ? sign : a.rec.idNum - b.rec.idNum))
    .map((x) => x.rec);
}
