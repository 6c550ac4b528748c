import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { CallCounters, FaultInjector, type FaultPlan } from '../../../src/sandbox/index.js';
import { AcceptanceError, type Agreement } from './agreements.js';
import { errorResponse, MarketplaceError, serverError, throttled, type Service } from './errors.js';
import { startEventDelivery, type EventDeliveryOptions, type EventTarget, type MarketplaceEvents } from './events.js';
import { BUYER_ACCOUNT_IDS, RESELLER_ACCOUNT_ID, seedMarketplace, SELLER_ACCOUNT_ID } from './seed.js';
import { MarketplaceState } from './state.js';
import { compact } from './views.js';

/**
 * A local AWS Marketplace on one port: the Catalog API (restJson1, by path), the Agreement API
 * (awsJson1_0, X-Amz-Target AWSMPCommerceService_v20200301.*) and the Metering API (awsJson1_1,
 * AWSMPMeteringService.*), so the unmodified @aws-sdk/client-marketplace-catalog, -agreement and
 * -metering clients work against it given `endpoint: url`. Any SigV4 credentials are taken: the
 * access key picks the account (the seller unless `accounts` says otherwise). Control routes
 * under /_sandbox act as AWS and the buyer: accept an offer, settle change sets, move the clock.
 */
export interface AwsMarketplaceSandboxOptions {
  port?: number;
  host?: string;
  seed?: number;
  /** How long a change set takes on the marketplace clock (default 0: settled by the next call). */
  changeSetMs?: number;
  /** The clock's base (default real time). */
  now?: () => number;
  /** Seed demo offers, a resale authorization and agreements besides the products (default true). */
  demo?: boolean;
  /** Access key id → AWS account id; any other access key acts as the seller. */
  accounts?: Record<string, string>;
  faults?: FaultPlan | FaultInjector;
  /** How long a call the fault plan marks as a timeout hangs before the sandbox drops it. */
  timeoutMs?: number;
  /** Where EventBridge events go (an API destination); they are kept in `events.all` either way. */
  events?: EventTarget & EventDeliveryOptions;
}

export interface AwsMarketplaceSandbox {
  url: string;
  state: MarketplaceState;
  /** Per endpoint: catalog.StartChangeSet, agreement.DescribeAgreement, metering.BatchMeterUsage. */
  faults: FaultInjector;
  /** Calls per endpoint (catalog.StartChangeSet) and errors per endpoint (catalog.StartChangeSet.ValidationException). */
  counters: CallCounters;
  events: MarketplaceEvents;
  close(): Promise<void>;
}

/** Credentials of the seeded accounts (any others act as the seller): made up, and not in AWS's key format, so nobody takes them for real keys. */
export const SANDBOX_CREDENTIALS = {
  seller: { accessKeyId: 'SANDBOXSELLERKEY001', secretAccessKey: 'ecosync-sandbox-seller-secret' },
  reseller: { accessKeyId: 'SANDBOXRESELLERKEY1', secretAccessKey: 'ecosync-sandbox-reseller-secret' },
  buyer: { accessKeyId: 'SANDBOXBUYERKEY0001', secretAccessKey: 'ecosync-sandbox-buyer-secret' },
} as const;

const DEFAULT_ACCOUNTS: Record<string, string> = {
  [SANDBOX_CREDENTIALS.seller.accessKeyId]: SELLER_ACCOUNT_ID,
  [SANDBOX_CREDENTIALS.reseller.accessKeyId]: RESELLER_ACCOUNT_ID,
  [SANDBOX_CREDENTIALS.buyer.accessKeyId]: BUYER_ACCOUNT_IDS[0],
};

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]+)\/\d{8}\/[a-z0-9-]+\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;
const TARGETS: Record<string, { service: Service; version: string; operations: string[] }> = {
  AWSMPCommerceService_v20200301: { service: 'agreement', version: '1.0', operations: ['DescribeAgreement', 'GetAgreementTerms', 'SearchAgreements'] },
  AWSMPMeteringService: { service: 'metering', version: '1.1', operations: ['BatchMeterUsage', 'MeterUsage'] },
};
const CONTENT_TYPES: Record<Service, string> = { catalog: 'application/json', agreement: 'application/x-amz-json-1.0', metering: 'application/x-amz-json-1.1' };

type Handler = (account: string, input: Record<string, unknown>) => unknown;

