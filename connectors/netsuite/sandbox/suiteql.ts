import sqlParser from 'node-sql-parser/build/postgresql.js';

/**
 * The sandbox's SuiteQL: node-sql-parser (its PostgreSQL grammar, which like Oracle's has `||`
 * concatenation and double-quoted identifiers) parses the query, and this module evaluates the
 * part of the language the connector and RevOps users send over the account's tables. Anything
 * else is refused with the reason rather than answered wrongly.
 *
 * Supported: SELECT of columns, `*`, `t.*` and expressions with aliases; FROM one table with an
 * alias, LEFT/INNER JOINs ON any condition (equality joins are hashed) and comma joins; WHERE with
 * = <> != < <= > >=, LIKE / NOT LIKE, IN / NOT IN (lists), IS [NOT] NULL, BETWEEN, AND/OR/NOT and
 * parentheses, with Oracle's three-valued logic and its implicit conversions (a string compared
 * with a number or a date); ROWNUM; arithmetic (date ± days); `||`; the functions TO_CHAR, TO_DATE,
 * TO_TIMESTAMP, UPPER, LOWER, NVL, COALESCE, CONCAT, ABS, ROUND, BUILTIN.DF and SYSDATE; COUNT, SUM,
 * MIN, MAX and AVG with GROUP BY and HAVING; ORDER BY columns, aliases or positions, ASC/DESC,
 * with Oracle's NULL placement (last ascending, first descending).
 * Not supported (refused): DISTINCT, UNION and the other set operators, subqueries, CASE,
 * RIGHT/FULL joins, window functions, FETCH/LIMIT, and any other function.
 */

/** A DATE value: an instant; the account's clock and time zone (UTC) give its calendar date. */
export class SqlTime {
  constructor(readonly ms: number) {}
}

/**
 * Values as tables hold them: booleans are 'T'/'F' strings in SuiteQL, as in NetSuite. JS
 * booleans only come out of conditions.
 */
export type SqlValue = null | string | number | boolean | SqlTime;
export type Row = Record<string, SqlValue>;

export interface Table {
  /** Column names, lower case. */
  columns: readonly string[];
  rows(): Iterable<Row>;
  /** BUILTIN.DF: the display text of a column's value (a reference's name, a status's label). */
  display?(column: string, value: SqlValue): string | undefined;
}

export interface QueryContext {
  table(name: string): Table | undefined;
  now(): number;
}

export interface QueryResult {
  columns: string[];
  rows: Row[];
}

/** A query NetSuite would refuse (or the sandbox cannot answer); the server wraps it in NetSuite's error. */
export class SuiteQLError extends Error {}

function refuse(reason: string): never {
  throw new SuiteQLError(reason);
}

const parser = new sqlParser.Parser();

// ---- AST shapes (the parts of node-sql-parser's PostgreSQL AST this module reads) ----------

interface Node {
  type: string;
  [key: string]: unknown;
}
interface ColumnRef extends Node {
  type: 'column_ref';
  table: string | { value: string } | null;
  column: string | { expr: { type: string; value: unknown } };
}
interface FromEntry {
  table?: string;
  as?: string | null;
  join?: string;
  on?: Node | null;
  expr?: unknown;
}
interface SelectAst {
  type: string;
  with?: unknown;
  distinct?: { type: string | null } | null;
  columns: { expr: Node; as?: string | null }[] | '*';
  from?: FromEntry[] | null;
  where?: Node | null;
  groupby?: { columns: Node[] | null } | Node[] | null;
  having?: Node | null;
  orderby?: { expr: Node; type?: string | null }[] | null;
  limit?: { value?: unknown[] } | null;
  _next?: unknown;
  window?: unknown;
  into?: { position?: unknown } | null;
}

/** Parses and runs one SELECT. */
export function runSuiteQL(query: string, context: QueryContext): QueryResult {
  let ast: unknown;
  try {
    ast = parser.astify(query, { database: 'postgresql' });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    refuse(`Syntax error in the query (${message.slice(0, 160)}).`);
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) refuse('Only one statement is allowed per query.');
    ast = ast[0];
  }
  const select = ast as SelectAst;
  if (select.type !== 'select') refuse('SuiteQL is read-only: only SELECT statements are allowed.');
  checkShape(select);
  return new Query(select, context).run();
}

function checkShape(s: SelectAst): void {
  if (s._next) refuse('UNION, INTERSECT and MINUS are not supported by the sandbox.');
  if (s.with) refuse('WITH clauses are not supported by the sandbox.');
  if (s.distinct?.type) refuse('DISTINCT is not supported by the sandbox.');
  if (s.window) refuse('Window functions are not supported by the sandbox.');
  if (s.limit?.value && s.limit.value.length > 0) refuse('LIMIT and OFFSET are not SuiteQL: page with the limit and offset query parameters.');
  if (s.into?.position) refuse('SELECT … INTO is not allowed.');
  if (!s.from || s.from.length === 0) refuse('The query has no FROM clause.');
}

