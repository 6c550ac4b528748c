import type { Command } from 'commander';
import type { FaultPlan } from '../../src/sandbox/index.js';
import { faultPlanOption, nonNegativeInteger, serveUntilStopped } from '../../src/sandbox/cli.js';
import { SALESFORCE_API_VERSION } from './descriptor.js';
import { startSalesforceSandbox } from './sandbox/index.js';

/** Adds `salesforce` to the `ecosync sandbox` group: a local Salesforce org until Ctrl-C. */
export function registerSalesforceSandboxCommand(sandboxCommand: Command): Command {
  return sandboxCommand
    .command('salesforce')
    .description('run a local Salesforce org (REST API, OAuth, seeded data) for jsforce and the Salesforce connector')
    .option('--port <port>', 'port to listen on', nonNegativeInteger, 8701)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data (and of the org id)', nonNegativeInteger, 42)
    .option('--org-id <id>', 'the org id (00D…, 15 or 18 characters) instead of the one derived from the seed')
    .option('--accounts <n>', 'accounts to generate', nonNegativeInteger, 10_000)
    .option('--contacts-per-account <n>', 'contacts per account', nonNegativeInteger, 2)
    .option('--opportunities-per-account <n>', 'opportunities per account', nonNegativeInteger, 1)
    .option('--faults <plan>', 'faults to inject, e.g. rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20', faultPlanOption)
    .option('--token-lifetime <seconds>', 'access token lifetime', nonNegativeInteger, 7200)
    .option('--api-limit <n>', 'daily API request allowance', nonNegativeInteger, 100_000)
    .option('--bulk-job-polls <n>', 'looks at a Bulk API 2.0 query job that find it in progress before it completes', nonNegativeInteger, 0)
    .action(async (opts: {
      port: number; host: string; seed: number; orgId?: string; accounts: number; contactsPerAccount: number; opportunitiesPerAccount: number;
      faults?: FaultPlan; tokenLifetime: number; apiLimit: number; bulkJobPolls: number;
    }) => {
      const sandbox = await startSalesforceSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, orgId: opts.orgId, accounts: opts.accounts,
        contactsPerAccount: opts.contactsPerAccount, opportunitiesPerAccount: opts.opportunitiesPerAccount,
        faults: opts.faults, tokenLifetimeSec: opts.tokenLifetime, apiLimit: opts.apiLimit, bulkJobPolls: opts.bulkJobPolls,
      });
      const c = sandbox.credentials;
      const records = ['Account', 'Contact', 'Opportunity'].map((o) => `${sandbox.state.count(o)} ${o}`).join(', ');
      await serveUntilStopped(sandbox, [
        `Salesforce sandbox listening on ${sandbox.url} (${records}), org ${sandbox.orgId}`,
        'Demo credentials (sandbox only):',
        `  loginUrl      ${sandbox.url}`,
        `  apiVersion    ${SALESFORCE_API_VERSION}`,
        `  clientId      ${c.clientId}`,
        `  clientSecret  ${c.clientSecret}`,
        `  username      ${c.username}`,
        `  password      ${c.password}`,
        `  refreshToken  ${c.refreshToken}`,
        ...(opts.faults ? [`Injecting faults: ${JSON.stringify(opts.faults)}`] : []),
        'Press Ctrl-C to stop.',
      ], (s) => `Stopped. API calls served: ${JSON.stringify(s.counters.snapshot())}`);
    });
}
