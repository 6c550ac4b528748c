import type { Command } from 'commander';
import type { FaultPlan } from '../../../src/sandbox/index.js';
import { faultPlanOption, nonNegativeInteger, nonNegativeNumber, serveUntilStopped } from '../../../src/sandbox/cli.js';
import { SANDBOX_CREDENTIALS, startPartnerCentralSandbox } from './server.js';

/** Adds `aws-partner-central` to the `ecosync sandbox` group: a local Partner Central until Ctrl-C. */
export function registerPartnerCentralSandboxCommand(sandboxCommand: Command): Command {
  return sandboxCommand
    .command('aws-partner-central')
    .description('run a local AWS Partner Central Selling API (opportunities, AWS review, invitations) for @aws-sdk/client-partnercentral-selling')
    .option('--port <port>', 'port to listen on', nonNegativeInteger, 8703)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data', nonNegativeInteger, 42)
    .option('--review-delay <ms>', 'time from submission to AWS\'s review decision (0 = at once)', nonNegativeNumber, 5000)
    .option('--write-rate <n>', 'writes per second per account before ThrottlingException (0 = unlimited)', nonNegativeNumber, 1)
    .option('--read-rate <n>', 'reads per second per account before ThrottlingException (0 = unlimited)', nonNegativeNumber, 10)
    .option('--writes-per-day <n>', 'writes per account per 24 h before ServiceQuotaExceededException (0 = unlimited)', nonNegativeInteger, 10_000)
    .option('--invitations <n>', 'engagement invitations from AWS to seed per catalog', nonNegativeInteger, 4)
    .option('--faults <plan>', 'faults to inject, e.g. rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20', faultPlanOption)
    .action(async (opts: {
      port: number; host: string; seed: number; reviewDelay: number; writeRate: number; readRate: number; writesPerDay: number; invitations: number; faults?: FaultPlan;
    }) => {
      const sandbox = await startPartnerCentralSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, reviewDelayMs: opts.reviewDelay,
        writeRatePerSec: opts.writeRate, readRatePerSec: opts.readRate, writesPerDay: opts.writesPerDay, invitations: opts.invitations, faults: opts.faults,
      });
      // Printed on purpose: these are the sandbox's own fake credentials, needed to connect.
      await serveUntilStopped(sandbox, [
        `AWS Partner Central sandbox listening on ${sandbox.url}`,
        `  endpoint ${sandbox.url}, region us-east-1, catalog Sandbox or AWS`,
        `  accessKeyId ${SANDBOX_CREDENTIALS.accessKeyId}, secretAccessKey ${SANDBOX_CREDENTIALS.secretAccessKey}`,
        `  review decision ${opts.reviewDelay} ms after submission; limits ${opts.writeRate || 'unlimited'} writes/s, ${opts.readRate || 'unlimited'} reads/s`,
        ...(opts.faults ? [`  injecting faults: ${JSON.stringify(opts.faults)}`] : []),
        '  Ctrl-C to stop',
      ], (s) => `Stopped. Calls served: ${JSON.stringify(s.counters.snapshot())}`);
    });
}
