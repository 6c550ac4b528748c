import { seededRandom } from '../../../src/sandbox/index.js';
import {
  atMost, business, CATALOGS, MAX_SOLUTIONS, matches, oneOf, REQUEST, required,
  type Catalog, type FieldRule,
} from '../rules.js';
import { checkRules, validateCreateOpportunity, validateOpportunityRecord, validateSubmission, type ValidationIssue } from '../validate.js';
import { accessDenied, ApiError, assertValid, conflict, invalid, notFound } from './errors.js';
import { makeInvitation, randomToken, REGION, SANDBOX_ACCOUNT_ID, seedInvitations, seedSolutions, type SeedInvitation, type SeedSolution } from './seed.js';

/**
 * The simulated Partner Central account: opportunities, the AWS review of submitted ones,
 * engagement tasks, solutions and invitations. HTTP-free: the server hands it decoded requests.
 *
 * Time is lazy: every call first brings the state up to `now` (review steps, task completions,
 * invitation expiry), stamping each change with the instant it was due. So the review clock needs
 * no timers and a change is never visible later than its LastModifiedDate says.
 */

export type ReviewOutcome = 'Approved' | 'Rejected' | 'Action Required';
export type ReviewDecision = ReviewOutcome | { status: ReviewOutcome; reason?: string; comments?: string };
/** Decides AWS's review of a submitted opportunity; it sees the opportunity as GetOpportunity returns it. */
export type ReviewRule = (opportunity: Record<string, any>) => ReviewDecision;

export interface StoreOptions {
  seed?: number;
  /** Submitted → In review at half of it, the decision at the end; 0 decides at once. */
  reviewDelayMs?: number;
  reviewOutcome?: ReviewRule;
  /** StartEngagementFromOpportunityTask answers IN_PROGRESS and finishes after this long (0: finished at once). */
  taskDelayMs?: number;
  /** Seeded engagement invitations per catalog (the oldest is expired). */
  invitations?: number;
  /** Seeded partner solutions per catalog (default 3). */
  solutions?: number;
  now?: () => number;
}

interface Opportunity {
  catalog: Catalog;
  id: string;
  createdAt: number;
  modifiedAt: number;
  /** Origin is write-only in the API (GetOpportunity does not return it) but rules need it. */
  origin: string | undefined;
  /** Everything GetOpportunity returns besides ids, dates and related entities. */
  content: Record<string, any>;
  related: Record<string, string[]>;
  review?: { submittedAt: number; inReviewAt: number; decideAt: number };
}

/** What both kinds of engagement task have, and what their List operations filter and sort on. */
interface TaskCommon {
  catalog: Catalog;
  TaskId: string;
  TaskArn: string;
  startedAt: number;
  completeAt: number;
  TaskStatus: 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';
  ResourceSnapshotJobId?: string;
  Message?: string;
  ReasonCode?: string;
}

/** A StartEngagementByAcceptingInvitationTask: accepts the invitation and creates the opportunity. */
interface AcceptTask extends TaskCommon {
  EngagementInvitationId: string;
  OpportunityId?: string;
}

interface Task extends TaskCommon {
  OpportunityId: string;
  outcome: { status: 'COMPLETE' } | { status: 'FAILED'; ReasonCode: string; Message: string };
  EngagementId?: string;
  EngagementInvitationId?: string;
}

/** Fields of a record the partner sends on create and update (Update replaces them all). */
const CONTENT_FIELDS = ['PrimaryNeedsFromAws', 'NationalSecurity', 'PartnerOpportunityIdentifier', 'Customer', 'Project', 'OpportunityType', 'Marketing', 'SoftwareRevenue'] as const;
/** LifeCycle fields that only AWS sets. */
const AWS_LIFECYCLE_FIELDS = ['ReviewStatus', 'ReviewComments', 'ReviewStatusReason', 'NextStepsHistory'] as const;
const LOCKED_STATUSES = new Set(['Submitted', 'In review']);
const OPPORTUNITY_ID = /^O[0-9]{1,19}$/;
const DEFAULT_REASONS: Record<ReviewOutcome, string | undefined> = {
  Approved: undefined,
  Rejected: 'Opportunity does not meet the co-sell criteria',
  'Action Required': 'Additional information required',
};

const iso = (ms: number) => new Date(ms).toISOString();
const clone = <T>(value: T): T => (value === undefined ? value : structuredClone(value));

export class PartnerCentralStore {
  readonly random: () => number;
  reviewDelayMs: number;
  reviewOutcome: ReviewRule;
  taskDelayMs: number;
  readonly now: () => number;
  private nextOpportunityNumber: number;
  private opportunities = new Map<string, Opportunity>();
  private tasks = new Map<string, Task>();
  private invitations = new Map<string, SeedInvitation>();
  /** Invitation (catalog/id) → the opportunity accepting it created in the partner's catalog. */
  private acceptedOpportunities = new Map<string, string>();
  private acceptTasks = new Map<string, AcceptTask>();
  private solutions = new Map<string, SeedSolution>();
  /** ClientToken → (request fingerprint, response): a retried request gets the first answer. */
  private idempotency = new Map<string, { fingerprint: string; response: unknown }>();