// ---- evaluation ------------------------------------------------------------------------------

interface Source {
  alias: string;
  tableName: string;
  table: Table;
}

/** One joined row: each alias's row, or null where a LEFT JOIN found none. */
type Joined = Map<string, Row | null>;

const AGGREGATES = new Set(['COUNT', 'SUM', 'MIN', 'MAX', 'AVG']);

class Query {
  private readonly sources: Source[] = [];
  /** ROWNUM while WHERE runs: the rows accepted so far plus one. */
  private rownum = 0;

  constructor(private readonly ast: SelectAst, private readonly context: QueryContext) {}

  run(): QueryResult {
    let rows = this.from();
    if (this.ast.where) rows = this.filter(rows, this.ast.where);
    const grouped = this.isAggregate();
    const output = grouped ? this.groupRows(rows) : rows.map((r) => this.project(r, [r]));
    const ordered = this.order(output);
    return { columns: this.outputNames(), rows: ordered.map((o) => o.values) };
  }

  // -- FROM and joins --------------------------------------------------------------------------

  private from(): Joined[] {
    const entries = this.ast.from!;
    let rows: Joined[] = [];
    entries.forEach((entry, i) => {
      if (entry.expr !== undefined || typeof entry.table !== 'string') refuse('Subqueries are not supported by the sandbox.');
      const tableName = entry.table.toLowerCase();
      const table = this.context.table(tableName) ?? refuse(`Record '${entry.table}' was not found.`);
      const alias = (entry.as ?? entry.table).toLowerCase();
      if (this.sources.some((s) => s.alias === alias)) refuse(`The alias ${alias} is used twice.`);
      const source = { alias, tableName, table };
      this.sources.push(source);
      if (i === 0) {
        rows = [...table.rows()].map((r) => new Map([[alias, r]]));
        return;
      }
      const join = (entry.join ?? 'CROSS').toUpperCase();
      if (join !== 'LEFT JOIN' && join !== 'INNER JOIN' && join !== 'JOIN' && join !== 'LEFT OUTER JOIN' && join !== 'CROSS') {
        refuse(`${join} is not supported by the sandbox; use LEFT JOIN or INNER JOIN.`);
      }
      rows = this.join(rows, source, join === 'CROSS' ? null : entry.on ?? null, join.startsWith('LEFT'));
    });
    return rows;
  }

  private join(left: Joined[], source: Source, on: Node | null, outer: boolean): Joined[] {
    const right = [...source.table.rows()];
    const key = on ? this.equiJoinKey(on, source.alias) : undefined;
    let candidates: (row: Joined) => Row[];
    if (key) {
      const index = new Map<string, Row[]>();
      for (const r of right) {
        const k = hashKey(r[key.rightColumn] ?? null);
        if (k === null) continue;
        let bucket = index.get(k);
        if (!bucket) index.set(k, (bucket = []));
        bucket.push(r);
      }
      candidates = (row) => {
        const k = hashKey(this.eval(key.leftExpr, row));
        return k === null ? [] : index.get(k) ?? [];
      };
    } else {
      if (left.length * right.length > 2_000_000) refuse('The join is too large for the sandbox: join on an equality of columns.');
      candidates = () => right;
    }
    const out: Joined[] = [];
    for (const row of left) {
      let matched = false;
      for (const r of candidates(row)) {
        const next = new Map(row).set(source.alias, r);
        if (on === null || this.eval(on, next) === true) {
          out.push(next);
          matched = true;
        }
      }
      if (!matched && outer) out.push(new Map(row).set(source.alias, null));
    }
    return out;
  }

  /** An `a.x = b.y` conjunct of ON where one side is the joined table's column: the join is hashed on it. */
  private equiJoinKey(on: Node, alias: string): { rightColumn: string; leftExpr: Node } | undefined {
    for (const c of conjuncts(on)) {
      if (c.type !== 'binary_expr' || c.operator !== '=') continue;
      const l = c.left as Node;
      const r = c.right as Node;
      for (const [mine, other] of [[l, r], [r, l]] as const) {
        if (mine.type !== 'column_ref' || refTable(mine as ColumnRef) !== alias) continue;
        if (this.mentions(other, alias)) continue;
        return { rightColumn: refColumn(mine as ColumnRef), leftExpr: other };
      }
    }
    return undefined;
  }

  private mentions(node: unknown, alias: string): boolean {
    if (!node || typeof node !== 'object') return false;
    if ((node as Node).type === 'column_ref') {
      const t = refTable(node as ColumnRef);
      return t === alias || (t === null && this.sources.find((s) => s.alias === alias)?.table.columns.includes(refColumn(node as ColumnRef)) === true);
    }
    return Object.values(node).some((v) => this.mentions(v, alias));
  }

  // -- WHERE -----------------------------------------------------------------------------------

