import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { CallCounters, FaultInjector, type FaultPlan } from '../../../src/sandbox/index.js';
import { CATALOGS, type Catalog } from '../rules.js';
import { ApiError, internalError, throttled } from './errors.js';
import { PartnerCentralStore, type ReviewRule } from './store.js';

/**
 * AWS Partner Central Selling over its real wire protocol (awsJson1_0): `POST /` with
 * `X-Amz-Target: AWSPartnerCentralSelling.<Operation>`, SigV4-signed. The unmodified
 * PartnerCentralSellingClient, given `endpoint: url`, works against it.
 */

/** Credentials the sandbox knows by default; any other access key is an UnrecognizedClientException. */
export const SANDBOX_CREDENTIALS = { accessKeyId: 'SANDBOXECOSYNCKEY01', secretAccessKey: 'ecosync-sandbox-secret-key' } as const;

export interface SandboxAccount {
  accessKeyId: string;
  /** Catalogs these credentials reach (default both); another one is an AccessDeniedException. */
  catalogs?: Catalog[];
}

export interface PartnerCentralSandboxOptions {
  port?: number;
  host?: string;
  seed?: number;
  /** Time from submission to AWS's decision (In review at half of it); 0 decides at once. */
  reviewDelayMs?: number;
  /** AWS's review decision; default Approved. */
  reviewOutcome?: ReviewRule;
  /** Engagement tasks answer IN_PROGRESS and finish after this long; 0 (default) finishes at once. */
  taskDelayMs?: number;
  /** Writes per second per account before ThrottlingException (AWS: about 1); 0 = unlimited. */
  writeRatePerSec?: number;
  /** Reads per second per account (AWS: about 10); 0 = unlimited. */
  readRatePerSec?: number;
  /** Writes per account per 24 hours before ServiceQuotaExceededException (AWS: 10,000); 0 = unlimited. */
  writesPerDay?: number;
  /** Injected faults: throttles, InternalServerException, latency, hung calls. */
  faults?: FaultPlan;
  /** Seeded engagement invitations per catalog. */
  invitations?: number;
  /** Seeded partner solutions per catalog (default 3). */
  solutions?: number;
  accounts?: SandboxAccount[];
  now?: () => number;
  /** Runs before each operation is served: lets a test have AWS act between a client's read and write. */
  beforeOperation?: (operation: string, input: Record<string, unknown>) => void;
}

export interface PartnerCentralSandbox {
  url: string;
  /** Calls per operation (`CreateOpportunity`) and errors per operation (`CreateOpportunity.ThrottlingException`). */
  counters: CallCounters;
  faults: FaultInjector;
  /** AWS's side: inspect opportunities, finish reviews, edit as AWS, add invitations, tune the review clock. */
  state: PartnerCentralStore;
  setRates(rates: { writeRatePerSec?: number; readRatePerSec?: number }): void;
  close(): Promise<void>;
}

const TARGET = /^AWSPartnerCentralSelling\.([A-Za-z]+)$/;
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/partnercentral-selling\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const WRITE_OPERATION = /^(Create|Update|Associate|Disassociate|Start|Stop|Accept|Reject|Submit|Assign|Put|Delete|Tag|Untag)/;

export function isWriteOperation(operation: string): boolean {
  return WRITE_OPERATION.test(operation);
}

