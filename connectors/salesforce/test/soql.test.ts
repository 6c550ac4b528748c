import { describe, expect, it } from 'vitest';
import { salesforceObject } from '../descriptor.js';
import { bindQuery, formatSfDateTime, parseSfDateTime, parseSoql, SoqlError } from '../sandbox/soql.js';

const account = salesforceObject('Account')!;
const T = Date.UTC(2026, 0, 1);

function matcher(soql: string) {
  return bindQuery(parseSoql(soql), account);
}

describe('SOQL subset', () => {
  it('parses fields, the WHERE tree, ORDER BY and LIMIT', () => {
    const q = parseSoql("SELECT Id, Name FROM Account WHERE (SystemModstamp > 2026-01-01T00:00:00.000Z) OR (SystemModstamp = 2026-01-01T00:00:00.000Z AND Id > '001x') ORDER BY SystemModstamp ASC, Id LIMIT 10");
    expect(q.fields).toEqual(['Id', 'Name']);
    expect(q.object).toBe('Account');
    expect(q.where).toMatchObject({ kind: 'or', items: [{ kind: 'compare', op: '>' }, { kind: 'and' }] });
    expect(q.orderBy).toEqual([{ field: 'SystemModstamp', desc: false, nullsLast: false }, { field: 'Id', desc: false, nullsLast: false }]);
    expect(q.limit).toBe(10);
  });

  it('evaluates the compound cursor condition, ties broken by Id', () => {
    const b = matcher("SELECT Id FROM Account WHERE (SystemModstamp > 2026-01-01T00:00:00.000+0000) OR (SystemModstamp = 2026-01-01T00:00:00.000+0000 AND Id > '001B')");
    expect(b.where({ Id: '001A', SystemModstamp: T })).toBe(false);
    expect(b.where({ Id: '001B', SystemModstamp: T })).toBe(false);
    expect(b.where({ Id: '001C', SystemModstamp: T })).toBe(true);
    expect(b.where({ Id: '001A', SystemModstamp: T + 1 })).toBe(true);
    expect(b.modstampFrom).toBe(T);
    expect(b.naturalOrder).toBe(false);
  });

  it('handles IN, NOT IN, NOT, LIKE, null and case-insensitive text', () => {
    const rec = { Id: '001A', Name: 'Acme Labs', Industry: 'Technology', IsDeleted: false, Website: null, NumberOfEmployees: 50 };
    expect(matcher("SELECT Id FROM Account WHERE Industry IN ('technology', 'Retail')").where(rec)).toBe(true);
    expect(matcher("SELECT Id FROM Account WHERE Industry NOT IN ('Technology')").where(rec)).toBe(false);
    expect(matcher("SELECT Id FROM Account WHERE NOT (Name LIKE 'acme%')").where(rec)).toBe(false);
    expect(matcher('SELECT Id FROM Account WHERE Website = null AND IsDeleted = false').where(rec)).toBe(true);
    expect(matcher('SELECT Id FROM Account WHERE NumberOfEmployees >= 50 AND NumberOfEmployees < 51').where(rec)).toBe(true);
    expect(matcher("SELECT Id FROM Account WHERE Ecosync_Id__c IN ('a', 'b')").pinned).toEqual({ field: 'Ecosync_Id__c', values: ['a', 'b'] });
  });

  it('resolves field names case-insensitively and rejects unknown ones like the org', () => {
    expect(matcher('select id, name from Account order by systemmodstamp').select).toEqual(['Id', 'Name']);
    expect(() => matcher('SELECT Nope FROM Account')).toThrow(/No such column 'Nope'/);
    expect(() => matcher('SELECT Id, id FROM Account')).toThrow(/duplicate field selected: Id/);
    expect(() => parseSoql('SELECT Id FROM Account WHERE')).toThrow(SoqlError);
    expect(() => matcher("SELECT Id FROM Account WHERE NumberOfEmployees = '5'")).toThrow(/must be of type integer/);
  });

  it('reads and writes Salesforce datetimes with millisecond precision', () => {
    expect(formatSfDateTime(T + 5)).toBe('2026-01-01T00:00:00.005+0000');
    expect(parseSfDateTime('2026-01-01T00:00:00.005+0000')).toBe(T + 5);
    expect(parseSfDateTime('2026-01-01T01:00:00+01:00')).toBe(T);
    expect(parseSfDateTime('2026-01-01')).toBeNaN();
  });
});
