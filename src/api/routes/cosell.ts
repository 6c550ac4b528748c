import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CoSellCloud, CoSellInvolvement, CoSellVisibility, Email } from '../../model/index.js';
import type { CoSellSettings } from '../../runtime/config.js';
import {
  COSELL_LIST_STATUSES, coSellStatus, CoSellRefusal, decideCoSell, listCoSells, parseOpportunityRef, submitCoSell,
  type CoSellControl, type DecisionKind,
} from '../../service/cosell-control.js';
import { actingPerson, ANY_ROLE, callerOf, type Role } from '../auth.js';
import { HttpError, invalid, problems } from '../problem.js';
import { CoSellListItemView, CoSellStatusView, DecisionResultView, SubmitResultView } from '../schemas.js';
import type { AuditAction } from '../../store/index.js';
import { audited } from './audit.js';
import type { OperatorDeps } from './index.js';

/** Alliance managers and admins submit and decide co-sells; every role reads them. */
export const COSELL_DECIDERS: readonly Role[] = ['admin', 'alliance'];

/** The opportunity a co-sell or a private offer is for, as a user names it. */
export const OpportunityInput = z.union([
  z.string().min(1),
  z.object({ system: z.string().min(1), externalId: z.string().min(1), object: z.string().min(1).optional() }).strict(),
], { error: 'an ecosync opportunity id, "<system>:<id>", or { "system": "salesforce", "externalId": "006…" }' });

const SubmitBody = z.object({
  opportunity: OpportunityInput,
  cloud: CoSellCloud,
  connection: z.string().min(1).optional().describe('The connection holding the CRM\'s and the clouds\' credentials; the configured one when absent'),
  requestedBy: Email.optional().describe('The alliance manager; the caller when absent (only an admin may name someone else)'),
  options: z.object({
    solutionIds: z.array(z.string().min(1)).min(1).optional(),
    involvementType: CoSellInvolvement.optional(),
    visibility: CoSellVisibility.optional(),
    primaryNeedsFromAws: z.array(z.string().min(1)).optional(),
    customerUseCase: z.string().min(1).optional(),
    deliveryModels: z.array(z.string().min(1)).optional(),
    salesActivities: z.array(z.string().min(1)).optional(),
  }).strict().optional(),
}).strict();