  private filter(rows: Joined[], where: Node): Joined[] {
    const out: Joined[] = [];
    this.rownum = 1;
    for (const row of rows) {
      if (this.eval(where, row) === true) {
        out.push(row);
        this.rownum++;
      }
    }
    this.rownum = 0;
    return out;
  }

  // -- SELECT, GROUP BY, ORDER BY --------------------------------------------------------------

  private selectItems(): { expr: Node; as?: string | null }[] {
    const cols = this.ast.columns;
    return cols === '*' ? [{ expr: { type: 'column_ref', table: null, column: '*' } }] : cols;
  }

  private names: string[] | undefined;

  /** Output column names: aliases or column names in lower case; other expressions are expr1, expr2, … */
  private outputNames(): string[] {
    if (this.names) return this.names;
    const names: string[] = [];
    let unnamed = 0;
    for (const item of this.selectItems()) {
      const star = starOf(item.expr);
      if (star !== undefined) {
        for (const s of this.starSources(star)) names.push(...s.table.columns);
        continue;
      }
      if (item.as) names.push(item.as.toLowerCase());
      else if (item.expr.type === 'column_ref') names.push(refColumn(item.expr as ColumnRef));
      else names.push(`expr${++unnamed}`);
    }
    this.names = names;
    return names;
  }

  private starSources(star: string | null): Source[] {
    if (star === null) return this.sources;
    const s = this.sources.find((x) => x.alias === star) ?? refuse(`Unknown table alias ${star} in ${star}.*`);
    return [s];
  }

  /** The output values of one row (or group), with the row kept for ORDER BY. */
  private project(row: Joined, group: Joined[]): { values: Row; row: Joined; group: Joined[] } {
    const values: Row = {};
    const names = this.outputNames();
    let i = 0;
    for (const item of this.selectItems()) {
      const star = starOf(item.expr);
      if (star !== undefined) {
        for (const s of this.starSources(star)) for (const c of s.table.columns) values[names[i++]] = row.get(s.alias)?.[c] ?? null;
        continue;
      }
      values[names[i++]] = this.groupEval(item.expr, row, group);
    }
    return { values, row, group };
  }

  private isAggregate(): boolean {
    return this.groupBy().length > 0 || this.selectItems().some((c) => hasAggregate(c.expr)) || (this.ast.having !== undefined && this.ast.having !== null);
  }

  private groupBy(): Node[] {
    const g = this.ast.groupby;
    if (!g) return [];
    return Array.isArray(g) ? g : g.columns ?? [];
  }

  private groupRows(rows: Joined[]): { values: Row; row: Joined; group: Joined[] }[] {
    const keys = this.groupBy();
    for (const item of this.selectItems()) {
      if (starOf(item.expr) !== undefined) refuse('SELECT * cannot be used with GROUP BY or aggregate functions.');
      this.checkGrouped(item.expr, keys);
    }
    const groups = new Map<string, Joined[]>();
    for (const row of rows) {
      const k = JSON.stringify(keys.map((e) => keyText(this.eval(e, row))));
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(row);
    }
    // An aggregate without GROUP BY over no rows still answers one row (COUNT(*) = 0).
    if (groups.size === 0 && keys.length === 0) groups.set('[]', []);
    const out: { values: Row; row: Joined; group: Joined[] }[] = [];
    for (const group of groups.values()) {
      const first = group[0] ?? new Map();
      if (this.ast.having && this.groupEval(this.ast.having, first, group) !== true) continue;
      out.push(this.project(first, group));
    }
    return out;
  }

  /** Columns outside aggregates must be grouped on (Oracle's "not a GROUP BY expression"). */
  private checkGrouped(expr: Node, keys: Node[]): void {
    if (expr.type === 'aggr_func') return;
    if (keys.some((k) => sameExpr(k, expr))) return;
    if (expr.type === 'column_ref') refuse(`${refColumn(expr as ColumnRef)} is not a GROUP BY expression.`);
    for (const child of children(expr)) this.checkGrouped(child, keys);
  }

  private order<T extends { values: Row; row: Joined; group: Joined[] }>(rows: T[]): T[] {
    const orderby = this.ast.orderby;
    if (!orderby || orderby.length === 0) return rows;
    const names = this.outputNames();
    const keyed = rows.map((r) => ({
      r,
      keys: orderby.map((o) => {
        const e = o.expr;
        if (e.type === 'number') {
          const n = Number(e.value);
          if (!Number.isInteger(n) || n < 1 || n > names.length) refuse(`ORDER BY position ${String(e.value)} is out of range.`);
          return r.values[names[n - 1]];
        }
        if (e.type === 'column_ref' && refTable(e as ColumnRef) === null) {
          const name = refColumn(e as ColumnRef);
          const own = this.sources.some((s) => s.table.columns.includes(name));
          if (!own && names.includes(name)) return r.values[name];
        }
        return this.groupEval(e, r.row, r.group);
      }),
    }));
    keyed.sort((a, b) => {
      for (let i = 0; i < orderby.length; i++) {
        const desc = (orderby[i].type ?? 'ASC').toUpperCase() === 'DESC';
        const c = orderCompare(a.keys[i], b.keys[i], desc);
        if (c !== 0) return c;
      }
      return 0;
    });
    return keyed.map((k) => k.r);
  }

