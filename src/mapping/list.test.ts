import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalFields, canonicalFieldsOf } from './canonical.js';
import { formatDiagnostic, parseMapping, type CompiledMapping } from './index.js';
import { erpSchemaFor, TEST_ENTITIES, TestInvoice } from './test-schemas.js';

/**
 * Lists both ways in record-shape files: an ERP's sublist field (NetSuite's `item.items`) mapped
 * to a canonical list of objects, item by item; lists of values; `where`; the checks at load.
 */

// Lines 1-5; a test's fields start on line 6.
const HEAD = 'system: test-erp\nobject: invoice\nentity: TestInvoice\nfields:\n  total: total\n';
const LINES = '  lines:\n    from: item.items[]\n    items:\n      item: item\n      description: description\n'
  + '      quantity: { from: quantity, type: decimal }\n      rate: { from: rate, type: decimal }\n      amount: { from: amount, type: decimal }\n';

const options = { schemaFor: erpSchemaFor, entities: TEST_ENTITIES };

function load(fields: string, withSchema = true): CompiledMapping {
  const { mapping, diagnostics } = parseMapping(HEAD + fields, 'i.yaml', withSchema ? options : { entities: TEST_ENTITIES });
  expect(diagnostics.map(formatDiagnostic)).toEqual([]);
  return mapping!;
}

