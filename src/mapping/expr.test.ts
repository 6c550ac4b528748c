import { describe, expect, it } from 'vitest';
import { compileExpr, EXPR_LIMITS, MAX_RESULT_CHARS, MAX_RESULT_ITEMS } from './expr.js';
import { formatDiagnostic, parseMapping } from './index.js';

/**
 * CEL from a mapping file that tries to loop, allocate or reach outside: refused where the
 * mapping compiles, at the spot in the file, or bounded when a record is mapped (the record
 * fails with the reason, and the sync dead-letters it).
 */
const HEAD = 'system: erp\nobject: Customer\nentity: Account\nfields:\n  name: Name\n  description:\n    expr: ';

function errors(expr: string): string[] {
  const { diagnostics } = parseMapping(`${HEAD}${JSON.stringify(expr)}\n`, 'm.yaml');
  return diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

describe('CEL expressions that try to loop, allocate or reach outside', () => {
  it('refuses names outside the expression\'s world (process, require, globalThis, this, constructor)', () => {
    expect(errors('process.env.SECRET')).toEqual(['m.yaml:7:12: error: expression does not compile: Unknown variable: process']);
    expect(errors('require("child_process")')[0]).toMatch(/^m\.yaml:7:\d+: error: expression does not compile: .*require/);
    expect(errors('globalThis.process')).toEqual(['m.yaml:7:12: error: expression does not compile: Unknown variable: globalThis']);
    expect(errors('record.constructor.constructor("return process")()')[0]).toMatch(/^m\.yaml:7:\d+: error: expression does not compile/);
    // record.__proto__ is a field name like any other: the record's own, never Object.prototype, nor a way to change it.
    const { mapping } = parseMapping(`${HEAD}'record.__proto__.x'\n`, 'm.yaml');
    expect(mapping!.forward({ Name: 'Acme' })).toMatchObject({ ok: false, errors: [{ code: 'expression_failed', message: 'expression failed: No such key: __proto__' }] });
    expect(mapping!.forward(JSON.parse('{"Name": "Acme", "__proto__": {"x": "own"}}'))).toMatchObject({ ok: true, value: { name: 'Acme', description: 'own' } });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    const nested = compileExpr('record.Owner.constructor');
    if (!nested.ok) throw new Error(nested.message);
    expect(() => nested.expr.evaluate({ Owner: { Email: 'a@b.c' } }, {})).toThrow(/No such key: constructor/);
  });

  it('refuses a comprehension inside another (list size squared per record), at the inner one', () => {
    expect(errors("record.Tags.map(a, record.Tags.map(b, a + b)).size() > 0 ? 'x' : 'y'")).toEqual([
      'm.yaml:7:31: error: expression does not compile: map() inside map() runs once per pair of elements, which one record\'s size could make endless: use one map() at a time',
    ]);
    expect(errors('record.Tags.all(a, record.Tags.exists(b, b == a)) ? "x" : "y"')[0]).toMatch(/^m\.yaml:7:\d+: error: .*exists\(\) inside all\(\)/);
    expect(compileExpr('record.Tags.filter(t, t != "").size() > 0').ok).toBe(true);
  });

  it('refuses long literal lists, deep nesting and huge expressions, where they go over', () => {
    const list = `[${Array.from({ length: EXPR_LIMITS.maxListElements + 1 }, (_, i) => i).join(',')}].size() > 0 ? "x" : "y"`;
    expect(errors(list)[0]).toMatch(/^m\.yaml:7:\d+: error: expression does not compile: Exceeded maxListElements \(100\)/);
    const deep = `${'('.repeat(40)}"x"${')'.repeat(40)}`;
    expect(errors(deep)[0]).toMatch(/^m\.yaml:7:\d+: error: expression does not compile: Exceeded maxDepth \(24\)/);
    const calls = `${'domainOf('.repeat(30)}"x"${')'.repeat(30)}`;
    expect(errors(calls)[0]).toMatch(/Exceeded maxDepth/);
    const huge = Array.from({ length: 300 }, () => 'record.Name').join(' + ');
    expect(errors(huge)[0]).toMatch(/^m\.yaml:7:\d+: error: expression does not compile: Exceeded maxAstNodes \(500\)/);
  });

  it('bounds what one evaluation may produce: the record fails with the reason, the next is mapped', () => {
    const doubling = Array.from({ length: 40 }, () => 'record.Name').join(' + ');
    const { mapping, diagnostics } = parseMapping(`${HEAD}${JSON.stringify(doubling)}\n`, 'm.yaml');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const big = 'x'.repeat(2000);
    expect(mapping!.forward({ Name: big })).toMatchObject({
      ok: false,
      errors: [{ field: 'description', code: 'expression_failed', message: `expression failed: the result is 80000 characters, more than the ${MAX_RESULT_CHARS} an expression may produce` }],
    });
    expect(mapping!.forward({ Name: 'ab' })).toMatchObject({ ok: true, value: { name: 'ab', description: 'ab'.repeat(40) } });

    const tags = compileExpr('record.Tags.map(t, t + t)');
    if (!tags.ok) throw new Error(tags.message);
    const many = Array.from({ length: MAX_RESULT_ITEMS + 1 }, (_, i) => `t${i}`);
    expect(() => tags.expr.evaluate({ Tags: many }, {})).toThrow(`the result is a list of ${MAX_RESULT_ITEMS + 1} items`);
  });

  it('evaluates the costliest allowed shape over a large record in bounded time', () => {
    const scan = compileExpr('record.Items.filter(i, i > 0.0).size() + record.Items.map(i, i * 2.0).size()');
    if (!scan.ok) throw new Error(scan.message);
    const items = Array.from({ length: 100_000 }, (_, i) => i);
    const started = performance.now();
    expect(scan.expr.evaluate({ Items: items }, {})).toBe(199_999);
    // Linear in the record: well under a second even on a loaded machine.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
