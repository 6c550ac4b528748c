/**
 * Mapping engine throughput: the ecosync compiled mapping vs the same mapping in JSONata and vs
 * the same mapping written by hand in TypeScript (handwritten.ts), on the same generated Salesforce
 * opportunities, in one run. The engine and JSONata are compiled once and evaluated per record;
 * JSONata's evaluate is async, so it is awaited per record as a sync would. The hand-written
 * function is the ceiling: what this one mapping costs with nothing generic in the way.
 *
 *   node --import tsx bench/mapping/run.ts [--records 200000] [--jsonata-records 20000] [--rounds 5]
 *
 * JSONata is two orders of magnitude slower, so by default it maps the first 20,000 of the same
 * records each round (a rate needs no more); pass --jsonata-records to change that.
 *
 * Before anything is timed, the hand-written function must give the engine's outcome for every
 * generated record and for a set of edge records (empty values, strings for numbers, unknown
 * values, unresolved references), and JSONata the engine's values for the first 2,000 records;
 * otherwise the bench stops without a result.
 *
 * Prints a table and writes bench/results/mapping.json.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import jsonata from 'jsonata';
import { canonicalJson, formatDiagnostic, parseMapping, type CanonicalPartial, type MapContext, type MapOutcome } from '../../src/mapping/index.js';
import { writeResults } from '../support/results.js';
import { mapOpportunity } from './handwritten.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    'jsonata-records': { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
  },
});
const RECORDS = Number(args.records);
const JSONATA_RECORDS = Math.min(RECORDS, Number(args['jsonata-records']));
const ROUNDS = Number(args.rounds);

// ---- data ------------------------------------------------------------------------------------

/** Small seeded PRNG so every run maps the same records. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STAGES = ['Prospecting', 'Qualification', 'Needs Analysis', 'Value Proposition', 'Id. Decision Makers', 'Perception Analysis', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost'];
const TYPES = ['New Customer', 'Existing Customer - Upgrade', 'Existing Customer - Replacement', 'Existing Customer - Downgrade', null];
const CURRENCIES = ['USD', 'USD', 'EUR', 'GBP', 'JPY', null];
const CAMPAIGNS = ['Web', 'Partner Referral', 'Purchased List', null];
const ACCOUNTS = Array.from({ length: 1000 }, (_, i) => `001${String(i).padStart(15, '0')}`);

function generate(n: number): Record<string, unknown>[] {
  const rand = prng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  return Array.from({ length: n }, (_, i) => {
    const currency = pick(CURRENCIES);
    const day = new Date(Date.UTC(2024, 0, 1) + Math.floor(rand() * 730) * 86_400_000).toISOString().slice(0, 10);
    const campaign = pick(CAMPAIGNS);
    return {
      attributes: { type: 'Opportunity', url: `/services/data/v62.0/sobjects/Opportunity/006${i}` },
      Id: `006${String(i).padStart(15, '0')}`,
      Name: `Opportunity ${i}`,
      Amount: rand() < 0.9 ? Math.round(rand() * 10_000_000) / (currency === 'JPY' ? 1 : 100) : null,
      CurrencyIsoCode: currency,
      StageName: pick(STAGES),
      CloseDate: day,
      Probability: rand() < 0.7 ? Math.round(rand() * 100) : null,
      Type: pick(TYPES),
      AccountId: rand() < 0.95 ? pick(ACCOUNTS) : null,
      Campaign: campaign ? { attributes: { type: 'Campaign' }, Type: campaign } : null,
      NextStep: rand() < 0.5 ? 'Follow up with the buyer' : null,
      Description: rand() < 0.3 ? `Deal ${i} sourced through the partner programme` : null,
      SystemModstamp: '2024-05-01T12:00:00.000+0000',
    };
  });
}

/**
 * Records the generator does not make, for the hand-written check: each is a valid opportunity
 * with a few fields changed, so every rule of the file (empty values, coercions, value maps,
 * currencies, the probability expression, references, the nested lead source) is met at least once.
 */
