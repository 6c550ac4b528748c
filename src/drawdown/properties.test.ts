/**
 * What holds for any sources, checked on generated ones (fast-check): the order of the sources
 * does not matter, a second run adds nothing, runs in batches in date order give what one run
 * gives, and the ledger keeps its own rules (one entry per document, refunds never past their
 * original, the marketplace cap never exceeded in any period).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REVERSAL_KINDS, type Commitment, type DrawdownEntry, type DrawdownSource } from '../model/index.js';
import { draw, judgingDate } from './engine.js';
import { Dec } from './money.js';
import { addDays, commitmentPeriods } from './periods.js';
import type { RuleSet } from './rules.js';
import { commitment, shippedRules, source } from './test-kit.js';

interface Program {
  commitment: Commitment;
  rules: RuleSet;
}

const PROGRAMS: Record<string, Program> = {
  aws: {
    commitment: commitment({ program: 'edp', cloud: 'aws', ruleSet: 'aws-edp', amount: '2000000.00', startDate: '2024-07-01', endDate: '2026-06-30' }),
    rules: shippedRules('aws-edp'),
  },
  azure: {
    commitment: commitment({ program: 'macc', cloud: 'azure', ruleSet: 'azure-macc', amount: '1500000.00', startDate: '2024-10-01', endDate: '2026-03-31', country: 'US' }),
    rules: shippedRules('azure-macc'),
  },
  gcp: {
    commitment: commitment({ program: 'gcp-commit', cloud: 'gcp', ruleSet: 'gcp-commit', amount: '900000.00', startDate: '2024-09-15', endDate: '2026-09-14' }),
    rules: shippedRules('gcp-commit'),
  },
};

const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;

/** The first value four times out of five, one of the others otherwise: most documents count, some do not. */
function mostly<T>(usual: T, ...others: T[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: fc.constant(usual), weight: 4 }, { arbitrary: fc.constantFrom(...others), weight: 1 });
}

const lineArb = fc.record({
  amount: fc.integer({ min: 0, max: 15_000_000 }),
  tax: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
  flags: fc.record({ deployedOnAws: mostly(true, false), azureBenefitEligible: mostly(true, false), underAgreement: mostly(true, false) }),
  category: mostly(undefined, 'maps', 'professional-services', 'azure-prepayment', 'hybrid'),
});

const originalArb = fc.record({
  kind: fc.constantFrom('agreement', 'invoice', 'usage') as fc.Arbitrary<'agreement' | 'invoice' | 'usage'>,
  day: fc.integer({ min: 0, max: 850 }),
  invoiceLag: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined, freq: 6 }),
  money: fc.constantFrom('USD', 'USD', 'USD', 'EUR at 1.0850', 'EUR at 0.9', 'EUR without a rate'),
  channel: mostly(undefined, 'direct', 'card', 'azure-portal', 'aws-marketplace'),
  country: mostly(undefined, 'US', 'DE'),
  lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }),
});

const refundArb = fc.record({
  of: fc.nat(),
  lag: fc.integer({ min: 0, max: 200 }),
  /** Percent of the original's first line refunded: past 100 now and then. */
  percent: fc.integer({ min: 1, max: 130 }),
  kind: fc.constantFrom('refund', 'credit-note') as fc.Arbitrary<'refund' | 'credit-note'>,
  flagFalse: fc.boolean(),
});

