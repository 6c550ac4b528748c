/**
 * planPage: one page read from a source side → the writes to make and the rows to save.
 * Pure: no I/O, no clock, no randomness. The decisions, in order, for each record:
 *
 * 1. Mapping errors → dead letter ('read'); the rest of the page proceeds.
 * 2. Canonical id: the source link's; else the ecosync id the record carries (if it is a UUID
 *    no other record of this side already holds); else canonicalIdFor(system, object, id).
 * 3. Deleted at the source: never linked or already tombstoned → unchanged. Otherwise the record
 *    and the source link are tombstoned; with deletePolicy 'propagate' the target record is
 *    deleted too (and its link tombstoned once that succeeds). 'ignore' leaves the target alone,
 *    and the tombstone keeps later target edits from resurrecting the source.
 * 4. Same content hash as the source link → unchanged: an echo of our own write, a lookback
 *    re-read, or a record parked in dead letters (see results.ts; a replay plans it again with
 *    `replay`). This comes before 5 so an untouched record never resurrects anything.
 * 5. Changed after a delete (either side): updateAfterDelete 'skip' (default: a delete is a
 *    deliberate act, and late edits on the other side must not bring the record back) or
 *    'resurrect' (merge as usual; a tombstoned target is created again).
 * 6. A reference the mapping could not translate, or one whose record is not linked on the side
 *    we write to → dead letter UNRESOLVED_REFERENCE (retryable), replayed once the referenced
 *    record is linked. Writing without the reference would lose it until the record next changes.
 * 7. Three-way merge (merge.ts). Target not linked → create with every agreed field it accepts;
 *    else update with the changed fields only. The target's own changes and the values it won go
 *    back to the source when the connection is bidirectional.
 * 8. Nothing changed after all (hash differs, fields equal: e.g. a hash from another function)
 *    → unchanged, and the link is refreshed so the next read takes the fast path.
 */
import { canonicalIdFor, isCanonicalId } from './ids.js';
import { advanceCursor } from './cursor.js';
import { createFields, mergeRecord, type FieldPolicy, type MergeSide } from './merge.js';
import {
  contentHash, isEmpty, toFields, toNested, type CanonicalValues,
} from './values.js';
import type {
  ConflictInput, CurrentRecord, DeadLetterInput, IncomingRecord, LinkUpsert, PlanInput, PlannedItem,
  SideName, StoredLink, StoredRecord, SyncCounts, SyncPair, SyncPlan, SyncSide, WriteOp,
} from './types.js';

/** lastHash of a link whose side was deleted. */
export const TOMBSTONE_HASH = 'deleted';

export const emptyCounts = (): SyncCounts =>
  ({ read: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, conflicts: 0 });

export function addCounts(a: SyncCounts, b: SyncCounts): SyncCounts {
  return {
    read: a.read + b.read, created: a.created + b.created, updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged, deleted: a.deleted + b.deleted, failed: a.failed + b.failed,
    conflicts: a.conflicts + b.conflicts,
  };
}

export const otherSide = (side: SideName): SideName => (side === 'a' ? 'b' : 'a');

/** May the planner write to this side? One-way connections write only to b. */
export const canWrite = (pair: SyncPair, side: SideName) => pair.mode === 'bidirectional' || side === 'b';

const externalKey = (system: string, object: string, externalId: string) => `${system}\u0000${object}\u0000${externalId}`;
const canonicalKey = (canonicalId: string, system: string, object: string) =>
  `${canonicalId.toLowerCase()}\u0000${system}\u0000${object}`;

/** Links and records of one page, indexed the ways the planner looks them up. */
class StateIndex {
  private byExternal = new Map<string, StoredLink>();
  private byCanonical = new Map<string, StoredLink>();
  private records = new Map<string, StoredRecord>();

  constructor(stored: PlanInput['stored']) {
    for (const l of stored.links) {
      this.byExternal.set(externalKey(l.system, l.object, l.externalId), l);
      this.byCanonical.set(canonicalKey(l.canonicalId, l.system, l.object), l);
    }
    for (const r of stored.records) this.records.set(r.canonicalId.toLowerCase(), r);
  }

