/**
 * Throughput of the Salesforce connector against the local sandbox (no faults, no limits):
 * a full read of 100k accounts and an upsert of 10k. Run: npx tsx connectors/salesforce/bench/throughput.ts
 */
import { createLogger } from '../../../src/runtime/log.js';
import { createSalesforceConnector } from '../connector.js';
import { SALESFORCE_API_VERSION } from '../descriptor.js';
import { startSalesforceSandbox } from '../sandbox/index.js';

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 100_000);
const UPSERTS = Number(process.env.UPSERTS ?? 10_000);

const seedStart = performance.now();
const sandbox = await startSalesforceSandbox({ accounts: ACCOUNTS, contactsPerAccount: 0, opportunitiesPerAccount: 0, apiLimit: 10_000_000 });
const seedMs = performance.now() - seedStart;
const c = sandbox.credentials;
const connector = createSalesforceConnector(
  { loginUrl: sandbox.url, clientId: c.clientId, clientSecret: c.clientSecret, refreshToken: c.refreshToken, apiVersion: SALESFORCE_API_VERSION },
  { logger: createLogger({ level: 'silent', pretty: false }) },
);
await connector.check();

const fields = ['Name', 'Website', 'Industry', 'Phone', 'NumberOfEmployees', 'AnnualRevenue', 'BillingCity', 'BillingCountryCode', 'Ecosync_Id__c'];
let read = 0;
const readCpu = process.cpuUsage();
const readStart = performance.now();
for await (const page of connector.read('Account', { cursor: null, fields })) read += page.records.length;
const readMs = performance.now() - readStart;
const readCpuMs = cpuMs(readCpu);

const ops = Array.from({ length: UPSERTS }, (_, i) => ({
  key: `bench-${i}`,
  fields: { Name: `Bench ${i}`, Industry: 'Technology', Website: `https://bench-${i}.example.com`, NumberOfEmployees: i, BillingCountryCode: 'US' },
}));
const writeCpu = process.cpuUsage();
const writeStart = performance.now();
const results = await connector.write('Account', ops);
const writeMs = performance.now() - writeStart;
const writeCpuMs = cpuMs(writeCpu);
const failed = results.filter((r) => !r.ok).length;

// CPU time of this process (client and sandbox together): steadier than wall time on a shared machine.
function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
console.log(`seeded ${ACCOUNTS.toLocaleString('en-US')} accounts in ${Math.round(seedMs)} ms`);
console.log(`read   ${read.toLocaleString('en-US')} records in ${Math.round(readMs)} ms = ${rate(read, readMs)} records/s, ${Math.round(readCpuMs)} ms CPU (${sandbox.counters.get('query') + sandbox.counters.get('queryMore')} calls)`);
console.log(`upsert ${UPSERTS.toLocaleString('en-US')} records in ${Math.round(writeMs)} ms = ${rate(UPSERTS, writeMs)} records/s, ${Math.round(writeCpuMs)} ms CPU (${sandbox.counters.get('composite.upsert')} calls, ${failed} failed)`);
console.log(`rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
await sandbox.close();