  constructor(options: StoreOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.reviewDelayMs = options.reviewDelayMs ?? 0;
    this.reviewOutcome = options.reviewOutcome ?? (() => 'Approved');
    this.taskDelayMs = options.taskDelayMs ?? 0;
    this.now = options.now ?? Date.now;
    this.nextOpportunityNumber = 1_000_000 + Math.floor(this.random() * 8_000_000);
    const start = this.now();
    for (const catalog of CATALOGS) {
      for (const s of seedSolutions(catalog, options.solutions ?? 3, start)) this.solutions.set(`${catalog}/${s.Id}`, s);
      for (const i of seedInvitations(this.random, catalog, options.invitations ?? 4, start)) this.invitations.set(`${catalog}/${i.Id}`, i);
    }
  }

  /** Runs one operation. `catalogs` are those the caller's credentials may use. */
  handle(operation: string, input: Record<string, any>, catalogs: readonly Catalog[] = CATALOGS): unknown {
    const now = this.now();
    this.advance(now);
    const handler = this.operations[operation];
    if (!handler) throw new ApiError('UnknownOperationException', 400, `The sandbox does not implement ${operation}.`);
    return handler(input ?? {}, now, catalogs);
  }

  private operations: Record<string, (input: Record<string, any>, now: number, catalogs: readonly Catalog[]) => unknown> = {
    CreateOpportunity: (input, now, catalogs) => {
      checkCatalog(input, catalogs, validateCreateOpportunity(input as never, { now: new Date(now) }));
      return this.idempotent(`CreateOpportunity/${input.Catalog}`, input, () => {
        assertValid(validateCreateOpportunity(input as never, { now: new Date(now) }));
        const id = `O${this.nextOpportunityNumber++}`;
        const opportunity: Opportunity = {
          catalog: input.Catalog, id, createdAt: now, modifiedAt: now, origin: input.Origin,
          content: {
            ...pick(input, CONTENT_FIELDS),
            OpportunityTeam: clone(input.OpportunityTeam),
            LifeCycle: { ...partnerLifeCycle(input.LifeCycle), Stage: input.LifeCycle?.Stage ?? 'Prospect', ReviewStatus: 'Pending Submission' },
          },
          related: { Solutions: [], AwsProducts: [], AwsMarketplaceOffers: [] },
        };
        this.opportunities.set(key(input.Catalog, id), opportunity);
        return { Id: id, PartnerOpportunityIdentifier: input.PartnerOpportunityIdentifier, LastModifiedDate: iso(now) };
      });
    },

    GetOpportunity: (input, _now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(IDENTIFIED, input));
      return this.view(this.opportunity(input.Catalog, input.Identifier));
    },

    UpdateOpportunity: (input, now, catalogs) => {
      checkCatalog(input, catalogs, checkRules([...IDENTIFIED, required('LastModifiedDate', REQUEST)], input));
      const o = this.opportunity(input.Catalog, input.Identifier);
      assertEditable(o);
      const sent = Date.parse(input.LastModifiedDate);
      if (sent !== o.modifiedAt) {
        throw conflict(`Opportunity ${o.id} was modified at ${iso(o.modifiedAt)}, after the LastModifiedDate sent (${input.LastModifiedDate}). Read it again and resend the update.`);
      }
      const current = o.content.LifeCycle ?? {};
      const lifeCycle: Record<string, any> = { ...partnerLifeCycle(input.LifeCycle), ...pick(current, AWS_LIFECYCLE_FIELDS) };
      const record = { Catalog: o.catalog, Origin: o.origin, ...pick(input, CONTENT_FIELDS), LifeCycle: lifeCycle };
      assertValid(validateOpportunityRecord(record, { now: new Date(now) }));
      if (lifeCycle.NextSteps && lifeCycle.NextSteps !== current.NextSteps) {
        lifeCycle.NextStepsHistory = [...(current.NextStepsHistory ?? []), { Value: lifeCycle.NextSteps, Time: iso(now) }];
      }
      o.content = { ...pick(input, CONTENT_FIELDS), OpportunityTeam: o.content.OpportunityTeam, LifeCycle: lifeCycle };
      touch(o, now);
      // Fixing what AWS asked for sends the opportunity back into review.
      if (lifeCycle.ReviewStatus === 'Action Required') this.submitForReview(o, now);
      return { Id: o.id, LastModifiedDate: iso(o.modifiedAt) };
    },

