/**
 * The drawdown engine: source documents in, ledger entries out, under the commitment's rule set.
 * Pure and deterministic: the same commitment, rules, sources and ledger give the same entries,
 * whatever order the sources come in.
 *
 * The ledger is append-only, one entry per source document ever. `draw` judges only documents
 * the ledger has not got, in the order of their judging dates (then ids), after what the ledger
 * already holds: its entries count toward the marketplace cap of their periods and refunds find
 * their originals there. Run over the same sources again it adds nothing; run over sources that
 * came in batches in date order it gives what one run over all of them gives.
 */
import { canonicalJson } from '../model/canonical-json.js';
import {
  REVERSAL_KINDS,
  type Commitment, type CommitmentPeriod, type DrawdownEntry, type DrawdownSource, type DrawdownSourceKind, type DrawdownSourceLine,
} from '../model/index.js';
import { Dec, max, min, money, round, words, ZERO } from './money.js';
import { commitmentPeriods, periodOn } from './periods.js';
import { versionNamed, versionOn, type RuleSet, type RuleVersion } from './rules.js';

/** A document `draw` could not judge yet, and why; the next run over it tries again. */
export interface Pending {
  sourceId: string;
  kind: DrawdownSourceKind;
  reason: string;
}

export interface DrawResult {
  /** New ledger entries, in the order they were judged. */
  entries: DrawdownEntry[];
  pending: Pending[];
}

/** Why a document (or a line of it) counts less: words for people, a criterion id for reports. */
interface Finding {
  criterion: string;
  reason: string;
}

const KIND_WORDS: Record<DrawdownSourceKind, string> = {
  agreement: 'an agreement', invoice: 'an invoice', usage: 'a usage charge', refund: 'a refund', 'credit-note': 'a credit note',
};

/** What the ledger already holds, kept up to date as new entries are made. */
class LedgerState {
  readonly bySource = new Map<string, DrawdownEntry>();
  /** Per period (its start): the eligible amounts counted so far, against the marketplace cap. */
  private readonly capUsed = new Map<string, Dec>();
  /** Per original: what its refunds and credit notes took back. */
  private readonly takenBack = new Map<string, Dec>();

  constructor(private readonly rules: RuleSet) {}

  add(e: DrawdownEntry): void {
    this.bySource.set(e.sourceId, e);
    if (!e.periodStart) return;
    const eligible = new Dec(e.eligibleAmount);
    if (e.refundOf) {
      this.takenBack.set(e.refundOf, this.takenBackFrom(e.refundOf).minus(eligible));
      const version = e.ruleVersion ? versionNamed(this.rules, e.ruleVersion) : undefined;
      if (!version?.refunds.freeCapRoom) return;
    }
    this.capUsed.set(e.periodStart, this.usedIn(e.periodStart).plus(eligible));
  }

  usedIn(periodStart: string): Dec {
    return this.capUsed.get(periodStart) ?? ZERO;
  }

  takenBackFrom(sourceId: string): Dec {
    return this.takenBack.get(sourceId) ?? ZERO;
  }
}

/** A document ready to be judged, with the date that judges it. */
interface Item {
  source: DrawdownSource;
  date: string;
  /** A refund or credit note: judged after the originals of its date. */
  reversal: boolean;
}

/**
 * Judges the sources the ledger has not got yet and returns their entries. Throws when the rule
 * set is not the commitment's (a configuration error, not a document's).
 */
