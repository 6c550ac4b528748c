import { Client } from '@hubspot/api-client';
import type {
  CheckResult, Connector, Cursor, DeleteOp, FieldSpec, FieldType, ObjectSpec, Page, ReadOptions, SourceRecord, SystemIdentity, WriteOp, WriteResult,
} from '../../src/sync/protocol.js';
import { countCall } from '../shared/calls.js';
import type { RetryLimits } from '../shared/retry.js';
import { callHubSpot, HUBSPOT_RETRY, HubSpotRequestError, RatePacer, sharedPacer } from './calls.js';
import { DEAL_COMPANY_FIELD, HUBSPOT_OBJECTS, hubspotObject } from './descriptor.js';
import { filterGroupsFrom, mustRepartition, SEARCH_PAGE_LIMIT, startFromCursor, toIsoInstant, type SearchStart } from './search-plan.js';
import { failAll, isInvalidValue, matchWriteResults, writeErrorOf, type BatchErrorObject, type BatchInputRef, type BatchResultObject } from './write-results.js';

/**
 * HubSpot CRM connector on the official @hubspot/api-client: incremental reads through search
 * (partitioned past the 10,000-result cap), batch upserts by ecosync_id, deal→company
 * associations through the v4 API, the portal's identity through the account details API.
 */
export interface HubSpotConfig {
  /** Private app token or OAuth access token. */
  accessToken: string;
  /** API origin; https://api.hubapi.com when absent (a sandbox URL in tests and demos). */
  basePath?: string;
}

export interface HubSpotConnectorOptions {
  /** Attempts and in-process waits for ten-secondly 429s (HUBSPOT_RETRY when absent). */
  retry?: Partial<RetryLimits>;
  /** Paces calls to the rate window; the process's pacer for these credentials when absent. */
  pacer?: RatePacer;
}

export const HUBSPOT_BATCH_LIMIT = 100;
const LIST_PAGE_LIMIT = 100;

type Properties = Record<string, string | null>;

interface SdkObject {
  id: string;
  properties: Properties;
  updatedAt?: Date;
  archivedAt?: Date;
}

interface SdkBatchResponse {
  results: BatchResultObject[];
  errors?: BatchErrorObject[];
}

/** The slice of the SDK's per-object discovery (companies, contacts, deals) the connector uses. */
interface ObjectApis {
  basicApi: {
    getPage(limit?: number, after?: string, properties?: string[], propertiesWithHistory?: string[], associations?: string[], archived?: boolean): Promise<{ results: SdkObject[]; paging?: { next?: { after?: string } } }>;
    getPageWithHttpInfo(limit?: number): Promise<{ headers: Record<string, string> }>;
  };
  batchApi: {
    read(input: unknown, archived?: boolean): Promise<{ results: SdkObject[] }>;
    upsert(input: unknown): Promise<SdkBatchResponse>;
    update(input: unknown): Promise<SdkBatchResponse>;
    archive(input: unknown): Promise<void>;
  };
  searchApi: {
    doSearch(request: unknown): Promise<{ total: number; results: SdkObject[]; paging?: { next?: { after?: string } } }>;
  };
}

/** Associations v4; the SDK's models call the wire's `from` `_from`. */
interface AssociationApis {
  batchApi: {
    getPage(from: string, to: string, input: unknown): Promise<{ results: { _from: { id: string }; to: { toObjectId: string | number }[] }[]; errors?: BatchErrorObject[] }>;
    createDefault(from: string, to: string, input: unknown): Promise<{ errors?: BatchErrorObject[] }>;
  };
}

/** GET /account-info/v3/details, the fields the connector reads. */
interface AccountDetails {
  portalId?: number | string;
  uiDomain?: string;
}

/**
 * A non-2xx answer to the SDK's generic apiRequest (which, being fetch, does not throw), shaped
 * like the SDK's ApiException (code, body, headers) so classify() treats it as any other call.
 */
class ApiRequestFailed extends Error {
  constructor(readonly code: number, readonly body: unknown, readonly headers: Record<string, string>) {
    super(`HTTP-Code: ${code}`);
    this.name = 'ApiRequestFailed';
  }
}

interface SearchQuery {
  spec: ObjectSpec;
  apis: ObjectApis;
  wantsCompany: boolean;
  properties: string[];
  limit: number;
}

interface SearchPage {
  records: SourceRecord[];
  cursor: Cursor | null;
  next?: { start: SearchStart | null; after: number };
}

