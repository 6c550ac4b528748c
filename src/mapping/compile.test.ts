import { describe, expect, it } from 'vitest';
import type { CanonicalKind } from './canonical.js';
import { compile } from './compile.js';
import { parseMapping, type CompiledMapping, type MapContext } from './index.js';
import type { Coercion, FieldMapping, FieldType, Wire } from './spec.js';

/**
 * One field compiled straight from a spec, for coercions no canonical entity uses yet
 * (boolean, plain number, datetime, decimal): the compiled closures are the same.
 */
function single(type: Coercion, kind: CanonicalKind, extra: Partial<FieldMapping> = {}, wire: Wire = 'typed', systemType: FieldType = type === 'decimal' ? 'number' : type as FieldType): CompiledMapping {
  const field = {
    field: 'f', from: 'F', type, systemType, direction: 'both', systemOfRecord: 'lww', required: false, dateZone: 'UTC',
    canonical: { path: 'f', kind, required: false }, nodes: {}, ...extra,
  } as FieldMapping;
  return compile({
    file: 'synthetic', system: 's', object: 'o', entity: 'Account', wire, shape: 'fields', defaults: {}, constants: {}, outbound: [],
    constantNodes: new Map(), fields: [field], objectNode: null!,
  });
}

/** Compiles an Account (or other entity) mapping from its `fields:` block; fails the test on any error. */
function mapping(fields: string, head = 'system: erp\nobject: Customer\nentity: Account\n'): CompiledMapping {
  const name = head.includes('entity: Contact') ? '' : '  name: Name\n';
  const { mapping, diagnostics } = parseMapping(`${head}fields:\n${name}${fields}`, 'm.yaml');
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return mapping!;
}

const OPPORTUNITY = 'system: crm\nobject: Deal\nentity: Opportunity\n';
const opportunity = (fields: string, extraHead = '') => mapping(
  `  stage:\n    from: Stage\n    map:\n      Open: prospecting\n      Won: closed_won\n      Won (legacy): closed_won\n    reverse:\n      closed_won: Won\n      committed: Open\n  closeDate: CloseDate\n${fields}`,
  OPPORTUNITY + extraHead,
);

