import type { FaultInjector } from '../../../src/sandbox/index.js';
import type { FieldSpec, ObjectSpec } from '../../../src/sync/protocol.js';
import { hubspotObject, propertyFields } from '../descriptor.js';
import type { AssociationType } from './association-types.js';
import { batchReply, fail, invalidInput, standardError, type ErrorDetail, type Reply, type StandardError } from './errors.js';
import { checkSearchRequest, compileSearch, runSearch, SEARCH_RESULT_CAP, type SearchRequest } from './search.js';
import { singular, type HubSpotState, type StoredRecord } from './store.js';
import { knownProperty, validateProperties, validationMessage, type PropertyIssue } from './validate.js';

/**
 * The CRM object endpoints as plain functions of (state, request) → reply: list, get, create
 * (with associations), update, archive, merge, GDPR delete, batch read/create/update/upsert/archive,
 * search, and the properties API. Nothing in this file knows HTTP.
 */

export const MAX_BATCH_INPUTS = 100;
/** Reads that ask for property history take at most this many records (batch inputs, list pages). */
const MAX_HISTORY_INPUTS = 50;
const MAX_LIST_LIMIT = 100;

export const TYPE_ALIASES: Record<string, string> = {
  companies: 'companies', company: 'companies', '0-2': 'companies',
  contacts: 'contacts', contact: 'contacts', '0-1': 'contacts',
  deals: 'deals', deal: 'deals', '0-3': 'deals',
};

const DEFAULT_PROPERTIES: Record<string, string[]> = {
  companies: ['name', 'domain'],
  contacts: ['firstname', 'lastname', 'email'],
  deals: ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate'],
};

const NOT_FOUND = 'Object not found.  objectId are usually numeric.';

const iso = (ms: number) => new Date(ms).toISOString();

/** What a read asks for: properties (HubSpot's defaults when none), their history, associated object types. */
interface ReadShape {
  properties: string[] | 'all';
  history?: string[];
  associations?: string[];
}

/** An association a create asks for, checked. */
interface PlannedAssociation {
  to: string;
  toId: string;
  type: AssociationType;
}

export class CrmApi {
  private searchCache: { key: string; results: StoredRecord[] } | undefined;
  private listCache = new Map<string, { version: number; records: StoredRecord[] }>();

  constructor(
    private readonly state: HubSpotState,
    private readonly faults: FaultInjector,
    readonly options: { allOrNothingBatches: boolean },
    private readonly portalId: number,
  ) {}

  // ---- properties -----------------------------------------------------------------------------

  properties(type: string): Reply {
    const spec = hubspotObject(type);
    return { status: 200, body: { results: propertyFields(spec).map((f, i) => toProperty(spec, f, i)) } };
  }

  property(type: string, name: string): Reply {
    const spec = hubspotObject(type);
    const fields = propertyFields(spec);
    const at = fields.findIndex((f) => f.name === name);
    if (at < 0) fail(404, 'OBJECT_NOT_FOUND', `Unable to find property ${name} for object type ${singular(type)}`);
    return { status: 200, body: toProperty(spec, fields[at], at) };
  }

  // ---- single-object endpoints ----------------------------------------------------------------

