import { randomUUID } from 'node:crypto';
import type { FaultInjector } from '../../../src/sandbox/index.js';
import type { FieldSpec, ObjectSpec } from '../../../src/sync/protocol.js';
import { hubspotObject, propertyFields } from '../descriptor.js';
import { fail, type BatchError, type Reply } from './errors.js';
import { checkSearchRequest, compileSearch, runSearch, SEARCH_RESULT_CAP, type SearchRequest } from './search.js';
import { defaultAssociationTypeId, type HubSpotState, singular, type StoredRecord } from './store.js';
import { knownProperty, validateProperties, validationMessage, type PropertyIssue } from './validate.js';

/**
 * The CRM endpoints as plain functions of (state, request) → reply: objects (list, get, create,
 * update, archive, batch read/create/update/upsert/archive, search), properties and associations v4.
 * The server routes requests here; nothing in this file knows HTTP.
 */

export const MAX_BATCH_INPUTS = 100;
export const MAX_ASSOCIATION_INPUTS = 1_000;
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

const iso = (ms: number) => new Date(ms).toISOString();

export class CrmApi {
  private searchCache: { key: string; results: StoredRecord[] } | undefined;
  private listCache = new Map<string, { version: number; records: StoredRecord[] }>();

  constructor(
    private readonly state: HubSpotState,
    private readonly faults: FaultInjector,
    readonly options: { allOrNothingBatches: boolean },
  ) {}

  // ---- shapes ---------------------------------------------------------------------------------

  /** SimplePublicObject with the requested properties (known ones as null when empty) plus the system ones. */
  private view(type: string, rec: StoredRecord, wanted: string[] | 'all', associations: string[] = []): Record<string, unknown> {
    const spec = hubspotObject(type);
    let properties: Record<string, string | null>;
    if (wanted === 'all') {
      properties = { ...rec.properties };
    } else {
      properties = {};
      for (const name of [...wanted, 'hs_object_id', 'createdate', spec.modifiedField]) {
        if (knownProperty(spec, name)) properties[name] = rec.properties[name] ?? null;
      }
    }
    const out: Record<string, unknown> = {
      id: rec.id, properties, createdAt: iso(rec.createdMs), updatedAt: iso(rec.modifiedMs), archived: rec.archived,
    };
    if (rec.archived && rec.archivedMs !== undefined) out.archivedAt = iso(rec.archivedMs);
    const assoc: Record<string, unknown> = {};
    for (const to of associations) {
      const ids = this.state.associations(type, rec.id, to);
      if (ids.length > 0) assoc[to] = { results: ids.map((id) => ({ id, type: `${singular(type)}_to_${singular(to)}` })) };
    }
    if (Object.keys(assoc).length > 0) out.associations = assoc;
    return out;
  }

  private batchReply(okStatus: number, results: unknown[], errors: BatchError[], startedAt: string): Reply {
    const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (errors.length === 0) return { status: okStatus, body };
    return { status: 207, body: { ...body, errors, numErrors: errors.length } };
  }

  // ---- properties -----------------------------------------------------------------------------

  properties(type: string): Reply {
    const spec = hubspotObject(type);
    return { status: 200, body: { results: propertyFields(spec).map((f, i) => toProperty(spec, f, i)) } };
  }

  // ---- single-object endpoints ----------------------------------------------------------------

  list(type: string, q: URLSearchParams): Reply {
    const limit = Number(q.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) fail(400, 'VALIDATION_ERROR', `limit must be between 1 and ${MAX_LIST_LIMIT}, got ${q.get('limit')}`);
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
    const page = records.slice(start, start + limit);
    const wanted = queryList(q, 'properties') ?? DEFAULT_PROPERTIES[type];
    const associations = (queryList(q, 'associations') ?? []).map((t) => TYPE_ALIASES[t]).filter(Boolean);
    const body: Record<string, unknown> = { results: page.map((r) => this.view(type, r, wanted, associations)) };
    const next = records[start + limit];
    if (next) body.paging = { next: { after: next.id, link: `?after=${next.id}` } };
    return { status: 200, body };
  }

  /** Live (or archived) records in id order, rebuilt only after a write. */
  private listed(type: string, archived: boolean): StoredRecord[] {
    const key = `${type}:${archived}`;
    const cached = this.listCache.get(key);
    if (cached && cached.version === this.state.version) return cached.records;
    const records = [...this.state.table(type).byId.values()].filter((r) => r.archived === archived).sort((a, b) => a.idNum - b.idNum);
    this.listCache.set(key, { version: this.state.version, records });
    return records;
  }

  private find(type: string, id: string, idProperty: string | null, archived = false): StoredRecord | undefined {
    const rec = idProperty && idProperty !== 'hs_object_id' ? this.state.getByExternalId(type, id) : this.state.get(type, id);
    return rec && rec.archived === archived ? rec : undefined;
  }

