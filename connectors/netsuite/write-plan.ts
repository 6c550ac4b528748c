import type { WriteError } from '../../src/sync/protocol.js';
import { BILLING_FIELDS, isCustomField, LINES_FIELD, type NetSuiteRecord } from './descriptor.js';
import type { ErrorDetail } from './calls.js';

/**
 * Flat fields (as the descriptor names them) turned into a record service body, and NetSuite's
 * refusals turned back into WriteErrors naming those flat fields.
 */

/** The account's currencies by ISO code and payment terms by name, keyed in lower case. */
export interface Lookups {
  currencies: Map<string, { id: string; name: string }>;
  terms: Map<string, { id: string; name: string }>;
}

export interface PreparedBody {
  body: Record<string, unknown>;
  /** The default billing address's fields, by addressBookAddress name, when any was given. */
  billing?: Record<string, unknown>;
  /** Whether the item sublist is written (and so replaced). */
  lines: boolean;
  errors: WriteError[];
}

const BILLING_BY_ADDRESS = Object.fromEntries(Object.entries(BILLING_FIELDS).map(([flat, address]) => [address, flat]));

export function prepareBody(info: NetSuiteRecord, fields: Record<string, unknown>, lookups: Lookups | undefined): PreparedBody {
  const body: Record<string, unknown> = {};
  const errors: WriteError[] = [];
  let billing: Record<string, unknown> | undefined;
  let lines = false;
  for (const [name, value] of Object.entries(fields)) {
    const write = info.writes[name] ?? (isCustomField(name) ? { kind: 'value' as const } : undefined);
    if (!write) {
      errors.push({ code: 'UNKNOWN_FIELD', message: `NetSuite ${info.object} has no field ${name} ecosync can write`, fields: [name] });
      continue;
    }
    switch (write.kind) {
      case 'value':
      case 'readOnly':
        // Read-only fields go through: NetSuite's refusal names them.
        body[name] = value === undefined ? null : value;
        break;
      case 'reference':
        body[name] = isEmpty(value) ? null : { id: String(value) };
        break;
      case 'currencyCode':
      case 'termsName': {
        if (isEmpty(value)) {
          body[name] = null;
          break;
        }
        const table = write.kind === 'currencyCode' ? lookups?.currencies : lookups?.terms;
        const id = table?.get(String(value).toLowerCase())?.id;
        if (id === undefined) {
          const what = write.kind === 'currencyCode' ? 'currency with the ISO code' : 'payment term named';
          errors.push({ code: 'INVALID_VALUE', message: `NetSuite has no ${what} "${String(value)}" (it has: ${[...(table?.values() ?? [])].map((v) => v.name).join(', ')})`, fields: [name] });
        } else {
          body[name] = { id };
        }
        break;
      }
      case 'billing':
        (billing ??= {})[write.addressField] = isEmpty(value) ? null : String(value);
        break;
      case 'lines': {
        const items = linesOf(value);
        if ('error' in items) errors.push({ code: 'INVALID_VALUE', message: items.error, fields: [name] });
        else {
          body.item = { items: items.lines };
          lines = true;
        }
        break;
      }
    }
  }
  return { body, ...(billing ? { billing } : {}), lines, errors };
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** `item.items` as written: a list of {item, description, quantity, rate, amount}, or its JSON text. */
function linesOf(value: unknown): { lines: Record<string, unknown>[] } | { error: string } {
  let list = value;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      return { error: `${LINES_FIELD} must be a list of lines (or its JSON text)` };
    }
  }
  if (list === null || list === undefined) list = [];
  if (!Array.isArray(list)) return { error: `${LINES_FIELD} must be a list of lines` };
  const out: Record<string, unknown>[] = [];
  for (const [i, raw] of list.entries()) {
    if (typeof raw !== 'object' || raw === null) return { error: `${LINES_FIELD}[${i}] must be an object with item, quantity and rate` };
    const l = raw as Record<string, unknown>;
    if (isEmpty(l.item)) return { error: `${LINES_FIELD}[${i}] has no item (the NetSuite item's internal id)` };
    const line: Record<string, unknown> = { item: { id: String(l.item) } };
    for (const k of ['quantity', 'rate'] as const) {
      if (isEmpty(l[k])) continue;
      const n = Number(l[k]);
      if (!Number.isFinite(n)) return { error: `${LINES_FIELD}[${i}].${k} is not a number: ${String(l[k])}` };
      line[k] = n;
    }
    // The amount follows from quantity × rate; it is sent only to set the price when no rate is given.
    if (line.rate === undefined && !isEmpty(l.amount)) line.amount = Number(l.amount);
    if (!isEmpty(l.description)) line.description = String(l.description);
    out.push(line);
  }
  return { lines: out };
}

/** The flat field a NetSuite error path points at (`addressBook.items[0].addressBookAddress.zip` → billZip). */
export function fieldOfPath(path: string): string {
  const billing = /^addressBook\.items\[\d+\]\.addressBookAddress\.(\w+)/.exec(path);
  if (billing) return BILLING_BY_ADDRESS[billing[1]] ?? 'billAddr1';
  if (path === 'item' || path.startsWith('item.')) return LINES_FIELD;
  return path.split(/[.[]/)[0];
}

/** Error codes worth sending again as is. */
const RETRYABLE_CODES = new Set(['RCRD_HAS_BEEN_CHANGED', 'UNEXPECTED_ERROR', 'CONCURRENCY_LIMIT_EXCEEDED', 'REQUEST_LIMIT_EXCEEDED', 'SSS_REQUEST_LIMIT_EXCEEDED']);

export function writeErrorOf(status: number, details: readonly ErrorDetail[]): { error: WriteError; retryable: boolean } {
  const first = details[0];
  const fields = [...new Set(details.flatMap((d) => (d['o:errorPath'] ? [fieldOfPath(d['o:errorPath'])] : [])))];
  const code = first?.['o:errorCode'] ?? (status >= 500 ? 'UNEXPECTED_ERROR' : 'UNKNOWN_ERROR');
  return {
    error: {
      code,
      message: details.map((d) => d.detail).filter(Boolean).join('; ') || `NetSuite answered ${status}`,
      ...(fields.length > 0 ? { fields } : {}),
    },
    retryable: status === 429 || status >= 500 || details.some((d) => RETRYABLE_CODES.has(d['o:errorCode'] ?? '')),
  };
}