function edgeRecords(): Record<string, unknown>[] {
  const base = { Id: '006000000000000001', Name: 'Edge', StageName: 'Qualification', CloseDate: '2024-06-30' };
  const changes: Record<string, unknown>[] = [
    {}, { Name: '' }, { Name: null }, { Name: 42 }, { Name: true }, { Name: { first: 'x' } },
    { Amount: 0 }, { Amount: -0 }, { Amount: '' }, { Amount: 1.005 }, { Amount: -0.004 }, { Amount: 2.675, CurrencyIsoCode: 'JPY' },
    { Amount: 99.995 }, { Amount: 1e21 }, { Amount: 1.5e-7 }, { Amount: 123456789n }, { Amount: '12.345' }, { Amount: ' 12 ' },
    { Amount: '+.5' }, { Amount: '-7.' }, { Amount: '1e3' }, { Amount: '2.5E-3' }, { Amount: '0012.30' }, { Amount: 'abc' },
    { Amount: '.' }, { Amount: '1e400' }, { Amount: Number.NaN }, { Amount: {} },
    { Amount: 10, CurrencyIsoCode: '' }, { Amount: 10, CurrencyIsoCode: 'KRW' }, { Amount: 10.5, CurrencyIsoCode: 'KRW' },
    { Amount: 10, CurrencyIsoCode: 'XXX' }, { Amount: 10, CurrencyIsoCode: 5 }, { Amount: null, CurrencyIsoCode: 'XXX' },
    { StageName: '' }, { StageName: null }, { StageName: 'Bogus' }, { StageName: 5 }, { StageName: 'Closed Won', Probability: null },
    { StageName: 'Bogus', Probability: 40 },
    { CloseDate: '' }, { CloseDate: '2024-02-29' }, { CloseDate: '2023-02-29' }, { CloseDate: '2024-13-01' }, { CloseDate: 1_700_000_000_000 },
    { CloseDate: '1700000000000' }, { CloseDate: '2024-05-01T23:30:00-05:00' }, { CloseDate: '2024-05-01T23:30:00+0530' },
    { CloseDate: '2024-05-01 01:02' }, { CloseDate: '2024-05-01T01:02:03.123456Z' }, { CloseDate: '2024-05-01T23:30:00z' }, { CloseDate: '2024-05-01T24:00:00Z' },
    { CloseDate: new Date(Date.UTC(2024, 4, 1, 22)) }, { CloseDate: 'tomorrow' }, { CloseDate: true },
    { Probability: 0 }, { Probability: -0.4 }, { Probability: 3.7 }, { Probability: -3.7 }, { Probability: '' }, { Probability: '55' },
    { Probability: '-5' }, { Probability: '55.5' }, { Probability: ' 5' }, { Probability: '0x10' }, { Probability: '000000000000000000055' }, { Probability: '99999999999999999999' },
    { Probability: 1e20 }, { Probability: Number.POSITIVE_INFINITY }, { Probability: 7n }, { Probability: true }, { Probability: [1] },
    { Type: '' }, { Type: 'Existing Customer - Downgrade' }, { Type: 'Other' }, { Type: 3 },
    { AccountId: ACCOUNTS[7] }, { AccountId: '001UNKNOWN' }, { AccountId: '' }, { AccountId: 17 },
    { Campaign: null }, { Campaign: { Type: '' } }, { Campaign: { Type: 'Web' } }, { Campaign: 'Web' }, { Campaign: { Type: 9 } },
    { Campaign: { Type: ['Web'] } }, { 'Campaign.Type': 'Literal', Campaign: { Type: 'Nested' } }, { 'Campaign.Type': null, Campaign: { Type: 'Nested' } },
    { NextStep: '' }, { NextStep: 12 }, { NextStep: [] }, { Description: false }, { Description: 'Ünïcödé' },
    { Name: '', StageName: '', CloseDate: '', Amount: 'x', Type: 'y', AccountId: '001UNKNOWN', Probability: 'z' },
  ];
  return changes.map((c) => ({ ...base, ...c }));
}

/** Whether two outcomes agree: the same values (keys present alike) or the same errors by field and code, and the same unresolved references. */
function sameOutcome(a: MapOutcome<CanonicalPartial>, b: MapOutcome<CanonicalPartial>): boolean {
  if (!isDeepStrictEqual(a.unresolved, b.unresolved)) return false;
  if (a.ok && b.ok) return isDeepStrictEqual(a.value, b.value);
  if (a.ok || b.ok) return false;
  return isDeepStrictEqual(a.errors.map((e) => [e.field, e.code]), b.errors.map((e) => [e.field, e.code]));
}

const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

// ---- the same mapping in JSONata -------------------------------------------------------------

