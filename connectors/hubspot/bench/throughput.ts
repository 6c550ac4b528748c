/**
 * Connector throughput against the sandbox (no limits, no faults): reading 100k companies
 * incrementally through search, and upserting 10k by ecosync_id. Run:
 *   npx tsx connectors/hubspot/bench/throughput.ts [records=100000] [writes=10000]
 * The sandbox runs in this process unless HUBSPOT_URL and HUBSPOT_TOKEN name one started with
 * `ecosync sandbox hubspot --companies <records> --contacts-per-company 0 --deals-per-company 0`.
 */
import { createHubSpotConnector } from '../connector.js';
import { startHubSpotSandbox } from '../sandbox/index.js';

const readCount = Number(process.argv[2] ?? 100_000);
const writeCount = Number(process.argv[3] ?? 10_000);

let t = performance.now();
const external = process.env.HUBSPOT_URL && process.env.HUBSPOT_TOKEN;
const sandbox = external ? undefined : await startHubSpotSandbox({ companies: readCount, contactsPerCompany: 0, dealsPerCompany: 0 });
if (sandbox) console.log(`seeded ${readCount} companies in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const hubspot = createHubSpotConnector({
  accessToken: sandbox?.accessToken ?? process.env.HUBSPOT_TOKEN!,
  basePath: sandbox?.url ?? process.env.HUBSPOT_URL!,
});
let searchCalls = 0;
let upsertCalls = 0;

t = performance.now();
let read = 0;
for await (const page of hubspot.read('companies', { cursor: null, fields: ['name', 'domain', 'industry', 'numberofemployees', 'ecosync_id'] })) {
  read += page.records.length;
  searchCalls++;
}
let s = (performance.now() - t) / 1000;
console.log(`read ${read} records in ${s.toFixed(1)} s: ${Math.round(read / s)} records/s, ${searchCalls} search calls`);

const ops = Array.from({ length: writeCount }, (_, i) => ({
  key: `bench-${i}`,
  fields: { name: `Bench ${i}`, domain: `bench-${i}.example.com`, industry: 'Technology', numberofemployees: i % 5000 },
}));
t = performance.now();
let written = 0;
for (let i = 0; i < ops.length; i += 100) {
  written += (await hubspot.write('companies', ops.slice(i, i + 100))).filter((r) => r.ok).length;
  upsertCalls++;
}
s = (performance.now() - t) / 1000;
console.log(`upserted ${written} records in ${s.toFixed(1)} s: ${Math.round(written / s)} records/s, ${upsertCalls} upsert calls`);
await sandbox?.close();