export class HubSpotConnector implements Connector {
  readonly system = 'hubspot';
  private readonly client: Client;
  private readonly objects: Record<string, ObjectApis>;
  private readonly associations: AssociationApis;
  private readonly properties: { coreApi: { getAll(objectType: string): Promise<{ results: HubSpotProperty[] }> } };
  private readonly limits: RetryLimits;
  private readonly pacer: RatePacer;

  constructor(config: HubSpotConfig, options: HubSpotConnectorOptions = {}) {
    this.pacer = options.pacer ?? sharedPacer(config.basePath, config.accessToken);
    // Every request waits for room in the rate window right before it goes out (the nearer the
    // send, the nearer our clock is to HubSpot's count); every response, 429s included, passes its
    // X-HubSpot-RateLimit-* headers to the pacer.
    const pacer = this.pacer;
    const pacing = {
      pre: async (context: unknown) => {
        await pacer.acquire();
        return context;
      },
      post: (context: unknown) => {
        pacer.observe((context as { headers?: Record<string, string> }).headers);
        return context;
      },
    };
    // numberOfApiCallRetries stays 0: retries are ours (see calls.ts). The SDK installs decorators
    // through a process-wide singleton when the API objects are built, so build them right away.
    const client = new Client({ accessToken: config.accessToken, basePath: config.basePath, numberOfApiCallRetries: 0, middleware: [pacing] });
    this.client = client;
    const crm = client.crm;
    this.objects = {
      companies: crm.companies as unknown as ObjectApis,
      contacts: crm.contacts as unknown as ObjectApis,
      deals: crm.deals as unknown as ObjectApis,
    };
    this.associations = crm.associations.v4 as unknown as AssociationApis;
    this.properties = crm.properties as unknown as HubSpotConnector['properties'];
    this.limits = { ...HUBSPOT_RETRY, ...options.retry };
  }

  maxBatchSize(): number {
    return HUBSPOT_BATCH_LIMIT;
  }