    ListOpportunities: (input, _now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(LIST_RULES, input));
      const f = input;
      const inRange = (value: number | string | undefined, after?: string | number, before?: string | number) =>
        value !== undefined && (after === undefined || value >= after) && (before === undefined || value < before);
      const lmd = f.LastModifiedDate ?? {};
      const created = f.CreatedDate ?? {};
      const close = f.TargetCloseDate ?? {};
      const matches = [...this.opportunities.values()].filter((o) => {
        const lc = o.content.LifeCycle ?? {};
        return o.catalog === f.Catalog
          && (!f.Identifier?.length || f.Identifier.includes(o.id))
          && (!f.LifeCycleStage?.length || f.LifeCycleStage.includes(lc.Stage))
          && (!f.LifeCycleReviewStatus?.length || f.LifeCycleReviewStatus.includes(lc.ReviewStatus))
          && (!f.CustomerCompanyName?.length || f.CustomerCompanyName.some((n: string) => n.toLowerCase() === String(o.content.Customer?.Account?.CompanyName ?? '').toLowerCase()))
          && (lmd.AfterLastModifiedDate === undefined && lmd.BeforeLastModifiedDate === undefined
            || inRange(o.modifiedAt, parseDate(lmd.AfterLastModifiedDate), parseDate(lmd.BeforeLastModifiedDate)))
          && (created.AfterCreatedDate === undefined && created.BeforeCreatedDate === undefined
            || inRange(o.createdAt, parseDate(created.AfterCreatedDate), parseDate(created.BeforeCreatedDate)))
          && (close.AfterTargetCloseDate === undefined && close.BeforeTargetCloseDate === undefined
            || inRange(lc.TargetCloseDate, close.AfterTargetCloseDate, close.BeforeTargetCloseDate));
      });
      const sortBy: string = f.Sort?.SortBy ?? 'LastModifiedDate';
      const sortKey = (o: Opportunity): string | number => ({
        CreatedDate: o.createdAt, LastModifiedDate: o.modifiedAt, Identifier: Number(o.id.slice(1)),
        CustomerCompanyName: String(o.content.Customer?.Account?.CompanyName ?? ''), TargetCloseDate: String(o.content.LifeCycle?.TargetCloseDate ?? ''),
      } as Record<string, string | number>)[sortBy];
      sortItems(matches, sortKey, f.Sort?.SortOrder ?? 'DESCENDING', (o) => Number(o.id.slice(1)));
      const { items, NextToken } = paginate(matches, f);
      return { OpportunitySummaries: items.map((o) => this.summary(o)), NextToken };
    },

    AssociateOpportunity: (input, now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(ASSOCIATE_RULES, input));
      const o = this.opportunity(input.Catalog, input.OpportunityIdentifier);
      assertEditable(o);
      const type: string = input.RelatedEntityType;
      const entity: string = input.RelatedEntityIdentifier;
      if (type === 'Solutions' && !this.solutions.has(key(o.catalog, entity))) throw notFound(`Solution ${entity} was not found in catalog ${o.catalog}.`);
      const list = (o.related[type] ??= []);
      const after = [...list, entity];
      assertValid(checkRules([
        business('RelatedEntityIdentifier', 'DUPLICATE_KEY_VALUE', `${entity} is already associated with ${o.id}.`, () => !list.includes(entity)),
        { ...atMost('RelatedEntityIdentifiers.Solutions', MAX_SOLUTIONS), phase: 'BUSINESS_VALIDATION_FAILED' },
      ], { RelatedEntityIdentifier: entity, RelatedEntityIdentifiers: { Solutions: type === 'Solutions' ? after : [] } }));
      list.push(entity);
      touch(o, now);
      return {};
    },

    StartEngagementFromOpportunityTask: (input, now, catalogs) => {
      checkCatalog(input, catalogs, checkRules([...IDENTIFIED, required('AwsSubmission', REQUEST)], input));
      return this.idempotent(`StartEngagementFromOpportunityTask/${input.Catalog}`, input, () => {
        const o = this.opportunity(input.Catalog, input.Identifier);
        const issues = validateSubmission(this.view(o), input.AwsSubmission, { now: new Date(now) });
        const requestIssues = issues.filter((i) => i.phase === REQUEST);
        if (requestIssues.length > 0) throw invalid(requestIssues);
        const taskId = `task-${randomToken(this.random, 13)}`;
        const task: Task = {
          catalog: o.catalog, TaskId: taskId, TaskArn: `arn:aws:partnercentral:${REGION}:${SANDBOX_ACCOUNT_ID}:catalog/${o.catalog}/engagement-from-opportunity-task/${taskId}`,
          startedAt: now, completeAt: now + this.taskDelayMs, TaskStatus: 'IN_PROGRESS', OpportunityId: o.id,
          outcome: issues.length === 0 ? { status: 'COMPLETE' } : {
            status: 'FAILED',
            ReasonCode: issues.some((i) => i.code === 'INVALID_RESOURCE_STATE') ? 'OpportunitySubmissionFailed' : 'OpportunityValidationFailed',
            Message: issues.map((i) => `${i.field}: ${i.message}`).join(' '),
          },
        };
        this.tasks.set(taskId, task);
        if (this.taskDelayMs === 0) this.finishTask(task, now);
        return this.taskView(task);
      });
    },

    /** The direct way to submit (no engagement task): same rules, answered at once. */
    SubmitOpportunity: (input, now, catalogs) => {
      checkCatalog(input, catalogs, checkRules([...IDENTIFIED, required('InvolvementType', REQUEST)], input));
      const o = this.opportunity(input.Catalog, input.Identifier);
      assertValid(validateSubmission(this.view(o), { InvolvementType: input.InvolvementType, Visibility: input.Visibility }, { now: new Date(now) })
        .map((i) => ({ ...i, field: i.field.replace(/^AwsSubmission\./, '') })));
      this.submitForReview(o, now);
      return {};
    },

    ListEngagementFromOpportunityTasks: (input, _now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(LIST_RULES, input));
      const f = input;
      return listTasks(this.tasks.values(), f, (t) => this.taskView(t), (t) =>
        (!f.OpportunityIdentifier?.length || f.OpportunityIdentifier.includes(t.OpportunityId))
        && (!f.EngagementIdentifier?.length || (t.EngagementId !== undefined && f.EngagementIdentifier.includes(t.EngagementId))));
    },

    ListSolutions: (input, _now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(LIST_RULES, input));
      const found = [...this.solutions.values()].filter((s) => s.Catalog === input.Catalog
        && (!input.Identifier?.length || input.Identifier.includes(s.Id))
        && (!input.Status?.length || input.Status.includes(s.Status))
        && (!input.Category?.length || input.Category.includes(s.Category)));
      const { items, NextToken } = paginate(found, input);
      return {
        SolutionSummaries: items.map((s) => ({ ...s, CreatedDate: iso(s.CreatedDate), Arn: `arn:aws:partnercentral:${REGION}:${SANDBOX_ACCOUNT_ID}:catalog/${s.Catalog}/solution/${s.Id}` })),
        NextToken,
      };
    },

    ListEngagementInvitations: (input, _now, catalogs) => {
      checkCatalog(input, catalogs, checkRules([...LIST_RULES, required('ParticipantType', REQUEST), oneOf('ParticipantType', ['RECEIVER', 'SENDER'])], input));
      const f = input;
      // Every seeded invitation was sent by AWS to this account.
      const found = f.ParticipantType === 'SENDER' ? [] : [...this.invitations.values()].filter((i) => i.Catalog === f.Catalog
        && (!f.Status?.length || f.Status.includes(i.Status))
        && (!f.PayloadType?.length || f.PayloadType.includes(i.PayloadType))
        && (!f.EngagementIdentifier?.length || f.EngagementIdentifier.includes(i.EngagementId))
        && (!f.SenderAwsAccountId?.length || f.SenderAwsAccountId.includes(i.SenderAwsAccountId)));
      sortItems(found, (i) => i.InvitationDate, f.Sort?.SortOrder ?? 'DESCENDING', (i) => i.Id);
      const { items, NextToken } = paginate(found, f);
      return { EngagementInvitationSummaries: items.map((i) => invitationSummary(i)), NextToken };
    },

    GetEngagementInvitation: (input, _now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(INVITATION_RULES, input));
      const i = this.invitation(input.Catalog, input.Identifier);
      return {
        ...invitationSummary(i), InvitationMessage: i.InvitationMessage, RejectionReason: i.RejectionReason, Payload: clone(i.Payload),
        EngagementDescription: `Co-sell engagement for ${i.EngagementTitle}`,
      };
    },

    AcceptEngagementInvitation: (input, now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(INVITATION_RULES, input));
      this.answerInvitation(input.Catalog, input.Identifier, 'ACCEPTED', undefined, now);
      return {};
    },

    /**
     * The way AWS recommends to accept an opportunity invitation: one task accepts it, creates
     * the opportunity in the partner's catalog from the invitation and reports its id.
     * Idempotent by ClientToken.
     */
    StartEngagementByAcceptingInvitationTask: (input, now, catalogs) => {
      checkCatalog(input, catalogs, checkRules([...INVITATION_RULES, required('ClientToken', REQUEST)], input));
      return this.idempotent(`StartEngagementByAcceptingInvitationTask/${input.Catalog}`, input, () => {
        this.assertAnswerable(this.invitation(input.Catalog, input.Identifier));
        const taskId = `task-${randomToken(this.random, 13)}`;
        const task: AcceptTask = {
          catalog: input.Catalog, TaskId: taskId, TaskArn: `arn:aws:partnercentral:${REGION}:${SANDBOX_ACCOUNT_ID}:catalog/${input.Catalog}/engagement-by-accepting-invitation-task/${taskId}`,
          startedAt: now, completeAt: now + this.taskDelayMs, TaskStatus: 'IN_PROGRESS', EngagementInvitationId: input.Identifier,
        };
        this.acceptTasks.set(taskId, task);
        if (this.taskDelayMs === 0) this.finishAcceptTask(task, now);
        return acceptTaskView(task);
      });
    },

    ListEngagementByAcceptingInvitationTasks: (input, _now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(LIST_RULES, input));
      const f = input;
      return listTasks(this.acceptTasks.values(), f, acceptTaskView, (t) =>
        (!f.EngagementInvitationIdentifier?.length || f.EngagementInvitationIdentifier.includes(t.EngagementInvitationId))
        && (!f.OpportunityIdentifier?.length || (t.OpportunityId !== undefined && f.OpportunityIdentifier.includes(t.OpportunityId))));
    },

    RejectEngagementInvitation: (input, now, catalogs) => {
      checkCatalog(input, catalogs, checkRules(INVITATION_RULES, input));
      this.answerInvitation(input.Catalog, input.Identifier, 'REJECTED', input.RejectionReason, now);
      return {};
    },
  };

  // --- AWS's side, for tests and demos -------------------------------------------------------

  /** The opportunity as GetOpportunity returns it. */
  get(id: string, catalog: Catalog = 'Sandbox'): Record<string, any> | undefined {
    this.advance(this.now());
    const o = this.opportunities.get(key(catalog, id));
    return o && this.view(o);
  }

  list(catalog: Catalog = 'Sandbox'): Record<string, any>[] {
    this.advance(this.now());
    return [...this.opportunities.values()].filter((o) => o.catalog === catalog).map((o) => this.view(o));
  }

  /** An edit made by AWS (a stage move, a comment, a new close date): bumps LastModifiedDate. */
  awsEdit(id: string, edit: Record<string, unknown>, catalog: Catalog = 'Sandbox'): string {
    const now = this.now();
    this.advance(now);
    const o = this.opportunities.get(key(catalog, id));
    if (!o) throw new Error(`no opportunity ${id} in ${catalog}`);
    o.content.LifeCycle = { ...o.content.LifeCycle, ...edit };
    touch(o, now);
    return iso(o.modifiedAt);
  }

  /** Ends a pending review now, with this decision or the configured rule's. */
  finishReview(id: string, decision?: ReviewDecision, catalog: Catalog = 'Sandbox'): void {
    const now = this.now();
    this.advance(now);
    const o = this.opportunities.get(key(catalog, id));
    if (!o?.review) throw new Error(`opportunity ${id} is not under review`);
    this.decide(o, now, decision);
  }

  /** A new PENDING invitation from AWS, as if it just arrived; returns its id. */
  addInvitation(overrides: Partial<SeedInvitation> = {}, catalog: Catalog = 'Sandbox'): string {
    const now = this.now();
    const invitation = makeInvitation(this.random, catalog, this.invitations.size + 1, now, { InvitationDate: now, ExpirationDate: now + 15 * 86_400_000, ...overrides });
    this.invitations.set(key(catalog, invitation.Id), invitation);
    return invitation.Id;
  }

  invitationStatus(id: string, catalog: Catalog = 'Sandbox'): string | undefined {
    this.advance(this.now());
    return this.invitations.get(key(catalog, id))?.Status;
  }

  // --- internals -----------------------------------------------------------------------------

  private opportunity(catalog: Catalog, id: string): Opportunity {
    const o = this.opportunities.get(key(catalog, id));
    if (!o) throw notFound(`Opportunity ${id} was not found in catalog ${catalog}.`);
    return o;
  }

  private invitation(catalog: Catalog, id: string): SeedInvitation {
    const i = this.invitations.get(key(catalog, id));
    if (!i) throw notFound(`Engagement invitation ${id} was not found in catalog ${catalog}.`);
    return i;
  }

  /** The opportunity accepting this invitation created in the partner's catalog. */
  acceptedOpportunity(invitationId: string, catalog: Catalog = 'Sandbox'): Record<string, any> | undefined {
    const id = this.acceptedOpportunities.get(key(catalog, invitationId));
    return id === undefined ? undefined : this.get(id, catalog);
  }

  private assertAnswerable(i: SeedInvitation): void {
    if (i.Status === 'EXPIRED') {
      throw invalid([{ field: 'Identifier', code: 'INVALID_RESOURCE_STATE', message: `Invitation ${i.Id} expired on ${iso(i.ExpirationDate)}.`, phase: 'BUSINESS_VALIDATION_FAILED' }]);
    }
    if (i.Status !== 'PENDING') throw conflict(`Invitation ${i.Id} is already ${i.Status}.`);
  }

  private answerInvitation(catalog: Catalog, id: string, status: 'ACCEPTED' | 'REJECTED', reason: string | undefined, now: number): void {
    const i = this.invitation(catalog, id);
    this.assertAnswerable(i);
    i.Status = status;
    if (reason) i.RejectionReason = reason;
    // Accepting an opportunity invitation puts AWS's opportunity in the partner's catalog.
    if (status === 'ACCEPTED') this.opportunityFromInvitation(i, now);
  }

  private finishAcceptTask(task: AcceptTask, at: number): void {
    const i = this.invitation(task.catalog, task.EngagementInvitationId);
    if (i.Status !== 'PENDING') {
      Object.assign(task, {
        TaskStatus: 'FAILED', ReasonCode: i.Status === 'EXPIRED' ? 'InvitationValidationFailed' : 'EngagementInvitationConflict',
        Message: `Invitation ${i.Id} is ${i.Status}.`,
      });
      return;
    }
    i.Status = 'ACCEPTED';
    const opportunityId = this.opportunityFromInvitation(i, at);
    Object.assign(task, { TaskStatus: 'COMPLETE', OpportunityId: opportunityId, ResourceSnapshotJobId: `job-${randomToken(this.random, 13)}` });
  }

  /** AWS's opportunity as the partner's catalog shows it after acceptance: Origin AWS Referral, already approved. */
  private opportunityFromInvitation(i: SeedInvitation, at: number): string {
    const payload = i.Payload.OpportunityInvitation as Record<string, any>;
    const customer = payload.Customer ?? {};
    const project = payload.Project ?? {};
    const id = `O${this.nextOpportunityNumber++}`;
    this.opportunities.set(key(i.Catalog, id), {
      catalog: i.Catalog, id, createdAt: at, modifiedAt: at, origin: 'AWS Referral',
      content: dropUndefined({
        OpportunityType: 'Net New Business',
        Customer: { Account: { CompanyName: customer.CompanyName, Industry: customer.Industry, WebsiteUrl: customer.WebsiteUrl, Address: { CountryCode: customer.CountryCode } } },
        Project: { Title: project.Title, CustomerBusinessProblem: project.BusinessProblem, ExpectedCustomerSpend: clone(project.ExpectedCustomerSpend) },
        LifeCycle: { Stage: 'Prospect', TargetCloseDate: project.TargetCompletionDate, ReviewStatus: 'Approved' },
      }),
      related: { Solutions: [], AwsProducts: [], AwsMarketplaceOffers: [] },
    });
    this.acceptedOpportunities.set(key(i.Catalog, i.Id), id);
    return id;
  }

  private idempotent(scope: string, input: Record<string, any>, run: () => unknown): unknown {
    if (!input.ClientToken) return run();
    const tokenKey = `${scope}/${input.ClientToken}`;
    const fingerprint = stableStringify(input);
    const seen = this.idempotency.get(tokenKey);
    if (seen) {
      if (seen.fingerprint !== fingerprint) throw conflict('Conflicting client token submitted for a new request body.');
      return seen.response;
    }
    const response = run();
    this.idempotency.set(tokenKey, { fingerprint, response });
    return response;
  }

  private advance(now: number): void {
    for (const task of this.tasks.values()) {
      if (task.TaskStatus === 'IN_PROGRESS' && task.completeAt <= now) this.finishTask(task, task.completeAt);
    }
    for (const o of this.opportunities.values()) {
      const r = o.review;
      if (!r) continue;
      if (o.content.LifeCycle.ReviewStatus === 'Submitted' && r.inReviewAt <= now && r.inReviewAt < r.decideAt) {
        o.content.LifeCycle.ReviewStatus = 'In review';
        touch(o, r.inReviewAt);
      }
      if (r.decideAt <= now) this.decide(o, r.decideAt);
    }
    for (const task of this.acceptTasks.values()) {
      if (task.TaskStatus === 'IN_PROGRESS' && task.completeAt <= now) this.finishAcceptTask(task, task.completeAt);
    }
    for (const i of this.invitations.values()) {
      if (i.Status === 'PENDING' && i.ExpirationDate <= now) i.Status = 'EXPIRED';
    }
  }

  private finishTask(task: Task, at: number): void {
    const o = this.opportunity(task.catalog, task.OpportunityId);
    if (task.outcome.status === 'FAILED') {
      Object.assign(task, { TaskStatus: 'FAILED', ReasonCode: task.outcome.ReasonCode, Message: task.outcome.Message });
      return;
    }
    Object.assign(task, {
      TaskStatus: 'COMPLETE',
      EngagementId: `eng-${randomToken(this.random, 13)}`,
      EngagementInvitationId: `engi-${randomToken(this.random, 13)}`,
      ResourceSnapshotJobId: `job-${randomToken(this.random, 13)}`,
    });
    this.submitForReview(o, at);
  }

  private submitForReview(o: Opportunity, at: number): void {
    o.content.LifeCycle = { ...o.content.LifeCycle, ReviewStatus: 'Submitted', ReviewStatusReason: undefined, ReviewComments: undefined };
    touch(o, at);
    // The clock runs from the submission instant, whatever LastModifiedDate tie-breaking did.
    o.review = { submittedAt: at, inReviewAt: at + Math.floor(this.reviewDelayMs / 2), decideAt: at + this.reviewDelayMs };
    if (this.reviewDelayMs === 0) this.decide(o, at);
  }

  private decide(o: Opportunity, at: number, forced?: ReviewDecision): void {
    o.review = undefined;
    const d = forced ?? this.reviewOutcome(this.view(o));
    const decision = typeof d === 'string' ? { status: d } : d;
    o.content.LifeCycle = {
      ...o.content.LifeCycle,
      ReviewStatus: decision.status,
      ReviewStatusReason: decision.status === 'Approved' ? undefined : decision.reason ?? DEFAULT_REASONS[decision.status],
      ReviewComments: decision.comments,
    };
    touch(o, at);
  }

  private view(o: Opportunity): Record<string, any> {
    return dropUndefined({
      Catalog: o.catalog,
      Id: o.id,
      Arn: `arn:aws:partnercentral:${REGION}:${SANDBOX_ACCOUNT_ID}:catalog/${o.catalog}/opportunity/${o.id}`,
      ...clone(o.content),
      LastModifiedDate: iso(o.modifiedAt),
      CreatedDate: iso(o.createdAt),
      RelatedEntityIdentifiers: clone(o.related),
    });
  }

  private summary(o: Opportunity): Record<string, any> {
    const c = o.content;
    const account = c.Customer?.Account;
    return dropUndefined({
      Catalog: o.catalog, Id: o.id, Arn: `arn:aws:partnercentral:${REGION}:${SANDBOX_ACCOUNT_ID}:catalog/${o.catalog}/opportunity/${o.id}`,
      PartnerOpportunityIdentifier: c.PartnerOpportunityIdentifier, OpportunityType: c.OpportunityType,
      LastModifiedDate: iso(o.modifiedAt), CreatedDate: iso(o.createdAt),
      LifeCycle: pick(c.LifeCycle ?? {}, ['Stage', 'ClosedLostReason', 'NextSteps', 'TargetCloseDate', 'ReviewStatus', 'ReviewComments', 'ReviewStatusReason']),
      Customer: account && { Account: pick(account, ['Industry', 'OtherIndustry', 'CompanyName', 'WebsiteUrl', 'Address']) },
      Project: c.Project && pick(c.Project, ['DeliveryModels', 'ExpectedCustomerSpend', 'ExpectedContractDuration']),
    });
  }

  private taskView(t: Task): Record<string, unknown> {
    return dropUndefined({
      TaskId: t.TaskId, TaskArn: t.TaskArn, StartTime: iso(t.startedAt), TaskStatus: t.TaskStatus, Message: t.Message, ReasonCode: t.ReasonCode,
      OpportunityId: t.OpportunityId, ResourceSnapshotJobId: t.ResourceSnapshotJobId, EngagementId: t.EngagementId, EngagementInvitationId: t.EngagementInvitationId,
    });
  }
}

