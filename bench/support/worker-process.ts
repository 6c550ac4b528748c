/**
 * The driver's side of a benchmark worker (worker.ts): the worker in a child process, so its
 * memory and CPU are its own, driven over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Connection } from '../../src/store/index.js';
import { randomSchema, TEST_DATABASE_URL } from '../../test/store/stores.js';
import { endOnTimeout } from './watchdog.js';
import type { BenchStoreSpec, BenchWorkerInit, Request } from './worker.js';

export { TEST_DATABASE_URL as DATABASE_URL };

/**
 * A new store for one run: PGlite, or a random schema of the test database that the worker drops
 * at the end (the test store's sweeper recognises the prefix when a run is killed first).
 */
export function freshStore(kind: 'postgres' | 'pglite', url = TEST_DATABASE_URL): BenchStoreSpec {
  return kind === 'postgres' ? { kind, url, schema: randomSchema() } : { kind };
}

export class WorkerProcess<R extends Request> {
  private serial = 0;
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly child: ChildProcess;

  /** Forks `file` (a worker-process.ts answering through answerDriver) with Node `flags`. */
  constructor(file: URL, flags: string[] = []) {
    this.child = fork(fileURLToPath(file), [], {
      // As ./ecosync starts the worker: a larger young generation for the sync's short-lived data.
      execArgv: ['--import', 'tsx', '--max-semi-space-size=64', ...flags],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(`worker: ${m.error}`));
      else w?.resolve(m.result);
    });
    const forget = endOnTimeout(() => this.child.kill('SIGTERM'));
    this.child.once('exit', (code) => {
      forget();
      for (const w of this.waiting.values()) w.reject(new Error(`the worker process exited (${code})`));
      this.waiting.clear();
    });
  }

  call(request: R): Promise<unknown> {
    const id = ++this.serial;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, ...request });
    });
  }

  /** The worker's `init`: its store, the connection (returned as stored) and its Temporal worker. */
  async init(init: BenchWorkerInit): Promise<Connection> {
    return (await this.call({ method: 'init', args: init } as R) as { connection: Connection }).connection;
  }

  /** Asks the worker to close (30 s at most), then ends it if it has not exited 5 s later. */
  async close(): Promise<void> {
    if (this.child.connected) {
      await Promise.race([this.call({ method: 'close' } as R), new Promise((r) => setTimeout(r, 30_000))]).catch(() => undefined);
    }
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      setTimeout(() => this.child.kill('SIGKILL'), 5_000).unref();
      await exited;
    }
  }
}

/** Runs `start`; when it fails, closes what was half started (a hub) before passing the error on. */
export async function closeOnFailure<T>(started: { close(): Promise<void> }, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    await started.close();
    throw error;
  }
}
