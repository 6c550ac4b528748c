import { type Command, InvalidArgumentError } from 'commander';
import { parseFaultPlan } from '../../src/sandbox/index.js';
import { SALESFORCE_API_VERSION } from './descriptor.js';
import { startSalesforceSandbox } from './sandbox/index.js';

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function faultPlan(value: string) {
  try {
    return parseFaultPlan(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

/** Adds `salesforce` to the `ecosync sandbox` group: a local Salesforce org until Ctrl-C. */
export function registerSalesforceSandboxCommand(sandboxCommand: Command): Command {
  return sandboxCommand
    .command('salesforce')
    .description('run a local Salesforce org (REST API, OAuth, seeded data) for jsforce and the Salesforce connector')
    .option('--port <port>', 'port to listen on', nonNegativeInt, 8701)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data', nonNegativeInt, 42)
    .option('--accounts <n>', 'accounts to generate', nonNegativeInt, 10_000)
    .option('--contacts-per-account <n>', 'contacts per account', nonNegativeInt, 2)
    .option('--opportunities-per-account <n>', 'opportunities per account', nonNegativeInt, 1)
    .option('--faults <plan>', 'faults to inject, e.g. rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20', faultPlan)
    .option('--token-lifetime <seconds>', 'access token lifetime', nonNegativeInt, 7200)
    .option('--api-limit <n>', 'daily API request allowance', nonNegativeInt, 100_000)
    .action(async (opts: {
      port: number; host: string; seed: number; accounts: number; contactsPerAccount: number; opportunitiesPerAccount: number;
      faults?: ReturnType<typeof parseFaultPlan>; tokenLifetime: number; apiLimit: number;
    }) => {
      const sandbox = await startSalesforceSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, accounts: opts.accounts,
        contactsPerAccount: opts.contactsPerAccount, opportunitiesPerAccount: opts.opportunitiesPerAccount,
        faults: opts.faults, tokenLifetimeSec: opts.tokenLifetime, apiLimit: opts.apiLimit,
      });
      const c = sandbox.credentials;
      const records = ['Account', 'Contact', 'Opportunity'].map((o) => `${sandbox.state.count(o)} ${o}`).join(', ');
      console.log(`Salesforce sandbox listening on ${sandbox.url} (${records})`);
      console.log('Demo credentials (sandbox only):');
      console.log(`  loginUrl      ${sandbox.url}`);
      console.log(`  apiVersion    ${SALESFORCE_API_VERSION}`);
      console.log(`  clientId      ${c.clientId}`);
      console.log(`  clientSecret  ${c.clientSecret}`);
      console.log(`  username      ${c.username}`);
      console.log(`  password      ${c.password}`);
      console.log(`  refreshToken  ${c.refreshToken}`);
      if (opts.faults) console.log(`Injecting faults: ${JSON.stringify(opts.faults)}`);
      console.log('Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sandbox.close();
      console.log(`Stopped. API calls served: ${JSON.stringify(sandbox.counters.snapshot())}`);
    });
}
