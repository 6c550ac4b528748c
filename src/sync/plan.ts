/**
 * planPage: a batch of changed records → the writes to make in every system of the hub and the
 * rows to save. Pure: no I/O, no clock, no randomness. A batch comes from one origin: a page
 * read from one system, or a write that starts in ecosync (a co-sell status, a record a cloud
 * shared, a resolved conflict). The decisions, in order, for each record:
 *
 * 1. Mapping errors → dead letter ('read'); the rest of the batch proceeds.
 * 2. Canonical id: the origin link's; else the ecosync id the record carries (if it is a UUID no
 *    other record of the origin's object already holds); else canonicalIdFor(instance, object, id).
 * 3. Deleted at the origin: never linked or already tombstoned → unchanged. Otherwise the record
 *    and the origin link are tombstoned; with deletePolicy 'propagate' every other system that
 *    holds the record and is written deletes it too (its link tombstoned once that succeeds).
 *    'ignore' leaves them alone, and the tombstone keeps their later edits from resurrecting it.
 * 4. Same content hash as the origin link → unchanged: an echo of our own write, a lookback
 *    re-read, or a record parked in dead letters (see results.ts; a replay plans it again with
 *    `replay`). This comes before 5 so an untouched record never resurrects anything.
 * 5. Changed after a delete (anywhere): updateAfterDelete 'skip' (default: a delete is a
 *    deliberate act) or 'resurrect' (merge as usual; tombstoned systems get the record again).
 * 6. A reference the mapping could not translate, or one whose record is not linked in a system
 *    we write to → dead letter UNRESOLVED_REFERENCE (retryable), replayed once the referenced
 *    record is linked. Writing without the reference would lose it until the record next changes.
 * 7. N-way merge (merge.ts) of the base, the origin and every other system's current values.
 *    Each written system that does not hold the record gets it created with every agreed field
 *    it accepts; each that holds it gets the changed fields it does not show yet; the origin
 *    gets back the values other systems won. A system read and merged but not written takes the
 *    hash of what it showed, so its next read is an echo.
 * 8. Nothing changed after all (hash differs, fields equal: e.g. a lossy mapping's own words)
 *    → unchanged, and the origin link is refreshed so the next read takes the fast path.
 *
 * A write that starts in ecosync is an origin named `ecosync` whose values win every
 * disagreement; it has no link of its own and skips 3–5. A system that changed since it was last
 * synced gets ecosync's fields written but keeps its link, so the next sync merges its change.
 */
import { canonicalIdFor, isCanonicalId } from './ids.js';
import { advanceCursor, type Cursor } from './cursor.js';
import { canRead, canWrite, type HubEntity, type Member } from './hub.js';
import { createFields, mergeRecord, type MergeSide } from './merge.js';
import {
  addCounts, emptyCounts, TOMBSTONE_HASH,
  type ConflictInput, type DeadLetterInput, type ExternalRef, type LinkUpsert, type RecordUpsert, type StoredLink, type StoredRecord, type SyncCounts,
} from './ports.js';
import type { DeleteOp, WriteOp } from './protocol.js';
import { contentHash, isEmpty, pathParts, toFields, toNested, type CanonicalValues } from './values.js';

/** The origin name of writes that start in ecosync. */
export const ECOSYNC_ORIGIN = 'ecosync';

export interface RecordIssue {
  code: string;
  message: string;
  field?: string;
}

export interface UnresolvedReference {
  field: string;
  /** The id that could not be translated. */
  id: string;
}

/** A record read from the origin system (forward-mapped), or ecosync's own new values for it. */
export interface IncomingRecord {
  externalId: string;
  modifiedAt: string;
  deleted: boolean;
  /** Canonical values (nested, or keyed by dotted path). */
  values: CanonicalValues;
  /** The mapping engine's content hash of `values`. */
  hash: string;
  /** Canonical id the record carries in its ecosync id field (for ecosync's own writes: the record's id). */
  canonicalId?: string | null;
  /** Mapping errors: any makes the record a dead letter. */
  errors?: readonly RecordIssue[];
  /** References the mapping could not translate (the referenced record is not linked yet). */
  unresolved?: readonly UnresolvedReference[];
  /** The record as read, kept in dead letters so a replay can run it again. */
  payload?: unknown;
}

