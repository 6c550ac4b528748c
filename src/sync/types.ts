/**
 * The planner's inputs and outputs. Wire and row shapes come from the connector protocol
 * (WriteOp, DeleteOp, WriteResult) and the store (links, records, dead letters, conflicts, run
 * counters), so the glue passes rows through without translating them. Those imports are
 * type-only: at runtime src/sync still depends on src/model alone.
 */
import type { DeleteOp, WriteOp, WriteResult } from './protocol.js';
import type { EntityName } from '../model/index.js';
import type { ConflictInput as StoreConflictInput } from '../store/conflicts.js';
import type { DeadLetterInput as StoreDeadLetterInput } from '../store/dead-letters.js';
import type { LinkUpsert as StoreLinkUpsert } from '../store/links.js';
import type { CanonicalRecord, RecordUpsert as StoreRecordUpsert } from '../store/records.js';
import type { RunCounters } from '../store/runs.js';
import type { Cursor } from './cursor.js';
import type { FieldPolicy } from './merge.js';
import type { CanonicalValues } from './values.js';

/** The two systems of a connection: `a` is the connection's source; one-way connections flow a → b. */
export type SideName = 'a' | 'b';

export interface ReferenceSpec {
  /** Entity of the referenced record ('Account' for a contact's accountId). */
  entity: EntityName;
  /** This system's object holding it ('Account', 'companies'). */
  object: string;
}

export interface SyncSide {
  system: string;
  object: string;
  /** Canonical field paths this side's mapping produces on read (direction inbound or both). */
  readFields: readonly string[];
  /** Canonical field paths this side's mapping accepts on write (direction outbound or both). */
  writeFields: readonly string[];
  /**
   * Reference fields by canonical path (the mapping's `ref` fields). Values hold canonical ids
   * (the mapping engine translates ids through links); the planner only checks that the
   * referenced record is linked on the side it writes to.
   */
  references?: Readonly<Record<string, ReferenceSpec>>;
}

/** One object pair of a connection, with everything the planner must know about it. */
export interface SyncPair {
  connectionId: string;
  entity: EntityName;
  a: SyncSide;
  b: SyncSide;
  mode: 'one-way' | 'bidirectional';
  deletePolicy: 'propagate' | 'ignore';
  /** Conflict policy of fields without their own; default 'lww'. */
  defaultPolicy?: FieldPolicy;
  /** Per canonical field: the mapping's systemOfRecord ('lww', 'manual' or a system name). */
  fieldPolicies?: Readonly<Record<string, FieldPolicy>>;
  /** A record changes after it was deleted: 'skip' it (default) or 'resurrect' it (create it again). */
  updateAfterDelete?: 'skip' | 'resurrect';
}

export interface RecordIssue {
  code: string;
  message: string;
  field?: string;
}

/** A record read from the source side, forward-mapped. */
export interface IncomingRecord {
  externalId: string;
  modifiedAt: string;
  deleted: boolean;
  /** Canonical values as forward-mapped (nested, or keyed by dotted path). */
  values: CanonicalValues;
  /** The mapping engine's content hash of `values`. */
  hash: string;
  /** Canonical id the record carries in its ecosync id field, if the system stores one. */
  canonicalId?: string | null;
  /** Mapping errors: any makes the record a dead letter. */
  errors?: readonly RecordIssue[];
  /** References the mapping could not translate (the referenced record is not linked yet). */
  unresolved?: readonly UnresolvedReference[];
  /** The record as read, kept in dead letters so a replay can run it again. */
  payload?: unknown;
}

export interface UnresolvedReference {
  field: string;
  /** The id that could not be translated. */
  id: string;
}

/** The target's current state of a linked record (one batch read), forward-mapped. */
export interface CurrentRecord {
  externalId: string;
  modifiedAt: string | null;
  values: CanonicalValues;
  hash: string;
  /** References the mapping could not translate: their values are unknown, not empty. */
  unresolved?: readonly UnresolvedReference[];
}

/** A `records` row: the last agreed canonical state. */
export type StoredRecord = Pick<CanonicalRecord, 'canonicalId' | 'data' | 'hash' | 'version' | 'deleted'>;