export async function startPartnerCentralSandbox(options: PartnerCentralSandboxOptions = {}): Promise<PartnerCentralSandbox> {
  const counters = new CallCounters();
  const faults = new FaultInjector(options.faults ?? {});
  const state = new PartnerCentralStore(options);
  const accounts = new Map((options.accounts ?? [{ accessKeyId: SANDBOX_CREDENTIALS.accessKeyId }]).map((a) => [a.accessKeyId, a]));
  let rates = { write: options.writeRatePerSec ?? 1, read: options.readRatePerSec ?? 10 };
  // One pair of sliding windows per account, as AWS meters each account on its own.
  let limiters = new Map<string, { writes: FaultInjector; reads: FaultInjector }>();
  const writesPerDay = options.writesPerDay ?? 10_000;
  const dailyWrites = new Map<string, { since: number; count: number }>();
  /** Counts a write against the account's 24-hour allowance; false once it is spent. */
  const withinDailyQuota = (accessKeyId: string): boolean => {
    if (writesPerDay <= 0) return true;
    const now = Date.now();
    let day = dailyWrites.get(accessKeyId);
    if (!day || now - day.since >= 86_400_000) dailyWrites.set(accessKeyId, (day = { since: now, count: 0 }));
    return ++day.count <= writesPerDay;
  };
  const limiterFor = (accessKeyId: string) => {
    let l = limiters.get(accessKeyId);
    if (!l) {
      l = {
        writes: new FaultInjector(rates.write > 0 ? { callsPerSecond: rates.write, endpoints: WRITE_OPERATION } : {}),
        reads: new FaultInjector(rates.read > 0 ? { callsPerSecond: rates.read } : {}),
      };
      limiters.set(accessKeyId, l);
    }
    return l;
  };
  /** What the onRequest hook learned about a call: the operation and the account that signed it. */
  const calls = new WeakMap<FastifyRequest, { operation: string; account: SandboxAccount }>();

  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 10 * 1024 * 1024 });
  // awsJson1_0 bodies are read as text and decoded by the route, so a bad one is a SerializationException.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const send = (reply: FastifyReply, status: number, body: unknown, errorType?: string): FastifyReply => {
    reply.code(status).header('content-type', 'application/x-amz-json-1.0').header('x-amzn-requestid', randomUUID());
    if (errorType) reply.header('x-amzn-errortype', errorType);
    // A Buffer goes out as is: Fastify would add '; charset=utf-8' to a string's content type, which AWS does not send.
    return reply.send(Buffer.from(JSON.stringify(body)));
  };
  const fail = (reply: FastifyReply, operation: string, error: ApiError): FastifyReply => {
    counters.add(`${operation}.${error.type}`);
    return send(reply, error.status, error.body(), error.type);
  };

  // Every call: the operation named by X-Amz-Target, SigV4's shape and key, content type, the
  // account's rates and quota, then the fault plan. All of it is known before the body is read.
  app.addHook('onRequest', async (request, reply) => {
    const target = TARGET.exec(String(request.headers['x-amz-target'] ?? ''));
    if (request.method !== 'POST' || request.url.split('?')[0] !== '/' || !target) {
      return fail(reply, 'unknown', new ApiError('UnknownOperationException', 400, 'Requests are POST / with X-Amz-Target: AWSPartnerCentralSelling.<Operation>.'));
    }
    const operation = target[1];
    counters.add(operation);
    const authorization = request.headers.authorization;
    if (!authorization) return fail(reply, operation, new ApiError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token'));
    const signature = AUTHORIZATION.exec(authorization);
    if (!signature || !request.headers['x-amz-date'] || !signature[4].split(';').includes('host')) {
      return fail(reply, operation, new ApiError('IncompleteSignatureException', 400, 'Authorization header requires Credential, SignedHeaders (with host) and Signature, and the request an X-Amz-Date header.'));
    }
    const account = accounts.get(signature[1]);
    if (!account) return fail(reply, operation, new ApiError('UnrecognizedClientException', 400, 'The security token included in the request is invalid.'));
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.0')) {
      return fail(reply, operation, new ApiError('SerializationException', 400, 'Content-Type must be application/x-amz-json-1.0.'));
    }
    const limiter = limiterFor(account.accessKeyId);
    const metered = isWriteOperation(operation) ? limiter.writes : limiter.reads;
    if (metered.decide(operation).kind === 'rateLimit') return fail(reply, operation, throttled());
    if (isWriteOperation(operation) && !withinDailyQuota(account.accessKeyId)) {
      return fail(reply, operation, new ApiError('ServiceQuotaExceededException', 402, `The account has used its ${writesPerDay} writes for the last 24 hours.`));
    }
    const decision = faults.decide(operation);
    if (decision.latencyMs > 0) await new Promise((r) => setTimeout(r, decision.latencyMs));
    if (decision.kind === 'timeout') {
      // Never answered: the client's timeout has to fire (close() drops the connection).
      reply.hijack();
      return reply;
    }
    if (decision.kind === 'rateLimit') return fail(reply, operation, throttled());
    if (decision.kind === 'serverError') return fail(reply, operation, internalError());
    calls.set(request, { operation, account });
  });

  app.post<{ Body: string | undefined }>('/', async (request, reply) => {
    const { operation, account } = calls.get(request)!;
    let input: Record<string, unknown>;
    try {
      input = !request.body ? {} : JSON.parse(request.body);
    } catch {
      return fail(reply, operation, new ApiError('SerializationException', 400, 'The request body is not valid JSON.'));
    }
    try {
      options.beforeOperation?.(operation, input);
      return send(reply, 200, state.handle(operation, input, account.catalogs ?? CATALOGS));
    } catch (error) {
      if (error instanceof ApiError) return fail(reply, operation, error);
      // A bug in the sandbox: answered as AWS answers its own, and reported.
      console.error('aws-partner-central sandbox:', error);
      return fail(reply, operation, internalError());
    }
  });

  // Fastify's own refusals (a body over the limit, a broken stream) in AWS's shape.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const operation = calls.get(request)?.operation ?? 'unknown';
    if (error.statusCode === 413) return fail(reply, operation, new ApiError('ValidationException', 413, 'Request entity too large.'));
    if (error.statusCode && error.statusCode < 500) return fail(reply, operation, new ApiError('SerializationException', 400, error.message));
    console.error('aws-partner-central sandbox:', error);
    return fail(reply, operation, internalError());
  });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    url: `http://127.0.0.1:${port}`,
    counters,
    faults,
    state,
    setRates(next) {
      rates = { write: next.writeRatePerSec ?? rates.write, read: next.readRatePerSec ?? rates.read };
      limiters = new Map();
    },
    close: () => app.close(),
  };
}