const scenarioArb = fc.record({
  program: fc.constantFrom('aws', 'azure', 'gcp'),
  originals: fc.array(originalArb, { minLength: 1, maxLength: 40 }),
  refunds: fc.array(refundArb, { maxLength: 12 }),
  seed: fc.integer(),
  cut: fc.integer({ min: 0, max: 900 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function sourcesOf(s: Scenario): DrawdownSource[] {
  const start = '2024-06-01';
  const originals = s.originals.map((o, i) => {
    const date = addDays(start, o.day);
    const [currency, rate] = o.money === 'USD' ? ['USD', undefined] : o.money === 'EUR without a rate' ? ['EUR', undefined] : ['EUR', o.money.slice(7)];
    return source(o.kind, `S${i}`, date, o.lines.map((l) => ({
      amount: cents(l.amount),
      ...(l.tax !== undefined ? { tax: cents(l.tax) } : {}),
      flags: l.flags,
      ...(l.category ? { categories: [l.category] } : {}),
    })), {
      currency: currency as 'USD' | 'EUR',
      ...(rate ? { conversion: { to: 'USD', rate } } : {}),
      ...(o.invoiceLag !== undefined ? { invoiceDate: addDays(date, o.invoiceLag) } : {}),
      ...(o.channel ? { channel: o.channel } : {}),
      ...(o.country ? { country: o.country } : {}),
    });
  });
  const refunds = s.refunds.map((r, j) => {
    const original = originals[r.of % originals.length];
    const amount = Math.floor((Number(original.lines[0].amount.replace('.', '')) * r.percent) / 100);
    return source(r.kind, `R${j}`, addDays(original.date, r.lag), [{ amount: cents(amount), ...(r.flagFalse ? { flags: { deployedOnAws: false } } : {}) }], {
      currency: original.currency,
      refundOf: original.id,
    });
  });
  return [...originals, ...refunds];
}

/** A deterministic shuffle of a copy. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed | 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const RUNS = { numRuns: 150 };

describe('the drawdown ledger, on generated sources', () => {
  it('does not depend on the order of the sources, and a second run adds nothing', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const { commitment: c, rules } = PROGRAMS[s.program];
      const sources = sourcesOf(s);
      const first = draw(c, rules, sources);
      expect(draw(c, rules, shuffled(sources, s.seed))).toEqual(first);
      const again = draw(c, rules, [...sources, ...shuffled(sources, s.seed + 1)], first.entries);
      expect(again.entries).toEqual([]);
      expect(again.pending).toEqual(first.pending);
    }), RUNS);
  });

  it('runs in batches in date order give what one run gives', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const { commitment: c, rules } = PROGRAMS[s.program];
      const sources = sourcesOf(s);
      const byId = new Map(sources.map((x) => [x.id, x]));
      const cut = addDays('2024-06-01', s.cut);
      const when = (x: DrawdownSource): string | undefined => {
        if (!REVERSAL_KINDS.includes(x.kind)) return judgingDate(rules, x);
        const original = when(byId.get(x.refundOf!)!);
        const own = x.invoiceDate ?? x.date;
        return original === undefined ? undefined : own > original ? own : original;
      };
      const early = sources.filter((x) => (when(x) ?? '9999') < cut);
      const late = sources.filter((x) => (when(x) ?? '9999') >= cut);
      const first = draw(c, rules, early);
      const second = draw(c, rules, late, first.entries);
      expect([...first.entries, ...second.entries]).toEqual(draw(c, rules, sources).entries);
    }), RUNS);
  });

  it('keeps one entry per document, refunds within their originals, and the cap in every period', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const { commitment: c, rules } = PROGRAMS[s.program];
      const sources = sourcesOf(s);
      const { entries, pending } = draw(c, rules, sources);
      // Every document is either in the ledger or waiting, once.
      expect([...entries.map((e) => e.sourceId), ...pending.map((p) => p.sourceId)].sort()).toEqual(sources.map((x) => x.id).sort());

      const byId = new Map<string, DrawdownEntry>(entries.map((e) => [e.sourceId, e]));
      const takenBack = new Map<string, Dec>();
      const capUsed = new Map<string, Dec>();
      const cap = s.program === 'aws' ? new Dec('250000.00') : undefined;
      const periods = commitmentPeriods(c);
      for (const e of entries) {
        const eligible = new Dec(e.eligibleAmount);
        const source = sources.find((x) => x.id === e.sourceId)!;
        if (e.refundOf) {
          expect(eligible.lte(0)).toBe(true);
          const total = (takenBack.get(e.refundOf) ?? new Dec(0)).minus(eligible);
          takenBack.set(e.refundOf, total);
          expect(total.lte(byId.get(e.refundOf)!.eligibleAmount)).toBe(true);
          expect(e.periodStart).toBe(byId.get(e.refundOf)!.periodStart);
        } else {
          const rate = new Dec(source.conversion?.rate ?? 1);
          const preTax = source.lines.reduce((sum, l) => sum.plus(l.amount), new Dec(0)).times(rate);
          expect(eligible.gte(0) && eligible.lte(preTax.toDecimalPlaces(2))).toBe(true);
          const period = periods.find((p) => p.start === e.periodStart);
          if (period) expect(period.start <= e.effectiveDate && e.effectiveDate <= period.end).toBe(true);
          else expect(eligible.isZero()).toBe(true);
        }
        if (cap && e.periodStart) {
          const used = (capUsed.get(e.periodStart) ?? new Dec(0)).plus(eligible);
          capUsed.set(e.periodStart, used);
          expect(used.lte(cap)).toBe(true);
        }
      }
    }), RUNS);
  });
});
