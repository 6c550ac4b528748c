import type { FieldSpec, ObjectSpec } from '../../../src/sync/protocol.js';

/**
 * The subset of SOQL the sandbox answers: SELECT fields | COUNT() FROM T [WHERE …] [ORDER BY …]
 * [LIMIT n] [OFFSET n], with =, !=, <>, <, <=, >, >=, LIKE, IN, NOT IN, AND, OR, NOT and
 * parentheses. Parsing is separate from binding to an object, and binding compiles the WHERE
 * clause into a predicate once per query, not once per record.
 */

export class SoqlError extends Error {
  constructor(readonly errorCode: 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE', message: string) {
    super(message);
  }
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'datetime'; value: number; text: string }
  | { kind: 'date'; value: string };

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'like';

export type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'compare'; field: string; op: CompareOp; value: Literal }
  | { kind: 'in'; field: string; negate: boolean; values: Literal[] };

export interface OrderTerm {
  field: string;
  desc: boolean;
  nullsLast: boolean;
}

export interface SoqlQuery {
  /** Selected fields, or 'count' for SELECT COUNT(). */
  fields: string[] | 'count';
  object: string;
  where?: Condition;
  orderBy: OrderTerm[];
  limit?: number;
  offset?: number;
}

// ---------------------------------------------------------------- datetimes

/** Parses Salesforce datetimes: 2026-01-01T00:00:00.000+0000, …Z, …+00:00, with or without ms. */
export function parseSfDateTime(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})$/.exec(text);
  if (!m) return Number.NaN;
  const zone = m[2] === 'Z' ? 'Z' : `${m[2].slice(0, 3)}:${m[2].slice(-2)}`;
  return Date.parse(m[1] + zone);
}

/** The wire form of a datetime: millisecond precision, +0000. */
export function formatSfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

// ---------------------------------------------------------------- tokens

type Token =
  | { t: 'ident'; v: string }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'datetime'; v: string }
  | { t: 'date'; v: string }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: '(' | ')' | ',' };

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT])/;
const NUMBER = /^-?\d+(?:\.\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_.]*/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    const rest = text.slice(i, i + 40);
    if (c === '(' || c === ')' || c === ',') { tokens.push({ t: 'punct', v: c }); i++; continue; }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SoqlError('MALFORMED_QUERY', 'unterminated string literal');
        const ch = text[i];
        if (ch === '\\') {
          const next = text[i + 1];
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
          i += 2;
        } else if (ch === "'") { i++; break; } else { value += ch; i++; }
      }
      tokens.push({ t: 'string', v: value });
      continue;
    }
    const op = /^(<=|>=|!=|<>|=|<|>)/.exec(rest);
    if (op) { tokens.push({ t: 'op', v: op[1] === '<>' ? '!=' : op[1] }); i += op[1].length; continue; }
    let m = DATETIME.exec(text.slice(i, i + 40));
    if (m) { tokens.push({ t: 'datetime', v: m[0] }); i += m[0].length; continue; }
    m = DATE.exec(rest);
    if (m) { tokens.push({ t: 'date', v: m[0] }); i += m[0].length; continue; }
    m = NUMBER.exec(rest);
    if (m) { tokens.push({ t: 'number', v: Number(m[0]) }); i += m[0].length; continue; }
    m = IDENT.exec(text.slice(i, i + 256));
    if (m) { tokens.push({ t: 'ident', v: m[0] }); i += m[0].length; continue; }
    throw new SoqlError('MALFORMED_QUERY', `unexpected character '${c}' at position ${i}`);
  }
  return tokens;
}

