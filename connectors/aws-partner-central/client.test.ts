import { afterEach, describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/sync/protocol.js';
import { AwsPartnerCentralClient, type AwsPartnerCentralConfig } from './client.js';
import { isLockedForReview, PartnerCentralError } from './errors.js';
import { sampleOpportunity } from './sample.js';
import { SANDBOX_CREDENTIALS, startPartnerCentralSandbox, type PartnerCentralSandbox, type PartnerCentralSandboxOptions } from './sandbox/server.js';
import { validateCreateOpportunity } from './validate.js';

let sandbox: PartnerCentralSandbox | undefined;
let client: AwsPartnerCentralClient | undefined;

afterEach(async () => {
  client?.close();
  await sandbox?.close();
  sandbox = client = undefined;
});

/** A sandbox without rate limits (unless asked) and a client pointed at it. */
async function connect(options: PartnerCentralSandboxOptions = {}, config: Partial<AwsPartnerCentralConfig> = {}) {
  sandbox = await startPartnerCentralSandbox({ writeRatePerSec: 0, readRatePerSec: 0, ...options });
  client = new AwsPartnerCentralClient({
    region: 'us-east-1', catalog: 'Sandbox', endpoint: sandbox.url, credentials: SANDBOX_CREDENTIALS,
    writesPerSecond: 0, readsPerSecond: 0, ...config,
  });
  return { sandbox, client };
}

/** A clock the test moves by hand: the review steps happen exactly when it says. */
function manualClock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

async function failure(promise: Promise<unknown>): Promise<PartnerCentralError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PartnerCentralError);
    return error as PartnerCentralError;
  }
  throw new Error('expected the call to fail');
}

