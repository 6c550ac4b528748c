import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canWrite, planPage } from './plan.js';
import { applyWriteResults } from './results.js';
import { FIELDS, pairOf, planInputFor, runSync, side, simEnv, type SimEnv } from './test-kit.js';
import type { SideName, SyncPair } from './types.js';

/**
 * Two in-memory systems, random edits, creates and deletes on both, incremental runs in random
 * order: whatever happens, a few settling runs later both sides agree, nothing is duplicated,
 * and one more run reads only echoes (no write, not even a link refresh).
 */

/** SYNC_PROPERTY_RUNS=5000 for a deeper search than the default run. */
const RUNS = Number(process.env.SYNC_PROPERTY_RUNS ?? 300);

type Dir = 'both' | 'inbound' | 'outbound';
const value = fc.constantFrom(null, 'x', 'y', 'z');
const values = fc.record({ name: fc.constantFrom('n1', 'n2', 'n3'), phone: value, industry: value });
const policy = fc.constantFrom('lww', 'manual', 'salesforce', 'hubspot', 'netsuite');
const dirs = fc.record({ phone: fc.constantFrom<Dir>('both', 'inbound', 'outbound'), industry: fc.constantFrom<Dir>('both', 'inbound', 'outbound') });

const pairArb = fc.record({
  mode: fc.constantFrom<SyncPair['mode']>('bidirectional', 'bidirectional', 'one-way'),
  deletePolicy: fc.constantFrom<SyncPair['deletePolicy']>('propagate', 'ignore'),
  updateAfterDelete: fc.constantFrom<'skip' | 'resurrect'>('skip', 'resurrect'),
  policies: fc.record({ name: policy, phone: policy, industry: policy }),
  aDirs: dirs,
  bDirs: dirs,
});

function sideWith(system: string, object: string, d: Record<string, Dir>) {
  const read = ['name', ...FIELDS.slice(1).filter((f) => d[f] !== 'outbound')];
  const write = ['name', ...FIELDS.slice(1).filter((f) => d[f] !== 'inbound')];
  return side(system, object, read, write);
}

const action = fc.oneof(
  fc.record({ kind: fc.constant('edit' as const), side: fc.constantFrom<SideName>('a', 'b'), at: fc.nat(), field: fc.constantFrom(...FIELDS), value }),
  fc.record({ kind: fc.constant('create' as const), side: fc.constantFrom<SideName>('a', 'b'), values }),
  fc.record({ kind: fc.constant('delete' as const), side: fc.constantFrom<SideName>('a', 'b'), at: fc.nat() }),
  fc.record({ kind: fc.constant('sync' as const), side: fc.constantFrom<SideName>('a', 'b') }),
);
type Action = typeof action extends fc.Arbitrary<infer T> ? T : never;