  // -- expressions -----------------------------------------------------------------------------

  /** Evaluates an expression that may hold aggregates over the group. */
  private groupEval(expr: Node, row: Joined, group: Joined[]): SqlValue {
    if (expr.type === 'aggr_func') return this.aggregate(expr, group);
    if (!hasAggregate(expr)) return this.eval(expr, row);
    return this.eval(expr, row, (e) => this.aggregate(e, group));
  }

  private aggregate(expr: Node, group: Joined[]): SqlValue {
    const name = String(expr.name).toUpperCase();
    if (!AGGREGATES.has(name)) refuse(`The aggregate ${name} is not supported by the sandbox.`);
    const arg = (expr.args as { expr: Node; distinct?: unknown }).expr;
    if ((expr.args as { distinct?: unknown }).distinct) refuse(`${name}(DISTINCT …) is not supported by the sandbox.`);
    if (arg.type === 'star') {
      if (name !== 'COUNT') refuse(`${name}(*) is not valid.`);
      return group.length;
    }
    const values = group.map((r) => this.eval(arg, r)).filter((v): v is Exclude<SqlValue, null> => v !== null);
    if (name === 'COUNT') return values.length;
    if (values.length === 0) return null;
    if (name === 'MIN' || name === 'MAX') return values.reduce((a, b) => ((compare(a, b) ?? 0) <= 0 === (name === 'MIN') ? a : b));
    const nums = values.map((v) => toNumber(v));
    const sum = nums.reduce((a, b) => a + b, 0);
    return name === 'SUM' ? roundFloat(sum) : roundFloat(sum / nums.length);
  }

  /** Values of constant calls and operations (TO_TIMESTAMP('…', '…')), computed once per query rather than once per row. */
  private readonly constants = new Map<Node, SqlValue>();

  private eval(expr: Node, row: Joined, aggregate?: (e: Node) => SqlValue): SqlValue {
    if ((expr.type === 'function' || expr.type === 'binary_expr') && isConstant(expr)) {
      if (!this.constants.has(expr)) this.constants.set(expr, this.evalNode(expr, row, aggregate));
      return this.constants.get(expr)!;
    }
    return this.evalNode(expr, row, aggregate);
  }

  private evalNode(expr: Node, row: Joined, aggregate?: (e: Node) => SqlValue): SqlValue {
    switch (expr.type) {
      case 'number':
        return Number(expr.value);
      case 'single_quote_string': case 'string':
        return String(expr.value);
      case 'null':
        return null;
      case 'bool':
        return refuse('TRUE and FALSE are not SuiteQL values: compare with \'T\' or \'F\'.');
      case 'column_ref':
        return this.column(expr as ColumnRef, row);
      case 'aggr_func':
        return aggregate ? aggregate(expr) : refuse(`The aggregate ${String(expr.name)} is not allowed here.`);
      case 'unary_expr': {
        const op = String(expr.operator).toUpperCase();
        const v = this.eval(expr.expr as Node, row, aggregate);
        if (op === 'NOT') return v === null ? null : !truthy(v) ? true : false;
        if (op === '-') return v === null ? null : -toNumber(v);
        return refuse(`The operator ${op} is not supported by the sandbox.`);
      }
      case 'binary_expr':
        return this.binary(expr, row, aggregate);
      case 'function':
        return this.call(expr, row, aggregate);
      case 'expr_list':
        return refuse('A list of values is only allowed after IN.');
      case 'case':
        return refuse('CASE expressions are not supported by the sandbox.');
      default:
        return refuse(`${expr.type} expressions are not supported by the sandbox.`);
    }
  }

  /** Where each column reference reads from, resolved once per query. */
  private readonly resolved = new Map<ColumnRef, { alias: string; name: string } | 'sysdate' | 'rownum'>();

  private column(ref: ColumnRef, row: Joined): SqlValue {
    let at = this.resolved.get(ref);
    if (!at) this.resolved.set(ref, (at = this.resolve(ref)));
    if (at === 'sysdate') return new SqlTime(this.context.now());
    if (at === 'rownum') return this.rownum > 0 ? this.rownum : refuse('ROWNUM is only supported in WHERE.');
    return row.get(at.alias)?.[at.name] ?? null;
  }

