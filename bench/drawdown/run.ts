/**
 * Ledger recomputation: the drawdown engine judging 100,000 source documents of one AWS EDP from
 * an empty ledger (three annual periods, the rule version switching on 1 May 2025, the 25 %
 * marketplace cap reached in every period, refunds, documents in euros), then the summary of
 * where the commitment stands; beside it, in the same run, a loop written for these rules alone
 * on plain numbers (plain.ts). The two must give the same ledger, entry for entry, before
 * anything is timed.
 *
 * Then the same documents through the drawdown activity and the store (--store pglite|postgres,
 * none to skip): the ledger judged from empty and its 100,000 lines written in one transaction,
 * and a second run that reads them back and finds nothing new, as the daily run does.
 *
 *   node --import tsx bench/drawdown/run.ts [--lines 100000] [--rounds 5] [--store pglite|postgres|none]
 *
 * Prints the figures and writes bench/results/drawdown.json.
 */
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createDrawdownActivities } from '../../src/activities/drawdown.js';
import type { DrawdownRunResult } from '../../workflows/drawdown-types.js';
import { makeKeyring, openStore, type Store } from '../../src/store/index.js';
import { commitmentPeriods, draw, parseRuleSet, summarize } from '../../src/drawdown/index.js';
import { Commitment, type DrawdownSource, type DrawdownSourceLine } from '../../src/model/index.js';
import { writeResults } from '../support/results.js';
import { plainLedger, type PlainPeriod } from './plain.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { lines: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' }, store: { type: 'string', default: 'pglite' } } });
const LINES = Number(args.lines);
const ROUNDS = Number(args.rounds);