  list(type: string, q: URLSearchParams): Reply {
    const limit = Number(q.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) fail(400, 'VALIDATION_ERROR', `limit must be between 1 and ${MAX_LIST_LIMIT}, got ${q.get('limit')}`);
    const shape = this.readShape(type, q);
    // Property history makes pages smaller, as in HubSpot.
    const pageSize = shape.history ? Math.min(limit, MAX_HISTORY_INPUTS) : limit;
    const archived = q.get('archived') === 'true';
    const records = this.listed(type, archived);
    const after = q.get('after');
    let start = 0;
    if (after) {
      const afterNum = Number(after);
      let lo = 0;
      let hi = records.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (records[mid].idNum < afterNum) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const page = records.slice(start, start + pageSize);
    const body: Record<string, unknown> = { results: page.map((r) => this.view(type, r, shape)) };
    const next = records[start + pageSize];
    if (next) body.paging = { next: { after: next.id, link: `?after=${next.id}` } };
    return { status: 200, body };
  }

  getOne(type: string, id: string, q: URLSearchParams): Reply {
    const rec = this.find(type, id, q.get('idProperty'), q.get('archived') === 'true');
    if (!rec) fail(404, 'OBJECT_NOT_FOUND', NOT_FOUND);
    return { status: 200, body: this.view(type, rec, this.readShape(type, q)) };
  }

  createOne(type: string, body: unknown): Reply {
    const spec = hubspotObject(type);
    const input = (body ?? {}) as { properties?: unknown; associations?: unknown };
    const { values, issues } = validateProperties(spec, input.properties, true);
    this.checkUnique(type, values, undefined, issues);
    if (issues.length > 0) fail(400, 'VALIDATION_ERROR', validationMessage(issues, this.portalId), { errors: issueDetails(issues) });
    const links = this.plannedAssociations(type, input.associations, 'associations');
    if (!Array.isArray(links)) fail(400, 'VALIDATION_ERROR', 'One or more associations are invalid', { errors: links.errors });
    const rec = this.state.create(type, values);
    for (const link of links) this.state.associate(type, rec.id, link.to, link.toId, link.type.typeId);
    return { status: 201, body: this.view(type, rec, { properties: 'all' }) };
  }

  updateOne(type: string, id: string, q: URLSearchParams, body: unknown): Reply {
    const spec = hubspotObject(type);
    const rec = this.find(type, id, q.get('idProperty'));
    if (!rec) fail(404, 'OBJECT_NOT_FOUND', NOT_FOUND);
    const { values, issues } = validateProperties(spec, (body as { properties?: unknown } | undefined)?.properties, false);
    this.checkUnique(type, values, rec.id, issues);
    if (issues.length > 0) fail(400, 'VALIDATION_ERROR', validationMessage(issues, this.portalId), { errors: issueDetails(issues) });
    return { status: 200, body: this.view(type, this.state.update(type, rec.id, values), { properties: 'all' }) };
  }

  archiveOne(type: string, id: string): Reply {
    this.state.archive(type, id);
    return { status: 204 };
  }

  /**
   * POST /crm/v3/objects/{type}/merge: the primary keeps its values and takes the merged record's
   * where it has none; the merged record's associations move to the primary and it is archived.
   */
  merge(type: string, body: unknown): Reply {
    const input = (body ?? {}) as { primaryObjectId?: unknown; objectIdToMerge?: unknown };
    if (input.primaryObjectId === undefined || input.objectIdToMerge === undefined) {
      invalidInput('Cannot build PublicMergeInput, some of required attributes are not set [primaryObjectId, objectIdToMerge]');
    }
    const [primaryId, mergedId] = [String(input.primaryObjectId), String(input.objectIdToMerge)];
    if (primaryId === mergedId) fail(400, 'VALIDATION_ERROR', `Cannot merge ${singular(type)} ${primaryId} into itself.`);
    const primary = this.find(type, primaryId, null);
    const merged = this.find(type, mergedId, null);
    if (!primary || !merged) fail(404, 'OBJECT_NOT_FOUND', `${singular(type)} ${!primary ? primaryId : mergedId} does not exist`);
    const spec = hubspotObject(type);
    const fill: Record<string, string | null> = {};
    for (const f of propertyFields(spec)) {
      if (!f.createable && !f.updateable) continue;
      const theirs = merged.properties[f.name];
      if (theirs && !primary.properties[f.name]) fill[f.name] = theirs;
    }
    this.state.moveAssociations(type, mergedId, primaryId);
    this.state.archive(type, mergedId);
    const result = Object.keys(fill).length > 0 ? this.state.update(type, primaryId, fill) : primary;
    return { status: 200, body: this.view(type, result, { properties: 'all' }) };
  }

  /** POST /crm/v3/objects/contacts/gdpr-delete: the contact is deleted for good, by id or by email. */
  gdprDelete(body: unknown): Reply {
    const input = (body ?? {}) as { objectId?: unknown; idProperty?: unknown };
    if (input.objectId === undefined) invalidInput('Cannot build PublicGdprDeleteInput, some of required attributes are not set [objectId]', 'objectId');
    const id = String(input.objectId);
    const rec = input.idProperty === 'email'
      ? this.state.live('contacts').find((r) => r.properties.email?.toLowerCase() === id.toLowerCase())
      : this.find('contacts', id, typeof input.idProperty === 'string' ? input.idProperty : null) ?? this.find('contacts', id, null, true);
    if (!rec) fail(404, 'OBJECT_NOT_FOUND', NOT_FOUND);
    this.state.purge('contacts', rec.id);
    return { status: 204 };
  }

  // ---- batch ----------------------------------------------------------------------------------

  batchRead(type: string, q: URLSearchParams, body: unknown): Reply {
    const startedAt = new Date().toISOString();
    const b = (body ?? {}) as { properties?: string[]; propertiesWithHistory?: string[]; idProperty?: string };
    const inputs = inputsOf<{ id?: string }>(body, MAX_BATCH_INPUTS);
    const history = b.propertiesWithHistory?.length ? b.propertiesWithHistory : undefined;
    if (history && inputs.length > MAX_HISTORY_INPUTS) {
      fail(400, 'VALIDATION_ERROR', `The maximum number of inputs supported in a batch request for property histories is ${MAX_HISTORY_INPUTS}. Please reduce the number of items and try again`);
    }
    const shape: ReadShape = { properties: b.properties?.length ? b.properties : history ? [] : DEFAULT_PROPERTIES[type], history };
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const rec = this.find(type, String(input.id), b.idProperty ?? null, q.get('archived') === 'true');
      if (rec) results.push(this.view(type, rec, shape));
      else missing.push(String(input.id));
    }
    const errors: StandardError[] = missing.length === 0 ? [] : [standardError('OBJECT_NOT_FOUND',
      `Could not get some ${singular(type).toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`, { ids: missing })];
    return batchReply(200, results, errors, startedAt);
  }

