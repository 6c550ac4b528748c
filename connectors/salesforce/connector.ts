import { setTimeout as sleep } from 'node:timers/promises';
import jsforce from 'jsforce';
import type { Logger } from 'pino';
import { log } from '../../src/runtime/log.js';
import {
  AuthError, type CheckResult, type Connector, type Cursor, type DeleteOp, type FieldSpec, type FieldType,
  type ObjectSpec, type Page, RateLimitError, type ReadOptions, type SourceRecord, type SystemIdentity, type WriteOp, type WriteResult,
} from '../../src/sync/protocol.js';
import { countCall } from '../shared/calls.js';
import { type BulkResume, decodeCsv, decodeResume, encodeResume, fetchResultSet, type ResultSet } from './bulk.js';
import { ECOSYNC_ID_FIELD, SALESFORCE_OBJECTS } from './descriptor.js';

/**
 * Salesforce connector on jsforce 3 (REST API): SOQL reads in (SystemModstamp, Id) order with
 * server-side paging, writes through sObject Collections (≤ 200 records a call, allOrNone off),
 * upserts keyed by the external-id field ecosync owns. Full loads of large objects go through
 * Bulk API 2.0 query jobs instead (see readBulk).
 *
 * Failure policy:
 * - 401: jsforce refreshes the session (refresh token, password or client-credentials grant)
 *   and repeats the call; a refresh that fails surfaces as AuthError.
 * - 403 REQUEST_LIMIT_EXCEEDED: the org's rolling 24-hour allowance is spent. Never retried
 *   here; thrown as RateLimitError with daily = true.
 * - 5xx, lock contention on the whole call, network errors and timeouts: thrown at once as
 *   SalesforceApiError with retryable = true, for Temporal to retry the activity (the one retry
 *   policy, connectors/shared/retry.ts: Salesforce never asks for a short wait, so nothing is
 *   retried in process). Every call is safe to repeat: reads are GETs, writes are upserts by
 *   external id, updates by Id and deletes; a repeated bulk job creation at worst leaves an
 *   unused job, which Salesforce deletes after a week.
 * - Per-record errors come back as WriteResults; UNABLE_TO_LOCK_ROW is marked retryable.
 * Tokens are never logged: jsforce's own logging stays off and errors carry no credentials.
 */

export interface SalesforceConfig {
  /** https://login.salesforce.com, https://test.salesforce.com, or a My Domain URL. */
  loginUrl: string;
  instanceUrl?: string;
  clientId: string;
  clientSecret: string;
  /** From a web-server flow; preferred. */
  refreshToken?: string;
  /** OAuth username-password flow, when no refresh token is configured. */
  username?: string;
  password?: string;
  /** e.g. '62.0'. With neither refresh token nor username, the client-credentials flow is used. */
  apiVersion: string;
}

export interface SalesforceConnectorOptions {
  /** Sent as Sforce-Call-Options: client=<name>, so ecosync's own writes can be told apart. */
  client?: string;
  requestTimeoutMs?: number;
  /** Objects `discover` describes (default: Account, Contact, Opportunity). */
  objects?: string[];
  logger?: Logger;
  /** A full load of an object holding more records than this goes through a Bulk API 2.0 query job (default 10,000). */
  bulkThreshold?: number;
  /** Records per page of a bulk job's results, asked for as maxRecords (default 5,000; a read's pageSize wins). */
  bulkPageSize?: number;
  /** Waiting for a bulk job: the pause between looks at it (default 1 s) and how long to wait in all (default 5 min). */
  bulkPoll?: { intervalMs?: number; timeoutMs?: number };
}

/** A whole API call failed; `retryable` says whether repeating it later may succeed. */
export class SalesforceApiError extends Error {
  constructor(message: string, readonly errorCode: string, readonly retryable: boolean) {
    super(message);
    this.name = 'SalesforceApiError';
  }
}

const MAX_COLLECTION = 200;
const MAX_QUERY_BATCH = 2000;
const MIN_QUERY_BATCH = 200;
const BULK_THRESHOLD = 10_000;
/**
 * Records per bulk result page: the size of a REST query page, so the sync holds as much in
 * flight whichever path read (its memory does not grow with the org's size).
 */
const BULK_PAGE_SIZE = MAX_QUERY_BATCH;
/** The daily allowance is a rolling 24-hour window; try again in an hour at the earliest. */
const DAILY_LIMIT_RETRY_MS = 60 * 60_000;