  async check(): Promise<CheckResult> {
    try {
      const info = await this.call(() => this.apis('companies').basicApi.getPageWithHttpInfo(1));
      const daily = info.headers['x-hubspot-ratelimit-daily'];
      const remaining = info.headers['x-hubspot-ratelimit-daily-remaining'];
      const details: Record<string, string> = {};
      if (daily && remaining) details.apiUsage = `${Number(daily) - Number(remaining)}/${daily}`;
      return { ok: true, message: 'Connected to HubSpot', details };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * The portal the token reaches: `hubspot:<portal id>` from the account details API (the SDK has
   * no client for it, so through its generic call). uiDomain names the data centre's app
   * (app.hubspot.com, app-eu1.hubspot.com), not the portal, so the label carries the id too.
   */
  async identify(): Promise<SystemIdentity> {
    const details = await this.getJson<AccountDetails>('/account-info/v3/details');
    const portalId = details?.portalId;
    if ((typeof portalId !== 'number' && typeof portalId !== 'string') || !/^\d+$/.test(String(portalId))) {
      throw new Error(`HubSpot account details have no portal id (portalId ${JSON.stringify(portalId)})`);
    }
    const uiDomain = typeof details.uiDomain === 'string' && details.uiDomain !== '' ? details.uiDomain : undefined;
    return { instance: `hubspot:${portalId}`, label: uiDomain ? `portal ${portalId} (${uiDomain})` : `portal ${portalId}` };
  }

  async discover(): Promise<ObjectSpec[]> {
    const specs: ObjectSpec[] = [];
    for (const known of HUBSPOT_OBJECTS) {
      const { results } = await this.call(() => this.properties.coreApi.getAll(known.name));
      specs.push(specFromProperties(known, results));
    }
    return specs;
  }

  async *read(object: string, options: ReadOptions): AsyncIterable<Page> {
    const spec = hubspotObject(object);
    const query: SearchQuery = {
      spec,
      apis: this.apis(object),
      wantsCompany: object === 'deals' && options.fields.includes(DEAL_COMPANY_FIELD),
      properties: [...new Set([...options.fields.filter((f) => !f.startsWith('associations.')), spec.idField, spec.modifiedField])],
      limit: Math.max(1, Math.min(options.pageSize ?? SEARCH_PAGE_LIMIT, SEARCH_PAGE_LIMIT)),
    };
    const start = startFromCursor(options.cursor, options.lookbackMs);
    let cursor: Cursor | null = options.cursor;
    // The next page is requested before this one is handed out, so HubSpot's latency overlaps the caller's work.
    let pending: Promise<SearchPage> | undefined = this.searchPage(query, start, 0);
    while (pending) {
      const page: SearchPage = await pending;
      pending = page.next ? this.searchPage(query, page.next.start, page.next.after) : undefined;
      // A prefetch the caller never asks for (it stopped early) must not become an unhandled rejection.
      pending?.catch(() => undefined);
      if (page.records.length === 0) break;
      cursor = page.cursor;
      yield { records: page.records, cursor };
    }
    if (options.includeDeleted) yield* this.readArchived(object, query.properties, start?.modifiedMs ?? -Infinity, cursor);
  }

  /** One search page, and where the next one starts: the same query further on, or a new partition past the cap. */
  private async searchPage(q: SearchQuery, start: SearchStart | null, after: number): Promise<SearchPage> {
    const request = {
      filterGroups: filterGroupsFrom(q.spec, start),
      sorts: [{ propertyName: q.spec.modifiedField, direction: 'ASCENDING' }],
      properties: q.properties,
      limit: q.limit,
      after: String(after),
    };
    const res = await this.call(() => q.apis.searchApi.doSearch(request));
    const records = res.results.map((r) => toSourceRecord(q.spec, r, false));
    if (records.length === 0) return { records, cursor: null };
    if (q.wantsCompany) await this.fillDealCompanies(records);
    const last = records[records.length - 1];
    const cursor = { modifiedAt: last.modifiedAt, id: last.id };
    const nextAfter = res.paging?.next?.after;
    if (!nextAfter) return { records, cursor };
    // The next page would pass the 10,000-result cap: a new query strictly after the last record seen.
    const next = mustRepartition(Number(nextAfter), q.limit)
      ? { start: { modifiedMs: Date.parse(cursor.modifiedAt), id: cursor.id }, after: 0 }
      : { start, after: Number(nextAfter) };
    return { records, cursor, next };
  }

  /** Current state of records by HubSpot id: batch read, ≤100 ids a call; missing or archived ids are left out. */
  async readByIds(object: string, ids: string[], fields: string[]): Promise<SourceRecord[]> {
    const spec = hubspotObject(object);
    const apis = this.apis(object);
    const properties = [...new Set([...fields.filter((f) => !f.startsWith('associations.')), spec.idField, spec.modifiedField])];
    const out: SourceRecord[] = [];
    for (let i = 0; i < ids.length; i += HUBSPOT_BATCH_LIMIT) {
      const chunk = ids.slice(i, i + HUBSPOT_BATCH_LIMIT);
      const res = await this.call(() => apis.batchApi.read({ inputs: chunk.map((id) => ({ id })), properties }));
      const records = res.results.map((r) => toSourceRecord(spec, r, false));
      if (records.length > 0 && object === 'deals' && fields.includes(DEAL_COMPANY_FIELD)) await this.fillDealCompanies(records);
      out.push(...records);
    }
    return out;
  }

  /** Archived records never appear in search; the list API returns them with archived=true. */
  private async *readArchived(object: string, properties: string[], sinceMs: number, cursor: Cursor | null): AsyncIterable<Page> {
    const spec = hubspotObject(object);
    const apis = this.apis(object);
    let after: string | undefined;
    do {
      const res = await this.call(() => apis.basicApi.getPage(LIST_PAGE_LIMIT, after, properties, undefined, undefined, true));
      const records = res.results
        .filter((r) => (r.archivedAt?.getTime() ?? Infinity) >= sinceMs)
        .map((r) => toSourceRecord(spec, r, true));
      if (records.length > 0) yield { records, cursor };
      after = res.paging?.next?.after;
    } while (after);
  }

  /** Fills `associations.companies` with the first associated company, one v4 batch read per page. */
  private async fillDealCompanies(records: SourceRecord[]): Promise<void> {
    const res = await this.call(() => this.associations.batchApi.getPage('deals', 'companies', { inputs: records.map((r) => ({ id: r.id })) }));
    const company = new Map<string, string>();
    for (const r of res.results) if (r.to.length > 0) company.set(String(r._from.id), String(r.to[0].toObjectId));
    for (const rec of records) rec.fields[DEAL_COMPANY_FIELD] = company.get(rec.id) ?? null;
  }

  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    const spec = hubspotObject(object);
    const apis = this.apis(object);
    const outcome = new Map<string, WriteResult>();
    for (let i = 0; i < ops.length; i += HUBSPOT_BATCH_LIMIT) {
      const chunk = ops.slice(i, i + HUBSPOT_BATCH_LIMIT);
      const updates = chunk.filter((op) => op.externalId);
      const upserts = chunk.filter((op) => !op.externalId);
      const results: WriteResult[] = [];
      if (updates.length > 0) {
        const toInput = (op: WriteOp) => ({ id: op.externalId!, properties: { ...toProperties(op.fields), [spec.upsertKeyField!]: op.key }, objectWriteTraceId: op.key });
        results.push(...await this.batchWrite(updates, (op) => op.externalId!, (part) => apis.batchApi.update({ inputs: part.map(toInput) }), (r) => r.id));
      }
      if (upserts.length > 0) {
        const toInput = (op: WriteOp) => ({ id: op.key, idProperty: spec.upsertKeyField!, properties: toProperties(op.fields), objectWriteTraceId: op.key });
        results.push(...await this.batchWrite(upserts, (op) => op.key, (part) => apis.batchApi.upsert({ inputs: part.map(toInput) }), (r) => r.properties?.[spec.upsertKeyField!] ?? undefined));
      }
      if (object === 'deals') await this.writeDealCompanies(chunk, results);
      for (const r of results) outcome.set(r.key, r);
    }
    return ops.map((op) => outcome.get(op.key)!);
  }

  /**
   * One batch call, results matched back to ops. When HubSpot refuses the whole batch because some
   * input has an invalid value (its batch create/update can be all-or-nothing), the batch is split
   * in halves until the bad records stand alone: they fail with their reason, the rest land.
   */
  private async batchWrite(
    ops: WriteOp[],
    inputId: (op: WriteOp) => string,
    send: (part: WriteOp[]) => Promise<SdkBatchResponse>,
    resultKey: (r: BatchResultObject) => string | undefined,
  ): Promise<WriteResult[]> {
    const refs: BatchInputRef[] = ops.map((op) => ({ key: op.key, traceId: op.key, id: inputId(op) }));
    try {
      const res = await this.call(() => send(ops));
      return matchWriteResults(refs, res.results, res.errors ?? [], resultKey);
    } catch (error) {
      if (!(error instanceof HubSpotRequestError)) throw error;
      if (ops.length > 1 && isInvalidValue(error.body)) {
        const half = Math.ceil(ops.length / 2);
        return [
          ...await this.batchWrite(ops.slice(0, half), inputId, send, resultKey),
          ...await this.batchWrite(ops.slice(half), inputId, send, resultKey),
        ];
      }
      // Refused for a reason that concerns every input (shape, non-unique idProperty...): all fail with it.
      return failAll(refs.map((r) => r.key), writeErrorOf(error.body).error, false);
    }
  }

  /** Writes each written deal's company as the default association, one v4 batch call per chunk. */
  private async writeDealCompanies(ops: WriteOp[], results: WriteResult[]): Promise<void> {
    const wanted = new Map(ops.map((op) => [op.key, op.fields[DEAL_COMPANY_FIELD]]));
    const pairs: { key: string; dealId: string; companyId: string }[] = [];
    for (const r of results) {
      const company = wanted.get(r.key);
      if (r.ok && company !== undefined && company !== null && company !== '') pairs.push({ key: r.key, dealId: r.externalId, companyId: String(company) });
    }
    if (pairs.length === 0) return;
    let errors: BatchErrorObject[];
    try {
      const res = await this.call(() => this.associations.batchApi.createDefault('deals', 'companies', {
        inputs: pairs.map((p) => ({ _from: { id: p.dealId }, to: { id: p.companyId } })),
      }));
      errors = res.errors ?? [];
    } catch (error) {
      if (!(error instanceof HubSpotRequestError)) throw error;
      errors = [{ ...error.body, context: { fromObjectId: pairs.map((p) => p.dealId) } }];
    }
    const keyOfDeal = new Map(pairs.map((p) => [p.dealId, p.key]));
    for (const e of errors) {
      const { error, retryable } = writeErrorOf(e);
      for (const dealId of e.context?.fromObjectId ?? []) {
        const key = keyOfDeal.get(dealId);
        const at = results.findIndex((r) => r.key === key);
        if (at >= 0) results[at] = { key: key!, ok: false, retryable, error: { ...error, fields: [DEAL_COMPANY_FIELD] } };
      }
    }
  }

  async delete(object: string, ops: DeleteOp[]): Promise<WriteResult[]> {
    const apis = this.apis(object);
    const results: WriteResult[] = [];
    for (let i = 0; i < ops.length; i += HUBSPOT_BATCH_LIMIT) {
      const chunk = ops.slice(i, i + HUBSPOT_BATCH_LIMIT);
      try {
        await this.call(() => apis.batchApi.archive({ inputs: chunk.map((op) => ({ id: op.externalId })) }));
        results.push(...chunk.map((op): WriteResult => ({ key: op.key, ok: true, externalId: op.externalId, created: false })));
      } catch (error) {
        if (!(error instanceof HubSpotRequestError)) throw error;
        results.push(...failAll(chunk.map((op) => op.key), writeErrorOf(error.body).error, false));
      }
    }
    return results;
  }

  private apis(object: string): ObjectApis {
    const apis = this.objects[object];
    if (!apis) throw new Error(`unknown HubSpot object "${object}"`);
    return apis;
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callHubSpot(() => { countCall('hubspot'); return fn(); }, this.limits, this.pacer);
  }

  /**
   * A GET through the SDK's generic apiRequest (its auth and base path), for APIs it has no client
   * for, under the same retries as every call. That path skips the SDK's middleware, so the call
   * waits for the pacer and shows it the rate-limit headers here.
   */
  private getJson<T>(path: string): Promise<T> {
    return this.call(async () => {
      await this.pacer.acquire();
      const res = await this.client.apiRequest({ method: 'GET', path });
      const headers = Object.fromEntries(res.headers);
      this.pacer.observe(headers);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON: kept as text, for the error message.
      }
      if (!res.ok) throw new ApiRequestFailed(res.status, body, headers);
      return body as T;
    });
  }
}

