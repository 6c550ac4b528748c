/**
 * applyWriteResults: a plan's per-record write results → the rows to save. A record commits (its
 * canonical state and every link) only when every write for it succeeded: saving the agreed
 * record before every system has the change would make a replay merge against the new base and
 * lose the change there. Retryable failures come back as a smaller plan (only the steps still to
 * do) until maxAttempts, then become retryable dead letters.
 *
 * A record some system refused for good is parked: each system that took its write keeps the
 * hash of what it now shows, and the origin's link takes the hash just read, so lookback
 * re-reads do not send the same bad write again; the record's next change (merged from the old
 * base, so it still carries this one) or a replay brings it back.
 */
import { addCounts, emptyCounts } from './plan.js';
import type { MemberStep, PlannedItem, SyncPlan } from './plan.js';
import type { ConflictInput, DeadLetterInput, ExternalRef, LinkUpsert, RecordUpsert, SyncCounts } from './ports.js';
import type { WriteResult } from './protocol.js';

export const DEFAULT_MAX_ATTEMPTS = 3;

/** Each system's results, in the order of its ops (see opsOf). */
export type WriteResults = Record<string, { writes: readonly WriteResult[]; deletes: readonly WriteResult[] }>;

/** What to save after a plan's writes ran. */
export interface SyncOutcome {
  /** Delete these links first, then save `links` and `records` (one transaction). */
  forgetLinks: (ExternalRef & { canonicalId: string })[];
  records: RecordUpsert[];
  links: LinkUpsert[];
  deadLetters: DeadLetterInput[];
  conflicts: ConflictInput[];
  counts: SyncCounts;
  /** The items that committed (hooks look at them). */
  committed: PlannedItem[];
  /** Item steps that succeeded, by canonical id and system (callers report what was written where). */
  done: { canonicalId: string; member: string; externalId: string; created: boolean }[];
  /** The failed-but-retryable part, to run again (after a backoff); null when everything settled. */
  retry: SyncPlan | null;
  /** The cursor to save, once nothing is left to retry. */
  cursor: SyncPlan['cursor'];
}

/** The writes and deletes of a plan, by system, in one order: results come back in it. */
export function opsOf(plan: SyncPlan): Map<string, { writes: NonNullable<MemberStep['write']>[]; deletes: NonNullable<MemberStep['delete']>[] }> {
  const out = new Map<string, { writes: NonNullable<MemberStep['write']>[]; deletes: NonNullable<MemberStep['delete']>[] }>();
  for (const item of plan.items) {
    for (const step of item.steps) {
      if (!step.write && !step.delete) continue;
      let ops = out.get(step.member);
      if (!ops) out.set(step.member, (ops = { writes: [], deletes: [] }));
      if (step.write) ops.writes.push(step.write);
      if (step.delete) ops.deletes.push(step.delete);
    }
  }
  return out;
}

const NO_RESULT = (key: string): WriteResult => ({
  key, ok: false, retryable: true,
  error: { code: 'NO_RESULT', message: 'the connector returned no result for this record' },
});

