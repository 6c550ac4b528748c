import { type Command, InvalidArgumentError } from 'commander';
import { parseFaultPlan, type FaultPlan } from '../../../src/sandbox/index.js';
import { SANDBOX_CREDENTIALS, startPartnerCentralSandbox } from './server.js';

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

function faultPlan(value: string): FaultPlan {
  try {
    return parseFaultPlan(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

/** Adds `aws-partner-central` to the `ecosync sandbox` group: a local Partner Central until Ctrl-C. */
export function registerPartnerCentralSandboxCommand(sandboxCommand: Command): Command {
  return sandboxCommand
    .command('aws-partner-central')
    .description('run a local AWS Partner Central Selling API (opportunities, AWS review, invitations) for @aws-sdk/client-partnercentral-selling')
    .option('--port <port>', 'port to listen on', nonNegative, 8703)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data', nonNegative, 42)
    .option('--review-delay <ms>', 'time from submission to AWS\'s review decision (0 = at once)', nonNegative, 5000)
    .option('--write-rate <n>', 'writes per second per account before ThrottlingException (0 = unlimited)', nonNegative, 1)
    .option('--read-rate <n>', 'reads per second per account before ThrottlingException (0 = unlimited)', nonNegative, 10)
    .option('--writes-per-day <n>', 'writes per account per 24 h before ServiceQuotaExceededException (0 = unlimited)', nonNegative, 10_000)
    .option('--invitations <n>', 'engagement invitations from AWS to seed per catalog', nonNegative, 4)
    .option('--faults <plan>', 'faults to inject, e.g. rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20', faultPlan)
    .action(async (opts: {
      port: number; host: string; seed: number; reviewDelay: number; writeRate: number; readRate: number; writesPerDay: number; invitations: number; faults?: FaultPlan;
    }) => {
      const sandbox = await startPartnerCentralSandbox({
        port: opts.port, host: opts.host, seed: opts.seed, reviewDelayMs: opts.reviewDelay,
        writeRatePerSec: opts.writeRate, readRatePerSec: opts.readRate, writesPerDay: opts.writesPerDay, invitations: opts.invitations, faults: opts.faults,
      });
      // Printed on purpose: these are the sandbox's own fake credentials, needed to connect.
      process.stdout.write(
        `AWS Partner Central sandbox listening on ${sandbox.url}\n` +
        `  endpoint ${sandbox.url}, region us-east-1, catalog Sandbox or AWS\n` +
        `  accessKeyId ${SANDBOX_CREDENTIALS.accessKeyId}, secretAccessKey ${SANDBOX_CREDENTIALS.secretAccessKey}\n` +
        `  review decision ${opts.reviewDelay} ms after submission; limits ${opts.writeRate || 'unlimited'} writes/s, ${opts.readRate || 'unlimited'} reads/s\n` +
        (opts.faults ? `  injecting faults: ${JSON.stringify(opts.faults)}\n` : '') +
        '  Ctrl-C to stop\n',
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sandbox.close();
      process.stdout.write(`Stopped. Calls served: ${JSON.stringify(sandbox.counters.snapshot())}\n`);
    });
}
