import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiAuth, LOCAL_ADMIN, loadApiTokens, parseApiTokens, readLocalToken } from '../../src/api/auth.js';
import { operatorRoutes } from '../../src/api/routes/index.js';
import { buildApi } from '../../src/api/server.js';
import { openTestStore, type TestStore } from '../store/stores.js';
import { problemText } from './problem.js';

const TOKENS = {
  admin: 'admin-token-0123456789abcdef',
  revops: 'revops-token-0123456789abcdef',
  alliance: 'alliance-token-0123456789abcdef',
  viewer: 'viewer-token-0123456789abcdef',
};
const SPEC = Object.entries(TOKENS).map(([role, token]) => `${role}-user:${role}:${token}`).join(',');

describe('API tokens', () => {
  it('parses name:role:token entries and names the bad entry without echoing its token', () => {
    expect(parseApiTokens(SPEC).map((t) => `${t.name}/${t.role}`)).toEqual(['admin-user/admin', 'revops-user/revops', 'alliance-user/alliance', 'viewer-user/viewer']);
    expect(() => parseApiTokens('ops:root:0123456789abcdef0123')).toThrow(/entry 1 \(ops\): unknown role "root" \(roles: admin, revops, alliance, viewer\)/);
    expect(() => parseApiTokens('ops:admin:short-secret')).toThrow(/at least 16 characters/);
    expect(() => parseApiTokens('ops:admin:short-secret')).not.toThrow(/short-secret/);
    expect(() => parseApiTokens('a:admin:0123456789abcdef,b:viewer')).toThrow(/entry 2: expected name:role:token/);
    expect(() => parseApiTokens('a:admin:0123456789abcdef,a:viewer:fedcba9876543210')).toThrow(/"a" is used twice/);
  });

  it('generates a local admin token (mode 0600) once, for an API on loopback without configured tokens', () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'ecosync-auth-')), 'data');
    const first = loadApiTokens({ dataDir, host: '127.0.0.1', env: {} });
    expect(first).toMatchObject({ source: 'local-file', generated: true, tokens: [{ name: LOCAL_ADMIN, role: 'admin' }] });
    const file = path.join(dataDir, 'api-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.token);
    expect(readLocalToken(dataDir)).toBe(first.token);

    const again = loadApiTokens({ dataDir, host: 'localhost', env: {} });
    expect(again).toMatchObject({ generated: false });
    expect(again.token).toBe(first.token);
  });

  it('uses the configured tokens when there are some, and makes no local file', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-auth-'));
    const setup = loadApiTokens({ dataDir, host: '0.0.0.0', env: { ECOSYNC_API_TOKENS: SPEC } });
    expect(setup.source).toBe('env');
    expect(setup.tokens).toHaveLength(4);
    expect(readLocalToken(dataDir)).toBeUndefined();
  });

  it('refuses to start an API reachable from other machines without tokens, and says how to fix it', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ecosync-auth-'));
    expect(() => loadApiTokens({ dataDir, host: '0.0.0.0', env: {} })).toThrow(/listens on 0\.0\.0\.0.*no API tokens are configured.*ECOSYNC_API_TOKENS=name:role:token.*ECOSYNC_API_HOST=127\.0\.0\.1/);
    expect(readLocalToken(dataDir)).toBeUndefined();
  });

  it('takes a token as its SHA-256 digest (sha256:<hex>) and keeps only digests in memory', () => {
    const hashed = `ops:admin:sha256:${createHash('sha256').update(TOKENS.admin).digest('hex').toUpperCase()},vic:viewer:${TOKENS.viewer}`;
    const tokens = parseApiTokens(hashed);
    expect(JSON.stringify(tokens)).not.toContain(TOKENS.admin);
    expect(JSON.stringify(tokens)).not.toContain(TOKENS.viewer);
    const auth = new ApiAuth(tokens);
    expect(auth.authenticate(`Bearer ${TOKENS.admin}`)).toEqual({ name: 'ops', role: 'admin' });
    expect(auth.authenticate(`Bearer ${TOKENS.viewer}`)).toEqual({ name: 'vic', role: 'viewer' });
    // The digest itself is not a token.
    expect(auth.authenticate(`Bearer ${tokens[0].sha256}`)).toBeUndefined();
    expect(auth.authenticate(`Bearer sha256:${tokens[0].sha256}`)).toBeUndefined();
    expect(() => parseApiTokens('ops:admin:sha256:abc')).toThrow(/entry 1 \(ops\): a hashed token is sha256: and 64 hex digits/);
    expect(() => parseApiTokens(`a:admin:${TOKENS.admin},b:viewer:sha256:${tokens[0].sha256}`)).toThrow(/same token is given to two names/);
  });

  it('finds the caller by bearer token only', () => {
    const auth = new ApiAuth(parseApiTokens(SPEC));
    expect(auth.authenticate(`Bearer ${TOKENS.revops}`)).toEqual({ name: 'revops-user', role: 'revops' });
    expect(auth.authenticate(`bearer ${TOKENS.viewer}`)).toEqual({ name: 'viewer-user', role: 'viewer' });
    expect(auth.authenticate(TOKENS.admin)).toBeUndefined();
    expect(auth.authenticate(`Bearer ${TOKENS.admin}x`)).toBeUndefined();
    expect(auth.authenticate(`Basic ${TOKENS.admin}`)).toBeUndefined();
    expect(auth.authenticate(undefined)).toBeUndefined();
  });
});