function errors(fields: string, withSchema = true): string[] {
  return parseMapping(HEAD + fields, 'i.yaml', withSchema ? options : { entities: TEST_ENTITIES })
    .diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

const netsuiteLines = [
  { item: '1001', description: 'Analytics Add-on', quantity: 2, rate: 1200, amount: 2400 },
  { item: 'Support (Gold)', quantity: 1, rate: 499.5, amount: 499.5 },
  { item: '1002', description: '', quantity: 0.25, rate: 80, amount: 20 },
];

describe('lists in record files: forward', () => {
  const m = load(LINES);

  it('maps every element with the item fields\' coercions, in the system\'s order', () => {
    expect(m.forward({ total: 2919.5, 'item.items': netsuiteLines })).toEqual({
      ok: true, unresolved: [],
      value: {
        total: '2919.5',
        lines: [
          { item: '1001', description: 'Analytics Add-on', quantity: '2', rate: '1200', amount: '2400' },
          { item: 'Support (Gold)', quantity: '1', rate: '499.5', amount: '499.5' },
          { item: '1002', quantity: '0.25', rate: '80', amount: '20' },
        ],
      },
    });
    const read = m.forward({ total: 1, 'item.items': netsuiteLines });
    expect(read.ok && m.validate(read.value)).toEqual({ ok: true });
  });

  it('reads the literal key first, then the nested path', () => {
    expect(m.forward({ total: 1, item: { items: netsuiteLines.slice(0, 1) } })).toMatchObject({ ok: true, value: { lines: [{ item: '1001' }] } });
  });

  it('an empty or absent list is no value', () => {
    for (const items of [[], null, undefined, '']) {
      expect(m.forward({ total: 1, 'item.items': items })).toEqual({ ok: true, unresolved: [], value: { total: '1' } });
    }
  });

  it('reports item errors at the item\'s path, all of them, and keeps going', () => {
    const out = m.forward({
      total: 1,
      'item.items': [{ item: '1', quantity: 1, amount: 1 }, { item: '2', quantity: 1 }, { item: '3', quantity: 'lots', amount: 3 }, 'not a line'],
    });
    expect(out).toEqual({
      ok: false, unresolved: [],
      errors: [
        { field: 'lines[1].amount', code: 'required', message: 'item.items[1]: amount is required, but amount has no value' },
        { field: 'lines[2].quantity', code: 'invalid_value', message: 'item.items[2]: quantity "lots" is not a decimal number' },
        { field: 'lines[3]', code: 'invalid_value', message: 'item.items[3] "not a line" is not an object' },
      ],
    });
    expect(m.forward({ total: 1, 'item.items': { item: '1' } })).toMatchObject({
      ok: false, errors: [{ field: 'lines', code: 'invalid_value', message: 'item.items {"item":"1"} is not a list' }],
    });
  });

  it('value maps, defaults, dates and money work per item; money reads the element\'s currency', () => {
    const rich = load('  lines:\n    from: item.items[]\n    items:\n      item: item\n      quantity:\n        from: quantity\n        default: "1"\n      amount: amount\n'
      + '      kind:\n        from: itemType\n        map:\n          InvtPart: item\n          Discount: discount\n          Subtotal: subtotal\n'
      + '      shipDate: shipDate\n      price:\n        from: price\n        type: money\n        currency: currency\n        defaultCurrency: USD\n');
    const out = rich.forward({
      total: 0,
      'item.items': [
        { item: 'A', amount: 10, itemType: 'InvtPart', shipDate: '2025-03-01', price: 10.5, currency: 'EUR' },
        { item: 'B', quantity: 3, amount: 300, itemType: 'Discount', price: 100 },
      ],
    });
    expect(out).toEqual({
      ok: true, unresolved: [],
      value: {
        total: '0',
        lines: [
          { item: 'A', quantity: '1', amount: '10', kind: 'item', shipDate: '2025-03-01', price: { amount: '10.50', currency: 'EUR' } },
          { item: 'B', quantity: '3', amount: '300', kind: 'discount', price: { amount: '100.00', currency: 'USD' } },
        ],
      },
    });
    expect(rich.forward({ total: 0, 'item.items': [{ item: 'A', amount: 1, itemType: 'Markup', shipDate: '2025-02-30' }] })).toMatchObject({
      ok: false,
      errors: [
        { field: 'lines[0].kind', code: 'unknown_value' },
        { field: 'lines[0].shipDate', code: 'invalid_value', message: 'item.items[0]: shipDate "2025-02-30" is not a date' },
      ],
    });
  });

  it('`where` sees the mapped item and drops it with its errors; an emptied list is no value', () => {
    const filtered = load('  lines:\n    from: item.items[]\n    where: has(record.quantity) && record.kind != "subtotal"\n    items:\n      item: item\n      quantity: quantity\n      amount: amount\n'
      + '      kind:\n        from: itemType\n        map:\n          InvtPart: item\n          Discount: discount\n          Subtotal: subtotal\n');
    const out = filtered.forward({
      total: 1,
      'item.items': [
        { item: 'A', quantity: 1, amount: 5, itemType: 'InvtPart' },
        { item: 'Subtotal', amount: 5, itemType: 'Subtotal' }, // no quantity: required, but dropped
        { item: 'B', quantity: 2, amount: 4, itemType: 'Subtotal' },
      ],
    });
    expect(out).toEqual({ ok: true, unresolved: [], value: { total: '1', lines: [{ item: 'A', quantity: '1', amount: '5', kind: 'item' }] } });
    expect(filtered.forward({ total: 1, 'item.items': [{ item: 'S', amount: 5, itemType: 'Subtotal' }] })).toEqual({ ok: true, unresolved: [], value: { total: '1' } });
    // The same filter when writing: the canonical item is what it sees.
    const back = filtered.reverse({ total: '1', lines: [{ item: 'A', quantity: '1', amount: '5', kind: 'item' }, { item: 'S', quantity: '1', amount: '5', kind: 'subtotal' }] });
    expect(back).toMatchObject({ ok: true, value: { 'item.items': [{ item: 'A', quantity: 1, amount: 5, itemType: 'InvtPart' }] } });
  });

  it('a list of values: each value at the path after `[]`, or the element itself', () => {
    const values = load('  tags: tags[].name\n  quantities: quantities[]\n');
    expect(values.forward({ total: 1, tags: [{ name: 'renewal' }, { name: '' }, { name: 42 }], quantities: ['3', 4, null] })).toEqual({
      ok: true, unresolved: [], value: { total: '1', tags: ['renewal', '42'], quantities: [3, 4] },
    });
    expect(values.forward({ total: 1, quantities: [1, 2.5] })).toMatchObject({
      ok: false, errors: [{ field: 'quantities[1]', code: 'invalid_value', message: 'quantities[1]: quantities[] 2.5 is not a whole number' }],
    });
    expect(values.reverse({ total: '1', tags: ['a', 'b'], quantities: [3] })).toEqual({
      ok: true, unresolved: [], value: { total: 1, tags: [{ name: 'a' }, { name: 'b' }], quantities: [3] },
    });
  });
});

describe('lists in record files: reverse', () => {
  const m = load(LINES);

  it('writes the list at the literal field, numbers as numbers, absent item fields empty', () => {
    const out = m.reverse({
      total: '2919.50',
      lines: [
        { item: '1001', description: 'Analytics Add-on', quantity: '2', rate: '1200.00', amount: '2400.00' },
        { item: 'Support (Gold)', quantity: '1', amount: '499.50' },
      ],
    });
    expect(out).toEqual({
      ok: true, unresolved: [],
      value: {
        total: 2919.5,
        'item.items': [
          { item: '1001', description: 'Analytics Add-on', quantity: 2, rate: 1200, amount: 2400 },
          { item: 'Support (Gold)', description: null, quantity: 1, rate: null, amount: 499.5 },
        ],
      },
    });
  });

  it('an absent canonical list writes an empty one, so the system ends up equal', () => {
    expect(m.reverse({ total: '1' })).toEqual({ ok: true, unresolved: [], value: { total: 1, 'item.items': [] } });
  });

  it('reports bad canonical items at their path', () => {
    expect(m.reverse({ total: '1', lines: [{ item: 'A', quantity: 'two', amount: '1' }, null] })).toEqual({
      ok: false, unresolved: [],
      errors: [
        { field: 'lines[0].quantity', code: 'invalid_value', message: 'canonical quantity "two" is not a decimal' },
        { field: 'lines[1]', code: 'invalid_value', message: 'canonical lines[1] null is not an object' },
      ],
    });
    expect(m.reverse({ total: '1', lines: 'x' })).toMatchObject({ ok: false, errors: [{ field: 'lines', code: 'invalid_value' }] });
  });

  it('items narrower than the list: an inbound item is read, not written', () => {
    const n = load(`${LINES}      lineId:\n        from: line\n        direction: inbound\n`);
    expect(n.forward({ total: 1, 'item.items': [{ item: 'A', quantity: 1, amount: 1, line: '7' }] })).toMatchObject({ value: { lines: [{ lineId: '7' }] } });
    const back = n.reverse({ total: '1', lines: [{ item: 'A', quantity: '1', amount: '1', lineId: '7' }] });
    expect(back.ok && back.value['item.items']).toEqual([{ item: 'A', description: null, quantity: 1, rate: null, amount: 1 }]);
    expect(n.writes.map((w) => w.target)).toEqual(['total', 'item.items', 'item.items[].item', 'item.items[].description', 'item.items[].quantity', 'item.items[].rate', 'item.items[].amount']);
    expect(n.sourceFields).toEqual(['total', 'item.items']);
    expect(n.targetFields).toEqual(['total', 'item.items']);
    expect(n.fields.find((f) => f.field === 'lines')).toMatchObject({
      systemType: 'list', direction: 'both', list: { path: 'item.items', itemPath: '', filtered: false, items: expect.arrayContaining([expect.objectContaining({ field: 'lineId', direction: 'inbound' })]) },
    });
  });

  it('an inbound list is read only', () => {
    const n = load(LINES.replace('    items:\n', '    direction: inbound\n    items:\n'));
    expect(n.reverse({ total: '1', lines: [{ item: 'A', quantity: '1', amount: '1' }] })).toEqual({ ok: true, unresolved: [], value: { total: 1 } });
    expect(n.forward({ total: 1, 'item.items': [{ item: 'A', quantity: 1, amount: 1 }] })).toMatchObject({ ok: true, value: { lines: [{ item: 'A' }] } });
  });
});

describe('lists: round trips, hashing', () => {
  const m = load(LINES);
  const cents = fc.integer({ min: 1, max: 10_000_000 }).map((n) => n / 100);
  const line = fc.record({
    item: fc.stringMatching(/^[A-Za-z0-9 ()-]{1,20}$/).filter((s) => s.trim() !== ''),
    description: fc.string({ minLength: 1, maxLength: 30 }),
    quantity: fc.integer({ min: 1, max: 1000 }),
    rate: cents,
    amount: cents,
  });

  it('reverse(forward(x)) keeps the list: every element, in order, every value', () => {
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
      const read = m.forward({ total: 1, 'item.items': lines });
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      const back = m.reverse(read.value);
      expect(back.ok && back.value['item.items']).toEqual(lines);
      // Reading what was written reads the same canonical record, with the same hash.
      const again = back.ok ? m.forward(back.value) : read;
      expect(again).toEqual(read);
      expect(again.ok && m.hash(again.value)).toBe(m.hash(read.value));
    }), { numRuns: 200 });
  });

  it('hash: item order counts, key order and unmapped item fields do not, an empty list is no list', () => {
    const a = { item: 'A', quantity: '1', amount: '1' };
    const b = { item: 'B', quantity: '2', amount: '4' };
    const base = { total: '5', lines: [a, b] };
    expect(m.hash({ total: '5', lines: [{ amount: '1', quantity: '1', item: 'A' }, b] })).toBe(m.hash(base));
    expect(m.hash({ total: '5', lines: [{ ...a, shipDate: '2025-01-01' }, b] })).toBe(m.hash(base));
    expect(m.hash({ total: '5', lines: [b, a] })).not.toBe(m.hash(base));
    expect(m.hash({ total: '5', lines: [a, { ...b, quantity: '3' }] })).not.toBe(m.hash(base));
    expect(m.hash({ total: '5', lines: [] })).toBe(m.hash({ total: '5' }));
  });
});