export function applyWriteResults(plan: SyncPlan, results: WriteResults, options: { maxAttempts?: number } = {}): SyncOutcome {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const found = new Map<string, { writes: Map<string, WriteResult>; deletes: Map<string, WriteResult> }>();
  for (const [member, r] of Object.entries(results)) {
    found.set(member, { writes: new Map(r.writes.map((x) => [x.key, x])), deletes: new Map(r.deletes.map((x) => [x.key, x])) });
  }
  const objectOf = new Map(plan.entity.members.map((m) => [m.system.name, m.object]));

  const outcome: SyncOutcome = {
    forgetLinks: [], records: [], links: [], deadLetters: [...plan.deadLetters], conflicts: [...plan.conflicts],
    counts: addCounts(emptyCounts(), plan.counts), committed: [], done: [], retry: null, cursor: null,
  };
  const retryItems: PlannedItem[] = [];

  for (const planned of plan.items) {
    const steps: MemberStep[] = [];
    const failures: { step: MemberStep; result: Extract<WriteResult, { ok: false }> }[] = [];
    for (const step of planned.steps) {
      const op = step.write ?? step.delete;
      if (!op) { steps.push(step); continue; }
      const result = (step.write ? found.get(step.member)?.writes : found.get(step.member)?.deletes)?.get(op.key) ?? NO_RESULT(op.key);
      if (!result.ok) { failures.push({ step, result }); continue; }
      // Done: drop the op, keep what it told us for the commit.
      outcome.done.push({ canonicalId: planned.canonicalId, member: step.member, externalId: result.externalId, created: result.created });
      steps.push({
        member: step.member,
        wrote: step.wrote || step.write !== undefined,
        link: step.link && (step.write
          ? { ...step.link, externalId: result.externalId, lastModifiedAt: result.modifiedAt ?? step.link.lastModifiedAt }
          : step.link),
      });
    }

    if (failures.length === 0) {
      if (planned.forgetLinks) outcome.forgetLinks.push(...planned.forgetLinks);
      if (planned.record) outcome.records.push(planned.record);
      for (const s of steps) if (s.link && s.link.externalId !== '') outcome.links.push(s.link);
      outcome.counts[planned.outcome]++;
      outcome.committed.push(planned);
      continue;
    }

    const rejected = failures.some((f) => !f.result.retryable);
    if (!rejected && plan.attempt < maxAttempts) {
      retryItems.push({ ...planned, steps: [...steps, ...failures.map((f) => f.step)] });
      continue;
    }
    // Parked: each system that took its write keeps the hash of what it now shows. The origin,
    // when it was not written, takes the hash just read if the record was refused for good (the
    // same bad write is not sent again), and keeps its old hash if retries ran out (the next
    // read tries again); refused itself, it is parked at what was read.
    const deleting = planned.steps.some((s) => s.delete);
    const wrote = (member: string) => planned.steps.some((s) => s.member === member && (s.write || s.wrote));
    if (!deleting) {
      for (const s of steps) {
        if (!s.link || s.link.externalId === '') continue;
        if (s.member === planned.source?.member && !wrote(s.member) && !rejected) continue;
        outcome.links.push(s.link);
        // A record created again where it was deleted replaces the tombstoned link there.
        const replaced = planned.forgetLinks?.filter((f) => f.instance === s.link!.instance && f.object === s.link!.object);
        if (replaced?.length) outcome.forgetLinks.push(...replaced);
      }
      const originLink = planned.steps.find((s) => s.member === planned.source?.member)?.link;
      if (rejected && originLink && failures.some((f) => f.step.member === planned.source!.member)) {
        outcome.links.push({ ...originLink, lastHash: planned.source!.hash, lastModifiedAt: planned.source!.modifiedAt });
      }
    }
    for (const { step, result } of failures) {
      const op = (step.write ?? step.delete)!;
      const exhausted = result.retryable ? ` (gave up after ${plan.attempt} attempts)` : '';
      outcome.deadLetters.push({
        direction: 'write', system: step.member, object: objectOf.get(step.member) ?? '',
        externalId: op.externalId ?? null, canonicalId: planned.canonicalId,
        payload: { source: planned.source ?? null, ...(step.write ? { fields: step.write.fields } : { delete: true }) },
        reason: `${step.delete ? 'delete' : 'write'} rejected: ${result.error.message}${exhausted}`,
        errorCode: result.error.code, failingFields: result.error.fields ?? [], retryable: result.retryable,
      });
    }
    outcome.counts.failed++;
  }

  if (retryItems.length > 0) {
    outcome.retry = { ...plan, items: retryItems, deadLetters: [], conflicts: [], counts: emptyCounts(), attempt: plan.attempt + 1 };
  } else outcome.cursor = plan.cursor;
  return outcome;
}
