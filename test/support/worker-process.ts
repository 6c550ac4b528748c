/**
 * A sync worker in its own process, so a test can kill it with SIGKILL mid-sync the way a
 * crashed machine would. Configured by environment: TEMPORAL_ADDRESS, ECOSYNC_TASK_QUEUE,
 * DATABASE_URL + ECOSYNC_DATABASE_SCHEMA (PostgreSQL: PGlite cannot be shared across processes),
 * ECOSYNC_SECRET_KEY. Prints "worker ready" once polling.
 */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createActivities } from '../../src/runtime/activities.js';
import { startWorker } from '../../src/runtime/worker.js';
import { openStore } from '../../src/store/index.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const store = await openStore({ kind: 'postgres', url: env('DATABASE_URL'), schema: env('ECOSYNC_DATABASE_SCHEMA') });
const connection = await Connection.connect({ address: env('TEMPORAL_ADDRESS') });
const client = new Client({ connection });
const taskQueue = env('ECOSYNC_TASK_QUEUE');
await startWorker({
  address: env('TEMPORAL_ADDRESS'),
  namespace: 'default',
  taskQueue,
  activities: createActivities({ store, client, taskQueue, log: pino({ level: 'silent' }), pageBudgetMs: 1_000 }),
});
console.log('worker ready');
