import type { Cursor, SourceRecord } from '../../src/sync/protocol.js';
import { isCustomField, JOINS, LINES_FIELD, type ColumnRead, type JoinName, type NetSuiteRecord } from './descriptor.js';

/**
 * The SuiteQL the connector reads with. Incremental reads are keyset pages ordered by
 * (lastmodifieddate, id): each page is a new query strictly after the last record read, never an
 * offset into a result that moves while it is read (a record edited meanwhile would shift the
 * others and one would be skipped). Dates come back through TO_CHAR, since a DATE column alone
 * comes back as a date in the user's format without its time. The account's time zone is taken
 * as UTC, as the sandbox's is.
 */

export const SUITEQL_PAGE_LIMIT = 1000;
/** Oracle allows at most 1000 values in an IN list. */
export const IN_LIST_LIMIT = 1000;

const DATETIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS';
const DATE_FORMAT = 'YYYY-MM-DD';
const BOUND_FORMAT = 'YYYY-MM-DD HH24:MI:SS';

/** Where a read starts: strictly after (ms, id), or at ms inclusive when id is null. */
export interface ReadStart {
  ms: number;
  id: string | null;
}

/** The cursor, or lookbackMs before it (inclusive, every id): late-visible writes are read again. */
export function startFromCursor(cursor: Cursor | null, lookbackMs = 0): ReadStart | null {
  if (!cursor) return null;
  const ms = Date.parse(cursor.modifiedAt);
  if (Number.isNaN(ms)) throw new Error(`cursor.modifiedAt is not an instant: ${cursor.modifiedAt}`);
  if (lookbackMs > 0) return { ms: ms - lookbackMs, id: null };
  return { ms, id: cursor.id === '' ? null : cursor.id };
}

function timestamp(ms: number): string {
  return `TO_TIMESTAMP('${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}', '${BOUND_FORMAT}')`;
}

/**
 * The condition selecting rows after a start on a (date column, id column) pair. NetSuite keeps
 * instants to the second, so a start inside a second begins at the next whole second.
 */
export function afterStart(start: ReadStart | null, dateColumn: string, idColumn: string): string | undefined {
  if (!start) return undefined;
  if (start.ms % 1000 !== 0) return `${dateColumn} >= ${timestamp(Math.ceil(start.ms / 1000) * 1000)}`;
  if (start.id === null) return `${dateColumn} >= ${timestamp(start.ms)}`;
  if (!/^\d+$/.test(start.id)) throw new Error(`a NetSuite cursor id is an internal id (digits); got "${start.id}"`);
  const at = timestamp(start.ms);
  return `(${dateColumn} > ${at} OR (${dateColumn} = ${at} AND ${idColumn} > ${start.id}))`;
}

interface Selected {
  alias: string;
  field: string;
  read: ColumnRead;
}

/** The SELECT list and joins for a set of fields (id and lastModifiedDate always included). */
export class ReadPlan {
  readonly selected: Selected[] = [];
  readonly wantsLines: boolean;
  private readonly joins = new Set<JoinName>();

  constructor(private readonly info: NetSuiteRecord, fields: readonly string[]) {
    const names = new Set(['id', 'lastModifiedDate', ...fields]);
    this.wantsLines = info.hasLines && names.has(LINES_FIELD);
    names.delete(LINES_FIELD);
    for (const field of names) {
      const read = info.columns[field] ?? (isCustomField(field) ? { sql: `r.${field.toLowerCase()}`, kind: 'string' as const } : undefined);
      if (!read) {
        throw new Error(`NetSuite ${info.object} has no field "${field}" the connector can read (known: ${[...Object.keys(info.columns), ...(info.hasLines ? [LINES_FIELD] : [])].join(', ')})`);
      }
      if (read.join) this.joins.add(read.join);
      this.selected.push({ alias: field.toLowerCase().replace(/[^a-z0-9_]/g, '_'), field, read });
    }
  }

