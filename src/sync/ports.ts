/**
 * The engine's ports: what src/sync needs from the world, in its own words. The connector port is
 * the connector protocol (./protocol.ts); the mapper port is the slice of a compiled mapping file
 * the engine calls; the state port is one hub's links, records, cursors, dead letters and
 * conflicts, saved one commit at a time. src/store implements the state port, src/mapping the
 * mapper port, connectors/ the connector port; the engine imports none of them.
 */
import type { EntityName } from '../model/index.js';
import type { Cursor } from './protocol.js';

// ---- mapper --------------------------------------------------------------------------------------

/** Id translation for reference fields (an opportunity's account). */
export interface MapContext {
  /** System id → canonical id of a referenced record, or undefined when it is not linked (yet). */
  resolveRef?(entity: EntityName, externalId: string): string | undefined;
  /** Canonical id → this system's id of a referenced record, or undefined when it is not linked there (yet). */
  externalRef?(entity: EntityName, canonicalId: string): string | undefined;
}

export interface FieldIssue {
  /** Canonical field path. */
  field: string;
  code: string;
  message: string;
}

export interface UnresolvedRef {
  field: string;
  entity: EntityName;
  /** The id that could not be translated. */
  id: string;
}

export type MapOutcome<T> =
  | { ok: true; value: T; unresolved: readonly UnresolvedRef[] }
  | { ok: false; errors: readonly FieldIssue[]; unresolved: readonly UnresolvedRef[] };

/** One field of a mapping file, as the engine needs to know it. */
export interface MappedField {
  /** Canonical path: `name`, `billingAddress.city`. */
  field: string;
  /** The system field it comes from and goes to (absent for computed fields). */
  from?: string;
  direction: 'both' | 'inbound' | 'outbound';
  /** The entity a reference field points at. */
  ref?: EntityName;
  /** The system field holding the currency of a money field. */
  currencyField?: string;
}

/** A compiled mapping file: one system object ⇄ one canonical entity. */
export interface Mapper {
  readonly file: string;
  /** The system kind the file maps (`salesforce`), and its object (`Account`). */
  readonly system: string;
  readonly object: string;
  readonly entity: EntityName;
  readonly fields: readonly MappedField[];
  /** Canonical field → who wins a conflict: a system name, `lww` or `manual`. */
  readonly fieldOwners: Readonly<Record<string, string>>;
  /** Reference fields: canonical field, entity, system field holding the id. */
  readonly refs: readonly { field: string; entity: EntityName; from: string }[];
  /** System fields forward reads: ask the connector for these. */
  readonly sourceFields: readonly string[];
  /** System record → nested canonical values (no `id`); never throws for bad data. */
  forward(record: Record<string, unknown>, ctx?: MapContext): MapOutcome<Record<string, unknown>>;
  /** Canonical values (taken as the whole record) → system fields of every outbound field. */
  reverse(canonical: Record<string, unknown>, ctx?: MapContext): MapOutcome<Record<string, unknown>>;
  /** The entity's schema checks on mapped values. */
  validate(canonical: Record<string, unknown>): { ok: true } | { ok: false; errors: readonly FieldIssue[] };
}

// ---- state ---------------------------------------------------------------------------------------

/** lastHash of a link whose side was deleted. */
export const TOMBSTONE_HASH = 'deleted';

/** A canonical record's counterpart in one system instance's object. */
export interface StoredLink {
  entity: string;
  canonicalId: string;
  /** The system instance (`salesforce:00D…`, `hubspot:4455667`). */
  instance: string;
  object: string;
  externalId: string;
  /** Content hash of the side as last synced (echo suppression); TOMBSTONE_HASH once deleted there. */
  lastHash: string | null;
  lastModifiedAt: string | null;
}

/** A link to save; lastHash or lastModifiedAt null keeps the stored value. */
export type LinkUpsert = StoredLink;

/** The last agreed canonical state of a record: the base of merges. */
export interface StoredRecord {
  canonicalId: string;
  data: Record<string, unknown>;
  hash: string;
  version: number;
  deleted: boolean;
}

export interface RecordUpsert {
  entity: string;
  canonicalId: string;
  data: Record<string, unknown>;
  hash: string;
  deleted: boolean;
  /** The version planned from; absent for a new record. A record that moved on is not written ('stale'). */
  expectedVersion?: number;
}

export interface ExternalRef {
  instance: string;
  object: string;
  externalId: string;
}

export interface DeadLetterInput {
  /** 'read': the record could not be mapped or planned; 'write': a system refused our write. */
  direction: 'read' | 'write';
  /** The hub system (its name in the connection) and object the record failed in. */
  system: string;
  object: string;
  externalId: string | null;
  canonicalId: string | null;
  /** What a replay needs: the record as read, or the write and the record it came from. */
  payload: unknown;
  reason: string;
  errorCode: string | null;
  failingFields: string[];
  /** Worth replaying as is (an unresolved reference, retries exhausted). */
  retryable: boolean;
}

export interface ConflictSide {
  value: unknown;
  modifiedAt: string | null;
}

export interface ConflictInput {
  entity: string;
  canonicalId: string;
  field: string;
  policy: string;
  baseValue: unknown;
  /** Every system that changed the field, by its name in the connection. */
  sides: Record<string, ConflictSide>;
}

/** What one commit saves, in one transaction. */
export interface Commit {
  /** Written first: a record whose version moved on is 'stale' and nothing of its own is saved. */
  records: RecordUpsert[];
  /** Deleted before `links` are saved (a tombstoned side replaced by a new record). */
  forgetLinks: (ExternalRef & { canonicalId: string })[];
  links: LinkUpsert[];
  deadLetters: DeadLetterInput[];
  conflicts: ConflictInput[];
}

export interface CommitResult {
  /** Canonical ids whose record another writer changed since it was read: plan them again. */
  stale: string[];
}

/** An open dead letter, as replay needs it. */
export interface OpenDeadLetter {
  id: string;
  direction: 'read' | 'write';
  system: string;
  object: string;
  externalId: string | null;
  canonicalId: string | null;
  payload: unknown;
}

/** One hub's (connection's) state. Every method is scoped to that hub. */
export interface HubState {
  linksByExternalIds(instance: string, object: string, externalIds: readonly string[]): Promise<StoredLink[]>;
  /** Every side of these canonical records. */
  linksByCanonicalIds(entity: string, canonicalIds: readonly string[]): Promise<StoredLink[]>;
  records(entity: string, canonicalIds: readonly string[]): Promise<StoredRecord[]>;
  cursor(instance: string, object: string): Promise<Cursor | null>;
  /** null forgets the cursor: the next read starts from nothing. */
  saveCursor(instance: string, object: string, cursor: Cursor | null): Promise<void>;
  commit(commit: Commit): Promise<CommitResult>;
  /** Open dead letters: these ids, or all. */
  openDeadLetters(ids?: readonly string[]): Promise<OpenDeadLetter[]>;
  closeDeadLetters(ids: readonly string[], status: 'replayed' | 'discarded'): Promise<void>;
}

/** Counters of what a batch of records came to. */
export interface SyncCounts {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
  conflicts: number;
}

export const emptyCounts = (): SyncCounts =>
  ({ read: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, conflicts: 0 });

export function addCounts(a: SyncCounts, b: SyncCounts): SyncCounts {
  return {
    read: a.read + b.read, created: a.created + b.created, updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged, deleted: a.deleted + b.deleted, failed: a.failed + b.failed,
    conflicts: a.conflicts + b.conflicts,
  };
}
