/**
 * The drawdown activities: read what the hub keeps of a customer (agreements, ERP invoices, the
 * usage the cloud took, documents entered by hand), let the pure engine (src/drawdown) judge it,
 * and keep the result: ledger lines, alerts, the CRM account's standing.
 *
 * Idempotent by construction: the commitment's row is locked while it is judged, the ledger
 * takes one line per document ever and an alert once per key, so a retry, a second worker or a
 * run after a crash finds what the first wrote and adds only what is new.
 */
import { heartbeat } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { Reminder } from '../cosell/notify.js';
import { collectSources, draw, standingOf, summarizePeriods, type AgreementFacts, type RuleSet } from '../drawdown/index.js';
import { Invoice, type Commitment } from '../model/index.js';
import type { Store, StoreApi } from '../store/index.js';
import type { DrawdownActivities, DrawdownRunResult, DrawdownWake } from '../../workflows/drawdown-types.js';
import { CanonicalRecordNotFound, type CanonicalWriter } from './canonical-write.js';
import { nonRetryable } from './hubs.js';

/** The clouds whose usage ecosync meters: for them the ledger counts what the cloud took, for the others what was reported. */
const METERED_CLOUDS = new Set(['aws', 'azure']);
/** Most invoices read for one customer in one run. */
const MAX_INVOICES = 100_000;

export interface DrawdownDeps {
  store: Store;
  writer: CanonicalWriter;
  log: Logger;
  /** The rule set a commitment names (src/runtime/rules.ts reads it from rules/). */
  rules: (name: string) => Promise<RuleSet>;
  /** Posts an alert to the notify webhook; alerts are logged when none is configured. */
  notify?: (reminder: Reminder) => Promise<void>;
  /** Wakes a commitment's workflow (the Schedule's trigger); absent on a worker without a Temporal client. */
  wake?: (commitment: Commitment, wake: DrawdownWake) => Promise<void>;
}