/** Another system's current state of a linked record, forward-mapped. */
export interface CurrentRecord {
  externalId: string;
  modifiedAt: string | null;
  values: CanonicalValues;
  hash: string;
  /** References the mapping could not translate: their values are unknown, not empty. */
  unresolved?: readonly UnresolvedReference[];
  /** The record's system fields as read. */
  raw?: Record<string, unknown>;
}

/** What a system will show after a planned write, to predict the hash its next read gives. */
export interface WriteForecast {
  member: Member;
  /** The record's system fields as read (absent for a create, or when it was not read). */
  raw: Record<string, unknown> | undefined;
  create: boolean;
  /** The planned write: canonical fields, nested. */
  fields: Record<string, unknown>;
  /** The new agreed record. */
  agreed: Record<string, unknown>;
}

export interface PlanInput {
  entity: HubEntity;
  /** The system the batch was read from, or ECOSYNC_ORIGIN. */
  origin: string;
  records: readonly IncomingRecord[];
  /**
   * Rows for the batch's records: their links (every system) and records, plus every link of
   * the records they reference (see lookups below).
   */
  stored: { records: readonly StoredRecord[]; links: readonly StoredLink[] };
  /** Other systems' current values of linked records, by system name and external id; a record left out was not read. */
  current?: ReadonlyMap<string, ReadonlyMap<string, CurrentRecord>>;
  /** The origin's cursor before this batch. */
  cursor?: Cursor | null;
  /** Replaying dead letters: plan records even when their hash says they were seen. */
  replay?: boolean;
  /** Create the record in written systems that do not hold it (default); a patch only writes where it is. */
  createMissing?: boolean;
  /**
   * The content hash a system's next read of a record gives after a planned write (its mapping
   * reads back computed fields and its own words); undefined when it cannot tell. Without it,
   * the hash of the canonical values the write leaves there.
   */
  predict?: (forecast: WriteForecast) => string | undefined;
}

export type ItemOutcome = 'created' | 'updated' | 'unchanged' | 'deleted';

/** One system's part of an item: its write or delete, and its link once that succeeded. */
export interface MemberStep {
  member: string;
  write?: WriteOp;
  delete?: DeleteOp;
  /** For a create, externalId is '' until the write result tells it. */
  link?: LinkUpsert;
  /** Its write went through in an earlier round (a retry plan keeps the step for its link). */
  wrote?: boolean;
}

/** One record with work to commit: its steps and the rows to save once they all succeed. */
export interface PlannedItem {
  canonicalId: string;
  /** The record as the origin system showed it; absent for writes that start in ecosync. */
  source?: { member: string; externalId: string; modifiedAt: string; hash: string; payload: unknown };
  /** Counted when the item commits. */
  outcome: ItemOutcome;
  steps: MemberStep[];
  record?: RecordUpsert;
  /** The agreed record before this change (hooks compare the two). */
  before?: Record<string, unknown>;
  /** Links to delete before saving the new ones (a tombstoned side replaced by a new record). */
  forgetLinks?: (ExternalRef & { canonicalId: string })[];
}

export interface SyncPlan {
  connectionId: string;
  entity: HubEntity;
  origin: string;
  items: PlannedItem[];
  deadLetters: DeadLetterInput[];
  conflicts: ConflictInput[];
  /** Counts known at planning time (read, unchanged, failed, conflicts). */
  counts: SyncCounts;
  /** The origin's cursor after this batch; save it once the plan has settled. */
  cursor: Cursor | null;
  /** 1 for a fresh plan, +1 for each retry plan. */
  attempt: number;
}

export { emptyCounts, addCounts };

const externalKey = (instance: string, object: string, externalId: string) => `${instance}\u0000${object}\u0000${externalId}`;
const canonicalKey = (canonicalId: string, instance: string, object: string) => `${canonicalId.toLowerCase()}\u0000${instance}\u0000${object}`;

/** Links and records of one batch, indexed the ways the planner looks them up. */
class StateIndex {
  private byExternal = new Map<string, StoredLink>();
  private byCanonical = new Map<string, StoredLink>();
  private records = new Map<string, StoredRecord>();

  constructor(stored: PlanInput['stored']) {
    for (const l of stored.links) {
      this.byExternal.set(externalKey(l.instance, l.object, l.externalId), l);
      this.byCanonical.set(canonicalKey(l.canonicalId, l.instance, l.object), l);
    }
    for (const r of stored.records) this.records.set(r.canonicalId.toLowerCase(), r);
  }