// --- request rules that are not about opportunity content ------------------------------------

const IDENTIFIED: FieldRule[] = [
  required('Catalog', REQUEST), oneOf('Catalog', CATALOGS),
  required('Identifier', REQUEST), matches('Identifier', OPPORTUNITY_ID, 'an opportunity id such as O1234567'),
];
const LIST_RULES: FieldRule[] = [
  required('Catalog', REQUEST), oneOf('Catalog', CATALOGS),
  {
    field: 'MaxResults', code: 'VALUE_OUT_OF_RANGE', phase: REQUEST, message: 'MaxResults must be an integer from 1 to 100.',
    ok: (v) => Number.isInteger(v) && v >= 1 && v <= 100,
  },
  oneOf('Sort.SortOrder', ['ASCENDING', 'DESCENDING']),
  oneOf('Sort.SortBy', ['CreatedDate', 'CustomerCompanyName', 'Identifier', 'LastModifiedDate', 'TargetCloseDate', 'InvitationDate', 'StartTime']),
];
const ASSOCIATE_RULES: FieldRule[] = [
  required('Catalog', REQUEST), oneOf('Catalog', CATALOGS),
  required('OpportunityIdentifier', REQUEST), matches('OpportunityIdentifier', OPPORTUNITY_ID, 'an opportunity id such as O1234567'),
  required('RelatedEntityType', REQUEST), oneOf('RelatedEntityType', ['Solutions', 'AwsProducts', 'AwsMarketplaceOffers']),
  required('RelatedEntityIdentifier', REQUEST),
  { ...matches('RelatedEntityIdentifier', /^S-[0-9]{1,19}$/, 'a solution id such as S-0000001'), when: (ctx) => ctx.subject.RelatedEntityType === 'Solutions' },
  { ...matches('RelatedEntityIdentifier', /^offer-[a-z0-9]{1,64}$/, 'a marketplace offer id such as offer-abc123'), when: (ctx) => ctx.subject.RelatedEntityType === 'AwsMarketplaceOffers' },
];
const INVITATION_RULES: FieldRule[] = [
  required('Catalog', REQUEST), oneOf('Catalog', CATALOGS),
  required('Identifier', REQUEST), matches('Identifier', /^engi-[0-9a-z]{1,40}$/, 'an invitation id such as engi-0123456789abc'),
];

