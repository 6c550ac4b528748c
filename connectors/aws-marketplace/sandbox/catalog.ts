import { isoSeconds } from './clock.js';
import { CHANGE_TYPES, type ChangeContext } from './changes.js';
import { shapeIssues } from './documents.js';
import { ENTITY_TYPE, type Entity, type Offer } from './entities.js';
import { catalogNotFound, catalogValidation, resourceInUse, type ValidationField } from './errors.js';
import { authorizationReleaseIssues, offerReleaseIssues, resaleOfferIssues, type ErrorDetail } from './rules.js';
import type { MarketplaceStore } from './store.js';
import { arnOf, compact, entityDetails, entitySummary, entityType } from './views.js';

/**
 * The Catalog API: change sets that create and change offers and resale authorizations, run on
 * the marketplace clock (PREPARING, APPLYING, then SUCCEEDED or FAILED as a whole), lock the
 * entities they touch while in flight, and announce their outcome on EventBridge; DescribeEntity
 * and ListEntities to read the result.
 */
export const CATALOG = 'AWSMarketplace';
const MAX_CHANGES = 20;
const CHANGE_NAME = /^[a-zA-Z]+$/;
const REFERENCE = /^\$([A-Za-z]+)\.Entity\.Identifier$/;
const ENTITY_ID = /^[\w-]+$/;

type Status = 'PREPARING' | 'APPLYING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
type Input = Record<string, unknown>;

interface PlannedChange {
  changeType: string;
  entityType: string;
  changeName?: string;
  entityId: string;
  creates: boolean;
  document: Record<string, unknown>;
  errors: ErrorDetail[];
}

export interface ChangeSet {
  id: string;
  arn: string;
  name: string;
  owner: string;
  intent: 'APPLY' | 'VALIDATE';
  token?: string;
  fingerprint: string;
  startTime: number;
  applyingAt: number;
  dueAt: number;
  endTime?: number;
  status: Status;
  failureCode?: 'CLIENT_ERROR' | 'SERVER_FAULT';
  failureDescription?: string;
  changes: PlannedChange[];
  /** Existing entities the set holds until it finishes. */
  locks: string[];
}

export interface CatalogOptions {
  /** How long a change set takes on the marketplace clock (PREPARING for the first half); 0 settles it by the next call. */
  changeSetMs?: number;
}

export class Catalog {
  readonly sets = new Map<string, ChangeSet>();
  private readonly locks = new Map<string, ChangeSet>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private serverFaults = 0;
  changeSetMs: number;

  constructor(private readonly store: MarketplaceStore, options: CatalogOptions = {}) {
    this.changeSetMs = options.changeSetMs ?? 0;
  }

  // ---- StartChangeSet ------------------------------------------------------------------------

