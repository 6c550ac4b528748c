/**
 * Computed fields: CEL expressions (Common Expression Language, the non-Turing-complete language
 * of Kubernetes and Google APIs). Parsed and type-checked once at load; evaluated per record with
 * `record` (the record being mapped: the system record inbound, the canonical record outbound;
 * its referenced fields, empty values left out so `has(record.X)` means "X has a value") and
 * `defaults` (the file's defaults). No JavaScript ever comes from config.
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { fixDecimal, toDecimal } from './values.js';

/** Lower-case host of a URL or bare domain, without "www.": "https://www.Acme.com/x" → "acme.com". */
export function domainOf(url: string): string {
  const host = url.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#:]/, 1)[0] ?? '';
  return host.toLowerCase().replace(/^www\./, '').replace(/\.$/, '');
}

/** An exact decimal string as a scaled integer: "12.5" → 125n, 1 fraction digit. */
function scaled(value: string): { n: bigint; digits: number } {
  const d = toDecimal(value);
  if (d === undefined) throw new Error(`${JSON.stringify(value)} is not a decimal number`);
  const [whole, fraction = ''] = d.replace(/^-/, '').split('.');
  const n = BigInt(whole + fraction);
  return { n: d.startsWith('-') ? -n : n, digits: fraction.length };
}

/**
 * `amount / divisor` to `digits` fraction digits, rounded half away from zero, without floats:
 * decimalDivide("250000.00", 12, 2) == "20833.33". Money never goes through a double.
 */
export function decimalDivide(amount: string, divisor: bigint | number, digits: bigint | number): string {
  const { n, digits: given } = scaled(amount);
  const by = BigInt(divisor);
  const places = Number(digits);
  if (by === 0n) throw new Error('division by zero');
  if (places < 0 || places > 18) throw new Error('digits must be 0 to 18');
  // n / 10^given / by, scaled by 10^places: numerator and denominator as integers.
  let num = n * 10n ** BigInt(places);
  let den = by * 10n ** BigInt(given);
  if (den < 0n) [num, den] = [-num, -den];
  const negative = num < 0n;
  const abs = negative ? -num : num;
  const q = (abs * 2n + den) / (2n * den);
  return withPoint(negative && q !== 0n, q, places);
}

function withPoint(negative: boolean, q: bigint, places: number): string {
  let text = q.toString().padStart(places + 1, '0');
  if (places > 0) text = `${text.slice(0, -places)}.${text.slice(-places)}`;
  return negative ? `-${text}` : text;
}

/** Rounds a decimal string half away from zero to `digits` fraction digits: decimalRound("20833.5", 0) == "20834". */
export function decimalRound(amount: string, digits: bigint | number): string {
  const d = toDecimal(amount);
  if (d === undefined) throw new Error(`${JSON.stringify(amount)} is not a decimal number`);
  return fixDecimal(d, Number(digits));
}

/**
 * What one expression may be, checked when a mapping compiles (the error points at the spot):
 * a mapping's computed field is a line or two, so these are far above any real one and far
 * below what could stall a page. CEL has no loops or recursion; its only iteration is the
 * comprehension macros over a list, so one inside another (cost: list size squared, cubed…) is
 * refused, and literal lists and maps stay short.
 */
export const EXPR_LIMITS = { maxAstNodes: 500, maxDepth: 24, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 } as const;
/** The comprehension macros: each runs its body once per element of a list. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
/** The largest value one evaluation may produce: a field of one record, not a document. */
export const MAX_RESULT_CHARS = 64 * 1024;
export const MAX_RESULT_ITEMS = 10_000;

const environment = new Environment({ homogeneousAggregateLiterals: false, limits: EXPR_LIMITS })
  .registerVariable('record', 'map', { description: 'The system record: its fields that have a value' })
  .registerVariable('defaults', 'map', { description: 'The mapping file defaults' })
  .registerFunction('domainOf(string): string', domainOf, {
    description: 'Lower-case host of a URL without "www.": domainOf("https://www.Acme.com/x") == "acme.com"',
  })
  .registerFunction('decimalDivide(string, int, int): string', decimalDivide, {
    description: 'Exact decimal division rounded half away from zero: decimalDivide("250000.00", 12, 2) == "20833.33"',
  })
  .registerFunction('decimalRound(string, int): string', decimalRound, {
    description: 'Rounds a decimal half away from zero: decimalRound("20833.50", 0) == "20834"',
  });

/** An evaluation that read a field the record does not have (`record.account.website` without an account). */
export function isMissingKey(error: unknown): boolean {
  return error instanceof Error && /^No such key/.test(error.message);
}

