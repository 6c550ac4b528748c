import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config.js';
import { createLogger, setLogger } from '../../runtime/log.js';
import { DEMO_CONNECTION } from '../../runtime/demo.js';
import { startStack, type Stack, type StackParts } from '../stack.js';

/**
 * `ecosync up`: the whole hub on embedded defaults, in the foreground; Ctrl-C stops it all.
 * `ecosync worker` and `ecosync api` run one part each against an existing Temporal and
 * PostgreSQL: the production shape of docker-compose.yml.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('start the hub: Temporal dev server + UI, worker, API, embedded database, demo sandboxes')
    .option('--no-demo', 'without the seeded Salesforce, HubSpot, NetSuite, AWS, AWS Marketplace and Microsoft sandboxes and the demo connection')
    .action((opts: { demo: boolean }) => runHub({ worker: true, api: true, demo: opts.demo }));
  program
    .command('worker')
    .description('run only the Temporal worker (production: TEMPORAL_ADDRESS and DATABASE_URL set)')
    .action(() => runHub({ worker: true, api: false }));
  program
    .command('api')
    .description('run only the HTTP API (production: TEMPORAL_ADDRESS and DATABASE_URL set)')
    .action(() => runHub({ worker: false, api: true }));
}

async function runHub(parts: StackParts): Promise<void> {
  const { config } = loadConfig();
  const log = createLogger({ level: config.log.level });
  setLogger(log);
  const stack = await startBounded(parts, (progress) => startStack(config, log, progress, { ...parts, demo: parts.demo && config.demo.enabled }), log);

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, 'stopping the hub');
      await stack.stop();
      log.info('stopped');
      process.exit(0);
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));

  const lines = [
    '',
    'ecosync is up',
    `  Temporal UI   ${stack.uiUrl ?? '(external cluster)'}`,
    `  Temporal      ${stack.temporalAddress}`,
    stack.apiUrl ? `  API           ${stack.apiUrl}   (health: ${stack.apiUrl}/healthz, metrics: ${stack.apiUrl}/metrics)` : '  API           (not in this process)',
    ...(stack.metricsUrl ? [`  Metrics       ${stack.metricsUrl}   (this worker's; health: ${stack.metricsUrl.replace(/\/metrics$/, '/healthz')})`] : []),
    `  Worker        ${stack.worker ? `task queue ${config.temporal.taskQueue}` : '(not in this process)'}`,
    `  Database      ${config.database.url ? 'PostgreSQL' : `PGlite in ${config.dataDir}/pglite`}`,
    ...(stack.demo ? [
      `  Salesforce    ${stack.demo.salesforceUrl}   (sandbox, seeded)`,
      `  HubSpot       ${stack.demo.hubspotUrl}   (sandbox, seeded; token ${stack.demo.hubspotToken})`,
      `  AWS           ${stack.demo.awsUrl}   (Partner Central sandbox: solutions S-0000001…, invitations)`,
      `  Microsoft     ${stack.demo.microsoftUrl}   (Partner Center sandbox: Entra ID + referrals; CA ${stack.demo.microsoftCaPath})`,
      `  NetSuite      ${stack.demo.netsuiteUrl}   (sandbox, account ${stack.demo.netsuiteAccountId}, seeded)`,
      `  Demo          connection ${DEMO_CONNECTION}: Salesforce ⇄ HubSpot ⇄ NetSuite with mappings/*.yaml, every ${config.demo.scheduleSeconds} s${stack.apiUrl ? ', and at once on the Salesforce and HubSpot sandboxes\' webhooks' : ''}`,
      `                runs in the UI: ${stack.uiUrl ?? 'Temporal UI'}/namespaces/${config.temporal.namespace}/workflows?query=EcosyncConnection%3D%22${DEMO_CONNECTION}%22`,
      `  Co-sell       ecosync cosell submit salesforce:${config.demo.accounts > 0 ? '006Dn0000000001IAA' : '<opportunity id>'} --cloud aws --by ${config.cosell.requester}; policy people: ${Object.entries(config.cosell.policy.users).map(([user, roles]) => `${user} (${roles.join(', ')})`).join(', ')}`,
      '                invitations the clouds shared: ecosync cosell list --status pending_acceptance',
      `  Marketplace   ${stack.demo.awsMarketplaceUrl}   (AWS Marketplace sandbox; its EventBridge events go to ${stack.apiUrl ?? 'the API'}/webhooks/aws-marketplace/${DEMO_CONNECTION})`,
      `  Offers        ecosync offers create salesforce:${config.demo.accounts > 0 ? '006Dn0000000001IAA' : '<opportunity id>'} --cloud aws --product ${stack.demo.offerProduct} --buyers ${stack.demo.offerBuyer} --term-months 12 --expires ${new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10)} --dimension BasicService=15000.00,qty=2,list=18000.00 --by ${config.cosell.requester}`,
      '                then: ecosync offers list; ecosync offers approve aws:<opportunity> --by <approver>; the buyer accepts with',
      `                curl -X POST ${stack.demo.awsMarketplaceUrl}/_sandbox/offers/<offer id>/accept -H 'content-type: application/json' -d '{"buyerAccountId":"${stack.demo.offerBuyer}","dimensions":{"BasicService":2}}'`,
    ] : []),
    '',
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  await new Promise(() => undefined);
}

/** How long a start may take before it gives up, unless ECOSYNC_START_TIMEOUT_SECONDS says otherwise. */
const START_TIMEOUT_SECONDS = 300;

function startTimeoutMs(): number {
  const text = process.env.ECOSYNC_START_TIMEOUT_SECONDS;
  if (text === undefined || text === '') return START_TIMEOUT_SECONDS * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    process.stderr.write(`ECOSYNC_START_TIMEOUT_SECONDS must be a positive number of seconds, got "${text}"\n`);
    process.exit(1);
  }
  return seconds * 1000;
}

/**
 * Starts the stack within a bound, saying what it is doing as it goes. On a busy machine each
 * step (the database's first open and migrations, the dev server, bundling the workflows) can
 * take tens of seconds: `up` prints each step and how long the start has taken, whatever the log
 * level, so a slow start is never a silent one; past the bound it names the step it was stuck
 * in and exits 1 (the dev server's guardian ends the server with this process).
 */
async function startBounded(parts: StackParts, start: (progress: (what: string) => void) => Promise<Stack>, log: ReturnType<typeof createLogger>): Promise<Stack> {
  const began = Date.now();
  const seconds = () => ((Date.now() - began) / 1000).toFixed(1);
  let step = '';
  // `up` is run by a person at a terminal: plain lines. `worker` and `api` log for collectors.
  const say = parts.demo !== undefined
    ? (what: string) => process.stdout.write(`${what}… (${seconds()} s)\n`)
    : (what: string) => log.info(what);
  const progress = (what: string) => { step = what; say(what); };
  progress('starting the hub');
  const limitMs = startTimeoutMs();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Error('');
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut.message = `the hub did not start within ${limitMs / 1000} s: still ${step} (the machine may be overloaded; ECOSYNC_START_TIMEOUT_SECONDS waits longer)`;
      reject(timedOut);
    }, limitMs);
  });
  try {
    return await Promise.race([start(progress), gaveUp]);
  } catch (error) {
    if (error !== timedOut) throw error;
    process.stderr.write(`ecosync could not start: ${timedOut.message}\n`);
    process.exit(1);
  } finally {
    clearTimeout(timer);
  }
}
