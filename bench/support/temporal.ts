import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { findTemporalCli, startDevServer, type DevServer } from '../../src/runtime/temporal.js';
import { freePort } from '../../test/support/process.js';
import { endOnTimeout } from './watchdog.js';

export interface BenchTemporal {
  server: DevServer;
  client: Client;
  stop(): Promise<void>;
}

/**
 * A Temporal dev server run as `ecosync up` runs it (the CLI binary, a SQLite file in `dataDir`)
 * on free ports, and a client of its default namespace. The watchdog ends it if the benchmark
 * overruns.
 */
export async function startBenchTemporal(dataDir: string): Promise<BenchTemporal> {
  const cli = findTemporalCli();
  if (!cli) throw new Error('Temporal CLI not found (.tools/bin/temporal, TEMPORAL_CLI or PATH): run the benchmark through ./ecosync bench <name>');
  const server = await startDevServer({ cli, dataDir, port: await freePort(), uiPort: await freePort(), namespace: 'default', log: pino({ level: 'silent' }) });
  const connection = await Connection.connect({ address: server.address }).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  const forget = endOnTimeout(() => server.process.kill('SIGKILL'));
  return {
    server,
    client: new Client({ connection, namespace: 'default' }),
    async stop() {
      await connection.close().catch(() => undefined);
      await server.stop();
      forget();
    },
  };
}