  private resolve(ref: ColumnRef): { alias: string; name: string } | 'sysdate' | 'rownum' {
    const table = refTable(ref);
    const name = refColumn(ref);
    if (table === null) {
      if (name === 'sysdate' || name === 'rownum') return name;
      const owners = this.sources.filter((s) => s.table.columns.includes(name));
      if (owners.length > 1) refuse(`Column ${name} is ambiguous: qualify it with one of ${owners.map((s) => s.alias).join(', ')}.`);
      if (owners.length === 0) refuse(`Field '${name}' for record '${this.sources[0].tableName}' was not found.`);
      return { alias: owners[0].alias, name };
    }
    const source = this.sources.find((s) => s.alias === table) ?? refuse(`Unknown table or alias ${table}.`);
    if (!source.table.columns.includes(name)) refuse(`Field '${name}' for record '${source.tableName}' was not found.`);
    return { alias: source.alias, name };
  }

  private binary(expr: Node, row: Joined, aggregate?: (e: Node) => SqlValue): SqlValue {
    const op = String(expr.operator).toUpperCase();
    switch (op) {
      case 'AND': {
        const l = this.eval(expr.left as Node, row, aggregate);
        if (l !== null && !truthy(l)) return false;
        const r = this.eval(expr.right as Node, row, aggregate);
        if (r !== null && !truthy(r)) return false;
        return l === null || r === null ? null : true;
      }
      case 'OR': {
        const l = this.eval(expr.left as Node, row, aggregate);
        if (l !== null && truthy(l)) return true;
        const r = this.eval(expr.right as Node, row, aggregate);
        if (r !== null && truthy(r)) return true;
        return l === null || r === null ? null : false;
      }
      case 'IS': case 'IS NOT': {
        if ((expr.right as Node).type !== 'null') refuse(`${op} is only supported with NULL.`);
        const isNull = this.eval(expr.left as Node, row, aggregate) === null;
        return op === 'IS' ? isNull : !isNull;
      }
      case 'IN': case 'NOT IN': {
        const list = expr.right as Node;
        if (list.type !== 'expr_list') refuse(`${op} needs a list of values.`);
        const items = list.value as Node[];
        const literals = literalSet(list, items);
        const v = this.eval(expr.left as Node, row, aggregate);
        if (v === null) return null;
        if (literals && typeof v !== 'object') {
          // A list of plain literals is a set: one lookup instead of a comparison per item.
          const hit = literals.values.has(literals.numeric && typeof v === 'string' ? String(Number(v)) : String(v));
          return hit ? op === 'IN' : literals.hasNull ? null : op !== 'IN';
        }
        let sawNull = false;
        for (const item of items) {
          const x = this.eval(item as Node, row, aggregate);
          if (x === null) sawNull = true;
          else if (compare(v, x) === 0) return op === 'IN';
        }
        return sawNull ? null : op !== 'IN';
      }
      case 'BETWEEN': case 'NOT BETWEEN': {
        const [low, high] = (expr.right as { value: Node[] }).value;
        const v = this.eval(expr.left as Node, row, aggregate);
        const lo = this.eval(low as Node, row, aggregate);
        const hi = this.eval(high as Node, row, aggregate);
        if (v === null || lo === null || hi === null) return null;
        const inside = (compare(v, lo) ?? -1) >= 0 && (compare(v, hi) ?? 1) <= 0;
        return op === 'BETWEEN' ? inside : !inside;
      }
      case 'LIKE': case 'NOT LIKE': {
        if (expr.escape) refuse('LIKE … ESCAPE is not supported by the sandbox.');
        const v = this.eval(expr.left as Node, row, aggregate);
        const p = this.eval(expr.right as Node, row, aggregate);
        if (v === null || p === null) return null;
        const hit = likeRegExp(String(p)).test(valueText(v));
        return op === 'LIKE' ? hit : !hit;
      }
      case '=': case '<>': case '!=': case '<': case '<=': case '>': case '>=': {
        const l = this.eval(expr.left as Node, row, aggregate);
        const r = this.eval(expr.right as Node, row, aggregate);
        const c = compare(l, r);
        if (c === null) return null;
        return op === '=' ? c === 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : c !== 0;
      }
      case '||': {
        const l = this.eval(expr.left as Node, row, aggregate);
        const r = this.eval(expr.right as Node, row, aggregate);
        return (l === null ? '' : valueText(l)) + (r === null ? '' : valueText(r));
      }
      case '+': case '-': case '*': case '/':
        return arithmetic(op, this.eval(expr.left as Node, row, aggregate), this.eval(expr.right as Node, row, aggregate));
      default:
        return refuse(`The operator ${op} is not supported by the sandbox.`);
    }
  }

