import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Config } from './config.js';
import { answers, findTemporalCli, temporalConnectionOptions, type TemporalConnectionOptions } from './temporal.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** How to fix it, when not ok. */
  fix?: string;
}

const run = promisify(execFile);

export function checkNode(version = process.versions.node): Check {
  const major = Number(version.split('.')[0]);
  return major >= 22
    ? { name: 'Node.js', ok: true, detail: `v${version}` }
    : { name: 'Node.js', ok: false, detail: `v${version} is older than 22`, fix: 'run commands through ./ecosync, which installs Node 24 into .tools/node, or install Node 22+' };
}

/** Temporal: an existing cluster at temporal.address, else the CLI binary for the embedded server. */
export async function checkTemporal(config: Config): Promise<Check> {
  if (config.temporal.address) {
    let reach: TemporalConnectionOptions;
    try {
      reach = temporalConnectionOptions(config.temporal, config.temporal.address);
    } catch (error) {
      return { name: 'Temporal', ok: false, detail: (error as Error).message, fix: 'point TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY and TEMPORAL_TLS_CA at readable PEM files' };
    }
    return (await answers(reach))
      ? { name: 'Temporal', ok: true, detail: `cluster answers at ${config.temporal.address}` }
      : { name: 'Temporal', ok: false, detail: `nothing answers at ${config.temporal.address} (TEMPORAL_ADDRESS)`, fix: 'start that cluster, or unset TEMPORAL_ADDRESS to use the embedded dev server' };
  }
  const cli = findTemporalCli(config.temporal.cli);
  if (!cli) {
    return {
      name: 'Temporal', ok: false, detail: 'no temporal CLI binary for the embedded dev server',
      fix: 'either install Go and run ./ecosync up (it builds the CLI once with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into .tools/bin), or set TEMPORAL_CLI to a temporal binary, or set TEMPORAL_ADDRESS=host:port of an existing cluster',
    };
  }
  try {
    const { stdout } = await run(cli, ['--version'], { timeout: 10_000 });
    return { name: 'Temporal', ok: true, detail: `${cli} (${stdout.trim()})` };
  } catch (error) {
    return { name: 'Temporal', ok: false, detail: `${cli} does not run: ${(error as Error).message}`, fix: 'delete it and run ./ecosync up to rebuild, or point TEMPORAL_CLI at a working binary' };
  }
}

export function checkDataDir(config: Config): Check {
  try {
    mkdirSync(config.dataDir, { recursive: true });
    accessSync(config.dataDir, constants.W_OK);
    return { name: 'Data folder', ok: true, detail: config.dataDir };
  } catch (error) {
    return { name: 'Data folder', ok: false, detail: `${config.dataDir}: ${(error as Error).message}`, fix: 'set ECOSYNC_DATA_DIR to a writable folder' };
  }
}

export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The embedded stack's ports must be free, unless the hub itself already holds them
 * (`running` says so: the doctor is then checking a live hub).
 */
export async function checkPorts(config: Config, running: boolean): Promise<Check> {
  const wanted: Array<readonly [string, number]> = [
    ...(config.temporal.address ? [] : [['Temporal', config.temporal.port], ['Temporal UI', config.temporal.uiPort]] as const),
    ['API', config.api.port] as const,
    // `up` starts the demo's six sandboxes unless the demo is off.
    ...(config.demo.enabled ? [
      ['Salesforce sandbox', config.demo.salesforcePort], ['HubSpot sandbox', config.demo.hubspotPort],
      ['AWS sandbox', config.demo.awsPort], ['Microsoft sandbox', config.demo.microsoftPort], ['NetSuite sandbox', config.demo.netsuitePort],
      ['AWS Marketplace sandbox', config.demo.awsMarketplacePort],
    ] as const : []),
  ];
  if (running) return { name: 'Ports', ok: true, detail: `in use by the running hub: ${wanted.map(([n, p]) => `${n} ${p}`).join(', ')}` };
  const taken: string[] = [];
  for (const [name, port] of wanted) if (port !== 0 && !(await portFree(port))) taken.push(`${name} ${port}`);
  return taken.length === 0
    ? { name: 'Ports', ok: true, detail: `free: ${wanted.map(([n, p]) => `${n} ${p}`).join(', ')}` }
    : { name: 'Ports', ok: false, detail: `taken by another process: ${taken.join(', ')}`, fix: 'stop that process, or choose other ports with TEMPORAL_PORT, TEMPORAL_UI_PORT, ECOSYNC_API_PORT, ECOSYNC_DEMO_SALESFORCE_PORT, ECOSYNC_DEMO_HUBSPOT_PORT, ECOSYNC_DEMO_AWS_PORT, ECOSYNC_DEMO_MICROSOFT_PORT, ECOSYNC_DEMO_NETSUITE_PORT, ECOSYNC_DEMO_AWS_MARKETPLACE_PORT (or run ecosync up --no-demo)' };
}

export function formatChecks(checks: Check[], color = process.stdout.isTTY === true): string {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return checks
    .map((c) => `${c.ok ? paint('32', '✓') : paint('31', '✗')} ${c.name}: ${c.detail}${c.ok || !c.fix ? '' : `\n    fix: ${c.fix}`}`)
    .join('\n');
}