  linkOf(member: Member, externalId: string) { return this.byExternal.get(externalKey(member.system.instance, member.object, externalId)); }
  sideOf(canonicalId: string, member: Member, object = member.object) { return this.byCanonical.get(canonicalKey(canonicalId, member.system.instance, object)); }
  record(canonicalId: string) { return this.records.get(canonicalId.toLowerCase()); }
}

const isLive = (link: StoredLink | undefined): link is StoredLink => link !== undefined && link.lastHash !== TOMBSTONE_HASH;

/** Reference fields among `values` whose record has no live link in `member`: a write there would lose them. */
function unlinkedRefs(values: CanonicalValues, member: Member, index: StateIndex): string[] {
  const missing: string[] = [];
  for (const [field, ref] of Object.entries(member.references)) {
    const v = values[field];
    if (!Object.hasOwn(values, field) || isEmpty(v)) continue;
    if (!isLive(index.sideOf(String(v), member, ref.object))) missing.push(field);
  }
  return missing;
}

/** Write payload: nested like a canonical record, with nulls kept (they clear the field). */
function toWriteFields(fields: CanonicalValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of Object.keys(fields).sort()) {
    const parts = pathParts(path);
    let node = out;
    for (let i = 0; i < parts.length - 1; i++) {
      if (typeof node[parts[i]] !== 'object' || node[parts[i]] === null) node[parts[i]] = {};
      node = node[parts[i]] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = fields[path] ?? null;
  }
  return out;
}

/** What a system will read back after our write: its known values overlaid with what we wrote. */
function viewAfterWrite(known: CanonicalValues, written: CanonicalValues, member: Member): Record<string, unknown> {
  const view: CanonicalValues = {};
  for (const f of member.readFields) {
    if (Object.hasOwn(written, f)) view[f] = written[f];
    else if (Object.hasOwn(known, f)) view[f] = known[f];
  }
  return toNested(view);
}

/** The later of two records with the same external id (by modifiedAt, then batch order). */
function latestPerExternalId(records: readonly IncomingRecord[]): { kept: readonly IncomingRecord[]; superseded: number } {
  if (new Set(records.map((r) => r.externalId)).size === records.length) return { kept: records, superseded: 0 };
  const last = new Map<string, number>();
  records.forEach((r, i) => {
    const j = last.get(r.externalId);
    if (j === undefined || Date.parse(r.modifiedAt) >= Date.parse(records[j].modifiedAt)) last.set(r.externalId, i);
  });
  const keep = new Set(last.values());
  return { kept: records.filter((_, i) => keep.has(i)), superseded: records.length - keep.size };
}

/** Everything of an entity's fields, for the base and for ecosync's own values. */
function allPaths(entity: HubEntity): string[] {
  const paths = new Set<string>();
  for (const m of entity.members) for (const f of m.mapper.fields) paths.add(f.field);
  return [...paths];
}

export function originMember(entity: HubEntity, origin: string): Member | undefined {
  if (origin === ECOSYNC_ORIGIN) return undefined;
  const m = entity.members.find((x) => x.system.name === origin);
  if (!m) throw new Error(`${entity.entity} is not synced with ${origin}`);
  if (!canRead(m.system)) throw new Error(`${origin} is only written by connection ${entity.connectionId}: it is never read`);
  return m;
}

type Triage =
  | { kind: 'done' }
  | { kind: 'merge'; r: IncomingRecord; cid: string; record: StoredRecord | undefined; sLink: StoredLink | undefined; wasDeleted: boolean }
  | { kind: 'delete'; r: IncomingRecord; cid: string; record: StoredRecord | undefined; sLink: StoredLink };

/**
 * Steps 1–6 for every record: what kind of work it is. Shared by planPage and currentWanted, so
 * what the engine reads ahead of planning is exactly what planning will merge.
 */
