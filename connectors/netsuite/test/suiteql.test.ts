import { describe, expect, it } from 'vitest';
import { formatTime, oracleNumber, parseTime, runSuiteQL, SqlTime, SuiteQLError, valueText, type QueryContext, type Row, type Table } from '../sandbox/suiteql.js';

/** The sandbox's SuiteQL evaluator on small hand-made tables. */

const t = (iso: string) => new SqlTime(Date.parse(iso));

const TABLES: Record<string, Table> = {
  customer: {
    columns: ['id', 'companyname', 'creditlimit', 'isinactive', 'currency', 'lastmodifieddate'],
    rows: () => [
      { id: 1, companyname: 'Acme', creditlimit: 1000, isinactive: 'F', currency: 1, lastmodifieddate: t('2024-03-01T10:00:00Z') },
      { id: 2, companyname: 'Globex', creditlimit: null, isinactive: 'F', currency: 2, lastmodifieddate: t('2024-03-01T10:00:00Z') },
      { id: 3, companyname: 'Initech', creditlimit: 0.5, isinactive: 'T', currency: null, lastmodifieddate: t('2024-03-02T08:30:15Z') },
    ] as Row[],
    display: (column, value) => (column === 'currency' ? ({ 1: 'US Dollar', 2: 'Euro' } as Record<string, string>)[String(value)] : undefined),
  },
  currency: {
    columns: ['id', 'symbol'],
    rows: () => [{ id: 1, symbol: 'USD' }, { id: 2, symbol: 'EUR' }] as Row[],
  },
};

const context: QueryContext = { table: (name) => TABLES[name], now: () => Date.parse('2024-03-05T00:00:00Z') };

function run(q: string): Record<string, string>[] {
  const result = runSuiteQL(q, context);
  return result.rows.map((row) => Object.fromEntries(result.columns.flatMap((c) => (row[c] === null || row[c] === undefined ? [] : [[c, valueText(row[c]!)]]))));
}

const refused = (q: string) => expect(() => runSuiteQL(q, context)).toThrow(SuiteQLError);

