/**
 * N-way merge of one record, field by field, in canonical space: the base (last agreed state)
 * and every side that takes part (the record just read, the other systems' current values, or a
 * write that starts in ecosync). Pure; the planner wraps it with ids, references and writes.
 */
import { isEmpty, valuesEqual, type CanonicalValues } from './values.js';
import type { FieldPolicy } from './hub.js';

export interface MergeSide {
  /** The system's name in the connection (or 'ecosync' for a write that starts in the hub). */
  name: string;
  /** The system kind: a system of record may be named by kind (`netsuite`) as well as by name. */
  kind: string;
  /** Flat canonical values; null when this side was not read (its values are unknown). */
  values: CanonicalValues | null;
  modifiedAt: string | null;
  /** Fields this side produces on read. */
  reads: ReadonlySet<string>;
  /** Fields the planner may write to this side. */
  writable: ReadonlySet<string>;
  /** Its changes win every disagreement (a write that starts in ecosync). */
  wins?: boolean;
}

export interface MergeInput {
  base: CanonicalValues;
  sides: readonly MergeSide[];
  policyFor: (field: string) => FieldPolicy;
}

export interface FieldConflict {
  field: string;
  policy: FieldPolicy;
  base: unknown;
  /** The sides that changed the field, with their values. */
  values: { side: MergeSide; value: unknown }[];
}

export interface MergeResult {
  /** The new agreed values (flat; empty fields are null). */
  agreed: CanonicalValues;
  /** Fields whose agreed value differs from the base. */
  changed: string[];
  /** Per side (same order as the input): values to write to it (changed fields it does not hold yet). */
  writes: CanonicalValues[];
  /** Fields changed to different values that no policy could settle; they keep the base value. */
  conflicts: FieldConflict[];
}

function instantOrNegInf(text: string | null): number {
  const ms = text === null ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/**
 * Which of the sides that changed a field to different values wins. A side that wins every
 * disagreement (ecosync's own write) first; then the system of record (named by name or kind;
 * none of the changers being it leaves the conflict to RevOps); last writer wins: the latest
 * modifiedAt, on a tie the name that sorts first, so every run decides alike.
 */
export function decideConflict(policy: FieldPolicy, changers: readonly MergeSide[]): MergeSide | null {
  const forced = changers.find((s) => s.wins);
  if (forced) return forced;
  if (policy === 'manual') return null;
  if (policy === 'lww' || policy === 'last-writer-wins') {
    let best = changers[0];
    for (const s of changers.slice(1)) {
      const a = instantOrNegInf(s.modifiedAt);
      const b = instantOrNegInf(best.modifiedAt);
      if (a > b || (a === b && s.name < best.name)) best = s;
    }
    return best;
  }
  return changers.find((s) => s.name === policy) ?? changers.find((s) => s.kind === policy) ?? null;
}

/**
 * A side's change to a field counts only if every other side that holds the field can receive
 * it. Otherwise that other side owns the field (it reads it but we may not write it: an
 * inbound-only field there, or a system that is only read), and accepting the change would
 * leave the two disagreeing with the base forever, each later edit reviving the stale value.
 */
function countsAsChange(sides: readonly MergeSide[], from: number, field: string): boolean {
  for (let i = 0; i < sides.length; i++) {
    if (i === from) continue;
    const other = sides[i];
    if (other.reads.has(field) && !other.writable.has(field)) return false;
  }
  return true;
}

export function mergeRecord({ base, sides, policyFor }: MergeInput): MergeResult {
  const fields = new Set<string>(Object.keys(base));
  for (const s of sides) if (s.values) for (const f of Object.keys(s.values)) fields.add(f);
  const agreed: CanonicalValues = {};
  const changed: string[] = [];
  const writes: CanonicalValues[] = sides.map(() => ({}));
  const conflicts: FieldConflict[] = [];
  const valueOf = (s: MergeSide, f: string) => (s.values !== null && Object.hasOwn(s.values, f) ? s.values[f] ?? null : undefined);

  for (const f of [...fields].sort()) {
    const b = base[f] ?? null;
    const changers: { side: MergeSide; value: unknown }[] = [];
    sides.forEach((s, i) => {
      const v = valueOf(s, f);
      if (v !== undefined && !valuesEqual(v, b) && countsAsChange(sides, i, f)) changers.push({ side: s, value: v });
    });

    let value: unknown = b;
    if (changers.length > 0) {
      const first = changers[0].value;
      if (changers.every((c) => valuesEqual(c.value, first))) value = first;
      else {
        const policy = policyFor(f);
        const winner = decideConflict(policy, changers.map((c) => c.side));
        if (winner) value = changers.find((c) => c.side === winner)!.value;
        else conflicts.push({ field: f, policy, base: b, values: changers });
      }
    }

    agreed[f] = value;
    if (valuesEqual(value, b)) continue;
    changed.push(f);
    sides.forEach((s, i) => {
      if (!s.writable.has(f)) return;
      const v = valueOf(s, f);
      if (v !== undefined && valuesEqual(v, value)) return;
      writes[i][f] = value;
    });
  }
  return { agreed, changed, writes, conflicts };
}

/** Fields of a new record: every non-empty agreed value the system accepts. */
export function createFields(agreed: CanonicalValues, writable: ReadonlySet<string>): CanonicalValues {
  const out: CanonicalValues = {};
  for (const f of Object.keys(agreed).sort()) {
    if (writable.has(f) && !isEmpty(agreed[f])) out[f] = agreed[f];
  }
  return out;
}