export function createDrawdownActivities(deps: DrawdownDeps): DrawdownActivities {
  return {
    async judgeDrawdown({ commitmentId, asOf }): Promise<DrawdownRunResult> {
      const row = await deps.store.commitments.get(commitmentId);
      if (!row) throw nonRetryable('ConfigurationError', `commitment ${commitmentId} does not exist`);
      let rules: RuleSet;
      try {
        rules = await deps.rules(row.commitment.ruleSet);
      } catch (error) {
        throw nonRetryable('ConfigurationError', `commitment ${commitmentId}: ${(error as Error).message}`);
      }
      return deps.store.transaction(async (tx) => {
        // One judging of this ledger at a time, whatever runs it.
        const locked = await tx.commitments.lock(commitmentId);
        const c = locked!.commitment;
        const { sources, skipped } = collectSources(c, rules, await readSources(tx, locked!.connectionId, c, asOf));
        heartbeat({ phase: 'collected', sources: sources.length });
        const ledger = (await tx.commitments.ledger(commitmentId)).map((r) => r.entry);
        const { entries, pending } = draw(c, rules, sources, ledger);
        heartbeat({ phase: 'judged', entries: entries.length });
        const written = await tx.commitments.append(entries);
        const all = [...ledger, ...written];

        // Alerts of every period begun by today: a period that ended between two runs still gets its last word.
        const summaries = summarizePeriods(c, all, asOf, { rules }).filter((s) => s.period.start <= asOf);
        const due = summaries.flatMap((s) => s.alerts).map((a) => ({ key: a.key, kind: a.kind, message: a.message }));
        const raised = await tx.commitments.raise(commitmentId, due);
        const current = summaries.find((s) => asOf <= s.period.end) ?? summaries.at(-1) ?? summarizePeriods(c, all, asOf, { rules })[0];
        const latest = (await tx.commitments.alerts(commitmentId)).filter((a) => a.key.startsWith(`${current.period.start}/`)).at(-1);
        const waiting = [...pending.map((x) => `${x.sourceId}: ${x.reason}`), ...skipped.map((x) => `${x.sourceId}: ${x.reason}`)];
        if (written.length > 0 || raised.length > 0) {
          deps.log.info({ commitment: commitmentId, written: written.length, pending: waiting.length, raised: raised.map((a) => a.key) }, 'drawdown: ledger judged');
        }
        return {
          asOf,
          written: written.length,
          ledgerLines: all.length,
          pending: waiting.length,
          pendingReasons: waiting.slice(0, 10),
          raised: raised.map((a) => a.key),
          standing: standingOf(c, current, latest?.message),
          period: current.period.number,
        };
      });
    },

    async deliverDrawdownAlerts({ commitmentId }): Promise<number> {
      const row = await deps.store.commitments.get(commitmentId);
      if (!row) throw nonRetryable('ConfigurationError', `commitment ${commitmentId} does not exist`);
      const c = row.commitment;
      let sent = 0;
      for (const alert of await deps.store.commitments.unsentAlerts(commitmentId)) {
        const reminder: Reminder = {
          to: c.alertTo ?? [],
          subject: `${c.program.toUpperCase()} commitment ${c.externalId ?? c.id}: ${alert.kind.replaceAll('-', ' ')}`,
          text: alert.message,
        };
        if (deps.notify) await deps.notify(reminder);
        else deps.log.info({ commitment: commitmentId, alert: alert.key, to: reminder.to }, `drawdown alert (no notify webhook configured): ${alert.message}`);
        // Marked once posted: a crash in between posts it again (at least once), never loses it.
        await deps.store.commitments.markSent(commitmentId, alert.key);
        sent++;
        heartbeat(sent);
      }
      return sent;
    },

    async writeDrawdownStanding({ commitmentId, standing }): Promise<boolean> {
      const row = await deps.store.commitments.get(commitmentId);
      if (!row) throw nonRetryable('ConfigurationError', `commitment ${commitmentId} does not exist`);
      const c = row.commitment;
      try {
        await deps.writer.patch({ connectionId: row.connectionId, entity: 'Account', canonicalId: c.accountId, values: { [`commitments.${c.cloud}`]: standing } });
        return true;
      } catch (error) {
        if (!(error instanceof CanonicalRecordNotFound)) throw error;
        deps.log.warn({ commitment: commitmentId, account: c.accountId }, 'drawdown: the customer\'s account is unknown to the hub; its standing is not written to the CRM');
        return false;
      }
    },

    async wakeDrawdown({ commitmentId, wake }): Promise<void> {
      const row = await deps.store.commitments.get(commitmentId);
      if (!row) throw nonRetryable('ConfigurationError', `commitment ${commitmentId} does not exist`);
      if (!deps.wake) throw nonRetryable('ConfigurationError', 'this worker cannot wake drawdown ledgers (no Temporal client)');
      await deps.wake(row.commitment, wake);
    },
  };
}

/** What the hub holds of the commitment's customer, as collectSources reads it. */
async function readSources(tx: StoreApi, connectionId: string, c: Commitment, today: string) {
  // One after the other: a transaction is one connection, which takes one query at a time.
  const agreements = await tx.agreements.list({ connectionId, accountId: c.accountId, cloud: c.cloud, limit: 100_000 });
  const invoiceRecords = await tx.records.findByField(connectionId, 'Invoice', 'accountId', [c.accountId], MAX_INVOICES);
  const usage = await tx.metering.monthly(connectionId, c.accountId, c.cloud, METERED_CLOUDS.has(c.cloud));
  const documents = await tx.commitments.documents(c.id);
  const invoices = [];
  for (const r of invoiceRecords) {
    // A record the hub could not read as an Invoice is left out here; the sync dead-letters such records.
    const parsed = Invoice.safeParse({ ...r.data, id: r.canonicalId });
    if (parsed.success) invoices.push({ canonicalId: r.canonicalId, invoice: parsed.data });
  }
  return {
    agreements: agreements.map((a): AgreementFacts => ({
      cloud: a.cloud, agreementId: a.agreementId, offerId: a.offerId, status: a.status, acceptedAt: a.acceptedAt,
      totalContractValue: a.totalContractValue, currency: a.currency, data: a.data,
    })),
    invoices,
    usage,
    documents: documents.map((d) => d.document),
    today,
  };
}