function triage(input: Omit<PlanInput, 'current'>, index: StateIndex, counts: SyncCounts, deadLetters: DeadLetterInput[]): Triage[] {
  const { entity } = input;
  const src = originMember(entity, input.origin);
  const seen = new Set<string>();
  const { kept, superseded } = latestPerExternalId(input.records);
  counts.unchanged += superseded;
  return kept.map((r): Triage => {
    const payload = r.payload ?? { externalId: r.externalId, modifiedAt: r.modifiedAt, deleted: r.deleted, values: r.values };
    const fail = (canonicalId: string | null, reason: string, errorCode: string, failingFields: string[], retryable: boolean): Triage => {
      deadLetters.push({
        direction: 'read', system: input.origin, object: src?.object ?? entity.entity,
        externalId: src ? r.externalId : null, canonicalId, payload, reason, errorCode, failingFields, retryable,
      });
      counts.failed++;
      return { kind: 'done' };
    };

    // 1. Mapping errors.
    if (r.errors && r.errors.length > 0) {
      const codes = [...new Set(r.errors.map((e) => e.code))];
      const fields = [...new Set(r.errors.flatMap((e) => (e.field ? [e.field] : [])))];
      return fail(null, r.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; '), codes.join(','), fields, false);
    }

    // 2. Canonical id.
    const sLink = src ? index.linkOf(src, r.externalId) : undefined;
    let cid: string;
    if (sLink) cid = sLink.canonicalId.toLowerCase();
    else if (!isEmpty(r.canonicalId) && r.canonicalId !== '') {
      if (!isCanonicalId(r.canonicalId)) return fail(null, `the record's ecosync id ${JSON.stringify(r.canonicalId)} is not a UUID`, 'INVALID_CANONICAL_ID', [], false);
      cid = r.canonicalId.toLowerCase();
      const holder = src ? index.sideOf(cid, src) : undefined;
      if (holder) return fail(cid, `ecosync id ${cid} is already linked to ${input.origin} ${src!.object} ${holder.externalId} (a copied record?)`, 'DUPLICATE_CANONICAL_ID', [], false);
    } else if (src) cid = canonicalIdFor(src.system.instance, src.object, r.externalId);
    else return fail(null, 'a write that starts in ecosync needs the record\'s canonical id', 'INVALID_CANONICAL_ID', [], false);
    if (seen.has(cid)) return fail(cid, `another record of this batch has ecosync id ${cid}`, 'DUPLICATE_CANONICAL_ID', [], false);
    seen.add(cid);

    const record = index.record(cid);
    const sDead = sLink !== undefined && !isLive(sLink);

    // 3. Deletes.
    if (r.deleted) {
      if (!sLink || sDead) { counts.unchanged++; return { kind: 'done' }; }
      return { kind: 'delete', r, cid, record, sLink };
    }

    // 4. Echo, lookback re-read or parked record: nothing new from this system.
    if (!input.replay && sLink && !sDead && sLink.lastHash === r.hash) { counts.unchanged++; return { kind: 'done' }; }

    // 5. Changed after a delete.
    const wasDeleted = record?.deleted === true || sDead;
    if (wasDeleted && entity.updateAfterDelete === 'skip') { counts.unchanged++; return { kind: 'done' }; }

    // 6. References the mapping could not translate.
    if (r.unresolved && r.unresolved.length > 0) {
      const fields = [...new Set(r.unresolved.map((u) => u.field))];
      return fail(cid, `referenced records not linked yet: ${r.unresolved.map((u) => `${u.field} → ${u.id}`).join(', ')}`, 'UNRESOLVED_REFERENCE', fields, true);
    }
    return { kind: 'merge', r, cid, record, sLink, wasDeleted };
  });
}

/**
 * The other systems' records to read before planning: every live link, in a system that is
 * read, of the records that will be merged. Their current values are merged, not overwritten.
 */
export function currentWanted(input: Omit<PlanInput, 'current'>): Map<string, string[]> {
  const index = new StateIndex(input.stored);
  const wanted = new Map<string, string[]>();
  const others = input.entity.members.filter((m) => m.system.name !== input.origin && canRead(m.system));
  for (const t of triage(input, index, emptyCounts(), [])) {
    if (t.kind !== 'merge') continue;
    for (const m of others) {
      const link = index.sideOf(t.cid, m);
      if (!isLive(link)) continue;
      const ids = wanted.get(m.system.name) ?? [];
      ids.push(link.externalId);
      wanted.set(m.system.name, ids);
    }
  }
  return wanted;
}

export function planPage(input: PlanInput): SyncPlan {
  const { entity } = input;
  const src = originMember(entity, input.origin);
  const index = new StateIndex(input.stored);
  const paths = allPaths(entity);
  const policyFor = (field: string) => entity.fieldPolicies[field] ?? entity.defaultPolicy;
  const others = entity.members.filter((m) => m !== src);
  const sets = new Map(entity.members.map((m) => [m.system.name, { reads: new Set(m.readFields), writable: new Set(m.writeFields) }]));
  const NONE: ReadonlySet<string> = new Set();

  const counts = emptyCounts();
  counts.read = input.records.length;
  const items: PlannedItem[] = [];
  const deadLetters: DeadLetterInput[] = [];
  const conflicts: ConflictInput[] = [];
  const link = (canonicalId: string, m: Member, externalId: string, lastHash: string | null, lastModifiedAt: string | null): LinkUpsert =>
    ({ entity: entity.entity, canonicalId, instance: m.system.instance, object: m.object, externalId, lastHash, lastModifiedAt });

  for (const t of triage(input, index, counts, deadLetters)) {
    if (t.kind === 'done') continue;
    const { r, cid, record } = t;
    const payload = r.payload ?? { externalId: r.externalId, modifiedAt: r.modifiedAt, deleted: r.deleted, values: r.values };
    const source = src ? { member: src.system.name, externalId: r.externalId, modifiedAt: r.modifiedAt, hash: r.hash, payload } : undefined;
    const fail = (reason: string, failingFields: string[]) => {
      deadLetters.push({
        direction: 'read', system: input.origin, object: src?.object ?? entity.entity, externalId: src ? r.externalId : null,
        canonicalId: cid, payload, reason, errorCode: 'UNRESOLVED_REFERENCE', failingFields, retryable: true,
      });
      counts.failed++;
    };

    if (t.kind === 'delete') {
      const data = record?.data ?? {};
      const steps: MemberStep[] = [{ member: src!.system.name, link: link(cid, src!, r.externalId, TOMBSTONE_HASH, r.modifiedAt) }];
      if (entity.deletePolicy === 'propagate') {
        for (const m of others) {
          const l = index.sideOf(cid, m);
          if (!isLive(l) || !canWrite(m.system)) continue;
          steps.push({ member: m.system.name, delete: { key: cid, externalId: l.externalId }, link: link(cid, m, l.externalId, TOMBSTONE_HASH, l.lastModifiedAt) });
        }
      }
      items.push({
        canonicalId: cid, source, outcome: 'deleted', steps, before: record?.data,
        record: { entity: entity.entity, canonicalId: cid, data, hash: record?.hash ?? contentHash(data), deleted: true, expectedVersion: record?.version },
      });
      continue;
    }

    // 7. Merge: the origin first, then every other system in the connection's order.
    const base = record ? toFields(record.data, paths, false) : {};
    const originFlat = src ? toFields(r.values, src.readFields, true) : toFields(r.values, paths, true);
    const sides: MergeSide[] = [];
    const originSide: MergeSide = src
      ? { name: src.system.name, kind: src.system.kind, values: originFlat, modifiedAt: r.modifiedAt, ...sets.get(src.system.name)! }
      : { name: ECOSYNC_ORIGIN, kind: ECOSYNC_ORIGIN, values: originFlat, modifiedAt: r.modifiedAt, reads: NONE, writable: NONE, wins: true };
    sides.push(originSide);
    const held = others.map((m) => {
      const l = index.sideOf(cid, m);
      const live = isLive(l) ? l : undefined;
      let cur = live ? input.current?.get(m.system.name)?.get(live.externalId) : undefined;
      // ecosync's own write merges nothing of a system that changed since it was last synced:
      // it writes its fields there and leaves the link alone, so the next sync merges that change.
      const outOfStep = !src && cur !== undefined && cur.hash !== live!.lastHash;
      if (outOfStep) cur = undefined;
      let values: CanonicalValues | null = null;
      if (cur) {
        // A reference the mapping could not translate is unknown, not empty.
        values = toFields(cur.values, m.readFields, true);
        for (const u of cur.unresolved ?? []) delete values[u.field];
      }
      // A system never written that does not hold the record shows nothing to keep, now or later.
      const { reads, writable } = sets.get(m.system.name)!;
      sides.push({ name: m.system.name, kind: m.system.kind, values, modifiedAt: cur?.modifiedAt ?? null, reads: live || canWrite(m.system) ? reads : NONE, writable });
      return { m, l, live, cur, values, outOfStep };
    });
    const merged = mergeRecord({ base, sides, policyFor });

    // Writes: changed fields to the systems that hold the record; the whole record to those that do not.
    const toOrigin = src ? merged.writes[0] : {};
    const writes = held.map((h, i) => {
      if (!canWrite(h.m.system)) return { ...h, fields: {} as CanonicalValues, create: false };
      if (h.live) return { ...h, fields: merged.writes[i + 1], create: false };
      if (input.createMissing === false) return { ...h, fields: {} as CanonicalValues, create: false };
      return { ...h, fields: createFields(merged.agreed, sets.get(h.m.system.name)!.writable), create: true };
    });
    const unresolved = [
      ...writes.flatMap((w) => unlinkedRefs(w.fields, w.m, index)),
      ...(src ? unlinkedRefs(toOrigin, src, index) : []),
    ];
    if (unresolved.length > 0) {
      fail(`referenced records not linked in every system yet: ${[...new Set(unresolved)].join(', ')}`, [...new Set(unresolved)]);
      continue;
    }

    for (const c of merged.conflicts) {
      conflicts.push({
        entity: entity.entity, canonicalId: cid, field: c.field, policy: c.policy, baseValue: c.base,
        sides: Object.fromEntries(c.values.map((v) => [v.side.name, { value: v.value, modifiedAt: v.side.modifiedAt }])),
      });
      counts.conflicts++;
    }

    const steps: MemberStep[] = [];
    let created = false;
    const forgetLinks: NonNullable<PlannedItem['forgetLinks']> = [];
    const data = toNested(merged.agreed);
    // A new record agreed exactly as the origin read it has the origin's hash.
    const asRead = src && !record && held.every((h) => h.values === null) && Object.keys(originFlat).every((f) => merged.agreed[f] === originFlat[f]);
    const dataHash = asRead ? r.hash : contentHash(data);
    // The hash a system will read back after our write, so that read is an echo on the fast path.
    const hashAfter = (m: Member, raw: Record<string, unknown> | undefined, create: boolean, fields: Record<string, unknown>, known: CanonicalValues, written: CanonicalValues) =>
      input.predict?.({ member: m, raw, create, fields, agreed: data }) ?? contentHash(viewAfterWrite(known, written, m));
    if (src) {
      const wrote = Object.keys(toOrigin).length > 0;
      const fields = wrote ? toWriteFields(toOrigin) : undefined;
      const raw = r.payload && typeof r.payload === 'object' ? r.payload as Record<string, unknown> : undefined;
      steps.push({
        member: src.system.name,
        write: fields ? { key: cid, externalId: r.externalId, fields } : undefined,
        link: link(cid, src, r.externalId, fields ? hashAfter(src, raw, false, fields, originFlat, toOrigin) : r.hash, r.modifiedAt),
      });
    }
    for (const w of writes) {
      const name = w.m.system.name;
      if (Object.keys(w.fields).length > 0) {
        const known = w.create ? {} : w.values ?? merged.agreed;
        const fields = toWriteFields(w.fields);
        const hash = hashAfter(w.m, w.create ? undefined : w.cur?.raw, w.create, fields, known, w.fields);
        steps.push({
          member: name,
          write: { key: cid, ...(w.create ? {} : { externalId: w.live!.externalId }), fields },
          link: w.outOfStep ? undefined : link(cid, w.m, w.create ? '' : w.live!.externalId, hash, w.cur?.modifiedAt ?? w.live?.lastModifiedAt ?? null),
        });
        if (w.create) {
          created = true;
          // A resurrected record gets a new id there; its tombstoned link gives way (one link per system object).
          if (w.l) forgetLinks.push({ instance: w.m.system.instance, object: w.m.object, externalId: w.l.externalId, canonicalId: cid });
        }
      } else if (w.cur && w.live && w.live.lastHash !== w.cur.hash && !(w.cur.unresolved?.length)) {
        // Read and merged, nothing to write: its next read is an echo.
        steps.push({ member: name, link: { ...w.live, lastHash: w.cur.hash, lastModifiedAt: w.cur.modifiedAt } });
      }
    }

    const writesAny = steps.some((s) => s.write);
    const recordChanged = !record || t.wasDeleted || merged.changed.length > 0;

    // 8. Nothing to do after all.
    if (!writesAny && !recordChanged) {
      const refresh = steps.filter((s) => s.link && (s.member !== src?.system.name || t.sLink?.lastHash !== r.hash));
      if (refresh.length === 0) counts.unchanged++;
      else items.push({ canonicalId: cid, source, outcome: 'unchanged', steps: refresh, before: record?.data });
      continue;
    }

    items.push({
      canonicalId: cid,
      source,
      outcome: created || !record ? 'created' : 'updated',
      steps,
      before: record?.data,
      record: recordChanged
        ? { entity: entity.entity, canonicalId: cid, data, hash: dataHash, deleted: false, expectedVersion: record?.version }
        : undefined,
      forgetLinks: forgetLinks.length > 0 ? forgetLinks : undefined,
    });
  }

  return {
    connectionId: entity.connectionId,
    entity,
    origin: input.origin,
    items,
    deadLetters,
    conflicts,
    counts,
    cursor: src ? advanceCursor(input.cursor ?? null, input.records.map((r) => ({ modifiedAt: r.modifiedAt, id: r.externalId }))) : null,
    attempt: 1,
  };
}

// ---- what to look up before planning ---------------------------------------------------------------

export interface ExternalLookup {
  instance: string;
  object: string;
  externalIds: string[];
}

/**
 * Store lookups by external id for records read from `origin`: their own links, and the links of
 * the records they reference (`refIds`: canonical field → the system ids the raw records hold,
 * read through the mapping's `refs`), which the mapping engine needs to translate references.
 */
export function externalLookups(origin: Member, externalIds: readonly string[], refIds: Readonly<Record<string, readonly string[]>> = {}): ExternalLookup[] {
  const groups = new Map<string, ExternalLookup>();
  const add = (object: string, id: string) => {
    let g = groups.get(object);
    if (!g) groups.set(object, (g = { instance: origin.system.instance, object, externalIds: [] }));
    g.externalIds.push(id);
  };
  for (const id of new Set(externalIds)) add(origin.object, id);
  for (const [field, ids] of Object.entries(refIds)) {
    const ref = origin.references[field];
    if (!ref) throw new Error(`${field} is not a reference field of ${origin.system.name} ${origin.object}`);
    for (const id of new Set(ids)) if (!isEmpty(id) && id !== '') add(ref.object, String(id));
  }
  for (const g of groups.values()) g.externalIds = [...new Set(g.externalIds)];
  return [...groups.values()];
}

export interface CanonicalLookups {
  /** records rows to load. */
  records: string[];
  /** links rows to load (every system) per entity. */
  links: { entity: string; canonicalIds: string[] }[];
}

/**
 * Second round of lookups, after the external ones: every link and the record of each canonical
 * id the batch's records have (carried or found: an id derived from a record never linked has
 * neither), and every link of the records they reference (a referenced account's id in each system).
 */
export function canonicalLookups(entity: HubEntity, origin: Member | undefined, records: readonly Pick<IncomingRecord, 'externalId' | 'canonicalId'>[], found: readonly StoredLink[], referenced: Readonly<Record<string, readonly string[]>> = {}): CanonicalLookups {
  const own = new Set<string>();
  for (const r of records) if (isCanonicalId(r.canonicalId)) own.add(r.canonicalId.toLowerCase());
  const refs = new Map<string, Set<string>>();
  const addRef = (refEntity: string, id: string) => {
    if (!refs.has(refEntity)) refs.set(refEntity, new Set());
    refs.get(refEntity)!.add(id.toLowerCase());
  };
  if (origin) {
    const refObjects = new Map(Object.values(origin.references).map((ref) => [ref.object, ref.entity]));
    for (const l of found) {
      if (l.instance !== origin.system.instance) continue;
      if (l.object === origin.object) own.add(l.canonicalId.toLowerCase());
      const refEntity = refObjects.get(l.object);
      if (refEntity !== undefined && l.object !== origin.object) addRef(refEntity, l.canonicalId);
    }
  }
  for (const [refEntity, ids] of Object.entries(referenced)) for (const id of ids) if (isCanonicalId(id)) addRef(refEntity, id);
  const ids = [...own].sort();
  const links: CanonicalLookups['links'] = [{ entity: entity.entity, canonicalIds: ids }];
  for (const [refEntity, set] of refs) {
    if (refEntity === entity.entity) links[0].canonicalIds = [...new Set([...ids, ...set])].sort();
    else links.push({ entity: refEntity, canonicalIds: [...set].sort() });
  }
  return { records: ids, links };
}