const rulesFile = join(here, '../../rules/aws-edp.yaml');
const { ruleSet: rules, diagnostics } = parseRuleSet({ file: rulesFile, text: readFileSync(rulesFile, 'utf8') });
if (!rules) throw new Error(diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n'));

/** 3 × 4,000,000.00 USD from 2024-07-01: a cap of 1,000,000.00 a year, which the documents reach about 80 % into each year. */
const commitment = Commitment.parse({
  id: '0190f0a0-0000-7000-8000-0000000000b1', accountId: '0190f0a0-0000-7000-8000-000000000001', cloud: 'aws', program: 'edp',
  amount: '12000000.00', currency: 'USD', startDate: '2024-07-01', endDate: '2027-06-30', ruleSet: 'aws-edp',
});

/** Small seeded PRNG so every run judges the same documents. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY_MS = 86_400_000;
const START = Date.UTC(2024, 6, 1);
const day = (n: number) => new Date(START + n * DAY_MS).toISOString().slice(0, 10);
const dayOf = (date: string) => Math.round((Date.parse(date) - START) / DAY_MS);
const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;

function generate(n: number): DrawdownSource[] {
  const rand = prng(42);
  const sources: DrawdownSource[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.05 && i > 10) {
      // A refund of part of an earlier document.
      const original = sources[Math.floor(rand() * sources.length)];
      if (original.refundOf) {
        i--;
        continue;
      }
      const amount = Math.floor(Number(original.lines[0].amount.replace('.', '')) * (0.2 + rand() * 0.9));
      sources.push({ kind: rand() < 0.5 ? 'refund' : 'credit-note', id: `R${i}`, date: day(dayOf(original.date) + Math.floor(rand() * 60)), currency: original.currency, refundOf: original.id, lines: [{ amount: cents(amount) }] });
      continue;
    }
    const kind = r < 0.35 ? 'agreement' : r < 0.95 ? 'usage' : 'invoice';
    const date = day(Math.floor(rand() * 1095));
    const eur = rand() < 0.1;
    const lines: DrawdownSourceLine[] = [];
    for (let l = 1 + Math.floor(rand() * 3); l > 0; l--) {
      lines.push({ amount: cents(Math.floor(rand() * 5000)), ...(rand() < 0.3 ? { tax: cents(Math.floor(rand() * 300)) } : {}), flags: { deployedOnAws: rand() < 0.85 } });
    }
    sources.push({
      kind, id: `S${i}`, date, currency: eur ? 'EUR' : 'USD', lines,
      ...(eur && rand() < 0.97 ? { conversion: { to: 'USD' as const, rate: rand() < 0.5 ? '1.0850' : '1.1213' } } : {}),
      ...(kind === 'invoice' || rand() < 0.01 ? {} : { invoiceDate: day(Math.min(1094, dayOf(date) + Math.floor(rand() * 6))) }),
      ...(rand() < 0.03 ? { channel: 'direct' } : { channel: 'aws-marketplace' }),
    });
  }
  return sources;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cent = (s: string | undefined) => (s === undefined ? 0 : Math.round(Number(s) * 100));

function main(): { result: Record<string, unknown> & { ledger: { entries: number } }; sources: DrawdownSource[]; entries: number } {
  const sources = generate(LINES);
  const periods = commitmentPeriods(commitment);
  const plainPeriods: PlainPeriod[] = periods.map((p) => ({ start: p.start, end: p.end, capCents: Math.round(Number(p.amount) * 25) }));

  // They must agree before their speed means anything.
  const ours = draw(commitment, rules!, sources);
  const plain = plainLedger(sources, plainPeriods, 'USD');
  if (ours.entries.length !== plain.entries.length || ours.pending.length !== plain.pending) {
    throw new Error(`ledgers differ: ecosync ${ours.entries.length} entries, ${ours.pending.length} waiting; plain ${plain.entries.length}, ${plain.pending}`);
  }
  ours.entries.forEach((e, i) => {
    const p = plain.entries[i];
    const period = e.periodStart ? periods.findIndex((x) => x.start === e.periodStart) : -1;
    if (e.sourceId !== p.id || period !== p.period || cent(e.eligibleAmount) !== p.eligibleCents || cent(e.overCapAmount) !== p.overCapCents) {
      throw new Error(`entry ${i} differs: ecosync ${JSON.stringify(e)}; plain ${JSON.stringify(p)}`);
    }
  });
  const capped = ours.entries.filter((e) => e.overCapAmount && !e.refundOf).length;
  const reversals = ours.entries.filter((e) => e.refundOf).length;

  // Wall time, and the process's CPU time beside it: on a shared machine the CPU time is the steadier figure.
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  const runEngine = () => {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const { entries } = draw(commitment, rules!, sources);
    const judged = performance.now() - t;
    const judgedCpu = cpuMs(cpu);
    const summary = summarize(commitment, entries, '2026-03-31', { rules: rules! });
    const total = performance.now() - t;
    if (entries.length !== ours.entries.length || !summary) throw new Error('the engine gave another ledger');
    return { judged, judgedCpu, total };
  };
  const runPlain = () => {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const { entries } = plainLedger(sources, plainPeriods, 'USD');
    const ms = performance.now() - t;
    if (entries.length !== plain.entries.length) throw new Error('the plain loop gave another ledger');
    return { ms, cpu: cpuMs(cpu) };
  };

  runEngine();
  runPlain();
  const engineMs: number[] = [];
  const engineCpuMs: number[] = [];
  const summaryMs: number[] = [];
  const plainMs: number[] = [];
  const plainCpuMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so background load hits both alike.
    const order = round % 2 === 0 ? ['engine', 'plain'] : ['plain', 'engine'];
    for (const which of order) {
      if (which === 'plain') {
        const { ms, cpu } = runPlain();
        plainMs.push(ms);
        plainCpuMs.push(cpu);
      } else {
        const { judged, judgedCpu, total } = runEngine();
        engineMs.push(judged);
        engineCpuMs.push(judgedCpu);
        summaryMs.push(total - judged);
      }
    }
  }

  const engine = median(engineMs);
  const peer = median(plainMs);
  const result = {
    benchmark: 'drawdown',
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    lines: LINES,
    rounds: ROUNDS,
    ledger: { entries: ours.entries.length, waiting: ours.pending.length, overCap: capped, refundsAndCreditNotes: reversals },
    loadAverage: loadavg()[0],
    engine: { medianMs: Math.round(engine), medianCpuMs: Math.round(median(engineCpuMs)), linesPerSecond: Math.round(LINES / (engine / 1000)), rounds: engineMs.map(Math.round) },
    summary: { medianMs: Number(median(summaryMs).toFixed(1)) },
    plainLoop: { medianMs: Math.round(peer), medianCpuMs: Math.round(median(plainCpuMs)), linesPerSecond: Math.round(LINES / (peer / 1000)), rounds: plainMs.map(Math.round) },
    engineToPlainTime: Number((engine / peer).toFixed(2)),
    engineToPlainCpuTime: Number((median(engineCpuMs) / median(plainCpuMs)).toFixed(2)),
  };
  console.log(`drawdown ledger recomputation, ${LINES.toLocaleString('en')} source lines (${result.ledger.entries.toLocaleString('en')} entries, ${result.ledger.waiting} waiting, ${capped} over the cap, ${reversals} refunds), ${ROUNDS} rounds, median:`);
  console.log(`  engine (decimal.js, rules as data)  ${result.engine.medianMs} ms (CPU ${result.engine.medianCpuMs} ms)   ${result.engine.linesPerSecond.toLocaleString('en')} lines/s   summary ${result.summary.medianMs} ms`);
  console.log(`  plain-number loop for these rules   ${result.plainLoop.medianMs} ms (CPU ${result.plainLoop.medianCpuMs} ms)   ${result.plainLoop.linesPerSecond.toLocaleString('en')} lines/s`);
  console.log(`  engine / plain loop                 ${result.engineToPlainTime}× the wall time, ${result.engineToPlainCpuTime}× the CPU time (load average ${result.loadAverage.toFixed(1)} on ${result.cores} cores)`);
  return { result, sources, entries: ours.entries.length };
}

/**
 * The documents through the drawdown activity and a real store: judged from an empty ledger
 * (every line written), then judged again over the same documents (nothing new: the daily run).
 */
async function throughStore(kind: 'pglite' | 'postgres', sources: DrawdownSource[], expected: number) {
  const store: Store = kind === 'pglite'
    ? await openStore({ kind: 'pglite', keys: makeKeyring(Buffer.alloc(32, 7).toString('base64')) })
    : await openStore({ kind: 'postgres', url: process.env.ECOSYNC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', schema: `bench_drawdown_${Date.now().toString(36)}`, keys: makeKeyring(Buffer.alloc(32, 7).toString('base64')) });
  try {
    const connection = await store.connections.create({ name: 'bench-drawdown', systems: [{ name: 'salesforce', system: 'salesforce', role: 'both' }] });
    await store.commitments.create(connection.id, commitment);
    for (let i = 0; i < sources.length; i += 5000) {
      await store.db.query(
        `INSERT INTO drawdown_documents (commitment_id, source_id, document) SELECT $1::uuid, d->>'id', d FROM jsonb_array_elements($2::jsonb) AS d`,
        [commitment.id, JSON.stringify(sources.slice(i, i + 5000))],
      );
    }
    const activities = createDrawdownActivities({
      store, writer: { patch: async () => { throw new Error('not used'); }, create: async () => { throw new Error('not used'); } },
      log: pino({ level: 'silent' }), rules: async () => rules!,
    });
    const judge = async () => {
      const t = performance.now();
      const run = await new MockActivityEnvironment().run(activities.judgeDrawdown, { commitmentId: commitment.id, asOf: '2026-03-31' }) as DrawdownRunResult;
      return { ms: performance.now() - t, run };
    };
    const first = await judge();
    if (first.run.written !== expected) throw new Error(`the activity wrote ${first.run.written} lines, the engine judged ${expected}`);
    const again = await judge();
    if (again.run.written !== 0) throw new Error(`the second run wrote ${again.run.written} lines`);
    return { store: kind, lines: first.run.ledgerLines, fromEmptyMs: Math.round(first.ms), rerunMs: Math.round(again.ms) };
  } finally {
    if (store.kind === 'postgres') await store.db.exec('DROP SCHEMA IF EXISTS ' + (await store.db.query<{ s: string }>('SELECT current_schema() AS s'))[0].s + ' CASCADE').catch(() => undefined);
    await store.close();
  }
}

const { result, sources, entries } = main();
const kind = args.store;
const stored = kind === 'pglite' || kind === 'postgres' ? await throughStore(kind, sources, entries) : undefined;
if (stored) {
  console.log(`  through the activity and ${stored.store}: judged from empty and ${stored.lines.toLocaleString('en')} lines written in ${stored.fromEmptyMs} ms; the daily re-run over the same documents (nothing new) ${stored.rerunMs} ms`);
}
writeResults(join(here, '../results/drawdown.json'), { ...result, ...(stored ? { throughStore: stored } : {}) });
