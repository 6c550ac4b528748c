import { InvalidArgumentError, type Command } from 'commander';
import type { FaultPlan } from '../../../src/sandbox/index.js';
import { faultPlanOption, nonNegativeInteger, serveUntilStopped } from '../../../src/sandbox/cli.js';
import { ALLOWED_ALGORITHMS, type AssertionAlgorithm } from './auth.js';
import { sandboxAccountId, startNetSuiteSandbox } from './server.js';

function algorithmOption(value: string): AssertionAlgorithm {
  const alg = value.toUpperCase();
  if (!ALLOWED_ALGORITHMS.includes(alg as AssertionAlgorithm)) throw new InvalidArgumentError(`expected one of ${ALLOWED_ALGORITHMS.join(', ')}`);
  return alg as AssertionAlgorithm;
}

function positiveInteger(value: string): number {
  const n = nonNegativeInteger(value);
  if (n < 1) throw new InvalidArgumentError('expected 1 or more');
  return n;
}

/** Adds `ecosync sandbox netsuite` to the sandbox command group: a local NetSuite account until Ctrl-C. */
export function registerNetSuiteSandboxCommand(sandboxCommand: Command): Command {
  return sandboxCommand
    .command('netsuite')
    .description('run a local NetSuite account (SuiteTalk REST record service, SuiteQL, OAuth 2.0 client credentials, concurrency governance) for the NetSuite connector')
    .option('--port <port>', 'port to listen on', nonNegativeInteger, 8705)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data (and of the account id)', nonNegativeInteger, 42)
    .option('--account-id <id>', `the account id (default from the seed: ${sandboxAccountId(42)} for 42)`)
    .option('--customers <n>', 'customers to generate (0: an empty account)', nonNegativeInteger, 200)
    .option('--contacts-per-customer <n>', 'contacts per customer', nonNegativeInteger, 2)
    .option('--orders-per-customer <n>', 'sales orders per customer (most are invoiced)', nonNegativeInteger, 1)
    .option('--items <n>', 'inventory items to generate', nonNegativeInteger, 20)
    .option('--concurrency-limit <n>', 'requests the account serves at once (NetSuite base account: 15)', positiveInteger, 15)
    .option('--token-lifetime <seconds>', 'access token lifetime', positiveInteger, 3600)
    .option('--key-algorithm <alg>', 'the certificate key: ES256 (EC P-256) or PS256 (RSA) and the other algorithms NetSuite takes', algorithmOption, 'ES256')
    .option('--data-dir <dir>', 'where to write the private key (default: a temporary folder removed at exit)')
    .option('--faults <plan>', 'faults to inject, e.g. rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20', faultPlanOption)
    .action(async (opts: {
      port: number; host: string; seed: number; accountId?: string; customers: number; contactsPerCustomer: number; ordersPerCustomer: number;
      items: number; concurrencyLimit: number; tokenLifetime: number; keyAlgorithm: AssertionAlgorithm; dataDir?: string; faults?: FaultPlan;
    }) => {
      const sandbox = await startNetSuiteSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, accountId: opts.accountId, customers: opts.customers,
        contactsPerCustomer: opts.contactsPerCustomer, ordersPerCustomer: opts.ordersPerCustomer, items: opts.items,
        concurrencyLimit: opts.concurrencyLimit, tokenLifetimeSec: opts.tokenLifetime, keyAlgorithm: opts.keyAlgorithm,
        dataDir: opts.dataDir, faults: opts.faults,
      });
      const s = sandbox.state;
      const records = ['customer', 'contact', 'inventoryItem', 'salesOrder', 'invoice'].map((t) => `${s.count(t)} ${t}`).join(', ');
      // The credentials are printed on purpose: they are the sandbox's own, and the user needs them to connect.
      await serveUntilStopped(sandbox, [
        `NetSuite sandbox listening on ${sandbox.url} (${records})`,
        'Connector settings (sandbox only):',
        `  accountId      ${sandbox.accountId}`,
        `  baseUrl        ${sandbox.url}`,
        `  clientId       ${sandbox.clientId}`,
        `  certificateId  ${sandbox.certificateId}`,
        `  privateKey     ${sandbox.privateKeyPath} (${sandbox.keyAlgorithm})`,
        `  token URL      ${sandbox.tokenUrl}`,
        `Concurrency limit ${sandbox.concurrency.limit} requests; login audit trail at ${sandbox.origin}/_sandbox/login-audit`,
        ...(opts.faults ? [`Injecting faults: ${JSON.stringify(opts.faults)}`] : []),
        'Press Ctrl-C to stop.',
      ], (sb) => `Stopped. API calls served: ${JSON.stringify(sb.counters.snapshot())}`);
    });
}