/** Request validation first; then the caller's credentials must reach the catalog. */
function checkCatalog(input: Record<string, any>, catalogs: readonly Catalog[], issues: ValidationIssue[]): void {
  const requestIssues = issues.filter((i) => i.phase === REQUEST);
  if (requestIssues.length > 0) throw invalid(requestIssues);
  if (!catalogs.includes(input.Catalog)) throw accessDenied(`These credentials do not have access to the ${input.Catalog} catalog.`);
}

function assertEditable(o: Opportunity): void {
  const status = o.content.LifeCycle?.ReviewStatus;
  if (LOCKED_STATUSES.has(status) || status === 'Rejected') {
    // Under review is temporary (retry after the decision); Rejected is final.
    throw invalid([{
      field: 'LifeCycle.ReviewStatus', code: status === 'Rejected' ? 'ACTION_NOT_PERMITTED' : 'INVALID_RESOURCE_STATE', phase: 'BUSINESS_VALIDATION_FAILED',
      message: status === 'Rejected'
        ? `Opportunity ${o.id} was rejected by AWS and is read-only.`
        : `Opportunity ${o.id} is ${status}: AWS is reviewing it and it cannot be changed until the review ends.`,
    }]);
  }
}

function partnerLifeCycle(lifeCycle: Record<string, any> | undefined): Record<string, any> {
  const copy = { ...clone(lifeCycle ?? {}) };
  for (const f of AWS_LIFECYCLE_FIELDS) delete copy[f];
  return copy;
}

