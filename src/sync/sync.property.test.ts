import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ECOSYNC_ID, MemoryHub, type FieldDirection, type MemorySystemSpec } from '../../test/support/memory-hub.js';
import { TOMBSTONE_HASH } from './ports.js';

/**
 * Two to four in-memory systems around one entity, driven by the real engine (src/sync):
 * random creates, edits on several systems, deletes, syncs in random order, workers lost
 * between writing and saving, retryable write failures, replays. Whatever happens, a few
 * settling rounds later every system shows the same agreed values, nothing is duplicated, and
 * another round writes nothing and changes no link.
 */

/** SYNC_PROPERTY_RUNS=2000 for a deeper search than the default run. */
const RUNS = Number(process.env.SYNC_PROPERTY_RUNS ?? 150);

const FIELDS = ['name', 'phone', 'industry'] as const;
const value = fc.constantFrom(null, 'x', 'y', 'z');
const values = fc.record({ name: fc.constantFrom('n1', 'n2', 'n3'), phone: value, industry: value });
const direction = fc.constantFrom<FieldDirection>('both', 'both', 'inbound', 'outbound');

const systemArb = fc.record({
  kind: fc.constantFrom('crm', 'erp'),
  role: fc.constantFrom<'both' | 'source' | 'target'>('both', 'both', 'both', 'source', 'target'),
  phone: direction,
  industry: direction,
});

