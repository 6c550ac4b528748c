import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Commitment, DrawdownEntry, DrawdownSource, IsoDate } from '../../model/index.js';
import { ROOT } from '../../runtime/paths.js';
import { createCommitment, wakeCommitment } from '../../service/drawdown-control.js';
import { drawdownReport } from '../../service/drawdown-report.js';
import { ANY_ROLE, callerOf, type Role } from '../auth.js';
import { HttpError, problems } from '../problem.js';
import { named } from '../schemas.js';
import { connectionFilter, connectionNamed, NoBody } from './http.js';
import type { OperatorDeps } from './index.js';

/** Who may record commitments and their documents: RevOps and alliance managers. */
const KEEPERS: readonly Role[] = ['admin', 'revops', 'alliance'];
const tags = ['drawdown'];

const CommitmentView = named('Commitment', z.object({ connection: z.string(), commitment: z.record(z.string(), z.unknown()).describe('The canonical Commitment') }));
const Figures = z.object({
  period: z.object({ number: z.number().int(), start: IsoDate, end: IsoDate, amount: z.string() }),
  asOf: IsoDate, committed: z.string(), consumed: z.string(), remaining: z.string(), percentConsumed: z.string(), runRatePerDay: z.string(),
  forecast: z.string(), shortfall: z.string(), ended: z.boolean(), daysElapsed: z.number().int(), daysInPeriod: z.number().int(),
  marketplaceCap: z.object({ percent: z.string(), amount: z.string(), used: z.string(), remaining: z.string() }).optional(),
});
const ReportView = named('DrawdownReport', z.object({
  asOf: IsoDate,
  commitments: z.array(z.object({
    connectionId: z.uuid(),
    commitment: z.record(z.string(), z.unknown()),
    current: Figures,
    periods: z.array(Figures),
    burndown: z.array(z.object({ date: IsoDate, consumed: z.string() })),
    ledger: z.array(DrawdownEntry),
    alerts: z.array(z.object({ key: z.string(), kind: z.string(), message: z.string(), raisedAt: z.string(), sentAt: z.string().nullable() })),
  })),
  partners: z.array(z.object({ partnerId: z.string(), partner: z.string(), currency: z.string(), sourced: z.string(), influenced: z.string(), opportunities: z.number().int() })),
}));
const IdParams = z.object({ id: z.uuid('a commitment id (a UUID)') });
const CreateBody = z.object({ connection: z.string().min(1).describe('The connection the customer is synced in'), commitment: Commitment }).strict();
const ListQuery = z.object({ connection: z.string().min(1).optional(), customer: z.uuid().optional().describe('The customer\'s canonical Account id') }).strict();
const ReportQuery = ListQuery.extend({ asOf: IsoDate.optional().describe('The day the figures are for (today by default)') });
const Reversal = z.object({ document: DrawdownSource.refine((d) => d.kind === 'refund' || d.kind === 'credit-note', { message: 'only refunds and credit notes are entered by hand: the hub reads agreements, invoices and usage itself', path: ['kind'] }) }).strict();