  linkOf(system: string, object: string, externalId: string) { return this.byExternal.get(externalKey(system, object, externalId)); }
  sideOf(canonicalId: string, system: string, object: string) { return this.byCanonical.get(canonicalKey(canonicalId, system, object)); }
  record(canonicalId: string) { return this.records.get(canonicalId.toLowerCase()); }
}

const isLive = (link: StoredLink | undefined): link is StoredLink => link !== undefined && link.lastHash !== TOMBSTONE_HASH;

/** Reference fields among `values` whose record has no live link on `side`: a write there would lose them. */
function unlinkedRefs(values: CanonicalValues, side: SyncSide, index: StateIndex): string[] {
  const missing: string[] = [];
  for (const [field, ref] of Object.entries(side.references ?? {})) {
    const v = values[field];
    if (!Object.hasOwn(values, field) || isEmpty(v)) continue;
    if (!isLive(index.sideOf(String(v), side.system, ref.object))) missing.push(field);
  }
  return missing;
}

/** Write payload: nested like a canonical record, with nulls kept (they clear the field). */
function toWriteFields(fields: CanonicalValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of Object.keys(fields).sort()) {
    const parts = path.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = fields[path] ?? null;
  }
  return out;
}

/** What a side will read back after our write: its known values overlaid with what we wrote. */
function viewAfterWrite(known: CanonicalValues, written: CanonicalValues, side: SyncSide): Record<string, unknown> {
  const view: CanonicalValues = {};
  for (const f of side.readFields) {
    if (Object.hasOwn(written, f)) view[f] = written[f];
    else if (Object.hasOwn(known, f)) view[f] = known[f];
  }
  return toNested(view);
}

export interface ExternalLookup {
  system: string;
  object: string;
  externalIds: string[];
}

/**
 * Store lookups by external id for records read from `side`: their own links, and the links of
 * the records they reference (`refIds`: canonical field → the system ids the raw records hold,
 * read through the mapping's `refs`), which the mapping engine needs to translate references.
 */
export function externalLookups(pair: SyncPair, side: SideName, externalIds: readonly string[], refIds: Readonly<Record<string, readonly string[]>> = {}): ExternalLookup[] {
  const s = pair[side];
  const groups = new Map<string, ExternalLookup>();
  const add = (object: string, id: string) => {
    let g = groups.get(object);
    if (!g) groups.set(object, (g = { system: s.system, object, externalIds: [] }));
    if (!g.externalIds.includes(id)) g.externalIds.push(id);
  };
  for (const id of externalIds) add(s.object, id);
  for (const [field, ids] of Object.entries(refIds)) {
    const ref = s.references?.[field];
    if (!ref) throw new Error(`${field} is not a reference field of ${s.system} ${s.object}`);
    for (const id of ids) if (!isEmpty(id) && id !== '') add(ref.object, String(id));
  }
  return [...groups.values()];
}

export interface CanonicalLookups {
  /** records rows to load: entity and ids. */
  records: { entity: string; canonicalIds: string[] };
  /** links rows to load (every side) per entity. */
  links: { entity: string; canonicalIds: string[] }[];
}

/**
 * Second round of lookups, after the external ones: every link and the record of each canonical
 * id the page's records have (derived, carried or found), and every link of the records they
 * reference (the target's id of a referenced account).
 */
export function canonicalLookups(pair: SyncPair, side: SideName, records: readonly Pick<IncomingRecord, 'externalId' | 'canonicalId'>[], found: readonly StoredLink[]): CanonicalLookups {
  const s = pair[side];
  const own = new Set<string>();
  const refs = new Map<string, Set<string>>();
  for (const r of records) {
    own.add(canonicalIdFor(s.system, s.object, r.externalId));
    if (isCanonicalId(r.canonicalId)) own.add(r.canonicalId.toLowerCase());
  }
  const refObjects = new Map(Object.values(s.references ?? {}).map((ref) => [ref.object, ref.entity]));
  for (const l of found) {
    if (l.system !== s.system) continue;
    if (l.object === s.object) own.add(l.canonicalId.toLowerCase());
    const entity = refObjects.get(l.object);
    if (entity !== undefined && l.object !== s.object) {
      if (!refs.has(entity)) refs.set(entity, new Set());
      refs.get(entity)!.add(l.canonicalId.toLowerCase());
    }
  }
  const ids = [...own].sort();
  const links: CanonicalLookups['links'] = [{ entity: pair.entity, canonicalIds: ids }];
  for (const [entity, set] of refs) {
    if (entity === pair.entity) links[0].canonicalIds = [...new Set([...ids, ...set])].sort();
    else links.push({ entity, canonicalIds: [...set].sort() });
  }
  return { records: { entity: pair.entity, canonicalIds: ids }, links };
}