export function createHubSpotConnector(config: HubSpotConfig, options?: HubSpotConnectorOptions): HubSpotConnector {
  return new HubSpotConnector(config, options);
}

function toSourceRecord(spec: ObjectSpec, r: SdkObject, deleted: boolean): SourceRecord {
  const modified = deleted && r.archivedAt ? r.archivedAt.toISOString() : toIsoInstant(r.properties[spec.modifiedField] ?? r.updatedAt?.toISOString());
  return { id: r.id, modifiedAt: modified, deleted, fields: { ...r.properties } };
}

/** Every property value is a string on HubSpot's wire; an empty string clears a value. */
export function toProperties(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name.startsWith('associations.')) continue;
    out[name] = toWireValue(value);
  }
  return out;
}

function toWireValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

interface HubSpotProperty {
  name: string;
  label?: string;
  type: string;
  fieldType: string;
  hasUniqueValue?: boolean;
  calculated?: boolean;
  options?: { value: string }[];
  modificationMetadata?: { readOnlyValue?: boolean };
}

function fieldType(p: HubSpotProperty): FieldType {
  switch (p.type) {
    case 'number': return 'number';
    case 'datetime': return 'datetime';
    case 'date': return 'date';
    case 'bool': return 'boolean';
    case 'enumeration': return p.fieldType === 'checkbox' ? 'multipicklist' : 'picklist';
    default: return p.fieldType === 'textarea' ? 'text' : p.fieldType === 'phonenumber' ? 'phone' : 'string';
  }
}

/**
 * The portal's properties as an ObjectSpec. Properties the descriptor knows keep its richer type
 * (email, url, reference, the id); the portal's option lists win, since admins edit them.
 */
export function specFromProperties(known: ObjectSpec, properties: HubSpotProperty[]): ObjectSpec {
  const described = new Map(known.fields.map((f) => [f.name, f]));
  const fields: FieldSpec[] = properties.map((p) => {
    const writable = !(p.modificationMetadata?.readOnlyValue ?? false) && !p.calculated;
    const live: FieldSpec = {
      name: p.name, type: fieldType(p), label: p.label, nillable: true, createable: writable, updateable: writable,
      ...(p.hasUniqueValue ? { externalId: true } : {}),
      ...(p.options && p.options.length > 0 ? { picklistValues: p.options.map((o) => o.value) } : {}),
    };
    const d = described.get(p.name);
    return d ? { ...d, label: live.label ?? d.label, ...(live.picklistValues ? { picklistValues: live.picklistValues } : {}) } : live;
  });
  const names = new Set(fields.map((f) => f.name));
  for (const f of known.fields) if (!names.has(f.name) && f.name.startsWith('associations.')) fields.push(f);
  return { ...known, fields };
}
