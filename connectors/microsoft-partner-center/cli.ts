import path from 'node:path';
import type { Command } from 'commander';
import { faultPlanOption } from '../../src/sandbox/cli.js';
import type { FaultPlan } from '../../src/sandbox/index.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from './sandbox/server.js';

/**
 * `ecosync sandbox microsoft`: runs the Microsoft sandbox in the foreground and prints what a
 * connection needs, including the CA a Node process must trust (NODE_EXTRA_CA_CERTS).
 */
export interface SandboxCommandHooks {
  /** Where the banner goes. Default stdout. */
  write?: (text: string) => void;
  /** Called once the sandbox listens (tests stop it through this). */
  onStarted?: (sandbox: MicrosoftSandbox) => void;
}

export function registerMicrosoftSandboxCommand(sandboxCommand: Command, hooks: SandboxCommandHooks = {}): Command {
  return sandboxCommand
    .command('microsoft')
    .description('Microsoft Entra ID + Partner Center co-sell referrals sandbox (https, own CA)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8704')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'seed for generated ids and referrals', '1')
    .option('--data-dir <dir>', 'where the generated CA and server certificate are kept', path.join('.ecosync', 'sandbox', 'microsoft'))
    .option('--faults <plan>', 'fault plan, e.g. "rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20"', faultPlanOption)
    .option('--decision-delay-ms <ms>', 'time until Microsoft accepts or declines a Shared referral', '3000')
    .option('--token-lifetime-sec <s>', 'lifetime of issued access tokens', '3600')
    .option('--incoming <n>', 'referrals Microsoft shares with us at start', '5')
    .action(async (opts: {
      port?: string; host?: string; seed?: string; dataDir?: string; faults?: FaultPlan; decisionDelayMs?: string; tokenLifetimeSec?: string; incoming?: string;
    }) => {
      const sandbox = await startMicrosoftSandbox({
        port: wholeNumber(opts.port, '--port'),
        host: opts.host,
        seed: wholeNumber(opts.seed, '--seed'),
        dataDir: path.resolve(opts.dataDir ?? '.'),
        faults: opts.faults,
        decisionDelayMs: wholeNumber(opts.decisionDelayMs, '--decision-delay-ms'),
        tokenLifetimeSec: wholeNumber(opts.tokenLifetimeSec, '--token-lifetime-sec'),
        incoming: wholeNumber(opts.incoming, '--incoming'),
      });
      (hooks.write ?? ((t) => process.stdout.write(t)))(sandboxBanner(sandbox));
      hooks.onStarted?.(sandbox);
      if (!hooks.onStarted) {
        const stop = () => { void sandbox.close().then(() => process.exit(0)); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
    });
}

export function sandboxBanner(sandbox: Pick<MicrosoftSandbox, 'url' | 'tenantId' | 'clientId' | 'clientSecret' | 'caPemPath'>): string {
  return [
    `Microsoft sandbox (Entra ID + Partner Center referrals) listening on ${sandbox.url}`,
    `  authority host / API base  ${sandbox.url}`,
    `  tenant id                  ${sandbox.tenantId}`,
    `  client id                  ${sandbox.clientId}`,
    `  client secret              ${sandbox.clientSecret}`,
    `  CA certificate             ${sandbox.caPemPath}`,
    '',
    'Node processes that talk to it must trust its CA (read only at process start):',
    `  export NODE_EXTRA_CA_CERTS=${sandbox.caPemPath}`,
    '',
    'Ctrl-C stops it.',
    '',
  ].join('\n');
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got "${value}"`);
  return n;
}
