import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CURRENCY_MINOR_DIGITS } from '../model/index.js';
import { loadMappingDir, loadMappingFile } from '../runtime/mappings.js';
import { fixDecimal, normalizeDecimal } from './values.js';
import { formatDiagnostic, type CompiledMapping, type FieldInfo, type MapContext } from './index.js';
// The shipped files are checked against the connectors' own descriptors, as the hub checks them.
import { objectSpecOf as schemaFor } from '../../connectors/registry.js';

const DIR = 'mappings';
const { mappings, diagnostics } = await loadMappingDir(DIR, { schemaFor });
const currencies = Object.keys(CURRENCY_MINOR_DIGITS) as (keyof typeof CURRENCY_MINOR_DIGITS)[];

/** Ids translate one-to-one: system id "001x" ⇄ canonical id "canonical:001x". */
const ids: MapContext = {
  resolveRef: (_entity, id) => `canonical:${id}`,
  externalRef: (_entity, id) => (id.startsWith('canonical:') ? id.slice('canonical:'.length) : undefined),
};

const get = (o: Record<string, unknown>, path: string) =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

/** Fields whose system value comes back unchanged: read and written, not computed, no default, lists without a filter. */
const invertible = (m: CompiledMapping) =>
  m.fields.filter((f) => f.direction === 'both' && !f.computed && f.default === undefined && !f.list?.filtered);
/** The item fields of a list of objects that come back unchanged. */
const invertibleItems = (f: FieldInfo) =>
  (f.list?.items ?? []).filter((i) => i.direction === (f.direction === 'inbound' ? 'inbound' : 'both') && !i.computed && i.default === undefined);

const day = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const instant = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const text = fc.string({ minLength: 1, maxLength: 40 });
const moneyIn = (currency: keyof typeof CURRENCY_MINOR_DIGITS) =>
  fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }).map((minor) => {
    const digits = CURRENCY_MINOR_DIGITS[currency];
    const negative = minor < 0n;
    const s = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
    const amount = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
    return { amount: negative ? `-${amount}` : amount, currency };
  });
const currencyOf = (f: FieldInfo) => (f.currencyField ? fc.constantFrom(...currencies) : fc.constant(f.defaultCurrency as keyof typeof CURRENCY_MINOR_DIGITS));

/** A decimal as forward reads it: at the field's scale, or without trailing zeros. */
const decimal = (f: FieldInfo) => fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).map((cents) => {
  const text = fixDecimal(String(cents / 100), 2);
  return f.scale === undefined ? normalizeDecimal(text) : fixDecimal(text, f.scale);
});

/** A system record's value for one field, as the system itself would write it. */
function systemValue(m: CompiledMapping, f: FieldInfo): fc.Arbitrary<Record<string, unknown>> {
  const wire = (v: number | boolean | string) => (m.wire === 'strings' ? String(v) : v);
  const one = (arb: fc.Arbitrary<unknown>) => arb.map((v) => ({ [f.from!]: v }));
  if (f.list) {
    // Elements with the invertible item fields (optional ones sometimes written empty), or values.
    const list = f.list;
    const element: fc.Arbitrary<unknown> = list.items
      ? fc.tuple(...invertibleItems(f).map((i) => (i.required ? systemValue(m, i) : fc.oneof(systemValue(m, i), fc.constant({ [i.from!]: m.wire === 'strings' ? '' : null })))))
        .map((ps) => Object.assign({}, ...ps))
      : systemValue(m, { ...f, list: undefined, from: 'value' }).map(({ value }) => (list.itemPath ? { [list.itemPath]: value } : value));
    return one(fc.array(element, { minLength: 1, maxLength: 4 }));
  }
  if (f.map) {
    const keys = f.reverse ? [...f.map.keys()].filter((k) => f.reverse!.get(f.map!.get(k)) === k) : [...f.map.keys()];
    return one(fc.constantFrom(...keys));
  }
  if (f.ref) return one(fc.stringMatching(/^[A-Za-z0-9]{1,18}$/));
  switch (f.type) {
    case 'string': return one(f.enumValues ? fc.constantFrom(...f.enumValues) : text);
    case 'integer': return one(fc.integer({ min: 0, max: 1_000_000 }).map(wire));
    case 'number': return one(fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => wire(n === 0 ? 0 : n)));
    case 'boolean': return one(fc.boolean().map(wire));
    case 'date': return one(f.systemType === 'datetime' ? day.map((d) => `${d}T00:00:00.000Z`) : day);
    case 'datetime': return one(instant);
    case 'decimal': return one(decimal(f).map((d) => (m.wire === 'strings' || f.systemType === 'string' ? d : Number(d))));
    case 'money':
      return currencyOf(f).chain(moneyIn).map(({ amount, currency }) => ({
        [f.from!]: m.wire === 'strings' ? amount : Number(amount),
        ...(f.currencyField ? { [f.currencyField]: currency } : {}),
      }));
    default: throw new Error(`no generator for ${f.type}`);
  }
}