  private call(expr: Node, row: Joined, aggregate?: (e: Node) => SqlValue): SqlValue {
    const nameNode = expr.name as { name: { value: string }[]; schema?: { value: string } };
    const name = [nameNode.schema?.value, ...nameNode.name.map((n) => n.value)].filter(Boolean).join('.').toUpperCase();
    const args = ((expr.args as { value?: Node[] } | undefined)?.value ?? []);
    const ev = (e: Node) => this.eval(e, row, aggregate);
    const arity = (min: number, max = min) => {
      if (args.length < min || args.length > max) refuse(`${name} takes ${min === max ? min : `${min} to ${max}`} arguments.`);
    };
    switch (name) {
      case 'TO_CHAR': {
        arity(1, 2);
        const v = ev(args[0]);
        if (v === null) return null;
        const fmt = args[1] ? ev(args[1]) : null;
        if (v instanceof SqlTime) return fmt === null ? formatAccountDate(v) : formatTime(v, String(fmt));
        if (fmt !== null) refuse('TO_CHAR with a number format is not supported by the sandbox.');
        return valueText(v);
      }
      case 'TO_DATE': case 'TO_TIMESTAMP': {
        arity(1, 2);
        const v = ev(args[0]);
        if (v === null) return null;
        if (v instanceof SqlTime) return v;
        const fmt = args[1] ? ev(args[1]) : null;
        return fmt === null ? parseAccountDate(String(v)) : parseTime(String(v), String(fmt));
      }
      case 'UPPER': case 'LOWER': {
        arity(1);
        const v = ev(args[0]);
        return v === null ? null : name === 'UPPER' ? valueText(v).toUpperCase() : valueText(v).toLowerCase();
      }
      case 'NVL': {
        arity(2);
        return ev(args[0]) ?? ev(args[1]);
      }
      case 'COALESCE': {
        for (const a of args) {
          const v = ev(a);
          if (v !== null) return v;
        }
        return null;
      }
      case 'CONCAT': {
        arity(2);
        const [l, r] = args.map(ev);
        return (l === null ? '' : valueText(l)) + (r === null ? '' : valueText(r));
      }
      case 'ABS': {
        arity(1);
        const v = ev(args[0]);
        return v === null ? null : Math.abs(toNumber(v));
      }
      case 'ROUND': {
        arity(1, 2);
        const v = ev(args[0]);
        if (v === null) return null;
        const digits = args[1] ? toNumber(ev(args[1]) ?? 0) : 0;
        const f = 10 ** digits;
        return Math.round(toNumber(v) * f) / f;
      }
      case 'NOT': {
        // The grammar reads `NOT (a = b)` as a call.
        arity(1);
        const v = ev(args[0]);
        return v === null ? null : !truthy(v);
      }
      case 'BUILTIN.DF': {
        arity(1);
        const arg = args[0];
        if (arg.type !== 'column_ref') refuse('BUILTIN.DF takes a column.');
        const v = ev(arg);
        if (v === null) return null;
        const ref = arg as ColumnRef;
        const column = refColumn(ref);
        const alias = refTable(ref);
        const source = alias === null ? this.sources.find((s) => s.table.columns.includes(column)) : this.sources.find((s) => s.alias === alias);
        return source?.table.display?.(column, v) ?? valueText(v);
      }
      default:
        return refuse(`The function ${name} is not supported by the sandbox.`);
    }
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function refTable(ref: ColumnRef): string | null {
  const t = ref.table;
  if (t === null || t === undefined) return null;
  return (typeof t === 'string' ? t : t.value).toLowerCase();
}

function refColumn(ref: ColumnRef): string {
  const c = ref.column;
  return (typeof c === 'string' ? c : String(c.expr.value)).toLowerCase();
}

/** For `*` and `t.*`: null (every table) or the alias; undefined for any other expression. */
function starOf(expr: Node): string | null | undefined {
  if (expr.type !== 'column_ref') return undefined;
  const ref = expr as ColumnRef;
  if (ref.column !== '*') return undefined;
  return refTable(ref);
}

function conjuncts(node: Node): Node[] {
  if (node.type === 'binary_expr' && String(node.operator).toUpperCase() === 'AND') {
    return [...conjuncts(node.left as Node), ...conjuncts(node.right as Node)];
  }
  return [node];
}

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const v of Object.values(node)) {
    if (Array.isArray(v)) out.push(...v.filter((x): x is Node => typeof x === 'object' && x !== null && 'type' in x));
    else if (v && typeof v === 'object' && 'type' in v) out.push(v as Node);
    else if (v && typeof v === 'object' && Array.isArray((v as { value?: unknown }).value)) out.push(...children(v as Node));
  }
  return out;
}

const constness = new WeakMap<object, boolean>();

/** No column (SYSDATE and ROWNUM are columns to the grammar) and no aggregate anywhere inside. */
function isConstant(node: unknown): boolean {
  if (!node || typeof node !== 'object') return true;
  const known = constness.get(node);
  if (known !== undefined) return known;
  const type = (node as Node).type;
  const result = type !== 'column_ref' && type !== 'aggr_func' && type !== 'star' && Object.values(node).every(isConstant);
  constness.set(node, result);
  return result;
}

const aggregated = new WeakMap<object, boolean>();

function hasAggregate(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false;
  const known = aggregated.get(node);
  if (known !== undefined) return known;
  const result = (node as Node).type === 'aggr_func' || Object.values(node).some(hasAggregate);
  aggregated.set(node, result);
  return result;
}