describe('SuiteQL evaluation', () => {
  it('selects columns and aliases in lower case, names other expressions exprN, and renders values as NetSuite does', () => {
    expect(run('SELECT ID, CompanyName AS Name, creditlimit, creditlimit * 2, lastmodifieddate FROM Customer WHERE id = 3')).toEqual([
      { id: '3', name: 'Initech', creditlimit: '.5', expr1: '1', lastmodifieddate: '3/2/2024' },
    ]);
    expect(oracleNumber(-0.25)).toBe('-.25');
    expect(oracleNumber(1250)).toBe('1250');
  });

  it('joins with LEFT and INNER JOIN, hashed on equalities, keeping unmatched rows of a LEFT JOIN', () => {
    expect(run('SELECT c.id, cur.symbol FROM customer c LEFT JOIN currency cur ON cur.id = c.currency ORDER BY c.id')).toEqual([
      { id: '1', symbol: 'USD' }, { id: '2', symbol: 'EUR' }, { id: '3' },
    ]);
    expect(run('SELECT c.id FROM customer c INNER JOIN currency cur ON c.currency = cur.id AND cur.symbol = \'EUR\'')).toEqual([{ id: '2' }]);
    expect(run('SELECT c.id FROM customer c, currency cur WHERE c.currency = cur.id AND cur.symbol = \'USD\'')).toEqual([{ id: '1' }]);
  });

  it('applies three-valued logic: NULL comparisons are unknown, NOT of unknown is unknown, IS NULL finds them', () => {
    expect(run('SELECT id FROM customer WHERE creditlimit > 0 OR creditlimit <= 0 ORDER BY id')).toEqual([{ id: '1' }, { id: '3' }]);
    expect(run('SELECT id FROM customer WHERE NOT (creditlimit > 100) ORDER BY id')).toEqual([{ id: '3' }]);
    expect(run('SELECT id FROM customer WHERE creditlimit IS NULL')).toEqual([{ id: '2' }]);
    expect(run('SELECT id FROM customer WHERE currency NOT IN (2, NULL)')).toEqual([]);
    expect(run("SELECT id FROM customer WHERE companyname LIKE '_ni%' OR companyname BETWEEN 'A' AND 'B' ORDER BY id")).toEqual([{ id: '1' }, { id: '3' }]);
  });

  it('compares dates with TO_TIMESTAMP and TO_DATE, the account format, and SYSDATE arithmetic', () => {
    const at = "TO_TIMESTAMP('2024-03-01 10:00:00', 'YYYY-MM-DD HH24:MI:SS')";
    expect(run(`SELECT id FROM customer WHERE lastmodifieddate > ${at} OR (lastmodifieddate = ${at} AND id > 1) ORDER BY lastmodifieddate, id`)).toEqual([{ id: '2' }, { id: '3' }]);
    expect(run("SELECT id FROM customer WHERE lastmodifieddate >= TO_DATE('2024-03-02', 'YYYY-MM-DD')")).toEqual([{ id: '3' }]);
    expect(run("SELECT id FROM customer WHERE lastmodifieddate >= '3/2/2024'")).toEqual([{ id: '3' }]);
    expect(run('SELECT id FROM customer WHERE lastmodifieddate > SYSDATE - 3.5')).toEqual([{ id: '3' }]);
    refused("SELECT id FROM customer WHERE lastmodifieddate > '2024-03-01'");
    expect(formatTime(t('2024-03-02T08:30:15.250Z'), 'YYYY-MM-DD"T"HH24:MI:SS.FF3 HH12 AM')).toBe('2024-03-02T08:30:15.250 08 AM');
    expect(parseTime('2024-03-02 8:30:15 PM', 'YYYY-MM-DD HH12:MI:SS AM').ms).toBe(Date.parse('2024-03-02T20:30:15Z'));
    refused("SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DDTHH24') FROM customer");
  });

  it('orders with NULLs last ascending and first descending, by alias or position', () => {
    expect(run('SELECT id, creditlimit AS cl FROM customer ORDER BY cl').map((r) => r.id)).toEqual(['3', '1', '2']);
    expect(run('SELECT id, creditlimit FROM customer ORDER BY 2 DESC').map((r) => r.id)).toEqual(['2', '1', '3']);
  });

  it('aggregates with GROUP BY and HAVING, and COUNT(*) of nothing is 0', () => {
    expect(run("SELECT isinactive, COUNT(*) AS n, SUM(creditlimit) AS total, MAX(companyname) AS last FROM customer GROUP BY isinactive HAVING COUNT(*) > 0 ORDER BY isinactive")).toEqual([
      { isinactive: 'F', n: '2', total: '1000', last: 'Globex' },
      { isinactive: 'T', n: '1', total: '.5', last: 'Initech' },
    ]);
    expect(run('SELECT COUNT(*) AS n FROM customer WHERE id > 10')).toEqual([{ n: '0' }]);
    refused('SELECT companyname, COUNT(*) FROM customer GROUP BY isinactive');
  });

  it('supports ROWNUM in WHERE, BUILTIN.DF, NVL, UPPER and ||', () => {
    expect(run('SELECT id FROM customer WHERE ROWNUM <= 2')).toEqual([{ id: '1' }, { id: '2' }]);
    expect(run("SELECT BUILTIN.DF(currency) AS cur, NVL(creditlimit, -1) AS cl, UPPER(companyname) || '!' AS shout FROM customer WHERE id = 2")).toEqual([{ cur: 'Euro', cl: '-1', shout: 'GLOBEX!' }]);
  });

  it('refuses what it does not support instead of answering wrongly', () => {
    refused('SELECT DISTINCT id FROM customer');
    refused('SELECT id FROM customer c JOIN currency cur ON cur.id = c.currency WHERE id = 1'); // ambiguous id
    refused('SELECT id FROM customer RIGHT JOIN currency ON currency.id = customer.currency');
    refused('SELECT id FROM customer WHERE isinactive = TRUE');
    refused('SELECT SUBSTR(companyname, 1, 2) FROM customer');
    refused('SELECT id FROM customer LIMIT 1');
    refused('UPDATE customer SET companyname = 1');
    refused('SELECT id FROM customer; SELECT id FROM currency');
  });
});
