import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, problems, sendProblem } from './problem.js';

/**
 * Bearer API tokens with roles. Tokens come from ECOSYNC_API_TOKENS (`name:role:token,…`, or
 * `name:role:sha256:<hex>` so the configuration need not hold the token itself); an API on
 * loopback without them gets a generated local admin token in <dataDir>/api-token, which the CLI
 * reads, so a new user needs no setup. Only SHA-256 digests are kept in memory; they are compared
 * in constant time, and tokens are never logged or echoed in errors.
 */

export const ROLES = ['admin', 'revops', 'alliance', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who may do what on the operator surface. */
export const ANY_ROLE: readonly Role[] = ROLES;
export const OPERATORS: readonly Role[] = ['admin', 'revops'];
export const ADMINS: readonly Role[] = ['admin'];

export interface ApiToken {
  name: string;
  role: Role;
  /** The token's SHA-256 digest, hex: the token itself is not kept. */
  sha256: string;
}

/** The authenticated caller; `name` is recorded as the author of decisions (resolvedBy). */
export interface Caller {
  name: string;
  role: Role;
}

export const TOKENS_ENV = 'ECOSYNC_API_TOKENS';
export const TOKEN_FILE = 'api-token';
export const LOCAL_ADMIN = 'local-admin';
const MIN_TOKEN_LENGTH = 16;
const HASHED = /^sha256:([0-9a-f]{64})$/i;

/** The hex SHA-256 digest of a token, as `sha256:<hex>` in ECOSYNC_API_TOKENS takes it. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Parses `name:role:token,…`, where a token may be given as `sha256:<64 hex digits>` (make it with
 * `printf %s "$TOKEN" | sha256sum`). Errors name the entry by position and name, never its token.
 */
export function parseApiTokens(spec: string): ApiToken[] {
  const tokens: ApiToken[] = [];
  const entries = spec.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  for (const [i, entry] of entries.entries()) {
    const where = `${TOKENS_ENV} entry ${i + 1}`;
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    if (second < 0) throw new Error(`${where}: expected name:role:token`);
    const name = entry.slice(0, first).trim();
    const role = entry.slice(first + 1, second).trim();
    const token = entry.slice(second + 1).trim();
    if (!/^[A-Za-z0-9._@-]+$/.test(name)) throw new Error(`${where}: the name must be letters, digits, . _ @ or -`);
    if (!(ROLES as readonly string[]).includes(role)) throw new Error(`${where} (${name}): unknown role "${role}" (roles: ${ROLES.join(', ')})`);
    const hashed = HASHED.exec(token);
    if (!hashed && /^sha256:/i.test(token)) throw new Error(`${where} (${name}): a hashed token is sha256: and 64 hex digits`);
    if (!hashed && token.length < MIN_TOKEN_LENGTH) throw new Error(`${where} (${name}): the token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`);
    const sha256 = hashed ? hashed[1].toLowerCase() : tokenDigest(token);
    if (tokens.some((t) => t.name === name)) throw new Error(`${where}: the name "${name}" is used twice`);
    if (tokens.some((t) => t.sha256 === sha256)) throw new Error(`${where} (${name}): the same token is given to two names`);
    tokens.push({ name, role: role as Role, sha256 });
  }
  return tokens;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface ApiTokenSetup {
  tokens: ApiToken[];
  source: 'env' | 'local-file';
  /** The local token's file, when source is local-file. */
  file?: string;
  /** The local token was created by this call. */
  generated?: boolean;
  /** The local token (source local-file), which the hub hands to its own CLI. */
  token?: string;
}

/**
 * The tokens the API accepts. Without ECOSYNC_API_TOKENS, an API on loopback uses the local
 * admin token (created on first start); any other address refuses to start unprotected.
 */
export function loadApiTokens(options: { dataDir: string; host: string; env?: Record<string, string | undefined> }): ApiTokenSetup {
  const spec = (options.env ?? process.env)[TOKENS_ENV];
  if (spec && spec.trim()) {
    const tokens = parseApiTokens(spec);
    if (tokens.length > 0) return { tokens, source: 'env' };
  }
  if (!isLoopback(options.host)) {
    throw new Error(
      `the API listens on ${options.host}, which other machines can reach, and no API tokens are configured. ` +
      `Set ${TOKENS_ENV}=name:role:token[,…] (roles: ${ROLES.join(', ')}; make a token with: openssl rand -hex 32), ` +
      'or listen on 127.0.0.1 only (ECOSYNC_API_HOST=127.0.0.1).',
    );
  }
  const { token, file, generated } = ensureLocalToken(options.dataDir);
  return { tokens: [{ name: LOCAL_ADMIN, role: 'admin', sha256: tokenDigest(token) }], source: 'local-file', file, generated, token };
}

export function localTokenFile(dataDir: string): string {
  return path.join(dataDir, TOKEN_FILE);
}

/** The local admin token, or undefined when the hub has not made one. */
export function readLocalToken(dataDir: string): string | undefined {
  try {
    const token = readFileSync(localTokenFile(dataDir), 'utf8').trim();
    return token || undefined;
  } catch {
    return undefined;
  }
}

function ensureLocalToken(dataDir: string): { token: string; file: string; generated: boolean } {
  const file = localTokenFile(dataDir);
  const existing = readLocalToken(dataDir);
  if (existing) {
    chmodSync(file, 0o600);
    return { token: existing, file, generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const token = `ecs_${randomBytes(32).toString('base64url')}`;
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { token: readLocalToken(dataDir)!, file, generated: false };
    throw error;
  }
  return { token, file, generated: true };
}

/** Finds the caller of a request by its bearer token. */
export class ApiAuth {
  private readonly known: Array<{ digest: Buffer; caller: Caller }>;

  constructor(tokens: readonly ApiToken[]) {
    if (tokens.length === 0) throw new Error('the API needs at least one token');
    this.known = tokens.map((t) => ({ digest: Buffer.from(t.sha256, 'hex'), caller: { name: t.name, role: t.role } }));
  }

  /**
   * The caller for an Authorization header, or undefined. Every known token is compared (equal
   * length digests, timingSafeEqual), so the time taken says nothing about which one matched.
   */
  authenticate(header: string | undefined): Caller | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return undefined;
    const presented = createHash('sha256').update(match[1]).digest();
    let found: Caller | undefined;
    for (const k of this.known) if (timingSafeEqual(k.digest, presented)) found = k.caller;
    return found;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on the route; a route inside guardRoutes without roles admits nobody. */
    roles?: readonly Role[];
  }
}

const callers = new WeakMap<FastifyRequest, Caller>();

/** The authenticated caller of a request inside guardRoutes. */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error('callerOf used outside guardRoutes');
  return caller;
}

/**
 * The person acting: the caller's token name, or the one an admin names (the local admin token
 * of `ecosync up` acts for the demo's people). Nobody else speaks for another person.
 */
export function actingPerson(request: FastifyRequest, named: string | undefined, what: string): string {
  const caller = callerOf(request);
  if (named === undefined || named === caller.name) return caller.name;
  if (caller.role !== 'admin') throw new HttpError(403, `${caller.name} may not ${what} as ${named}: only an admin acts on someone else's behalf`);
  return named;
}

/** The name of the bearer-token security scheme in the OpenAPI document. */
export const BEARER = 'bearerAuth';

/**
 * Requires a valid token on every route of `scope` (401 otherwise) and one of the route's
 * `config.roles` (403 otherwise). Fails closed: a route that names no roles answers 403.
 * The routes' documentation says so: the bearer scheme, the roles, the 401 and 403 problems.
 */
export function guardRoutes(scope: FastifyInstance, auth: ApiAuth): void {
  scope.addHook('onRoute', (route) => {
    const roles = route.config?.roles ?? [];
    const who = `Roles: ${roles.length ? roles.join(', ') : 'none'}.`;
    route.schema = {
      ...route.schema,
      security: [{ [BEARER]: [] }],
      description: route.schema?.description ? `${route.schema.description}\n\n${who}` : who,
      response: { ...problems(401, 403), ...(route.schema?.response as object | undefined) },
    };
  });
  scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const caller = auth.authenticate(header);
    if (!caller) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, 401, header ? 'the API token is not valid' : 'an API token is required: send Authorization: Bearer <token>');
    }
    const roles = request.routeOptions.config.roles ?? [];
    if (!roles.includes(caller.role)) {
      return sendProblem(reply, 403, `the role ${caller.role} (${caller.name}) may not do this${roles.length ? `: it needs ${roles.join(' or ')}` : ''}`);
    }
    callers.set(request, caller);
  });
}