  batchWrite(type: string, op: 'create' | 'update' | 'upsert', body: unknown): Reply {
    const spec = hubspotObject(type);
    const startedAt = new Date().toISOString();
    type Input = { id?: string; idProperty?: string; properties?: unknown; associations?: unknown; objectWriteTraceId?: string };
    const inputs = inputsOf<Input>(body, MAX_BATCH_INPUTS);
    if (op === 'upsert') this.checkUpsertInputs(spec, inputs);
    if (op === 'update') checkDistinctIds(inputs);
    const errors: StandardError[] = [];
    // Validate everything first: in all-or-nothing mode one bad input refuses the whole batch.
    const planned = inputs.flatMap((input, i) => {
      const context: Record<string, string[]> = {};
      if (input.id !== undefined) context.ids = [String(input.id)];
      if (input.objectWriteTraceId !== undefined) context.objectWriteTraceId = [input.objectWriteTraceId];
      const existing = op === 'create' ? undefined
        : op === 'update' ? this.find(type, String(input.id), input.idProperty ?? null)
          : this.state.getByExternalId(type, String(input.id));
      if (op === 'update' && !existing) {
        errors.push(standardError('OBJECT_NOT_FOUND', `Object ${String(input.id)} not found`, context));
        return [];
      }
      const { values, issues } = validateProperties(spec, input.properties, !existing);
      if (op === 'upsert' && !existing) values.ecosync_id = String(input.id);
      this.checkUnique(type, values, existing?.id, issues);
      const links = op === 'create' ? this.plannedAssociations(type, input.associations, `inputs[${i}].associations`) : [];
      return [{ input, context, existing, values, issues, links }];
    });
    const invalid = planned.flatMap((p) => p.issues);
    if (this.options.allOrNothingBatches && invalid.length > 0) fail(400, 'VALIDATION_ERROR', validationMessage(invalid, this.portalId), { errors: issueDetails(invalid) });
    // One instant for the whole batch: records written together tie on their modified date, as in HubSpot.
    const at = this.state.now();
    const results: unknown[] = [];
    for (const { input, context, existing, values, issues, links } of planned) {
      if (issues.length > 0) {
        errors.push(standardError('VALIDATION_ERROR', validationMessage(issues, this.portalId), context, { errors: issueDetails(issues) }));
        continue;
      }
      if (!Array.isArray(links)) {
        errors.push(standardError('VALIDATION_ERROR', 'One or more associations are invalid', context, { errors: links.errors }));
        continue;
      }
      if (this.faults.recordFails()) {
        errors.push(standardError('INTERNAL_ERROR', 'The record could not be saved right now; try again', context));
        continue;
      }
      const rec = existing ? this.state.update(type, existing.id, values, at) : this.state.create(type, values, at);
      for (const link of links) this.state.associate(type, rec.id, link.to, link.toId, link.type.typeId);
      const view = { ...this.view(type, rec, { properties: 'all' }), ...(input.objectWriteTraceId === undefined ? {} : { objectWriteTraceId: input.objectWriteTraceId }) };
      results.push(op === 'upsert' ? { ...view, new: !existing } : view);
    }
    return batchReply(op === 'create' ? 201 : 200, results, errors, startedAt);
  }