export interface CompiledExpr {
  /** Evaluates against a system record; throws on evaluation errors (the caller turns them into record errors). */
  evaluate(record: Record<string, unknown>, defaults: Record<string, unknown>): unknown;
  /** System field paths the expression reads ("Website", "Owner.Email"). */
  reads: string[];
  /** The static result type CEL inferred: string, int, double, bool, dyn… */
  type: string;
}

export type ExprResult = { ok: true; expr: CompiledExpr } | { ok: false; message: string; offset: number };

/** Field paths read from `record`: record.A.B → "A.B", record["A"] → "A". */
function collectReads(node: ASTNode, out: Set<string>): void {
  const path = recordPath(node);
  if (path) {
    out.add(path);
    return;
  }
  const args = node.args as unknown;
  const visit = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (x && typeof x === 'object' && 'op' in x && 'args' in x) collectReads(x as ASTNode, out);
  };
  visit(args);
}

function recordPath(node: ASTNode): string | undefined {
  if (node.op === '.' || node.op === '.?') {
    const [target, name] = node.args as [ASTNode, string];
    if (target.op === 'id' && target.args === 'record') return name;
    const inner = recordPath(target);
    return inner === undefined ? undefined : `${inner}.${name}`;
  }
  if (node.op === '[]') {
    const [target, key] = node.args as [ASTNode, ASTNode];
    if (target.op === 'id' && target.args === 'record' && key.op === 'value' && typeof key.args === 'string') return key.args;
  }
  return undefined;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '';
}

/** CEL numbers are bigint ints or doubles; canonical values are plain JS. */
function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v === null || v === '') return undefined;
  return v;
}

/** The first comprehension inside another, or undefined. */
function nestedComprehension(node: ASTNode, inside: string | undefined): { node: ASTNode; outer: string; inner: string } | undefined {
  const name = node.op === 'rcall' ? String((node.args as unknown[])[0]) : undefined;
  const isLoop = name !== undefined && COMPREHENSIONS.has(name);
  if (isLoop && inside) return { node, outer: inside, inner: name };
  let found: ReturnType<typeof nestedComprehension>;
  const visit = (x: unknown) => {
    if (found) return;
    if (Array.isArray(x)) x.forEach(visit);
    else if (x && typeof x === 'object' && 'op' in x && 'args' in x) found = nestedComprehension(x as ASTNode, isLoop ? name : inside);
  };
  visit(node.args);
  return found;
}

/** Refuses a result too large to be one field of one record (a runaway concatenation or list). */
function bounded(value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_RESULT_CHARS) {
    throw new Error(`the result is ${value.length} characters, more than the ${MAX_RESULT_CHARS} an expression may produce`);
  }
  if (Array.isArray(value) && value.length > MAX_RESULT_ITEMS) {
    throw new Error(`the result is a list of ${value.length} items, more than the ${MAX_RESULT_ITEMS} an expression may produce`);
  }
  return value;
}

export function compileExpr(source: string): ExprResult {
  let parsed;
  try {
    parsed = environment.parse(source);
  } catch (error) {
    return failure(error);
  }
  const checked = parsed.check();
  if (!checked.valid) return failure(checked.error);
  const nested = nestedComprehension(parsed.ast, undefined);
  if (nested) {
    return {
      ok: false,
      offset: (nested.node as { start?: number }).start ?? 0,
      message: `${nested.inner}() inside ${nested.outer}() runs once per pair of elements, which one record's size could make endless: use one ${nested.outer}() at a time`,
    };
  }
  const reads = new Set<string>();
  collectReads(parsed.ast, reads);
  // Only top-level names are copied per record; nested paths come along with their parent.
  const roots = [...new Set([...reads].map((p) => p.split('.', 1)[0]))];
  const evaluate = (record: Record<string, unknown>, defaults: Record<string, unknown>) => {
    const picked: Record<string, unknown> = {};
    for (const name of roots) {
      // Own fields only: `record.__proto__` or `record.constructor` never reach JavaScript's objects.
      const v = Object.hasOwn(record, name) ? record[name] : undefined;
      // defineProperty: a record's own "__proto__" field stays a field, never the object's prototype.
      if (!isEmpty(v)) Object.defineProperty(picked, name, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return bounded(fromCel(parsed({ record: picked, defaults })));
  };
  return { ok: true, expr: { evaluate, reads: [...reads], type: checked.type ?? 'dyn' } };
}

function failure(error: unknown): ExprResult {
  const e = error as { message?: string; summary?: string; range?: { start: number }; node?: { start?: number; pos?: number } };
  const message = (e.summary ?? e.message ?? String(error)).split('\n', 1)[0];
  const offset = e.range?.start ?? e.node?.start ?? e.node?.pos ?? 0;
  return { ok: false, message, offset };
}
