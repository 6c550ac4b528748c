import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMappingDir } from '../runtime/mappings.js';
import { formatDiagnostic, parseMapping } from './index.js';
import { schemaFor } from './test-schemas.js';

/** Errors in a mapping text, formatted as the CLI prints them. */
function check(text: string, withSchema = false): string[] {
  return findings(text, withSchema).filter((d) => d.includes(': error: '));
}

function warnings(text: string, withSchema = false): string[] {
  return findings(text, withSchema).filter((d) => d.includes(': warning: '));
}

function findings(text: string, withSchema: boolean): string[] {
  return parseMapping(text, 'm.yaml', withSchema ? { schemaFor } : {}).diagnostics.map(formatDiagnostic);
}

const header = (entity = 'Opportunity', object = 'Opportunity') => `system: salesforce\nobject: ${object}\nentity: ${entity}\n`;
// Lines 1-3 are the header; `fields:` is line 4, so the first field is line 5.
const opportunity = (fields: string) => `${header()}fields:\n  name: Name\n  closeDate: CloseDate\n${fields}`;
const STAGE = '  stage:\n    from: StageName\n    map:\n      Prospecting: prospecting\n      Closed Won: closed_won\n';

describe('loading a mapping file', () => {
  it('accepts a small valid file', () => {
    const { mapping, diagnostics } = parseMapping(opportunity(STAGE), 'm.yaml');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(mapping?.entity).toBe('Opportunity');
  });

  it('formats a diagnostic as file:line:col: severity: reason', () => {
    expect(formatDiagnostic({ file: 'mappings/x.yaml', line: 12, col: 7, severity: 'error', message: 'bad' }))
      .toBe('mappings/x.yaml:12:7: error: bad');
  });

  it('reports YAML syntax errors where they are', () => {
    expect(check(`${header()}fields:\n  name: Name\n  name: Other\n`)).toEqual(['m.yaml:6:3: error: Map keys must be unique']);
  });

  it('reports a document that is not a map', () => {
    expect(check('- a\n- b\n')).toEqual(['m.yaml:1:1: error: a mapping file is a YAML map with `system`, `object`, `entity` and `fields`']);
  });

  it('reports unknown and missing top-level keys', () => {
    expect(check('system: salesforce\nobjet: Opportunity\nentity: Opportunity\nfields:\n  name: Name\n')).toEqual([
      'm.yaml:1:1: error: missing `object`',
      'm.yaml:2:1: error: unknown key `objet` (did you mean `object`?); a mapping file has `system`, `object`, `entity`, `description`, `wire`, `shape`, `defaults`, `constants`, `fields`, `outbound`',
      'm.yaml:4:1: error: Opportunity requires `stage`, but no inbound mapping sets it',
      'm.yaml:4:1: error: Opportunity requires `closeDate`, but no inbound mapping sets it',
    ]);
  });

  it('reports an unknown entity at its value', () => {
    expect(check('system: salesforce\nobject: Opportunity\nentity: Oportunity\nfields:\n  name: Name\n')).toEqual([
      'm.yaml:3:9: error: unknown entity `Oportunity` (did you mean `Opportunity`?); entities are `Account`, `Contact`, `Partner`, `Opportunity`, `CoSellSubmission`, `SalesOrder`, `Invoice`, `OfferTerms`, `PrivateOffer`, `ResaleAuthorization`, `Agreement`',
    ]);
  });

  it('reports an unknown canonical field with a suggestion', () => {
    expect(check(opportunity(`${STAGE}  stag: StageName\n`))).toEqual([
      'm.yaml:12:3: error: Opportunity has no field `stag` (did you mean `stage`?)',
    ]);
  });

  it('reports the canonical fields mappings cannot set', () => {
    expect(check(opportunity(`${STAGE}  id: Id\n  partnerInvolvement: X\n`))).toEqual([
      'm.yaml:12:3: error: `id` is the canonical id assigned by ecosync; the sync layer keeps it, mappings do not',
      'm.yaml:13:3: error: `partnerInvolvement` is a list of objects: map their fields under `items:`, e.g. `partnerId: Field`',
    ]);
    expect(check(`${header('Account', 'Account')}fields:\n  name: Name\n  billingAddress: BillingAddress\n`)).toEqual([
      'm.yaml:6:3: error: `billingAddress` is an object; map its fields one by one, e.g. `billingAddress.street`',
    ]);
  });

  it('reports a type that does not fit the canonical field', () => {
    expect(check(opportunity(`${STAGE}  probability:\n    from: Probability\n    type: date\n`))).toEqual([
      'm.yaml:14:11: error: type `date` does not fit `probability`, which is an integer; use `integer`',
    ]);
    expect(check(opportunity(`${STAGE}  probability:\n    from: Probability\n    type: float\n`))).toEqual([
      'm.yaml:14:11: error: `type` must be one of `string`, `integer`, `number`, `boolean`, `date`, `datetime`, `money`, `decimal`',
    ]);
  });

  it('reports unknown keys in a field spec', () => {
    expect(check(opportunity(`${STAGE}  nextStep:\n    frm: NextStep\n`))).toEqual([
      'm.yaml:12:3: error: `nextStep` needs `from` (a system field) or `expr` (a computed value)',
      'm.yaml:13:5: error: unknown key `frm` (did you mean `from`?); a field spec has `from`, `type`, `map`, `reverse`, `unmapped`, `default`, `required`, `expr`, `direction`, `systemOfRecord`, `ref`, `timezone`, `currency`, `defaultCurrency`, `scale`, `systemType`, `description`',
    ]);
  });

  it('reports value-map targets that are not canonical values', () => {
    const text = opportunity('  stage:\n    from: StageName\n    map:\n      Prospecting: prospect\n      Closed Won: closed_won\n');
    expect(check(text)[0]).toBe(
      'm.yaml:10:20: error: `Prospecting` maps to "prospect", but `stage` must be one of `prospecting`, `qualification`, `technical_validation`, `business_validation`, `proposal`, `negotiation`, `committed`, `closed_won`, `closed_lost`',
    );
  });

  it('reports a many-to-one map without a reverse choice, at the second source value', () => {
    const text = opportunity(`${STAGE}      Closed Lost: closed_lost\n      Won Big: closed_won\n`);
    expect(check(text).filter((d) => d.includes('error'))).toEqual([
      'm.yaml:13:7: error: `closed_won` is the target of `Closed Won`, `Won Big`, so writing it back is ambiguous; choose one under `reverse:`, e.g. `closed_won: Closed Won`',
    ]);
    // An explicit choice settles it; an inbound-only field never writes back.
    expect(check(`${text}    reverse:\n      closed_won: Closed Won\n`).filter((d) => d.includes('error'))).toEqual([]);
    expect(check(`${text}    direction: inbound\n`)).toEqual([]);
  });

  it('reports reverse choices that do not read back as the canonical value', () => {
    const text = opportunity(`${STAGE}    reverse:\n      closed_won: Prospecting\n      committed: Signed\n      finished: Closed Won\n`);
    expect(check(text).filter((d) => d.includes('error'))).toEqual([
      'm.yaml:13:19: error: `Prospecting` reads back as `prospecting`, not `closed_won`; choose one of `Closed Won`',
      'm.yaml:14:18: error: `Signed` is not one of the system values in `map`',
      'm.yaml:15:7: error: `finished` is not valid: must be one of `prospecting`, `qualification`, `technical_validation`, `business_validation`, `proposal`, `negotiation`, `committed`, `closed_won`, `closed_lost`',
    ]);
  });

  it('warns about canonical values an outbound map cannot write', () => {
    expect(warnings(opportunity(STAGE))).toEqual([
      'm.yaml:10:7: warning: canonical `qualification`, `technical_validation`, `business_validation`, `proposal`, `negotiation`, `committed`, `closed_lost` have no system value: records with them will fail to write; add them under `reverse:`',
    ]);
    expect(warnings(opportunity(STAGE.replace('    map:', '    direction: inbound\n    map:')))).toEqual([]);
  });

  it('reports required canonical fields that nothing reads, at `fields`', () => {
    expect(check(`${header()}fields:\n  name: Name\n  stage:\n    from: StageName\n    direction: outbound\n`)).toEqual([
      'm.yaml:4:1: error: Opportunity requires `stage`, but no inbound mapping sets it',
      'm.yaml:4:1: error: Opportunity requires `closeDate`, but no inbound mapping sets it',
    ]);
  });

  it('reports expressions that do not compile, at the column inside the expression', () => {
    expect(check(opportunity(`${STAGE}  description:\n    expr: record.Name +\n`))).toEqual([
      'm.yaml:13:24: error: expression does not compile: Unexpected token: EOF',
    ]);
    expect(check(opportunity(`${STAGE}  description:\n    expr: "nope(record.Name)"\n`))).toEqual([
      'm.yaml:13:12: error: expression does not compile: found no matching overload for \'nope(dyn)\'',
    ]);
  });

  it('reports expressions whose result does not fit the field', () => {
    expect(check(opportunity(`${STAGE}  probability:\n    expr: '"high"'\n`))).toEqual([
      'm.yaml:13:11: error: expression gives string, which does not fit `probability` (an integer)',
    ]);
  });

  it('reports money without a currency source, and references without `ref`', () => {
    expect(check(opportunity(`${STAGE}  amount:\n    from: Amount\n  accountId: AccountId\n`))).toEqual([
      'm.yaml:12:3: error: `amount` is money: name the system\'s currency field (`currency: CurrencyIsoCode`) or give a default currency (`defaults.currency` or `defaultCurrency`)',
      'm.yaml:14:3: error: `accountId` holds a canonical id: add `ref: <Entity>` so the system\'s id is resolved, e.g. `ref: Account`',
    ]);
  });

  it('reports bad defaults, time zones and currencies at their values', () => {
    const text = `${header()}defaults:\n  currency: XYZ\n  timezone: Mars/Olympus\n  owner: x\nfields:\n  name: Name\n  closeDate: CloseDate\n${STAGE}  probability:\n    from: Probability\n    default: high\n`;
    expect(check(text)).toEqual([
      'm.yaml:5:13: error: `defaults.currency` must be an ISO 4217 currency code we handle: USD, EUR, GBP, JPY, AUD, CAD, CHF, CNY, INR, BRL, MXN, SEK, NOK, DKK, NZD, SGD, HKD, KRW, ZAR, PLN',
      'm.yaml:6:13: error: `defaults.timezone` must be an IANA time zone such as `UTC` or `America/New_York`',
      'm.yaml:7:3: error: unknown default `owner`; defaults are `currency`, `timezone`, `systemOfRecord`, `direction`',
      'm.yaml:18:14: error: default for `probability`: must be an integer',
    ]);
  });

  it('reports a system field written by two mappings', () => {
    expect(check(opportunity(`${STAGE}  description: Description\n  nextStep: Description\n`))).toEqual([
      'm.yaml:13:13: error: system field `Description` is written by both `description` and `nextStep`; set `direction: inbound` on one',
    ]);
  });

  it('collects every error in a file instead of stopping at the first', () => {
    const text = `${header()}fields:\n  nme: Name\n  stage:\n    from: StageName\n    type: integer\n  closeDate:\n    from: CloseDate\n    timezone: Nowhere\n`;
    expect(check(text)).toEqual([
      'm.yaml:4:1: error: Opportunity requires `name`, but no inbound mapping sets it',
      'm.yaml:5:3: error: Opportunity has no field `nme` (did you mean `name`?)',
      'm.yaml:8:11: error: type `integer` does not fit `stage`, which is one of a fixed set of values; use `string`',
      'm.yaml:11:15: error: `timezone` must be an IANA time zone such as `UTC` or `America/New_York`',
    ]);
  });
});

