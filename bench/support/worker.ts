/**
 * What a benchmark's ecosync worker does alike, in its own process or the benchmark's: quiet SDK
 * logs, a store of its own, its memory and CPU measured, and (in a child process) answers to the
 * driver over IPC. worker-process.ts is the driver's side.
 */
import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { makeKeyring, openStore, type ConnectionInput, type Store } from '../../src/store/index.js';

/** PGlite in the worker, or a PostgreSQL schema of its own, dropped when the store closes. */
export type BenchStoreSpec = { kind: 'pglite' } | { kind: 'postgres'; url: string; schema: string };

/** What every worker process starts with; a benchmark's worker may take more. */
export interface BenchWorkerInit {
  store: BenchStoreSpec;
  address: string;
  namespace: string;
  taskQueue: string;
  bundle: { code: string; sourceMap: string };
  connection: ConnectionInput;
}

export interface ProcessStats {
  rss: number;
  peakRss: number;
  heapUsed: number;
  cpuMs: number;
}

/** The SDK's own worker logs (state changes) would drown the benchmark's output: warnings only. */
export function quietTemporalLogs(): void {
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

/** This process's memory and CPU since the last reset; peak RSS sampled every 100 ms (and on every read). */
export class ProcessUsage {
  private peakRss = process.memoryUsage().rss;
  private cpuSince = process.cpuUsage();

  constructor() {
    setInterval(() => { this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss); }, 100).unref();
  }

  stats(): ProcessStats {
    const { rss, heapUsed } = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, rss);
    const cpu = process.cpuUsage(this.cpuSince);
    return { rss, peakRss: this.peakRss, heapUsed, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
  }

  reset(): void {
    this.cpuSince = process.cpuUsage();
    this.peakRss = process.memoryUsage().rss;
  }
}

/** A fresh, migrated store under a random key; closing it drops its PostgreSQL schema. */
export async function openBenchStore(spec: BenchStoreSpec): Promise<{ store: Store; close(): Promise<void> }> {
  const keys = makeKeyring(randomBytes(32).toString('base64'));
  if (spec.kind === 'pglite') {
    const store = await openStore({ kind: 'pglite', keys });
    return { store, close: () => store.close() };
  }
  const store = await openStore({ kind: 'postgres', url: spec.url, schema: spec.schema, keys });
  return {
    store,
    async close() {
      try {
        await store.db.exec(`DROP SCHEMA IF EXISTS ${spec.schema} CASCADE`);
      } finally {
        await store.close();
      }
    },
  };
}

/** A request of the driver to its worker. */
export type Request = { method: string; args?: unknown };
/** A handler for each request the driver makes but `close`. */
export type Handlers<R extends Request> = { [M in Exclude<R['method'], 'close'>]: (args: Extract<R, { method: M }>['args']) => unknown };

/**
 * Answers the driver: each message `{ id, method, args }` gets `{ id, result }` or `{ id, error }`.
 * `close` runs once, asked for (the process then exits) or when the driver goes away (killed,
 * crashed): the worker does not linger holding a schema and a task queue.
 */
export function answerDriver<R extends Request>(handlers: Handlers<R>, close: () => Promise<void>): void {
  let closing: Promise<{ closed: true }> | undefined;
  const closeOnce = () => (closing ??= close().then(() => ({ closed: true as const })));
  const handle = (request: R) => {
    const handler = (handlers as Record<string, (args: unknown) => unknown>)[request.method];
    if (!handler) throw new Error(`unknown request ${request.method}`);
    return handler(request.args);
  };
  process.on('message', (message: { id: number } & R) => {
    Promise.resolve().then(() => (message.method === 'close' ? closeOnce() : handle(message))).then(
      (result) => {
        process.send!({ id: message.id, result });
        if (message.method === 'close') setTimeout(() => process.exit(0), 50);
      },
      (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
    );
  });
  process.on('disconnect', () => { void closeOnce().finally(() => process.exit(1)); });
}