/** Repeats a call after a retryable failure, as Temporal repeats the activity that made it. */
async function asTemporalWould<T>(call: () => Promise<T>, onFailure: (error: PartnerCentralError) => void = () => undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      expect(error).toMatchObject({ retryable: true });
      onFailure(error as PartnerCentralError);
      if (attempt >= 20) throw error;
    }
  }
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('AwsPartnerCentralClient', () => {
  it('creates idempotently: the same clientToken after a lost answer gives the same opportunity', async () => {
    const { sandbox, client } = await connect();
    const first = await client.createOpportunity(sampleOpportunity(), 'approval-42');
    const again = await client.createOpportunity(sampleOpportunity(), 'approval-42');
    expect(again.id).toBe(first.id);
    expect(first.lastModifiedDate).toBeInstanceOf(Date);
    expect(sandbox.state.list()).toHaveLength(1);
  });

  it('pre-validates: a payload AWS would reject fails locally with every field and costs no call', async () => {
    const { sandbox, client } = await connect();
    const payload = sampleOpportunity();
    delete payload.Customer!.Account!.Industry;
    payload.Project!.CustomerBusinessProblem = 'Too short';
    payload.LifeCycle!.TargetCloseDate = '2001-01-01';
    const error = await failure(client.createOpportunity(payload, 't-1'));
    expect(error.local).toBe(true);
    expect(error.toJSON()).toEqual({
      code: 'ValidationException',
      message: expect.stringContaining('Project.CustomerBusinessProblem (INVALID_VALUE)'),
      reason: 'REQUEST_VALIDATION_FAILED',
      fields: validateCreateOpportunity({ ...payload, Catalog: 'Sandbox' }).map(({ field, code, message }) => ({ field, code, message })),
    });
    expect(error.fields.map((f) => `${f.field}:${f.code}`)).toEqual([
      'Project.CustomerBusinessProblem:INVALID_VALUE',
      'Customer.Account.Industry:REQUIRED_FIELD_MISSING',
      'LifeCycle.TargetCloseDate:INVALID_VALUE',
    ]);
    expect(sandbox.counters.snapshot()).toEqual({});
  });

  it('turns cloud errors into plain { code, message, fields }', async () => {
    const { client } = await connect();
    const missing = await failure(client.getOpportunity('O404'));
    expect(missing.toJSON()).toEqual({ code: 'ResourceNotFoundException', message: 'Opportunity O404 was not found in catalog Sandbox.', fields: [] });
    expect(missing.retryable).toBe(false);
  });

  it('co-sells end to end: associate a solution, submit, AWS reviews on its clock, edits are refused while In review', async () => {
    const clock = manualClock();
    const { sandbox, client } = await connect({ now: clock.now, reviewDelayMs: 10_000 });
    const [solution] = await all(client.listSolutions());
    const { id } = await client.createOpportunity(sampleOpportunity(), 'c-1');
    await client.associateSolution(id, solution.Id!);
    await client.associateSolution(id, solution.Id!); // already there: not an error
    expect((await client.getOpportunity(id)).RelatedEntityIdentifiers?.Solutions).toEqual([solution.Id]);

    const task = await client.startEngagement(id, { involvementType: 'Co-Sell', visibility: 'Full' }, 'submit-1');
    expect(task).toMatchObject({ status: 'COMPLETE', opportunityId: id, engagementId: expect.stringMatching(/^eng-/) });
    expect((await client.getOpportunity(id)).LifeCycle?.ReviewStatus).toBe('Submitted');

    clock.advance(5_000);
    expect((await client.getOpportunity(id)).LifeCycle?.ReviewStatus).toBe('In review');
    const refused = await failure(client.updateOpportunity(id, { LifeCycle: { NextSteps: 'Call the customer' } }));
    expect(isLockedForReview(refused)).toBe(true);
    expect(refused.reason).toBe('BUSINESS_VALIDATION_FAILED');
    expect(refused.fields).toEqual([{ field: 'LifeCycle.ReviewStatus', code: 'INVALID_RESOURCE_STATE', message: expect.stringContaining('In review') }]);

    clock.advance(5_000);
    const reviewed = await client.getOpportunity(id);
    expect(reviewed.LifeCycle?.ReviewStatus).toBe('Approved');
    // Approved opportunities are editable again.
    await client.updateOpportunity(id, { LifeCycle: { NextSteps: 'Call the customer' } });
    const after = await client.getOpportunity(id);
    expect(after.LifeCycle).toMatchObject({ NextSteps: 'Call the customer', ReviewStatus: 'Approved' });
    expect(after.LifeCycle?.NextStepsHistory?.map((h) => h.Value)).toEqual(['Call the customer']);
    expect(sandbox.counters.get('StartEngagementFromOpportunityTask')).toBe(1);
  });

  it('runs the review on real time too (reviewDelayMs)', async () => {
    const { client } = await connect({ reviewDelayMs: 150 });
    const { id } = await client.createOpportunity(sampleOpportunity(), 'c-1');
    await client.associateSolution(id, 'S-0000001');
    await client.startEngagement(id, { involvementType: 'For Visibility Only', visibility: 'Full' }, 'submit-1');
    const statuses = new Set<string>();
    await until(async () => {
      const status = (await client.getOpportunity(id)).LifeCycle!.ReviewStatus!;
      statuses.add(status);
      return status;
    }, (s) => s === 'Approved');
    expect([...statuses].at(-1)).toBe('Approved');
    expect(statuses.has('Submitted') || statuses.has('In review')).toBe(true);
  });

  it('reports Rejected and Action Required with AWS reasons; fixing an Action Required sends it back into review', async () => {
    const clock = manualClock();
    const { client } = await connect({
      now: clock.now,
      reviewDelayMs: 1_000,
      reviewOutcome: (o) => {
        if (o.Customer.Account.CompanyName.startsWith('Duplicate')) return { status: 'Rejected', reason: 'Duplicate opportunity', comments: 'AWS already tracks this deal.' };
        if (o.Project.ExpectedCustomerSpend[0].Amount === '1.00') return { status: 'Action Required', reason: 'Incomplete information', comments: 'Give a realistic monthly AWS spend.' };
        return 'Approved';
      },
    });
    const submit = async (companyName: string, amount: string) => {
      const payload = sampleOpportunity({ companyName });
      payload.Project!.ExpectedCustomerSpend![0].Amount = amount;
      const { id } = await client.createOpportunity(payload, `c-${companyName}`);
      await client.associateSolution(id, 'S-0000002');
      await client.startEngagement(id, { involvementType: 'Co-Sell', visibility: 'Limited' }, `s-${companyName}`);
      return id;
    };
    const duplicate = await submit('Duplicate Corp', '5000.00');
    const vague = await submit('Vague Corp', '1.00');
    clock.advance(1_000);

    expect((await client.getOpportunity(duplicate)).LifeCycle).toMatchObject({
      ReviewStatus: 'Rejected', ReviewStatusReason: 'Duplicate opportunity', ReviewComments: 'AWS already tracks this deal.',
    });
    const final = await failure(client.updateOpportunity(duplicate, { Project: { Title: 'Try again' } }));
    expect(final.fields[0]).toMatchObject({ field: 'LifeCycle.ReviewStatus', code: 'ACTION_NOT_PERMITTED' });
    expect(isLockedForReview(final)).toBe(false);

    expect((await client.getOpportunity(vague)).LifeCycle).toMatchObject({
      ReviewStatus: 'Action Required', ReviewStatusReason: 'Incomplete information', ReviewComments: 'Give a realistic monthly AWS spend.',
    });
    await client.updateOpportunity(vague, { Project: { ExpectedCustomerSpend: [{ Amount: '8000.00', CurrencyCode: 'USD', Frequency: 'Monthly', TargetCompany: 'AWS' }] } });
    expect((await client.getOpportunity(vague)).LifeCycle?.ReviewStatus).toBe('Submitted');
    clock.advance(1_000);
    const approved = await client.getOpportunity(vague);
    expect(approved.LifeCycle).toMatchObject({ ReviewStatus: 'Approved' });
    expect(approved.LifeCycle?.ReviewStatusReason).toBeUndefined();
  });

  it('refuses to submit an incomplete opportunity without spending a write; a slow task is waited for', async () => {
    const { sandbox, client } = await connect({ taskDelayMs: 200 }, { taskPollMs: 50 });
    const payload = sampleOpportunity();
    payload.LifeCycle!.Stage = 'Prospect';
    const { id } = await client.createOpportunity(payload, 'c-1');
    const error = await failure(client.startEngagement(id, { involvementType: 'Co-Sell', visibility: 'Full' }, 's-1'));
    expect(error.local).toBe(true);
    expect(error.fields.map((f) => `${f.field}:${f.code}`)).toEqual(['RelatedEntityIdentifiers.Solutions:REQUIRED_FIELD_MISSING', 'LifeCycle.Stage:INVALID_VALUE']);
    expect(sandbox.counters.get('StartEngagementFromOpportunityTask')).toBe(0);

    await client.associateSolution(id, 'S-0000001');
    await client.updateOpportunity(id, { LifeCycle: { Stage: 'Qualified' } });
    const task = await client.startEngagement(id, { involvementType: 'Co-Sell', visibility: 'Full' }, 's-1');
    expect(task.status).toBe('COMPLETE');
    expect(sandbox.counters.get('ListEngagementFromOpportunityTasks')).toBeGreaterThan(0);
    expect((await client.getOpportunity(id)).LifeCycle?.ReviewStatus).toBe('Approved');
  });

  it('re-reads and retries an update once when AWS changed the opportunity between read and write', async () => {
    let id = '';
    let awsActs = true;
    const { sandbox, client } = await connect({
      beforeOperation: (operation) => {
        if (operation === 'UpdateOpportunity' && awsActs) {
          awsActs = false;
          sandbox!.state.awsEdit(id, { Stage: 'Technical Validation' });
        }
      },
    });
    ({ id } = await client.createOpportunity(sampleOpportunity(), 'c-1'));
    await client.updateOpportunity(id, { Project: { Title: 'Analytics, phase 2' } });
    const after = await client.getOpportunity(id);
    expect(after.Project?.Title).toBe('Analytics, phase 2');
    expect(after.LifeCycle?.Stage).toBe('Technical Validation'); // AWS's edit survived ours
    expect(sandbox.counters.get('UpdateOpportunity')).toBe(2);
    expect(sandbox.counters.get('UpdateOpportunity.ConflictException')).toBe(1);
  });

  it('lists opportunities across pages as one async iterable, with filters', async () => {
    const { client } = await connect();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.createOpportunity(sampleOpportunity({ partnerId: `crm-${i}` }), `c-${i}`)).id);
    await client.associateSolution(ids[0], 'S-0000001');
    await client.startEngagement(ids[0], { involvementType: 'Co-Sell', visibility: 'Full' }, 's-0');

    const everything = await all(client.listOpportunities({ MaxResults: 2, Sort: { SortBy: 'Identifier', SortOrder: 'ASCENDING' } }));
    expect(everything.map((o) => o.Id)).toEqual(ids);
    expect(client.stats.calls).toBeGreaterThanOrEqual(3);
    const pending = await all(client.listOpportunities({ MaxResults: 2, LifeCycleReviewStatus: ['Pending Submission'] }));
    expect(pending.map((o) => o.Id).sort()).toEqual(ids.slice(1).sort());
  });

  it('lists, accepts and rejects invitations from AWS', async () => {
    const { sandbox, client } = await connect({ invitations: 5 });
    const arrived = sandbox.state.addInvitation();
    const pending = await all(client.listInvitations({ status: ['PENDING'], maxResults: 2 }));
    expect(pending.map((i) => i.Id)).toContain(arrived);
    expect(pending).toHaveLength(5);
    const detail = await client.getInvitation(arrived);
    expect(detail.Payload?.OpportunityInvitation?.Customer?.CompanyName).toBeTruthy();

    await client.acceptInvitation(arrived);
    await client.rejectInvitation(pending[1].Id!, 'No capacity this quarter');
    expect(sandbox.state.invitationStatus(arrived)).toBe('ACCEPTED');
    expect(sandbox.state.invitationStatus(pending[1].Id!)).toBe('REJECTED');
    const twice = await failure(client.acceptInvitation(arrived));
    expect(twice.code).toBe('ConflictException');
  });

  it('accepts an invitation with an accepting task: AWS\'s opportunity lands in our catalog, a retried token gives the same one', async () => {
    const { sandbox, client } = await connect({ invitations: 1, taskDelayMs: 300 });
    const arrived = sandbox.state.addInvitation();
    const invitation = await client.getInvitation(arrived);
    const before = sandbox.counters.get('StartEngagementByAcceptingInvitationTask');

    const first = await client.acceptInvitationTask(arrived, 'accept-1');
    expect(first.alreadyAccepted).toBe(false);
    expect(first.opportunityId).toMatch(/^O\d+$/);
    expect(sandbox.state.invitationStatus(arrived)).toBe('ACCEPTED');
    const opportunity = await client.getOpportunity(first.opportunityId!);
    expect(opportunity.Customer?.Account?.CompanyName).toBe(invitation.Payload?.OpportunityInvitation?.Customer?.CompanyName);
    expect(opportunity.Project?.Title).toBe(invitation.Payload?.OpportunityInvitation?.Project?.Title);
    expect(opportunity.LifeCycle?.ReviewStatus).toBe('Approved');

    // The answer was lost and the call is made again: same token, same task, same opportunity.
    expect(await client.acceptInvitationTask(arrived, 'accept-1')).toEqual(first);
    // Another token finds the invitation accepted, and the opportunity the first task made.
    expect(await client.acceptInvitationTask(arrived, 'accept-2')).toEqual({ opportunityId: first.opportunityId, alreadyAccepted: true });
    expect(sandbox.counters.get('StartEngagementByAcceptingInvitationTask') - before).toBe(3);
    expect(sandbox.state.list().filter((o) => o.Id === first.opportunityId)).toHaveLength(1);

    const rejected = sandbox.state.addInvitation();
    await client.rejectInvitation(rejected, 'Customer not in our territory');
    expect((await failure(client.acceptInvitationTask(rejected, 'accept-3'))).code).toBe('ConflictException');
  });

  it('waits out injected throttles in process; an InternalServerException goes back at once, retryable, for Temporal to repeat', async () => {
    const { sandbox, client } = await connect({ faults: { serverErrorRate: 0.25, rateLimitRate: 0.1, seed: 11 } }, { maxAttempts: 10 });
    const { id } = await asTemporalWould(() => client.createOpportunity(sampleOpportunity(), 'c-1'));
    for (let i = 0; i < 20; i++) expect((await asTemporalWould(() => client.getOpportunity(id))).Id).toBe(id);
    const throttles = sandbox.counters.sum(/\.ThrottlingException$/);
    const serverErrors = sandbox.counters.sum(/\.InternalServerException$/);
    expect(throttles).toBeGreaterThan(0);
    expect(serverErrors).toBeGreaterThan(0);
    expect(client.stats.retries).toBe(throttles);
    expect(client.stats.throttled).toBe(throttles);
    expect(sandbox.state.list()).toHaveLength(1);
  });

  it('a persistent InternalServerException costs one call; a persistent throttle costs at most maxAttempts, then a RateLimitError', async () => {
    const { sandbox, client } = await connect({ faults: { serverErrorRate: 1, endpoints: /^GetOpportunity$/ } }, { maxAttempts: 3 });
    const server = await failure(client.getOpportunity('O1234567'));
    expect(server).toMatchObject({ code: 'InternalServerException', retryable: true });
    expect(sandbox.counters.get('GetOpportunity')).toBe(1);

    sandbox.faults.set({ rateLimitRate: 1, endpoints: /^GetOpportunity$/ });
    const throttled = await client.getOpportunity('O1234567').catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(RateLimitError);
    expect((throttled as RateLimitError).message).toMatch(/^Partner Central throttled GetOpportunity: .*still refused after 3 attempts$/);
    expect(sandbox.counters.get('GetOpportunity')).toBe(4);
    expect(client.stats.retries).toBe(2);
  });
});