  batchArchive(type: string, body: unknown): Reply {
    for (const input of inputsOf<{ id?: string }>(body, MAX_BATCH_INPUTS)) this.state.archive(type, String(input.id));
    return { status: 204 };
  }

  // ---- search ---------------------------------------------------------------------------------

  search(type: string, body: unknown): Reply {
    const spec = hubspotObject(type);
    const req = (body ?? {}) as SearchRequest;
    const problem = checkSearchRequest(spec, req);
    if (problem) fail(400, 'VALIDATION_ERROR', problem.message, problem.in ? { errors: [{ message: problem.message, in: problem.in }] } : {});
    const limit = req.limit ?? 10;
    const offset = Number(req.after ?? 0);
    const table = this.state.table(type);
    const view = table.searchView(this.state.now());
    const key = JSON.stringify([type, req.filterGroups, req.sorts, req.query, table.indexVersion]);
    let matches: StoredRecord[];
    if (this.searchCache?.key === key) {
      matches = this.searchCache.results;
    } else {
      const compiled = compileSearch(spec, req);
      const start = Number.isFinite(compiled.fromModifiedMs) ? table.index.lowerBound(compiled.fromModifiedMs) : 0;
      matches = runSearch(spec, view, compiled, start);
      this.searchCache = { key, results: matches };
    }
    const end = Math.min(offset + limit, SEARCH_RESULT_CAP);
    const shape: ReadShape = { properties: req.properties?.length ? req.properties : DEFAULT_PROPERTIES[type] };
    const responseBody: Record<string, unknown> = {
      total: matches.length,
      results: matches.slice(offset, end).map((r) => this.view(type, r, shape)),
    };
    if (end < matches.length) responseBody.paging = { next: { after: String(end) } };
    return { status: 200, body: responseBody };
  }

  // ---- helpers --------------------------------------------------------------------------------

  /**
   * SimplePublicObject(WithAssociations): the requested properties (known ones as null when
   * empty) plus the system ones, their history when asked, and v3-style associations.
   */
  private view(type: string, rec: StoredRecord, shape: ReadShape): Record<string, unknown> {
    const spec = hubspotObject(type);
    let properties: Record<string, string | null>;
    if (shape.properties === 'all') {
      properties = { ...rec.properties };
    } else {
      properties = {};
      for (const name of [...shape.properties, 'hs_object_id', 'createdate', spec.modifiedField]) {
        if (knownProperty(spec, name)) properties[name] = rec.properties[name] ?? null;
      }
    }
    const out: Record<string, unknown> = {
      id: rec.id, properties, createdAt: iso(rec.createdMs), updatedAt: iso(rec.modifiedMs), archived: rec.archived,
    };
    if (rec.archived && rec.archivedMs !== undefined) out.archivedAt = iso(rec.archivedMs);
    if (shape.history) {
      const history: Record<string, unknown[]> = {};
      for (const name of shape.history) {
        if (!knownProperty(spec, name)) continue;
        history[name] = this.state.propertyHistory(rec, name).map((v) => ({ value: v.value, timestamp: iso(v.timestamp), sourceType: v.sourceType }));
      }
      out.propertiesWithHistory = history;
    }
    const assoc: Record<string, unknown> = {};
    for (const to of shape.associations ?? []) {
      const hasPrimary = this.state.associationTypes.between(type, to).some((t) => t.category === 'HUBSPOT_DEFINED' && t.label === 'Primary');
      const results = this.state.associations(type, rec.id, to).flatMap((id) =>
        this.state.associationTypeIds(type, rec.id, to, id).map((typeId) => ({ id, type: v3TypeName(this.state.associationTypes.get(typeId), type, to, hasPrimary) })));
      if (results.length > 0) assoc[to] = { results };
    }
    if (Object.keys(assoc).length > 0) out.associations = assoc;
    return out;
  }

  /** properties, propertiesWithHistory and associations query parameters. */
  private readShape(type: string, q: URLSearchParams): ReadShape {
    const history = queryList(q, 'propertiesWithHistory');
    return {
      properties: queryList(q, 'properties') ?? DEFAULT_PROPERTIES[type],
      history,
      associations: (queryList(q, 'associations') ?? []).map((t) => TYPE_ALIASES[t]).filter(Boolean),
    };
  }