const ListQuery = z.object({
  cloud: CoSellCloud.optional(),
  status: z.enum(COSELL_LIST_STATUSES as [string, ...string[]]).optional(),
  approver: z.string().min(1).regex(/^[^"\\]+$/, 'an email, without quotes').optional(),
  mine: z.enum(['true', 'false']).optional().describe('The caller\'s own queue: co-sells waiting for the token\'s name'),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
}).strict();

const IdParams = z.object({ id: z.string().min(1).describe('<cloud>:<opportunity or invitation id>, or the full workflow id') });

const DecisionBody = z.object({
  by: z.string().min(1).optional().describe('Who decides; the caller when absent. Only an admin may decide on someone else\'s behalf'),
  comment: z.string().optional(),
  stage: z.string().min(1).optional(),
}).strict();

/** URL segment → the workflow's update. */
const DECISION_ROUTES: Record<string, DecisionKind> = {
  approve: 'approve',
  reject: 'reject',
  'request-changes': 'requestChanges',
  resubmit: 'resubmit',
};

const isEmail = (value: string) => Email.safeParse(value).success;

function asHttp(error: unknown): never {
  if (error instanceof CoSellRefusal) throw new HttpError(error.reason === 'invalid' ? 400 : error.reason === 'not-found' ? 404 : 409, error.message);
  throw error;
}

const tags = ['co-sell'];

/**
 * The service types a co-sell's state as any record, and its list amounts as any currency; what
 * the workflows hold is the canonical co-sell and money, which the response schema checks.
 */
type Answer<S extends z.ZodType> = z.output<S>;

/** POST /cosells, GET /cosells, GET /cosells/:id, POST /cosells/:id/approve|reject|request-changes|resubmit. */
export function coSellRoutes(app: FastifyInstance, deps: OperatorDeps & { cosell: CoSellSettings }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const control: CoSellControl = { client: deps.client, taskQueue: deps.taskQueue, store: deps.store, settings: deps.cosell };

  api.post('/cosells', {
    config: { roles: COSELL_DECIDERS },
    schema: {
      tags,
      summary: 'Share an opportunity ecosync has synced with a cloud\'s co-sell programme, after internal approval',
      body: SubmitBody,
      response: {
        201: SubmitResultView.describe('Started: the co-sell\'s first answer (waiting for approvers, or what the cloud would refuse)'),
        200: SubmitResultView.describe('Already running: returned as it is'),
        ...problems(400, 404, 409),
      },
    },
  }, async (request, reply) => {
    const body = request.body;
    let requestedBy = actingPerson(request, body.requestedBy, 'submit a co-sell');
    if (!isEmail(requestedBy)) {
      // The local admin token has no email: it submits as the configured requester.
      if (callerOf(request).role !== 'admin') throw invalid('body.requestedBy', `the token's name "${requestedBy}" is not an email; name the alliance manager`);
      requestedBy = deps.cosell.requester;
    }
    try {
      const opportunity = typeof body.opportunity === 'string' ? parseOpportunityRef(body.opportunity) : body.opportunity;
      const result = await submitCoSell(control, { connection: body.connection, opportunity, cloud: body.cloud, requestedBy, options: body.options });
      request.log.info({ workflowId: result.workflowId, by: callerOf(request).name, requestedBy, started: result.started }, 'co-sell submit');
      if (result.started) await audited(deps.store, request, { action: 'cosell.submit', subject: result.workflowId, connection: body.connection, person: requestedBy, detail: { cloud: body.cloud } });
      return reply.code(result.started ? 201 : 200).send(result);
    } catch (error) {
      asHttp(error);
    }
  });

  api.get('/cosells', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'Co-sells both ways, newest first; an approver\'s queue', querystring: ListQuery, response: { 200: z.object({ cosells: z.array(CoSellListItemView) }).describe('The co-sells, newest first'), ...problems(400) } },
  }, async (request) => {
    const { mine, ...query } = request.query;
    if (mine === 'true' && query.approver !== undefined) throw invalid('query.mine', 'give approver or mine, not both');
    try {
      const cosells = await listCoSells(control, { ...query, approver: mine === 'true' ? callerOf(request).name : query.approver });
      return { cosells: cosells as Answer<typeof CoSellListItemView>[] };
    } catch (error) {
      asHttp(error);
    }
  });

  api.get('/cosells/:id', {
    config: { roles: ANY_ROLE },
    schema: { tags, summary: 'A co-sell: status, stage, who may decide, the trail', params: IdParams, response: { 200: CoSellStatusView.describe('The co-sell and its state'), ...problems(400, 404) } },
  }, async (request) => {
    try {
      return (await coSellStatus(control, request.params.id)) as Answer<typeof CoSellStatusView>;
    } catch (error) {
      asHttp(error);
    }
  });

  for (const [segment, kind] of Object.entries(DECISION_ROUTES)) {
    api.post(`/cosells/:id/${segment}`, {
      config: { roles: COSELL_DECIDERS },
      schema: {
        tags,
        summary: `${segment[0].toUpperCase()}${segment.slice(1).replace('-', ' ')} a co-sell (the workflow checks that this person may, now)`,
        params: IdParams,
        body: DecisionBody,
        response: { 200: DecisionResultView.describe('Decided: the co-sell\'s state after it'), ...problems(400, 403, 404, 409) },
      },
    }, async (request) => {
      const body = request.body;
      const by = actingPerson(request, body.by, segment.replace('-', ' '));
      let result;
      try {
        result = await decideCoSell(control, request.params.id, kind, { by, comment: body.comment, stage: body.stage });
      } catch (error) {
        asHttp(error);
      }
      await audited(deps.store, request, {
        action: `cosell.${segment}` as AuditAction, subject: result.id, person: by,
        detail: { ...(body.comment !== undefined ? { comment: body.comment } : {}), ...(body.stage !== undefined ? { stage: body.stage } : {}) },
      });
      return result as Answer<typeof DecisionResultView>;
    });
  }
}