function touch(o: Opportunity, at: number): void {
  // Strictly increasing, so a LastModifiedDate read before a change never matches after it.
  o.modifiedAt = Math.max(at, o.modifiedAt + 1);
}

function key(catalog: string, id: string): string {
  return `${catalog}/${id}`;
}

function pick(source: Record<string, any>, fields: readonly string[]): Record<string, any> {
  const out: Record<string, any> = {};
  for (const f of fields) if (source[f] !== undefined) out[f] = clone(source[f]);
  return out;
}

function dropUndefined<T extends Record<string, any>>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function parseDate(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Date.parse(value);
}

function sortItems<T>(items: T[], by: (item: T) => string | number, order: string, tie: (item: T) => string | number): void {
  const sign = order === 'ASCENDING' ? 1 : -1;
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  items.sort((a, b) => sign * (cmp(by(a), by(b)) || cmp(tie(a), tie(b))));
}

/** Offset paging with an opaque NextToken, MaxResults 1..100 (default 20) as the list operations have it. */
function paginate<T>(items: T[], input: { MaxResults?: number; NextToken?: string }): { items: T[]; NextToken?: string } {
  let offset = 0;
  if (input.NextToken !== undefined) {
    try {
      offset = JSON.parse(Buffer.from(input.NextToken, 'base64url').toString('utf8')).offset;
    } catch {
      offset = NaN;
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw invalid([{ field: 'NextToken', code: 'INVALID_VALUE', message: 'NextToken is not one this API returned.', phase: REQUEST }]);
    }
  }
  const size = input.MaxResults ?? 20;
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    NextToken: end < items.length ? Buffer.from(JSON.stringify({ offset: end })).toString('base64url') : undefined,
  };
}