describe('forward and reverse of each coercion', () => {
  it('string: passes text through, numbers become text, empty means absent', () => {
    const m = mapping('  phone: Phone\n');
    expect(m.forward({ Name: 'Acme', Phone: 12345 })).toEqual({ ok: true, value: { name: 'Acme', phone: '12345' }, unresolved: [] });
    expect(m.forward({ Name: 'Acme', Phone: '' })).toEqual({ ok: true, value: { name: 'Acme' }, unresolved: [] });
    expect(m.forward({ Name: 'Acme', Phone: { x: 1 } })).toMatchObject({ ok: false, errors: [{ field: 'phone', code: 'invalid_value' }] });
    expect(m.reverse({ name: 'Acme', phone: '+1 555' })).toEqual({ ok: true, value: { Name: 'Acme', Phone: '+1 555' }, unresolved: [] });
    expect(m.reverse({ name: 'Acme' })).toEqual({ ok: true, value: { Name: 'Acme', Phone: null }, unresolved: [] });
  });

  it('integer: reads numbers and numeric strings, refuses fractions', () => {
    const m = mapping('  employees:\n    from: Staff\n    type: integer\n');
    expect(m.forward({ Name: 'A', Staff: 250 })).toMatchObject({ ok: true, value: { employees: 250 } });
    expect(m.forward({ Name: 'A', Staff: '250' })).toMatchObject({ ok: true, value: { employees: 250 } });
    expect(m.forward({ Name: 'A', Staff: '250.0' })).toMatchObject({ ok: true, value: { employees: 250 } });
    expect(m.forward({ Name: 'A', Staff: 2.5 })).toEqual({
      ok: false, unresolved: [], errors: [{ field: 'employees', code: 'invalid_value', message: 'Staff 2.5 is not a whole number' }],
    });
    expect(m.forward({ Name: 'A', Staff: 'many' })).toMatchObject({ ok: false, errors: [{ code: 'invalid_value', message: 'Staff "many" is not a number' }] });
    expect(m.reverse({ name: 'A', employees: 250 })).toMatchObject({ ok: true, value: { Staff: 250 } });
  });

  it('number and boolean on a strings wire (HubSpot): values written back as strings', () => {
    const m = mapping('  employees:\n    from: staff\n    type: integer\n', 'system: hubspot\nobject: companies\nentity: Account\nwire: strings\n');
    expect(m.forward({ Name: 'A', staff: '12' })).toMatchObject({ ok: true, value: { employees: 12 } });
    expect(m.reverse({ name: 'A', employees: 12 })).toMatchObject({ ok: true, value: { staff: '12' } });
    expect(m.reverse({ name: 'A' })).toMatchObject({ ok: true, value: { staff: '' } });
  });

  it('boolean: reads true/false in any case and 1/0; writes a boolean or "true"/"false"', () => {
    const m = single('boolean', 'boolean');
    for (const [raw, v] of [[true, true], ['TRUE', true], ['false', false], [1, true], ['0', false]] as const) {
      expect(m.forward({ F: raw })).toEqual({ ok: true, value: { f: v }, unresolved: [] });
    }
    expect(m.forward({ F: 'yes' })).toMatchObject({ ok: false, errors: [{ field: 'f', code: 'invalid_value', message: 'F "yes" is not true or false' }] });
    expect(m.reverse({ f: false })).toMatchObject({ value: { F: false } });
    expect(single('boolean', 'boolean', {}, 'strings').reverse({ f: true })).toMatchObject({ value: { F: 'true' } });
  });

  it('number: reads numbers and numeric strings, -0 becomes 0', () => {
    const m = single('number', 'number');
    expect(m.forward({ F: '12.75' })).toMatchObject({ value: { f: 12.75 } });
    expect(m.forward({ F: -0 })).toMatchObject({ value: { f: 0 } });
    expect(m.forward({ F: 'NaN' })).toMatchObject({ ok: false, errors: [{ code: 'invalid_value' }] });
    expect(m.reverse({ f: 12.75 })).toMatchObject({ value: { F: 12.75 } });
    expect(m.reverse({ f: 'x' })).toMatchObject({ ok: false, errors: [{ code: 'invalid_value' }] });
  });

  it('decimal: exact decimal strings, rounded to `scale` when given', () => {
    const m = single('decimal', 'decimal');
    expect(m.forward({ F: '0012.500' })).toMatchObject({ value: { f: '12.5' } });
    expect(m.forward({ F: 1e-7 })).toMatchObject({ value: { f: '0.0000001' } });
    expect(single('decimal', 'decimal', { scale: 2 }).forward({ F: '2.345' })).toMatchObject({ value: { f: '2.35' } });
    expect(m.reverse({ f: '12.5' })).toMatchObject({ value: { F: 12.5 } });
    expect(single('decimal', 'decimal', {}, 'typed', 'string').reverse({ f: '12.50' })).toMatchObject({ value: { F: '12.50' } });
  });

  it('datetime: offsets and epoch ms honoured; wall-clock times read and written in the source time zone', () => {
    const utc = single('datetime', 'datetime');
    expect(utc.forward({ F: '2024-05-01T12:34:56.000+0000' })).toMatchObject({ value: { f: '2024-05-01T12:34:56.000Z' } });
    expect(utc.forward({ F: '2024-05-01T14:34:56+02:00' })).toMatchObject({ value: { f: '2024-05-01T12:34:56.000Z' } });
    expect(utc.forward({ F: '1714566896000' })).toMatchObject({ value: { f: '2024-05-01T12:34:56.000Z' } });
    expect(utc.forward({ F: '2024-13-01T00:00:00Z' })).toMatchObject({ ok: false, errors: [{ code: 'invalid_value' }] });
    expect(utc.reverse({ f: '2024-05-01T12:34:56Z' })).toMatchObject({ value: { F: '2024-05-01T12:34:56.000Z' } });

    const paris = single('datetime', 'datetime', { timezone: 'Europe/Paris' });
    expect(paris.forward({ F: '2024-05-01 14:34:56' })).toMatchObject({ value: { f: '2024-05-01T12:34:56.000Z' } });
    expect(paris.forward({ F: '2024-01-15T09:00:00' })).toMatchObject({ value: { f: '2024-01-15T08:00:00.000Z' } });
    expect(paris.forward({ F: '2024-05-01T14:34:56Z' })).toMatchObject({ value: { f: '2024-05-01T14:34:56.000Z' } });
    expect(paris.reverse({ f: '2024-05-01T12:34:56.000Z' })).toMatchObject({ value: { F: '2024-05-01T14:34:56.000' } });
  });

  it('date: keeps YYYY-MM-DD, takes the date of an instant in the field\'s zone, writes back a date or midnight', () => {
    const plain = opportunity('');
    expect(plain.forward({ Name: 'D', Stage: 'Open', CloseDate: '2024-02-29' })).toMatchObject({ ok: true, value: { closeDate: '2024-02-29' } });
    expect(plain.forward({ Name: 'D', Stage: 'Open', CloseDate: '2023-02-29' })).toMatchObject({
      ok: false, errors: [{ field: 'closeDate', code: 'invalid_value', message: 'CloseDate "2023-02-29" is not a date' }],
    });
    expect(plain.reverse({ name: 'D', stage: 'prospecting', closeDate: '2024-02-29' })).toMatchObject({ ok: true, value: { CloseDate: '2024-02-29' } });

    const zoned = mapping(
      '  stage:\n    from: Stage\n    map:\n      Open: prospecting\n  closeDate:\n    from: Close\n    type: date\n    systemType: datetime\n    timezone: America/New_York\n',
      OPPORTUNITY,
    );
    // 03:30Z on 1 March is still 29 February in New York.
    expect(zoned.forward({ Name: 'D', Stage: 'Open', Close: '2024-03-01T03:30:00Z' })).toMatchObject({ ok: true, value: { closeDate: '2024-02-29' } });
    expect(zoned.forward({ Name: 'D', Stage: 'Open', Close: '1709263800000' })).toMatchObject({ ok: true, value: { closeDate: '2024-02-29' } });
    // Midnight in New York: EST in winter, EDT in summer.
    expect(zoned.reverse({ name: 'D', stage: 'prospecting', closeDate: '2024-02-29' })).toMatchObject({ value: { Close: '2024-02-29T05:00:00.000Z' } });
    expect(zoned.reverse({ name: 'D', stage: 'prospecting', closeDate: '2024-07-04' })).toMatchObject({ value: { Close: '2024-07-04T04:00:00.000Z' } });
  });

  it('money: decimal strings with the currency\'s minor digits, never floats', () => {
    const m = opportunity('  amount:\n    from: Amount\n    type: money\n    currency: CurrencyIsoCode\n', 'defaults:\n  currency: USD\n');
    const base = { Name: 'D', Stage: 'Open', CloseDate: '2024-05-01' };
    expect(m.forward({ ...base, Amount: '1250.5', CurrencyIsoCode: 'USD' })).toMatchObject({ ok: true, value: { amount: { amount: '1250.50', currency: 'USD' } } });
    expect(m.forward({ ...base, Amount: 0.1 + 0.2, CurrencyIsoCode: 'EUR' })).toMatchObject({ value: { amount: { amount: '0.30', currency: 'EUR' } } });
    expect(m.forward({ ...base, Amount: 3000.4, CurrencyIsoCode: 'JPY' })).toMatchObject({ value: { amount: { amount: '3000', currency: 'JPY' } } });
    expect(m.forward({ ...base, Amount: 1e21, CurrencyIsoCode: 'USD' })).toMatchObject({ value: { amount: { amount: '1000000000000000000000.00' } } });
    expect(m.forward({ ...base, Amount: 99, CurrencyIsoCode: null })).toMatchObject({ value: { amount: { amount: '99.00', currency: 'USD' } } });
    expect(m.forward({ ...base, Amount: 99, CurrencyIsoCode: 'XBT' })).toMatchObject({
      ok: false, errors: [{ field: 'amount', code: 'unknown_currency' }],
    });
    expect(m.reverse({ name: 'D', stage: 'prospecting', closeDate: '2024-05-01', amount: { amount: '1250.50', currency: 'GBP' } }))
      .toMatchObject({ ok: true, value: { Amount: 1250.5, CurrencyIsoCode: 'GBP' } });
  });

  it('money without a currency field: one fixed currency; other currencies fail to write', () => {
    const m = mapping('  annualRevenue:\n    from: revenue\n    type: money\n', 'system: hubspot\nobject: companies\nentity: Account\nwire: strings\ndefaults:\n  currency: USD\n');
    expect(m.forward({ Name: 'A', revenue: '1000000' })).toMatchObject({ value: { annualRevenue: { amount: '1000000.00', currency: 'USD' } } });
    expect(m.reverse({ name: 'A', annualRevenue: { amount: '5.00', currency: 'USD' } })).toMatchObject({ ok: true, value: { revenue: '5.00' } });
    expect(m.reverse({ name: 'A', annualRevenue: { amount: '5.00', currency: 'EUR' } })).toEqual({
      ok: false, unresolved: [],
      errors: [{ field: 'annualRevenue', code: 'currency_mismatch', message: 'annualRevenue is in EUR, but revenue holds USD amounts only' }],
    });
  });

  it('value maps: many-to-one forward, the chosen reverse, extra reverse entries, unknown values are record errors', () => {
    const m = opportunity('');
    const base = { Name: 'D', CloseDate: '2024-05-01' };
    expect(m.forward({ ...base, Stage: 'Won (legacy)' })).toMatchObject({ ok: true, value: { stage: 'closed_won' } });
    expect(m.reverse({ name: 'D', closeDate: '2024-05-01', stage: 'closed_won' })).toMatchObject({ value: { Stage: 'Won' } });
    expect(m.reverse({ name: 'D', closeDate: '2024-05-01', stage: 'committed' })).toMatchObject({ value: { Stage: 'Open' } });
    expect(m.forward({ ...base, Stage: 'Lost' })).toEqual({
      ok: false, unresolved: [],
      errors: [{ field: 'stage', code: 'unknown_value', message: 'Stage "Lost" has no mapping; known values: Open, Won, Won (legacy)' }],
    });
    expect(m.reverse({ name: 'D', closeDate: '2024-05-01', stage: 'negotiation' })).toMatchObject({
      ok: false, errors: [{ field: 'stage', code: 'unknown_value' }],
    });
  });

  it('enums without a map accept only canonical values', () => {
    const m = mapping('  stage: Stage\n  closeDate: CloseDate\n', OPPORTUNITY);
    expect(m.forward({ Name: 'D', Stage: 'proposal', CloseDate: '2024-05-01' })).toMatchObject({ ok: true, value: { stage: 'proposal' } });
    expect(m.forward({ Name: 'D', Stage: 'Proposal', CloseDate: '2024-05-01' })).toMatchObject({ ok: false, errors: [{ field: 'stage', code: 'unknown_value' }] });
  });

  it('required and default: a missing required value is a record error, a default fills a gap', () => {
    const m = opportunity('  leadSource:\n    from: Source\n    default: Other\n  nextStep:\n    from: Next\n    required: true\n');
    expect(m.forward({ Name: 'D', Stage: 'Open', CloseDate: '2024-05-01', Next: 'call' })).toMatchObject({ ok: true, value: { leadSource: 'Other', nextStep: 'call' } });
    const bad = m.forward({ Name: '', Stage: 'Open', Source: 'Web' });
    expect(bad).toEqual({
      ok: false, unresolved: [],
      errors: [
        { field: 'name', code: 'required', message: 'name is required, but Name has no value' },
        { field: 'closeDate', code: 'required', message: 'closeDate is required, but CloseDate has no value' },
        { field: 'nextStep', code: 'required', message: 'nextStep is required, but Next has no value' },
      ],
    });
  });

  it('direction: inbound fields are not written, outbound fields are not read', () => {
    const m = mapping('  description:\n    from: Notes\n    direction: inbound\n  website:\n    from: Site\n    direction: outbound\n');
    expect(m.forward({ Name: 'A', Notes: 'n', Site: 's' })).toMatchObject({ value: { name: 'A', description: 'n' } });
    expect(m.reverse({ name: 'A', description: 'n', website: 's' })).toEqual({ ok: true, value: { Name: 'A', Site: 's' }, unresolved: [] });
    expect(m.sourceFields).toEqual(['Name', 'Notes']);
    expect(m.targetFields).toEqual(['Name', 'Site']);
  });

  it('nested source paths, and literal dotted field names', () => {
    const m = mapping('  ownerEmail:\n    from: Owner.Email\n    direction: inbound\n  description:\n    from: associations.notes\n');
    expect(m.forward({ Name: 'A', Owner: { Email: 'o@x.com' }, 'associations.notes': 'n' })).toMatchObject({ value: { ownerEmail: 'o@x.com', description: 'n' } });
    expect(m.forward({ Name: 'A', Owner: null, associations: { notes: 'nested' } })).toMatchObject({ value: { description: 'nested' } });
    expect(m.reverse({ name: 'A', description: 'n' })).toMatchObject({ value: { 'associations.notes': 'n' } });
  });

  it('nested canonical fields are built and read', () => {
    const m = mapping('  billingAddress.city: City\n  billingAddress.country: Country\n');
    expect(m.forward({ Name: 'A', City: 'Lyon', Country: 'FR' })).toMatchObject({ value: { billingAddress: { city: 'Lyon', country: 'FR' } } });
    expect(m.forward({ Name: 'A', City: null })).toEqual({ ok: true, value: { name: 'A' }, unresolved: [] });
    expect(m.reverse({ name: 'A', billingAddress: { city: 'Lyon' } })).toMatchObject({ value: { City: 'Lyon', Country: null } });
  });
});

