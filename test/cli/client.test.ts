import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiAuth, parseApiTokens } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { ApiClient, ApiError, ApiUnreachable, runWithApi } from '../../src/cli/client.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { freePort } from '../support/process.js';

const ADMIN = 'admin-token-0123456789abcdef';

/** What runWithApi leaves behind: the exit code and what it wrote to stderr. */
async function run(url: string, body: (api: ApiClient) => Promise<number | void>, token = ADMIN): Promise<{ code: number | undefined; stderr: string }> {
  let stderr = '';
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const before = process.exitCode;
  try {
    await runWithApi({ api: url, token }, body);
    return { code: process.exitCode as number | undefined, stderr };
  } finally {
    write.mockRestore();
    process.exitCode = before;
  }
}

describe('the CLI\'s API client against the hub\'s API', () => {
  let db: TestStore;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    db = await openTestStore('postgres');
    // Nothing here reaches Temporal: a lazy connection never connects.
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    app = await buildApi({
      log: pino({ level: 'silent' }),
      health: async () => ({}),
      plugins: [operatorRoutes({ store: db.store, client, taskQueue: 'unused', auth: new ApiAuth(parseApiTokens(`root:admin:${ADMIN}`)) })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('gets and posts JSON with the token', async () => {
    const api = new ApiClient(url, ADMIN);
    expect(await api.get('/connections')).toEqual({ connections: [] });
    expect(await api.get('/runs', { limit: 3, status: undefined })).toEqual({ runs: [] });
  });

  it('prints a problem\'s detail, then each field the API named, and exits 1', async () => {
    const { code, stderr } = await run(url, async (api) => {
      await api.post('/connections', { name: 'has spaces', source: 'salesforce', target: 'hubspot', scheduleSeconds: 5, credentials: {} });
    });
    expect(code).toBe(1);
    expect(stderr).toBe([
      'ecosync: body.name and body.scheduleSeconds are not valid',
      '  body.name: letters, digits, . _ or - (at most 63), starting with a letter or digit',
      '  body.scheduleSeconds: at least 10 seconds',
      '',
    ].join('\n'));
  });

  it('prints a problem without fields as one line, and says where the token comes from on a 401', async () => {
    const missing = await run(url, async (api) => { await api.delete('/connections/nope'); });
    expect(missing).toEqual({ code: 1, stderr: 'ecosync: no connection named "nope"\n' });
    const refused = await run(url, async (api) => { await api.get('/connections'); }, 'not-a-known-token-at-all');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('ecosync: the API token is not valid (the CLI sends --token, ECOSYNC_API_TOKEN, or the hub\'s <dataDir>/api-token)\n');
  });

  it('keeps the body\'s exit code when every call succeeds', async () => {
    expect(await run(url, async (api) => { await api.get('/connections'); return 1; })).toEqual({ code: 1, stderr: '' });
    expect(await run(url, async (api) => { await api.get('/connections'); })).toEqual({ code: 0, stderr: '' });
  });
});

describe('the CLI\'s API client against what else may answer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  async function serve(handler: (request: IncomingMessage, body: string) => { status: number; type?: string; body?: string }): Promise<string> {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => { body += c.toString(); });
      request.on('end', () => {
        const answer = handler(request, body);
        response.writeHead(answer.status, answer.type ? { 'content-type': answer.type } : {});
        response.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it('sends the bearer token and a JSON body, and takes an empty answer', async () => {
    const seen: Array<{ method?: string; url?: string; authorization?: string; type?: string; body: string }> = [];
    const api = new ApiClient(await serve((request, body) => {
      seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization, type: request.headers['content-type'], body });
      return { status: 204 };
    }), 'tok-0123456789abcdef');
    expect(await api.post('/x', { a: 1 })).toBeUndefined();
    expect(seen).toEqual([{ method: 'POST', url: '/x', authorization: 'Bearer tok-0123456789abcdef', type: 'application/json', body: '{"a":1}' }]);
  });

  it('reports a proxy\'s error page by its text, and an older hub\'s { message } by its message', async () => {
    const page = new ApiClient(await serve(() => ({ status: 502, type: 'text/html', body: 'Bad Gateway\n' })), undefined);
    await expect(page.get('/connections')).rejects.toEqual(new ApiError(502, 'Bad Gateway'));
    await new Promise((resolve) => server!.close(resolve));
    const older = new ApiClient(await serve(() => ({ status: 409, type: 'application/json', body: '{"statusCode":409,"message":"already exists"}' })), undefined);
    await expect(older.post('/connections', {})).rejects.toMatchObject({ status: 409, message: 'already exists', errors: [] });
  });

  it('says the hub is not running, and where it looked, when nothing answers', async () => {
    const port = await freePort();
    const error = await new ApiClient(`http://127.0.0.1:${port}`, undefined).get('/connections').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiUnreachable);
    expect((error as Error).message).toBe(`cannot reach the ecosync API (ECONNREFUSED): is \`ecosync up\` running? API at http://127.0.0.1:${port} (set --api <url> to use another)`);
  });
});