function systemRecord(m: CompiledMapping, fields = invertible(m)) {
  const empty = m.wire === 'strings' ? '' : null;
  const parts = fields.map((f) => {
    const value = systemValue(m, f);
    // An absent canonical list is written as an empty one.
    return f.required ? value : fc.oneof(value, fc.constant({ [f.from!]: f.list ? [] : empty }));
  });
  return fc.tuple(...parts).map((ps) => Object.assign({}, ...ps) as Record<string, unknown>);
}

/** A canonical value in the range of the mapping: one that forward can produce. */
function canonicalValue(m: CompiledMapping, f: FieldInfo): fc.Arbitrary<unknown> {
  if (f.list) {
    const item = f.list.items ? objectOf(m, invertibleItems(f)) : canonicalValue(m, { ...f, list: undefined });
    return fc.array(item, { minLength: 1, maxLength: 4 });
  }
  if (f.map) {
    const inRange = [...f.reverse!.keys()].filter((v) => f.map!.get(f.reverse!.get(v)!) === v);
    return fc.constantFrom(...inRange);
  }
  if (f.ref) return fc.stringMatching(/^[A-Za-z0-9]{1,18}$/).map((id) => `canonical:${id}`);
  switch (f.type) {
    case 'string': return f.enumValues ? fc.constantFrom(...f.enumValues) : text;
    case 'integer': return fc.integer({ min: 0, max: 100 });
    case 'number': return fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));
    case 'boolean': return fc.boolean();
    case 'date': return day;
    case 'datetime': return instant;
    case 'decimal': return decimal(f);
    case 'money': return currencyOf(f).chain(moneyIn);
    default: throw new Error(`no generator for ${f.type}`);
  }
}

function canonicalRecord(m: CompiledMapping) {
  return objectOf(m, invertible(m));
}

/** A canonical record (or list item) with values for `fields`, the optional ones sometimes left out. */
function objectOf(m: CompiledMapping, fields: FieldInfo[]): fc.Arbitrary<Record<string, unknown>> {
  const parts = fields.map((f) => {
    const value = canonicalValue(m, f).map((v) => [f.field, v] as const);
    return f.required ? value : fc.option(value, { nil: undefined });
  });
  return fc.tuple(...parts).map((entries) => {
    const out: Record<string, unknown> = {};
    for (const e of entries) {
      if (!e) continue;
      const [path, v] = e;
      const [a, b] = path.split('.');
      if (b === undefined) out[a] = v;
      else ((out[a] ??= {}) as Record<string, unknown>)[b] = v;
    }
    return out;
  });
}

/**
 * What reverse wrote equals what the system had; a list element may have more fields (those the
 * mapping writes only), so elements are compared on the fields the system had.
 */
function expectWritten(written: unknown, had: unknown, key: string): void {
  if (!Array.isArray(had) || !Array.isArray(written)) return void expect(written, key).toEqual(had);
  expect(written, key).toHaveLength(had.length);
  had.forEach((element, i) => {
    if (element === null || typeof element !== 'object') expect(written[i], `${key}[${i}]`).toEqual(element);
    else for (const [k, v] of Object.entries(element)) expect((written[i] as Record<string, unknown>)[k], `${key}[${i}].${k}`).toEqual(v);
  });
}