describe('lists: checks at load', () => {
  it('loads the example of mappings/README.md', () => {
    const readme = readFileSync('mappings/README.md', 'utf8');
    const example = /```yaml\n(  lines:\n    from: item\.items\[\][\s\S]*?)```/.exec(readme)![1];
    const m = load(example);
    const read = m.forward({ total: 3, 'item.items': [...netsuiteLines, { item: 'Subtotal', amount: 2919.5, itemType: 'Subtotal' }], tags: [{ name: 'q1' }], quantities: [1] });
    expect(read).toMatchObject({ ok: true, value: { lines: [{ item: '1001' }, { item: 'Support (Gold)' }, { item: '1002' }], tags: ['q1'], quantities: [1] } });
  });

  it('reports list misuse in the file at file:line:col', () => {
    expect(errors('  number: tranId[]\n  lines:\n    from: item.items[].item\n    items:\n      item: item\n      quantity: quantity\n      amount: amount\n'
      + '  tags:\n    from: tags[][]\n    items:\n      name: name\n  quantities: "[]"\n', false)).toEqual([
      'i.yaml:6:11: error: `tranId[]` reads a list (`[]`), but `number` is a string; a system list maps to a canonical list',
      'i.yaml:8:11: error: `item.items[].item`: a list of objects maps its items\' fields under `items:`; `from` names the list only (`item.items[]`)',
      'i.yaml:14:11: error: `tags[][]`: a list path has one `[]`, after the list\'s name (`item.items[]`, `tags[].name`)',
      'i.yaml:15:5: error: `tags` is a list of string values; `items` maps the fields of objects',
      'i.yaml:17:15: error: `[]` names no list: write the system list before `[]`, e.g. `item.items[]`',
    ]);
  });

  it('reports items that do not fit the list: nested lists, directions, required fields, `where`', () => {
    expect(errors('  lines:\n    from: item.items[]\n    direction: inbound\n    where: size(record.quantiy)\n    items:\n      item: item\n      amount:\n        from: amount\n        direction: outbound\n'
      + '      serials: serials\n      lineId: line[]\n', false)).toEqual([
      'i.yaml:9:12: error: `where` is a condition over each item (`record`), true to keep it; this expression gives int',
      'i.yaml:9:12: error: `lines` items have no field `quantiy` (did you mean `quantity`?)',
      'i.yaml:10:5: error: `lines` items require `quantity`, but no inbound item mapping sets it',
      'i.yaml:14:20: error: `lines` is `inbound`, and so are its items; `amount` cannot be `outbound`',
      'i.yaml:15:7: error: `serials` is a list inside a list item; lists inside lists are not supported',
      'i.yaml:16:15: error: `line[]` reads a list inside a list item; lists inside lists are not supported',
    ]);
    expect(errors('  lines:\n    from: item.items[]\n    direction: outbound\n    items:\n      item: item\n      quantity: quantity\n      amount:\n        expr: record.rate * record.quantity\n', false)).toEqual([
      'i.yaml:12:7: error: `amount` is computed from the system\'s element, but `lines` is only written (`outbound`)',
    ]);
  });

  it('checks lists against the system\'s list field and its items', () => {
    expect(errors('  memo: item.items\n  lines:\n    from: memo[]\n    items:\n      item: item\n      quantity: quantity\n      amount: amount\n'
      + '  tags:\n    from: item.items[]\n    direction: inbound\n')).toEqual([
      'i.yaml:6:9: error: `item.items` is a list field in test-erp invoice; it maps to a canonical list (`from: item.items[]`), not to `memo`',
      'i.yaml:8:11: error: `memo` is a text field in test-erp invoice, not a list; `lines` is a list, which maps to a list field',
      'i.yaml:14:11: error: `item.items` holds objects (`item`, `description`, `quantity`…); name the value\'s field after `[]`, e.g. `item.items[].item`',
    ]);
    expect(errors('  lines:\n    from: item.items[]\n    items:\n      item: item\n      quantity: quantty\n      amount: amount\n      shipDate: quantity\n      lineId: line\n      kind:\n        from: itemType\n        map:\n          Service: item\n'
      + '  tags: tags[].label\n')).toEqual([
      'i.yaml:10:17: error: test-erp invoice has no field `item.items[].quantty` (did you mean `item.items[].quantity`?)',
      'i.yaml:12:17: error: `item.items[].quantity` is a number field in test-erp invoice; type `date` cannot read it',
      'i.yaml:13:15: error: `item.items[].line` is read-only in test-erp invoice; set `direction: inbound`',
      'i.yaml:17:11: error: `Service` is not a value of item.items[].itemType in test-erp invoice',
      'i.yaml:18:9: error: test-erp invoice has no field `tags[].label` (did you mean `tags[].name`?)',
    ]);
  });
});