// ---------------------------------------------------------------- parser

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined { return this.tokens[this.pos]; }
  private next(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new SoqlError('MALFORMED_QUERY', 'unexpected end of query');
    return t;
  }
  private isKeyword(word: string, offset = 0): boolean {
    const t = this.tokens[this.pos + offset];
    return t?.t === 'ident' && t.v.toUpperCase() === word;
  }
  private keyword(word: string): void {
    if (!this.isKeyword(word)) throw new SoqlError('MALFORMED_QUERY', `expected ${word} near ${describe(this.peek())}`);
    this.pos++;
  }
  private punct(p: '(' | ')' | ','): void {
    const t = this.next();
    if (t.t !== 'punct' || t.v !== p) throw new SoqlError('MALFORMED_QUERY', `expected '${p}' near ${describe(t)}`);
  }
  private ident(): string {
    const t = this.next();
    if (t.t !== 'ident') throw new SoqlError('MALFORMED_QUERY', `expected a name near ${describe(t)}`);
    return t.v;
  }
  private integer(): number {
    const t = this.next();
    if (t.t !== 'number' || !Number.isInteger(t.v) || t.v < 0) throw new SoqlError('MALFORMED_QUERY', `expected a non-negative integer near ${describe(t)}`);
    return t.v;
  }

  query(): SoqlQuery {
    this.keyword('SELECT');
    let fields: string[] | 'count';
    if (this.isKeyword('COUNT') && this.tokens[this.pos + 1]?.v === '(') {
      this.pos++;
      this.punct('(');
      this.punct(')');
      fields = 'count';
    } else {
      fields = [this.ident()];
      while (this.peek()?.v === ',') { this.pos++; fields.push(this.ident()); }
    }
    this.keyword('FROM');
    const object = this.ident();
    const query: SoqlQuery = { fields, object, orderBy: [] };
    if (this.isKeyword('WHERE')) { this.pos++; query.where = this.or(); }
    if (this.isKeyword('ORDER')) {
      this.pos++;
      this.keyword('BY');
      do {
        if (query.orderBy.length > 0) this.pos++;
        const field = this.ident();
        let desc = false;
        if (this.isKeyword('ASC')) this.pos++;
        else if (this.isKeyword('DESC')) { this.pos++; desc = true; }
        let nullsLast = desc;
        if (this.isKeyword('NULLS')) {
          this.pos++;
          if (this.isKeyword('FIRST')) nullsLast = false;
          else if (this.isKeyword('LAST')) nullsLast = true;
          else throw new SoqlError('MALFORMED_QUERY', 'expected FIRST or LAST after NULLS');
          this.pos++;
        }
        query.orderBy.push({ field, desc, nullsLast });
      } while (this.peek()?.v === ',');
    }
    if (this.isKeyword('LIMIT')) { this.pos++; query.limit = this.integer(); }
    if (this.isKeyword('OFFSET')) { this.pos++; query.offset = this.integer(); }
    if (this.pos < this.tokens.length) throw new SoqlError('MALFORMED_QUERY', `unexpected token ${describe(this.peek())}`);
    return query;
  }

  private or(): Condition {
    const items = [this.and()];
    while (this.isKeyword('OR')) { this.pos++; items.push(this.and()); }
    return items.length === 1 ? items[0] : { kind: 'or', items };
  }

  private and(): Condition {
    const items = [this.not()];
    while (this.isKeyword('AND')) { this.pos++; items.push(this.not()); }
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }

  private not(): Condition {
    if (this.isKeyword('NOT') && !this.isKeyword('IN', 1)) { this.pos++; return { kind: 'not', item: this.not() }; }
    return this.primary();
  }

  private primary(): Condition {
    if (this.peek()?.v === '(') {
      this.pos++;
      const inner = this.or();
      this.punct(')');
      return inner;
    }
    const field = this.ident();
    if (this.isKeyword('IN') || (this.isKeyword('NOT') && this.isKeyword('IN', 1))) {
      const negate = this.isKeyword('NOT');
      this.pos += negate ? 2 : 1;
      this.punct('(');
      const values = [this.literal()];
      while (this.peek()?.v === ',') { this.pos++; values.push(this.literal()); }
      this.punct(')');
      return { kind: 'in', field, negate, values };
    }
    let op: CompareOp;
    if (this.isKeyword('LIKE')) { this.pos++; op = 'like'; } else {
      const t = this.next();
      if (t.t !== 'op') throw new SoqlError('MALFORMED_QUERY', `expected an operator after ${field} near ${describe(t)}`);
      op = t.v as CompareOp;
    }
    return { kind: 'compare', field, op, value: this.literal() };
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.t) {
      case 'string': return { kind: 'string', value: t.v };
      case 'number': return { kind: 'number', value: t.v };
      case 'date': return { kind: 'date', value: t.v };
      case 'datetime': {
        const value = parseSfDateTime(t.v);
        if (Number.isNaN(value)) throw new SoqlError('MALFORMED_QUERY', `invalid datetime ${t.v}`);
        return { kind: 'datetime', value, text: t.v };
      }
      case 'ident': {
        const w = t.v.toLowerCase();
        if (w === 'true' || w === 'false') return { kind: 'boolean', value: w === 'true' };
        if (w === 'null') return { kind: 'null' };
        throw new SoqlError('MALFORMED_QUERY', `unexpected ${t.v} where a value was expected`);
      }
      default: throw new SoqlError('MALFORMED_QUERY', `unexpected ${describe(t)} where a value was expected`);
    }
  }
}

