import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DecimalString, Email, Installment, OfferChannel, OfferCloud, OfferDimension, OfferStatus, OfferTerms, PricingModel } from '../../model/index.js';
import type { OfferSettings } from '../../runtime/config.js';
import { CoSellRefusal, parseOpportunityRef } from '../../service/cosell-control.js';
import {
  createOffer, decideOffer, listOffers, OfferRefusal, offerStatus, type OfferControl, type OfferDecisionKind,
} from '../../service/offer-control.js';
import { actingPerson, ANY_ROLE, callerOf } from '../auth.js';
import { HttpError, invalid, problems } from '../problem.js';
import { OfferAnswerView, OfferListItemView } from '../schemas.js';
import { COSELL_DECIDERS, OpportunityInput } from './cosell.js';
import type { AuditAction } from '../../store/index.js';
import { audited } from './audit.js';
import type { OperatorDeps } from './index.js';

/** Who asks for and decides offers: the co-sell deciders (alliance managers and admins); every role reads them. */
export const OFFER_DECIDERS = COSELL_DECIDERS;

const Resale = z.object({
  resellerAccountId: z.string().min(1).describe('The channel partner\'s AWS account id'),
  markupPercent: DecimalString.describe('The reseller\'s markup on the wholesale prices, in percent ("5.0")'),
}).strict();

const CreateBody = z.object({
  opportunity: OpportunityInput,
  cloud: OfferCloud,
  connection: z.string().min(1).optional().describe('The connection holding the CRM\'s, the marketplace\'s and the ERP\'s credentials; the configured one when absent'),
  channel: OfferChannel.optional().describe('direct (the default), or cppo: a channel partner\'s offer under a resale authorization (needs resale)'),
  requestedBy: Email.optional().describe('The alliance manager; the caller when absent (only an admin may name someone else)'),
  pricingModel: PricingModel,
  dimensions: z.array(OfferDimension).min(1).describe('The priced dimensions; listPrice gives the discount the approval policy weighs'),
  paymentSchedule: z.array(Installment).min(1).optional(),
  resale: Resale.optional(),
  terms: OfferTerms.optional().describe('Terms that win over those on the CRM opportunity (product, buyers, term, expiry, EULA)'),
}).strict();