/** A List*Tasks answer: the catalog's tasks by status, id and `matches`, newest first unless asked otherwise, one page. */
function listTasks<T extends TaskCommon>(
  tasks: Iterable<T>, f: Record<string, any>, view: (t: T) => Record<string, unknown>, matches: (t: T) => boolean,
): { TaskSummaries: Record<string, unknown>[]; NextToken?: string } {
  const found = [...tasks].filter((t) => t.catalog === f.Catalog
    && (!f.TaskStatus?.length || f.TaskStatus.includes(t.TaskStatus))
    && (!f.TaskIdentifier?.length || f.TaskIdentifier.includes(t.TaskId) || f.TaskIdentifier.includes(t.TaskArn))
    && matches(t));
  sortItems(found, (t) => t.startedAt, f.Sort?.SortOrder ?? 'DESCENDING', (t) => t.TaskId);
  const { items, NextToken } = paginate(found, f);
  return { TaskSummaries: items.map((t) => view(t)), NextToken };
}

function acceptTaskView(t: AcceptTask): Record<string, unknown> {
  return dropUndefined({
    TaskId: t.TaskId, TaskArn: t.TaskArn, StartTime: iso(t.startedAt), TaskStatus: t.TaskStatus, Message: t.Message, ReasonCode: t.ReasonCode,
    OpportunityId: t.OpportunityId, ResourceSnapshotJobId: t.ResourceSnapshotJobId, EngagementInvitationId: t.EngagementInvitationId,
  });
}

function invitationSummary(i: SeedInvitation): Record<string, unknown> {
  return {
    Arn: i.Arn, PayloadType: i.PayloadType, Id: i.Id, EngagementId: i.EngagementId, EngagementTitle: i.EngagementTitle, Status: i.Status,
    InvitationDate: iso(i.InvitationDate), ExpirationDate: iso(i.ExpirationDate), SenderAwsAccountId: i.SenderAwsAccountId,
    SenderCompanyName: i.SenderCompanyName, Receiver: { Account: { AwsAccountId: SANDBOX_ACCOUNT_ID } }, Catalog: i.Catalog, ParticipantType: 'RECEIVER',
  };
}

/** JSON with sorted keys: the same request body always gives the same fingerprint. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