function sameExpr(a: Node, b: Node): boolean {
  if (a.type === 'column_ref' && b.type === 'column_ref') {
    return refColumn(a as ColumnRef) === refColumn(b as ColumnRef) && (refTable(a as ColumnRef) === refTable(b as ColumnRef) || refTable(a as ColumnRef) === null || refTable(b as ColumnRef) === null);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

interface LiteralSet {
  values: Set<string>;
  numeric: boolean;
  hasNull: boolean;
}

const literalSets = new WeakMap<Node, LiteralSet | null>();

/**
 * The values of an IN list made only of number literals or only of string literals (so a
 * number and a numeric string match as Oracle's implicit conversion would), or null.
 */
function literalSet(list: Node, items: Node[]): LiteralSet | null {
  if (literalSets.has(list)) return literalSets.get(list)!;
  if (items.some((i) => (i as { ast?: unknown }).ast !== undefined)) refuse('Subqueries are not supported by the sandbox.');
  const kinds = new Set(items.filter((i) => i.type !== 'null').map((i) => (i.type === 'number' ? 'number' : i.type === 'single_quote_string' ? 'string' : 'other')));
  const usable = kinds.size === 1 && !kinds.has('other');
  const set = usable ? {
    values: new Set(items.filter((i) => i.type !== 'null').map((i) => String(i.type === 'number' ? Number(i.value) : i.value))),
    numeric: kinds.has('number'),
    hasNull: items.some((i) => i.type === 'null'),
  } : null;
  literalSets.set(list, set);
  return set;
}

function truthy(v: SqlValue): boolean {
  return v === true;
}

function hashKey(v: SqlValue): string | null {
  if (v === null) return null;
  if (v instanceof SqlTime) return `t${v.ms}`;
  return String(v);
}

function keyText(v: SqlValue): string | null {
  return v === null ? null : v instanceof SqlTime ? `t${v.ms}` : `${typeof v}:${String(v)}`;
}

function toNumber(v: SqlValue): number {
  if (typeof v === 'number') return v;
  if (v instanceof SqlTime) return refuse('A date was used where a number is expected.');
  const n = Number(v);
  if (v === null || String(v).trim() === '' || !Number.isFinite(n)) return refuse(`invalid number: '${String(v)}'`);
  return n;
}

/** Binary floats make 0.1 + 0.2 ≠ 0.3; money sums are rounded back to a sane number of digits. */
function roundFloat(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}

/** Oracle comparison with implicit conversion; null when either side is NULL. */
export function compare(a: SqlValue, b: SqlValue): number | null {
  if (a === null || b === null) return null;
  if (a instanceof SqlTime || b instanceof SqlTime) {
    const x = a instanceof SqlTime ? a.ms : parseAccountDate(String(a)).ms;
    const y = b instanceof SqlTime ? b.ms : parseAccountDate(String(b)).ms;
    return Math.sign(x - y);
  }
  if (typeof a === 'number' || typeof b === 'number') return Math.sign(toNumber(a) - toNumber(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function orderCompare(a: SqlValue, b: SqlValue, desc: boolean): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    // Oracle: NULLs sort as if larger than any value.
    const nullLast = a === null ? 1 : -1;
    return desc ? -nullLast : nullLast;
  }
  const c = compare(a, b) ?? 0;
  return desc ? -c : c;
}

function arithmetic(op: string, l: SqlValue, r: SqlValue): SqlValue {
  if (l === null || r === null) return null;
  const DAY = 86_400_000;
  if (l instanceof SqlTime && !(r instanceof SqlTime) && (op === '+' || op === '-')) return new SqlTime(l.ms + (op === '+' ? 1 : -1) * toNumber(r) * DAY);
  if (l instanceof SqlTime && r instanceof SqlTime && op === '-') return (l.ms - r.ms) / DAY;
  const x = toNumber(l);
  const y = toNumber(r);
  if (op === '/' && y === 0) refuse('divisor is equal to zero');
  return roundFloat(op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y);
}

function likeRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${body}$`, 's');
}

// ---- values as text ----------------------------------------------------------------------------

/** A value as SuiteQL results show it: every value is a string; NULLs are left out by the caller. */
export function valueText(v: Exclude<SqlValue, null>): string {
  if (v instanceof SqlTime) return formatAccountDate(v);
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') return oracleNumber(v);
  return v;
}

/** Oracle's number to text: no exponent, no leading zero before the point (0.5 → ".5"). */
export function oracleNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  let s = n.toFixed(10).replace(/0+$/, '').replace(/\.$/, '');
  s = s.replace(/^(-?)0\./, '$1.');
  return s;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The account's date format preference, M/D/YYYY: how DATE columns come back without TO_CHAR. */
export function formatAccountDate(t: SqlTime): string {
  const d = new Date(t.ms);
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
}

/** Implicit conversion of a string to a date uses the account's format, M/D/YYYY, as NetSuite's does. */
export function parseAccountDate(text: string): SqlTime {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text);
  if (!m) return refuse(`'${text}' is not a date in the account's format (M/D/YYYY); use TO_DATE('${text}', '<format>').`);
  return new SqlTime(checkedUtc(Number(m[3]), Number(m[1]), Number(m[2]), 0, 0, 0, 0, text));
}

function checkedUtc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, text: string): number {
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return refuse(`'${text}' is not a valid date.`);
  }
  return t;
}

