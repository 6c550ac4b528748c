import type { Command } from 'commander';
import type { FaultPlan } from '../../../src/sandbox/index.js';
import { faultPlanOption, nonNegativeInteger, serveUntilStopped } from '../../../src/sandbox/cli.js';
import { startHubSpotSandbox } from './server.js';
import { SANDBOX_PORTAL_ID } from './webhooks.js';

/** Adds `ecosync sandbox hubspot` to the sandbox command group. */
export function registerHubSpotSandboxCommand(sandboxCommand: Command): void {
  sandboxCommand
    .command('hubspot')
    .description('Run a local HubSpot (CRM v3 objects, search, properties, associations v4, account details) that @hubspot/api-client talks to')
    .option('--port <port>', 'port to listen on', nonNegativeInteger, 8702)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <seed>', 'seed for the generated portal', nonNegativeInteger, 42)
    .option('--portal-id <id>', `portal (Hub) id the account details and webhooks give (default ${SANDBOX_PORTAL_ID})`, nonNegativeInteger)
    .option('--companies <n>', 'companies to generate', nonNegativeInteger, 1000)
    .option('--contacts-per-company <n>', 'contacts per company', nonNegativeInteger, 2)
    .option('--deals-per-company <n>', 'deals per company', nonNegativeInteger, 1)
    .option('--ten-second-limit <n>', 'calls per rolling 10 s (unlimited when absent)', nonNegativeInteger)
    .option('--daily-limit <n>', 'calls per day (unlimited when absent)', nonNegativeInteger)
    .option('--search-lag-ms <ms>', 'how far search results lag writes', nonNegativeInteger, 0)
    .option('--all-or-nothing-batches', 'refuse a whole batch write when one input is invalid (instead of a 207)')
    .option('--token <token>', 'access token to accept (generated when absent)')
    .option('--faults <plan>', 'fault plan, e.g. "rateLimitRate=0.05,serverErrorRate=0.02,latencyMs=20"', faultPlanOption)
    .action(async (opts: {
      port: number; host: string; seed: number; portalId?: number; companies: number; contactsPerCompany: number; dealsPerCompany: number;
      tenSecondLimit?: number; dailyLimit?: number; searchLagMs: number; token?: string; faults?: FaultPlan; allOrNothingBatches?: boolean;
    }) => {
      const sandbox = await startHubSpotSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, portalId: opts.portalId, companies: opts.companies,
        contactsPerCompany: opts.contactsPerCompany, dealsPerCompany: opts.dealsPerCompany,
        tenSecondLimit: opts.tenSecondLimit, dailyLimit: opts.dailyLimit, searchLagMs: opts.searchLagMs,
        accessToken: opts.token, allOrNothingBatches: opts.allOrNothingBatches, faults: opts.faults,
      });
      const s = sandbox.state;
      // The token is printed on purpose: it is the sandbox's own, and the user needs it to connect.
      await serveUntilStopped(sandbox, [
        `HubSpot sandbox listening on ${sandbox.url}`,
        `  portal id: ${sandbox.portalId}`,
        `  access token: ${sandbox.accessToken}`,
        `  companies ${s.count('companies')}, contacts ${s.count('contacts')}, deals ${s.count('deals')}`,
        '  Ctrl-C to stop',
      ]);
    });
}
