import type { FieldSpec } from '../../../src/sync/protocol.js';
import { makeId } from './ids.js';
import { OrgError, type SalesforceOrg, type Version } from './org.js';
import { bindQuery, type BoundQuery, formatSfDateTime, parseSoql, soqlConstructs, SoqlError } from './soql.js';

/**
 * Bulk API 2.0 query jobs (/jobs/query) over the sandbox org: the same SOQL engine as the REST
 * query, results as CSV in sets addressed by locators. A job runs when it is first looked at
 * after `pollsBeforeComplete` looks, so a client's polling is exercised without wall-clock waits.
 * Results are a snapshot taken when the job completes, in Id order (what PK chunking yields),
 * never in SystemModstamp order: clients must not rely on any order.
 */

export type QueryJobState = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed';

export interface BulkQueryOptions {
  /** The user the sandbox's sessions act as: every job's createdById. */
  userId: string;
  now: () => number;
  /** Looks at a job (GET /jobs/query/<id>) that find it still in progress before it completes (default 0). */
  pollsBeforeComplete?: number;
}

const DELIMITERS: Record<string, string> = { BACKQUOTE: '`', CARET: '^', COMMA: ',', PIPE: '|', SEMICOLON: ';', TAB: '\t' };
const LINE_ENDINGS: Record<string, string> = { LF: '\n', CRLF: '\r\n' };
/** Records in one result set when the client does not say (Salesforce sizes sets by bytes; this is in that range). */
const DEFAULT_SET_SIZE = 100_000;
/** Jobs per page of GET /jobs/query, as Salesforce pages them. */
const LIST_PAGE = 1000;

interface QueryJob {
  id: string;
  operation: 'query' | 'queryAll';
  bound: BoundQuery;
  columnDelimiter: string;
  lineEnding: string;
  apiVersion: number;
  createdDate: number;
  systemModstamp: number;
  state: QueryJobState;
  pollsLeft: number;
  /** Set once the job completes. */
  results?: Version[];
  errorMessage?: string;
}

export interface ResultSet {
  csv: string;
  /** Locator of the next set; the string 'null' after the last. */
  locator: string;
  count: number;
}

function invalidJob(message: string): OrgError {
  return new OrgError(400, 'INVALIDJOB', message);
}