describe('canonical lists of any entity', () => {
  it('describes a list of objects with its item fields, for a test schema and the model\'s Invoice', () => {
    const lines = canonicalFieldsOf(TestInvoice).get('lines')!;
    expect(lines).toMatchObject({ kind: 'array', required: false, item: { kind: 'object' } });
    expect(lines.itemFields?.get('quantity')).toMatchObject({ kind: 'decimal', required: true });
    expect(lines.itemFields?.get('description')).toMatchObject({ kind: 'string', required: false });
    expect(lines.itemFields?.get('price')).toMatchObject({ kind: 'money' });
    expect(lines.itemFields?.get('serials')).toMatchObject({ kind: 'array', item: { kind: 'string' } });
    expect(canonicalFieldsOf(TestInvoice).get('tags')).toMatchObject({ kind: 'array', item: { kind: 'string' } });
    expect(canonicalFieldsOf(TestInvoice)).toBe(canonicalFieldsOf(TestInvoice));
    for (const entity of ['Invoice', 'SalesOrder'] as const) {
      expect([...canonicalFields(entity).get('lines')!.itemFields!.keys()]).toEqual(['item', 'description', 'quantity', 'rate', 'amount']);
    }
  });

  it('reads a document list too: a list of objects both ways in a `shape: document` file', () => {
    const head = 'system: aws-partner-central\nobject: Opportunity\nentity: CoSellSubmission\nshape: document\ndefaults:\n  direction: outbound\n';
    const { mapping, diagnostics } = parseMapping(`${head}fields:\n  solutionIds:\n    from: Solutions[].Id\n    direction: both\n`
      + '  contacts:\n    from: Customer.Contacts[]\n    direction: both\n    where: has(record.email)\n    items:\n      email: Email\n      lastName: LastName\n', 'd.yaml');
    expect(diagnostics.map(formatDiagnostic)).toEqual([]);
    const doc = { Solutions: [{ Id: 'S-1' }], Customer: { Contacts: [{ Email: 'ada@example.com', LastName: 'Lovelace' }, { LastName: 'Nomail' }] } };
    const read = mapping!.forward(doc);
    expect(read).toEqual({ ok: true, unresolved: [], value: { solutionIds: ['S-1'], contacts: [{ email: 'ada@example.com', lastName: 'Lovelace' }] } });
    expect(read.ok && mapping!.reverse(read.value)).toEqual({ ok: true, unresolved: [], value: { Solutions: [{ Id: 'S-1' }], Customer: { Contacts: [{ Email: 'ada@example.com', LastName: 'Lovelace' }] } } });
  });
});
