import type { WriteError, WriteResult } from '../../src/sync/protocol.js';

/**
 * Matching a batch response back to its inputs. HubSpot returns results in no guaranteed order and
 * reports failures in `errors` (207); each input carries objectWriteTraceId, which HubSpot echoes on
 * results and in an error's context, with the input id (context.ids) as the fallback.
 */
export interface BatchInputRef {
  key: string;
  traceId: string;
  /** The input's id: the HubSpot id for update, the ecosync_id value for upsert. */
  id: string;
}

export interface BatchResultObject {
  id: string;
  properties?: Record<string, string | null>;
  updatedAt?: Date | string;
  objectWriteTraceId?: string;
  /** The SDK's name for the upsert response's `new`. */
  _new?: boolean;
  new?: boolean;
}

export interface BatchErrorObject {
  category?: string;
  message?: string;
  context?: Record<string, string[]>;
  errors?: { message?: string; code?: string; context?: Record<string, string[]> }[];
}

/** Categories worth retrying as is. */
const RETRYABLE = new Set(['INTERNAL_ERROR', 'RATE_LIMITS', 'RATE_LIMIT', 'TIMEOUT', 'SERVICE_UNAVAILABLE']);

const INVALID_VALUES_PREFIX = 'Property values were not valid: ';

/**
 * HubSpot's VALIDATION_ERROR may carry the per-property problems only inside its message
 * ("Property values were not valid: [{"error":"INVALID_EMAIL","name":"email",...}]").
 */
function issuesInMessage(message: string | undefined): { code?: string; message?: string; context?: Record<string, string[]> }[] {
  if (!message?.startsWith(INVALID_VALUES_PREFIX)) return [];
  try {
    const list = JSON.parse(message.slice(INVALID_VALUES_PREFIX.length)) as { error?: string; name?: string; message?: string }[];
    return list.map((i) => ({ code: i.error, message: i.message, context: i.name ? { propertyName: [i.name] } : undefined }));
  } catch {
    return [];
  }
}

/** A refusal caused by the values of some inputs (as opposed to the request as a whole). */
export function isInvalidValue(error: BatchErrorObject): boolean {
  return (error.errors?.length ?? 0) > 0 || issuesInMessage(error.message).length > 0;
}

export function writeErrorOf(error: BatchErrorObject): { error: WriteError; retryable: boolean } {
  const details = error.errors?.length ? error.errors : issuesInMessage(error.message);
  const first = details[0];
  const fields = [...new Set(details.flatMap((e) => e.context?.propertyName ?? []))];
  return {
    error: {
      code: first?.code ?? error.category ?? 'UNKNOWN_ERROR',
      message: first?.message ?? error.message ?? 'HubSpot rejected the record',
      ...(fields.length > 0 ? { fields } : {}),
    },
    retryable: RETRYABLE.has(error.category ?? ''),
  };
}

export function matchWriteResults(
  inputs: BatchInputRef[],
  results: BatchResultObject[],
  errors: BatchErrorObject[],
  resultKey: (r: BatchResultObject) => string | undefined,
): WriteResult[] {
  const byTrace = new Map(inputs.map((i) => [i.traceId, i]));
  const byId = new Map(inputs.map((i) => [i.id, i]));
  const outcome = new Map<string, WriteResult>();
  for (const r of results) {
    const input = (r.objectWriteTraceId !== undefined ? byTrace.get(r.objectWriteTraceId) : undefined) ?? byId.get(resultKey(r) ?? '');
    if (!input) continue;
    const updatedAt = r.updatedAt instanceof Date ? r.updatedAt.toISOString() : r.updatedAt;
    outcome.set(input.key, { key: input.key, ok: true, externalId: r.id, created: r._new ?? r.new ?? false, ...(updatedAt ? { modifiedAt: updatedAt } : {}) });
  }
  for (const e of errors) {
    const refs = [
      ...(e.context?.objectWriteTraceId ?? []).map((t) => byTrace.get(t)),
      ...(e.context?.ids ?? []).map((id) => byId.get(id)),
    ].filter((x): x is BatchInputRef => x !== undefined);
    const { error, retryable } = writeErrorOf(e);
    for (const ref of refs) if (!outcome.has(ref.key)) outcome.set(ref.key, { key: ref.key, ok: false, error, retryable });
  }
  return inputs.map((i) => outcome.get(i.key) ?? {
    key: i.key, ok: false, retryable: true,
    error: { code: 'NO_RESULT', message: 'HubSpot returned neither a result nor an error for this record' },
  });
}

/** Every input fails the same way (the whole call was refused). */
export function failAll(keys: string[], error: WriteError, retryable: boolean): WriteResult[] {
  return keys.map((key) => ({ key, ok: false, error, retryable }));
}