/** POST/GET /commitments, POST /commitments/:id/documents|run, GET /drawdown/report: behind tokens. */
export function drawdownRoutes(app: FastifyInstance, deps: OperatorDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control = { client: deps.client, taskQueue: deps.taskQueue };
  const nameOf = async (connectionId: string) => (await deps.store.connections.get(connectionId))?.name ?? connectionId;

  api.post('/commitments', {
    config: { roles: KEEPERS },
    schema: {
      tags,
      summary: 'Record a customer\'s cloud commitment; its ledger starts, judged daily and whenever an agreement or invoice arrives',
      body: CreateBody,
      response: { 201: CommitmentView.describe('Recorded; its ledger runs'), 200: CommitmentView.describe('A commitment with this id exists already: nothing changed'), ...problems(400, 404, 409) },
    },
  }, async (request, reply) => {
    const connection = await connectionNamed(deps.store, request.body.connection);
    const c = request.body.commitment;
    const existing = await deps.store.commitments.get(c.id);
    if (existing && existing.connectionId !== connection.id) throw new HttpError(409, `commitment ${c.id} belongs to another connection`);
    const { created } = await createCommitment(control, deps.store, connection.id, c);
    const row = (await deps.store.commitments.get(c.id))!;
    return reply.code(created ? 201 : 200).send({ connection: connection.name, commitment: row.commitment });
  });

  api.get('/commitments', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'Commitments, oldest first', querystring: ListQuery, response: { 200: z.object({ commitments: z.array(CommitmentView) }).describe('The commitments'), ...problems(400, 404) } },
  }, async (request) => {
    const connection = await connectionFilter(deps.store, request.query.connection);
    const rows = await deps.store.commitments.list({ connectionId: connection?.id, accountId: request.query.customer });
    return { commitments: await Promise.all(rows.map(async (r) => ({ connection: await nameOf(r.connectionId), commitment: r.commitment }))) };
  });

  api.post('/commitments/:id/documents', {
    config: { roles: KEEPERS },
    schema: {
      tags,
      summary: 'Enter a refund or credit note the hub does not sync; the ledger takes it back from its original',
      params: IdParams,
      body: Reversal,
      response: { 201: z.object({ sourceId: z.string(), added: z.boolean() }).describe('Recorded (added false: a document with this id was entered before; ids are for ever)'), ...problems(400, 404) },
    },
  }, async (request, reply) => {
    const row = await deps.store.commitments.get(request.params.id);
    if (!row) throw new HttpError(404, `no commitment ${request.params.id}`);
    const d = request.body.document;
    const added = await deps.store.commitments.addDocument(row.commitment.id, d, callerOf(request).name);
    if (added) await wakeCommitment(control, row.commitment, { reason: 'document', ref: d.id });
    return reply.code(201).send({ sourceId: d.id, added });
  });

  api.post('/commitments/:id/run', {
    config: { roles: KEEPERS },
    schema: { tags, summary: 'Judge the commitment\'s new documents now', params: IdParams, body: NoBody, response: { 202: z.object({ woken: z.literal(true) }).describe('Its ledger was asked to run'), ...problems(404) } },
  }, async (request, reply) => {
    const row = await deps.store.commitments.get(request.params.id);
    if (!row) throw new HttpError(404, `no commitment ${request.params.id}`);
    await wakeCommitment(control, row.commitment, { reason: 'manual' });
    return reply.code(202).send({ woken: true as const });
  });

  api.get('/drawdown/report', {
    config: { roles: ANY_ROLE },
    schema: {
      tags,
      summary: 'Per commitment: the commitment line, consumed to date, the forecast to period end and the ledger lines behind them; revenue partners sourced or influenced',
      querystring: ReportQuery,
      response: { 200: ReportView.describe('The report'), ...problems(400, 404) },
    },
  }, async (request) => {
    const connection = await connectionFilter(deps.store, request.query.connection);
    return drawdownReport(deps.store, { connectionId: connection?.id, accountId: request.query.customer, asOf: request.query.asOf });
  });
}

const PAGE_DIR = path.join(ROOT, 'src/api/drawdown-page');
/** chart.js from node_modules, served by the API itself: the page needs no CDN. */
const CHART_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');
/** Scripts only from the API itself; the page's data comes from /drawdown/report with the reader's token. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The burn-down page: GET /drawdown and its script, stylesheet and chart.js. They hold no data
 * and answer without a token (like /docs); the page asks for the reader's API token and fetches
 * the report with it. Register outside the operator routes' token guard.
 */
export function drawdownPagePlugin() {
  const files = {
    html: readFileSync(path.join(PAGE_DIR, 'index.html'), 'utf8'),
    js: readFileSync(path.join(PAGE_DIR, 'page.js'), 'utf8'),
    css: readFileSync(path.join(PAGE_DIR, 'page.css'), 'utf8'),
    chart: readFileSync(CHART_JS, 'utf8'),
  };
  const asset = (type: string, body: string, summary: string) => ({
    schema: { tags, summary, response: { 200: { description: summary, content: { [type]: { schema: z.string() } } } } },
    handler: async (_request: unknown, reply: { header(k: string, v: string): unknown; type(t: string): { send(b: string): unknown } }) => {
      reply.header('content-security-policy', PAGE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', 'no-cache');
      return reply.type(type).send(body);
    },
  });
  return async (app: FastifyInstance): Promise<void> => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const html = asset('text/html; charset=utf-8', files.html, 'The burn-down page (asks for an API token; holds no data itself)');
    api.get('/drawdown', { schema: html.schema }, html.handler as never);
    const js = asset('text/javascript; charset=utf-8', files.js, 'The burn-down page\'s script');
    api.get('/drawdown/page.js', { schema: js.schema }, js.handler as never);
    const css = asset('text/css; charset=utf-8', files.css, 'The burn-down page\'s stylesheet');
    api.get('/drawdown/page.css', { schema: css.schema }, css.handler as never);
    const chart = asset('text/javascript; charset=utf-8', files.chart, 'chart.js, served by the hub');
    api.get('/drawdown/chart.umd.js', { schema: chart.schema }, chart.handler as never);
  };
}