const scenario = fc.record({
  systems: fc.array(systemArb, { minLength: 2, maxLength: 4 }),
  owners: fc.record({ name: fc.constantFrom('lww', 'manual', 's1', 's2', 'erp'), phone: fc.constantFrom('lww', 'manual', 's1', 's3', 'crm'), industry: fc.constantFrom('lww', 's2', 's4') }),
  deletePolicy: fc.constantFrom<'propagate' | 'ignore'>('propagate', 'ignore'),
  updateAfterDelete: fc.constantFrom<'skip' | 'resurrect'>('skip', 'resurrect'),
  initial: fc.array(fc.record({ at: fc.nat(), values }), { maxLength: 6 }),
  actions: fc.array(fc.oneof(
    fc.record({ kind: fc.constant('edit' as const), at: fc.nat(), record: fc.nat(), field: fc.constantFrom(...FIELDS), value }),
    fc.record({ kind: fc.constant('create' as const), at: fc.nat(), values }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), record: fc.nat() }),
    fc.record({ kind: fc.constant('sync' as const), at: fc.nat(), crash: fc.boolean() }),
    fc.record({ kind: fc.constant('replay' as const) }),
  ), { maxLength: 30 }),
  lookbackMs: fc.constantFrom(0, 5_000),
  pageSize: fc.constantFrom(2, 50),
  throttled: fc.boolean(),
  /** A system that refuses for good any write setting industry to "z", until RevOps fixes it and replays. */
  refusing: fc.option(fc.nat(), { nil: undefined }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** A hub the scenario describes; roles are fixed up so something is read and something written. */
function build(s: Scenario): MemoryHub {
  const systems: MemorySystemSpec[] = s.systems.map((x, i) => ({
    name: `s${i + 1}`, kind: x.kind, role: x.role,
    fields: { name: 'both', phone: x.phone, industry: x.industry },
  }));
  if (!systems.some((x) => x.role !== 'target')) systems[0].role = 'both';
  if (!systems.some((x) => x.role !== 'source')) systems[systems.length - 1].role = 'both';
  const hub = new MemoryHub({ systems, owners: s.owners, deletePolicy: s.deletePolicy, updateAfterDelete: s.updateAfterDelete, pageSize: s.pageSize });
  if (s.throttled) {
    // Every op fails (retryably) the first time it is sent; the engine's next round gets it through.
    for (const sys of hub.systems.values()) {
      const seen = new Set<string>();
      sys.failWrite = (op) => {
        const key = JSON.stringify(op);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      };
    }
  }
  if (s.refusing !== undefined) {
    const sys = hub.system(pick([...hub.systems.keys()], s.refusing));
    sys.refuseWrite = (op) => ((op.fields as { industry?: unknown }).industry === 'z' ? 'industry "z" is not a valid option' : undefined);
  }
  for (const r of s.initial) hub.system(pick(hub.readable(), r.at)).create(r.values);
  return hub;
}

/** RevOps fixes what a system refused, and replays the dead letters. */
async function fixAndReplay(hub: MemoryHub): Promise<void> {
  for (const sys of hub.systems.values()) sys.refuseWrite = () => undefined;
  await hub.engine().replay();
}

const pick = <T>(list: readonly T[], at: number): T => list[at % list.length];

async function act(hub: MemoryHub, a: Scenario['actions'][number], lookbackMs: number): Promise<void> {
  if (a.kind === 'replay') { await hub.engine().replay(); return; }
  const name = pick(hub.readable(), a.at);
  const sys = hub.system(name);
  if (a.kind === 'sync') {
    if (!a.crash) { await hub.sync(name, { lookbackMs }); return; }
    // The worker is lost after the page's writes, before its commit; Temporal runs the
    // activity again (the same system, from the saved cursor) before anything else.
    hub.state.failNextCommit = true;
    // Nothing to commit (no change), nothing lost.
    await hub.sync(name, { lookbackMs }).catch((error: Error) => expect(error.message).toMatch(/worker was lost/));
    hub.state.failNextCommit = false;
    await hub.sync(name, { lookbackMs });
    return;
  }
  if (a.kind === 'create') { sys.create(a.values); return; }
  const live = sys.live();
  if (live.length === 0) return;
  const rec = pick(live, a.record);
  if (a.kind === 'edit') sys.edit(rec.id, { [a.field]: a.value });
  else sys.remove(rec.id);
}

/** Rounds over every read system until a round writes nothing; the last round's figures. */
async function settle(hub: MemoryHub, lookbackMs: number) {
  for (let round = 0; round < 3; round++) for (const name of hub.readable()) await hub.sync(name, { lookbackMs });
  await fixAndReplay(hub);
  for (let round = 0; round < 3; round++) for (const name of hub.readable()) await hub.sync(name, { lookbackMs });
  const writes = hub.writeCalls();
  const links = hub.state.linkChanges;
  for (const name of hub.readable()) await hub.sync(name, { lookbackMs });
  return { writes: hub.writeCalls() - writes, links: hub.state.linkChanges - links };
}

async function run(s: Scenario): Promise<MemoryHub> {
  const hub = build(s);
  for (const a of s.actions) await act(hub, a, s.lookbackMs);
  return hub;
}

describe('the sync engine over two to four simulated systems (properties)', () => {
  it('quiesces: after settling, another round writes nothing and changes no link, and a full reconcile is all echoes', async () => {
    await fc.assert(fc.asyncProperty(scenario, async (s) => {
      const hub = await run(s);
      expect(await settle(hub, s.lookbackMs)).toEqual({ writes: 0, links: 0 });
      const writes = hub.writeCalls();
      const links = hub.state.linkChanges;
      for (const name of hub.readable()) await hub.sync(name, { full: true });
      expect([hub.writeCalls() - writes, hub.state.linkChanges - links]).toEqual([0, 0]);
    }), { numRuns: RUNS });
  });

  it('converges without duplicates: every system holding a record shows the agreed value of every field it shares', async () => {
    await fc.assert(fc.asyncProperty(scenario, async (s) => {
      const hub = await run(s);
      await settle(hub, s.lookbackMs);
      const { state } = hub;
      const members = hub.hub.entities[0].members;

      // At most one live record per canonical id in each system.
      for (const sys of hub.systems.values()) {
        const ids = sys.live().map((r) => r.fields[ECOSYNC_ID]).filter(Boolean);
        expect(new Set(ids).size).toBe(ids.length);
      }

      // What was refused went through once fixed and replayed.
      expect(state.deadLetters.filter((d) => d.status === 'open' && d.direction === 'write')).toEqual([]);
      const conflicted = new Set(state.conflicts.map((c) => `${c.canonicalId}|${c.field}`));
      const lettered = new Set(state.deadLetters.filter((d) => d.status === 'open').flatMap((d) => [d.canonicalId, d.externalId]));
      for (const record of state.recordRows.values()) {
        if (record.deleted || lettered.has(record.canonicalId)) continue;
        for (const m of members) {
          const link = state.linksOf(record.canonicalId).find((l) => l.instance === m.system.instance);
          if (!link || link.lastHash === TOMBSTONE_HASH) continue;
          const held = hub.system(m.system.name).records.get(link.externalId)!;
          if (held.deleted || lettered.has(link.externalId)) continue;
          // What the system holds of the fields it reads and is written equals the agreed record.
          for (const f of FIELDS) {
            if (!m.readFields.includes(f) || !m.writeFields.includes(f) || conflicted.has(`${record.canonicalId}|${f}`)) continue;
            // A field some other system owns (reads, never written) may hold that system's value.
            const ownedElsewhere = members.some((o) => o !== m && o.readFields.includes(f) && !o.writeFields.includes(f));
            if (ownedElsewhere) continue;
            expect([record.canonicalId, m.system.name, f, held.fields[f] ?? null]).toEqual([record.canonicalId, m.system.name, f, record.data[f] ?? null]);
          }
        }
      }

      // A field exactly one system owns (reads it, is never written it) is agreed as that system shows it.
      for (const f of FIELDS) {
        const owners = members.filter((m) => m.readFields.includes(f) && !m.writeFields.includes(f));
        if (owners.length !== 1) continue;
        const [owner] = owners;
        for (const link of [...state.linkRows.values()].filter((l) => l.instance === owner.system.instance && l.lastHash !== TOMBSTONE_HASH)) {
          const record = state.recordRows.get(link.canonicalId.toLowerCase());
          const held = hub.system(owner.system.name).records.get(link.externalId)!;
          if (!record || record.deleted || held.deleted || lettered.has(link.canonicalId) || lettered.has(link.externalId) || conflicted.has(`${record.canonicalId}|${f}`)) continue;
          expect([owner.system.name, f, record.data[f] ?? null]).toEqual([owner.system.name, f, held.fields[f] ?? null]);
        }
      }

      // Every live record of a read system is linked, and reaches every written system unless it was
      // deleted, dead-lettered, or has nothing that system accepts.
      for (const m of members.filter((x) => x.system.role !== 'target')) {
        for (const r of hub.system(m.system.name).live()) {
          const link = [...state.linkRows.values()].find((l) => l.instance === m.system.instance && l.externalId === r.id);
          if (lettered.has(r.id)) continue;
          expect(link, `${m.system.name} ${r.id} is linked`).toBeDefined();
          const record = state.recordRows.get(link!.canonicalId.toLowerCase());
          if (!record || record.deleted || lettered.has(link!.canonicalId)) continue;
          for (const other of members.filter((x) => x !== m && x.system.role !== 'source')) {
            if (!Object.keys(record.data).some((f) => other.writeFields.includes(f))) continue;
            const twin = state.linksOf(link!.canonicalId).find((l) => l.instance === other.system.instance);
            expect(twin, `${m.system.name} ${r.id} reaches ${other.system.name}`).toBeDefined();
          }
        }
      }
    }), { numRuns: RUNS });
  });

  it('an entity read from one system only is kept in the hub: records and links saved, nothing written, then quiet', async () => {
    const hub = new MemoryHub({ systems: [{ name: 'erp', kind: 'erp', role: 'source', fields: { name: 'both', phone: 'inbound' } }] });
    const erp = hub.system('erp');
    for (let i = 0; i < 3; i++) erp.create({ name: `invoice ${i}`, phone: `${i}` });
    expect((await hub.sync('erp')).counts).toMatchObject({ read: 3, created: 3, updated: 0 });
    expect([...hub.state.recordRows.values()].map((r) => r.data.name).sort()).toEqual(['invoice 0', 'invoice 1', 'invoice 2']);
    erp.edit(erp.live()[1].id, { phone: '42' });
    await hub.sync('erp');
    expect([...hub.state.recordRows.values()].find((r) => r.data.name === 'invoice 1')?.data.phone).toBe('42');
    expect(hub.writeCalls()).toBe(0);
    expect(await settle(hub, 0)).toEqual({ writes: 0, links: 0 });
  });

  it('two systems of one kind never share links: each holds its own copy of every record', async () => {
    const hub = new MemoryHub({
      systems: [
        { name: 'salesforce', kind: 'crm', role: 'both', fields: { name: 'both', phone: 'both' } },
        { name: 'portal-a', kind: 'portal', role: 'both', fields: { name: 'both', phone: 'both' } },
        { name: 'portal-b', kind: 'portal', role: 'both', fields: { name: 'both', phone: 'both' } },
      ],
    });
    for (let i = 0; i < 5; i++) hub.system('salesforce').create({ name: `acct ${i}`, phone: `+1 555 010${i}` });
    await hub.sync('salesforce');
    expect(hub.system('portal-a').live().map((r) => r.fields.name).sort()).toEqual(['acct 0', 'acct 1', 'acct 2', 'acct 3', 'acct 4']);
    expect(hub.system('portal-b').live().map((r) => r.fields.name).sort()).toEqual(['acct 0', 'acct 1', 'acct 2', 'acct 3', 'acct 4']);
    // An edit in one portal reaches Salesforce and the other portal once.
    const [edited] = hub.system('portal-b').live();
    hub.system('portal-b').edit(edited.id, { phone: '+1 555 0199' });
    const writes = hub.writeCalls();
    await hub.sync('portal-b');
    expect(hub.writeCalls() - writes).toBe(2);
    const cid = edited.fields[ECOSYNC_ID] as string;
    for (const name of ['salesforce', 'portal-a']) {
      expect(hub.system(name).live().find((r) => [...hub.state.linkRows.values()].some((l) => l.externalId === r.id && l.canonicalId === cid))?.fields.phone).toBe('+1 555 0199');
    }
    expect(await settle(hub, 0)).toEqual({ writes: 0, links: 0 });
  });
});
