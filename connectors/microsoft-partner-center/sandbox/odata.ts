/**
 * The slice of OData `$filter` the referrals list takes: comparisons (eq ne gt ge lt le) on
 * referral fields joined by `and`/`or`, with parentheses. Dates compare as instants, the rest
 * as strings. A filter on an unknown field or with a syntax error is a 400, as on the real API.
 */
export class ODataError extends Error {}

type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterNode =
  | { kind: 'cmp'; field: string; op: Op; value: string | number | boolean | null }
  | { kind: 'and'; left: FilterNode; right: FilterNode }
  | { kind: 'or'; left: FilterNode; right: FilterNode };
type Node = FilterNode;

export const FILTERABLE_FIELDS = [
  'id', 'engagementId', 'name', 'externalReferenceId', 'status', 'substatus', 'type', 'direction', 'qualification',
  'createdDateTime', 'updatedDateTime', 'customerProfile/name', 'customerProfile/address/country',
] as const;
const DATE_FIELDS = new Set(['createdDateTime', 'updatedDateTime']);

type Token = { t: 'ident' | 'string' | 'number' | 'date' | 'lparen' | 'rparen'; v: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(') { tokens.push({ t: 'lparen', v: c }); i++; continue; }
    if (c === ')') { tokens.push({ t: 'rparen', v: c }); i++; continue; }
    if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ODataError('unterminated string literal in $filter');
        if (text[i] === "'" && text[i + 1] === "'") { s += "'"; i += 2; continue; }
        if (text[i] === "'") { i++; break; }
        s += text[i++];
      }
      tokens.push({ t: 'string', v: s });
      continue;
    }
    const date = /^\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2})?/.exec(text.slice(i));
    if (date) { tokens.push({ t: 'date', v: date[0] }); i += date[0].length; continue; }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (num) { tokens.push({ t: 'number', v: num[0] }); i += num[0].length; continue; }
    const ident = /^[A-Za-z_][A-Za-z0-9_/]*/.exec(text.slice(i));
    if (ident) { tokens.push({ t: 'ident', v: ident[0] }); i += ident[0].length; continue; }
    throw new ODataError(`unexpected "${c}" at position ${i} in $filter`);
  }
  return tokens;
}

export function parseFilter(text: string): Node {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const keyword = (word: string) => peek()?.t === 'ident' && peek().v.toLowerCase() === word;

  const parseOr = (): Node => {
    let left = parseAnd();
    while (keyword('or')) { pos++; left = { kind: 'or', left, right: parseAnd() }; }
    return left;
  };
  const parseAnd = (): Node => {
    let left = parseAtom();
    while (keyword('and')) { pos++; left = { kind: 'and', left, right: parseAtom() }; }
    return left;
  };
  const parseAtom = (): Node => {
    const token = tokens[pos++];
    if (!token) throw new ODataError('$filter ends too early');
    if (token.t === 'lparen') {
      const inner = parseOr();
      if (tokens[pos++]?.t !== 'rparen') throw new ODataError('missing ")" in $filter');
      return inner;
    }
    if (token.t !== 'ident') throw new ODataError(`expected a field name in $filter, got "${token.v}"`);
    if (!(FILTERABLE_FIELDS as readonly string[]).includes(token.v)) {
      throw new ODataError(`cannot filter on "${token.v}" (filterable: ${FILTERABLE_FIELDS.join(', ')})`);
    }
    const op = tokens[pos++];
    if (op?.t !== 'ident' || !['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op.v.toLowerCase())) {
      throw new ODataError(`expected eq, ne, gt, ge, lt or le after ${token.v} in $filter`);
    }
    const literal = tokens[pos++];
    if (!literal || literal.t === 'lparen' || literal.t === 'rparen') throw new ODataError(`missing value after ${token.v} ${op.v} in $filter`);
    let value: string | number | boolean | null;
    if (literal.t === 'number') value = Number(literal.v);
    else if (literal.t === 'ident') {
      const word = literal.v.toLowerCase();
      if (word === 'null') value = null;
      else if (word === 'true' || word === 'false') value = word === 'true';
      else throw new ODataError(`"${literal.v}" is not a value: quote strings as '...'`);
    } else value = literal.v;
    if (DATE_FIELDS.has(token.v) && value !== null && Number.isNaN(Date.parse(String(value)))) {
      throw new ODataError(`${token.v} compares with a date-time, got "${String(value)}"`);
    }
    return { kind: 'cmp', field: token.v, op: op.v.toLowerCase() as Op, value };
  };

  const node = parseOr();
  if (pos < tokens.length) throw new ODataError(`unexpected "${tokens[pos].v}" in $filter`);
  return node;
}

export function matchesFilter(node: Node, record: Record<string, unknown>): boolean {
  if (node.kind === 'and') return matchesFilter(node.left, record) && matchesFilter(node.right, record);
  if (node.kind === 'or') return matchesFilter(node.left, record) || matchesFilter(node.right, record);
  let actual: unknown = record;
  for (const key of node.field.split('/')) actual = (actual as Record<string, unknown> | undefined)?.[key];
  if (node.value === null || actual === undefined || actual === null) {
    const bothNull = node.value === null && (actual === undefined || actual === null);
    return node.op === 'eq' ? bothNull : node.op === 'ne' ? !bothNull : false;
  }
  const [a, b] = DATE_FIELDS.has(node.field)
    ? [Date.parse(String(actual)), Date.parse(String(node.value))]
    : typeof node.value === 'number' ? [Number(actual), node.value] : [String(actual), String(node.value)];
  switch (node.op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    default: return false;
  }
}
