/**
 * Workers in processes of their own (test/support/worker-process.ts), so a test can kill one with
 * SIGKILL the way a crashed machine would, and start another on the same task queue and store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../src/runtime/paths.js';
import { TEST_DATABASE_URL, TEST_KEY } from '../store/stores.js';
import { eventually } from './temporal.js';

export interface WorkerProcesses {
  /** Starts a worker process and waits until it polls the task queue. */
  start(): Promise<ChildProcess>;
  /** Kills every worker process started here. */
  killAll(): void;
}

/** Worker processes on one Temporal server, task queue and PostgreSQL schema (PGlite cannot be shared across processes). */
export function workerProcesses(options: { address: string; taskQueue: string; schema: string }): WorkerProcesses {
  const workers: ChildProcess[] = [];
  return {
    async start() {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/worker-process.ts')], {
        cwd: ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: options.address, ECOSYNC_TASK_QUEUE: options.taskQueue, DATABASE_URL: TEST_DATABASE_URL, ECOSYNC_DATABASE_SCHEMA: options.schema, ECOSYNC_SECRET_KEY: TEST_KEY },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      workers.push(child);
      let out = '';
      child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
      await eventually(async () => out.includes('worker ready'), 90_000, 'the worker process to start');
      return child;
    },
    killAll() {
      for (const w of workers) w.kill('SIGKILL');
    },
  };
}
