import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import type { LogLevel } from '@temporalio/common';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';
import { searchAttributeArgs } from '../../workflows/search-attributes.js';
import type { Config } from './config.js';
import { ROOT } from './paths.js';

/** Where the Temporal CLI is: TEMPORAL_CLI / config, our cached build in .tools/bin, or PATH. */
export function findTemporalCli(configured?: string): string | undefined {
  const cached = process.env.ECOSYNC_IGNORE_CACHED_TEMPORAL ? undefined : path.join(ROOT, '.tools/bin/temporal');
  const candidates = [configured, process.env.TEMPORAL_CLI, cached,
    ...(process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, 'temporal'))];
  return candidates.find((file) => file && isExecutable(file));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the dev server under a small shell that ends it when the hub's process is gone, so a hub
 * killed with SIGKILL (which no handler sees) leaves no server behind, and that passes SIGTERM
 * on when the hub stops it normally. $1 is the hub's pid; the rest is the command.
 */
const GUARDIAN = [
  'hub=$1; shift',
  '"$@" & server=$!',
  'trap \'kill -TERM $server 2>/dev/null; wait $server; exit $?\' TERM INT',
  'while kill -0 $hub 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 0.5; done',
  'kill -TERM $server 2>/dev/null; wait $server',
].join('\n');

export interface DevServerOptions {
  cli: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  log: Logger;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Dynamic config for the dev server (the embedded hub's and the tests'): an activity scheduled by
 * a workflow task goes back to the worker in that task's answer when it has a free slot (eager
 * activity execution, which the SDK asks for by default) instead of a separate round trip through
 * the task queue. A sync cycle's page activity starts that much sooner.
 */
export const DEV_SERVER_TUNING = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];

/**
 * Runs `temporal server start-dev` with a SQLite file in the data folder, so workflow history
 * survives a restart, and registers ecosync's search attributes. Resolves once the frontend
 * answers; rejects with the server's own last words if it exits first.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const args = ['server', 'start-dev', '--db-filename', path.join(options.dataDir, 'temporal.sqlite'),
    '--ip', '127.0.0.1', '--port', String(options.port), '--ui-port', String(options.uiPort),
    '--namespace', options.namespace, '--log-format', 'json', '--log-level', 'warn', ...searchAttributeArgs(), ...DEV_SERVER_TUNING];
  const child = spawn('/bin/sh', ['-c', GUARDIAN, 'temporal-guardian', String(process.pid), options.cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.log.debug({ component: 'temporal-server' }, line);
    }
  };
  child.stdout.on('data', remember);
  child.stderr.on('data', remember);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const address = `127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  let ready = false;
  let exitCode: number | null | undefined;
  void exited.then((code) => { exitCode = code; });
  while (!ready && Date.now() < deadline && exitCode === undefined) {
    ready = await answers(address);
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`the Temporal dev server did not start (${exitCode === undefined ? 'no answer within 60 s' : `exit code ${exitCode}`}); its last output:\n${tail.join('\n')}`);
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** How to reach a cluster: the client's Connection and the worker's NativeConnection take the same. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/** Which setting each TLS file comes from, for an error a user can act on. */
const TLS_FILES = { certFile: 'TEMPORAL_TLS_CERT', keyFile: 'TEMPORAL_TLS_KEY', caFile: 'TEMPORAL_TLS_CA' } as const;

/**
 * The connection to the configured cluster: TLS when an API key, a certificate, a CA or a server
 * name is set (Temporal Cloud takes an API key or a client certificate, always over TLS). A TLS
 * file that cannot be read stops the start with the setting and the path.
 */
export function temporalConnectionOptions(temporal: Pick<Config['temporal'], 'apiKey' | 'tls'>, address: string): TemporalConnectionOptions {
  const t = temporal.tls ?? {};
  const read = (key: keyof typeof TLS_FILES): Buffer | undefined => {
    const file = t[key];
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`temporal.tls.${key} (${TLS_FILES[key]}): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const on = t.enabled ?? Boolean(temporal.apiKey || t.certFile || t.caFile || t.serverName);
  const [crt, key, ca] = [read('certFile'), read('keyFile'), read('caFile')];
  const tls: TLSConfig | undefined = on
    ? { ...(crt && key ? { clientCertPair: { crt, key } } : {}), ...(ca ? { serverRootCACertificate: ca } : {}), ...(t.serverName ? { serverNameOverride: t.serverName } : {}) }
    : undefined;
  return { address, ...(tls ? { tls } : {}), ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}) };
}

/** Whether a Temporal frontend answers at address (with the cluster's TLS and API key when given). */
export async function answers(address: string | TemporalConnectionOptions): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...(typeof address === 'string' ? { address } : address), connectTimeout: 1000 });
    // A server that took the connection but is still starting may never answer: without a
    // deadline this call (and a start polling it) would wait for ever.
    const live = connection;
    await live.withDeadline(Date.now() + 2_000, () => live.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

let runtimeInstalled = false;
/**
 * Sets up the Temporal SDK's runtime for this process (Runtime.install may run once): its own
 * logs (worker, core) go through pino, so one log stream carries everything, redacted the same
 * way; with `metricsAddress` (host:port) its worker metrics are served there in the Prometheus
 * format (temporal_*: task slots, poll and schedule-to-start latencies, workflow and activity
 * outcomes), which ecosync's /metrics passes on.
 */
export function installTemporalRuntime(log: Logger, options: { metricsAddress?: string } = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const child = log.child({ component: 'temporal' });
  const toPino: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry: LogEntry) => {
      child[toPino[entry.level]](entry.meta ?? {}, entry.message);
    }),
    ...(options.metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: options.metricsAddress } } } } : {}),
  });
}
