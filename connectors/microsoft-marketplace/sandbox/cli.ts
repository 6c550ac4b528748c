import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { faultPlanOption, nonNegativeInteger, serveUntilStopped } from '../../../src/sandbox/cli.js';
import type { FaultPlan } from '../../../src/sandbox/index.js';
import { startMicrosoftMarketplaceSandbox } from './server.js';
import { CONFIGURE_VERSION, RESOURCE_VERSION } from './ingestion-schema.js';
import { MARKETPLACE_API_AUDIENCES, SAAS_API_VERSION } from './wire.js';

/** Where `ecosync sandbox microsoft` keeps its CA by default. */
const MICROSOFT_SANDBOX_CA = path.join('.ecosync', 'sandbox', 'microsoft', 'tls', 'ca.pem');

function urlOption(value: string): string {
  try {
    return new URL(value).href.replace(/\/$/, '');
  } catch {
    throw new InvalidArgumentError('expected an absolute URL');
  }
}

/**
 * Adds `ecosync sandbox microsoft-marketplace`: Product Ingestion (private offers), SaaS
 * fulfillment and metering until Ctrl-C, accepting tokens from the Entra ID of a running
 * `ecosync sandbox microsoft`.
 */
export function registerMicrosoftMarketplaceSandboxCommand(sandboxCommand: Command): Command {
  return sandboxCommand
    .command('microsoft-marketplace')
    .description('run a local Microsoft commercial marketplace (Product Ingestion private offers, SaaS fulfillment v2, metering) that accepts tokens from `ecosync sandbox microsoft`')
    .option('--port <port>', 'port to listen on', nonNegativeInteger, 8707)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated ids', nonNegativeInteger, 1)
    .option('--authority <url>', 'the Entra ID authority whose tokens are accepted (`ecosync sandbox microsoft`)', urlOption, 'https://127.0.0.1:8704')
    .option('--authority-ca <file>', "the authority's CA certificate", MICROSOFT_SANDBOX_CA)
    .option('--tenant-id <id>', "the offers' Entra tenant (technical configuration)")
    .option('--client-id <id>', "the offers' Entra app: only its tokens are accepted for SaaS and metering")
    .option('--client-secret <secret>', "the app's secret: webhook calls then carry a token for the app")
    .option('--webhook-url <url>', "the offers' connection webhook (SaaS operations are posted there)", urlOption)
    .option('--landing-page-url <url>', "the offers' landing page (opened with ?token= after a purchase)", urlOption)
    .option('--job-ms <ms>', 'sandbox time a Product Ingestion configure job takes', nonNegativeInteger, 5000)
    .option('--faults <plan>', 'faults to inject, e.g. rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20,recordFailureRate=0.1', faultPlanOption)
    .action(async (opts: {
      port: number; host: string; seed: number; authority: string; authorityCa: string; tenantId?: string; clientId?: string; clientSecret?: string;
      webhookUrl?: string; landingPageUrl?: string; jobMs: number; faults?: FaultPlan;
    }) => {
      let caPem: string | undefined;
      if (opts.authority.startsWith('https:')) {
        const caPath = path.resolve(opts.authorityCa);
        if (!existsSync(caPath)) {
          throw new Error(`the authority's CA certificate ${caPath} does not exist: start \`ecosync sandbox microsoft\` first, or give --authority-ca`);
        }
        caPem = readFileSync(caPath, 'utf8');
      }
      if ((opts.clientSecret || opts.tenantId) && !(opts.clientId && opts.tenantId)) throw new Error('--tenant-id and --client-id go together (and --client-secret needs both)');
      const sandbox = await startMicrosoftMarketplaceSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, authorityHost: opts.authority, authorityCaPem: caPem,
        publisherApp: opts.clientId ? { tenantId: opts.tenantId!, clientId: opts.clientId, clientSecret: opts.clientSecret } : undefined,
        webhookUrl: opts.webhookUrl, landingPageUrl: opts.landingPageUrl, jobMs: opts.jobMs, faults: opts.faults,
      });
      const products = sandbox.state.products().map((p) => `${p.externalId} (${p.id}): ${p.plans.map((x) => x.externalId).join(', ')}`);
      await serveUntilStopped(sandbox, [
        `Microsoft commercial marketplace sandbox listening on ${sandbox.url}`,
        `  Product Ingestion  ${sandbox.productIngestionUrl}  ($version=${CONFIGURE_VERSION}; private offers ${RESOURCE_VERSION})`,
        `  SaaS fulfillment   ${sandbox.marketplaceApiUrl}/saas/subscriptions  (api-version=${SAAS_API_VERSION})`,
        `  Metering           ${sandbox.marketplaceApiUrl}/usageEvent, ${sandbox.marketplaceApiUrl}/batchUsageEvent  (api-version=${SAAS_API_VERSION})`,
        'Tokens: client credentials from Entra ID (the tenant, client id and secret `ecosync sandbox microsoft` printed)',
        `  authority host     ${opts.authority}${caPem ? `  (trust ${path.resolve(opts.authorityCa)})` : ''}`,
        '  Product Ingestion  scope https://graph.microsoft.com/.default',
        `  SaaS and metering  scope ${MARKETPLACE_API_AUDIENCES[0]}/.default`,
        `  offers' app        ${opts.clientId ?? 'any app of the authority'}`,
        `Webhook ${opts.webhookUrl ?? '(none)'}; landing page ${opts.landingPageUrl ?? '(none)'}`,
        `Products: ${products.join('; ')}`,
        `Buyer and Microsoft side: POST ${sandbox.url}/_sandbox/private-offers/{id}/accept {"beneficiaryId": "<tenant>:<billing account>_2019-05-31"},`,
        `  POST ${sandbox.url}/_sandbox/subscriptions/{id}/operations {"action": "Suspend"}, POST ${sandbox.url}/_sandbox/clock {"advanceMs": 60000}`,
        ...(opts.faults ? [`Injecting faults: ${JSON.stringify(opts.faults)}`] : []),
        'Press Ctrl-C to stop.',
      ], (sb) => `Stopped. API calls served: ${JSON.stringify(sb.counters.snapshot())}`);
    });
}
