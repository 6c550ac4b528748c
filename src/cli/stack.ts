import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { ApiAuth, loadApiTokens } from '../api/auth.js';
import { operatorRoutes } from '../api/routes/index.js';
import { drawdownPagePlugin } from '../api/routes/drawdown.js';
import { buildApi } from '../api/server.js';
import { webhooksPlugin } from '../api/webhooks/index.js';
import { openStore, type Store } from '../store/index.js';
import { offerSettingsOf, type Config } from '../runtime/config.js';
import { createActivities } from '../runtime/activities.js';
import { startDemo, type Demo } from '../runtime/demo.js';
import { createMetrics, freeLoopbackPort, scrapeOf, watchCoSells, watchOffers, watchStore } from '../runtime/metrics.js';
import { ensureSecretKey } from '../runtime/secret-key.js';
import { findTemporalCli, installTemporalRuntime, startDevServer, temporalConnectionOptions, type DevServer } from '../runtime/temporal.js';
import { startWorker, type RunningWorker } from '../runtime/worker.js';

export interface Stack {
  temporalAddress: string;
  uiUrl?: string;
  apiUrl?: string;
  /** The worker's /metrics when the API does not run in this process (`ecosync worker`). */
  metricsUrl?: string;
  worker?: RunningWorker;
  demo?: Demo;
  store: Store;
  client: Client;
  stop(): Promise<void>;
}

export function storeOptions(config: Config) {
  return config.database.url
    ? { kind: 'postgres' as const, url: config.database.url, schema: config.database.schema }
    : { kind: 'pglite' as const, dataDir: path.join(config.dataDir, 'pglite') };
}

/**
 * Starts the hub: store, Temporal (embedded dev server unless an address is configured), the
 * worker and the HTTP API. stop() takes everything down in reverse order; a part that failed
 * to start stops the parts started before it, so nothing is left running.
 */
export interface StackParts {
  worker: boolean;
  api: boolean;
  /** Seeded sandboxes and the demo connection (`ecosync up` only). */
  demo?: boolean;
}

export async function startStack(config: Config, log: Logger, onProgress: (what: string) => void = () => undefined, parts: StackParts = { worker: true, api: true }): Promise<Stack> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((error) => log.warn({ err: error }, 'stopping a part of the hub failed'));
    stops.length = 0;
  };
  try {
    // An API exposed beyond loopback without tokens refuses to start before anything else does.
    const apiTokens = parts.api ? loadApiTokens({ dataDir: config.dataDir, host: config.api.host }) : undefined;
    if (apiTokens?.generated) log.info({ file: apiTokens.file }, 'generated the local admin API token (the CLI reads it from there)');
    const secret = ensureSecretKey(config.dataDir);
    process.env.ECOSYNC_SECRET_KEY = secret.key;
    if (secret.source === 'generated') log.info({ file: path.join(config.dataDir, 'secret.key') }, 'generated the key that encrypts credentials at rest');

    onProgress('opening the database');
    const store = await openStore(storeOptions(config));
    stops.push(() => store.close());

    let devServer: DevServer | undefined;
    let address = config.temporal.address;
    if (!address) {
      const cli = findTemporalCli(config.temporal.cli);
      if (!cli) throw new Error('no Temporal CLI binary and no TEMPORAL_ADDRESS: run through ./ecosync up (it builds the CLI), or see ecosync doctor');
      onProgress('starting the Temporal dev server');
      devServer = await startDevServer({ cli, dataDir: config.dataDir, port: config.temporal.port, uiPort: config.temporal.uiPort, namespace: config.temporal.namespace, log });
      stops.push(() => devServer!.stop());
      address = devServer.address;
    }

    // The Temporal SDK serves a worker's metrics on a loopback port of its own; /metrics passes them on.
    const sdkMetricsPort = parts.worker ? await freeLoopbackPort() : undefined;
    installTemporalRuntime(log, { metricsAddress: sdkMetricsPort ? `127.0.0.1:${sdkMetricsPort}` : undefined });
    // An external cluster with its TLS and API key as configured; the embedded dev server plain.
    const reach = devServer ? { address } : temporalConnectionOptions(config.temporal, address);
    const connection = await Connection.connect(reach);
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: config.temporal.namespace });

    const metrics = createMetrics();
    stops.push(async () => metrics.close());
    const moreMetrics = sdkMetricsPort ? scrapeOf(`http://127.0.0.1:${sdkMetricsPort}/metrics`, log) : undefined;

    let worker: RunningWorker | undefined;
    if (parts.worker) {
      onProgress('starting the worker');
      worker = await startWorker({
        address,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        connection: reach,
        activities: createActivities({ store, client, taskQueue: config.temporal.taskQueue, log, cosell: config.cosell, metrics }),
        log,
      });
      stops.push(() => worker!.shutdown());
    }

    const health = async () => ({
      store: await store.db.query('select 1').then(() => 'ok', (e: Error) => e.message),
      temporal: await connection.workflowService.getSystemInfo({}).then(() => 'ok', (e: Error) => e.message),
      ...(worker ? { worker: worker.worker.getState() === 'RUNNING' ? 'ok' : worker.worker.getState() } : {}),
    });

    let apiUrl: string | undefined;
    let metricsUrl: string | undefined;
    if (parts.api) {
      onProgress('starting the API');
      // What the store and Temporal visibility say, once per hub: the API's to report.
      watchStore(metrics, store, log);
      watchCoSells(metrics, client, log);
      watchOffers(metrics, client, log);
      const control = { client, taskQueue: config.temporal.taskQueue };
      const api: FastifyInstance = await buildApi({
        log,
        metrics: metrics.registry,
        moreMetrics,
        plugins: [
          operatorRoutes({ store, client, taskQueue: config.temporal.taskQueue, auth: new ApiAuth(apiTokens!.tokens), cosell: config.cosell, offers: offerSettingsOf(config) }),
          // Webhooks authenticate by the sender's signature (or API-destination key), not by API token.
          webhooksPlugin({ store, sync: control, metrics: metrics.registry, publicBaseUrl: config.api.publicUrl }),
          // The burn-down page asks the reader for a token itself.
          drawdownPagePlugin(),
        ],
        health,
      });
      apiUrl = await listen(api, config.api.host, config.api.port);
      stops.push(() => api.close());
    } else if (parts.worker) {
      // A worker alone answers a scraper and a health check on its own port.
      onProgress('serving the worker\'s metrics');
      const listener = await buildApi({ log, metrics: metrics.registry, moreMetrics, health });
      metricsUrl = `${await listen(listener, config.metrics.host, config.metrics.port)}/metrics`;
      stops.push(() => listener.close());
    }

    let demo: Demo | undefined;
    if (parts.demo) {
      onProgress('starting the Salesforce, HubSpot, NetSuite, AWS, AWS Marketplace and Microsoft sandboxes and the demo connection');
      demo = await startDemo(config, { store, client, log, apiUrl });
      if (demo) stops.push(() => demo!.stop());
    }

    return { temporalAddress: address, uiUrl: devServer?.uiUrl, apiUrl, metricsUrl, worker, demo, store, client, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Listens and returns the base URL (the port the system chose when 0 was asked for). */
async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const bound = app.server.address();
  return `http://${host}:${typeof bound === 'object' && bound ? bound.port : port}`;
}
