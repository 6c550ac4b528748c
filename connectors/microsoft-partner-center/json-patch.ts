/**
 * Partner Center updates a referral with a JSON Patch document (RFC 6902) and supports only the
 * `add` and `replace` operations. The client turns a partial referral into such a document; the
 * sandbox applies it.
 */
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
    const path = `${prefix}/${escape(key)}`;
    const existing = base[key];
    if (isPlainObject(value) && isPlainObject(existing)) {
      ops.push(...toJsonPatch(existing, value, path));
    } else if (JSON.stringify(existing) !== JSON.stringify(value)) {
      ops.push({ op: key in base ? 'replace' : 'add', path, value });
    }
  }
  return ops;
}

export function applyJsonPatch<T>(doc: T, ops: unknown): T {
  if (!Array.isArray(ops)) throw new JsonPatchError('', 'the request body must be a JSON Patch array of operations');
  const result = structuredClone(doc) as unknown;
  ops.forEach((raw, i) => {
    if (!isPlainObject(raw) || typeof raw.path !== 'string') throw new JsonPatchError(`[${i}]`, `operation ${i} needs "op" and "path"`);
    const { op, path, value } = raw as { op: unknown; path: string; value: unknown };
    if (op !== 'add' && op !== 'replace') throw new JsonPatchError(path, `operation "${String(op)}" is not supported (only add and replace)`);
    if (!('value' in raw)) throw new JsonPatchError(path, `operation ${i} has no "value"`);
    if (!path.startsWith('/')) throw new JsonPatchError(path, `path "${path}" must start with "/"`);
    const keys = path.slice(1).split('/').map(unescape);
    const last = keys.pop()!;
    let parent: unknown = result;
    for (const key of keys) {
      parent = Array.isArray(parent) ? parent[Number(key)] : isPlainObject(parent) ? parent[key] : undefined;
      if (parent === undefined) throw new JsonPatchError(path, `path "${path}" does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length || (op === 'replace' && index >= parent.length)) {
        throw new JsonPatchError(path, `index "${last}" is out of range in "${path}"`);
      }
      if (op === 'add') parent.splice(index, 0, value);
      else parent[index] = value;
    } else if (isPlainObject(parent)) {
      if (op === 'replace' && !(last in parent)) throw new JsonPatchError(path, `path "${path}" does not exist (use add)`);
      parent[last] = value;
    } else {
      throw new JsonPatchError(path, `path "${path}" does not point into an object or array`);
    }
  });
  return result as T;
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
function unescape(key: string): string {
  return key.replace(/~1/g, '/').replace(/~0/g, '~');
}
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
