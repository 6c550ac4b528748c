import { AssociationLabelError, OBJECT_TYPE_IDS, type AssociationType } from './association-types.js';
import { batchReply, fail, standardError, type Reply, type StandardError } from './errors.js';
import { singular, type HubSpotState } from './store.js';

/**
 * Associations v4 as plain functions of (state, request) → reply: associate two records by
 * default or with labels, one pair or in batches; list, read in batch and remove associations;
 * and the association labels between two object types (the v4 schema API).
 */

/** Most inputs one association batch call takes (batch read: HubSpot's limit since 2025). */
export const MAX_ASSOCIATION_INPUTS = 1_000;
/** Most associated records one page lists (getPage, and each input of a batch read). */
const MAX_ASSOCIATION_PAGE = 500;

interface AssociationSpecInput {
  associationCategory?: unknown;
  associationTypeId?: unknown;
}
interface PairInput {
  from?: { id?: unknown };
  to?: { id?: unknown };
  types?: AssociationSpecInput[];
}

export class AssociationsApi {
  constructor(private readonly state: HubSpotState) {}

  // ---- one pair -------------------------------------------------------------------------------

  /** GET /crm/v4/objects/{type}/{id}/associations/{toType}: associated records with their types, a page at a time. */
  getPage(from: string, id: string, to: string, q: URLSearchParams): Reply {
    const limit = q.get('limit') === null ? MAX_ASSOCIATION_PAGE : Number(q.get('limit'));
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ASSOCIATION_PAGE) fail(400, 'VALIDATION_ERROR', `limit must be between 1 and ${MAX_ASSOCIATION_PAGE}, got ${q.get('limit')}`);
    const { results, after } = this.page(from, id, to, q.get('after'), limit);
    return { status: 200, body: { results, ...(after ? { paging: { next: { after, link: `?after=${after}` } } } : {}) } };
  }

  /** PUT /crm/v4/objects/{type}/{id}/associations/default/{toType}/{toId}: the unlabelled association, both ways. */
  createDefault(from: string, fromId: string, to: string, toId: string): Reply {
    const problem = this.missing(from, fromId, to, toId);
    if (problem) fail(404, 'OBJECT_NOT_FOUND', problem);
    const startedAt = new Date().toISOString();
    return { status: 200, body: { status: 'COMPLETE', results: this.associateDefault(from, fromId, to, toId), startedAt, completedAt: new Date().toISOString() } };
  }

  /** PUT /crm/v4/objects/{type}/{id}/associations/{toType}/{toId} with association specs: 201 and the pair's labels. */
  create(from: string, fromId: string, to: string, toId: string, body: unknown): Reply {
    if (!Array.isArray(body)) fail(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1: the body must be an array of association specs ({associationCategory, associationTypeId})');
    const types = this.typesOf(from, to, body as AssociationSpecInput[]);
    if (typeof types === 'string') fail(400, 'VALIDATION_ERROR', types);
    const problem = this.missing(from, fromId, to, toId);
    if (problem) fail(404, 'OBJECT_NOT_FOUND', problem);
    for (const type of types) this.state.associate(from, fromId, to, toId, type.typeId);
    return { status: 201, body: this.labelsBetween(from, fromId, to, toId) };
  }

  /** DELETE /crm/v4/objects/{type}/{id}/associations/{toType}/{toId}: every association between the pair. */
  archive(from: string, fromId: string, to: string, toId: string): Reply {
    this.state.dissociate(from, fromId, to, toId);
    return { status: 204 };
  }

  // ---- batches --------------------------------------------------------------------------------

  /** POST /crm/v4/associations/{from}/{to}/batch/associate/default. */
  batchCreateDefault(from: string, to: string, inputs: PairInput[]): Reply {
    const startedAt = new Date().toISOString();
    const results: unknown[] = [];
    const errors: StandardError[] = [];
    for (const input of inputs) {
      const [fromId, toId] = [String(input.from?.id), String(input.to?.id)];
      const problem = this.missing(from, fromId, to, toId);
      if (problem) errors.push(standardError('OBJECT_NOT_FOUND', problem, { fromObjectId: [fromId], toObjectId: [toId] }));
      else results.push(...this.associateDefault(from, fromId, to, toId));
    }
    // The SDK reads only a 200 here (a 207 would throw), so failures travel in `errors` of a 200.
    return { status: 200, body: { status: 'COMPLETE', results, errors, numErrors: errors.length, startedAt, completedAt: new Date().toISOString() } };
  }

  /** POST /crm/v4/associations/{from}/{to}/batch/create: pairs with labels; 201, or 207 naming the pairs that failed. */
  batchCreate(from: string, to: string, inputs: PairInput[]): Reply {
    const startedAt = new Date().toISOString();
    const results: unknown[] = [];
    const errors: StandardError[] = [];
    for (const input of inputs) {
      const [fromId, toId] = [String(input.from?.id), String(input.to?.id)];
      const context = { fromObjectId: [fromId], toObjectId: [toId] };
      const types = this.typesOf(from, to, input.types);
      if (typeof types === 'string') {
        errors.push(standardError('VALIDATION_ERROR', types, context));
        continue;
      }
      const problem = this.missing(from, fromId, to, toId);
      if (problem) {
        errors.push(standardError('OBJECT_NOT_FOUND', problem, context));
        continue;
      }
      for (const type of types) this.state.associate(from, fromId, to, toId, type.typeId);
      results.push(this.labelsBetween(from, fromId, to, toId));
    }
    return batchReply(201, results, errors, startedAt);
  }

  /** POST /crm/v4/associations/{from}/{to}/batch/archive: every association between each pair. */
  batchArchive(from: string, to: string, inputs: { from?: { id?: unknown }; to?: { id?: unknown }[] }[]): Reply {
    for (const input of inputs) {
      for (const target of Array.isArray(input.to) ? input.to : []) this.state.dissociate(from, String(input.from?.id), to, String(target.id));
    }
    return { status: 204 };
  }

  /** POST /crm/v4/associations/{from}/{to}/batch/labels/archive: only the named types; the pairs stay associated otherwise. */
  batchArchiveLabels(from: string, to: string, inputs: PairInput[]): Reply {
    const plan = inputs.map((input) => ({ input, types: this.typesOf(from, to, input.types) }));
    const bad = plan.find((p) => typeof p.types === 'string');
    if (bad) fail(400, 'VALIDATION_ERROR', bad.types as string);
    for (const { input, types } of plan) {
      this.state.dissociate(from, String(input.from?.id), to, String(input.to?.id), (types as AssociationType[]).map((t) => t.typeId));
    }
    return { status: 204 };
  }

  /** POST /crm/v4/associations/{from}/{to}/batch/read: each record's associated records, paged per input. */
  batchRead(from: string, to: string, inputs: { id?: unknown; after?: unknown }[]): Reply {
    const startedAt = new Date().toISOString();
    const results: unknown[] = [];
    const errors: StandardError[] = [];
    for (const input of inputs) {
      const id = String(input.id);
      const { results: linked, after } = this.page(from, id, to, input.after === undefined ? null : String(input.after), MAX_ASSOCIATION_PAGE);
      if (linked.length === 0) {
        errors.push(standardError('OBJECT_NOT_FOUND', `No ${singular(to)} is associated with ${singular(from)} ${id}.`, { fromObjectId: [id] }, { subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND' }));
        continue;
      }
      results.push({ from: { id }, to: linked, ...(after ? { paging: { next: { after } } } : {}) });
    }
    return batchReply(200, results, errors, startedAt);
  }

  // ---- labels (the v4 schema API) -------------------------------------------------------------

  /** GET /crm/associations/v4/{from}/{to}/labels. */
  labels(from: string, to: string): Reply {
    return { status: 200, body: { results: this.state.associationTypes.between(from, to).map(specWithLabel) } };
  }

  /** POST /crm/associations/v4/{from}/{to}/labels: a new label (and its inverse). */
  createLabel(from: string, to: string, body: unknown): Reply {
    const created = this.labelCall(() => this.state.associationTypes.createLabel(from, to, (body ?? {}) as Record<string, unknown>));
    return { status: 200, body: { results: created.map(specWithLabel) } };
  }

  /** PUT /crm/associations/v4/{from}/{to}/labels: renames a label. */
  updateLabel(from: string, to: string, body: unknown): Reply {
    this.labelCall(() => this.state.associationTypes.updateLabel(from, to, (body ?? {}) as Record<string, unknown>));
    return { status: 204 };
  }

  /** DELETE /crm/associations/v4/{from}/{to}/labels/{typeId}: the label goes, and so do associations that carried it. */
  removeLabel(from: string, to: string, typeId: string): Reply {
    const removed = this.labelCall(() => this.state.associationTypes.removeLabel(from, to, typeId));
    for (const rec of this.state.table(from).byId.values()) {
      for (const toId of this.state.associations(from, rec.id, to)) this.state.dissociate(from, rec.id, to, toId, [removed.typeId]);
    }
    return { status: 204 };
  }

  // ---- helpers --------------------------------------------------------------------------------

  private labelCall<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof AssociationLabelError) fail(400, 'VALIDATION_ERROR', error.message);
      throw error;
    }
  }

  private associateDefault(from: string, fromId: string, to: string, toId: string): unknown[] {
    this.state.associate(from, fromId, to, toId);
    const type = this.state.associationTypes.defaultType(from, to)!;
    return [
      { from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: type.category, associationTypeId: type.typeId } },
      { from: { id: toId }, to: { id: fromId }, associationSpec: { associationCategory: type.category, associationTypeId: type.inverse } },
    ];
  }

  /** The association types an input names, or HubSpot's words for why it cannot have them. */
  private typesOf(from: string, to: string, specs: AssociationSpecInput[] | undefined): AssociationType[] | string {
    if (!Array.isArray(specs) || specs.length === 0) return 'Each association needs at least one type ({associationCategory, associationTypeId}).';
    const types: AssociationType[] = [];
    for (const spec of specs) {
      const type = this.state.associationTypes.get(Number(spec.associationTypeId));
      if (!type || type.from !== from || type.to !== to) return `${String(spec.associationTypeId)} is not a valid association type id from ${singular(from)} to ${singular(to)}.`;
      if (spec.associationCategory !== type.category) return `Association type ${type.typeId} is ${type.category}, not ${String(spec.associationCategory)}.`;
      types.push(type);
    }
    return types;
  }

  /** Which of the two records does not exist (archived ones count as gone), or undefined. */
  private missing(from: string, fromId: string, to: string, toId: string): string | undefined {
    const live = (type: string, id: string) => { const r = this.state.get(type, id); return r && !r.archived; };
    if (!live(from, fromId)) return `${singular(from)} ${fromId} does not exist`;
    if (!live(to, toId)) return `${singular(to)} ${toId} does not exist`;
    return undefined;
  }

  private labelsBetween(from: string, fromId: string, to: string, toId: string): Record<string, unknown> {
    const labels = this.state.associationTypeIds(from, fromId, to, toId).map((t) => this.state.associationTypes.get(t)?.label).filter((l): l is string => !!l);
    return { fromObjectTypeId: OBJECT_TYPE_IDS[from], fromObjectId: Number(fromId), toObjectTypeId: OBJECT_TYPE_IDS[to], toObjectId: Number(toId), labels };
  }

  /** One page of a record's associations (offset paging; `after` is the offset HubSpot would encode). */
  private page(from: string, id: string, to: string, after: string | null, limit: number): { results: unknown[]; after?: string } {
    const record = this.state.get(from, id);
    const ids = record && !record.archived ? this.state.associations(from, id, to) : [];
    const start = after === null ? 0 : Number(Buffer.from(after, 'base64url').toString());
    if (!Number.isInteger(start) || start < 0) fail(400, 'VALIDATION_ERROR', `after ${after} is not a paging token this portal gave`);
    const results = ids.slice(start, start + limit).map((toId) => ({
      toObjectId: Number(toId),
      associationTypes: this.state.associationTypeIds(from, id, to, toId).map((t) => specWithLabel(this.state.associationTypes.get(t)!)),
    }));
    const next = start + limit < ids.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
    return { results, after: next };
  }
}

/** An association type as the v4 APIs list it. */
function specWithLabel(type: AssociationType): Record<string, unknown> {
  return { category: type.category, typeId: type.typeId, label: type.label };
}