function describe(t: Token | undefined): string {
  if (!t) return 'end of query';
  return t.t === 'string' ? `'${t.v}'` : `'${String(t.v)}'`;
}

export function parseSoql(text: string): SoqlQuery {
  return new Parser(tokenize(text)).query();
}

/** SOQL constructs some APIs refuse (Bulk API 2.0 among them), most of which the parser does not take at all. */
export interface SoqlConstructs {
  /** COUNT(), SUM(…), MAX(…) and the other aggregate functions. */
  aggregate: boolean;
  /** A parent-to-child relationship query: (SELECT … FROM Contacts). */
  subquery: boolean;
  groupBy: boolean;
  offset: boolean;
  typeOf: boolean;
}

const AGGREGATE_FUNCTIONS = new Set(['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX']);

/** Which of those constructs the query uses, found on its tokens so that string literals never count. */
export function soqlConstructs(text: string): SoqlConstructs {
  const tokens = tokenize(text);
  const word = (i: number) => {
    const t = tokens[i];
    return t?.t === 'ident' ? t.v.toUpperCase() : undefined;
  };
  const open = (i: number) => {
    const t = tokens[i];
    return t?.t === 'punct' && t.v === '(';
  };
  const found: SoqlConstructs = { aggregate: false, subquery: false, groupBy: false, offset: false, typeOf: false };
  for (let i = 0; i < tokens.length; i++) {
    const w = word(i);
    if (w && AGGREGATE_FUNCTIONS.has(w) && open(i + 1)) found.aggregate = true;
    if (open(i) && word(i + 1) === 'SELECT') found.subquery = true;
    if (w === 'GROUP' && word(i + 1) === 'BY') found.groupBy = true;
    if (w === 'OFFSET') found.offset = true;
    if (w === 'TYPEOF') found.typeOf = true;
  }
  return found;
}

// ---------------------------------------------------------------- binding

export type Fields = Readonly<Record<string, unknown>>;

export interface BoundQuery {
  query: SoqlQuery;
  spec: ObjectSpec;
  /** Canonical field names to return, in the order asked. */
  select: string[];
  count: boolean;
  where: (record: Fields) => boolean;
  /** Undefined when the query has no ORDER BY. */
  compare?: (a: Fields, b: Fields) => number;
  /** The ORDER BY is the natural (SystemModstamp, Id) order of the change index. */
  naturalOrder: boolean;
  /** Smallest SystemModstamp any match can have (from the WHERE clause). */
  modstampFrom?: number;
  /** Values the WHERE clause pins a key field to (Id or the external id), for index lookups. */
  pinned?: { field: string; values: string[] };
}

function fieldMap(spec: ObjectSpec): Map<string, FieldSpec> {
  return new Map(spec.fields.map((f) => [f.name.toLowerCase(), f]));
}