const scenario = fc.record({
  config: pairArb,
  initial: fc.record({ a: fc.array(values, { maxLength: 4 }), b: fc.array(values, { maxLength: 4 }) }),
  actions: fc.array(action, { maxLength: 25 }),
  lookbackMs: fc.constantFrom(0, 5_000),
  pageSize: fc.constantFrom(2, 50),
  faults: fc.boolean(),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): SimEnv {
  const c = s.config;
  const pair = pairOf({
    mode: c.mode, deletePolicy: c.deletePolicy, updateAfterDelete: c.updateAfterDelete, fieldPolicies: c.policies,
    a: sideWith('salesforce', 'Account', c.aDirs), b: sideWith('hubspot', 'companies', c.bDirs),
  });
  const env = simEnv(pair, { lookbackMs: s.lookbackMs, pageSize: s.pageSize, maxAttempts: 3 });
  if (s.faults) {
    // Every op fails (retryably) the first time it is sent; the retry plan gets it through.
    for (const sys of Object.values(env.systems)) {
      const seen = new Set<string>();
      sys.failWrite = (op) => {
        const key = JSON.stringify(op);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      };
    }
  }
  for (const v of s.initial.a) env.systems.a.create(v);
  for (const v of s.initial.b) env.systems.b.create(v);
  return env;
}

function act(env: SimEnv, a: Action) {
  const sides: SideName[] = canWrite(env.pair, 'a') ? ['a', 'b'] : ['a'];
  if (a.kind === 'sync') { if (sides.includes(a.side)) runSync(env, a.side); return; }
  const sys = env.systems[a.side];
  if (a.kind === 'create') { sys.create(a.values); return; }
  const ids = [...sys.records.keys()];
  if (ids.length === 0) return;
  const id = ids[a.at % ids.length];
  if (a.kind === 'edit') sys.edit(id, { [a.field]: a.value });
  else sys.remove(id);
}

function settle(env: SimEnv) {
  const sides: SideName[] = canWrite(env.pair, 'a') ? ['a', 'b'] : ['a'];
  for (let round = 0; round < 3; round++) for (const s of sides) runSync(env, s);
  return sides.map((s) => runSync(env, s));
}

describe('sync of two simulated systems (properties)', () => {
  it('quiesces: after settling, another run writes nothing and refreshes no link', () => {
    fc.assert(fc.property(scenario, (s) => {
      const env = build(s);
      for (const a of s.actions) act(env, a);
      for (const report of settle(env)) {
        expect(report.ops).toBe(0);
        expect(report.refreshes).toBe(0);
        expect(report.counts.created + report.counts.updated + report.counts.deleted).toBe(0);
      }
      // A full reconcile (everything read again) is all echoes too.
      for (const s2 of canWrite(env.pair, 'a') ? (['a', 'b'] as const) : (['a'] as const)) {
        const full = runSync(env, s2, { full: true });
        expect([full.ops, full.refreshes]).toEqual([0, 0]);
      }
    }), { numRuns: RUNS });
  });

  it('plans deterministically and leaves its input untouched', () => {
    fc.assert(fc.property(scenario, fc.constantFrom<SideName>('a', 'b'), (s, from) => {
      const env = build(s);
      for (const a of s.actions) act(env, a);
      const source = canWrite(env.pair, 'a') ? from : 'a';
      const input = planInputFor(env, source, env.systems[source].read(null), null);
      const snapshot = structuredClone(input);
      const first = planPage(input);
      expect(input).toEqual(snapshot);
      expect(planPage(structuredClone(snapshot))).toEqual(first);
      // Every record read ends up in exactly one bucket once the plan settles.
      const out = applyWriteResults(first, {
        target: first.writes.target.map((w) => ({ key: w.key, ok: true as const, externalId: w.externalId ?? `new-${w.key}`, created: !w.externalId })),
        source: first.writes.source.map((w) => ({ key: w.key, ok: true as const, externalId: w.externalId!, created: false })),
        targetDeletes: first.writes.targetDeletes.map((w) => ({ key: w.key, ok: true as const, externalId: w.externalId, created: false })),
      });
      const c = out.counts;
      expect(c.created + c.updated + c.unchanged + c.deleted + c.failed).toBe(c.read);
    }), { numRuns: RUNS });
  });

  it('converges without duplicates, never writes to a side the direction excludes', () => {
    fc.assert(fc.property(scenario, (s) => {
      const env = build(s);
      for (const a of s.actions) act(env, a);
      settle(env);
      const { pair, store, systems } = env;
      if (pair.mode === 'one-way') expect(systems.a.writeCalls).toBe(0);

      // At most one live record per canonical id on each side.
      for (const sys of Object.values(systems)) {
        const ids = [...sys.records.values()].filter((r) => !r.deleted && r.ecosyncId).map((r) => r.ecosyncId);
        expect(new Set(ids).size).toBe(ids.length);
      }

      const links = [...store.links.values()];
      const linkOf = (cid: string, side: SideName) => links.find((l) => l.canonicalId === cid && l.system === pair[side].system);
      // A record with no value the other side accepts has nothing to create it with.
      const creatable = (data: Record<string, unknown>, s: SideName) => Object.keys(data).some((f) => pair[s].writeFields.includes(f));
      const conflicted = new Set(store.conflicts.map((c) => `${c.canonicalId}|${c.field}`));
      const deadLettered = new Set(store.deadLetters.map((d) => d.canonicalId));
      const shared = FIELDS.filter((f) => pair.a.readFields.includes(f) && pair.a.writeFields.includes(f)
        && pair.b.readFields.includes(f) && pair.b.writeFields.includes(f));

      for (const [cid, rec] of store.records) {
        const la = linkOf(cid, 'a');
        const lb = linkOf(cid, 'b');
        if (rec.deleted || deadLettered.has(cid) || !la || !lb || !creatable(rec.data, 'a') || !creatable(rec.data, 'b')) continue;
        const ra = systems.a.records.get(la.externalId)!;
        const rb = systems.b.records.get(lb.externalId)!;
        // One-way: b is never read, so its own deletes stay unknown.
        if (pair.mode !== 'bidirectional') continue;
        expect(ra.deleted || rb.deleted).toBe(false);
        for (const f of shared) {
          if (conflicted.has(`${cid}|${f}`)) continue;
          expect([cid, f, rb.values[f] ?? null]).toEqual([cid, f, ra.values[f] ?? null]);
        }
      }
      // Every live source record without a dead letter is linked and has a live counterpart.
      const sources: SideName[] = pair.mode === 'bidirectional' ? ['a', 'b'] : ['a'];
      for (const sname of sources) {
        for (const r of systems[sname].records.values()) {
          if (r.deleted) continue;
          const link = links.find((l) => l.system === pair[sname].system && l.externalId === r.id);
          expect(link, `${r.id} is linked`).toBeDefined();
          const rec = store.records.get(link!.canonicalId)!;
          const otherName = sname === 'a' ? 'b' : 'a';
          if (rec.deleted || deadLettered.has(link!.canonicalId) || !creatable(rec.data, otherName)) continue;
          const other = linkOf(link!.canonicalId, otherName);
          expect(other, `${r.id} has a counterpart`).toBeDefined();
        }
      }
    }), { numRuns: RUNS });
  });
});