const TRANSIENT_CODES = new Set([
  'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'REQUEST_RUNNING_TOO_LONG', 'UNABLE_TO_LOCK_ROW',
  'ERROR_HTTP_500', 'ERROR_HTTP_502', 'ERROR_HTTP_503', 'ERROR_HTTP_504',
]);
const RETRYABLE_RECORD_CODES = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'REQUEST_RUNNING_TOO_LONG']);
const AUTH_CODES = new Set(['INVALID_SESSION_ID', 'invalid_grant', 'invalid_client_id', 'invalid_client', 'unsupported_grant_type', 'INVALID_AUTH_HEADER']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

type Failure = 'rateLimit' | 'auth' | 'transient' | 'fatal';

function errorCode(e: unknown): string {
  const x = e as { errorCode?: unknown; name?: unknown; cause?: { code?: unknown; cause?: { code?: unknown } } };
  if (typeof x?.errorCode === 'string') return x.errorCode;
  const cause = x?.cause?.code ?? x?.cause?.cause?.code;
  if (typeof cause === 'string') return cause;
  return typeof x?.name === 'string' ? x.name : 'ERROR';
}

export function classifyError(e: unknown): Failure {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'REQUEST_LIMIT_EXCEEDED') return 'rateLimit';
  if (AUTH_CODES.has(code) || message.startsWith('Unable to refresh session')) return 'auth';
  if (TRANSIENT_CODES.has(code) || NETWORK_CODES.has(code)) return 'transient';
  if (code === 'AbortError' || message === 'Request Timeout' || (e instanceof TypeError && message === 'fetch failed')) return 'transient';
  return 'fatal';
}

/** Salesforce datetimes (…+0000) as ISO 8601 UTC (…Z). */
function toIsoUtc(value: string): string {
  if (value.length === 28 && value.endsWith('+0000')) return `${value.slice(0, 23)}Z`;
  return new Date(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')).toISOString();
}

function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The WHERE clause that resumes strictly after a cursor. Ties on SystemModstamp are broken by Id.
 * With a lookback the reader goes back that far and re-reads (the sync layer drops what it has
 * already seen), catching records whose commit became visible after the cursor passed them.
 */
export function resumeClause(cursor: Cursor | null, lookbackMs = 0): string {
  if (!cursor) return '';
  const at = Date.parse(cursor.modifiedAt);
  if (lookbackMs > 0) return ` WHERE SystemModstamp >= ${new Date(at - lookbackMs).toISOString()}`;
  const t = new Date(at).toISOString();
  return ` WHERE (SystemModstamp > ${t}) OR (SystemModstamp = ${t} AND Id > ${soqlString(cursor.id)})`;
}

/** Field names once each: SOQL rejects a field selected twice, in any letter case. */
function uniqueFields(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => !seen.has(n.toLowerCase()) && seen.add(n.toLowerCase()));
}

function selectFrom(object: string, options: ReadOptions): string {
  const fields = uniqueFields(['Id', 'SystemModstamp', ...(options.includeDeleted ? ['IsDeleted'] : []), ...options.fields]);
  return `SELECT ${fields.join(', ')} FROM ${object}${resumeClause(options.cursor, options.lookbackMs)}`;
}

export function buildReadQuery(object: string, options: ReadOptions): string {
  return `${selectFrom(object, options)} ORDER BY SystemModstamp ASC, Id ASC`;
}

/** The same read for a Bulk API 2.0 job: unordered, since an ORDER BY would switch off its PK chunking. */
export function buildBulkQuery(object: string, options: ReadOptions): string {
  return selectFrom(object, options);
}

/** Whether record a comes after b in (modifiedAt, id) order; both times are ISO 8601 UTC with milliseconds, so text order is time order. */
function pairAfter(a: Cursor, b: Cursor): boolean {
  return a.modifiedAt > b.modifiedAt || (a.modifiedAt === b.modifiedAt && a.id > b.id);
}

/** The pair of a page that read nothing yet: before every record. */
const NOTHING_READ: Cursor = { modifiedAt: new Date(0).toISOString(), id: '' };