export function draw(commitment: Commitment, rules: RuleSet, sources: readonly DrawdownSource[], ledger: readonly DrawdownEntry[] = []): DrawResult {
  if (rules.name !== commitment.ruleSet) throw new Error(`commitment ${commitment.id} is judged by rule set ${commitment.ruleSet}, not ${rules.name}`);
  if (!rules.programs.includes(commitment.program)) {
    throw new Error(`rule set ${rules.name} is for ${rules.programs.join(', ')}, not commitment ${commitment.id}'s ${commitment.program}`);
  }
  const state = new LedgerState(rules);
  for (const e of ledger) if (e.commitmentId === commitment.id) state.add(e);

  const pending: Pending[] = [];
  const fresh = distinct(sources.filter((s) => !state.bySource.has(s.id)), pending);

  // Judging dates: originals first, as a refund is judged no earlier than its original.
  const dates = new Map<string, string>();
  const originals: Item[] = [];
  const reversals: DrawdownSource[] = [];
  for (const s of fresh) {
    if (REVERSAL_KINDS.includes(s.kind)) {
      reversals.push(s);
      continue;
    }
    const date = judgingDate(rules, s);
    if (date === undefined) pending.push({ sourceId: s.id, kind: s.kind, reason: `not invoiced yet: ${rules.name} counts a document on the date the cloud invoices it` });
    else {
      dates.set(s.id, date);
      originals.push({ source: s, date, reversal: false });
    }
  }
  const items = [...originals];
  const freshById = new Map(fresh.map((s) => [s.id, s]));
  for (const s of reversals) {
    const inLedger = state.bySource.get(s.refundOf!);
    const originalKind = inLedger?.sourceKind ?? freshById.get(s.refundOf!)?.kind;
    const originalDate = inLedger?.effectiveDate ?? dates.get(s.refundOf!);
    if (originalKind && REVERSAL_KINDS.includes(originalKind)) {
      pending.push({ sourceId: s.id, kind: s.kind, reason: `${s.refundOf} is itself a ${originalKind}; a refund gives back against the original document` });
    } else if (originalDate === undefined) {
      pending.push({ sourceId: s.id, kind: s.kind, reason: originalKind ? `its original ${s.refundOf} is not judged yet` : `its original ${s.refundOf} is not in this commitment's ledger yet` });
    } else {
      const own = s.invoiceDate ?? s.date;
      items.push({ source: s, date: own > originalDate ? own : originalDate, reversal: true });
    }
  }
  items.sort((a, b) => compare(a.date, b.date) || Number(a.reversal) - Number(b.reversal) || compare(a.source.id, b.source.id));

  const judge = new Judge(commitment, rules, state);
  const entries: DrawdownEntry[] = [];
  for (const item of items) {
    const result = item.reversal ? judge.reversal(item) : judge.original(item);
    if (!('commitmentId' in result)) pending.push(result);
    else {
      state.add(result);
      entries.push(result);
    }
  }
  pending.sort((a, b) => compare(a.sourceId, b.sourceId));
  return { entries, pending };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One document per id: copies of the same document count once; two different documents with one id are held back. */
function distinct(sources: readonly DrawdownSource[], pending: Pending[]): DrawdownSource[] {
  const byId = new Map<string, DrawdownSource[]>();
  for (const s of sources) {
    const same = byId.get(s.id);
    if (same) same.push(s);
    else byId.set(s.id, [s]);
  }
  const out: DrawdownSource[] = [];
  for (const [id, copies] of byId) {
    if (copies.length === 1) out.push(copies[0]);
    else if (new Set(copies.map((c) => canonicalJson(c))).size === 1) out.push(copies[0]);
    else pending.push({ sourceId: id, kind: copies[0].kind, reason: `${copies.length} different documents carry the id ${id}; one id is one document` });
  }
  return out;
}

/** The date that picks the version and the period, or undefined while a rule set judging by invoice date waits for the invoice. */
export function judgingDate(rules: RuleSet, s: DrawdownSource): string | undefined {
  if (rules.judgedBy === 'document-date') return s.date;
  return s.invoiceDate ?? (s.kind === 'invoice' ? s.date : undefined);
}

class Judge {
  private readonly periods: CommitmentPeriod[];
  private readonly caps = new Map<string, Dec>();

  constructor(private readonly c: Commitment, private readonly rules: RuleSet, private readonly state: LedgerState) {
    this.periods = commitmentPeriods(c);
  }

  /** An agreement, invoice or usage charge. */
  original({ source: s, date }: Item): DrawdownEntry | Pending {
    const rate = this.rateOf(s);
    if (rate === undefined) return { sourceId: s.id, kind: s.kind, reason: `in ${s.currency} without a recorded rate to ${this.c.currency}; the ledger converts only at the rate recorded with the document` };
    const version = versionOn(this.rules, date);
    const period = periodOn(this.periods, date);
    if (!version) return this.entry(s, date, rate, { period, eligible: ZERO, findings: [{ criterion: 'no-rule-version', reason: `no version of ${this.rules.name} is in effect on ${date}` }] });
    if (!period) {
      const when = date < this.c.startDate ? `before the commitment starts on ${this.c.startDate}` : `after its term ended on ${this.c.endDate}`;
      return this.entry(s, date, rate, { version, eligible: ZERO, findings: [{ criterion: 'outside-term', reason: `judged on ${date}, ${when}` }] });
    }
    const whole = this.documentFinding(s, version);
    if (whole) return this.entry(s, date, rate, { version, period, eligible: ZERO, findings: [whole] });

    const { counted, findings } = this.lines(s, rate, version);
    let eligible = counted;
    let overCap: Dec | undefined;
    const cap = this.capOf(version, period);
    if (cap && counted.gt(0)) {
      const room = max(ZERO, cap.minus(this.state.usedIn(period.start)));
      eligible = min(counted, room);
      overCap = counted.minus(eligible);
      if (overCap.gt(0)) {
        findings.push({
          criterion: 'marketplace-cap',
          reason: `${words(overCap, this.c.currency)} over the marketplace cap: marketplace purchases draw at most ${this.capPercent(version)} % of the period's ${words(new Dec(period.amount), this.c.currency)} (${words(cap, this.c.currency)}), and ${words(room, this.c.currency)} was left`,
        });
      }
    }
    return this.entry(s, date, rate, { version, period, eligible, overCap, findings });
  }

  /** A refund or credit note: judged by its original's version, it takes back what its lines counted there. */
  reversal({ source: s, date }: Item): DrawdownEntry | Pending {
    const original = this.state.bySource.get(s.refundOf!);
    if (!original) return { sourceId: s.id, kind: s.kind, reason: `its original ${s.refundOf} is not judged yet` };
    if (s.currency !== original.sourceCurrency) return { sourceId: s.id, kind: s.kind, reason: `in ${s.currency}, but its original ${original.sourceId} is in ${original.sourceCurrency}` };
    const rate = original.conversionRate ?? '1';
    const version = original.ruleVersion ? versionNamed(this.rules, original.ruleVersion) : undefined;
    const period = this.periods.find((p) => p.start === original.periodStart);
    const originalEligible = new Dec(original.eligibleAmount);
    if (!version || !period || originalEligible.isZero()) {
      if (original.ruleVersion && !version) return { sourceId: s.id, kind: s.kind, reason: `version ${original.ruleVersion} of ${this.rules.name}, which judged ${original.sourceId}, is no longer in the rule file` };
      return this.entry(s, date, rate, { version, period, eligible: ZERO, findings: [{ criterion: 'original-counted-nothing', reason: `its original ${original.sourceId} counted nothing` }], original });
    }
    const { counted, findings } = this.lines(s, rate, version);
    // The part of the original the cap let through is the part a refund takes back.
    const overCapBefore = new Dec(original.overCapAmount ?? 0);
    const throughCap = round(counted.times(originalEligible).div(originalEligible.plus(overCapBefore)), this.c.currency);
    const overCap = counted.minus(throughCap);
    if (overCap.gt(0)) findings.push({ criterion: 'marketplace-cap', reason: `${words(overCap, this.c.currency)} of it was over the marketplace cap in ${original.sourceId}` });
    let back = throughCap;
    const left = originalEligible.minus(this.state.takenBackFrom(original.sourceId));
    if (back.gt(left)) {
      findings.push({ criterion: 'more-than-original', reason: `takes back more than is left of ${original.sourceId}'s ${words(originalEligible, this.c.currency)}; only ${words(left, this.c.currency)}` });
      back = max(ZERO, left);
    }
    return this.entry(s, date, rate, { version, period, eligible: back.neg(), overCap: overCapBefore.gt(0) ? overCap.neg() : undefined, findings, original });
  }

  /** A reason that the whole document counts nothing, from the facts of the document (not its lines). */
  private documentFinding(s: DrawdownSource, v: RuleVersion): Finding | undefined {
    if (!(v.sourceKinds as readonly string[]).includes(s.kind)) {
      return { criterion: 'source-kind', reason: `${KIND_WORDS[s.kind]} does not draw down ${this.rules.name} (version ${v.version} counts ${v.sourceKinds.map((k) => KIND_WORDS[k]).join(', ')})` };
    }
    const channel = s.channel && v.excludedChannels.find((x) => x.channel === s.channel);
    if (channel) return { criterion: `channel:${channel.channel}`, reason: channel.reason };
    if (v.excludeOtherCountry && s.country && this.c.country && s.country !== this.c.country) {
      return { criterion: 'other-country', reason: `bought from ${s.country}; the commitment is for ${this.c.country}` };
    }
    const bought = s.purchaseDate ?? s.date;
    if (v.excludeBeforeStart && bought < this.c.startDate) {
      return { criterion: 'before-start', reason: `bought on ${bought}, before the commitment's start on ${this.c.startDate}` };
    }
    return undefined;
  }

  /** What the lines count in the commitment's currency (rounded), and why any line counts less. */
  private lines(s: DrawdownSource, rate: string, v: RuleVersion): { counted: Dec; findings: Finding[] } {
    const findings: Finding[] = [];
    let sum = ZERO;
    const reversal = REVERSAL_KINDS.includes(s.kind);
    s.lines.forEach((line, i) => {
      const excluded = lineFinding(line, v, reversal);
      if (!excluded) {
        sum = sum.plus(v.share.basis === 'with-tax' ? new Dec(line.amount).plus(line.tax ?? 0) : line.amount);
        return;
      }
      const what = line.product ?? line.description;
      findings.push({
        criterion: excluded.criterion,
        reason: `line ${i + 1}${what ? ` (${what})` : ''}, ${words(new Dec(line.amount), s.currency)}: ${excluded.reason}`,
      });
    });
    const whole = v.share.percent === '100';
    if (!whole && sum.gt(0)) findings.push({ criterion: 'share', reason: `counts ${v.share.percent} % of its ${v.share.basis === 'pre-tax' ? 'pre-tax ' : ''}amount` });
    if (!whole) sum = sum.times(v.share.percent).div(100);
    return { counted: round(rate === '1' ? sum : sum.times(rate), this.c.currency), findings };
  }

  private capPercent(v: RuleVersion): string {
    return this.c.overrides?.marketplaceCapPercent ?? v.marketplaceCap!.percent;
  }

  /** The most marketplace purchases may draw in a period, when the version caps them. */
  private capOf(v: RuleVersion, period: CommitmentPeriod): Dec | undefined {
    if (!v.marketplaceCap) return undefined;
    const percent = this.capPercent(v);
    const key = `${period.start} ${percent}`;
    let cap = this.caps.get(key);
    if (!cap) this.caps.set(key, (cap = round(new Dec(period.amount).times(percent).div(100), this.c.currency)));
    return cap;
  }

  /** One unit of the document's currency in the commitment's, as recorded with it (written as recorded). */
  private rateOf(s: DrawdownSource): string | undefined {
    if (s.currency === this.c.currency) return '1';
    return s.conversion?.to === this.c.currency ? s.conversion.rate : undefined;
  }

  private entry(
    s: DrawdownSource, date: string, rate: string,
    d: { version?: RuleVersion; period?: CommitmentPeriod; eligible: Dec; overCap?: Dec; findings: Finding[]; original?: DrawdownEntry },
  ): DrawdownEntry {
    const sign = d.original ? -1 : 1;
    let tax = ZERO;
    let gross = ZERO;
    for (const line of s.lines) {
      gross = gross.plus(line.amount);
      if (line.tax) tax = tax.plus(line.tax);
    }
    gross = gross.plus(tax);
    const entry: DrawdownEntry = {
      commitmentId: this.c.id,
      sourceKind: s.kind,
      sourceId: s.id,
      ...(s.refundOf ? { refundOf: s.refundOf } : {}),
      ...(d.period ? { periodStart: d.period.start } : {}),
      effectiveDate: date,
      grossAmount: money(gross.times(sign), s.currency),
      taxAmount: money(tax.times(sign), s.currency),
      sourceCurrency: s.currency,
      ...(s.currency !== this.c.currency ? { conversionRate: rate } : {}),
      eligibleAmount: money(d.eligible, this.c.currency),
      ...(d.overCap && !d.overCap.isZero() ? { overCapAmount: money(d.overCap, this.c.currency) } : {}),
      currency: this.c.currency,
      ruleId: this.rules.name,
      ...(d.version ? { ruleVersion: d.version.version } : {}),
    };
    if (d.findings.length > 0) {
      entry.reason = d.findings.map((f) => f.reason).join('; ');
      entry.criteria = [...new Set(d.findings.map((f) => f.criterion))];
    }
    return entry;
  }
}

/**
 * Why one line counts nothing under a version: its category is left out, or a flag it needs is not
 * set. A refund's line that does not say (no flag) gives back what counted; one that says the flag
 * is false gives back something that never counted.
 */
function lineFinding(line: DrawdownSourceLine, v: RuleVersion, reversal: boolean): Finding | undefined {
  const category = line.categories && v.excludedCategories.find((x) => line.categories!.includes(x.category));
  if (category) return { criterion: `category:${category.category}`, reason: category.reason };
  const flag = v.requiredFlags.find((x) => (reversal ? line.flags?.[x.flag] === false : line.flags?.[x.flag] !== true));
  if (flag) return { criterion: `flag:${flag.flag}`, reason: flag.reason };
  return undefined;
}