/** Salesforce's locators are opaque strings; like its own ("MTAwMDA"), these are the base64 of the set's first row. */
function encodeLocator(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

function decodeLocator(locator: string): number {
  const offset = Number(Buffer.from(locator, 'base64url').toString('utf8'));
  if (!/^[A-Za-z0-9_-]+$/.test(locator) || !Number.isInteger(offset) || offset < 0) {
    throw new OrgError(400, 'INVALID_QUERY_LOCATOR', `invalid locator: ${locator}`);
  }
  return offset;
}

/** One value as Salesforce writes it in CSV: quoted, null as an empty field, ISO datetimes, true/false, plain numbers. */
function csvValue(value: unknown, field: FieldSpec): string {
  if (value === null || value === undefined) return '';
  const text = field.type === 'datetime' && typeof value === 'number' ? new Date(value).toISOString() : String(value);
  return `"${text.replace(/"/g, '""')}"`;
}

/** Why Bulk API 2.0 refuses a query it could parse, in its words; undefined when it takes it. */
function bulkRefusal(soql: string): string | undefined {
  let found;
  try {
    found = soqlConstructs(soql);
  } catch {
    return undefined; // the parser reports malformed text itself
  }
  if (found.aggregate || found.subquery || found.groupBy) return 'Aggregate Relationships not supported in Bulk Query';
  if (found.offset) return 'OFFSET clause is not supported in Bulk Query';
  if (found.typeOf) return 'TYPEOF clause is not supported in Bulk Query';
  return undefined;
}

function upperSnake(state: QueryJobState): string {
  return state.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

export class BulkQueryJobs {
  private readonly jobs = new Map<string, QueryJob>();
  private readonly failures: string[] = [];
  private serial = 0;

  constructor(private readonly org: SalesforceOrg, private readonly options: BulkQueryOptions) {}

  /** POST /jobs/query. */
  create(body: unknown, version: string): Record<string, unknown> {
    const b = (body ?? {}) as Record<string, unknown>;
    if (b.operation !== 'query' && b.operation !== 'queryAll') throw invalidJob(`Invalid operation: ${String(b.operation)}; a query job's operation is query or queryAll`);
    if (typeof b.query !== 'string' || b.query.trim() === '') throw invalidJob('A query job needs a query');
    if (b.contentType !== undefined && b.contentType !== 'CSV') throw invalidJob(`Invalid contentType: ${String(b.contentType)}; the only supported value is CSV`);
    const columnDelimiter = (b.columnDelimiter ?? 'COMMA') as string;
    if (!(columnDelimiter in DELIMITERS)) throw invalidJob(`Invalid columnDelimiter: ${columnDelimiter}`);
    const lineEnding = (b.lineEnding ?? 'LF') as string;
    if (!(lineEnding in LINE_ENDINGS)) throw invalidJob(`Invalid lineEnding: ${lineEnding}`);
    const refusal = bulkRefusal(b.query);
    if (refusal) throw new OrgError(400, 'API_ERROR', refusal);
    const at = this.options.now();
    const job: QueryJob = {
      id: makeId('750', ++this.serial),
      operation: b.operation,
      bound: this.bind(b.query),
      columnDelimiter,
      lineEnding,
      apiVersion: Number(version),
      createdDate: at,
      systemModstamp: at,
      state: 'UploadComplete',
      pollsLeft: this.options.pollsBeforeComplete ?? 0,
    };
    this.jobs.set(job.id, job);
    return this.summary(job);
  }

  /** GET /jobs/query: every query job, a thousand a page. */
  list(params: URLSearchParams, version: string): Record<string, unknown> {
    const jobType = params.get('jobType');
    // Only Bulk API (1.0) jobs use PK chunking headers, and the sandbox runs no such jobs.
    const none = (jobType && jobType !== 'V2Query') || params.get('isPkChunkingEnabled') === 'true';
    const all = none ? [] : [...this.jobs.values()];
    const locator = params.get('queryLocator');
    const start = locator ? decodeLocator(locator) : 0;
    const end = start + LIST_PAGE;
    const done = end >= all.length;
    return {
      done,
      records: all.slice(start, end).map((job) => ({ ...this.summary(job), jobType: 'V2Query' })),
      nextRecordsUrl: done ? null : `/services/data/v${version}/jobs/query?queryLocator=${encodeLocator(end)}`,
    };
  }

  /** GET /jobs/query/<id>: looking at a job is what moves it along. */
  info(id: string): Record<string, unknown> {
    const job = this.job(id);
    this.advance(job);
    return {
      ...this.summary(job),
      jobType: 'V2Query',
      numberRecordsProcessed: job.results?.length ?? 0,
      retries: 0,
      totalProcessingTime: job.state === 'JobComplete' ? job.systemModstamp - job.createdDate : 0,
      isPkChunkingSupported: true,
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
    };
  }

  /** GET /jobs/query/<id>/results: one set of at most maxRecords rows, header first. */
  results(id: string, params: URLSearchParams): ResultSet {
    const job = this.job(id);
    if (job.state !== 'JobComplete' || !job.results) {
      throw new OrgError(412, 'JOB_NOT_COMPLETE', `can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: ${upperSnake(job.state)}`);
    }
    const locator = params.get('locator');
    const start = locator ? decodeLocator(locator) : 0;
    const maxText = params.get('maxRecords');
    const max = maxText === null ? DEFAULT_SET_SIZE : Number(maxText);
    if (!Number.isInteger(max) || max < 1) throw new OrgError(400, 'API_ERROR', `maxRecords must be a positive integer: ${maxText}`);
    const rows = job.results.slice(start, start + max);
    const end = start + rows.length;
    const spec = job.bound.spec;
    const fields = job.bound.select.map((name) => spec.fields.find((f) => f.name === name)!);
    const delimiter = DELIMITERS[job.columnDelimiter];
    const lines = [fields.map((f) => `"${f.name}"`).join(delimiter)];
    for (const v of rows) lines.push(fields.map((f) => csvValue(v.fields[f.name], f)).join(delimiter));
    const eol = LINE_ENDINGS[job.lineEnding];
    return { csv: lines.join(eol) + eol, locator: end < job.results.length ? encodeLocator(end) : 'null', count: rows.length };
  }

  /** PATCH /jobs/query/<id> with {state: 'Aborted'}: the only change a client may make to a query job. */
  abort(id: string, body: unknown): Record<string, unknown> {
    const job = this.job(id);
    const state = (body as { state?: unknown } | null)?.state;
    if (state !== 'Aborted') throw new OrgError(400, 'INVALIDJOBSTATE', `Invalid state: ${String(state)}; a query job can only be set to Aborted`);
    if (job.state !== 'UploadComplete' && job.state !== 'InProgress') {
      throw new OrgError(400, 'INVALIDJOBSTATE', `Job ${id} is ${job.state} and can no longer be aborted`);
    }
    this.finish(job, 'Aborted');
    return this.summary(job);
  }

  /** DELETE /jobs/query/<id>: allowed once the job is not running. */
  remove(id: string): void {
    const job = this.job(id);
    if (job.state === 'InProgress') throw new OrgError(400, 'INVALIDJOBSTATE', `Job ${id} is in progress; abort it before deleting it`);
    this.jobs.delete(id);
  }

  // ------------------------------------------------------------------ for tests

  ids(): string[] {
    return [...this.jobs.keys()];
  }

  /** Makes a job fail, as a query timeout or an internal error would. */
  fail(id: string, errorMessage: string): void {
    const job = this.job(id);
    job.errorMessage = errorMessage;
    this.finish(job, 'Failed');
  }

  /** Makes the next job to run fail with this message instead of completing. */
  failNext(errorMessage: string): void {
    this.failures.push(errorMessage);
  }

  /** Drops a job whatever its state, as Salesforce does once its results expire. */
  forget(id: string): void {
    this.jobs.delete(id);
  }

  // ------------------------------------------------------------------ internals

  private job(id: string): QueryJob {
    const job = this.jobs.get(id);
    if (!job) throw new OrgError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  }

  /** The query checked and compiled by the REST query's engine, so both APIs accept and answer the same. */
  private bind(soql: string): BoundQuery {
    try {
      const parsed = parseSoql(soql);
      return bindQuery(parsed, this.org.spec(parsed.object));
    } catch (e) {
      if (e instanceof SoqlError) throw new OrgError(400, e.errorCode, e.message);
      if (e instanceof OrgError) throw new OrgError(400, 'INVALID_TYPE', `sObject type '${/FROM\s+(\w+)/i.exec(soql)?.[1] ?? ''}' is not supported.`);
      throw e;
    }
  }

  private advance(job: QueryJob): void {
    if (job.state !== 'UploadComplete' && job.state !== 'InProgress') return;
    if (job.pollsLeft > 0) {
      job.pollsLeft--;
      job.state = 'InProgress';
      job.systemModstamp = this.options.now();
      return;
    }
    const failure = this.failures.shift();
    if (failure !== undefined) {
      this.fail(job.id, failure);
      return;
    }
    const matches = this.org.query(job.bound, job.operation === 'queryAll');
    // Without ORDER BY the rows come chunk by chunk of Id ranges, not by modification time.
    job.results = job.bound.compare ? matches : [...matches].sort((a, b) => ((a.fields.Id as string) < (b.fields.Id as string) ? -1 : 1));
    this.finish(job, 'JobComplete');
  }

  private finish(job: QueryJob, state: QueryJobState): void {
    job.state = state;
    job.systemModstamp = Math.max(job.createdDate, this.options.now());
  }

  private summary(job: QueryJob): Record<string, unknown> {
    return {
      id: job.id,
      operation: job.operation,
      object: job.bound.spec.name,
      createdById: this.options.userId,
      createdDate: formatSfDateTime(job.createdDate),
      systemModstamp: formatSfDateTime(job.systemModstamp),
      state: job.state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: job.apiVersion,
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
    };
  }
}