type FormatToken = { kind: 'field'; code: string } | { kind: 'literal'; text: string };

const FORMAT_CODES = ['YYYY', 'HH24', 'HH12', 'FF1', 'FF2', 'FF3', 'FF4', 'FF5', 'FF6', 'FF', 'MM', 'DD', 'HH', 'MI', 'SS', 'AM', 'PM', 'YY'];

/** Oracle datetime format models: YYYY YY MM DD HH24 HH12 HH MI SS FF[n] AM/PM, "quoted text" and punctuation. */
function tokenizeFormat(format: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  let i = 0;
  while (i < format.length) {
    const ch = format[i];
    if (ch === '"') {
      const end = format.indexOf('"', i + 1);
      if (end < 0) refuse(`The date format ${format} has an unclosed quote.`);
      tokens.push({ kind: 'literal', text: format.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (/[-/:.,; ]/.test(ch)) {
      tokens.push({ kind: 'literal', text: ch });
      i++;
      continue;
    }
    const code = FORMAT_CODES.find((c) => format.slice(i, i + c.length).toUpperCase() === c);
    if (!code) return refuse(`date format not recognized: ${format} (at "${format.slice(i)}")`);
    tokens.push({ kind: 'field', code });
    i += code.length;
  }
  return tokens;
}

export function formatTime(t: SqlTime, format: string): string {
  const d = new Date(t.ms);
  const h = d.getUTCHours();
  return tokenizeFormat(format).map((tok) => {
    if (tok.kind === 'literal') return tok.text;
    switch (tok.code) {
      case 'YYYY': return pad(d.getUTCFullYear(), 4);
      case 'YY': return pad(d.getUTCFullYear() % 100);
      case 'MM': return pad(d.getUTCMonth() + 1);
      case 'DD': return pad(d.getUTCDate());
      case 'HH24': return pad(h);
      case 'HH': case 'HH12': return pad(h % 12 === 0 ? 12 : h % 12);
      case 'MI': return pad(d.getUTCMinutes());
      case 'SS': return pad(d.getUTCSeconds());
      case 'AM': case 'PM': return h < 12 ? 'AM' : 'PM';
      default: {
        const digits = tok.code === 'FF' ? 9 : Number(tok.code.slice(2));
        return pad(d.getUTCMilliseconds(), 3).padEnd(9, '0').slice(0, digits);
      }
    }
  }).join('');
}

export function parseTime(text: string, format: string): SqlTime {
  const parts = { y: 1970, mo: 1, d: 1, h: 0, mi: 0, s: 0, ms: 0, pm: undefined as boolean | undefined, twelve: false };
  let i = 0;
  const fail = (): never => refuse(`'${text}' does not match the date format ${format}.`);
  for (const tok of tokenizeFormat(format)) {
    if (tok.kind === 'literal') {
      if (text.slice(i, i + tok.text.length) !== tok.text) fail();
      i += tok.text.length;
      continue;
    }
    if (tok.code === 'AM' || tok.code === 'PM') {
      const v = text.slice(i, i + 2).toUpperCase();
      if (v !== 'AM' && v !== 'PM') fail();
      parts.pm = v === 'PM';
      i += 2;
      continue;
    }
    const width = tok.code === 'YYYY' ? 4 : tok.code.startsWith('FF') ? (tok.code === 'FF' ? 9 : Number(tok.code.slice(2))) : 2;
    const m = new RegExp(`^\\d{1,${width}}`).exec(text.slice(i));
    if (!m) fail();
    const n = Number(m![0]);
    i += m![0].length;
    switch (tok.code) {
      case 'YYYY': parts.y = n; break;
      case 'YY': parts.y = 2000 + n; break;
      case 'MM': parts.mo = n; break;
      case 'DD': parts.d = n; break;
      case 'HH24': parts.h = n; break;
      case 'HH': case 'HH12': parts.h = n; parts.twelve = true; break;
      case 'MI': parts.mi = n; break;
      case 'SS': parts.s = n; break;
      default: parts.ms = Math.floor(Number(`0.${m![0]}`) * 1000);
    }
  }
  if (i !== text.length) fail();
  if (parts.twelve && parts.pm !== undefined) parts.h = (parts.h % 12) + (parts.pm ? 12 : 0);
  return new SqlTime(checkedUtc(parts.y, parts.mo, parts.d, parts.h, parts.mi, parts.s, parts.ms, text));
}
