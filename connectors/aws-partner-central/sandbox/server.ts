import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, errorType?: string) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() };
      if (errorType) headers['x-amzn-errortype'] = errorType;
      res.writeHead(status, headers).end(JSON.stringify(body));
    };
    const fail = (operation: string, error: ApiError) => {
      counters.add(`${operation}.${error.type}`);
      send(error.status, error.body(), error.type);
    };

    const target = TARGET.exec(String(req.headers['x-amz-target'] ?? ''));
    const body = await readBody(req);
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/' || !target) {
      return fail('unknown', new ApiError('UnknownOperationException', 400, 'Requests are POST / with X-Amz-Target: AWSPartnerCentralSelling.<Operation>.'));
    }
    const operation = target[1];
    counters.add(operation);

    const authorization = req.headers.authorization;
    if (!authorization) return fail(operation, new ApiError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token'));
    const signature = AUTHORIZATION.exec(authorization);
    if (!signature || !req.headers['x-amz-date'] || !signature[4].split(';').includes('host')) {
      return fail(operation, new ApiError('IncompleteSignatureException', 400, 'Authorization header requires Credential, SignedHeaders (with host) and Signature, and the request an X-Amz-Date header.'));
    }
    const account = accounts.get(signature[1]);
    if (!account) return fail(operation, new ApiError('UnrecognizedClientException', 400, 'The security token included in the request is invalid.'));

    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.0')) {
      return fail(operation, new ApiError('SerializationException', 400, 'Content-Type must be application/x-amz-json-1.0.'));
    }
    let input: Record<string, unknown>;
    try {
      input = body.length === 0 ? {} : JSON.parse(body);
    } catch {
      return fail(operation, new ApiError('SerializationException', 400, 'The request body is not valid JSON.'));
    }

    const limiter = limiterFor(account.accessKeyId);
    const metered = isWriteOperation(operation) ? limiter.writes : limiter.reads;
    if (metered.decide(operation).kind === 'rateLimit') return fail(operation, throttled());
    if (isWriteOperation(operation) && !withinDailyQuota(account.accessKeyId)) {
      return fail(operation, new ApiError('ServiceQuotaExceededException', 402, `The account has used its ${writesPerDay} writes for the last 24 hours.`));
    }
    const decision = faults.decide(operation);
    if (decision.latencyMs > 0) await new Promise((r) => setTimeout(r, decision.latencyMs));
    if (decision.kind === 'timeout') return; // never answered: the client's timeout has to fire
    if (decision.kind === 'rateLimit') return fail(operation, throttled());
    if (decision.kind === 'serverError') return fail(operation, internalError());

    try {
      options.beforeOperation?.(operation, input);
      send(200, state.handle(operation, input, account.catalogs ?? CATALOGS));
    } catch (error) {
      if (error instanceof ApiError) return fail(operation, error);
      fail(operation, internalError());
      throw error;
    }
  }

  const server = createServer((req, res) => {
    respond(req, res).catch((error: unknown) => {
      // A bug in the sandbox: answered as InternalServerException above, reported here.
      console.error('aws-partner-central sandbox:', error);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counters,
    faults,
    state,
    setRates(next) {
      rates = { write: next.writeRatePerSec ?? rates.write, read: next.readRatePerSec ?? rates.read };
      limiters = new Map();
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