  /** Live (or archived) records in id order, rebuilt only after a write. */
  private listed(type: string, archived: boolean): StoredRecord[] {
    const key = `${type}:${archived}`;
    const cached = this.listCache.get(key);
    if (cached && cached.version === this.state.version) return cached.records;
    const records = [...this.state.table(type).byId.values()].filter((r) => r.archived === archived && !r.purged).sort((a, b) => a.idNum - b.idNum);
    this.listCache.set(key, { version: this.state.version, records });
    return records;
  }

  /** A record by id, or by a unique property's value (idProperty); only properties HubSpot keeps unique can look records up. */
  private find(type: string, id: string, idProperty: string | null, archived = false): StoredRecord | undefined {
    let rec: StoredRecord | undefined;
    if (!idProperty || idProperty === 'hs_object_id') {
      rec = this.state.get(type, id);
    } else {
      const prop = knownProperty(hubspotObject(type), idProperty);
      if (!prop) fail(400, 'VALIDATION_ERROR', `Property "${idProperty}" does not exist`, { errors: [{ message: `Property "${idProperty}" does not exist`, in: 'idProperty', code: 'PROPERTY_DOESNT_EXIST' }] });
      if (!prop.externalId) fail(400, 'VALIDATION_ERROR', `${idProperty} is not a unique identifier property of ${singular(type)}; use hs_object_id or a property with unique values`, { errors: [{ message: 'not a unique property', in: 'idProperty' }] });
      rec = this.state.getByExternalId(type, id);
    }
    return rec && rec.archived === archived && !rec.purged ? rec : undefined;
  }

  /** The associations a create input asks for, or the problems with them (each naming where it is). */
  private plannedAssociations(type: string, raw: unknown, where: string): PlannedAssociation[] | { errors: ErrorDetail[] } {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) return { errors: [{ message: 'associations must be an array', in: where }] };
    const planned: PlannedAssociation[] = [];
    const errors: ErrorDetail[] = [];
    raw.forEach((entry: { to?: { id?: unknown }; types?: { associationCategory?: unknown; associationTypeId?: unknown }[] }, i) => {
      const toId = String(entry?.to?.id ?? '');
      const types = Array.isArray(entry?.types) ? entry.types : [];
      if (types.length === 0) errors.push({ message: 'each association needs at least one type', in: `${where}[${i}].types` });
      for (const [j, spec] of types.entries()) {
        const at = `${where}[${i}].types[${j}]`;
        const typeDef = this.state.associationTypes.get(Number(spec.associationTypeId));
        if (!typeDef || typeDef.from !== type) {
          errors.push({ message: `${String(spec.associationTypeId)} is not a valid association type id from ${singular(type)}`, in: at, code: 'INVALID_ASSOCIATION_TYPE' });
          continue;
        }
        if (spec.associationCategory !== typeDef.category) {
          errors.push({ message: `association type ${typeDef.typeId} is ${typeDef.category}, not ${String(spec.associationCategory)}`, in: at, code: 'INVALID_ASSOCIATION_CATEGORY' });
          continue;
        }
        const target = this.state.get(typeDef.to, toId);
        if (!target || target.archived) {
          errors.push({ message: `${singular(typeDef.to)} ${toId} does not exist`, in: `${where}[${i}].to.id`, code: 'INVALID_TO_OBJECT_ID' });
          continue;
        }
        planned.push({ to: typeDef.to, toId, type: typeDef });
      }
    });
    return errors.length > 0 ? { errors } : planned;
  }

  private checkUpsertInputs(spec: ObjectSpec, inputs: { id?: string; idProperty?: string }[]): void {
    for (const input of inputs) {
      const prop = input.idProperty ? knownProperty(spec, input.idProperty) : undefined;
      if (!prop?.externalId) {
        fail(400, 'VALIDATION_ERROR', `Unable to perform update/upsert by non-unique ${input.idProperty ?? '(missing idProperty)'} property`);
      }
      if (input.id === undefined || input.id === '') fail(400, 'VALIDATION_ERROR', 'Every upsert input needs an id (the idProperty value)');
    }
    checkDistinctIds(inputs);
  }

  /** ecosync_id is a unique property: a value already held by another record is refused. */
  private checkUnique(type: string, values: Record<string, string | null>, selfId: string | undefined, issues: PropertyIssue[]): void {
    const key = values.ecosync_id;
    if (!key) return;
    const holder = this.state.getByExternalId(type, key);
    if (holder && holder.id !== selfId) {
      issues.push({ name: 'ecosync_id', code: 'INVALID_UNIQUE_VALUE', message: `${key} is already the ecosync_id of ${singular(type)} ${holder.id}; ecosync_id must be unique` });
    }
  }
}