describe('AwsPartnerCentralClient when AWS does not answer', () => {
  it('gives up on a hung call after requestTimeoutMs with a retryable error, and does not repeat it itself', async () => {
    const { sandbox, client } = await connect({ faults: { timeoutRate: 0.5, seed: 5, endpoints: /^GetOpportunity$/ } }, { requestTimeoutMs: 150 });
    const { id } = await client.createOpportunity(sampleOpportunity(), 'c-1');
    let timedOut = 0;
    for (let i = 0; i < 4; i++) {
      expect((await asTemporalWould(() => client.getOpportunity(id), () => timedOut++)).Id).toBe(id);
    }
    expect(timedOut).toBeGreaterThan(0);
    expect(sandbox.counters.get('GetOpportunity')).toBe(4 + timedOut);
    expect(client.stats.retries).toBe(0);
  });
});

describe('AwsPartnerCentralClient under the 1 write/s limit', () => {
  it('paces its writes so no ThrottlingException is spent or leaks, at about the allowed rate', async () => {
    const { sandbox, client } = await connect({ writeRatePerSec: 1, readRatePerSec: 10 }, { writesPerSecond: 1, readsPerSecond: 10 });
    const started = Date.now();
    const { id } = await client.createOpportunity(sampleOpportunity(), 'c-1');
    await client.associateSolution(id, 'S-0000001');
    await client.associateSolution(id, 'S-0000002');
    await client.createOpportunity(sampleOpportunity({ partnerId: 'crm-2' }), 'c-2');
    const elapsed = Date.now() - started;
    // Four writes at 1/s: three full intervals, plus the client's small safety margin.
    expect(elapsed).toBeGreaterThanOrEqual(3000);
    expect(elapsed).toBeLessThan(4000);
    expect(sandbox.counters.sum(/ThrottlingException$/)).toBe(0);
    expect(client.stats.throttled).toBe(0);
  });

  it('without local pacing it is throttled, backs off and still gets every write through', async () => {
    const { sandbox, client } = await connect({ writeRatePerSec: 1 }, { writesPerSecond: 0 });
    const started = Date.now();
    for (let i = 0; i < 3; i++) await client.createOpportunity(sampleOpportunity({ partnerId: `crm-${i}` }), `c-${i}`);
    expect(sandbox.state.list()).toHaveLength(3);
    expect(client.stats.throttled).toBeGreaterThan(0);
    expect(client.stats.throttled).toBe(sandbox.counters.get('CreateOpportunity.ThrottlingException'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });
});
