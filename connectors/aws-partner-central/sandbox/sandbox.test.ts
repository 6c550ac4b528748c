import {
  AcceptEngagementInvitationCommand, ConflictException, CreateOpportunityCommand, GetEngagementInvitationCommand, GetOpportunityCommand,
  ListEngagementByAcceptingInvitationTasksCommand, ListEngagementInvitationsCommand, ListOpportunitiesCommand, PartnerCentralSellingClient, RejectEngagementInvitationCommand,
  AssociateOpportunityCommand, ResourceNotFoundException, SubmitOpportunityCommand, ThrottlingException, UpdateOpportunityCommand, ValidationException,
  StartEngagementByAcceptingInvitationTaskCommand, type CreateOpportunityRequest,
} from '@aws-sdk/client-partnercentral-selling';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleOpportunity } from '../sample.js';
import { errorsAwsWouldReport, validateCreateOpportunity } from '../validate.js';
import { SANDBOX_CREDENTIALS, startPartnerCentralSandbox, type PartnerCentralSandbox, type PartnerCentralSandboxOptions } from './server.js';

let sandbox: PartnerCentralSandbox | undefined;
let sdk: PartnerCentralSellingClient | undefined;

afterEach(async () => {
  sdk?.destroy();
  await sandbox?.close();
  sandbox = sdk = undefined;
});

