/**
 * The sync engine alone: Salesforce-shaped accounts through the shipped mappings
 * (salesforce-account.yaml → hubspot-company.yaml, and an ERP-shaped third system) on in-memory
 * connectors and state, so what it measures is the engine's own work — mapping, hashing,
 * planning, predicting read-backs, rendering writes — without HTTP, a database or Temporal.
 *
 *   node --import tsx bench/engine/run.ts [--records 100000] [--systems 2|3] [--rounds 3]
 *
 * Prints records/s and CPU µs per record of a first sync (every record created in the others)
 * and of a second one over unchanged data (every record an echo), median of the rounds.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { objectSpecOf } from '../../connectors/registry.js';
import { isEntityName } from '../../src/model/index.js';
import { ROOT } from '../../src/runtime/paths.js';
import { loadMappingFile } from '../../src/runtime/mappings.js';
import { buildHub, createEngine, type Mapper } from '../../src/sync/index.js';
import { Clock, MemoryState, MemorySystem } from '../../test/support/memory-hub.js';

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '100000' }, systems: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } } });
const N = Number(args.records);
const SYSTEMS = Number(args.systems);

async function mapper(file: string): Promise<Mapper> {
  const result = await loadMappingFile(path.join(ROOT, file), { schemaFor: objectSpecOf });
  if (!result.mapping) throw new Error(`${file} does not compile`);
  return result.mapping;
}

const FILES = {
  salesforce: 'mappings/salesforce-account.yaml',
  hubspot: 'mappings/hubspot-company.yaml',
  'memory-erp': 'bench/sync/memory-erp-customer.yaml',
} as const;
const mappers = new Map<string, Mapper>(await Promise.all(Object.values(FILES).map(async (f) => [f, await mapper(f)] as const)));
const INDUSTRIES = ['Technology', 'Healthcare', 'Finance', 'Retail', 'Manufacturing'];

function account(i: number) {
  return {
    Name: `Account ${i}`, Website: `https://account${i}.example.com`, Industry: INDUSTRIES[i % INDUSTRIES.length], Phone: `+1 555 ${String(i % 10000).padStart(4, '0')}`,
    NumberOfEmployees: 10 + (i % 5000), AnnualRevenue: 1000 * (i % 997), CurrencyIsoCode: 'USD',
    BillingStreet: `${i} Main St`, BillingCity: 'Springfield', BillingState: 'IL', BillingPostalCode: '62701', BillingCountryCode: 'US',
    Description: 'A customer', Ecosync_Id__c: null,
  };
}

async function round() {
  const clock = new Clock();
  const systems = [
    { name: 'salesforce', kind: 'salesforce', object: 'Account', role: 'source' as const },
    { name: 'hubspot', kind: 'hubspot', object: 'companies', role: 'target' as const },
    { name: 'memory-erp', kind: 'memory-erp', object: 'customers', role: 'target' as const },
  ].slice(0, SYSTEMS);
  const connectors = new Map(systems.map((s, i) => [s.name, new MemorySystem(s.kind, `${s.kind}:${i}`, clock, 2000, s.kind === 'hubspot' ? 100 : 200)]));
  const sf = connectors.get('salesforce')!;
  for (let i = 0; i < N; i++) sf.create(account(i));
  const state = new MemoryState();
  const hub = buildHub({
    id: '0b0c5a7e-6d1f-4c1e-9a51-2f7d9b3c4e10', name: 'engine-bench', deletePolicy: 'propagate', conflictPolicy: 'last-writer-wins',
    systems: systems.map((s) => ({ name: s.name, system: s.kind, role: s.role })),
    entities: [{ entity: 'Account', members: systems.map((s) => ({ system: s.name, object: s.object, mapping: FILES[s.name as keyof typeof FILES] })) }],
  }, {
    mapperOf: (file) => mappers.get(file)!, instanceOf: (name) => connectors.get(name)!.instance,
    upsertKeyOf: (kind, object) => objectSpecOf(kind, object)?.upsertKeyField, isEntity: isEntityName,
  });
  const engine = createEngine(hub, { state, connector: (name) => connectors.get(name)!, sleep: async () => undefined, lookbackMs: 0 });
  const cycle = async () => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const result = await engine.syncPages('Account', 'salesforce', { mode: 'full', lookback: true, budgetMs: Number.POSITIVE_INFINITY });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { ms, cpuUs: used.user + used.system, counts: result.counts };
  };
  const first = await cycle();
  if (first.counts.created !== N) throw new Error(`first cycle created ${first.counts.created} of ${N}`);
  const second = await cycle();
  if (second.counts.unchanged !== N) throw new Error(`second cycle: ${JSON.stringify(second.counts)}`);
  return { first, second };
}

const rounds: Awaited<ReturnType<typeof round>>[] = [];
for (let i = 0; i < Number(args.rounds); i++) rounds.push(await round());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figure = (pick: (r: (typeof rounds)[number]) => { ms: number; cpuUs: number }) => ({
  recordsPerSec: Math.round(N / (median(rounds.map((r) => pick(r).ms)) / 1000)),
  cpuUsPerRecord: Math.round((median(rounds.map((r) => pick(r).cpuUs)) / N) * 10) / 10,
});
console.log(`engine alone, ${N.toLocaleString('en-US')} Salesforce accounts to ${SYSTEMS - 1} other system(s), median of ${rounds.length} rounds`);
console.table({ 'first sync (creates)': figure((r) => r.first), 'second sync (echoes)': figure((r) => r.second) });
