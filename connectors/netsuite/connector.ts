import {
  AuthError, RateLimitError, type CheckResult, type Connector, type Cursor, type DeleteOp, type FieldSpec, type FieldType, type ObjectSpec, type Page, type ReadOptions, type SourceRecord, type SystemIdentity, type WriteOp, type WriteResult,
} from '../../src/sync/protocol.js';
import { signingKey, TokenSource, type Algorithm } from './auth.js';
import type { RetryLimits } from '../shared/retry.js';
import { NetSuiteClient, NetSuiteRequestError } from './calls.js';
import { EXTERNAL_ID_FIELD, isCustomField, LINES_FIELD, NETSUITE_OBJECTS, netsuiteRecord, type NetSuiteRecord } from './descriptor.js';
import { sharedPacer, type ConcurrencyPacer } from './pacer.js';
import {
  afterStart, deletedQuery, deletedRecord, IN_LIST_LIMIT, lineOf, linesQuery, ReadPlan, startFromCursor, SUITEQL_PAGE_LIMIT, type Line, type ReadStart,
} from './read-plan.js';
import { prepareBody, writeErrorOf, type Lookups } from './write-plan.js';

/**
 * NetSuite ERP connector over SuiteTalk REST web services, in plain HTTP (NetSuite has no Node
 * SDK): OAuth 2.0 client credentials with a JWT assertion signed by jose; incremental reads by
 * SuiteQL keyset pages on (lastmodifieddate, id) and deletions from DeletedRecord; writes one
 * record per call (the REST record service has no batch write), upserted by external id
 * (`PUT /<type>/eid:<canonical id>`) or patched by internal id, sent concurrently under a pacer
 * that keeps the process within the account's concurrency limit.
 */
export interface NetSuiteConfig {
  /** TSTDRV1234567, 1234567 or 1234567_SB1 (a sandbox account). */
  accountId: string;
  /** REST base; https://<account>.suitetalk.api.netsuite.com/services/rest when absent (a sandbox URL in tests and demos). */
  baseUrl?: string;
  /** The integration record's client id (the assertion's iss). */
  clientId: string;
  /** The id NetSuite gave the certificate mapped in OAuth 2.0 Client Credentials (M2M) Setup (the assertion's kid). */
  certificateId: string;
  /** The certificate's private key, PEM. */
  privateKey: string;
  /** PS256/384/512 or ES256/384/512; implied by the key when absent (EC: by curve, RSA: PS256). */
  algorithm?: Algorithm;
  /** Requests this process keeps in flight for the account at most (default 10 of a base account's 15). */
  concurrency?: number;
  /**
   * Internal id of the subsidiary a new customer belongs to when its mapping writes none
   * (NetSuite OneWorld requires one); the root subsidiary when absent.
   */
  defaultSubsidiary?: string;
}

export interface NetSuiteConnectorOptions {
  /** Attempts and in-process waits for 429s (NETSUITE_RETRY when absent). */
  retry?: Partial<RetryLimits>;
  /** Per request (NETSUITE_TIMEOUT_MS when absent). */
  timeoutMs?: number;
  /** Paces requests; the process's pacer for the account when absent. */
  pacer?: ConcurrencyPacer;
  /** Clock for token expiry and assertion times (tests share the sandbox's). */
  now?: () => number;
}

/** Records one write call takes; they go out one request each, concurrently under the pacer. */
export const NETSUITE_BATCH_SIZE = 50;

interface SuiteQLPage {
  items: Record<string, unknown>[];
  hasMore: boolean;
}

interface ReadPage {
  records: SourceRecord[];
  cursor: Cursor | null;
  next?: ReadStart;
}

export class NetSuiteConnector implements Connector {
  readonly system = 'netsuite';
  readonly accountId: string;
  private readonly client: NetSuiteClient;
  private readonly tokens: TokenSource;
  private lookups: Promise<Lookups> | undefined;

  constructor(private readonly config: NetSuiteConfig, options: NetSuiteConnectorOptions = {}) {
    for (const key of ['accountId', 'clientId', 'certificateId', 'privateKey'] as const) {
      if (typeof config[key] !== 'string' || config[key] === '') throw new Error(`NetSuite config needs ${key}`);
    }
    this.accountId = normalizeAccount(config.accountId);
    const baseUrl = (config.baseUrl ?? `https://${this.accountId.toLowerCase().replace(/_/g, '-')}.suitetalk.api.netsuite.com/services/rest`).replace(/\/+$/, '');
    const pacer = options.pacer ?? sharedPacer(this.accountId, config.concurrency);
    this.client = new NetSuiteClient({ baseUrl, pacer, retry: options.retry, timeoutMs: options.timeoutMs });
    const tokenUrl = `${baseUrl}/auth/oauth2/v1/token`;
    this.tokens = new TokenSource(
      { clientId: config.clientId, certificateId: config.certificateId, signing: signingKey(config.privateKey, config.algorithm), tokenUrl },
      (form) => this.client.postForm(tokenUrl, form),
      options.now,
    );
    this.client.useTokens(this.tokens);
  }

