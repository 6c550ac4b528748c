/**
 * Partner Center updates a referral with a JSON Patch document (RFC 6902) and supports only the
 * `add` and `replace` operations. The client turns a partial referral into such a document; the
 * sandbox applies it.
 */
import jsonpatch, { type Operation } from 'fast-json-patch';

export interface JsonPatchOp {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

export class JsonPatchError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** A partial referral: nested objects are merged field by field, arrays and scalars replace. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * The operations that turn `current` into `current` merged with `patch`: `replace` where the
 * member exists, `add` where it does not. Unchanged values produce no operation, so an update
 * that changes nothing sends nothing.
 */
export function toJsonPatch(current: unknown, patch: Record<string, unknown>, prefix = ''): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const base = isPlainObject(current) ? current : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const path = `${prefix}/${jsonpatch.escapePathComponent(key)}`;
    const existing = base[key];
    if (isPlainObject(value) && isPlainObject(existing)) {
      ops.push(...toJsonPatch(existing, value, path));
    } else if (JSON.stringify(existing) !== JSON.stringify(value)) {
      ops.push({ op: key in base ? 'replace' : 'add', path, value });
    }
  }
  return ops;
}

/**
 * Applies the operations to a copy of `doc` with fast-json-patch, after refusing what Partner
 * Center refuses: anything but `add` and `replace`.
 */
export function applyJsonPatch<T>(doc: T, ops: unknown): T {
  if (!Array.isArray(ops)) throw new JsonPatchError('', 'the request body must be a JSON Patch array of operations');
  let result = structuredClone(doc);
  ops.forEach((raw: unknown, i) => {
    const path = isPlainObject(raw) && typeof raw.path === 'string' ? raw.path : `[${i}]`;
    if (isPlainObject(raw) && raw.op !== 'add' && raw.op !== 'replace') {
      throw new JsonPatchError(path, `operation ${i}: "${String(raw.op)}" is not supported (only add and replace)`);
    }
    try {
      result = jsonpatch.applyOperation(result, raw as Operation, true, true, true, i).newDocument;
    } catch (error) {
      // The library's own errors name the problem on their first line; a path into __proto__ is a TypeError.
      const reason = error instanceof jsonpatch.JsonPatchError ? error.message.split('\n')[0] : 'the path may not reach __proto__, constructor or prototype';
      throw new JsonPatchError(path, `operation ${i} on "${path}": ${reason}`);
    }
  });
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
