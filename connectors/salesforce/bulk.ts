import { parse } from 'csv-parse/sync';
import type { Connection, HttpResponse, Schema } from 'jsforce';
import { HttpApi } from 'jsforce/lib/http-api.js';
import type { Cursor, FieldSpec, FieldType } from '../../src/sync/protocol.js';

/**
 * What the connector's Bulk API 2.0 reads need besides plain REST calls: the resume token a
 * page's cursor carries, fetching one result set with its locator, and turning CSV rows back
 * into the records the REST API would have returned.
 */

/** Where a read through a query job goes on; JSON in Cursor.resume, opaque to everyone else. */
export interface BulkResume {
  job: string;
  /** Locator of the next result set; null for the first. */
  locator: string | null;
  /** The cursor the job started from: a job that is gone is started again from here. */
  from: Cursor | null;
}

export function encodeResume(resume: BulkResume): string {
  return JSON.stringify(resume);
}

function isCursor(value: unknown): value is Cursor {
  const c = value as Cursor | null;
  return typeof c?.modifiedAt === 'string' && typeof c.id === 'string';
}

/** The token back as a BulkResume; undefined when it is not one of ours. */
export function decodeResume(text: string): BulkResume | undefined {
  let value: Partial<BulkResume>;
  try {
    value = JSON.parse(text) as Partial<BulkResume>;
  } catch {
    return undefined;
  }
  const { job, locator, from } = value ?? {};
  if (typeof job !== 'string' || !(locator === null || typeof locator === 'string') || !(from === null || isCursor(from))) return undefined;
  return { job, locator, from: from && { modifiedAt: from.modifiedAt, id: from.id } };
}

/** A Salesforce datetime in the REST API's JSON form (…000+0000); Bulk API CSV writes …000Z. */
function restDateTime(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString().replace('Z', '+0000');
}

const NUMERIC: ReadonlySet<FieldType> = new Set(['number', 'integer', 'currency', 'percent']);

function decoder(type: FieldType | undefined): (text: string) => unknown {
  if (type === 'boolean') return (t) => (t === '' ? null : t === 'true');
  if (type === 'datetime') return (t) => (t === '' ? null : restDateTime(t));
  if (type && NUMERIC.has(type)) return (t) => (t === '' ? null : Number(t));
  return (t) => (t === '' ? null : t);
}

/**
 * CSV rows as the REST API's JSON records, so the sync maps and hashes the same record whichever
 * API read it: an empty value is null (Salesforce keeps no empty strings), and each value takes
 * its field's type from the describe (booleans, numbers, REST-form datetimes; the rest as text).
 * Header names are matched to the describe's in any letter case.
 */
export function decodeCsv(text: string, fields: FieldSpec[]): Array<Record<string, unknown>> {
  const rows = parse(text, { delimiter: ',' });
  if (rows.length === 0) return [];
  const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  const columns = rows[0].map((header) => {
    const field = byName.get(header.toLowerCase());
    return { name: field?.name ?? header, decode: decoder(field?.type) };
  });
  const records: Array<Record<string, unknown>> = [];
  for (let r = 1; r < rows.length; r++) {
    const record: Record<string, unknown> = {};
    columns.forEach((c, i) => { record[c.name] = c.decode(rows[r][i]); });
    records.push(record);
  }
  return records;
}

/**
 * A results GET that keeps what jsforce's own handling would lose: the CSV as text (its parser
 * guesses the delimiter among six, so a value holding ';' or '|' would split) and the response
 * headers, where the next set's locator is. Error bodies are still read as Salesforce's JSON.
 */
class ResultsApi extends HttpApi<Schema> {
  last?: HttpResponse;

  constructor(conn: Connection, options: object) {
    super(conn, options);
    // Emitted for every response, so after a session refresh it holds the repeated call's.
    this.on('response', (response: HttpResponse) => { this.last = response; });
  }

  override getResponseContentType(response: HttpResponse): string | undefined {
    return response.statusCode < 400 ? 'text/plain' : super.getResponseContentType(response) ?? undefined;
  }
}

export interface ResultSet {
  csv: string;
  /** Locator of the following set; null after the last. */
  next: string | null;
}

/** One set of a completed job's results, at most maxRecords rows. */
export async function fetchResultSet(conn: Connection, job: string, locator: string | null, maxRecords: number, options: object): Promise<ResultSet> {
  const api = new ResultsApi(conn, options);
  const query = new URLSearchParams({ ...(locator ? { locator } : {}), maxRecords: String(maxRecords) });
  const csv = await api.request<string>({
    method: 'GET',
    url: `${conn.instanceUrl}/services/data/v${conn.version}/jobs/query/${job}/results?${query}`,
    headers: { Accept: 'text/csv' },
  });
  const next = api.last?.headers['sforce-locator'];
  return { csv, next: next && next !== 'null' ? next : null };
}