function resolve(fields: Map<string, FieldSpec>, spec: ObjectSpec, name: string): FieldSpec {
  const f = fields.get(name.toLowerCase());
  if (!f) {
    throw new SoqlError('INVALID_FIELD', `No such column '${name}' on entity '${spec.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
  }
  return f;
}

const NUMERIC = new Set(['number', 'integer', 'currency', 'percent']);
const CASE_SENSITIVE = new Set(['id', 'reference']);

/** Turns a literal into the stored representation of `field`, or says why it cannot. */
function coerce(field: FieldSpec, lit: Literal): unknown {
  if (lit.kind === 'null') return null;
  const bad = (): never => {
    throw new SoqlError('INVALID_FIELD', `value of filter criterion for field '${field.name}' must be of type ${field.type} and should not be enclosed in quotes`);
  };
  switch (field.type) {
    case 'datetime':
      if (lit.kind === 'datetime') return lit.value;
      if (lit.kind === 'date') return Date.parse(`${lit.value}T00:00:00Z`);
      return bad();
    case 'date':
      return lit.kind === 'date' ? lit.value : bad();
    case 'boolean':
      return lit.kind === 'boolean' ? lit.value : bad();
    default:
      if (NUMERIC.has(field.type)) return lit.kind === 'number' ? lit.value : bad();
      if (lit.kind !== 'string') {
        throw new SoqlError('MALFORMED_QUERY', `value for field '${field.name}' must be a quoted string`);
      }
      return CASE_SENSITIVE.has(field.type) ? lit.value : lit.value.toLowerCase();
  }
}

function likeToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${body}$`, 'is');
}

function compileCondition(cond: Condition, fields: Map<string, FieldSpec>, spec: ObjectSpec): (r: Fields) => boolean {
  switch (cond.kind) {
    case 'and': {
      const items = cond.items.map((c) => compileCondition(c, fields, spec));
      return (r) => items.every((p) => p(r));
    }
    case 'or': {
      const items = cond.items.map((c) => compileCondition(c, fields, spec));
      return (r) => items.some((p) => p(r));
    }
    case 'not': {
      const item = compileCondition(cond.item, fields, spec);
      return (r) => !item(r);
    }
    case 'in': {
      const f = resolve(fields, spec, cond.field);
      const values = new Set(cond.values.map((v) => coerce(f, v)));
      const read = reader(f);
      return cond.negate ? (r) => !values.has(read(r)) : (r) => values.has(read(r));
    }
    case 'compare': {
      const f = resolve(fields, spec, cond.field);
      const read = reader(f);
      if (cond.op === 'like') {
        if (cond.value.kind !== 'string') throw new SoqlError('MALFORMED_QUERY', 'LIKE needs a quoted pattern');
        const re = likeToRegExp(cond.value.value);
        return (r) => { const v = r[f.name]; return typeof v === 'string' && re.test(v); };
      }
      const want = coerce(f, cond.value);
      if (want === null) {
        if (cond.op === '=') return (r) => r[f.name] === null || r[f.name] === undefined;
        if (cond.op === '!=') return (r) => r[f.name] !== null && r[f.name] !== undefined;
        return () => false;
      }
      const w = want as string | number | boolean;
      switch (cond.op) {
        case '=': return (r) => read(r) === w;
        case '!=': return (r) => read(r) !== w;
        case '<': return (r) => { const v = read(r); return v !== null && v < w; };
        case '<=': return (r) => { const v = read(r); return v !== null && v <= w; };
        case '>': return (r) => { const v = read(r); return v !== null && v > w; };
        case '>=': return (r) => { const v = read(r); return v !== null && v >= w; };
      }
    }
  }
}

/** Reads a field in the form literals were coerced to (lower case for case-insensitive text). */
function reader(f: FieldSpec): (r: Fields) => string | number | boolean | null {
  const name = f.name;
  const fold = !CASE_SENSITIVE.has(f.type) && !NUMERIC.has(f.type) && !['boolean', 'datetime', 'date'].includes(f.type);
  return fold
    ? (r) => { const v = r[name]; return typeof v === 'string' ? v.toLowerCase() : null; }
    : (r) => (r[name] ?? null) as string | number | boolean | null;
}

function compileOrder(terms: OrderTerm[], fields: Map<string, FieldSpec>, spec: ObjectSpec): (a: Fields, b: Fields) => number {
  const compiled = terms.map((t) => ({ name: resolve(fields, spec, t.field).name, desc: t.desc, nullsLast: t.nullsLast }));
  return (a, b) => {
    for (const t of compiled) {
      const x = a[t.name] as string | number | null | undefined;
      const y = b[t.name] as string | number | null | undefined;
      if (x === y) continue;
      if (x === null || x === undefined) return t.nullsLast ? 1 : -1;
      if (y === null || y === undefined) return t.nullsLast ? -1 : 1;
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c !== 0) return t.desc ? -c : c;
    }
    return 0;
  };
}