describe('references', () => {
  const m = mapping('  lastName: Last\n  accountId:\n    from: AccountId\n    ref: Account\n', 'system: crm\nobject: Person\nentity: Contact\n');
  const ctx: MapContext = {
    resolveRef: (entity, id) => (entity === 'Account' && id === '001' ? 'acc-uuid' : undefined),
    externalRef: (entity, id) => (entity === 'Account' && id === 'acc-uuid' ? '001' : undefined),
  };

  it('translate ids through the context both ways', () => {
    expect(m.forward({ Last: 'Li', AccountId: '001' }, ctx)).toMatchObject({ ok: true, value: { accountId: 'acc-uuid' }, unresolved: [] });
    expect(m.reverse({ lastName: 'Li', accountId: 'acc-uuid' }, ctx)).toMatchObject({ ok: true, value: { AccountId: '001' }, unresolved: [] });
    expect(m.refs).toEqual([{ field: 'accountId', entity: 'Account', from: 'AccountId' }]);
  });

  it('report unresolved references in the outcome, not as errors, and leave the field out', () => {
    expect(m.forward({ Last: 'Li', AccountId: '002' }, ctx)).toEqual({
      ok: true, value: { lastName: 'Li' }, unresolved: [{ field: 'accountId', entity: 'Account', id: '002' }],
    });
    const back = m.reverse({ lastName: 'Li', accountId: 'other' }, ctx);
    expect(back).toEqual({ ok: true, value: { Last: 'Li' }, unresolved: [{ field: 'accountId', entity: 'Account', id: 'other' }] });
    expect(m.reverse({ lastName: 'Li' }, ctx)).toMatchObject({ value: { AccountId: null } });
  });
});