/**
 * A `links` row: a canonical record's counterpart in one system object. lastHash is
 * TOMBSTONE_HASH once the side is deleted.
 */
export type StoredLink = Omit<LinkUpsert, 'entity'>;

export interface PlanInput {
  pair: SyncPair;
  /** The side the page was read from. */
  source: SideName;
  records: readonly IncomingRecord[];
  /**
   * Rows for the page's records: their links (every side) and records, plus every link of the
   * records they reference (see externalLookups / canonicalLookups).
   */
  stored: { records: readonly StoredRecord[]; links: readonly StoredLink[] };
  /** Target's current values for linked records; a linked record left out counts as not read. */
  targetCurrent?: readonly CurrentRecord[];
  /** The source's cursor before this page. */
  cursor?: Cursor | null;
  /** The mapping engine's content hash; default contentHash. */
  hash?: (values: CanonicalValues) => string;
  /** Replaying dead letters: plan records even when their hash says they were seen. */
  replay?: boolean;
}

export type { WriteOp, DeleteOp, WriteError, WriteResult } from './protocol.js';

/** The store's upsert with lastHash and lastModifiedAt always given (null keeps the stored value). */
export type LinkUpsert = Required<StoreLinkUpsert>;

/** The store's upsert with `deleted` always given; expectedVersion is absent for a new record. */
export interface RecordUpsert extends StoreRecordUpsert {
  deleted: boolean;
}

/** The store's dead letter with every field given, plus whether to replay it. */
export interface DeadLetterInput extends Required<StoreDeadLetterInput> {
  /** Worth replaying as is (unresolved reference, retries exhausted). */
  retryable: boolean;
}

export interface ConflictInput extends StoreConflictInput {
  policy: FieldPolicy;
}

/** The counters a sync run keeps. */
export type SyncCounts = RunCounters;

export type ItemOutcome = 'created' | 'updated' | 'unchanged' | 'deleted';

/** One source record with work to commit: its writes and the rows to save once they all succeed. */
export interface PlannedItem {
  canonicalId: string;
  /** The source record as read (hash: the mapping's content hash). */
  source: { externalId: string; modifiedAt: string; hash: string; payload: unknown };
  /** Counted when the item commits. */
  outcome: ItemOutcome;
  targetWrite?: WriteOp;
  targetDelete?: DeleteOp;
  sourceWrite?: WriteOp;
  record?: RecordUpsert;
  sourceLink?: LinkUpsert;
  /** For a create, externalId is '' until the write result tells it. */
  targetLink?: LinkUpsert;
  /** Links to delete before saving the new ones (a tombstoned side replaced by a new record). */
  forgetLinks?: ExternalRef[];
}

export interface ExternalRef {
  system: string;
  object: string;
  externalId: string;
}

export interface SyncPlan {
  connectionId: string;
  entity: EntityName;
  source: SideName;
  target: SideName;
  sourceSide: { system: string; object: string };
  targetSide: { system: string; object: string };
  /** What to send: target.write(targetSide.object, writes.target), and so on. */
  writes: { target: WriteOp[]; source: WriteOp[]; targetDeletes: DeleteOp[] };
  items: PlannedItem[];
  deadLetters: DeadLetterInput[];
  conflicts: ConflictInput[];
  /** Counts known at planning time (read, unchanged, failed, conflicts). */
  counts: SyncCounts;
  /** The source cursor after this page; save it once the plan has settled (retry is null). */
  cursor: Cursor | null;
  /** 1 for a fresh plan, +1 for each retry plan. */
  attempt: number;
}

export interface WriteResults {
  target: readonly WriteResult[];
  source: readonly WriteResult[];
  targetDeletes: readonly WriteResult[];
}

/** What to save after a plan's writes ran. */
export interface SyncOutcome {
  /** Delete these links first, then save `links` and `records` (one transaction). */
  forgetLinks: ExternalRef[];
  records: RecordUpsert[];
  links: LinkUpsert[];
  deadLetters: DeadLetterInput[];
  conflicts: ConflictInput[];
  counts: SyncCounts;
  /** The failed-but-retryable part, to run again (after a backoff); null when everything settled. */
  retry: SyncPlan | null;
  /** The cursor to save, once nothing is left to retry. */
  cursor: Cursor | null;
}