describe('shipped mappings', () => {
  it('every file in mappings/ validates against the model and the systems\' schemas, with no findings', async () => {
    const files = readdirSync(DIR).filter((n) => n.endsWith('.yaml')).sort();
    expect(files).toEqual([
      'aws-marketplace-offer.yaml', 'aws-partner-central-opportunity.yaml', 'hubspot-company.yaml', 'hubspot-contact.yaml', 'hubspot-deal.yaml',
      'microsoft-partner-center-referral.yaml', 'netsuite-contact.yaml', 'netsuite-customer.yaml', 'netsuite-invoice.yaml',
      'netsuite-sales-order.yaml', 'salesforce-account.yaml', 'salesforce-contact.yaml', 'salesforce-opportunity.yaml',
      'salesforce-private-offer.yaml',
    ]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(mappings.map((m) => `${m.system}/${m.object}`)).toHaveLength(files.length);
    for (const file of files) {
      const one = await loadMappingFile(`${DIR}/${file}`, { schemaFor });
      expect(one.diagnostics.map(formatDiagnostic)).toEqual([]);
      expect(one.mapping).toBeDefined();
    }
  });

  it('leaves the canonical-id fields to the sync layer', () => {
    for (const m of mappings) {
      expect(m.sourceFields).not.toContain('Ecosync_Id__c');
      expect(m.sourceFields).not.toContain('ecosync_id');
      expect(m.targetFields.filter((f) => /ecosync_id/i.test(f))).toEqual([]);
    }
  });

  // Files whose system keeps some required fields to itself (an ERP's document numbers, totals and
  // statuses), and files only read (an offer's terms), are read, not round-tripped: every record
  // the system can send maps.
  const roundTrips = (m: CompiledMapping) => invertible(m).length > 0 && m.fields.filter((f) => f.required).every((f) => invertible(m).includes(f));
  for (const m of mappings.filter((x) => x.shape === 'fields' && !roundTrips(x))) {
    it(`${m.system} ${m.object}: every record it can send maps, and maps alike twice`, () => {
      const read = m.fields.filter((f) => f.direction !== 'outbound' && f.from && !f.computed && f.default === undefined && (f.type !== 'money' || f.currencyField || f.defaultCurrency));
      expect(read.length).toBeGreaterThan(3);
      fc.assert(fc.property(systemRecord(m, read), (x) => {
        const canonical = m.forward(x, ids);
        expect(canonical).toMatchObject({ ok: true, unresolved: [] });
        if (!canonical.ok) return;
        const again = m.forward(structuredClone(x), ids);
        expect(again.ok && m.hash(again.value)).toBe(m.hash(canonical.value));
      }), { numRuns: 200 });
    });
  }

  // The co-sell payload files only write (shape: document); their payloads are tested in test/cosell.
  for (const m of mappings.filter((x) => x.shape === 'fields' && roundTrips(x))) {
    describe(`${m.system} ${m.object}`, () => {
      it('reverse(forward(x)) = x on the invertible fields', () => {
        const fields = invertible(m);
        expect(fields.length).toBeGreaterThan(3);
        fc.assert(fc.property(systemRecord(m), (x) => {
          const canonical = m.forward(x, ids);
          expect(canonical).toMatchObject({ ok: true, unresolved: [] });
          if (!canonical.ok) return;
          const back = m.reverse(canonical.value, ids);
          expect(back).toMatchObject({ ok: true, unresolved: [] });
          if (!back.ok) return;
          for (const key of Object.keys(x)) expectWritten(back.value[key], x[key], key);
        }), { numRuns: 200 });
      });

      it('forward(reverse(c)) = c for canonical values in range', () => {
        fc.assert(fc.property(canonicalRecord(m), (c) => {
          const written = m.reverse(c, ids);
          expect(written).toMatchObject({ ok: true, unresolved: [] });
          if (!written.ok) return;
          const read = m.forward(written.value, ids);
          expect(read).toMatchObject({ ok: true, unresolved: [] });
          if (!read.ok) return;
          for (const f of invertible(m)) expect(get(read.value, f.field), f.field).toEqual(get(c, f.field));
          // Equal content hashes equal; computed fields (not in c) come from the record itself.
          const computed = Object.fromEntries(m.fields.filter((f) => f.computed).map((f) => [f.field, get(read.value, f.field)]));
          expect(m.hash(read.value)).toBe(m.hash({ ...c, ...computed }));
        }), { numRuns: 200 });
      });
    });
  }

  it('an opportunity travels Salesforce → canonical → HubSpot → canonical → Salesforce', () => {
    const sf = mappings.find((m) => m.system === 'salesforce' && m.object === 'Opportunity')!;
    const hs = mappings.find((m) => m.system === 'hubspot' && m.object === 'deals')!;
    const record = {
      Name: 'Acme renewal 2025', Amount: 48000.5, CurrencyIsoCode: 'EUR', StageName: 'Proposal/Price Quote',
      CloseDate: '2025-03-31', Probability: 75, Type: 'Existing Customer - Upgrade', AccountId: '001AAA',
      LeadSource: 'Web', NextStep: 'Send order form', Description: 'Three-year term', Ecosync_CoSell_Cloud__c: 'AWS',
    };
    const canonical = sf.forward(record, ids);
    expect(canonical).toEqual({
      ok: true, unresolved: [],
      value: {
        name: 'Acme renewal 2025', amount: { amount: '48000.50', currency: 'EUR' }, stage: 'proposal', closeDate: '2025-03-31',
        probability: 75, type: 'expansion', accountId: 'canonical:001AAA', leadSource: 'Web', nextStep: 'Send order form',
        description: 'Three-year term', coSell: { cloud: 'aws' },
      },
    });
    if (!canonical.ok) return;
    const deal = hs.reverse(canonical.value, { externalRef: () => '9001' });
    expect(deal).toEqual({
      ok: true, unresolved: [],
      value: {
        pipeline: 'default', dealname: 'Acme renewal 2025', amount: '48000.50', deal_currency_code: 'EUR',
        dealstage: 'contractsent', closedate: '2025-03-31T00:00:00.000Z', dealtype: 'existingbusiness',
        'associations.companies': '9001', hs_next_step: 'Send order form', description: 'Three-year term',
        // The co-sell cloud travels; status, cloud id and message are ecosync's own (written empty here).
        ecosync_cosell_cloud: 'aws', ecosync_cosell_status: '', ecosync_cloud_opportunity_id: '', ecosync_cosell_message: '',
      },
    });
    if (!deal.ok) return;
    const fromHubSpot = hs.forward(deal.value, { resolveRef: () => 'canonical:001AAA' });
    if (!fromHubSpot.ok) throw new Error('HubSpot deal did not map back');
    // HubSpot has no lead source, and its probability is derived from the stage: neither is synced.
    const { leadSource: _noLeadSourceInHubSpot, probability: _derivedInHubSpot, ...shared } = canonical.value;
    expect(fromHubSpot.value).toEqual(shared);
    const back = sf.reverse({ ...canonical.value, ...fromHubSpot.value }, ids);
    expect(back.ok && back.value).toMatchObject(record);
  });
});
