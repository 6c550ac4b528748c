/**
 * Three-way merge of one record, field by field, in canonical space: the base (last agreed
 * state), the source side (the record just read) and the target side (its current values, when
 * the target was read). Pure; the planner wraps it with ids, references and writes.
 */
import { isEmpty, valuesEqual, type CanonicalValues } from './values.js';

/** 'lww' (or 'last-writer-wins'), 'manual', or the name of the system whose value wins. */
export type FieldPolicy = string;

export interface MergeSide {
  system: string;
  /** Flat canonical values; null when this side was not read (its values are unknown). */
  values: CanonicalValues | null;
  modifiedAt: string | null;
  /** Fields this side's mapping produces on read. */
  reads: ReadonlySet<string>;
  /** Fields the planner may write to this side: allowed by the connection direction and mapped outbound. */
  writable: ReadonlySet<string>;
}

export interface MergeInput {
  base: CanonicalValues;
  source: MergeSide;
  target: MergeSide;
  policyFor: (field: string) => FieldPolicy;
}

export interface FieldConflict {
  field: string;
  policy: FieldPolicy;
  base: unknown;
  sourceValue: unknown;
  targetValue: unknown;
}

export interface MergeResult {
  /** The new agreed values (flat; empty fields are null). */
  agreed: CanonicalValues;
  /** Fields whose agreed value differs from the base. */
  changed: string[];
  /** Values to write to the target (changed fields it does not hold yet). */
  toTarget: CanonicalValues;
  /** Values to write back to the source (changed fields it does not hold yet). */
  toSource: CanonicalValues;
  /** Fields both sides changed to different values that no policy could settle. */
  conflicts: FieldConflict[];
}

export type Winner = 'source' | 'target' | null;

function instantOrNegInf(text: string | null): number {
  const ms = text === null ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/**
 * Which side's value wins a field both sides changed to different values. System of record:
 * that system (neither side being it leaves the conflict to RevOps). Last writer wins: the later
 * modifiedAt; on a tie, the system whose name sorts first, so both runs decide alike.
 */
export function decideConflict(policy: FieldPolicy, source: MergeSide, target: MergeSide): Winner {
  if (policy === 'manual') return null;
  if (policy === 'lww' || policy === 'last-writer-wins') {
    const s = instantOrNegInf(source.modifiedAt);
    const t = instantOrNegInf(target.modifiedAt);
    if (s !== t) return s > t ? 'source' : 'target';
    return source.system <= target.system ? 'source' : 'target';
  }
  if (policy === source.system) return 'source';
  if (policy === target.system) return 'target';
  return null;
}

/**
 * A side's change to a field counts only if the other side can receive it, or does not hold the
 * field at all. Otherwise the other side owns the field (it reads it but we may not write it:
 * an inbound-only field there, or a one-way connection), and accepting the change would leave
 * the two sides disagreeing with the base forever, each later edit reviving the stale value.
 */
const countsAsChange = (other: MergeSide, field: string) => other.writable.has(field) || !other.reads.has(field);

export function mergeRecord({ base, source, target, policyFor }: MergeInput): MergeResult {
  const fields = new Set<string>([...Object.keys(base), ...Object.keys(source.values ?? {}), ...Object.keys(target.values ?? {})]);
  const agreed: CanonicalValues = {};
  const changed: string[] = [];
  const toTarget: CanonicalValues = {};
  const toSource: CanonicalValues = {};
  const conflicts: FieldConflict[] = [];
  const has = (side: MergeSide, f: string) => side.values !== null && Object.hasOwn(side.values, f);

  for (const f of [...fields].sort()) {
    const b = base[f] ?? null;
    const s = has(source, f) ? source.values![f] ?? null : undefined;
    const t = has(target, f) ? target.values![f] ?? null : undefined;
    const sChanged = s !== undefined && !valuesEqual(s, b) && countsAsChange(target, f);
    const tChanged = t !== undefined && !valuesEqual(t, b) && countsAsChange(source, f);

    let value: unknown = b;
    if (sChanged && tChanged && !valuesEqual(s, t)) {
      const policy = policyFor(f);
      const winner = decideConflict(policy, source, target);
      if (winner === 'source') value = s;
      else if (winner === 'target') value = t;
      else conflicts.push({ field: f, policy, base: b, sourceValue: s, targetValue: t });
    } else if (sChanged) value = s;
    else if (tChanged) value = t;

    agreed[f] = value;
    if (valuesEqual(value, b)) continue;
    changed.push(f);
    if (target.writable.has(f) && !(t !== undefined && valuesEqual(t, value))) toTarget[f] = value;
    if (source.writable.has(f) && !(s !== undefined && valuesEqual(s, value))) toSource[f] = value;
  }
  return { agreed, changed, toTarget, toSource, conflicts };
}

/** Fields of a new target record: every non-empty agreed value the target accepts. */
export function createFields(agreed: CanonicalValues, writable: ReadonlySet<string>): CanonicalValues {
  const out: CanonicalValues = {};
  for (const f of Object.keys(agreed).sort()) {
    if (writable.has(f) && !isEmpty(agreed[f])) out[f] = agreed[f];
  }
  return out;
}
