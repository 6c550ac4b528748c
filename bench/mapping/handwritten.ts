/**
 * bench/mapping/opportunity.yaml written out by hand: the forward mapping (Salesforce opportunity →
 * canonical fields) as one plain TypeScript function, the way a developer would code this one
 * mapping without the engine. It is the bench's ceiling: what the same work costs with nothing
 * generic in the way (no per-field closures, no CEL, no lookups of the file's settings).
 *
 * It does what the engine does with that file, value for value: text, money, date and integer
 * coercions, the two value maps, the stage's default probability (the CEL expression), the
 * account reference through the context, `Campaign.Type` read as a literal key first, the
 * lead source default, empty values (null, undefined, "") as absent, the same error codes per
 * field and the same unresolved references. The bench checks it against the engine before timing.
 * Only forward: the bench measures nothing else.
 */
import { CURRENCY_MINOR_DIGITS } from '../../src/model/index.js';
import type { CanonicalPartial, FieldError, MapContext, MapOutcome, RecordErrorCode, UnresolvedRef } from '../../src/mapping/index.js';

const STAGES = new Map<unknown, string>([
  ['Prospecting', 'prospecting'], ['Qualification', 'qualification'], ['Needs Analysis', 'technical_validation'],
  ['Value Proposition', 'business_validation'], ['Id. Decision Makers', 'business_validation'], ['Perception Analysis', 'business_validation'],
  ['Proposal/Price Quote', 'proposal'], ['Negotiation/Review', 'negotiation'], ['Closed Won', 'closed_won'], ['Closed Lost', 'closed_lost'],
]);

const STAGE_PROBABILITY = new Map<unknown, number>([
  ['Prospecting', 10], ['Qualification', 10], ['Needs Analysis', 20], ['Value Proposition', 50], ['Id. Decision Makers', 60],
  ['Perception Analysis', 70], ['Proposal/Price Quote', 75], ['Negotiation/Review', 90], ['Closed Won', 100], ['Closed Lost', 0],
]);

const TYPES = new Map<unknown, string>([
  ['New Customer', 'new_business'], ['Existing Customer - Upgrade', 'expansion'],
  ['Existing Customer - Replacement', 'renewal'], ['Existing Customer - Downgrade', 'renewal'],
]);

const MINOR_DIGITS = new Map<string, number>(Object.entries(CURRENCY_MINOR_DIGITS));
const DEFAULT_CURRENCY = 'USD';
const DEFAULT_LEAD_SOURCE = 'Other';

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';

/** A scalar as text; objects are not text. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

// ---- decimals --------------------------------------------------------------------------------

/** A JS number as a plain decimal string, exponent spelled out (1e21 → "1000000000000000000000"). */
function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const s = String(n === 0 ? 0 : n);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const negative = s[0] === '-';
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + exp;
  const body = point <= 0 ? '0.' + '0'.repeat(-point) + digits
    : point >= digits.length ? digits + '0'.repeat(point - digits.length)
    : digits.slice(0, point) + '.' + digits.slice(point);
  return negative ? '-' + body : body;
}

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;
const LOOSE_DECIMAL = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/;

/** An amount as a decimal string: a number, a bigint, or a numeric string (" 12 ", "+.5", "1e3"). */
function decimalText(v: unknown): string | undefined {
  if (typeof v === 'number') return numberText(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'string') return undefined;
  if (PLAIN_DECIMAL.test(v)) return v;
  if (v.includes('e') || v.includes('E')) return numberText(Number(v));
  const m = LOOSE_DECIMAL.exec(v);
  if (!m || (m[2] === '' && !m[3])) return undefined;
  return (m[1] === '-' ? '-' : '') + (m[2] || '0') + (m[3] ? '.' + m[3] : '');
}

