/**
 * Computed fields: CEL expressions (Common Expression Language, the non-Turing-complete language
 * of Kubernetes and Google APIs). Parsed and type-checked once at load; evaluated per record with
 * `record` (the system record's referenced fields, empty values left out so `has(record.X)` means
 * "X has a value") and `defaults` (the file's defaults). No JavaScript ever comes from config.
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';

/** Lower-case host of a URL or bare domain, without "www.": "https://www.Acme.com/x" → "acme.com". */
export function domainOf(url: string): string {
  const host = url.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#:]/, 1)[0] ?? '';
  return host.toLowerCase().replace(/^www\./, '').replace(/\.$/, '');
}

const environment = new Environment({ homogeneousAggregateLiterals: false })
  .registerVariable('record', 'map', { description: 'The system record: its fields that have a value' })
  .registerVariable('defaults', 'map', { description: 'The mapping file defaults' })
  .registerFunction('domainOf(string): string', domainOf, {
    description: 'Lower-case host of a URL without "www.": domainOf("https://www.Acme.com/x") == "acme.com"',
  });

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

export function compileExpr(source: string): ExprResult {
  let parsed;
  try {
    parsed = environment.parse(source);
  } catch (error) {
    return failure(error);
  }
  const checked = parsed.check();
  if (!checked.valid) return failure(checked.error);
  const reads = new Set<string>();
  collectReads(parsed.ast, reads);
  // Only top-level names are copied per record; nested paths come along with their parent.
  const roots = [...new Set([...reads].map((p) => p.split('.', 1)[0]))];
  const evaluate = (record: Record<string, unknown>, defaults: Record<string, unknown>) => {
    const picked: Record<string, unknown> = {};
    for (const name of roots) {
      const v = record[name];
      if (!isEmpty(v)) picked[name] = v;
    }
    return fromCel(parsed({ record: picked, defaults }));
  };
  return { ok: true, expr: { evaluate, reads: [...reads], type: checked.type ?? 'dyn' } };
}

function failure(error: unknown): ExprResult {
  const e = error as { message?: string; summary?: string; range?: { start: number }; node?: { start?: number; pos?: number } };
  const message = (e.summary ?? e.message ?? String(error)).split('\n', 1)[0];
  const offset = e.range?.start ?? e.node?.start ?? e.node?.pos ?? 0;
  return { ok: false, message, offset };
}