/** Lookup tables are bound once with assign(), as a careful JSONata user would, not rebuilt per record. */
const JSONATA_TABLES = {
  stages: {
    'Prospecting': 'prospecting', 'Qualification': 'qualification', 'Needs Analysis': 'technical_validation',
    'Value Proposition': 'business_validation', 'Id. Decision Makers': 'business_validation', 'Perception Analysis': 'business_validation',
    'Proposal/Price Quote': 'proposal', 'Negotiation/Review': 'negotiation', 'Closed Won': 'closed_won', 'Closed Lost': 'closed_lost',
  },
  probabilities: {
    'Prospecting': 10, 'Qualification': 10, 'Needs Analysis': 20, 'Value Proposition': 50, 'Id. Decision Makers': 60,
    'Perception Analysis': 70, 'Proposal/Price Quote': 75, 'Negotiation/Review': 90, 'Closed Won': 100, 'Closed Lost': 0,
  },
  types: {
    'New Customer': 'new_business', 'Existing Customer - Upgrade': 'expansion',
    'Existing Customer - Replacement': 'renewal', 'Existing Customer - Downgrade': 'renewal',
  },
  digits: { USD: 2, EUR: 2, GBP: 2, JPY: 0 },
};

const JSONATA = `(
  $currency := CurrencyIsoCode ? CurrencyIsoCode : "USD";
  $stage := $lookup($stages, StageName);
  {
    "name": Name ? Name : $error("name is required"),
    "amount": Amount != null ? {
      "amount": $formatNumber(Amount, $lookup($digits, $currency) = 0 ? "0" : "0.00"),
      "currency": $lookup($digits, $currency) != null ? $currency : $error("unknown currency")
    },
    "stage": $stage ? $stage : $error("unknown stage"),
    "closeDate": $contains(CloseDate, /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/) ? CloseDate : $error("bad close date"),
    "probability": Probability != null ? $round(Probability) : $lookup($probabilities, StageName),
    "type": Type ? $lookup($types, Type),
    "accountId": AccountId ? $resolve("Account", AccountId),
    "leadSource": Campaign.Type ? Campaign.Type : "Other",
    "nextStep": NextStep ? NextStep,
    "description": Description ? Description
  }
)`;

