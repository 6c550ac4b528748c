import { defaultParser, TokenType, type Token } from '@odata/parser';

/**
 * The slice of OData `$filter` the referrals list takes: comparisons (eq ne gt ge lt le) on
 * referral fields joined by `and`/`or`, with parentheses. Dates compare as instants, the rest
 * as strings. A filter on an unknown field, one using anything else OData has (functions, not,
 * in, arithmetic) or with a syntax error is a 400, as on the real API.
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

const COMPARISONS: Partial<Record<string, Op>> = {
  [TokenType.EqualsExpression]: 'eq',
  [TokenType.NotEqualsExpression]: 'ne',
  [TokenType.GreaterThanExpression]: 'gt',
  [TokenType.GreaterOrEqualsExpression]: 'ge',
  [TokenType.LesserThanExpression]: 'lt',
  [TokenType.LesserOrEqualsExpression]: 'le',
};
const NUMBER_TYPES = new Set(['Edm.Byte', 'Edm.SByte', 'Edm.Int16', 'Edm.Int32', 'Edm.Int64', 'Edm.Decimal', 'Edm.Double', 'Edm.Single']);

/** Parses with @odata/parser, then keeps only the comparisons and and/or the referrals list takes. */
export function parseFilter(text: string): Node {
  let tree: Token;
  try {
    tree = defaultParser.filter(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ODataError(`$filter "${text}" is not valid OData: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
  }
  return toNode(tree);
}

function toNode(token: Token): Node {
  if (token.type === TokenType.BoolParenExpression) return toNode(token.value as Token);
  if (token.type === TokenType.AndExpression || token.type === TokenType.OrExpression) {
    const { left, right } = token.value as { left: Token; right: Token };
    return { kind: token.type === TokenType.AndExpression ? 'and' : 'or', left: toNode(left), right: toNode(right) };
  }
  const op = COMPARISONS[token.type];
  if (!op) throw new ODataError(`"${token.raw}" is not supported in $filter: use eq, ne, gt, ge, lt or le on a field, joined by and/or`);
  const { left, right } = token.value as { left: Token; right: Token };
  if (left.type !== TokenType.FirstMemberExpression) throw new ODataError(`expected a field name in $filter, got "${left.raw}"`);
  const field = left.raw;
  if (!(FILTERABLE_FIELDS as readonly string[]).includes(field)) {
    throw new ODataError(`cannot filter on "${field}" (filterable: ${FILTERABLE_FIELDS.join(', ')})`);
  }
  if (right.type !== TokenType.Literal) throw new ODataError(`"${right.raw}" is not a value: quote strings as '...'`);
  const value = literalValue(right);
  if (DATE_FIELDS.has(field) && value !== null && Number.isNaN(Date.parse(String(value)))) {
    throw new ODataError(`${field} compares with a date-time, got "${String(value)}"`);
  }
  return { kind: 'cmp', field, op, value };
}

/** A literal's value: strings unquoted ('' is one quote), numbers and booleans typed, dates as written. */
function literalValue(token: Token): string | number | boolean | null {
  const type = String(token.value);
  if (type === 'null') return null;
  if (type === 'Edm.String') return token.raw.slice(1, -1).replace(/''/g, "'");
  if (type === 'Edm.Boolean') return token.raw.toLowerCase() === 'true';
  if (NUMBER_TYPES.has(type)) {
    const n = Number(token.raw);
    if (Number.isNaN(n)) throw new ODataError(`"${token.raw}" is not a number this service reads`);
    return n;
  }
  return token.raw;
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