/** Rounds a decimal string half away from zero to exactly `places` fraction digits, on the digits themselves. */
function roundTo(decimal: string, places: number): string {
  const negative = decimal[0] === '-';
  const body = negative ? decimal.slice(1) : decimal;
  const dot = body.indexOf('.');
  const whole = dot < 0 ? body : body.slice(0, dot);
  const fraction = dot < 0 ? '' : body.slice(dot + 1);
  let digits = whole + (fraction.length >= places ? fraction.slice(0, places) : fraction + '0'.repeat(places - fraction.length));
  if (fraction.length > places && fraction.charCodeAt(places) >= 53 /* '5' */) {
    // Add one in the last place, carrying left.
    let i = digits.length - 1;
    while (i >= 0 && digits[i] === '9') i--;
    digits = (i < 0 ? '1' : digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) + 1)) + '0'.repeat(digits.length - 1 - i);
  }
  let start = 0;
  while (start < digits.length - places - 1 && digits[start] === '0') start++;
  digits = digits.slice(start);
  const out = places === 0 ? digits : digits.slice(0, -places) + '.' + digits.slice(-places);
  return negative && /[1-9]/.test(digits) ? '-' + out : out;
}

// ---- dates (the file's zone is UTC) ----------------------------------------------------------

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH_MS = /^-?\d{10,}$/;

function realDay(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** An instant's epoch ms: a number, a Date, epoch-ms digits, or an ISO date or date-time (no offset: UTC). */
function epochMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.getTime();
  if (typeof v !== 'string') return undefined;
  if (EPOCH_MS.test(v)) return Number(v);
  const m = DATE_TIME.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const s = m[6] ? Number(m[6]) : 0;
  if (!realDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s, m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0);
  const offset = m[8];
  if (!offset || offset === 'Z' || offset === 'z') return ms;
  const hhmm = offset.slice(1).replace(':', '');
  const minutes = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(2) || '0');
  return offset[0] === '-' ? ms + minutes * 60_000 : ms - minutes * 60_000;
}

/** A calendar date: "YYYY-MM-DD" as given (when it is a real day), else the UTC date of an instant. */
function isoDate(v: unknown): string | undefined {
  if (typeof v === 'string') {
    const m = DATE_ONLY.exec(v);
    if (m) return realDay(Number(m[1]), Number(m[2]), Number(m[3])) ? v : undefined;
  }
  const ms = epochMs(v);
  if (ms === undefined) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
}

// ---- the probability expression --------------------------------------------------------------

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * `has(record.Probability) ? int(record.Probability) : {stage → probability}[record.StageName]`,
 * with CEL's int(): doubles truncate toward zero, strings must be an int64 written plainly.
 * Returns the number, or the reason the expression fails.
 */
function probability(record: Record<string, unknown>): number | { failed: string } {
  const p = record.Probability;
  if (isEmpty(p)) {
    const stage = record.StageName;
    const value = isEmpty(stage) ? undefined : STAGE_PROBABILITY.get(stage);
    return value ?? { failed: `No such key: ${isEmpty(stage) ? 'StageName' : String(stage)}` };
  }
  if (typeof p === 'number') return Number.isFinite(p) ? Math.trunc(p) : { failed: 'int() type error: integer overflow' };
  if (typeof p === 'bigint') return Number(p);
  if (typeof p === 'string') {
    if (p === p.trim() && p.length <= 20 && !p.includes('0x')) {
      try {
        const n = BigInt(p);
        if (n >= INT64_MIN && n <= INT64_MAX) return Number(n);
      } catch {
        // not an integer: fails below
      }
    }
    return { failed: 'int() type error: cannot convert to int' };
  }
  return { failed: 'found no matching overload for int()' };
}

// ---- the mapping -----------------------------------------------------------------------------