/** External ids to read from the target for the current values of the page's linked records. */
export function targetExternalIds(pair: SyncPair, source: SideName, links: readonly StoredLink[], canonicalIds: readonly string[]): string[] {
  const t = pair[otherSide(source)];
  const wanted = new Set(canonicalIds.map((id) => id.toLowerCase()));
  return links
    .filter((l) => l.system === t.system && l.object === t.object && isLive(l) && wanted.has(l.canonicalId.toLowerCase()))
    .map((l) => l.externalId)
    .sort();
}

/** The later of two records with the same external id (by modifiedAt, then page order). */
function latestPerExternalId(records: readonly IncomingRecord[]): { kept: IncomingRecord[]; superseded: number } {
  const last = new Map<string, number>();
  records.forEach((r, i) => {
    const j = last.get(r.externalId);
    if (j === undefined || Date.parse(r.modifiedAt) >= Date.parse(records[j].modifiedAt)) last.set(r.externalId, i);
  });
  const keep = new Set(last.values());
  return { kept: records.filter((_, i) => keep.has(i)), superseded: records.length - keep.size };
}

export function planPage(input: PlanInput): SyncPlan {
  const { pair, source } = input;
  const target = otherSide(source);
  if (!canWrite(pair, target)) {
    throw new Error(`connection ${pair.connectionId} is one-way ${pair.a.system} → ${pair.b.system}: pages are read from ${pair.a.system} only`);
  }
  const src = pair[source];
  const tgt = pair[target];
  const hash = input.hash ?? contentHash;
  const index = new StateIndex(input.stored);
  const current = new Map<string, CurrentRecord>((input.targetCurrent ?? []).map((c) => [c.externalId, c]));
  const policyFor = (field: string): FieldPolicy => pair.fieldPolicies?.[field] ?? pair.defaultPolicy ?? 'lww';
  const allPaths = [...new Set([...pair.a.readFields, ...pair.a.writeFields, ...pair.b.readFields, ...pair.b.writeFields])];
  const srcWritable = new Set(canWrite(pair, source) ? src.writeFields : []);
  const tgtWritable = new Set(tgt.writeFields);
  const srcReads = new Set(src.readFields);
  const tgtReads = new Set(tgt.readFields);

  const counts = emptyCounts();
  counts.read = input.records.length;
  const items: PlannedItem[] = [];
  const deadLetters: DeadLetterInput[] = [];
  const conflicts: ConflictInput[] = [];
  const seen = new Set<string>();

  const { kept, superseded } = latestPerExternalId(input.records);
  counts.unchanged += superseded;

  for (const r of kept) {
    const payload = r.payload ?? { externalId: r.externalId, modifiedAt: r.modifiedAt, deleted: r.deleted, values: r.values };
    const fail = (canonicalId: string | null, reason: string, errorCode: string, failingFields: string[], retryable: boolean) => {
      deadLetters.push({
        connectionId: pair.connectionId, direction: 'read', system: src.system, object: src.object,
        externalId: r.externalId, canonicalId, payload, reason, errorCode, failingFields, retryable,
      });
      counts.failed++;
    };
    const link = (canonicalId: string, side: SyncSide, externalId: string, lastHash: string | null, lastModifiedAt: string | null): LinkUpsert =>
      ({ entity: pair.entity, canonicalId, system: side.system, object: side.object, externalId, lastHash, lastModifiedAt });

    // 1. Mapping errors.
    if (r.errors && r.errors.length > 0) {
      const codes = [...new Set(r.errors.map((e) => e.code))];
      const fields = [...new Set(r.errors.flatMap((e) => (e.field ? [e.field] : [])))];
      fail(null, r.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; '), codes.join(','), fields, false);
      continue;
    }

    // 2. Canonical id.
    const sLink = index.linkOf(src.system, src.object, r.externalId);
    let cid: string;
    if (sLink) cid = sLink.canonicalId.toLowerCase();
    else if (!isEmpty(r.canonicalId) && r.canonicalId !== '') {
      if (!isCanonicalId(r.canonicalId)) {
        fail(null, `the record's ecosync id ${JSON.stringify(r.canonicalId)} is not a UUID`, 'INVALID_CANONICAL_ID', [], false);
        continue;
      }
      cid = r.canonicalId.toLowerCase();
      const holder = index.sideOf(cid, src.system, src.object);
      if (holder) {
        fail(cid, `ecosync id ${cid} is already linked to ${src.system} ${src.object} ${holder.externalId} (a copied record?)`, 'DUPLICATE_CANONICAL_ID', [], false);
        continue;
      }
    } else cid = canonicalIdFor(src.system, src.object, r.externalId);
    if (seen.has(cid)) {
      fail(cid, `another record of this page has ecosync id ${cid}`, 'DUPLICATE_CANONICAL_ID', [], false);
      continue;
    }
    seen.add(cid);

    const record = index.record(cid);
    const tLink = index.sideOf(cid, tgt.system, tgt.object);
    const sDead = sLink !== undefined && !isLive(sLink);

    // 3. Deletes.
    if (r.deleted) {
      if (!sLink || sDead) { counts.unchanged++; continue; }
      const propagate = pair.deletePolicy === 'propagate' && isLive(tLink);
      const data = record?.data ?? {};
      items.push({
        canonicalId: cid,
        source: { externalId: r.externalId, modifiedAt: r.modifiedAt, hash: r.hash, payload },
        outcome: 'deleted',
        targetDelete: propagate ? { key: cid, externalId: tLink.externalId } : undefined,
        record: { entity: pair.entity, canonicalId: cid, data, hash: record?.hash ?? contentHash(data), deleted: true, expectedVersion: record?.version },
        sourceLink: link(cid, src, r.externalId, TOMBSTONE_HASH, r.modifiedAt),
        targetLink: propagate ? link(cid, tgt, tLink.externalId, TOMBSTONE_HASH, tLink.lastModifiedAt) : undefined,
      });
      continue;
    }

    // 4. Echo, lookback re-read or parked record: nothing new from this side.
    if (!input.replay && sLink && !sDead && sLink.lastHash === r.hash) { counts.unchanged++; continue; }

    // 5. Changed after a delete.
    const wasDeleted = record?.deleted === true || sDead;
    if (wasDeleted && (pair.updateAfterDelete ?? 'skip') === 'skip') { counts.unchanged++; continue; }
    const tLive = isLive(tLink) ? tLink : undefined;

    // 6. References the mapping could not translate.
    if (r.unresolved && r.unresolved.length > 0) {
      const fields = [...new Set(r.unresolved.map((u) => u.field))];
      fail(cid, `referenced records not linked yet: ${r.unresolved.map((u) => `${u.field} → ${u.id}`).join(', ')}`, 'UNRESOLVED_REFERENCE', fields, true);
      continue;
    }
    const srcFlat = toFields(r.values, src.readFields, true);
    const cur = tLive ? current.get(tLive.externalId) : undefined;
    let tgtFlat: CanonicalValues | null = null;
    if (cur) {
      // A target reference the mapping could not translate is unknown, not empty.
      tgtFlat = toFields(cur.values, tgt.readFields, true);
      for (const u of cur.unresolved ?? []) delete tgtFlat[u.field];
    }

    // 7. Merge.
    const base = record ? toFields(record.data, allPaths, false) : {};
    const sourceSide: MergeSide = { system: src.system, values: srcFlat, modifiedAt: r.modifiedAt, reads: srcReads, writable: srcWritable };
    const targetSide: MergeSide = { system: tgt.system, values: tgtFlat, modifiedAt: cur?.modifiedAt ?? null, reads: tgtReads, writable: tgtWritable };
    const merged = mergeRecord({ base, source: sourceSide, target: targetSide, policyFor });

    const create = tLive === undefined;
    const toTarget = create ? createFields(merged.agreed, tgtWritable) : merged.toTarget;
    const toSource = merged.toSource;
    const unresolved = [...unlinkedRefs(toTarget, tgt, index), ...unlinkedRefs(toSource, src, index)];
    if (unresolved.length > 0) {
      fail(cid, `referenced records not linked in the other system yet: ${unresolved.join(', ')}`, 'UNRESOLVED_REFERENCE', unresolved, true);
      continue;
    }

    for (const c of merged.conflicts) {
      conflicts.push({
        connectionId: pair.connectionId, entity: pair.entity, canonicalId: cid, field: c.field, policy: c.policy,
        baseValue: c.base,
        sides: {
          [src.system]: { value: c.sourceValue, modifiedAt: r.modifiedAt },
          [tgt.system]: { value: c.targetValue, modifiedAt: cur?.modifiedAt ?? null },
        },
      });
      counts.conflicts++;
    }

    const hasTargetWrite = Object.keys(toTarget).length > 0;
    const hasSourceWrite = Object.keys(toSource).length > 0;
    const recordChanged = !record || wasDeleted || merged.changed.length > 0;

    // 8. Nothing to do after all.
    if (!hasTargetWrite && !hasSourceWrite && !recordChanged) {
      if (sLink?.lastHash === r.hash) counts.unchanged++;
      else items.push({
        canonicalId: cid, source: { externalId: r.externalId, modifiedAt: r.modifiedAt, hash: r.hash, payload }, outcome: 'unchanged',
        sourceLink: link(cid, src, r.externalId, r.hash, r.modifiedAt),
      });
      continue;
    }

    const targetWrite: WriteOp | undefined = hasTargetWrite
      ? { key: cid, ...(create ? {} : { externalId: tLive!.externalId }), fields: toWriteFields(toTarget) }
      : undefined;
    const sourceWrite: WriteOp | undefined = hasSourceWrite
      ? { key: cid, externalId: r.externalId, fields: toWriteFields(toSource) }
      : undefined;

    // What each side will read back, so reading our own write is an echo on the hash fast path.
    const tgtKnown = cur ? toFields(cur.values, tgt.readFields, true) : merged.agreed;
    const sourceHash = hasSourceWrite ? hash(viewAfterWrite(srcFlat, toSource, src)) : r.hash;
    const targetHash = hash(viewAfterWrite(create ? {} : tgtKnown, toTarget, tgt));

    const data = toNested(merged.agreed);
    items.push({
      canonicalId: cid,
      source: { externalId: r.externalId, modifiedAt: r.modifiedAt, hash: r.hash, payload },
      outcome: targetWrite && create ? 'created' : 'updated',
      targetWrite,
      sourceWrite,
      record: recordChanged
        ? { entity: pair.entity, canonicalId: cid, data, hash: contentHash(data), deleted: false, expectedVersion: record?.version }
        : undefined,
      sourceLink: link(cid, src, r.externalId, sourceHash, r.modifiedAt),
      targetLink: targetWrite ? link(cid, tgt, create ? '' : tLive!.externalId, targetHash, cur?.modifiedAt ?? tLive?.lastModifiedAt ?? null) : undefined,
      // A resurrected record gets a new target id; its tombstoned link gives way (one link per side).
      forgetLinks: targetWrite && create && tLink ? [{ system: tgt.system, object: tgt.object, externalId: tLink.externalId }] : undefined,
    });
  }

  return {
    connectionId: pair.connectionId,
    entity: pair.entity,
    source,
    target,
    sourceSide: { system: src.system, object: src.object },
    targetSide: { system: tgt.system, object: tgt.object },
    writes: {
      target: items.flatMap((i) => (i.targetWrite ? [i.targetWrite] : [])),
      source: items.flatMap((i) => (i.sourceWrite ? [i.sourceWrite] : [])),
      targetDeletes: items.flatMap((i) => (i.targetDelete ? [i.targetDelete] : [])),
    },
    items,
    deadLetters,
    conflicts,
    counts,
    cursor: advanceCursor(input.cursor ?? null, input.records.map((r) => ({ modifiedAt: r.modifiedAt, id: r.externalId }))),
    attempt: 1,
  };
}