const FIELD_TYPES: Record<string, FieldType> = {
  id: 'id', string: 'string', textarea: 'text', email: 'email', phone: 'phone', url: 'url', double: 'number',
  int: 'integer', long: 'integer', boolean: 'boolean', date: 'date', datetime: 'datetime', currency: 'currency',
  percent: 'percent', picklist: 'picklist', multipicklist: 'multipicklist', reference: 'reference',
};

interface DescribeField {
  name: string; label?: string; type: string; length?: number; nillable: boolean; createable: boolean; updateable: boolean;
  externalId?: boolean; picklistValues?: Array<{ value: string; active?: boolean }>; referenceTo?: string[];
}

/** A describe result as the connector protocol's ObjectSpec. */
export function objectSpecFromDescribe(describe: { name: string; fields: DescribeField[] }): ObjectSpec {
  const fields: FieldSpec[] = describe.fields.map((f) => {
    const type = FIELD_TYPES[f.type] ?? 'string';
    const spec: FieldSpec = { name: f.name, type, nillable: f.nillable, createable: f.createable, updateable: f.updateable };
    if (f.label) spec.label = f.label;
    if (f.externalId) spec.externalId = true;
    if (f.length) spec.length = f.length;
    if (type === 'picklist' || type === 'multipicklist') spec.picklistValues = (f.picklistValues ?? []).filter((p) => p.active !== false).map((p) => p.value);
    if (f.referenceTo && f.referenceTo.length > 0) spec.referenceTo = f.referenceTo[0];
    return spec;
  });
  return {
    name: describe.name,
    fields,
    idField: 'Id',
    modifiedField: 'SystemModstamp',
    ...(fields.some((f) => f.name === ECOSYNC_ID_FIELD) ? { upsertKeyField: ECOSYNC_ID_FIELD } : {}),
  };
}

interface QueryResult {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Array<Record<string, unknown>>;
}

interface QueryJobInfo {
  id: string;
  state: 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed';
  errorMessage?: string;
}

interface CollectionResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors: Array<{ statusCode: string; message: string; fields?: string[] }>;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toResult(key: string, r: CollectionResult | undefined, treatAsDone: Set<string> = new Set()): WriteResult {
  if (r?.success) return { key, ok: true, externalId: r.id ?? '', created: r.created ?? false };
  const e = r?.errors?.[0] ?? { statusCode: 'MISSING_RESULT', message: 'Salesforce returned no result for this record' };
  if (r?.id && treatAsDone.has(e.statusCode)) return { key, ok: true, externalId: r.id, created: false };
  return {
    key, ok: false,
    error: { code: e.statusCode, message: e.message, ...(e.fields && e.fields.length > 0 ? { fields: e.fields } : {}) },
    retryable: RETRYABLE_RECORD_CODES.has(e.statusCode),
  };
}

export class SalesforceConnector implements Connector {
  readonly system = 'salesforce';
  private session?: Promise<jsforce.Connection>;
  private readonly log: Logger;
  /** Each object's fields by its describe, asked once: bulk CSV values take their types from it. */
  private readonly described = new Map<string, Promise<FieldSpec[]>>();

  constructor(private readonly config: SalesforceConfig, private readonly options: SalesforceConnectorOptions = {}) {
    this.log = (options.logger ?? log()).child({ system: 'salesforce' });
  }