describe('computed fields', () => {
  const m = mapping('  website: Website\n  domain:\n    expr: \'has(record.Website) ? domainOf(record.Website) : ""\'\n  employees:\n    expr: int(record.Staff) * 2\n');

  it('evaluate CEL per record, read only inbound, list what they read', () => {
    expect(m.forward({ Name: 'A', Website: 'https://www.Acme.com/about', Staff: 5 })).toMatchObject({ ok: true, value: { domain: 'acme.com', employees: 10 } });
    expect(m.forward({ Name: 'A', Website: null, Staff: 1 })).toEqual({ ok: true, value: { name: 'A', employees: 2 }, unresolved: [] });
    expect(m.reverse({ name: 'A', website: 'w', domain: 'acme.com', employees: 3 })).toEqual({ ok: true, value: { Name: 'A', Website: 'w' }, unresolved: [] });
    expect(m.sourceFields).toEqual(['Name', 'Website', 'Staff']);
  });

  it('turn evaluation failures into record errors', () => {
    expect(m.forward({ Name: 'A', Website: 'x.com' })).toMatchObject({
      ok: false, errors: [{ field: 'employees', code: 'expression_failed', message: expect.stringContaining('expression failed') }],
    });
  });
});

describe('hash, owners, validate', () => {
  const m = mapping('  industry: Industry\n  billingAddress.city: City\n  annualRevenue:\n    from: Revenue\n    type: money\n    defaultCurrency: EUR\n    systemOfRecord: erp\n', 'system: erp\nobject: Customer\nentity: Account\ndefaults:\n  systemOfRecord: manual\n');

  it('is equal for equal content, whatever the key order and unmapped extras', () => {
    const a = { name: 'A', industry: 'Retail', billingAddress: { city: 'Köln' }, annualRevenue: { amount: '1.00', currency: 'EUR' } };
    const b = { annualRevenue: { currency: 'EUR', amount: '1.00' }, billingAddress: { city: 'Ko\u0308ln' }, industry: 'Retail', name: 'A', id: 'x', phone: '1' };
    expect(m.hash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(m.hash(b)).toBe(m.hash(a));
    expect(m.hash({ ...a, industry: undefined })).toBe(m.hash({ name: 'A', billingAddress: { city: 'Köln' }, annualRevenue: a.annualRevenue }));
    expect(m.hash({ ...a, billingAddress: {} })).toBe(m.hash({ name: 'A', industry: 'Retail', annualRevenue: a.annualRevenue }));
    expect(m.hash({ ...a, industry: 'Banking' })).not.toBe(m.hash(a));
    expect(m.hash({ ...a, annualRevenue: { amount: '1.01', currency: 'EUR' } })).not.toBe(m.hash(a));
  });

  it('exposes who owns each field', () => {
    expect(m.fieldOwners).toEqual({ name: 'manual', industry: 'manual', 'billingAddress.city': 'manual', annualRevenue: 'erp' });
  });

  it('validates mapped values against the canonical schema on request', () => {
    expect(m.validate({ name: 'A', billingAddress: { city: 'X', country: 'FR' } })).toEqual({ ok: true });
    const bad = m.validate({ name: 'A', billingAddress: { country: 'France' } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.map((e) => e.field)).toEqual(['billingAddress.country']);
  });
});