/** The unmodified SDK pointed at a fresh sandbox; SDK retries off so every answer is seen. */
async function connect(options: PartnerCentralSandboxOptions = {}) {
  sandbox = await startPartnerCentralSandbox({ writeRatePerSec: 0, readRatePerSec: 0, ...options });
  sdk = new PartnerCentralSellingClient({ endpoint: sandbox.url, region: 'us-east-1', credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 });
  return { sandbox, sdk };
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const create = (overrides: Partial<CreateOpportunityRequest> = {}): CreateOpportunityRequest => ({ ...sampleOpportunity(), Catalog: 'Sandbox', ...overrides });

describe('AWS Partner Central sandbox with the unmodified SDK', () => {
  it('creates once per ClientToken: a retry gets the same Id, another body under the token is a ConflictException', async () => {
    const { sandbox, sdk } = await connect();
    const first = await sdk.send(new CreateOpportunityCommand(create({ ClientToken: 'crm-006-1' })));
    const retry = await sdk.send(new CreateOpportunityCommand(create({ ClientToken: 'crm-006-1' })));
    expect(first.Id).toMatch(/^O\d+$/);
    expect(retry.Id).toBe(first.Id);
    expect(retry.LastModifiedDate).toEqual(first.LastModifiedDate);
    expect(first.LastModifiedDate).toBeInstanceOf(Date);
    expect(sandbox.state.list('Sandbox')).toHaveLength(1);

    const clash = await rejection(sdk.send(new CreateOpportunityCommand(create({ ClientToken: 'crm-006-1', PartnerOpportunityIdentifier: 'other' }))));
    expect(clash).toBeInstanceOf(ConflictException);
    expect(clash.message).toBe('Conflicting client token submitted for a new request body.');
    expect(clash.$metadata.httpStatusCode).toBe(409);
    expect(sandbox.state.list('Sandbox')).toHaveLength(1);
  });

  it('round-trips the opportunity with ISO dates the SDK turns into Dates, and keeps catalogs apart', async () => {
    const { sdk } = await connect();
    const { Id } = await sdk.send(new CreateOpportunityCommand(create()));
    const got = await sdk.send(new GetOpportunityCommand({ Catalog: 'Sandbox', Identifier: Id }));
    expect(got.Customer?.Account?.CompanyName).toBe('Acme Analytics');
    expect(got.LifeCycle).toMatchObject({ Stage: 'Qualified', ReviewStatus: 'Pending Submission' });
    expect(got.CreatedDate).toBeInstanceOf(Date);
    expect(got.RelatedEntityIdentifiers).toEqual({ Solutions: [], AwsProducts: [], AwsMarketplaceOffers: [] });
    const elsewhere = await rejection(sdk.send(new GetOpportunityCommand({ Catalog: 'AWS', Identifier: Id })));
    expect(elsewhere).toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses an update carrying a stale LastModifiedDate with ConflictException', async () => {
    const { sdk } = await connect();
    const { Id } = await sdk.send(new CreateOpportunityCommand(create()));
    const read = await sdk.send(new GetOpportunityCommand({ Catalog: 'Sandbox', Identifier: Id }));
    const body = { ...read, Catalog: 'Sandbox', Identifier: Id!, LastModifiedDate: read.LastModifiedDate };
    const updated = await sdk.send(new UpdateOpportunityCommand({ ...body, Project: { ...read.Project, Title: 'Renamed' } }));
    expect(updated.LastModifiedDate!.getTime()).toBeGreaterThan(read.LastModifiedDate!.getTime());

    const stale = await rejection(sdk.send(new UpdateOpportunityCommand({ ...body, Project: { ...read.Project, Title: 'Lost update' } })));
    expect(stale).toBeInstanceOf(ConflictException);
    const after = await sdk.send(new GetOpportunityCommand({ Catalog: 'Sandbox', Identifier: Id }));
    expect(after.Project?.Title).toBe('Renamed');
  });

  it('answers missing fields with ValidationException (Reason, ErrorList) exactly as the pre-validator predicts', async () => {
    const { sandbox, sdk } = await connect();
    const payload = create({ ClientToken: 'bad-1' });
    delete payload.Customer!.Account!.WebsiteUrl;
    delete payload.Project!.Title;
    delete payload.LifeCycle!.TargetCloseDate;
    payload.Customer!.Account!.Address = { CountryCode: 'US', PostalCode: '98101' };

    const predicted = validateCreateOpportunity(payload);
    expect(sandbox.counters.snapshot()).toEqual({}); // the prediction cost no call

    const error = await rejection(sdk.send(new CreateOpportunityCommand(payload)));
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.name).toBe('ValidationException');
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe('The request failed business validation.');
    expect(error.Reason).toBe('BUSINESS_VALIDATION_FAILED');
    expect(error.ErrorList).toEqual([
      { FieldName: 'Customer.Account.WebsiteUrl', Code: 'REQUIRED_FIELD_MISSING', Message: 'Customer.Account.WebsiteUrl is required.' },
      { FieldName: 'Customer.Account.Address.StateOrRegion', Code: 'REQUIRED_FIELD_MISSING', Message: 'Customer.Account.Address.StateOrRegion is required.' },
      { FieldName: 'Project.Title', Code: 'REQUIRED_FIELD_MISSING', Message: 'Project.Title is required.' },
      { FieldName: 'LifeCycle.TargetCloseDate', Code: 'REQUIRED_FIELD_MISSING', Message: 'LifeCycle.TargetCloseDate is required.' },
    ]);
    expect(error.ErrorList.map((e: any) => ({ field: e.FieldName, code: e.Code, message: e.Message }))).toEqual(errorsAwsWouldReport(predicted));
    expect(sandbox.state.list('Sandbox')).toHaveLength(0);
  });

  it('answers malformed values with REQUEST_VALIDATION_FAILED before any business rule', async () => {
    const { sdk } = await connect();
    const payload = create();
    payload.Customer!.Account!.WebsiteUrl = 'acme';
    payload.OpportunityType = 'Renewal' as never;
    delete payload.Project!.Title; // a business rule: not reported until the request is well-formed
    const error = await rejection(sdk.send(new CreateOpportunityCommand(payload)));
    expect(error.Reason).toBe('REQUEST_VALIDATION_FAILED');
    expect(error.ErrorList.map((e: any) => `${e.FieldName}:${e.Code}`)).toEqual([
      'OpportunityType:INVALID_ENUM_VALUE',
      'Customer.Account.WebsiteUrl:INVALID_STRING_FORMAT',
    ]);
    expect(errorsAwsWouldReport(validateCreateOpportunity(payload)).map((e) => `${e.field}:${e.code}`))
      .toEqual(error.ErrorList.map((e: any) => `${e.FieldName}:${e.Code}`));
  });

  it('checks SigV4 credentials: unknown access key, missing or malformed Authorization', async () => {
    const { sandbox } = await connect();
    const stranger = new PartnerCentralSellingClient({ endpoint: sandbox.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIAUNKNOWN0000000', secretAccessKey: 'x' }, maxAttempts: 1 });
    const error = await rejection(stranger.send(new GetOpportunityCommand({ Catalog: 'Sandbox', Identifier: 'O1' })));
    stranger.destroy();
    expect(error.name).toBe('UnrecognizedClientException');
    expect(error.message).toBe('The security token included in the request is invalid.');

    const post = (headers: Record<string, string>) => fetch(sandbox.url, {
      method: 'POST', body: '{"Catalog":"Sandbox","Identifier":"O1"}',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSPartnerCentralSelling.GetOpportunity', ...headers },
    });
    const missing = await post({});
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    const malformed = await post({ authorization: 'Bearer abc', 'x-amz-date': '20300101T000000Z' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ __type: 'IncompleteSignatureException' });
  });

  it('limits a catalog to the credentials that may use it (AccessDeniedException)', async () => {
    const { sdk } = await connect({ accounts: [{ accessKeyId: SANDBOX_CREDENTIALS.accessKeyId, catalogs: ['Sandbox'] }] });
    const error = await rejection(sdk.send(new ListOpportunitiesCommand({ Catalog: 'AWS' })));
    expect(error.name).toBe('AccessDeniedException');
    expect((await sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox' }))).OpportunitySummaries).toEqual([]);
  });

  it('throttles writes beyond the per-account rate with ThrottlingException (HTTP 429)', async () => {
    const { sandbox, sdk } = await connect({ writeRatePerSec: 1 });
    await sdk.send(new CreateOpportunityCommand(create()));
    const error = await rejection(sdk.send(new CreateOpportunityCommand(create())));
    expect(error).toBeInstanceOf(ThrottlingException);
    expect(error.$metadata.httpStatusCode).toBe(429);
    // Reads have their own allowance.
    await sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox' }));
    expect(sandbox.counters.get('CreateOpportunity.ThrottlingException')).toBe(1);
    expect(sandbox.state.list('Sandbox')).toHaveLength(1);
  });

  it('stops writes once the 24-hour allowance is spent (ServiceQuotaExceededException)', async () => {
    const { sdk } = await connect({ writesPerDay: 2 });
    await sdk.send(new CreateOpportunityCommand(create()));
    await sdk.send(new CreateOpportunityCommand(create()));
    const error = await rejection(sdk.send(new CreateOpportunityCommand(create())));
    expect(error.name).toBe('ServiceQuotaExceededException');
    expect(error.$metadata.httpStatusCode).toBe(402);
    expect((await sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox' }))).OpportunitySummaries).toHaveLength(2);
  });

  it('submits directly with SubmitOpportunity under the same rules, then locks edits during review', async () => {
    const { sdk } = await connect({ reviewDelayMs: 60_000 });
    const { Id } = await sdk.send(new CreateOpportunityCommand(create()));
    const early = await rejection(sdk.send(new SubmitOpportunityCommand({ Catalog: 'Sandbox', Identifier: Id, InvolvementType: 'Co-Sell', Visibility: 'Full' })));
    expect(early.Reason).toBe('BUSINESS_VALIDATION_FAILED');
    expect(early.ErrorList).toEqual([expect.objectContaining({ FieldName: 'RelatedEntityIdentifiers.Solutions', Code: 'REQUIRED_FIELD_MISSING' })]);

    await sdk.send(new AssociateOpportunityCommand({ Catalog: 'Sandbox', OpportunityIdentifier: Id, RelatedEntityType: 'Solutions', RelatedEntityIdentifier: 'S-0000003' }));
    await sdk.send(new SubmitOpportunityCommand({ Catalog: 'Sandbox', Identifier: Id, InvolvementType: 'Co-Sell', Visibility: 'Full' }));
    const read = await sdk.send(new GetOpportunityCommand({ Catalog: 'Sandbox', Identifier: Id }));
    expect(read.LifeCycle?.ReviewStatus).toBe('Submitted');
    const locked = await rejection(sdk.send(new UpdateOpportunityCommand({ ...read, Catalog: 'Sandbox', Identifier: Id!, LastModifiedDate: read.LastModifiedDate })));
    expect(locked.ErrorList).toEqual([expect.objectContaining({ FieldName: 'LifeCycle.ReviewStatus', Code: 'INVALID_RESOURCE_STATE' })]);
    const associate = await rejection(sdk.send(new AssociateOpportunityCommand({ Catalog: 'Sandbox', OpportunityIdentifier: Id, RelatedEntityType: 'Solutions', RelatedEntityIdentifier: 'S-0000001' })));
    expect(associate.ErrorList[0]).toMatchObject({ Code: 'INVALID_RESOURCE_STATE' });
  });

  it('associates at most 10 solutions, each once, and only ones that exist', async () => {
    const { sdk } = await connect({ solutions: 12 });
    const { Id } = await sdk.send(new CreateOpportunityCommand(create()));
    const associate = (RelatedEntityIdentifier: string, RelatedEntityType: 'Solutions' | 'AwsProducts' = 'Solutions') =>
      sdk.send(new AssociateOpportunityCommand({ Catalog: 'Sandbox', OpportunityIdentifier: Id, RelatedEntityType, RelatedEntityIdentifier }));
    await associate('S-0000001');
    expect((await rejection(associate('S-0000001'))).ErrorList[0]).toMatchObject({ FieldName: 'RelatedEntityIdentifier', Code: 'DUPLICATE_KEY_VALUE' });
    expect(await rejection(associate('S-0000099'))).toBeInstanceOf(ResourceNotFoundException);
    expect((await rejection(associate('S-1', 'Partners' as never))).ErrorList[0]).toMatchObject({ FieldName: 'RelatedEntityType', Code: 'INVALID_ENUM_VALUE' });
    await associate('AmazonRDS', 'AwsProducts');
    for (let i = 2; i <= 10; i++) await associate(`S-${String(i).padStart(7, '0')}`);
    const eleventh = await rejection(associate('S-0000011'));
    expect(eleventh.Reason).toBe('BUSINESS_VALIDATION_FAILED');
    expect(eleventh.ErrorList[0]).toMatchObject({ FieldName: 'RelatedEntityIdentifiers.Solutions', Code: 'TOO_MANY_VALUES' });
    const got = await sdk.send(new GetOpportunityCommand({ Catalog: 'Sandbox', Identifier: Id }));
    expect(got.RelatedEntityIdentifiers?.Solutions).toHaveLength(10);
    expect(got.RelatedEntityIdentifiers?.AwsProducts).toEqual(['AmazonRDS']);
  });

  it('pages ListOpportunities with MaxResults and NextToken, filtered and sorted', async () => {
    // A clock that moves a second per reading: the edit below is strictly the latest change,
    // however fast this machine creates the opportunities.
    let clock = Date.parse('2026-01-05T09:00:00Z');
    const { sandbox, sdk } = await connect({ now: () => (clock += 1000) });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await sdk.send(new CreateOpportunityCommand(create({ PartnerOpportunityIdentifier: `crm-${i}` })))).Id!);
    sandbox.state.awsEdit(ids[2], { Stage: 'Technical Validation' });

    const seen: string[] = [];
    const sizes: number[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox', MaxResults: 3, NextToken, Sort: { SortBy: 'LastModifiedDate', SortOrder: 'ASCENDING' } }));
      sizes.push(page.OpportunitySummaries!.length);
      seen.push(...page.OpportunitySummaries!.map((o) => o.Id!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(sizes).toEqual([3, 3, 1]);
    // Ascending LastModifiedDate: the one AWS just edited comes last.
    expect(seen).toEqual([...ids.filter((id) => id !== ids[2]), ids[2]]);

    const filtered = await sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox', LifeCycleStage: ['Technical Validation'] }));
    expect(filtered.OpportunitySummaries!.map((o) => o.Id)).toEqual([ids[2]]);
    expect(filtered.OpportunitySummaries![0]).toMatchObject({ Customer: { Account: { CompanyName: 'Acme Analytics' } }, LifeCycle: { ReviewStatus: 'Pending Submission' } });
    expect(filtered.OpportunitySummaries![0].LastModifiedDate).toBeInstanceOf(Date);

    const bad = await rejection(sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox', NextToken: 'garbage' })));
    expect(bad.ErrorList).toEqual([expect.objectContaining({ FieldName: 'NextToken', Code: 'INVALID_VALUE' })]);
    const tooMany = await rejection(sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox', MaxResults: 500 })));
    expect(tooMany.ErrorList).toEqual([expect.objectContaining({ FieldName: 'MaxResults', Code: 'VALUE_OUT_OF_RANGE' })]);
  });

  it('serves seeded invitations describing customer and project; accept, reject, and refuse expired or answered ones', async () => {
    const { sdk } = await connect({ seed: 7, invitations: 4 });
    const list = await sdk.send(new ListEngagementInvitationsCommand({ Catalog: 'Sandbox', ParticipantType: 'RECEIVER' }));
    const invitations = list.EngagementInvitationSummaries!;
    expect(invitations.map((i) => i.Status)).toEqual(['PENDING', 'PENDING', 'PENDING', 'EXPIRED']);
    expect(invitations[0].InvitationDate).toBeInstanceOf(Date);
    expect(invitations[0].Receiver).toEqual({ Account: { AwsAccountId: '111122223333' } });

    const [first, second] = invitations;
    const detail = await sdk.send(new GetEngagementInvitationCommand({ Catalog: 'Sandbox', Identifier: first.Id }));
    const payload = detail.Payload!.OpportunityInvitation!;
    expect(payload.Customer!.CompanyName).toMatch(/\w+ \w+ \d+/);
    expect(payload.Project!.BusinessProblem!.length).toBeGreaterThan(20);
    expect(payload.Project!.ExpectedCustomerSpend![0]).toMatchObject({ CurrencyCode: 'USD', Frequency: 'Monthly' });

    await sdk.send(new AcceptEngagementInvitationCommand({ Catalog: 'Sandbox', Identifier: first.Id }));
    await sdk.send(new RejectEngagementInvitationCommand({ Catalog: 'Sandbox', Identifier: second.Id, RejectionReason: 'Customer not a fit' }));
    const pending = await sdk.send(new ListEngagementInvitationsCommand({ Catalog: 'Sandbox', ParticipantType: 'RECEIVER', Status: ['PENDING'] }));
    expect(pending.EngagementInvitationSummaries!.map((i) => i.Id)).toEqual([invitations[2].Id]);
    expect((await sdk.send(new GetEngagementInvitationCommand({ Catalog: 'Sandbox', Identifier: second.Id }))).RejectionReason).toBe('Customer not a fit');

    const again = await rejection(sdk.send(new AcceptEngagementInvitationCommand({ Catalog: 'Sandbox', Identifier: first.Id })));
    expect(again).toBeInstanceOf(ConflictException);
    const expired = await rejection(sdk.send(new AcceptEngagementInvitationCommand({ Catalog: 'Sandbox', Identifier: invitations[3].Id })));
    expect(expired).toBeInstanceOf(ValidationException);
    expect(expired.ErrorList[0]).toMatchObject({ Code: 'INVALID_RESOURCE_STATE' });
  });

  it('lists invitation-accepting tasks by catalog and invitation, a page at a time', async () => {
    const { sdk } = await connect({ invitations: 4 });
    const list = await sdk.send(new ListEngagementInvitationsCommand({ Catalog: 'Sandbox', ParticipantType: 'RECEIVER', Status: ['PENDING'] }));
    const ids = list.EngagementInvitationSummaries!.map((i) => i.Id!);
    for (const id of ids) {
      await sdk.send(new StartEngagementByAcceptingInvitationTaskCommand({ Catalog: 'Sandbox', Identifier: id, ClientToken: `accept-${id}` }));
    }
    const page = await sdk.send(new ListEngagementByAcceptingInvitationTasksCommand({ Catalog: 'Sandbox', MaxResults: 2 }));
    expect(page.TaskSummaries).toHaveLength(2);
    const rest = await sdk.send(new ListEngagementByAcceptingInvitationTasksCommand({ Catalog: 'Sandbox', MaxResults: 2, NextToken: page.NextToken }));
    expect([...page.TaskSummaries!, ...rest.TaskSummaries!].map((t) => t.EngagementInvitationId).sort()).toEqual([...ids].sort());
    const one = await sdk.send(new ListEngagementByAcceptingInvitationTasksCommand({ Catalog: 'Sandbox', EngagementInvitationIdentifier: [ids[1]] }));
    expect(one.TaskSummaries!.map((t) => t.EngagementInvitationId)).toEqual([ids[1]]);
    expect((await sdk.send(new ListEngagementByAcceptingInvitationTasksCommand({ Catalog: 'AWS' }))).TaskSummaries).toEqual([]);
  });

  it('generates the same data for the same seed', async () => {
    const ids = async (seed: number) => {
      const { sdk } = await connect({ seed });
      const list = await sdk.send(new ListEngagementInvitationsCommand({ Catalog: 'Sandbox', ParticipantType: 'RECEIVER' }));
      const created = await sdk.send(new CreateOpportunityCommand(create()));
      sdk.destroy();
      await sandbox!.close();
      sandbox = undefined;
      return [...list.EngagementInvitationSummaries!.map((i) => i.Id), created.Id];
    };
    expect(await ids(3)).toEqual(await ids(3));
    expect(await ids(3)).not.toEqual(await ids(4));
  });
});

describe('AWS Partner Central sandbox on the wire (awsJson1_0)', () => {
  const signed = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-date': '20300101T000000Z',
    authorization: `AWS4-HMAC-SHA256 Credential=${SANDBOX_CREDENTIALS.accessKeyId}/20300101/us-east-1/partnercentral-selling/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
  };
  const call = (operation: string, body: string, headers: Record<string, string> = {}, method = 'POST', path = '/') => fetch(`${sandbox!.url}${path}`, {
    method, body: method === 'GET' ? undefined : body,
    headers: { ...signed, 'x-amz-target': `AWSPartnerCentralSelling.${operation}`, ...headers },
  });

  it('answers in awsJson1_0: content type, request id, and the error type in header and body', async () => {
    await connect();
    const ok = await call('ListOpportunities', '{"Catalog":"Sandbox"}');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(ok.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await ok.json()).toEqual({ OpportunitySummaries: [] });

    const missing = await call('GetOpportunity', '{"Catalog":"Sandbox","Identifier":"O1234567"}');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await missing.json()).toMatchObject({ __type: 'ResourceNotFoundException' });
  });

  it('refuses what is not an operation call, a body that is not JSON and a JSON content type it does not speak', async () => {
    const { sandbox } = await connect();
    for (const response of [await call('ListOpportunities', '', {}, 'GET'), await call('ListOpportunities', '{}', {}, 'POST', '/opportunities'), await call('', '{}')]) {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
    }
    const notJson = await call('ListOpportunities', '{"Catalog":');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ __type: 'SerializationException', message: 'The request body is not valid JSON.' });
    const plainJson = await call('ListOpportunities', '{"Catalog":"Sandbox"}', { 'content-type': 'application/json' });
    expect(await plainJson.json()).toMatchObject({ __type: 'SerializationException' });
    expect(sandbox.counters.get('unknown.UnknownOperationException')).toBe(3);
    expect(sandbox.counters.get('ListOpportunities.SerializationException')).toBe(2);
  });

  it('injects AWS faults: InternalServerException, ThrottlingException, and calls that never answer', async () => {
    const { sandbox, sdk } = await connect();
    sandbox.faults.set({ serverErrorRate: 1 });
    expect(await rejection(sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox' })))).toMatchObject({ name: 'InternalServerException', $metadata: { httpStatusCode: 500 } });
    sandbox.faults.set({ rateLimitRate: 1 });
    expect(await rejection(sdk.send(new ListOpportunitiesCommand({ Catalog: 'Sandbox' })))).toBeInstanceOf(ThrottlingException);
    sandbox.faults.set({ timeoutRate: 1 });
    const hung = await rejection(fetch(sandbox.url, {
      method: 'POST', body: '{"Catalog":"Sandbox"}', signal: AbortSignal.timeout(200),
      headers: { ...signed, 'x-amz-target': 'AWSPartnerCentralSelling.ListOpportunities' },
    }));
    expect(hung.name).toBe('TimeoutError');
    expect(sandbox.counters.get('ListOpportunities')).toBe(3);
  });
});