  getOne(type: string, id: string, q: URLSearchParams): Reply {
    const rec = this.find(type, id, q.get('idProperty'), q.get('archived') === 'true');
    if (!rec) fail(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.');
    const associations = (queryList(q, 'associations') ?? []).map((t) => TYPE_ALIASES[t]).filter(Boolean);
    return { status: 200, body: this.view(type, rec, queryList(q, 'properties') ?? DEFAULT_PROPERTIES[type], associations) };
  }

  createOne(type: string, body: unknown): Reply {
    const spec = hubspotObject(type);
    const input = (body ?? {}) as { properties?: unknown };
    const { values, issues } = validateProperties(spec, input.properties, true);
    this.checkUnique(type, values, undefined, issues);
    if (issues.length > 0) fail(400, 'VALIDATION_ERROR', validationMessage(issues), { errors: issueDetails(issues) });
    return { status: 201, body: this.view(type, this.state.create(type, values), 'all') };
  }

  updateOne(type: string, id: string, q: URLSearchParams, body: unknown): Reply {
    const spec = hubspotObject(type);
    const rec = this.find(type, id, q.get('idProperty'));
    if (!rec) fail(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.');
    const { values, issues } = validateProperties(spec, (body as { properties?: unknown } | undefined)?.properties, false);
    this.checkUnique(type, values, rec.id, issues);
    if (issues.length > 0) fail(400, 'VALIDATION_ERROR', validationMessage(issues), { errors: issueDetails(issues) });
    return { status: 200, body: this.view(type, this.state.update(type, rec.id, values), 'all') };
  }

  archiveOne(type: string, id: string): Reply {
    this.state.archive(type, id);
    return { status: 204 };
  }

  // ---- batch ----------------------------------------------------------------------------------

  batchRead(type: string, q: URLSearchParams, body: unknown): Reply {
    const startedAt = new Date().toISOString();
    const b = (body ?? {}) as { properties?: string[]; idProperty?: string };
    const inputs = inputsOf<{ id?: string }>(body, MAX_BATCH_INPUTS);
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const rec = this.find(type, String(input.id), b.idProperty ?? null, q.get('archived') === 'true');
      if (rec) results.push(this.view(type, rec, b.properties ?? DEFAULT_PROPERTIES[type]));
      else missing.push(String(input.id));
    }
    const errors: BatchError[] = missing.length === 0 ? [] : [{
      status: 'error', category: 'OBJECT_NOT_FOUND', correlationId: randomUUID(),
      message: `Could not get some ${singular(type).toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids: missing },
    }];
    return this.batchReply(200, results, errors, startedAt);
  }

  batchWrite(type: string, op: 'create' | 'update' | 'upsert', body: unknown): Reply {
    const spec = hubspotObject(type);
    const startedAt = new Date().toISOString();
    type Input = { id?: string; idProperty?: string; properties?: unknown; objectWriteTraceId?: string };
    const inputs = inputsOf<Input>(body, MAX_BATCH_INPUTS);
    if (op === 'upsert') this.checkUpsertInputs(spec, inputs);
    const errors: BatchError[] = [];
    // Validate everything first: in all-or-nothing mode one bad input refuses the whole batch.
    const planned = inputs.flatMap((input) => {
      const context: Record<string, string[]> = {};
      if (input.id !== undefined) context.ids = [String(input.id)];
      if (input.objectWriteTraceId !== undefined) context.objectWriteTraceId = [input.objectWriteTraceId];
      const existing = op === 'create' ? undefined
        : op === 'update' ? this.find(type, String(input.id), input.idProperty ?? null)
          : this.state.getByExternalId(type, String(input.id));
      if (op === 'update' && !existing) {
        errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', correlationId: randomUUID(), message: `Object ${String(input.id)} not found`, context });
        return [];
      }
      const { values, issues } = validateProperties(spec, input.properties, !existing);
      if (op === 'upsert' && !existing) values.ecosync_id = String(input.id);
      this.checkUnique(type, values, existing?.id, issues);
      return [{ input, context, existing, values, issues }];
    });
    const invalid = planned.flatMap((p) => p.issues);
    if (this.options.allOrNothingBatches && invalid.length > 0) fail(400, 'VALIDATION_ERROR', validationMessage(invalid));
    // One instant for the whole batch: records written together tie on their modified date, as in HubSpot.
    const at = this.state.now();
    const results: unknown[] = [];
    for (const { input, context, existing, values, issues } of planned) {
      if (issues.length > 0) {
        errors.push({ status: 'error', category: 'VALIDATION_ERROR', correlationId: randomUUID(), message: validationMessage(issues), context, errors: issueDetails(issues) });
        continue;
      }
      if (this.faults.recordFails()) {
        errors.push({ status: 'error', category: 'INTERNAL_ERROR', correlationId: randomUUID(), message: 'The record could not be saved right now; try again', context });
        continue;
      }
      const rec = existing ? this.state.update(type, existing.id, values, at) : this.state.create(type, values, at);
      const view = { ...this.view(type, rec, 'all'), ...(input.objectWriteTraceId === undefined ? {} : { objectWriteTraceId: input.objectWriteTraceId }) };
      results.push(op === 'upsert' ? { ...view, new: !existing } : view);
    }
    return this.batchReply(op === 'create' ? 201 : 200, results, errors, startedAt);
  }

  private checkUpsertInputs(spec: ObjectSpec, inputs: { id?: string; idProperty?: string }[]): void {
    const seen = new Set<string>();
    for (const input of inputs) {
      const prop = input.idProperty ? knownProperty(spec, input.idProperty) : undefined;
      if (!prop?.externalId) {
        fail(400, 'VALIDATION_ERROR', `Unable to perform update/upsert by non-unique ${input.idProperty ?? '(missing idProperty)'} property`);
      }
      if (input.id === undefined || input.id === '') fail(400, 'VALIDATION_ERROR', 'Every upsert input needs an id (the idProperty value)');
      if (seen.has(String(input.id))) fail(400, 'VALIDATION_ERROR', `Duplicate IDs found in batch input: [${String(input.id)}]. IDs must be unique`);
      seen.add(String(input.id));
    }
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

  batchArchive(type: string, body: unknown): Reply {
    for (const input of inputsOf<{ id?: string }>(body, MAX_BATCH_INPUTS)) this.state.archive(type, String(input.id));
    return { status: 204 };
  }

  // ---- search ---------------------------------------------------------------------------------

  search(type: string, body: unknown): Reply {
    const spec = hubspotObject(type);
    const req = (body ?? {}) as SearchRequest;
    const problem = checkSearchRequest(spec, req);
    if (problem) fail(400, 'VALIDATION_ERROR', problem);
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
    const wanted = req.properties ?? DEFAULT_PROPERTIES[type];
    const responseBody: Record<string, unknown> = {
      total: matches.length,
      results: matches.slice(offset, end).map((r) => this.view(type, r, wanted)),
    };
    if (end < matches.length) responseBody.paging = { next: { after: String(end) } };
    return { status: 200, body: responseBody };
  }

  // ---- associations v4 ------------------------------------------------------------------------

  associateDefault(from: string, to: string, inputs: { from?: { id?: string }; to?: { id?: string } }[], single: boolean): Reply {
    const startedAt = new Date().toISOString();
    const results: unknown[] = [];
    const errors: BatchError[] = [];
    for (const input of inputs) {
      const fromId = String(input.from?.id);
      const toId = String(input.to?.id);
      const a = this.find(from, fromId, null);
      const b = this.find(to, toId, null);
      if (!a || !b) {
        const message = `${!a ? `${singular(from)} ${fromId}` : `${singular(to)} ${toId}`} does not exist`;
        if (single) fail(404, 'OBJECT_NOT_FOUND', message);
        errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', correlationId: randomUUID(), message, context: { fromObjectId: [fromId], toObjectId: [toId] } });
        continue;
      }
      this.state.associate(from, fromId, to, toId);
      results.push(
        { from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: defaultAssociationTypeId(from, to) } },
        { from: { id: toId }, to: { id: fromId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: defaultAssociationTypeId(to, from) } },
      );
    }
    // The SDK reads only a 200 here (a 207 would throw), so failures travel in `errors` of a 200.
    return { status: 200, body: { status: 'COMPLETE', results, errors, numErrors: errors.length, startedAt, completedAt: new Date().toISOString() } };
  }

  readAssociations(from: string, to: string, inputs: { id?: string }[]): Reply {
    const startedAt = new Date().toISOString();
    const results: unknown[] = [];
    const errors: BatchError[] = [];
    for (const input of inputs) {
      const id = String(input.id);
      const ids = this.find(from, id, null) ? this.state.associations(from, id, to) : [];
      if (ids.length === 0) {
        errors.push({
          status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND', correlationId: randomUUID(),
          message: `No ${singular(to)} is associated with ${singular(from)} ${id}.`,
          context: { fromObjectId: [id] },
        });
        continue;
      }
      const typeId = defaultAssociationTypeId(from, to);
      results.push({
        from: { id },
        to: ids.map((toId) => ({ toObjectId: Number(toId), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId, label: null }] })),
      });
    }
    return this.batchReply(200, results, errors, startedAt);
  }
}

/** A batch body's inputs, refusing more than HubSpot allows in one call. */
export function inputsOf<T>(body: unknown, max: number): T[] {
  const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
  if (!Array.isArray(inputs)) fail(400, 'VALIDATION_ERROR', 'Invalid input JSON: "inputs" must be an array');
  if (inputs.length > max) fail(400, 'VALIDATION_ERROR', `Batch input size exceeds the maximum of ${max} (was ${inputs.length}).`, { context: { maxSize: [String(max)] } });
  return inputs as T[];
}

/** Query parameters given either repeated (the SDK) or comma-separated (hand-written URLs). */
function queryList(q: URLSearchParams, name: string): string[] | undefined {
  const all = q.getAll(name);
  if (all.length === 0) return undefined;
  return all.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

function issueDetails(issues: PropertyIssue[]): BatchError['errors'] {
  return issues.map((i) => ({ message: i.message, code: i.code, context: { propertyName: [i.name] } }));
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