/** A batch names each record once. */
function checkDistinctIds(inputs: { id?: string }[]): void {
  const seen = new Set<string>();
  for (const input of inputs) {
    if (input.id === undefined) continue;
    if (seen.has(String(input.id))) fail(400, 'VALIDATION_ERROR', `Duplicate IDs found in batch input: [${String(input.id)}]. IDs must be unique`);
    seen.add(String(input.id));
  }
}

/**
 * A v3 association type name: contact_to_company for the primary (or only) HubSpot type,
 * contact_to_company_unlabeled for the default where a primary exists, a label's name otherwise.
 */
function v3TypeName(type: AssociationType | undefined, from: string, to: string, hasPrimary: boolean): string {
  const base = `${singular(from)}_to_${singular(to)}`;
  if (!type || type.category !== 'HUBSPOT_DEFINED') return type?.name ?? base;
  return type.label === null && hasPrimary ? `${base}_unlabeled` : base;
}

/** A batch body's inputs, refusing more than HubSpot allows in one call. */
export function inputsOf<T>(body: unknown, max: number): T[] {
  const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
  if (!Array.isArray(inputs)) invalidInput('Cannot build the batch input, some of required attributes are not set [inputs]', 'inputs');
  if (inputs.length > max) {
    fail(400, 'VALIDATION_ERROR', `The maximum number of inputs supported in a batch request is ${max}. Please reduce the number of items and try again`, {
      context: { maxSize: [String(max)] }, errors: [{ message: `${inputs.length} inputs given; at most ${max} are allowed`, in: 'inputs', code: 'TOO_MANY_INPUTS' }],
    });
  }
  return inputs as T[];
}

/** Query parameters given either repeated (the SDK) or comma-separated (hand-written URLs). */
function queryList(q: URLSearchParams, name: string): string[] | undefined {
  const all = q.getAll(name);
  if (all.length === 0) return undefined;
  return all.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

function issueDetails(issues: PropertyIssue[]): ErrorDetail[] {
  return issues.map((i) => ({ message: i.message, code: i.code, in: i.name, context: { propertyName: [i.name] } }));
}

/** A descriptor field as the properties API returns it. */
function toProperty(spec: ObjectSpec, f: FieldSpec, displayOrder: number): Record<string, unknown> {
  const [type, fieldType] = hubspotType(f);
  // ecosync's app creates its own properties (the id it upserts by, the co-sell fields).
  const custom = f.name === spec.upsertKeyField || f.name.startsWith('ecosync_');
  const readOnly = !f.createable && !f.updateable;
  return {
    name: f.name,
    label: f.label ?? f.name,
    type,
    fieldType,
    description: '',
    groupName: `${singular(spec.name)}information`,
    options: (f.picklistValues ?? []).map((value, i) => ({ label: value, value, displayOrder: i, hidden: false })),
    displayOrder,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: f.externalId === true,
    hidden: false,
    hubspotDefined: !custom,
    formField: !readOnly,
    modificationMetadata: { archivable: custom, readOnlyDefinition: !custom, readOnlyValue: readOnly },
    ...(f.referenceTo ? { referencedObjectType: singular(f.referenceTo).toUpperCase() } : {}),
    createdAt: '2019-08-06T02:41:08.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    archived: false,
  };
}

/** HubSpot (type, fieldType) for a descriptor field type. */
export function hubspotType(f: FieldSpec): [string, string] {
  switch (f.type) {
    case 'id': case 'number': case 'integer': case 'currency': case 'percent': case 'reference': return ['number', 'number'];
    case 'text': return ['string', 'textarea'];
    case 'phone': return ['string', 'phonenumber'];
    case 'picklist': return ['enumeration', 'select'];
    case 'multipicklist': return ['enumeration', 'checkbox'];
    case 'boolean': return ['bool', 'booleancheckbox'];
    case 'date': return ['date', 'date'];
    case 'datetime': return ['datetime', 'date'];
    default: return ['string', 'text'];
  }
}
