import type { Command } from 'commander';
import type { FaultPlan } from '../../../src/sandbox/index.js';
import { faultPlanOption, nonNegativeInteger, serveUntilStopped } from '../../../src/sandbox/cli.js';
import { BUYER_ACCOUNT_IDS, RESELLER_ACCOUNT_ID, SELLER_ACCOUNT_ID } from './seed.js';
import { SANDBOX_CREDENTIALS, startAwsMarketplaceSandbox } from './server.js';

/** Adds `ecosync sandbox aws-marketplace`: a local AWS Marketplace (Catalog, Agreement, Metering) until Ctrl-C. */
export function registerAwsMarketplaceSandboxCommand(sandboxCommand: Command): Command {
  return sandboxCommand
    .command('aws-marketplace')
    .description('run a local AWS Marketplace (Catalog change sets for private offers and resale authorizations, agreements, metering) for the @aws-sdk/client-marketplace-* clients')
    .option('--port <port>', 'port to listen on', nonNegativeInteger, 8706)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated ids', nonNegativeInteger, 42)
    .option('--change-set-ms <ms>', 'how long a change set takes (0 = done by the next call)', nonNegativeInteger, 3000)
    .option('--no-demo', 'seed products only: no demo offers, resale authorization or agreements')
    .option('--events-url <url>', 'deliver EventBridge events to this URL, as an API destination would')
    .option('--events-api-key <key>', 'the API destination\'s key, sent in the x-api-key header (needed with --events-url)')
    .option('--faults <plan>', 'faults to inject, e.g. rateLimitRate=0.1,serverErrorRate=0.05,recordFailureRate=0.2', faultPlanOption)
    .action(async (opts: { port: number; host: string; seed: number; changeSetMs: number; demo: boolean; eventsUrl?: string; eventsApiKey?: string; faults?: FaultPlan }) => {
      if (opts.eventsUrl && !opts.eventsApiKey) throw new Error('--events-url needs --events-api-key: the receiver checks the x-api-key header');
      const sandbox = await startAwsMarketplaceSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, changeSetMs: opts.changeSetMs, demo: opts.demo, faults: opts.faults,
        events: opts.eventsUrl ? { url: opts.eventsUrl, apiKeyValue: opts.eventsApiKey! } : undefined,
      });
      const { seller, reseller } = SANDBOX_CREDENTIALS;
      const products = [...sandbox.state.store.products.values()];
      const offers = [...sandbox.state.store.offers.values()];
      // The credentials are the sandbox's own fake ones, printed so a user can connect.
      await serveUntilStopped(sandbox, [
        `AWS Marketplace sandbox listening on ${sandbox.url} (Catalog, Agreement and Metering on one endpoint)`,
        `  SDK clients: new MarketplaceCatalogClient({ endpoint: '${sandbox.url}', region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } })`,
        '  (the same for MarketplaceAgreementClient and MarketplaceMeteringClient; any credentials work)',
        `  seller ${SELLER_ACCOUNT_ID}: accessKeyId ${seller.accessKeyId}, secretAccessKey ${seller.secretAccessKey} (any other key acts as the seller too)`,
        `  reseller ${RESELLER_ACCOUNT_ID}: accessKeyId ${reseller.accessKeyId}, secretAccessKey ${reseller.secretAccessKey}`,
        `  buyers: ${BUYER_ACCOUNT_IDS.join(', ')}`,
        ...products.map((p) => `  product ${p.id} "${p.title}" (product code ${p.productCode}; dimensions ${p.dimensions.map((d) => `${d.Key}${d.Types.includes('ExternallyMetered') ? ' [metered]' : ''}`).join(', ')})`),
        ...offers.map((o) => `  offer ${o.id} "${o.name ?? ''}" (${o.state})`),
        `  change sets take ${opts.changeSetMs} ms; a buyer accepts with POST ${sandbox.url}/_sandbox/offers/<offerId>/accept {"buyerAccountId": "…"}`,
        opts.eventsUrl ? `  EventBridge events go to ${opts.eventsUrl} (x-api-key header); also at GET ${sandbox.url}/_sandbox/events` : `  EventBridge events: GET ${sandbox.url}/_sandbox/events`,
        ...(opts.faults ? [`  injecting faults: ${JSON.stringify(opts.faults)}`] : []),
        '  Ctrl-C to stop',
      ], (s) => `Stopped. Calls served: ${JSON.stringify(s.counters.snapshot())}`);
    });
}