  get pacer(): ConcurrencyPacer {
    return this.client.pacer;
  }

  maxBatchSize(): number {
    return NETSUITE_BATCH_SIZE;
  }

  /**
   * Gets a token and the account's concurrency limit (governanceLimits answers administrators
   * only; other roles are checked with a SuiteQL query instead). A limit lower than the pacer's
   * ceiling lowers it.
   */
  async check(): Promise<CheckResult> {
    try {
      const details: Record<string, string> = { account: this.accountId };
      try {
        const { body } = await this.client.request<{ accountConcurrencyLimit?: number; integrationConcurrencyLimit?: number; integrationLimitType?: string }>('GET', '/system/v1/governanceLimits');
        const limit = body.integrationConcurrencyLimit ?? body.accountConcurrencyLimit;
        if (typeof limit === 'number') {
          details.concurrencyLimit = String(limit);
          if (limit < this.pacer.limit.ceiling) this.pacer.setCeiling(limit);
        }
        if (body.integrationLimitType) details.limitType = body.integrationLimitType;
      } catch (error) {
        if (!(error instanceof NetSuiteRequestError)) throw error;
        await this.suiteql('SELECT id FROM subsidiary', 1, 0);
      }
      return { ok: true, message: `Connected to NetSuite account ${this.accountId}`, details };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * `netsuite:<account id>`: the account NetSuite issued the access token for (its jti and aud
   * name it), which must be the configured one; the label is the root subsidiary's name.
   */
  async identify(): Promise<SystemIdentity> {
    const token = await this.tokens.get();
    const account = this.tokens.accountOf(token) ?? this.accountId;
    if (account !== this.accountId) {
      throw new Error(`the NetSuite credentials reach account ${account}, not the configured accountId ${this.accountId}: fix accountId or baseUrl`);
    }
    const page = await this.suiteql('SELECT s.name AS name FROM subsidiary s WHERE s.parent IS NULL ORDER BY s.id', 1, 0);
    const name = page.items[0]?.name;
    return { instance: `netsuite:${account}`, label: typeof name === 'string' ? `${name} (${account})` : `account ${account}` };
  }

  /** The metadata catalog's view of each record, overlaid on the descriptor, with the account's custom fields and its currencies and terms. */
  async discover(): Promise<ObjectSpec[]> {
    const lookups = await this.lookupsOnce();
    const specs: ObjectSpec[] = [];
    for (const known of NETSUITE_OBJECTS) {
      const { body } = await this.client.request<JsonSchema>('GET', `/record/v1/metadata-catalog/${known.name}`, { headers: { accept: 'application/schema+json' } });
      specs.push(specFromSchema(known, body, lookups));
    }
    return specs;
  }

  async *read(object: string, options: ReadOptions): AsyncIterable<Page> {
    const info = netsuiteRecord(object);
    const plan = new ReadPlan(info, options.fields);
    const limit = Math.max(1, Math.min(options.pageSize ?? SUITEQL_PAGE_LIMIT, SUITEQL_PAGE_LIMIT));
    const start = startFromCursor(options.cursor, options.lookbackMs);
    let cursor: Cursor | null = options.cursor;
    // The next page is asked for as soon as this one is in, so NetSuite's latency overlaps the caller's work.
    let pending: Promise<ReadPage> | undefined = this.readPage(plan, start, limit);
    while (pending) {
      const page: ReadPage = await pending;
      pending = page.next ? this.readPage(plan, page.next, limit) : undefined;
      pending?.catch(() => undefined);
      if (page.records.length === 0) break;
      cursor = page.cursor;
      yield { records: page.records, cursor };
    }
    if (options.includeDeleted) yield* this.readDeleted(info, start, cursor, limit);
  }

  private async readPage(plan: ReadPlan, start: ReadStart | null, limit: number): Promise<ReadPage> {
    const res = await this.suiteql(plan.query([afterStart(start, 'r.lastmodifieddate', 'r.id')]), limit, 0);
    const records = res.items.map((row) => plan.record(row));
    if (records.length === 0) return { records, cursor: null };
    if (plan.wantsLines) await this.fillLines(records);
    const last = records[records.length - 1];
    const cursor = { modifiedAt: last.modifiedAt, id: last.id };
    return { records, cursor, ...(res.hasMore ? { next: { ms: Date.parse(last.modifiedAt), id: last.id } } : {}) };
  }

  /**
   * Deletions from DeletedRecord since the read's start; the pages carry the live read's cursor.
   * The start's instant is taken whole: the cursor's id is a live record's and says nothing of
   * deletions at that second (one seen twice is harmless).
   */
  private async *readDeleted(info: NetSuiteRecord, start: ReadStart | null, cursor: Cursor | null, limit: number): AsyncIterable<Page> {
    let from: ReadStart | null = start && { ms: start.ms, id: null };
    for (;;) {
      const res = await this.suiteql(deletedQuery(info, from), limit, 0);
      const records = res.items.map(deletedRecord);
      if (records.length > 0) yield { records, cursor };
      if (!res.hasMore || records.length === 0) return;
      const last = records[records.length - 1];
      from = { ms: Date.parse(last.modifiedAt), id: last.id };
    }
  }

  /** Current state of records by internal id (SuiteQL IN lists); missing ids are left out. */
  async readByIds(object: string, ids: string[], fields: string[]): Promise<SourceRecord[]> {
    const info = netsuiteRecord(object);
    const plan = new ReadPlan(info, fields);
    const numeric = [...new Set(ids.filter((id) => /^\d+$/.test(id)))];
    const out: SourceRecord[] = [];
    for (let i = 0; i < numeric.length; i += IN_LIST_LIMIT) {
      const chunk = numeric.slice(i, i + IN_LIST_LIMIT);
      for (let offset = 0; ; offset += SUITEQL_PAGE_LIMIT) {
        const res = await this.suiteql(plan.query([`r.id IN (${chunk.join(', ')})`]), SUITEQL_PAGE_LIMIT, offset);
        out.push(...res.items.map((row) => plan.record(row)));
        if (!res.hasMore) break;
      }
    }
    if (plan.wantsLines && out.length > 0) await this.fillLines(out);
    return out;
  }

  /** Sets `item.items` on transactions from transactionline, one query per thousand transactions. */
  private async fillLines(records: SourceRecord[]): Promise<void> {
    const byId = new Map<string, Line[]>(records.map((r) => [r.id, []]));
    const ids = [...byId.keys()];
    for (let i = 0; i < ids.length; i += IN_LIST_LIMIT) {
      const q = linesQuery(ids.slice(i, i + IN_LIST_LIMIT));
      for (let offset = 0; ; offset += SUITEQL_PAGE_LIMIT) {
        const res = await this.suiteql(q, SUITEQL_PAGE_LIMIT, offset);
        for (const row of res.items) byId.get(String(row.tran))?.push(lineOf(row));
        if (!res.hasMore) break;
      }
    }
    for (const r of records) r.fields[LINES_FIELD] = byId.get(r.id) ?? [];
  }

  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    const info = netsuiteRecord(object);
    const named = ops.flatMap((op) => Object.entries(op.fields).flatMap(([f, v]) => {
      const kind = info.writes[f]?.kind;
      return (kind === 'currencyCode' || kind === 'termsName') && v !== null && v !== undefined && v !== '' ? [{ kind, name: String(v).toLowerCase() }] : [];
    }));
    let lookups = named.length > 0 ? await this.lookupsOnce() : undefined;
    // A currency or term added in NetSuite since they were read: read them again, once.
    if (lookups && named.some((n) => !(n.kind === 'currencyCode' ? lookups!.currencies : lookups!.terms).has(n.name))) {
      this.lookups = undefined;
      lookups = await this.lookupsOnce();
    }
    return Promise.all(ops.map((op) => this.writeOne(info, op, lookups)));
  }

  /**
   * One record, one request where it can be: an op that knows the internal id patches it (and
   * stamps the canonical id as its external id); any other is a create, upserted by external id,
   * so a create sent again after a crash updates the record it made instead of making a second.
   * Only a patch that writes the billing address reads the record first, for the default billing
   * line's id (addressBook is keyed by line id: the line is updated in place rather than a second
   * one added); a create's billing line replaces the address book, which holds only what an
   * earlier attempt of the same create put there.
   */
  private async writeOne(info: NetSuiteRecord, op: WriteOp, lookups: Lookups | undefined): Promise<WriteResult> {
    const prepared = prepareBody(info, op.fields, lookups);
    if (prepared.errors.length > 0) {
      const fields = prepared.errors.flatMap((e) => e.fields ?? []);
      return { key: op.key, ok: false, retryable: false, error: { ...prepared.errors[0], message: prepared.errors.map((e) => e.message).join('; '), fields } };
    }
    const path = `/record/v1/${info.object}/${op.externalId ?? `eid:${encodeURIComponent(op.key)}`}`;
    const replace = prepared.lines ? ['item'] : [];
    try {
      if (op.externalId) {
        if (prepared.billing) {
          const existing = await this.getRecord(path, { expandSubResources: 'true', fields: 'addressBook' });
          if (!existing) return { key: op.key, ok: false, retryable: false, error: { code: 'NONEXISTENT_ID', message: `NetSuite ${info.object} ${op.externalId} does not exist (deleted in NetSuite?)` } };
          prepared.body.addressBook = { items: [billingLine(existing, prepared.billing)] };
        }
        await this.client.request('PATCH', path, { body: { ...prepared.body, [EXTERNAL_ID_FIELD]: op.key }, query: replace.length > 0 ? { replace: replace.join(',') } : undefined });
        return { key: op.key, ok: true, externalId: op.externalId, created: false };
      }
      if (prepared.billing) {
        prepared.body.addressBook = { items: [billingLine(undefined, prepared.billing)] };
        replace.push('addressBook');
      }
      // A customer created from a CRM has no subsidiary there: NetSuite needs one.
      if (info.object === 'customer' && prepared.body.subsidiary === undefined) prepared.body.subsidiary = { id: await this.defaultSubsidiary() };
      const res = await this.client.request('PUT', path, { body: prepared.body, query: replace.length > 0 ? { replace: replace.join(',') } : undefined });
      const id = idFromLocation(res.headers.get('location'));
      if (!id) return { key: op.key, ok: false, retryable: true, error: { code: 'NO_LOCATION', message: `NetSuite accepted the ${info.object} but named no record in its Location header` } };
      return { key: op.key, ok: true, externalId: id, created: true };
    } catch (error) {
      return failure(op.key, error);
    }
  }

  async delete(object: string, ops: DeleteOp[]): Promise<WriteResult[]> {
    const info = netsuiteRecord(object);
    return Promise.all(ops.map(async (op): Promise<WriteResult> => {
      try {
        await this.client.request('DELETE', `/record/v1/${info.object}/${op.externalId}`);
        return { key: op.key, ok: true, externalId: op.externalId, created: false };
      } catch (error) {
        // Already gone is what a delete wants.
        if (error instanceof NetSuiteRequestError && error.status === 404) return { key: op.key, ok: true, externalId: op.externalId, created: false };
        return failure(op.key, error);
      }
    }));
  }

  /** A record by path, or undefined on 404. */
  private async getRecord(path: string, query: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.client.request<Record<string, unknown>>('GET', path, { query })).body;
    } catch (error) {
      if (error instanceof NetSuiteRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async suiteql(q: string, limit: number, offset: number): Promise<SuiteQLPage> {
    const { body } = await this.client.request<{ items?: Record<string, unknown>[]; hasMore?: boolean }>('POST', '/query/v1/suiteql', {
      query: { limit, offset },
      headers: { prefer: 'transient' },
      body: { q },
    });
    return { items: body.items ?? [], hasMore: body.hasMore === true };
  }

  private rootSubsidiary?: Promise<string>;

  /** The configured subsidiary of new customers, else the account's root subsidiary (read once). */
  private defaultSubsidiary(): Promise<string> {
    if (this.config.defaultSubsidiary) return Promise.resolve(this.config.defaultSubsidiary);
    this.rootSubsidiary ??= this.suiteql('SELECT s.id AS id FROM subsidiary s WHERE s.parent IS NULL ORDER BY s.id', 1, 0).then((page) => {
      const id = page.items[0]?.id;
      if (id === undefined) throw new Error('NetSuite has no root subsidiary to put a new customer in: set defaultSubsidiary in the connection');
      return String(id);
    });
    this.rootSubsidiary.catch(() => { this.rootSubsidiary = undefined; });
    return this.rootSubsidiary;
  }

  /** The account's currencies and terms, read once per connector (they are setup data). */
  private lookupsOnce(): Promise<Lookups> {
    this.lookups ??= (async () => {
      const table = async (q: string) => {
        const map = new Map<string, { id: string; name: string }>();
        for (let offset = 0; ; offset += SUITEQL_PAGE_LIMIT) {
          const page = await this.suiteql(q, SUITEQL_PAGE_LIMIT, offset);
          for (const row of page.items) if (typeof row.name === 'string') map.set(row.name.toLowerCase(), { id: String(row.id), name: row.name });
          if (!page.hasMore) return map;
        }
      };
      return {
        currencies: await table('SELECT c.id AS id, c.symbol AS name FROM currency c ORDER BY c.id'),
        terms: await table('SELECT t.id AS id, t.name AS name FROM term t ORDER BY t.id'),
      };
    })();
    this.lookups.catch(() => {
      this.lookups = undefined;
    });
    return this.lookups;
  }
}

export function createNetSuiteConnector(config: NetSuiteConfig, options?: NetSuiteConnectorOptions): NetSuiteConnector {
  return new NetSuiteConnector(config, options);
}

function normalizeAccount(id: string): string {
  const normal = id.trim().toUpperCase().replace(/-/g, '_');
  if (!/^[A-Z0-9_]+$/.test(normal)) throw new Error(`NetSuite accountId must be an account id such as 1234567 or 1234567_SB1; got "${id}"`);
  return normal;
}

function idFromLocation(location: string | null): string | undefined {
  const last = location?.split('/').pop();
  return last && /^\d+$/.test(last) ? last : undefined;
}

/** The default billing line to write: the existing one updated in place, or a new line flagged default billing. */
function billingLine(existing: Record<string, unknown> | undefined, address: Record<string, unknown>): Record<string, unknown> {
  const lines = ((existing?.addressBook as { items?: { id?: string; defaultBilling?: boolean }[] } | undefined)?.items) ?? [];
  const current = lines.find((l) => l.defaultBilling);
  return { ...(current?.id ? { id: current.id } : {}), defaultBilling: true, addressBookAddress: address };
}

function failure(key: string, error: unknown): WriteResult {
  if (error instanceof NetSuiteRequestError) {
    const { error: e, retryable } = writeErrorOf(error.status, error.details);
    return { key, ok: false, error: e, retryable };
  }
  if (error instanceof AuthError || error instanceof RateLimitError) throw error;
  // Network errors and timeouts: the upsert or patch is safe to send again.
  return { key, ok: false, retryable: true, error: { code: 'NETWORK_ERROR', message: error instanceof Error ? error.message : String(error) } };
}

// ---- discover --------------------------------------------------------------------------------

interface JsonSchemaProperty {
  title?: string;
  type?: string;
  format?: string;
  readOnly?: boolean;
  properties?: Record<string, JsonSchemaProperty & { enum?: string[] }>;
  links?: { rel?: string; href?: string }[];
  'x-ns-custom-field'?: boolean;
}

interface JsonSchema {
  properties?: Record<string, JsonSchemaProperty>;
}

function schemaType(p: JsonSchemaProperty): FieldType {
  if (p.type === 'boolean') return 'boolean';
  if (p.type === 'integer') return 'integer';
  if (p.type === 'number') return 'number';
  if (p.type === 'object') return p.properties?.id?.enum ? 'picklist' : 'reference';
  if (p.format === 'date') return 'date';
  if (p.format === 'date-time') return 'datetime';
  if (p.format === 'email') return 'email';
  return 'string';
}

/**
 * The record's live schema over the descriptor: labels and read-only flags of the fields the
 * descriptor knows (its types and presentations stay), the account's custom fields added, and
 * the account's currencies and terms as the picklists of `currency` and `terms`.
 */
export function specFromSchema(known: ObjectSpec, schema: JsonSchema, lookups: Lookups): ObjectSpec {
  const live = schema.properties ?? {};
  const fields: FieldSpec[] = known.fields.map((f) => {
    const p = live[f.name];
    let out: FieldSpec = { ...f };
    if (p && f.name !== LINES_FIELD) {
      out = { ...out, label: p.title ?? f.label };
      if (p.readOnly) out = { ...out, createable: false, updateable: false };
    }
    if (f.name === 'currency') out.picklistValues = [...lookups.currencies.values()].map((v) => v.name);
    if (f.name === 'terms') out.picklistValues = [...lookups.terms.values()].map((v) => v.name);
    return out;
  });
  for (const [name, p] of Object.entries(live)) {
    if (!(p['x-ns-custom-field'] || isCustomField(name)) || fields.some((f) => f.name === name)) continue;
    const type = schemaType(p);
    const referenceTo = p.links?.find((l) => l.rel === 'describedby')?.href?.split('/').pop();
    fields.push({
      name, type, label: p.title ?? name, nillable: true, createable: !p.readOnly, updateable: !p.readOnly,
      ...(type === 'reference' && referenceTo ? { referenceTo } : {}),
    });
  }
  return { ...known, fields };
}

