import { describe, expect, it } from 'vitest';
import { toODataFilter } from '../client.js';
import { matchesFilter, ODataError, parseFilter } from './odata.js';

const rows = [
  { id: 'a', status: 'New', substatus: 'Received', type: 'Shared', updatedDateTime: '2025-03-01T10:00:00.000Z', customerProfile: { name: "O'Neil Ltd" } },
  { id: 'b', status: 'Active', substatus: 'Accepted', type: 'Shared', updatedDateTime: '2025-03-02T10:00:00.000Z', customerProfile: { name: 'Acme' } },
  { id: 'c', status: 'Closed', substatus: 'Declined', type: 'Independent', updatedDateTime: '2025-03-03T10:00:00.000Z', customerProfile: { name: 'Acme' } },
];
const ids = (filter: string) => rows.filter((r) => matchesFilter(parseFilter(filter), r)).map((r) => r.id);

describe('OData $filter', () => {
  it('evaluates comparisons, and/or with precedence, parentheses and dates', () => {
    expect(ids("status eq 'Active'")).toEqual(['b']);
    expect(ids("type eq 'Shared' and status ne 'New'")).toEqual(['b']);
    expect(ids("status eq 'New' or status eq 'Closed' and type eq 'Independent'")).toEqual(['a', 'c']);
    expect(ids("(status eq 'New' or status eq 'Closed') and type eq 'Shared'")).toEqual(['a']);
    expect(ids('updatedDateTime gt 2025-03-01T10:00:00Z')).toEqual(['b', 'c']);
    expect(ids("updatedDateTime le '2025-03-02T10:00:00.000Z'")).toEqual(['a', 'b']);
    expect(ids("customerProfile/name eq 'O''Neil Ltd'")).toEqual(['a']);
  });

  it('reads what the client writes', () => {
    const filter = toODataFilter({ status: ['New', 'Active'], type: 'Shared', updatedAfter: '2025-03-01T10:00:00Z' });
    expect(filter).toBe("(status eq 'New' or status eq 'Active') and type eq 'Shared' and updatedDateTime gt 2025-03-01T10:00:00.000Z");
    expect(ids(filter!)).toEqual(['b']);
    expect(toODataFilter({})).toBeUndefined();
  });

  it('reads numbers, booleans and null as OData types them', () => {
    expect(parseFilter('id eq 5')).toEqual({ kind: 'cmp', field: 'id', op: 'eq', value: 5 });
    expect(parseFilter('status eq null')).toEqual({ kind: 'cmp', field: 'status', op: 'eq', value: null });
    expect(parseFilter('qualification ne true')).toEqual({ kind: 'cmp', field: 'qualification', op: 'ne', value: true });
    expect(ids('status ne null')).toEqual(['a', 'b', 'c']);
  });

  it('says what is wrong with a bad filter', () => {
    expect(() => parseFilter("colour eq 'red'")).toThrow(/cannot filter on "colour"/);
    expect(() => parseFilter("status eq 'New")).toThrow(/is not valid OData: unexpected character/);
    expect(() => parseFilter('status eq New')).toThrow(/quote strings/);
    expect(() => parseFilter("status eq 'New' and")).toThrow(/is not valid OData/);
    expect(() => parseFilter("updatedDateTime gt 'yesterday'")).toThrow(/date-time/);
    expect(() => parseFilter("'New' eq status")).toThrow(/expected a field name/);
  });

  it('refuses the OData the referrals list does not take', () => {
    expect(() => parseFilter("contains(name,'Acme')")).toThrow(`"contains(name,'Acme')" is not supported in $filter`);
    expect(() => parseFilter("not (status eq 'New')")).toThrow(/is not supported in \$filter/);
    expect(() => parseFilter('id add 1 eq 2')).toThrow(/expected a field name in \$filter, got "id add 1"/);
    expect(() => parseFilter("status in ('New','Active')")).toThrow(ODataError);
  });
});