describe('checking against the system\'s field schema', () => {
  it('reports fields the system does not have', () => {
    expect(check(opportunity(`${STAGE}  nextStep: Next_Step\n`), true)).toEqual([
      'm.yaml:12:13: error: salesforce Opportunity has no field `Next_Step` (did you mean `NextStep`?)',
    ]);
  });

  it('reports types that cannot read the system field', () => {
    expect(check(opportunity(`${STAGE}  description:\n    from: Amount\n`), true)).toEqual([
      'm.yaml:13:11: error: `Amount` is a currency field in salesforce Opportunity; type `string` cannot read it',
    ]);
  });

  it('reports a date mapped from a datetime field without `systemType: datetime`', () => {
    const deal = 'system: hubspot\nobject: deals\nentity: Opportunity\nwire: strings\nfields:\n  name: dealname\n  stage:\n    from: dealstage\n    direction: inbound\n    map:\n      closedwon: closed_won\n  closeDate: closedate\n';
    expect(check(deal, true).filter((d) => d.includes('error'))).toEqual([
      'm.yaml:12:14: error: `closedate` is a datetime field in hubspot deals; add `systemType: datetime` so the date is written back as an instant',
    ]);
  });

  it('reports map keys that are not picklist values, and warns about picklist values left unmapped', () => {
    const text = opportunity('  stage:\n    from: StageName\n    direction: inbound\n    map:\n      Prospecting: prospecting\n      Closed Wonn: closed_won\n');
    expect(check(text, true)).toEqual([
      'm.yaml:12:7: error: `Closed Wonn` is not a value of StageName in salesforce Opportunity (did you mean `Closed Won`?)',
    ]);
    expect(warnings(text, true)).toEqual([
      'm.yaml:11:7: warning: StageName values `Qualification`, `Needs Analysis`, `Value Proposition`, `Id. Decision Makers`, `Perception Analysis`, `Proposal/Price Quote`, `Negotiation/Review`, `Closed Won`, `Closed Lost` have no mapping: records with them will fail to read',
    ]);
  });

  it('reports writes to read-only fields', () => {
    expect(check(opportunity(`${STAGE}  description: SystemModstamp\n`), true)).toEqual([
      'm.yaml:12:16: error: `SystemModstamp` is a datetime field in salesforce Opportunity; type `string` cannot read it',
      'm.yaml:12:16: error: `SystemModstamp` is read-only in salesforce Opportunity; set `direction: inbound`',
    ]);
    expect(check(opportunity(`${STAGE}  description:\n    from: Id\n    direction: both\n`), true)).toEqual([
      'm.yaml:14:16: error: `Id` is read-only in salesforce Opportunity; set `direction: inbound`',
    ]);
    expect(check(opportunity(`${STAGE}  description:\n    from: Id\n    direction: inbound\n`), true)).toEqual([]);
  });

  it('accepts relationship paths for reading only', () => {
    const account = `${header('Account', 'Contact')}fields:\n  name: LastName\n  description: Account.Name\n`;
    expect(check(account, true)).toEqual([
      'm.yaml:6:16: error: `Account.Name` is read through a relationship and cannot be written; set `direction: inbound`',
    ]);
    expect(check(`${header('Account', 'Contact')}fields:\n  name: LastName\n  description:\n    from: Account.Name\n    direction: inbound\n`, true)).toEqual([]);
  });
});

describe('loading a directory', () => {
  it('reports a system object mapped twice and disagreeing owners across files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mappings-'));
    writeFileSync(join(dir, 'a.yaml'), opportunity(`${STAGE}  description:\n    from: Description\n    systemOfRecord: salesforce\n`));
    writeFileSync(join(dir, 'b.yaml'), opportunity(`${STAGE}  description: Description\n`));
    writeFileSync(join(dir, 'notes.txt'), 'not a mapping');
    const { mappings, diagnostics } = await loadMappingDir(dir);
    expect(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([
      `${join(dir, 'b.yaml')}:2:9: error: salesforce Opportunity is already mapped to Opportunity by ${join(dir, 'a.yaml')}; keep one file per system object and entity`,
      `${join(dir, 'b.yaml')}:12:3: error: Opportunity.description has system of record \`lww\` here but \`salesforce\` in ${join(dir, 'a.yaml')}; files mapping one entity must agree on who owns each field`,
    ]);
    expect(mappings.map((m) => m.file)).toEqual([join(dir, 'a.yaml')]);
  });
});
