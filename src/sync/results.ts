/**
 * applyWriteResults: a plan's per-record write results → the rows to save. A record commits
 * (its canonical state and both links) only when every write for it succeeded: saving a side's
 * new hash before the other side has the change would make the next read of that side an
 * "echo" and lose the change. A permanent failure dead-letters the record and commits nothing,
 * so a replay (or the record's next change) merges it again from the old base; retryable
 * failures come back as a smaller plan until maxAttempts, then become retryable dead letters.
 *
 * A record the target rejected for good is parked: its source link takes the hash just read, so
 * lookback re-reads do not send the same bad write again; its next change (merged from the old
 * base, so it still carries this one) or a replay brings it back.
 */
import { addCounts, emptyCounts } from './plan.js';
import type {
  DeadLetterInput, LinkUpsert, PlannedItem, SyncOutcome, SyncPlan, WriteOp, DeleteOp, WriteResult, WriteResults,
} from './types.js';

export const DEFAULT_MAX_ATTEMPTS = 3;

const NO_RESULT = (key: string): WriteResult => ({
  key, ok: false, retryable: true,
  error: { code: 'NO_RESULT', message: 'the connector returned no result for this record' },
});

type OpKind = 'targetWrite' | 'sourceWrite' | 'targetDelete';

export function applyWriteResults(plan: SyncPlan, results: WriteResults, options: { maxAttempts?: number } = {}): SyncOutcome {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const byKey = (list: readonly WriteResult[]) => new Map(list.map((r) => [r.key, r]));
  const found: Record<OpKind, Map<string, WriteResult>> = {
    targetWrite: byKey(results.target),
    sourceWrite: byKey(results.source),
    targetDelete: byKey(results.targetDeletes),
  };
  const sideOf = (kind: OpKind) => (kind === 'sourceWrite' ? plan.sourceSide : plan.targetSide);

  const outcome: SyncOutcome = {
    forgetLinks: [], records: [], links: [],
    deadLetters: [...plan.deadLetters], conflicts: [...plan.conflicts],
    counts: addCounts(emptyCounts(), plan.counts), retry: null, cursor: null,
  };
  const retryItems: PlannedItem[] = [];

  for (const planned of plan.items) {
    const item: PlannedItem = { ...planned };
    const failures: { kind: OpKind; op: WriteOp | DeleteOp; result: Extract<WriteResult, { ok: false }> }[] = [];
    for (const kind of ['targetWrite', 'sourceWrite', 'targetDelete'] as const) {
      const op = planned[kind];
      if (!op) continue;
      const result = found[kind].get(op.key) ?? NO_RESULT(op.key);
      if (!result.ok) { failures.push({ kind, op, result }); continue; }
      // Done: drop the op, keep what it told us for the commit.
      item[kind] = undefined;
      if (kind === 'targetWrite' && item.targetLink) {
        item.targetLink = { ...item.targetLink, externalId: result.externalId, lastModifiedAt: result.modifiedAt ?? item.targetLink.lastModifiedAt };
      }
      if (kind === 'sourceWrite' && item.sourceLink && result.modifiedAt) {
        item.sourceLink = { ...item.sourceLink, lastModifiedAt: result.modifiedAt };
      }
    }

    if (failures.length === 0) {
      if (item.forgetLinks) outcome.forgetLinks.push(...item.forgetLinks);
      if (item.record) outcome.records.push(item.record);
      const links = [item.sourceLink, item.targetLink].filter((l): l is LinkUpsert => l !== undefined && l.externalId !== '');
      outcome.links.push(...links);
      outcome.counts[item.outcome]++;
      continue;
    }

    const rejected = failures.some((f) => !f.result.retryable);
    if (!rejected && plan.attempt < maxAttempts) { retryItems.push(item); continue; }
    if (rejected && item.sourceLink && !planned.targetDelete) {
      outcome.links.push({ ...item.sourceLink, lastHash: planned.source.hash, lastModifiedAt: planned.source.modifiedAt });
    }
    for (const { kind, op, result } of failures) {
      const side = sideOf(kind);
      const exhausted = result.retryable ? ` (gave up after ${plan.attempt} attempts)` : '';
      const letter: DeadLetterInput = {
        connectionId: plan.connectionId, direction: 'write', system: side.system, object: side.object,
        externalId: op.externalId ?? null, canonicalId: planned.canonicalId,
        payload: { source: planned.source, ...('fields' in op ? { fields: op.fields } : { delete: true }) },
        reason: `${kind === 'targetDelete' ? 'delete' : 'write'} rejected: ${result.error.message}${exhausted}`,
        errorCode: result.error.code, failingFields: result.error.fields ?? [], retryable: result.retryable,
      };
      outcome.deadLetters.push(letter);
    }
    outcome.counts.failed++;
  }

  if (retryItems.length > 0) {
    outcome.retry = {
      ...plan,
      items: retryItems,
      writes: {
        target: retryItems.flatMap((i) => (i.targetWrite ? [i.targetWrite] : [])),
        source: retryItems.flatMap((i) => (i.sourceWrite ? [i.sourceWrite] : [])),
        targetDeletes: retryItems.flatMap((i) => (i.targetDelete ? [i.targetDelete] : [])),
      },
      deadLetters: [],
      conflicts: [],
      counts: emptyCounts(),
      attempt: plan.attempt + 1,
    };
  } else outcome.cursor = plan.cursor;
  return outcome;
}

/** The results of a plan that has nothing to write. */
export const noWriteResults = (): WriteResults => ({ target: [], source: [], targetDeletes: [] });
