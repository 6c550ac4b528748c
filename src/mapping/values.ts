/**
 * Value primitives used by compiled mappings: decimal strings, dates and instants in a time zone.
 * Pure functions; each returns `undefined` for a value it cannot read, so callers turn that into
 * a per-record error without throwing.
 */

const DECIMAL = /^-?\d+(\.\d+)?$/;
const LOOSE_DECIMAL = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/;

/** A JS number written as a plain decimal string without exponent ("1e21" → "1000…0"). */
export function numberToDecimal(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const s = String(n === 0 ? 0 : n);
  if (!s.includes('e')) return s;
  const [mantissa, expText] = s.split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const [intPart, fracPart = ''] = (negative ? mantissa.slice(1) : mantissa).split('.');
  const digits = intPart + fracPart;
  const point = intPart.length + exp;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (negative ? '-' : '') + out;
}

/** Reads a number or numeric string as a decimal string ("1250.5", 1250.5, " 12 " → "12"). */
export function toDecimal(value: unknown): string | undefined {
  if (typeof value === 'number') return numberToDecimal(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'string') return undefined;
  if (DECIMAL.test(value)) return value;
  if (/e/i.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? numberToDecimal(n) : undefined;
  }
  const m = LOOSE_DECIMAL.exec(value);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  return `${m[1] === '-' ? '-' : ''}${m[2] || '0'}${m[3] ? '.' + m[3] : ''}`;
}

/**
 * Rounds a decimal string half away from zero to exactly `digits` fraction digits, without
 * going through a float: "1250.5" (2) → "1250.50", "0.125" (2) → "0.13", "3000.4" (0) → "3000".
 */
export function fixDecimal(decimal: string, digits: number): string {
  const negative = decimal.startsWith('-');
  const body = negative ? decimal.slice(1) : decimal;
  const dot = body.indexOf('.');
  const intPart = dot < 0 ? body : body.slice(0, dot);
  const fracPart = dot < 0 ? '' : body.slice(dot + 1);
  let scaled = BigInt(intPart + fracPart.slice(0, digits).padEnd(digits, '0'));
  if (fracPart.length > digits && fracPart.charCodeAt(digits) >= 53 /* '5' */) scaled += 1n;
  let text = scaled.toString().padStart(digits + 1, '0');
  if (digits > 0) text = text.slice(0, -digits) + '.' + text.slice(-digits);
  return negative && scaled !== 0n ? '-' + text : text;
}

/** Removes trailing fraction zeros and leading integer zeros: "007.50" → "7.5", "-0.0" → "0". */
export function normalizeDecimal(decimal: string): string {
  let [intPart, fracPart = ''] = decimal.replace(/^-/, '').split('.');
  intPart = intPart.replace(/^0+(?=\d)/, '');
  fracPart = fracPart.replace(/0+$/, '');
  const text = fracPart ? `${intPart}.${fracPart}` : intPart;
  return decimal.startsWith('-') && /[1-9]/.test(text) ? '-' + text : text;
}

// ---- dates and instants ----------------------------------------------------------------------

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH_MS = /^-?\d{10,}$/;

function validCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Time-zone helper built once per field: converts between instants and wall-clock time. */
export interface Zone {
  readonly name: string;
  /** Calendar date (YYYY-MM-DD) of an instant in this zone. */
  dateOf(epochMs: number): string;
  /** Wall-clock date-time (YYYY-MM-DDTHH:mm:ss.sss, no offset) of an instant in this zone. */
  localOf(epochMs: number): string;
  /** Instant of a wall-clock time in this zone (the earlier one when the clock is ambiguous). */
  epochOf(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number;
}

const pad2 = (n: number) => (n < 10 ? '0' + n : String(n));

export const UTC_ZONE: Zone = {
  name: 'UTC',
  dateOf: (ms) => new Date(ms).toISOString().slice(0, 10),
  localOf: (ms) => new Date(ms).toISOString().slice(0, 23),
  epochOf: (y, mo, d, h, mi, s, ms) => Date.UTC(y, mo - 1, d, h, mi, s, ms),
};

/** True when `name` is an IANA time zone this runtime knows. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function zone(name: string): Zone {
  if (name === 'UTC' || name === 'Etc/UTC') return UTC_ZONE;
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: name, hourCycle: 'h23',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const wall = (ms: number) => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return p as { year: number; month: number; day: number; hour: number; minute: number; second: number };
  };
  // Offset of the zone at an instant, in ms (wall clock minus UTC).
  const offsetAt = (ms: number) => {
    const w = wall(ms);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - (ms - (((ms % 1000) + 1000) % 1000));
  };
  return {
    name,
    dateOf(ms) {
      const w = wall(ms);
      return `${w.year}-${pad2(w.month)}-${pad2(w.day)}`;
    },
    localOf(ms) {
      const w = wall(ms);
      const milli = String(((ms % 1000) + 1000) % 1000).padStart(3, '0');
      return `${w.year}-${pad2(w.month)}-${pad2(w.day)}T${pad2(w.hour)}:${pad2(w.minute)}:${pad2(w.second)}.${milli}`;
    },
    epochOf(y, mo, d, h, mi, s, ms) {
      const asUtc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
      // Two passes settle the offset across DST changes.
      let guess = asUtc - offsetAt(asUtc);
      guess = asUtc - offsetAt(guess);
      return guess;
    },
  };
}

/**
 * Reads an instant: epoch milliseconds (number or digit string, as HubSpot sends), an ISO 8601
 * timestamp with an offset ("…Z", "+0000", "+02:00"), or a wall-clock time without offset, read
 * in `tz`. A bare date is midnight in `tz`.
 */
export function toEpochMs(value: unknown, tz: Zone): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  if (EPOCH_MS.test(value)) return Number(value);
  let m = DATE_ONLY.exec(value);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validCalendarDate(y, mo, d) ? tz.epochOf(y, mo, d, 0, 0, 0, 0) : undefined;
  }
  m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const s = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (!validCalendarDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  const offset = m[8];
  if (!offset) return tz.epochOf(y, mo, d, h, mi, s, ms);
  const base = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (offset === 'Z' || offset === 'z') return base;
  const digits = offset.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return base - (offset[0] === '-' ? -minutes : minutes) * 60_000;
}

/** Reads a calendar date: "YYYY-MM-DD" as is, or the date of an instant in `tz`. */
export function toIsoDate(value: unknown, tz: Zone): string | undefined {
  if (typeof value === 'string') {
    const m = DATE_ONLY.exec(value);
    if (m) return validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])) ? value : undefined;
  }
  const ms = toEpochMs(value, tz);
  return ms === undefined ? undefined : tz.dateOf(ms);
}

/** Midnight of a calendar date in `tz`, as epoch ms. */
export function midnightOf(isoDate: string, tz: Zone): number {
  return tz.epochOf(Number(isoDate.slice(0, 4)), Number(isoDate.slice(5, 7)), Number(isoDate.slice(8, 10)), 0, 0, 0, 0);
}

export function isIsoDate(value: string): boolean {
  const m = DATE_ONLY.exec(value);
  return m !== null && validCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}