  startChangeSet(account: string, input: Input): { ChangeSetId: string; ChangeSetArn: string } {
    checkCatalog(input.Catalog);
    const token = optionalString(input.ClientRequestToken, 'ClientRequestToken', 36);
    const fingerprint = stableJson({ ...input, ClientRequestToken: undefined });
    if (token !== undefined) {
      const earlier = [...this.sets.values()].find((s) => s.owner === account && s.token === token);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) {
          throw catalogValidation(`ClientRequestToken ${token} was already used by change set ${earlier.id} for a different request; use a new token for a new request.`);
        }
        return { ChangeSetId: earlier.id, ChangeSetArn: earlier.arn };
      }
    }
    const intent = input.Intent === undefined ? 'APPLY' : input.Intent;
    if (intent !== 'APPLY' && intent !== 'VALIDATE') throw catalogValidation(`Intent must be APPLY or VALIDATE, got ${JSON.stringify(intent)}.`);
    const name = optionalString(input.ChangeSetName, 'ChangeSetName', 100);
    const requested = input.ChangeSet;
    if (!Array.isArray(requested) || requested.length === 0) throw catalogValidation('ChangeSet must list at least one change.');
    if (requested.length > MAX_CHANGES) throw catalogValidation(`ChangeSet has ${requested.length} changes; a change set takes at most ${MAX_CHANGES}.`);

    const changes = this.plan(account, requested);
    const locks = [...new Set(changes.filter((c) => !c.creates).map((c) => c.entityId))];
    for (const id of locks) {
      const holder = this.locks.get(id);
      if (holder) throw resourceInUse(`Entity ${id} is in use by change set ${holder.id} (${holder.status}). Start this change set again when that one has finished.`);
    }
    const id = this.store.ids.changeSet();
    const now = this.store.now();
    const set: ChangeSet = {
      id,
      arn: `arn:aws:aws-marketplace:us-east-1:${account}:${CATALOG}/ChangeSet/${id}`,
      name: name ?? `Submitted by ${account}`,
      owner: account,
      intent,
      token,
      fingerprint,
      startTime: now,
      applyingAt: now + Math.floor(this.changeSetMs / 2),
      dueAt: now + this.changeSetMs,
      status: 'PREPARING',
      changes,
      locks,
    };
    this.sets.set(id, set);
    for (const entity of locks) this.locks.set(entity, set);
    this.schedule(set.applyingAt - now);
    this.schedule(set.dueAt - now);
    return { ChangeSetId: set.id, ChangeSetArn: set.arn };
  }

  /** Reads every requested change: its type, entity and document, refusing a malformed set as a whole. */
  private plan(account: string, requested: unknown[]): PlannedChange[] {
    const planned: PlannedChange[] = [];
    const fields: ValidationField[] = [];
    requested.forEach((raw, i) => {
      const at = `ChangeSet[${i}]`;
      const change = (raw && typeof raw === 'object' ? raw : {}) as Input;
      const entity = (change.Entity && typeof change.Entity === 'object' ? change.Entity : {}) as Input;
      const changeType = change.ChangeType;
      const type = entity.Type;
      if (typeof changeType !== 'string' || !/^[A-Z]\w*$/.test(changeType)) throw catalogValidation(`${at}.ChangeType is required (a name such as CreateOffer).`);
      if (typeof type !== 'string' || !(type in CHANGE_TYPES)) {
        throw catalogValidation(`${at}.Entity.Type ${JSON.stringify(type)} is not an entity type of catalog ${CATALOG} (${Object.keys(CHANGE_TYPES).join(', ')}).`, [
          { Reason: 'UnknownOperation', ChangeType: changeType, Field: 'Entity.Type', Message: `Unknown entity type ${String(type)}` },
        ]);
      }
      const spec = CHANGE_TYPES[type][changeType];
      if (!spec) {
        throw catalogValidation(`${at}: ${changeType} is not a change type of ${type}.`, [
          { Reason: 'UnknownOperation', EntityType: type, ChangeType: changeType, Field: 'ChangeType', Message: `Unknown change type ${changeType} for ${type}` },
        ]);
      }
      const document = detailsOf(change, at, type, changeType);
      const changeName = change.ChangeName;
      if (changeName !== undefined) {
        if (typeof changeName !== 'string' || !CHANGE_NAME.test(changeName) || changeName.length > 72) {
          throw catalogValidation(`${at}.ChangeName must be 1 to 72 letters, got ${JSON.stringify(changeName)}.`);
        }
        if (planned.some((p) => p.changeName === changeName)) throw catalogValidation(`${at}.ChangeName ${changeName} is used by an earlier change of the set.`);
      }
      const creates = spec.create !== undefined;
      const entityId = this.resolve(account, entity.Identifier, creates, type, changeType, planned, at);
      const parsed = spec.schema.safeParse(document);
      if (!parsed.success) {
        for (const { field, message } of shapeIssues(parsed.error)) {
          fields.push({ Reason: 'FieldValidationFailed', EntityType: type, EntityId: creates ? undefined : entityId, ChangeType: changeType, Field: field, Message: `${at}.DetailsDocument.${field}: ${message}` });
        }
      }
      if (planned.some((p) => p.entityId === entityId && p.changeType === changeType)) {
        throw catalogValidation(`${at}: the change set already has a ${changeType} change for entity ${entity.Identifier as string}; a change type may touch an entity once per change set.`);
      }
      planned.push({ changeType, entityType: type, changeName: changeName as string | undefined, entityId, creates, document, errors: [] });
    });
    if (fields.length > 0) throw catalogValidation(fields[0].Message, fields.map((f) => compact({ ...f })));
    return planned;
  }

  /** The entity a change is about: a new id for a create, an earlier change's entity for `$Name.Entity.Identifier`, or an existing one. */
  private resolve(account: string, identifier: unknown, creates: boolean, type: string, changeType: string, planned: PlannedChange[], at: string): string {
    if (creates) {
      if (identifier !== undefined) throw catalogValidation(`${at}.Entity.Identifier: ${changeType} makes a new entity and takes no identifier.`);
      return type === ENTITY_TYPE.Offer ? this.store.ids.offer() : this.store.ids.resaleAuthorization();
    }
    if (typeof identifier !== 'string' || identifier === '') throw catalogValidation(`${at}.Entity.Identifier is required for ${changeType}.`);
    const reference = REFERENCE.exec(identifier);
    if (reference) {
      const earlier = planned.find((p) => p.changeName === reference[1]);
      if (!earlier) throw catalogValidation(`${at}.Entity.Identifier ${identifier} names no earlier change of the set (no change is named ${reference[1]}).`);
      if (earlier.entityType !== type) throw catalogValidation(`${at}.Entity.Identifier ${identifier} is a ${earlier.entityType}, not a ${type}.`);
      return earlier.entityId;
    }
    if (identifier.startsWith('$')) throw catalogValidation(`${at}.Entity.Identifier ${identifier} is not a reference of the form $ChangeName.Entity.Identifier.`);
    const id = identifier.replace(/@\d+$/, '');
    const entity = this.store.entity(id);
    if (!entity || entityType(entity) !== type || entity.owner !== account) throw catalogNotFound(`Entity ${identifier} of type ${type} was not found.`);
    return id;
  }

  // ---- the set's run ---------------------------------------------------------------------------

  private schedule(ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.tick();
    }, Math.max(0, ms));
    timer.unref();
    this.timers.add(timer);
  }

  /** Moves every set along to where the clock says it is. */
  tick(): void {
    const now = this.store.now();
    for (const set of this.inFlight()) {
      if (now >= set.dueAt) this.finish(set);
      else if (now >= set.applyingAt) set.status = 'APPLYING';
    }
  }

  /** Finishes every set in flight now, whatever the clock says. */
  settle(): void {
    for (const set of this.inFlight()) this.finish(set);
  }

  /** The next set to finish fails with SERVER_FAULT (AWS's side failed: the set can be started again). */
  failNextWithServerFault(): void {
    this.serverFaults++;
  }

  private inFlight(): ChangeSet[] {
    return [...this.sets.values()].filter((s) => s.status === 'PREPARING' || s.status === 'APPLYING').sort((a, b) => a.startTime - b.startTime);
  }

  private finish(set: ChangeSet): void {
    const now = this.store.now();
    set.endTime = now;
    for (const id of set.locks) this.locks.delete(id);
    if (this.serverFaults > 0) {
      this.serverFaults--;
      return this.fail(set, 'SERVER_FAULT', 'An internal error occurred while the change set was applied. Start it again.');
    }
    const work = this.run(set, now);
    const failed = set.changes.filter((c) => c.errors.length > 0).length;
    if (failed > 0) {
      return this.fail(set, 'CLIENT_ERROR', `${failed} of ${set.changes.length} changes failed validation; see each change's ErrorDetailList. No change of the set was applied.`);
    }
    set.status = 'SUCCEEDED';
    if (set.intent === 'APPLY') this.commit(set, work, now);
    this.changeSetEvent(set, 'Change Set Succeeded');
  }

  /** Applies the set's changes to copies of its entities, recording each change's errors. */
  private run(set: ChangeSet, now: number): Map<string, Entity> {
    const store = this.store;
    const ctx: ChangeContext = {
      store,
      account: set.owner,
      now,
      wasReleased(id) {
        const e = store.entity(id);
        return e?.kind === 'Offer' ? e.state === 'Released' : e?.kind === 'ResaleAuthorization' ? e.status !== 'Draft' : false;
      },
    };
    const work = new Map<string, Entity>();
    const notCreated = new Set<string>();
    for (const change of set.changes) {
      const spec = CHANGE_TYPES[change.entityType][change.changeType];
      change.errors = [];
      if (spec.create) {
        const { entity, issues } = spec.create(ctx, change.entityId, change.document);
        change.errors = issues;
        if (entity) work.set(change.entityId, entity);
        else notCreated.add(change.entityId);
        continue;
      }
      // A change to an entity whose creation failed has nothing to apply to; the create reports why.
      if (notCreated.has(change.entityId)) continue;
      let entity = work.get(change.entityId);
      if (!entity) {
        entity = structuredClone(store.entity(change.entityId)!);
        work.set(change.entityId, entity);
      }
      change.errors = spec.apply!(ctx, entity, change.document);
    }
    // Release rules judge the entity as the whole set leaves it (a release may come before the terms it needs).
    for (const change of set.changes) {
      const entity = work.get(change.entityId);
      if (!entity || !CHANGE_TYPES[change.entityType][change.changeType].releases) continue;
      change.errors.push(...this.releaseIssues(entity, now));
    }
    return work;
  }

  private releaseIssues(entity: Entity, now: number): ErrorDetail[] {
    if (entity.kind === 'ResaleAuthorization') return authorizationReleaseIssues(entity);
    if (entity.kind !== 'Offer') return [];
    const issues = offerReleaseIssues(entity, this.store.offerTerms(entity));
    if (entity.resaleAuthorizationId) issues.push(...resaleOfferIssues(entity, this.store.resaleAuthorizations.get(entity.resaleAuthorizationId), now, false));
    return issues;
  }

  private commit(set: ChangeSet, work: Map<string, Entity>, now: number): void {
    const released: Offer[] = [];
    for (const entity of work.values()) {
      const before = this.store.entity(entity.id);
      entity.revision = (before?.revision ?? 0) + 1;
      entity.lastModified = now;
      if (entity.kind === 'Offer') {
        if (entity.state === 'Released' && (before as Offer | undefined)?.state !== 'Released') released.push(entity);
        if (!before && entity.resaleAuthorizationId) this.store.resaleAuthorizations.get(entity.resaleAuthorizationId)!.offersCreated++;
        this.store.offers.set(entity.id, entity);
      } else if (entity.kind === 'ResaleAuthorization') {
        this.store.resaleAuthorizations.set(entity.id, entity);
      }
    }
    for (const offer of released) this.offerReleasedEvent(offer);
  }

  private fail(set: ChangeSet, code: 'CLIENT_ERROR' | 'SERVER_FAULT', description: string): void {
    set.status = 'FAILED';
    set.failureCode = code;
    set.failureDescription = description;
    this.changeSetEvent(set, 'Change Set Failed');
  }

  // ---- events ----------------------------------------------------------------------------------

  private changeSetEvent(set: ChangeSet, detailType: string): void {
    this.store.events.emit({
      detailType,
      source: 'aws.marketplacecatalog',
      account: set.owner,
      resources: [set.arn],
      detail: compact({
        Catalog: CATALOG,
        ChangeSetId: set.id,
        ChangeSetName: set.name,
        Intent: set.intent,
        StartTime: isoSeconds(set.startTime),
        EndTime: set.endTime === undefined ? undefined : isoSeconds(set.endTime),
        FailureCode: set.failureCode,
      }),
    });
  }

  private offerReleasedEvent(offer: Offer): void {
    const product = this.store.productOf(offer);
    const authorization = offer.resaleAuthorizationId ? this.store.resaleAuthorizations.get(offer.resaleAuthorizationId) : undefined;
    const manufacturer = authorization?.owner ?? offer.owner;
    this.store.events.emit({
      detailType: 'Offer Released',
      source: 'aws.marketplacecatalog',
      account: offer.owner,
      resources: [arnOf(offer)],
      detail: {
        catalog: CATALOG,
        offer: compact({ id: offer.id, arn: arnOf(offer), name: offer.name, expirationDate: offer.availabilityEndDate ? `${offer.availabilityEndDate}T23:59:59Z` : undefined }),
        product: { id: product.id, arn: arnOf(product), title: product.title },
        manufacturer: { accountId: manufacturer, name: this.store.legalName(manufacturer) },
        sellerOfRecord: { accountId: offer.owner, name: this.store.legalName(offer.owner) },
        targetedBuyerAccountIds: offer.buyerAccounts ?? [],
      },
    });
  }

  // ---- DescribeChangeSet, CancelChangeSet ------------------------------------------------------

  describeChangeSet(account: string, query: Input): Record<string, unknown> {
    checkCatalog(query.catalog);
    this.tick();
    const set = this.setOf(account, query.changeSetId);
    const done = set.status === 'SUCCEEDED' && set.intent === 'APPLY';
    return compact({
      ChangeSetId: set.id,
      ChangeSetArn: set.arn,
      ChangeSetName: set.name,
      Intent: set.intent,
      StartTime: isoSeconds(set.startTime),
      EndTime: set.endTime === undefined ? undefined : isoSeconds(set.endTime),
      Status: set.status,
      FailureCode: set.failureCode,
      FailureDescription: set.failureDescription,
      ChangeSet: set.changes.map((c) => compact({
        ChangeType: c.changeType,
        Entity: compact({ Type: c.entityType, Identifier: c.creates ? (done ? `${c.entityId}@1` : undefined) : c.entityId }),
        Details: JSON.stringify(c.document),
        DetailsDocument: c.document,
        ErrorDetailList: c.errors,
        ChangeName: c.changeName,
      })),
    });
  }

  cancelChangeSet(account: string, query: Input): { ChangeSetId: string; ChangeSetArn: string } {
    checkCatalog(query.catalog);
    this.tick();
    const set = this.setOf(account, query.changeSetId);
    if (set.status === 'APPLYING') throw resourceInUse(`Change set ${set.id} is already APPLYING and can no longer be cancelled.`);
    if (set.status !== 'PREPARING') throw catalogValidation(`Change set ${set.id} has finished (${set.status}) and cannot be cancelled.`);
    set.status = 'CANCELLED';
    set.endTime = this.store.now();
    for (const id of set.locks) this.locks.delete(id);
    this.changeSetEvent(set, 'Change Set Cancelled');
    return { ChangeSetId: set.id, ChangeSetArn: set.arn };
  }

  private setOf(account: string, id: unknown): ChangeSet {
    if (typeof id !== 'string' || !ENTITY_ID.test(id)) throw catalogValidation('changeSetId is required.');
    const set = this.sets.get(id);
    if (!set || set.owner !== account) throw catalogNotFound(`Change set ${id} was not found.`);
    return set;
  }

  // ---- DescribeEntity, ListEntities -------------------------------------------------------------

  describeEntity(account: string, query: Input): Record<string, unknown> {
    checkCatalog(query.catalog);
    this.tick();
    const id = query.entityId;
    if (typeof id !== 'string' || !ENTITY_ID.test(id)) throw catalogValidation(`entityId must be an entity id such as offer-abcdefghijklm, got ${JSON.stringify(id)}.`);
    const entity = this.store.entity(id);
    if (!entity || !this.visible(account, entity)) throw catalogNotFound(`Entity ${id} was not found.`);
    const details = entityDetails(this.store, entity);
    return {
      EntityType: entityType(entity),
      EntityIdentifier: `${entity.id}@${entity.revision}`,
      EntityArn: arnOf(entity),
      LastModifiedDate: isoSeconds(entity.lastModified),
      Details: JSON.stringify(details),
      DetailsDocument: details,
    };
  }

  /** Owners see their entities; a reseller also sees the authorizations released to it. */
  private visible(account: string, entity: Entity): boolean {
    return entity.owner === account || (entity.kind === 'ResaleAuthorization' && entity.resellerAccountId === account && entity.status !== 'Draft');
  }

  listEntities(account: string, input: Input): Record<string, unknown> {
    checkCatalog(input.Catalog);
    this.tick();
    const type = input.EntityType;
    const kinds: Record<string, Entity['kind']> = { [ENTITY_TYPE.SaaSProduct]: 'SaaSProduct', [ENTITY_TYPE.Offer]: 'Offer', [ENTITY_TYPE.ResaleAuthorization]: 'ResaleAuthorization' };
    const bare = typeof type === 'string' ? type.replace(/@1\.0$/, '') : '';
    const kind = kinds[`${bare}@1.0`];
    if (!kind) throw catalogValidation(`EntityType ${JSON.stringify(type)} is not one the sandbox lists (SaaSProduct, Offer, ResaleAuthorization).`);
    const maxResults = input.MaxResults === undefined ? 20 : input.MaxResults;
    if (!Number.isInteger(maxResults) || (maxResults as number) < 1 || (maxResults as number) > 50) throw catalogValidation('MaxResults must be from 1 to 50.');
    const ownership = input.OwnershipType ?? 'SELF';
    if (ownership !== 'SELF' && ownership !== 'SHARED') throw catalogValidation('OwnershipType must be SELF or SHARED.');

    const all: Entity[] = [...(kind === 'SaaSProduct' ? this.store.products : kind === 'Offer' ? this.store.offers : this.store.resaleAuthorizations).values()];
    const mine = all.filter((e) => (ownership === 'SELF' ? e.owner === account : e.owner !== account && this.visible(account, e)));
    let rows = mine.map((e) => entitySummary(this.store, e));
    const typed = (input.EntityTypeFilters ?? {}) as Record<string, Record<string, FilterSpec>>;
    for (const [member, filters] of Object.entries(typed)) {
      if (member !== `${kind}Filters`) throw catalogValidation(`EntityTypeFilters.${member} does not apply to EntityType ${String(type)}; use ${kind}Filters.`);
      rows = rows.filter((row) => Object.entries(filters).every(([field, spec]) => matches(fieldOf(row, kind, field), spec)));
    }
    for (const filter of (input.FilterList ?? []) as { Name?: string; ValueList?: string[] }[]) {
      rows = rows.filter((row) => matches(fieldOf(row, kind, filter.Name ?? ''), { ValueList: filter.ValueList }));
    }
    const sort = (Object.values((input.EntityTypeSort ?? {}) as Record<string, SortSpec>)[0] ?? input.Sort) as SortSpec | undefined;
    if (sort?.SortBy) {
      const direction = sort.SortOrder === 'DESCENDING' ? -1 : 1;
      rows.sort((a, b) => direction * String(fieldOf(a, kind, sort.SortBy!) ?? '').localeCompare(String(fieldOf(b, kind, sort.SortBy!) ?? '')));
    }
    const key = stableJson({ type, ownership, filters: input.EntityTypeFilters, list: input.FilterList, sort });
    const offset = readToken(input.NextToken, key);
    const page = rows.slice(offset, offset + (maxResults as number));
    const next = offset + page.length < rows.length ? Buffer.from(JSON.stringify({ key, offset: offset + page.length })).toString('base64url') : undefined;
    return compact({ EntitySummaryList: page, NextToken: next });
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

interface FilterSpec {
  ValueList?: string[];
  WildCardValue?: string;
  DateRange?: { AfterValue?: string; BeforeValue?: string };
}
interface SortSpec {
  SortBy?: string;
  SortOrder?: string;
}

/** A summary's field: EntityId and LastModifiedDate on the row, the rest on the entity type's summary. */
function fieldOf(row: Record<string, unknown>, kind: Entity['kind'], field: string): unknown {
  if (field === 'EntityId' || field === 'LastModifiedDate') return row[field];
  const summary = row[`${kind}Summary`] as Record<string, unknown>;
  return summary[field] ?? (field === 'ProductTitle' || field === 'Name' ? row.Name : undefined);
}

function matches(value: unknown, spec: FilterSpec): boolean {
  const values = (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
  if (spec.ValueList && !values.some((v) => spec.ValueList!.includes(v))) return false;
  if (spec.WildCardValue !== undefined) {
    const needle = spec.WildCardValue.replace(/\*/g, '').toLowerCase();
    if (!values.some((v) => v.toLowerCase().includes(needle))) return false;
  }
  if (spec.DateRange) {
    const t = values.length > 0 ? Date.parse(values[0]) : NaN;
    if (Number.isNaN(t)) return false;
    if (spec.DateRange.AfterValue && t < Date.parse(spec.DateRange.AfterValue)) return false;
    if (spec.DateRange.BeforeValue && t > Date.parse(spec.DateRange.BeforeValue)) return false;
  }
  return true;
}

function readToken(token: unknown, key: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as { key: string; offset: number };
    if (parsed.key === key && Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // falls through to the refusal
  }
  throw catalogValidation('NextToken is not valid for this request: pass the NextToken of the previous page of the same query.');
}

/** The change's document, from DetailsDocument or from Details (a JSON string); one of them, not both. */
function detailsOf(change: Input, at: string, type: string, changeType: string): Record<string, unknown> {
  if (change.Details !== undefined && change.DetailsDocument !== undefined) throw catalogValidation(`${at}: give Details or DetailsDocument, not both.`);
  let document: unknown = change.DetailsDocument;
  if (change.Details !== undefined) {
    try {
      document = JSON.parse(String(change.Details));
    } catch (e) {
      throw catalogValidation(`${at}.Details is not valid JSON: ${(e as Error).message}`, [
        { Reason: 'CannotParse', EntityType: type, ChangeType: changeType, Field: 'Details', Message: 'Details must be a JSON object' },
      ]);
    }
  }
  if (document === undefined) throw catalogValidation(`${at}: ${changeType} needs a DetailsDocument (an empty object for ${changeType} if it takes nothing).`);
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    throw catalogValidation(`${at}.DetailsDocument must be a JSON object.`, [{ Reason: 'CannotParse', EntityType: type, ChangeType: changeType, Field: 'DetailsDocument', Message: 'must be a JSON object' }]);
  }
  return document as Record<string, unknown>;
}

function checkCatalog(catalog: unknown): void {
  if (catalog !== CATALOG) throw catalogValidation(`Catalog must be ${CATALOG}, got ${JSON.stringify(catalog)}.`);
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw catalogValidation(`${field} must be a string of 1 to ${max} characters.`);
  return value;
}

/** JSON with object keys sorted: two requests with the same content compare equal. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}