  query(conditions: (string | undefined)[]): string {
    const columns = this.selected.map(({ alias, read }) => {
      const expr = read.kind === 'datetime' ? `TO_CHAR(${read.sql}, '${DATETIME_FORMAT}')` : read.kind === 'date' ? `TO_CHAR(${read.sql}, '${DATE_FORMAT}')` : read.sql;
      return `${expr} AS ${alias}`;
    });
    const where = [this.info.typeFilter, ...conditions].filter((c): c is string => Boolean(c));
    return [
      `SELECT ${columns.join(', ')}`,
      `FROM ${this.info.table} r`,
      ...[...this.joins].map((j) => JOINS[j]),
      ...(where.length > 0 ? [`WHERE ${where.join(' AND ')}`] : []),
      'ORDER BY r.lastmodifieddate, r.id',
    ].join(' ');
  }

  /** A SuiteQL row (every value a string, empty ones left out) as a typed SourceRecord. */
  record(row: Record<string, unknown>): SourceRecord {
    const fields: Record<string, unknown> = {};
    for (const { alias, field, read } of this.selected) fields[field] = typed(row[alias], read);
    const modifiedAt = fields.lastModifiedDate;
    if (typeof modifiedAt !== 'string') throw new Error(`NetSuite ${this.info.object} ${String(row.id)} came back without lastmodifieddate`);
    return { id: String(row.id), modifiedAt, deleted: false, fields };
  }
}

function typed(raw: unknown, read: ColumnRead): unknown {
  if (raw === undefined || raw === null || raw === '') return null;
  const text = String(raw);
  switch (read.kind) {
    case 'number': return Number(text);
    case 'boolean': return text === 'T';
    case 'datetime': return new Date(`${text}Z`).toISOString();
    case 'date': return text;
    default: return read.names?.[text] ?? text;
  }
}

/** Lines of these transactions, item lines only, in line order. */
export function linesQuery(ids: readonly string[]): string {
  return 'SELECT tl.transaction AS tran, tl.linesequencenumber AS line, tl.item AS item, tl.memo AS description, tl.quantity AS quantity, tl.rate AS rate, tl.netamount AS amount ' +
    `FROM transactionline tl WHERE tl.mainline = 'F' AND tl.taxline = 'F' AND tl.transaction IN (${ids.join(', ')}) ` +
    'ORDER BY tl.transaction, tl.linesequencenumber';
}

export interface Line {
  line: string | null;
  item: string | null;
  description: string | null;
  quantity: number | null;
  rate: number | null;
  amount: number | null;
}

/** A transactionline row as a line: sales quantities and amounts are negative in SuiteQL, positive here. */
export function lineOf(row: Record<string, unknown>): Line {
  const n = (v: unknown) => (v === undefined || v === null || v === '' ? null : Number(v));
  const flip = (v: number | null) => (v === null ? null : v === 0 ? 0 : -v);
  return {
    line: row.line === undefined ? null : String(row.line),
    item: row.item === undefined ? null : String(row.item),
    description: row.description === undefined ? null : String(row.description),
    quantity: flip(n(row.quantity)),
    rate: n(row.rate),
    amount: flip(n(row.amount)),
  };
}

/** Deleted records of one type after a start, in (deleteddate, recordid) order. */
export function deletedQuery(info: NetSuiteRecord, start: ReadStart | null): string {
  const where = [`d.recordtypeid = '${info.deletedType}'`, afterStart(start, 'd.deleteddate', 'd.recordid')].filter(Boolean);
  return `SELECT d.recordid AS id, TO_CHAR(d.deleteddate, '${DATETIME_FORMAT}') AS deleted FROM deletedrecord d WHERE ${where.join(' AND ')} ORDER BY d.deleteddate, d.recordid`;
}

export function deletedRecord(row: Record<string, unknown>): SourceRecord {
  return { id: String(row.id), modifiedAt: new Date(`${String(row.deleted)}Z`).toISOString(), deleted: true, fields: {} };
}