/** Salesforce Opportunity → canonical Opportunity fields, as bench/mapping/opportunity.yaml says. */
export function mapOpportunity(record: Record<string, unknown>, ctx: MapContext = {}): MapOutcome<CanonicalPartial> {
  const out: CanonicalPartial = {};
  let errors: FieldError[] | undefined;
  let unresolved: UnresolvedRef[] | undefined;
  const fail = (field: string, code: RecordErrorCode, message: string) => {
    (errors ??= []).push({ field, code, message });
  };

  // name: Name (required)
  const name = record.Name;
  if (isEmpty(name)) fail('name', 'required', 'name is required, but Name has no value');
  else {
    const s = text(name);
    if (s === undefined) fail('name', 'invalid_value', 'Name is not text');
    else out.name = s;
  }

  // amount: Amount as money in CurrencyIsoCode, USD when the record has none
  const amount = record.Amount;
  if (!isEmpty(amount)) {
    const decimal = decimalText(amount);
    if (decimal === undefined) fail('amount', 'invalid_value', 'Amount is not an amount');
    else {
      const given = record.CurrencyIsoCode;
      const currency = isEmpty(given) ? DEFAULT_CURRENCY : String(given);
      const places = MINOR_DIGITS.get(currency);
      if (places === undefined) fail('amount', 'unknown_currency', `currency ${currency} is not one we handle`);
      else out.amount = { amount: roundTo(decimal, places), currency };
    }
  }

  // stage: StageName through the stage map (required)
  const stageName = record.StageName;
  if (isEmpty(stageName)) fail('stage', 'required', 'stage is required, but StageName has no value');
  else {
    const stage = STAGES.get(typeof stageName === 'string' ? stageName : String(stageName));
    if (stage === undefined) fail('stage', 'unknown_value', 'StageName has no mapping');
    else out.stage = stage;
  }

  // closeDate: CloseDate as a date (required)
  const closeDate = record.CloseDate;
  if (isEmpty(closeDate)) fail('closeDate', 'required', 'closeDate is required, but CloseDate has no value');
  else {
    const day = isoDate(closeDate);
    if (day === undefined) fail('closeDate', 'invalid_value', 'CloseDate is not a date');
    else out.closeDate = day;
  }

  // probability: Salesforce's own, else the stage's default; a whole number
  const p = probability(record);
  if (typeof p !== 'number') fail('probability', 'expression_failed', `expression failed: ${p.failed}`);
  else if (!Number.isSafeInteger(p)) fail('probability', 'invalid_value', 'expression result is not a whole number');
  else out.probability = p === 0 ? 0 : p;

  // type: Type through the type map
  const type = record.Type;
  if (!isEmpty(type)) {
    const mapped = TYPES.get(typeof type === 'string' ? type : String(type));
    if (mapped === undefined) fail('type', 'unknown_value', 'Type has no mapping');
    else out.type = mapped;
  }

  // accountId: AccountId, a reference to an Account
  const accountId = record.AccountId;
  if (!isEmpty(accountId)) {
    const id = typeof accountId === 'string' ? accountId : String(accountId);
    const canonicalId = ctx.resolveRef?.('Account', id);
    if (canonicalId === undefined) (unresolved ??= []).push({ field: 'accountId', entity: 'Account', id });
    else out.accountId = canonicalId;
  }

  // leadSource: Campaign.Type (a literal key first, else the nested field), inbound only, "Other" when empty
  const literal = record['Campaign.Type'];
  const campaign = record.Campaign;
  const leadSource = literal !== undefined ? literal
    : campaign !== null && typeof campaign === 'object' ? (campaign as Record<string, unknown>).Type : undefined;
  if (isEmpty(leadSource)) out.leadSource = DEFAULT_LEAD_SOURCE;
  else {
    const s = text(leadSource);
    if (s === undefined) fail('leadSource', 'invalid_value', 'Campaign.Type is not text');
    else out.leadSource = s;
  }

  // nextStep: NextStep; description: Description
  const nextStep = record.NextStep;
  if (!isEmpty(nextStep)) {
    const s = text(nextStep);
    if (s === undefined) fail('nextStep', 'invalid_value', 'NextStep is not text');
    else out.nextStep = s;
  }
  const description = record.Description;
  if (!isEmpty(description)) {
    const s = text(description);
    if (s === undefined) fail('description', 'invalid_value', 'Description is not text');
    else out.description = s;
  }

  return errors ? { ok: false, errors, unresolved: unresolved ?? [] } : { ok: true, value: out, unresolved: unresolved ?? [] };
}