export async function startAwsMarketplaceSandbox(options: AwsMarketplaceSandboxOptions = {}): Promise<AwsMarketplaceSandbox> {
  const counters = new CallCounters();
  const faults = options.faults instanceof FaultInjector ? options.faults : new FaultInjector(options.faults ?? {});
  const state = new MarketplaceState({ seed: options.seed, changeSetMs: options.changeSetMs, now: options.now }, faults);
  seedMarketplace(state, { demo: options.demo });
  const events = startEventDelivery(state.store.events, options.events, options.events);
  const accounts = { ...DEFAULT_ACCOUNTS, ...options.accounts };
  const { catalog, agreements, metering } = state;

  const handlers: Record<string, Handler> = {
    'catalog.StartChangeSet': (account, input) => catalog.startChangeSet(account, input),
    'catalog.DescribeChangeSet': (account, input) => catalog.describeChangeSet(account, input),
    'catalog.CancelChangeSet': (account, input) => catalog.cancelChangeSet(account, input),
    'catalog.DescribeEntity': (account, input) => catalog.describeEntity(account, input),
    'catalog.ListEntities': (account, input) => catalog.listEntities(account, input),
    'agreement.DescribeAgreement': (account, input) => agreements.describeAgreement(account, input),
    'agreement.GetAgreementTerms': (account, input) => agreements.getAgreementTerms(account, input),
    'agreement.SearchAgreements': (account, input) => agreements.searchAgreements(account, input),
    'metering.BatchMeterUsage': (account, input) => metering.batchMeterUsage(account, input),
    'metering.MeterUsage': (account, input) => metering.meterUsage(account, input),
  };

  /** One API call: counted, signed, passed through the fault plan, answered in the service's format. */
  async function serve(service: Service, operation: string, input: Record<string, unknown> | Error, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const endpoint = `${service}.${operation}`;
    const requestId = state.store.ids.uuid();
    const fail = (error: MarketplaceError) => {
      counters.add(`${endpoint}.${error.type}`);
      const { headers, body } = errorResponse(service, error, requestId);
      return reply.code(error.status).headers(headers).send(body);
    };
    counters.add(endpoint);
    const signature = AUTHORIZATION.exec(String(request.headers.authorization ?? ''));
    if (!request.headers.authorization) return fail(new MarketplaceError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token'));
    if (!signature || !request.headers['x-amz-date']) {
      return fail(new MarketplaceError('IncompleteSignatureException', 403, 'The request must be signed with AWS Signature Version 4 (Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…, and an X-Amz-Date header).'));
    }
    if (signature[2] !== 'aws-marketplace') {
      return fail(new MarketplaceError('InvalidSignatureException', 403, `Credential should be scoped to correct service: 'aws-marketplace', not '${signature[2]}'.`));
    }
    const decision = faults.decide(endpoint);
    if (decision.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.latencyMs));
    if (decision.kind === 'timeout') return hang(request, reply, options.timeoutMs ?? 30_000);
    if (decision.kind === 'rateLimit') return fail(throttled(service));
    if (decision.kind === 'serverError') return fail(serverError(service));
    if (input instanceof Error) return fail(new MarketplaceError('SerializationException', 400, input.message));
    try {
      const body = handlers[endpoint](accounts[signature[1]] ?? SELLER_ACCOUNT_ID, input);
      return reply.code(200).headers({ 'content-type': CONTENT_TYPES[service], 'x-amzn-requestid': requestId }).send(JSON.stringify(body));
    } catch (error) {
      if (error instanceof MarketplaceError) return fail(error);
      console.error('aws-marketplace sandbox:', error);
      return fail(serverError(service));
    }
  }

  const app = Fastify({ logger: false, forceCloseConnections: true });
  // Bodies are parsed by the routes: an awsJson body that is not JSON is the service's SerializationException.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'application/x-amz-json-1.0', 'application/x-amz-json-1.1'], { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const parse = (body: unknown): Record<string, unknown> | Error => {
    if (body === undefined || body === '') return {};
    try {
      const value: unknown = JSON.parse(String(body));
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : new Error('The request body must be a JSON object.');
    } catch {
      return new Error('The request body is not valid JSON.');
    }
  };

  // ---- Catalog (restJson1) ----------------------------------------------------------------------
  type Query = { Querystring: Record<string, string> };
  app.post('/StartChangeSet', (request, reply) => serve('catalog', 'StartChangeSet', parse(request.body), request, reply));
  app.post('/ListEntities', (request, reply) => serve('catalog', 'ListEntities', parse(request.body), request, reply));
  app.get<Query>('/DescribeChangeSet', (request, reply) => serve('catalog', 'DescribeChangeSet', { ...request.query }, request, reply));
  app.get<Query>('/DescribeEntity', (request, reply) => serve('catalog', 'DescribeEntity', { ...request.query }, request, reply));
  app.patch<Query>('/CancelChangeSet', (request, reply) => serve('catalog', 'CancelChangeSet', { ...request.query }, request, reply));

  // ---- Agreement and Metering (awsJson, by X-Amz-Target) -----------------------------------------
  app.post('/', (request, reply) => {
    const [prefix, operation] = String(request.headers['x-amz-target'] ?? '').split('.');
    const target = TARGETS[prefix];
    if (!target) {
      counters.add('unknown');
      return reply.code(400).header('content-type', 'application/x-amz-json-1.1').send({ __type: 'UnknownOperationException', message: 'Requests to / name their operation in X-Amz-Target.' });
    }
    if (!target.operations.includes(operation)) {
      const error = new MarketplaceError('UnknownOperationException', 400, `${operation} is not an operation the sandbox's ${target.service} service serves (${target.operations.join(', ')}).`);
      counters.add(`${target.service}.unknown`);
      const { headers, body } = errorResponse(target.service, error, state.store.ids.uuid());
      return reply.code(400).headers(headers).send(body);
    }
    const contentType = String(request.headers['content-type'] ?? '');
    const input = contentType.startsWith(`application/x-amz-json-${target.version}`) ? parse(request.body) : new Error(`Content-Type must be application/x-amz-json-${target.version}.`);
    return serve(target.service, operation, input, request, reply);
  });

  // ---- control routes: AWS's and the buyer's side (no signature, not counted as API calls) ----------
  const refused = (reply: FastifyReply, error: unknown) => {
    if (error instanceof AcceptanceError) return reply.code(error.status).send({ code: error.code, message: error.message });
    throw error;
  };
  app.post<{ Params: { offerId: string }; Body: string }>('/_sandbox/offers/:offerId/accept', (request, reply) => {
    counters.add('control.accept');
    const body = parse(request.body);
    if (body instanceof Error) return reply.code(400).send({ code: 'INVALID_BODY', message: body.message });
    try {
      const agreement = state.accept(request.params.offerId, String(body.buyerAccountId ?? ''), { selector: body.selector as string | undefined, dimensions: body.dimensions as Record<string, number> | undefined });
      return reply.code(201).send(agreementView(agreement));
    } catch (error) {
      return refused(reply, error);
    }
  });
  app.post<{ Params: { id: string }; Body: string }>('/_sandbox/agreements/:id/cancel', (request, reply) => {
    counters.add('control.cancel');
    try {
      return reply.send(agreementView(agreements.cancel(request.params.id)));
    } catch (error) {
      return refused(reply, error);
    }
  });
  app.post<{ Params: { id: string }; Body: string }>('/_sandbox/agreements/:id/amend', (request, reply) => {
    counters.add('control.amend');
    const body = parse(request.body);
    if (body instanceof Error) return reply.code(400).send({ code: 'INVALID_BODY', message: body.message });
    try {
      return reply.send(agreementView(agreements.amend(request.params.id, { selector: body.selector as string | undefined, dimensions: body.dimensions as Record<string, number> | undefined })));
    } catch (error) {
      return refused(reply, error);
    }
  });
  app.post('/_sandbox/settle', (_request, reply) => {
    state.settle();
    return reply.send({ settled: true });
  });
  app.post<{ Body: string }>('/_sandbox/clock/advance', (request, reply) => {
    const body = parse(request.body);
    const ms = body instanceof Error ? NaN : Number(body.ms);
    if (!Number.isFinite(ms) || ms < 0) return reply.code(400).send({ code: 'INVALID_BODY', message: 'Send {"ms": <milliseconds to move the clock forward>}.' });
    state.advanceClock(ms);
    return reply.send({ now: new Date(state.now()).toISOString() });
  });
  app.get('/_sandbox/events', (_request, reply) => reply.send({ events: events.all }));
  app.get('/_sandbox/products', (_request, reply) => reply.send({
    products: [...state.store.products.values()].map((p) => ({ productId: p.id, productCode: p.productCode, title: p.title, dimensions: p.dimensions })),
  }));

  app.setNotFoundHandler((request, reply) => {
    counters.add('unknown');
    reply.code(404).header('x-amzn-errortype', 'UnknownOperationException').send({ Message: `No operation at ${request.method} ${request.url}.` });
  });

  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    state,
    faults,
    counters,
    events,
    close: async () => {
      catalog.close();
      events.close();
      await app.close();
    },
  };
}

/** What the control routes answer about an agreement. */
function agreementView(agreement: Agreement): Record<string, unknown> {
  return compact({
    agreementId: agreement.id,
    offerId: agreement.offerId,
    productId: agreement.productId,
    acceptor: agreement.acceptor,
    proposer: agreement.proposer,
    intent: agreement.intent,
    status: agreement.status,
    startTime: new Date(agreement.startTime).toISOString(),
    endTime: agreement.endTime === undefined ? undefined : new Date(agreement.endTime).toISOString(),
    estimatedCharges: agreement.estimatedCharges,
  });
}

/** A call that never gets an answer in time: the client gives up (or the sandbox drops it after `ms`). */
async function hang(request: FastifyRequest, reply: FastifyReply, ms: number): Promise<FastifyReply> {
  const socket = request.raw.socket;
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  socket.destroy();
  reply.hijack();
  return reply;
}