  /** The org the credentials reach, from its Organization record: one query gives the 18-character id and the name. */
  async identify(): Promise<SystemIdentity> {
    const soql = 'SELECT Id, Name FROM Organization';
    const result = await this.request<QueryResult>('identify', { method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` });
    const org = result.records[0];
    if (!org) throw new SalesforceApiError('Salesforce returned no Organization record', 'NO_ORGANIZATION', false);
    return { instance: `salesforce:${String(org.Id)}`, label: String(org.Name) };
  }

  maxBatchSize(): number {
    return MAX_COLLECTION;
  }

  async check(): Promise<CheckResult> {
    try {
      const conn = await this.connection();
      const identity = await this.request<{ user_id: string; organization_id: string; username: string }>(
        'identity', { method: 'GET', url: conn.userInfo?.url ?? `${conn.instanceUrl}/id` });
      const limits = await this.request<{ DailyApiRequests?: { Max: number; Remaining: number } }>('limits', { method: 'GET', url: '/limits' });
      const daily = limits.DailyApiRequests;
      const apiUsage = daily ? `${daily.Max - daily.Remaining}/${daily.Max}` : 'unknown';
      return {
        ok: true,
        message: `connected to org ${identity.organization_id} as ${identity.username}; API requests used today ${apiUsage}`,
        details: { org: identity.organization_id, user: identity.user_id, username: identity.username, instanceUrl: conn.instanceUrl, apiUsage },
      };
    } catch (e) {
      return { ok: false, message: `Salesforce check failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  async discover(): Promise<ObjectSpec[]> {
    const names = this.options.objects ?? SALESFORCE_OBJECTS.map((o) => o.name);
    const specs: ObjectSpec[] = [];
    for (const name of names) {
      const describe = await this.request<{ name: string; fields: DescribeField[] }>('describe', { method: 'GET', url: `/sobjects/${name}/describe` });
      specs.push(objectSpecFromDescribe(describe));
    }
    return specs;
  }

  /**
   * Pages of records. Incremental reads and full loads of up to bulkThreshold records query the
   * REST API; a larger full load, or a cursor carrying a resume token, goes through a Bulk API 2.0
   * query job (readBulk).
   */
  async *read(object: string, options: ReadOptions): AsyncIterable<Page> {
    if (options.cursor?.resume !== undefined) {
      const resume = decodeResume(options.cursor.resume);
      if (!resume) throw new SalesforceApiError(`Salesforce read of ${object}: the cursor's resume token is not a bulk job token`, 'INVALID_RESUME_TOKEN', false);
      yield* this.readBulk(object, options, resume);
    } else if (options.cursor === null && (await this.count(object, options)) > (this.options.bulkThreshold ?? BULK_THRESHOLD)) {
      yield* this.readBulk(object, options);
    } else {
      yield* this.readRest(object, options);
    }
  }

  /** Pages of records in (SystemModstamp, Id) order, each yielded as soon as it arrives. */
  private async *readRest(object: string, options: ReadOptions): AsyncIterable<Page> {
    const soql = buildReadQuery(object, options);
    const pageSize = options.pageSize ?? MAX_QUERY_BATCH;
    const batch = Math.min(MAX_QUERY_BATCH, Math.max(MIN_QUERY_BATCH, pageSize));
    const headers: Record<string, string> = batch === MAX_QUERY_BATCH ? {} : { 'Sforce-Query-Options': `batchSize=${batch}` };
    let cursor = options.cursor;
    let result = await this.request<QueryResult>('query', {
      method: 'GET', url: `/${options.includeDeleted ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`, headers,
    });
    for (;;) {
      const records = result.records.map((r) => this.toSourceRecord(r));
      // The next batch is requested before this one is handed out, so Salesforce's latency overlaps the caller's work.
      const next = result.done || !result.nextRecordsUrl ? undefined : this.request<QueryResult>('queryMore', { method: 'GET', url: result.nextRecordsUrl, headers });
      // A prefetch the caller never asks for (it stopped early) must not become an unhandled rejection.
      next?.catch(() => undefined);
      // The API's smallest page is 200 records; smaller pages are cut here.
      for (const part of pageSize < records.length ? chunks(records, pageSize) : [records]) {
        const last = part[part.length - 1];
        if (last) cursor = { modifiedAt: last.modifiedAt, id: last.id };
        yield { records: part, cursor };
      }
      if (!next) return;
      result = await next;
    }
  }

  /** Records a read from no cursor returns (deleted ones too for includeDeleted): one SOQL COUNT(). */
  private async count(object: string, options: ReadOptions): Promise<number> {
    const soql = `SELECT COUNT() FROM ${object}`;
    const result = await this.request<QueryResult>('count', { method: 'GET', url: `/${options.includeDeleted ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}` });
    return result.totalSize;
  }

  /**
   * A read through a Bulk API 2.0 query job (queryAll with includeDeleted), one page per result
   * set. The results are unordered, so each page's cursor is the greatest (SystemModstamp, Id)
   * read so far plus a resume token: the job, the next set's locator and the cursor the job
   * started from. A read given that cursor goes on with the same job at that locator, even in
   * another process; when the job is gone (deleted, expired, failed, aborted) it starts a new job
   * from the token's start cursor, once. The last page's cursor carries no token.
   */
  private async *readBulk(object: string, options: ReadOptions, resumed?: BulkResume): AsyncIterable<Page> {
    const fields = await this.fieldSpecs(object);
    const maxRecords = options.pageSize ?? this.options.bulkPageSize ?? BULK_PAGE_SIZE;
    let greatest: Cursor | null = options.cursor && { modifiedAt: options.cursor.modifiedAt, id: options.cursor.id };
    let at: BulkResume = resumed ?? { job: await this.runQueryJob(object, options), locator: null, from: null };
    let restarted = false;
    for (;;) {
      let set: ResultSet;
      try {
        const { job, locator } = at;
        set = await this.call('bulkQuery.results', (conn, callOptions) => fetchResultSet(conn, job, locator, maxRecords, callOptions));
      } catch (e) {
        if (restarted || !(await this.jobGone(at.job, e))) throw e;
        restarted = true;
        this.log.warn({ object, job: at.job }, 'Salesforce bulk query job is gone; starting a new one from its start cursor');
        at = { job: await this.runQueryJob(object, { ...options, cursor: at.from, lookbackMs: 0 }), locator: null, from: at.from };
        continue;
      }
      const records = decodeCsv(set.csv, fields).map((r) => this.toSourceRecord(r));
      for (const r of records) if (!greatest || pairAfter(r, greatest)) greatest = { modifiedAt: r.modifiedAt, id: r.id };
      if (set.next === null) {
        yield { records, cursor: greatest };
        return;
      }
      at = { ...at, locator: set.next };
      yield { records, cursor: { ...(greatest ?? NOTHING_READ), resume: encodeResume(at) } };
    }
  }

  /** Creates the read's query job and waits until Salesforce has run it; the job's id. */
  private async runQueryJob(object: string, options: ReadOptions): Promise<string> {
    const job = await this.request<QueryJobInfo>('bulkQuery.create', {
      method: 'POST',
      url: '/jobs/query',
      body: JSON.stringify({
        operation: options.includeDeleted ? 'queryAll' : 'query', query: buildBulkQuery(object, options),
        contentType: 'CSV', columnDelimiter: 'COMMA', lineEnding: 'LF',
      }),
      headers: { 'content-type': 'application/json' },
    });
    await this.awaitJob(job.id);
    return job.id;
  }

  /** Looks at a job until it completes, for at most bulkPoll.timeoutMs; a job that fails or is aborted says so, with Salesforce's reason. */
  private async awaitJob(id: string): Promise<void> {
    const intervalMs = this.options.bulkPoll?.intervalMs ?? 1000;
    const timeoutMs = this.options.bulkPoll?.timeoutMs ?? 5 * 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.jobInfo(id);
      if (info.state === 'JobComplete') return;
      if (info.state === 'Failed' || info.state === 'Aborted') {
        const why = info.errorMessage ?? (info.state === 'Aborted' ? 'aborted' : 'Salesforce gave no reason');
        throw new SalesforceApiError(`Salesforce bulk query job ${id} ended ${info.state}: ${why}`, info.state === 'Failed' ? 'BULK_JOB_FAILED' : 'BULK_JOB_ABORTED', false);
      }
      if (Date.now() >= deadline) {
        // Nobody will come back for this job's results: stop it rather than let it run on.
        await this.request('bulkQuery.abort', {
          method: 'PATCH', url: `/jobs/query/${id}`, body: JSON.stringify({ state: 'Aborted' }), headers: { 'content-type': 'application/json' },
        }).catch(() => undefined);
        throw new SalesforceApiError(`Salesforce bulk query job ${id} did not complete within ${timeoutMs} ms (still ${info.state})`, 'BULK_JOB_TIMEOUT', true);
      }
      await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
    }
  }

  private jobInfo(id: string): Promise<QueryJobInfo> {
    return this.request<QueryJobInfo>('bulkQuery.get', { method: 'GET', url: `/jobs/query/${id}` });
  }

  /** Whether a results call failed because its job no longer serves results: deleted or expired (404), failed or aborted. */
  private async jobGone(id: string, e: unknown): Promise<boolean> {
    if (!(e instanceof SalesforceApiError) || e.retryable) return false;
    if (e.errorCode === 'NOT_FOUND') return true;
    try {
      const info = await this.jobInfo(id);
      return info.state === 'Failed' || info.state === 'Aborted';
    } catch (x) {
      return x instanceof SalesforceApiError && x.errorCode === 'NOT_FOUND';
    }
  }

  /** The object's fields as its describe gives them, asked once per object. */
  private fieldSpecs(object: string): Promise<FieldSpec[]> {
    let fields = this.described.get(object);
    if (!fields) {
      fields = this.request<{ name: string; fields: DescribeField[] }>('describe', { method: 'GET', url: `/sobjects/${object}/describe` })
        .then((d) => objectSpecFromDescribe(d).fields);
      // A failed describe is asked again next time.
      fields.catch(() => this.described.delete(object));
      this.described.set(object, fields);
    }
    return fields;
  }

  /** Current state of records by Id, 200 a query; deleted and unknown ones are left out. */
  async readByIds(object: string, ids: string[], fields: string[]): Promise<SourceRecord[]> {
    const out: SourceRecord[] = [];
    const select = uniqueFields(['Id', 'SystemModstamp', ...fields]).join(', ');
    for (const batch of chunks([...new Set(ids)], MAX_COLLECTION)) {
      const soql = `SELECT ${select} FROM ${object} WHERE Id IN (${batch.map(soqlString).join(', ')})`;
      let result = await this.request<QueryResult>('query', { method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` });
      out.push(...result.records.map((r) => this.toSourceRecord(r)));
      while (!result.done && result.nextRecordsUrl) {
        result = await this.request<QueryResult>('queryMore', { method: 'GET', url: result.nextRecordsUrl });
        out.push(...result.records.map((r) => this.toSourceRecord(r)));
      }
    }
    return out;
  }

  /**
   * Ops without a known Salesforce id are upserted by the external-id field (= op.key); ops with
   * one are updated by Id and get the key stamped into that field. ≤ 200 records a call.
   */
  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    const results = new Array<WriteResult>(ops.length);
    const indexed = ops.map((op, i) => ({ op, i }));
    const upserts = indexed.filter(({ op }) => !op.externalId);
    const updates = indexed.filter(({ op }) => op.externalId);
    const keyField = ECOSYNC_ID_FIELD;
    const fieldsOf = (op: WriteOp) => {
      const { attributes: _a, Id: _id, ...fields } = op.fields as Record<string, unknown>;
      return fields;
    };
    for (const batch of chunks(upserts, MAX_COLLECTION)) {
      const records = batch.map(({ op }) => ({ attributes: { type: object }, ...fieldsOf(op), [keyField]: op.key }));
      await this.collection(batch, results, 'composite.upsert', {
        method: 'PATCH', url: `/composite/sobjects/${object}/${keyField}`, body: JSON.stringify({ allOrNone: false, records }),
      });
    }
    for (const batch of chunks(updates, MAX_COLLECTION)) {
      const records = batch.map(({ op }) => ({ attributes: { type: object }, ...fieldsOf(op), [keyField]: op.key, id: op.externalId }));
      await this.collection(batch, results, 'composite.update', {
        method: 'PATCH', url: '/composite/sobjects', body: JSON.stringify({ allOrNone: false, records }),
      });
    }
    return results;
  }

  /** Moves records to the recycle bin; one already deleted counts as done. */
  async delete(_object: string, ops: DeleteOp[]): Promise<WriteResult[]> {
    const results = new Array<WriteResult>(ops.length);
    const indexed = ops.map((op, i) => ({ op, i }));
    for (const batch of chunks(indexed, MAX_COLLECTION)) {
      const ids = batch.map(({ op }) => encodeURIComponent(op.externalId)).join(',');
      await this.collection(batch, results, 'composite.delete', {
        method: 'DELETE', url: `/composite/sobjects?ids=${ids}&allOrNone=false`,
      }, new Set(['ENTITY_IS_DELETED']));
    }
    return results;
  }

  async close(): Promise<void> {
    this.session = undefined;
  }

  /** One collections call; a whole-call error that is neither a limit nor transient fails every record of it. */
  private async collection(
    batch: Array<{ op: { key: string }; i: number }>, results: WriteResult[], what: string,
    req: { method: 'PATCH' | 'DELETE'; url: string; body?: string }, treatAsDone?: Set<string>,
  ): Promise<void> {
    let response: CollectionResult[];
    try {
      response = await this.request<CollectionResult[]>(what, { ...req, headers: { 'content-type': 'application/json' } });
    } catch (e) {
      if (!(e instanceof SalesforceApiError) || e.retryable) throw e;
      batch.forEach(({ op, i }) => {
        results[i] = { key: op.key, ok: false, error: { code: e.errorCode, message: e.message }, retryable: false };
      });
      return;
    }
    batch.forEach(({ op, i }, k) => { results[i] = toResult(op.key, response[k], treatAsDone); });
  }

  private toSourceRecord(raw: Record<string, unknown>): SourceRecord {
    const { attributes: _a, ...fields } = raw;
    return {
      id: fields.Id as string,
      modifiedAt: toIsoUtc(fields.SystemModstamp as string),
      deleted: fields.IsDeleted === true,
      fields,
    };
  }

  /** One REST call through jsforce (auth header, session refresh, error parsing), failures typed. */
  private request<T>(what: string, req: { method: string; url: string; body?: string; headers?: Record<string, string> }): Promise<T> {
    return this.call(what, async (conn, callOptions) => (await conn.request<T>(req as Parameters<jsforce.Connection['request']>[0], callOptions)) as T);
  }

  /**
   * One call through jsforce; `send` gets the connection and jsforce's per-call options. A failure
   * is typed and thrown at once: jsforce's own retry stays off and Temporal retries the activity.
   */
  private async call<T>(what: string, send: (conn: jsforce.Connection, callOptions: { retry: { maxRetries: number }; timeout: number }) => Promise<T>): Promise<T> {
    try {
      const conn = await this.connection();
      countCall('salesforce');
      return await send(conn, { retry: { maxRetries: 0 }, timeout: this.options.requestTimeoutMs ?? 120_000 });
    } catch (e) {
      if (e instanceof AuthError) throw e;
      // A login that failed on the network comes back already wrapped.
      const failure = e instanceof SalesforceApiError ? (e.retryable ? 'transient' : 'fatal') : classifyError(e);
      const code = errorCode(e);
      const message = e instanceof Error ? e.message : String(e);
      this.log.debug({ call: what, code, failure }, 'Salesforce call failed');
      if (failure === 'rateLimit') {
        throw new RateLimitError(`Salesforce API request limit exceeded (${message})`, DAILY_LIMIT_RETRY_MS, true);
      }
      if (failure === 'auth') {
        this.session = undefined;
        throw new AuthError(`Salesforce authentication failed: ${message}`);
      }
      if (e instanceof SalesforceApiError) throw e;
      throw new SalesforceApiError(`Salesforce ${what} failed: ${code}: ${message}`, code, failure === 'transient');
    }
  }

  private connection(): Promise<jsforce.Connection> {
    this.session ??= this.login().catch((e: unknown) => {
      this.session = undefined;
      const failure = classifyError(e);
      if (failure === 'transient') throw new SalesforceApiError(`Salesforce login failed: ${e instanceof Error ? e.message : String(e)}`, errorCode(e), true);
      throw new AuthError(`Salesforce login failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    return this.session;
  }

  private async login(): Promise<jsforce.Connection> {
    const c = this.config;
    const base = {
      oauth2: { loginUrl: c.loginUrl, clientId: c.clientId, clientSecret: c.clientSecret },
      version: c.apiVersion,
      callOptions: { client: this.options.client ?? 'ecosync' },
      // jsforce's debug log prints request URLs and SOAP bodies that can carry session ids.
      logLevel: 'NONE' as const,
      ...(c.instanceUrl ? { instanceUrl: c.instanceUrl } : {}),
    };
    if (c.refreshToken) {
      // jsforce refreshes with this token on every 401 (its OAuth2 refresh function).
      const conn = new jsforce.Connection({ ...base, refreshToken: c.refreshToken });
      await conn.authorize({ grant_type: 'refresh_token', refresh_token: c.refreshToken });
      return conn;
    }
    if (c.username && c.password) {
      // login() installs a refresh function that logs in again on 401.
      const conn = new jsforce.Connection(base);
      await conn.login(c.username, c.password);
      return conn;
    }
    const conn = new jsforce.Connection({
      ...base,
      refreshFn: (cn, callback) => {
        cn.authorize({ grant_type: 'client_credentials' })
          .then(() => callback(null, cn.accessToken ?? undefined))
          .catch((e: Error) => callback(e));
      },
    });
    await conn.authorize({ grant_type: 'client_credentials' });
    return conn;
  }
}

export function createSalesforceConnector(config: SalesforceConfig, options?: SalesforceConnectorOptions): SalesforceConnector {
  return new SalesforceConnector(config, options);
}