/** The smallest SystemModstamp a record matching `cond` can have, when the clause bounds it. */
function modstampLowerBound(cond: Condition | undefined): number | undefined {
  if (!cond) return undefined;
  switch (cond.kind) {
    case 'compare':
      if (cond.field.toLowerCase() !== 'systemmodstamp' || cond.value.kind !== 'datetime') return undefined;
      return cond.op === '>' || cond.op === '>=' || cond.op === '=' ? cond.value.value : undefined;
    case 'in':
      if (cond.negate || cond.field.toLowerCase() !== 'systemmodstamp') return undefined;
      return cond.values.every((v) => v.kind === 'datetime')
        ? Math.min(...cond.values.map((v) => (v as { value: number }).value))
        : undefined;
    case 'and': {
      const bounds = cond.items.map(modstampLowerBound).filter((b): b is number => b !== undefined);
      return bounds.length > 0 ? Math.max(...bounds) : undefined;
    }
    case 'or': {
      const bounds = cond.items.map(modstampLowerBound);
      return bounds.every((b) => b !== undefined) ? Math.min(...(bounds as number[])) : undefined;
    }
    case 'not':
      return undefined;
  }
}

/** Values the clause pins a key field to, when every match must have one of them. */
function pinnedKeys(cond: Condition | undefined, keyFields: string[]): { field: string; values: string[] } | undefined {
  if (!cond) return undefined;
  const canonical = (name: string) => keyFields.find((k) => k.toLowerCase() === name.toLowerCase());
  if (cond.kind === 'compare' && cond.op === '=' && cond.value.kind === 'string') {
    const field = canonical(cond.field);
    return field ? { field, values: [cond.value.value] } : undefined;
  }
  if (cond.kind === 'in' && !cond.negate && cond.values.every((v) => v.kind === 'string')) {
    const field = canonical(cond.field);
    return field ? { field, values: cond.values.map((v) => (v as { value: string }).value) } : undefined;
  }
  if (cond.kind === 'and') {
    for (const item of cond.items) {
      const pinned = pinnedKeys(item, keyFields);
      if (pinned) return pinned;
    }
  }
  return undefined;
}

/** Checks `query` against the object's fields and compiles it. */
export function bindQuery(query: SoqlQuery, spec: ObjectSpec): BoundQuery {
  const fields = fieldMap(spec);
  const count = query.fields === 'count';
  const select = count ? [] : (query.fields as string[]).map((name) => resolve(fields, spec, name).name);
  const duplicate = select.find((name, i) => select.indexOf(name) !== i);
  if (duplicate) throw new SoqlError('MALFORMED_QUERY', `duplicate field selected: ${duplicate}`);
  const where = query.where ? compileCondition(query.where, fields, spec) : () => true;
  const order = query.orderBy.map((t) => ({ ...t, field: resolve(fields, spec, t.field).name }));
  const naturalOrder =
    order.length > 0 && order.length <= 2 && !order.some((t) => t.desc) &&
    order[0].field === spec.modifiedField && (order.length === 1 || order[1].field === spec.idField);
  const keyFields = [spec.idField, ...(spec.upsertKeyField ? [spec.upsertKeyField] : [])];
  return {
    query,
    spec,
    select,
    count,
    where,
    compare: order.length > 0 ? compileOrder(order, fields, spec) : undefined,
    naturalOrder,
    modstampFrom: modstampLowerBound(query.where),
    pinned: pinnedKeys(query.where, keyFields),
  };
}
