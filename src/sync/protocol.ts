/**
 * The connector protocol: the one small interface every external system implements, close to
 * Airbyte's spec/check/discover/read plus a batched write. It is the sync engine's connector
 * port: src/sync owns it, connectors/<system>/ implement it, and everything system-specific
 * stays there.
 */

export type FieldType =
  | 'id' | 'string' | 'text' | 'email' | 'phone' | 'url'
  | 'number' | 'integer' | 'boolean'
  | 'date' | 'datetime' | 'currency' | 'percent'
  | 'picklist' | 'multipicklist' | 'reference'
  /** A sublist: the value is an array of objects whose fields `items` describes (an invoice's lines). */
  | 'list';

export interface FieldSpec {
  name: string;
  type: FieldType;
  label?: string;
  /** May be left empty on create. */
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  /** Unique and usable as an upsert key. */
  externalId?: boolean;
  length?: number;
  picklistValues?: string[];
  /** For references: the object this field points to. */
  referenceTo?: string;
  /** For lists: the fields of each element. */
  items?: FieldSpec[];
}

export interface ObjectSpec {
  /** The system's own object name: 'Account', 'Opportunity', 'companies', 'deals'. */
  name: string;
  fields: FieldSpec[];
  /** Field holding the system's record id. */
  idField: string;
  /** Field holding the last-modified instant used by incremental reads. */
  modifiedField: string;
  /** Field we own that stores the ecosync canonical id, used as the upsert key (idempotent writes). */
  upsertKeyField?: string;
}

/**
 * Compound cursor: (modified instant, id). Ties on the same instant are real, so reads resume
 * strictly after (modifiedAt, id) and go back `lookbackMs` to catch late-visible writes.
 */
export interface Cursor {
  modifiedAt: string;
  id: string;
  /**
   * Where a read that cannot be resumed from (modifiedAt, id) alone goes on: the connector's own
   * opaque token (a Salesforce Bulk API 2.0 job and its result locator). While it is set,
   * (modifiedAt, id) is the greatest pair read so far; the read's last page leaves it out.
   */
  resume?: string;
}

export interface SourceRecord {
  /** The system's id for the record. */
  id: string;
  /** ISO 8601 UTC. */
  modifiedAt: string;
  deleted: boolean;
  /** Raw fields as the system returns them (names as in ObjectSpec). */
  fields: Record<string, unknown>;
}

export interface ReadOptions {
  /** Resume after this cursor; null reads everything (full reconcile). */
  cursor: Cursor | null;
  /** Fields to fetch; the connector may add its id/modified fields. */
  fields: string[];
  lookbackMs?: number;
  /** Include deleted records (Salesforce queryAll, HubSpot archived). */
  includeDeleted?: boolean;
  pageSize?: number;
}

export interface Page {
  records: SourceRecord[];
  /** Cursor after the last record of this page; persist it once the page is processed. */
  cursor: Cursor | null;
}

export interface WriteOp {
  /** Caller's key for matching results back (the canonical id). */
  key: string;
  /** Known system id: update it. Absent: upsert by the object's upsertKeyField (= key). */
  externalId?: string;
  fields: Record<string, unknown>;
}

export interface DeleteOp {
  key: string;
  externalId: string;
}

export interface WriteError {
  /** The system's own error code: REQUIRED_FIELD_MISSING, INVALID_EMAIL_ADDRESS, VALIDATION_ERROR... */
  code: string;
  message: string;
  fields?: string[];
}

export type WriteResult =
  | { key: string; ok: true; externalId: string; created: boolean; modifiedAt?: string }
  | { key: string; ok: false; error: WriteError; /** Worth retrying as is (throttled, 5xx). */ retryable: boolean };

/** The system instance a connector talks to, in the system's own words. */
export interface SystemIdentity {
  /**
   * Stable id of the instance, prefixed with the system: `salesforce:00D5g000004XyzEAC` (org id),
   * `hubspot:4455667` (portal id). Two connectors with the same instance share one set of records.
   */
  instance: string;
  /** For people: the org's or portal's name. */
  label?: string;
}

export interface CheckResult {
  ok: boolean;
  message: string;
  /** e.g. { org: '00D…', user: '005…', apiUsage: '12/15000' } */
  details?: Record<string, string>;
}

/** Thrown for rate limits; retryAfterMs tells when to try again, `daily` means not before the window resets. */
export class RateLimitError extends Error {
  constructor(message: string, readonly retryAfterMs: number, readonly daily = false) {
    super(message);
    this.name = 'RateLimitError';
  }
}

/** Thrown when credentials are wrong or revoked (not merely expired: connectors refresh those). */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface Connector {
  readonly system: string;
  check(): Promise<CheckResult>;
  /** Which org, portal or account the credentials reach (one call; the caller keeps the answer). */
  identify(): Promise<SystemIdentity>;
  discover(): Promise<ObjectSpec[]>;
  read(object: string, options: ReadOptions): AsyncIterable<Page>;
  /**
   * Current state of these records (missing ones are left out). The sync reads the other side of
   * linked records before writing to it, so a change made there since the last sync is merged,
   * not overwritten; replays re-read dead-lettered records with it.
   */
  readByIds(object: string, ids: string[], fields: string[]): Promise<SourceRecord[]>;
  /** One call per batch of at most maxBatchSize(object) records; a result per op, in order. */
  write(object: string, ops: WriteOp[]): Promise<WriteResult[]>;
  delete(object: string, ops: DeleteOp[]): Promise<WriteResult[]>;
  maxBatchSize(object: string): number;
  close?(): Promise<void>;
}