describe('operator routes: 401 without a valid token, 403 for a role that may not', () => {
  let db: TestStore;
  let app: FastifyInstance;
  const lines: string[] = [];
  beforeAll(async () => {
    db = await openTestStore('pglite');
    // The guard answers before any handler reaches Temporal: a lazy connection never connects.
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const log = pino({ level: 'trace' }, { write: (line: string) => { lines.push(line); } });
    app = await buildApi({
      log,
      health: async () => ({}),
      plugins: [operatorRoutes({ store: db.store, client, taskQueue: 'unused', auth: new ApiAuth(parseApiTokens(SPEC)) })],
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token?: string, body?: unknown) =>
    app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body === undefined ? {} : { payload: body as object }) });

  it('answers 401 without a token or with a wrong one, with a WWW-Authenticate challenge', async () => {
    const missing = await call('GET', '/connections');
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(problemText(missing)).toMatch(/API token is required/);
    const wrong = await call('GET', '/connections', 'not-a-known-token-at-all');
    expect(wrong.statusCode).toBe(401);
    expect(problemText(wrong)).toBe('the API token is not valid');
  });

  it('lets every role read', async () => {
    for (const token of Object.values(TOKENS)) {
      const read = await call('GET', '/connections', token);
      expect(read.statusCode, token).toBe(200);
      expect(read.json()).toEqual({ connections: [] });
    }
  });

  it('lets only revops and admin change things, and only admin delete a connection', async () => {
    const cases: Array<[string, 'POST' | 'DELETE', string, unknown]> = [
      ['create', 'POST', '/connections', {}],
      ['sync', 'POST', '/connections/x/sync', {}],
      ['replay', 'POST', '/connections/x/deadletters/replay', {}],
      ['discard', 'POST', '/deadletters/00000000-0000-4000-8000-000000000000/discard', {}],
      ['resolve', 'POST', '/conflicts/00000000-0000-4000-8000-000000000000/resolve', { use: 'hubspot' }],
    ];
    for (const [what, method, url, body] of cases) {
      for (const role of ['viewer', 'alliance'] as const) {
        const denied = await call(method, url, TOKENS[role], body);
        expect(denied.statusCode, `${role} ${what}`).toBe(403);
        expect(problemText(denied)).toBe(`the role ${role} (${role}-user) may not do this: it needs admin or revops`);
      }
      // Allowed roles get past the guard: a 400/404 from the handler, not 401/403.
      for (const role of ['revops', 'admin'] as const) {
        expect([400, 404], `${role} ${what}`).toContain((await call(method, url, TOKENS[role], body)).statusCode);
      }
    }
    const revopsDelete = await call('DELETE', '/connections/x', TOKENS.revops);
    expect(revopsDelete.statusCode).toBe(403);
    expect(problemText(revopsDelete)).toMatch(/needs admin$/);
    expect((await call('DELETE', '/connections/x', TOKENS.admin)).statusCode).toBe(404);
  });

  it('never writes a token to the log', async () => {
    await call('GET', '/connections', TOKENS.admin);
    await call('GET', '/connections', 'a-wrong-token-that-is-long');
    await call('POST', '/connections', TOKENS.viewer, {});
    const text = lines.join('');
    for (const token of [...Object.values(TOKENS), 'a-wrong-token-that-is-long']) expect(text).not.toContain(token);
  });
});