const ListQuery = z.object({
  cloud: OfferCloud.optional(),
  status: OfferStatus.optional(),
  buyer: z.string().min(1).regex(/^[^"\\]+$/, 'a buyer account id, without quotes').optional(),
  approver: z.string().min(1).regex(/^[^"\\]+$/, 'an email, without quotes').optional(),
  mine: z.enum(['true', 'false']).optional().describe('The caller\'s own queue: offers waiting for the token\'s name'),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
}).strict();

const IdParams = z.object({ id: z.string().min(1).describe('<cloud>:<opportunity id>, or the full workflow id offer:<cloud>:<opportunity id>') });

const DecisionBody = z.object({
  by: z.string().min(1).optional().describe('Who decides; the caller when absent. Only an admin may decide on someone else\'s behalf'),
  comment: z.string().optional(),
  stage: z.string().min(1).optional(),
}).strict();

const ResubmitBody = z.object({
  by: z.string().min(1).optional().describe('Who resubmits; the caller when absent'),
  comment: z.string().optional(),
  request: z.object({
    pricingModel: PricingModel.optional(),
    dimensions: z.array(OfferDimension).min(1).optional(),
    paymentSchedule: z.array(Installment).optional(),
    terms: OfferTerms.optional(),
    resale: Resale.optional(),
  }).strict().optional().describe('Replacements for the pricing or terms asked for; the CRM\'s terms are read again either way'),
}).strict();

const WithdrawBody = z.object({
  by: z.string().min(1).optional().describe('Who withdraws; the caller when absent'),
  reason: z.string().min(1).describe('Why, for the trail and the CRM'),
}).strict();

/** URL segment → the workflow's update, its body and what the decision is called in a refusal. */
const DECISIONS: Array<{ segment: string; kind: OfferDecisionKind; body: z.ZodType; summary: string }> = [
  { segment: 'approve', kind: 'approve', body: DecisionBody, summary: 'Approve the offer\'s current approval stage (the workflow checks that this person may, now)' },
  { segment: 'reject', kind: 'reject', body: DecisionBody, summary: 'Reject the offer (a comment is required); it ends' },
  { segment: 'request-changes', kind: 'requestChanges', body: DecisionBody, summary: 'Send the offer back to the alliance manager with what to change (a comment is required)' },
  { segment: 'resubmit', kind: 'resubmit', body: ResubmitBody, summary: 'Send the offer again after changes or a marketplace refusal, the CRM\'s terms read again' },
  { segment: 'withdraw', kind: 'withdraw', body: WithdrawBody, summary: 'Withdraw the offer: before publishing it just ends; a live AWS offer\'s availability ends today' },
];

function asHttp(error: unknown): never {
  if (error instanceof OfferRefusal || error instanceof CoSellRefusal) {
    throw new HttpError(error.reason === 'invalid' ? 400 : error.reason === 'not-found' ? 404 : 409, error.message);
  }
  throw error;
}

const tags = ['private offers'];

/** POST /offers, GET /offers, GET /offers/:id, POST /offers/:id/approve|reject|request-changes|resubmit|withdraw. */
export function offerRoutes(app: FastifyInstance, deps: OperatorDeps & { offers: OfferSettings }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control: OfferControl = { client: deps.client, taskQueue: deps.taskQueue, store: deps.store, policy: deps.offers.policy, timings: deps.offers.timings };

  api.post('/offers', {
    config: { roles: OFFER_DECIDERS },
    schema: {
      tags,
      summary: 'Ask for a private offer on an opportunity ecosync has synced: approved inside first, then published on the marketplace',
      body: CreateBody,
      response: {
        201: OfferAnswerView.describe('Started: the offer\'s first answer (waiting for approvers, or what to fix on the opportunity)'),
        200: OfferAnswerView.describe('Already there: returned as it is'),
        ...problems(400, 404, 409),
      },
    },
  }, async (request, reply) => {
    const body = request.body;
    let requestedBy = actingPerson(request, body.requestedBy, 'ask for an offer');
    if (!Email.safeParse(requestedBy).success) {
      // The local admin token has no email: it asks as the configured requester.
      if (callerOf(request).role !== 'admin') throw invalid('body.requestedBy', `the token's name "${requestedBy}" is not an email; name the alliance manager`);
      requestedBy = deps.cosell.requester;
    }
    try {
      const opportunity = typeof body.opportunity === 'string' ? parseOpportunityRef(body.opportunity) : body.opportunity;
      const { opportunity: _, connection, ...rest } = body;
      const answer = await createOffer(control, { ...rest, opportunity, connection: connection ?? deps.offers.connection, requestedBy });
      request.log.info({ workflowId: answer.id, by: callerOf(request).name, requestedBy, started: answer.started }, 'private offer asked for');
      if (answer.started) await audited(deps.store, request, { action: 'offer.create', subject: answer.id, connection: connection ?? deps.offers.connection, person: requestedBy, detail: { cloud: body.cloud } });
      return reply.code(answer.started ? 201 : 200).send(answer);
    } catch (error) {
      asHttp(error);
    }
  });

  api.get('/offers', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'Private offers, newest first; by cloud, status, buyer; an approver\'s queue', querystring: ListQuery, response: { 200: z.object({ offers: z.array(OfferListItemView) }).describe('The offers, newest first'), ...problems(400) } },
  }, async (request) => {
    const { mine, ...query } = request.query;
    if (mine === 'true' && query.approver !== undefined) throw invalid('query.mine', 'give approver or mine, not both');
    try {
      return { offers: await listOffers(control, { ...query, approver: mine === 'true' ? callerOf(request).name : query.approver }) };
    } catch (error) {
      asHttp(error);
    }
  });

  api.get('/offers/:id', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'A private offer: status, who may decide, the marketplace\'s ids and buyer link, what to fix, the trail', params: IdParams, response: { 200: OfferAnswerView.describe('The offer and its state'), ...problems(400, 404) } },
  }, async (request) => {
    try {
      return await offerStatus(control, request.params.id);
    } catch (error) {
      asHttp(error);
    }
  });

  for (const { segment, kind, body: schema, summary } of DECISIONS) {
    api.post(`/offers/:id/${segment}`, {
      config: { roles: OFFER_DECIDERS },
      schema: {
        tags, summary, params: IdParams, body: schema,
        response: { 200: OfferAnswerView.describe('Done: the offer\'s state after it'), ...problems(400, 403, 404, 409) },
      },
    }, async (request) => {
      const body = request.body as { by?: string; comment?: string; stage?: string; reason?: string; request?: Parameters<typeof decideOffer>[3]['request'] };
      const by = actingPerson(request, body.by, segment.replace('-', ' '));
      let answer;
      try {
        answer = await decideOffer(control, request.params.id, kind, { ...body, by });
      } catch (error) {
        asHttp(error);
      }
      const detail = Object.fromEntries(Object.entries({ comment: body.comment, stage: body.stage, reason: body.reason }).filter(([, v]) => v !== undefined));
      await audited(deps.store, request, { action: `offer.${segment}` as AuditAction, subject: answer.id, person: by, detail });
      return answer;
    });
  }
}
