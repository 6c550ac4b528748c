import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../../runtime/config.js';
import { checkDataDir, checkNode, checkPorts, checkTemporal, formatChecks, type Check } from '../../runtime/doctor.js';
import type { CheckResult } from '../../sync/protocol.js';
import { ApiClient } from '../client.js';
import { storeOptions } from '../stack.js';
import { openStore } from '../../store/index.js';
import { EXIT } from '../exit.js';
import { HEALTH_CHECK_TEXT } from '../../service/summaries.js';
import { temporalConnectionOptions } from '../../runtime/temporal.js';

/** `ecosync doctor`: checks what the hub needs and says how to fix what is wrong. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check Node, the Temporal server or binary, the database and ports; say how to fix what is wrong')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { json?: boolean }) => {
      const checks = await runDoctor();
      console.log(opts.json ? JSON.stringify(checks, null, 2) : formatChecks(checks));
      process.exitCode = checks.every((c) => c.ok) ? EXIT.ok : EXIT.invalidInput;
    });
}

export async function runDoctor(): Promise<Check[]> {
  const checks: Check[] = [checkNode()];
  let config: Config;
  try {
    config = loadConfig().config;
    checks.push({ name: 'Configuration', ok: true, detail: 'valid' });
  } catch (error) {
    checks.push({ name: 'Configuration', ok: false, detail: (error as Error).message, fix: 'correct the file or variable named above' });
    return checks;
  }
  checks.push(checkDataDir(config));

  // A running hub holds the embedded database: ask it rather than opening the files twice.
  const health = await hubHealth(config);
  if (health) {
    for (const [part, state] of Object.entries(health.parts)) {
      checks.push({ name: `Hub ${part}`, ok: state === 'ok', detail: state === 'ok' ? 'ok' : state, fix: 'look at the hub\'s log (ecosync up)' });
    }
    checks.push(await checkPorts(config, true));
    checks.push(await roundTrip(config));
    checks.push(...await connectionChecks());
    return checks;
  }
  checks.push({ name: 'Hub', ok: true, detail: `not running (start it with ./ecosync up); checking its parts one by one` });
  checks.push(await checkTemporal(config));
  checks.push(await checkDatabase(config));
  checks.push(await checkPorts(config, false));
  return checks;
}

async function hubHealth(config: Config): Promise<{ parts: Record<string, string> } | undefined> {
  try {
    const response = await fetch(`http://${config.api.host}:${config.api.port}/healthz`, { signal: AbortSignal.timeout(1500) });
    const body = (await response.json()) as { parts?: Record<string, string> };
    return body.parts ? { parts: body.parts } : undefined;
  } catch {
    return undefined;
  }
}

async function checkDatabase(config: Config): Promise<Check> {
  const where = config.database.url ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.dataDir}/pglite`;
  try {
    const store = await openStore(storeOptions(config));
    await store.db.query('select 1');
    await store.close();
    return { name: 'Database', ok: true, detail: `${where}: migrations applied` };
  } catch (error) {
    return {
      name: 'Database', ok: false, detail: `${where}: ${(error as Error).message}`,
      fix: config.database.url ? 'start PostgreSQL or correct DATABASE_URL' : 'check the data folder; delete it to start afresh',
    };
  }
}

/** Every connection of the live hub logs in to each of its systems (`connections check`), one check a connection. */
async function connectionChecks(): Promise<Check[]> {
  try {
    const api = ApiClient.from({});
    const { connections } = await api.get<{ connections: Array<{ name: string }> }>('/connections');
    return await Promise.all(connections.map(async ({ name }): Promise<Check> => {
      const result = await api.post<{ ok: boolean; systems: Record<string, CheckResult> }>(`/connections/${encodeURIComponent(name)}/check`);
      const failed = Object.entries(result.systems).filter(([, r]) => !r.ok);
      return result.ok
        ? { name: `Connection ${name}`, ok: true, detail: Object.entries(result.systems).map(([system, r]) => `${system} ✓ ${r.message}`).join('; ') }
        : { name: `Connection ${name}`, ok: false, detail: failed.map(([system, r]) => `${system}: ${r.message}`).join('; '), fix: `correct the credentials of ${failed.map(([s]) => s).join(', ')} (ecosync connections check ${name} shows each system)` };
    }));
  } catch (error) {
    return [{ name: 'Connections', ok: false, detail: (error as Error).message, fix: 'look at the hub\'s log (ecosync up)' }];
  }
}

/** Runs the health workflow on the live hub: client → Temporal → worker → store and back. */
async function roundTrip(config: Config): Promise<Check> {
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.port}`;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...(config.temporal.address ? temporalConnectionOptions(config.temporal, address) : { address }), connectTimeout: 2000 });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const started = Date.now();
    const report = await client.workflow.execute('healthCheckWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId: `doctor-${Date.now()}`,
      workflowExecutionTimeout: '15 seconds',
      ...HEALTH_CHECK_TEXT,
      args: [],
    }) as { database: string };
    return { name: 'Workflow round trip', ok: true, detail: `health workflow ran on the worker in ${Date.now() - started} ms (database: ${report.database})` };
  } catch (error) {
    return { name: 'Workflow round trip', ok: false, detail: (error as Error).message, fix: 'is the worker running? look at the ecosync up log' };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