// ---- run -------------------------------------------------------------------------------------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const file = join(here, 'opportunity.yaml');
  const { mapping, diagnostics } = parseMapping(await readFile(file, 'utf8'), file);
  if (!mapping) throw new Error(diagnostics.map(formatDiagnostic).join('\n'));
  const records = generate(RECORDS);
  const ids = new Map(ACCOUNTS.map((a, i) => [a, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`]));
  const ctx: MapContext = { resolveRef: (_entity, id) => ids.get(id) };

  const expr = jsonata(JSONATA);
  expr.registerFunction('resolve', (_entity: string, id: string) => ids.get(id), '<ss:s>');
  for (const [name, table] of Object.entries(JSONATA_TABLES)) expr.assign(name, table);

  // They must agree before their speed means anything.
  const edges = edgeRecords();
  for (const record of [...records, ...edges]) {
    const ours = mapping.forward(record, ctx);
    const hand = mapOpportunity(record, ctx);
    if (!sameOutcome(ours, hand)) {
      throw new Error(`outputs differ for ${show(record)}:\n ecosync     ${show(ours)}\n handwritten ${show(hand)}`);
    }
  }
  for (const record of records.slice(0, 2000)) {
    const ours = mapping.forward(record, ctx);
    const theirs = await expr.evaluate(record);
    if (!ours.ok || canonicalJson(ours.value) !== canonicalJson(theirs)) {
      throw new Error(`outputs differ for ${JSON.stringify(record)}:\n ecosync ${JSON.stringify(ours)}\n jsonata ${JSON.stringify(theirs)}`);
    }
  }

  const runEcosync = () => {
    let ok = 0;
    const t = performance.now();
    for (let i = 0; i < records.length; i++) if (mapping.forward(records[i], ctx).ok) ok++;
    const ms = performance.now() - t;
    if (ok !== records.length) throw new Error(`ecosync mapped ${ok} of ${records.length}`);
    return records.length / (ms / 1000);
  };
  const runHandwritten = () => {
    let ok = 0;
    const t = performance.now();
    for (let i = 0; i < records.length; i++) if (mapOpportunity(records[i], ctx).ok) ok++;
    const ms = performance.now() - t;
    if (ok !== records.length) throw new Error(`handwritten mapped ${ok} of ${records.length}`);
    return records.length / (ms / 1000);
  };
  const runJsonata = async (n = JSONATA_RECORDS) => {
    let ok = 0;
    const t = performance.now();
    for (let i = 0; i < n; i++) if ((await expr.evaluate(records[i])) !== undefined) ok++;
    const ms = performance.now() - t;
    if (ok !== n) throw new Error(`jsonata mapped ${ok} of ${n}`);
    return n / (ms / 1000);
  };

  // Warm-up: let all three reach optimised code before anything is measured.
  runEcosync();
  runHandwritten();
  await runJsonata(Math.min(JSONATA_RECORDS, 5000));

  const ecosync: number[] = [];
  const jsonataRates: number[] = [];
  const handwritten: number[] = [];
  const runs: (() => Promise<void>)[] = [
    async () => { ecosync.push(runEcosync()); },
    async () => { jsonataRates.push(await runJsonata()); },
    async () => { handwritten.push(runHandwritten()); },
  ];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so background load hits all three alike.
    for (let i = 0; i < runs.length; i++) await runs[(round + i) % runs.length]();
  }
  const result = {
    benchmark: 'mapping',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    records: RECORDS,
    jsonataRecords: JSONATA_RECORDS,
    rounds: ROUNDS,
    mapping: 'bench/mapping/opportunity.yaml',
    canonicalFields: mapping.fields.length,
    sourceFields: mapping.sourceFields.length,
    edgeRecordsChecked: edges.length,
    ecosync: { medianRecordsPerSecond: Math.round(median(ecosync)), rounds: ecosync.map(Math.round) },
    jsonata: { medianRecordsPerSecond: Math.round(median(jsonataRates)), rounds: jsonataRates.map(Math.round) },
    handwritten: { medianRecordsPerSecond: Math.round(median(handwritten)), rounds: handwritten.map(Math.round) },
    /** ecosync ÷ JSONata, the ratio the target is about. */
    ratio: Number((median(ecosync) / median(jsonataRates)).toFixed(1)),
    /** ecosync ÷ hand-written: the share of the ceiling the engine reaches. */
    ratioToHandwritten: Number((median(ecosync) / median(handwritten)).toFixed(2)),
    target: 10,
  };
  const pass = result.ratio >= result.target;

  // Each row's ratio is ecosync's rate over that row's: above 1, ecosync is faster.
  const row = (name: string, rate: number, rounds: number[], ratio: string) =>
    `${name.padEnd(12)} ${rate.toLocaleString('en-US').padStart(12)}   ${ratio.padStart(10)}   ${rounds.map((r) => r.toLocaleString('en-US')).join(', ')}`;
  console.log(`mapping benchmark: ${result.canonicalFields} canonical fields from ${result.sourceFields} Salesforce opportunity fields, ${ROUNDS} rounds after warm-up, median`);
  console.log(`records per round: ecosync and handwritten ${RECORDS.toLocaleString('en-US')}, jsonata the first ${JSONATA_RECORDS.toLocaleString('en-US')} of them`);
  console.log(`same outcome checked first: handwritten on all ${RECORDS.toLocaleString('en-US')} records and ${edges.length} edge records, jsonata on the first 2,000`);
  console.log(`${'engine'.padEnd(12)} ${'records/s'.padStart(12)}   ${'ecosync ÷'.padStart(10)}   rounds`);
  console.log(row('ecosync', result.ecosync.medianRecordsPerSecond, result.ecosync.rounds, '1×'));
  console.log(row('jsonata', result.jsonata.medianRecordsPerSecond, result.jsonata.rounds, `${result.ratio}×`));
  console.log(row('handwritten', result.handwritten.medianRecordsPerSecond, result.handwritten.rounds, `${result.ratioToHandwritten}×`));
  console.log(`ecosync ÷ jsonata ${result.ratio}× (target ≥ ${result.target}×): ${pass ? 'pass' : 'FAIL'}; ecosync ÷ handwritten ${result.ratioToHandwritten}×`);

  const out = join(here, '..', 'results', 'mapping.json');
  writeResults(out, { ...result, pass });
  console.log(`wrote ${out.replace(process.cwd() + '/', '')}`);
  if (!pass) process.exitCode = 1;
}

await main();
