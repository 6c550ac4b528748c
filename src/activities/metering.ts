/**
 * The metering activities: usage the ingest API kept, sent to AWS Marketplace (BatchMeterUsage)
 * and the Microsoft marketplace (batchUsageEvent) one customer, dimension and hour at a time,
 * at most 25 records a call.
 *
 * Exactly once, across crashes: before each call the hours it carries get their row in the store
 * (status sending, the quantity claimed in the same statement), and after it their outcome. A
 * pass first sends again, as they are, the hours a dead worker left sending: the cloud answers
 * an hour it already has as a duplicate (or, for AWS, the same record again), which counts as
 * done. Usage the cloud would refuse (past its late window, no customer to meter, a quantity it
 * cannot take) and usage it refused becomes a dead letter with the reason.
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import {
  AWS_LATE_WINDOW_MS, AWS_METERING_BATCH, AwsMeteringClient, MeteringRefused as AwsRefused, type AwsMeteringConfig, type AwsUsage,
} from '../../connectors/aws-marketplace/metering.js';
import {
  MICROSOFT_LATE_WINDOW_MS, MICROSOFT_METERING_BATCH, MicrosoftMeteringClient, MeteringRefused as MicrosoftRefused, type MicrosoftMeteringConfig,
  type MicrosoftUsageStatus,
} from '../../connectors/microsoft-marketplace/metering.js';
import type { AgreementRow, DeadKey, MeterKey, MeteringSend, Store, WaitingHour } from '../store/index.js';
import { METERING_SYSTEMS } from '../service/metering-control.js';
import {
  ZERO_METERING, type MeteredCloud, type MeteringActivities, type MeteringCounts, type PassInput, type PassResult,
} from '../../workflows/metering-types.js';
import { asActivityFailure, credentialsOf, nonRetryable, perConnection } from './hubs.js';

const HOUR_MS = 3_600_000;
/** Hours this close to the end of the cloud's window are not sent: the call would reach the cloud too late. */
const WINDOW_MARGIN_MS = 5 * 60_000;
/** How often a pass heartbeats while a call is in flight (the workflow's heartbeat timeout is 15 s). */
const ALIVE_MS = 3_000;
/** Records the cloud did not get to are sent again this many times in one pass, then left for the next… */
const UNPROCESSED_ROUNDS = 5;
/** …which comes this much later. */
const RESEND_AFTER_MS = 10_000;

export const LATE_WINDOW_MS: Record<MeteredCloud, number> = { aws: AWS_LATE_WINDOW_MS, azure: MICROSOFT_LATE_WINDOW_MS };
const BATCH: Record<MeteredCloud, number> = { aws: AWS_METERING_BATCH, azure: MICROSOFT_METERING_BATCH };

export interface MeteringDeps {
  store: Store;
  log: Logger;
  wake(input: { connectionId: string; cloud: MeteredCloud }): Promise<void>;
  ensureSchedule(input: { connectionId: string; cloud: MeteredCloud }): Promise<void>;
  /** The clock (tests move it); Date.now by default. */
  now?: () => number;
}

/** A record to send: the hour's row as written before the call, and who the cloud meters. */
interface Outgoing {
  key: string;
  send: MeteringSend;
}

/** How each cloud answered one record, in the store's terms. */
type Verdict =
  | { kind: 'sent'; recordId?: string }
  | { kind: 'duplicate'; recordId?: string }
  | { kind: 'dead'; code: string; reason: string }
  | { kind: 'again' };

/** One call to a cloud: a verdict per record key, or the whole call refused. */
type CallOutcome = { verdicts: Map<string, Verdict> } | { refused: { code: string; message: string } };

/** Refusals about the caller (its credentials, its account), not the records: no record is to blame, a person must fix them. */
const AWS_CALLER_REFUSALS = new Set(['AccessDenied', 'UnrecognizedClient', 'DisabledApi', 'InvalidEndpointRegion']);
/** @azure/identity's errors for credentials Entra ID will not take. */
const ENTRA_REFUSALS = new Set(['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError']);

interface CloudSender {
  /** Records sharing one call: AWS takes one product a call. */
  groupOf(send: MeteringSend): string;
  call(records: Outgoing[]): Promise<CallOutcome>;
  /** Why the cloud cannot take this hour's quantity as it is, if it cannot. */
  quantityProblem(quantity: string): string | undefined;
}

const keyOf = (k: MeterKey) => `${k.accountId}|${k.product}|${k.dimension}|${Date.parse(k.hour)}`;
const meterKey = (k: MeterKey): MeterKey => ({ cloud: k.cloud, accountId: k.accountId, product: k.product, dimension: k.dimension, hour: k.hour });

/** Microsoft's statuses that end a record's sending, and those that do not. */
const MICROSOFT_DEAD: ReadonlySet<MicrosoftUsageStatus> = new Set([
  'Expired', 'ResourceNotFound', 'ResourceNotAuthorized', 'ResourceNotActive', 'InvalidDimension', 'InvalidQuantity', 'BadArgument',
]);

export function createMeteringActivities(deps: MeteringDeps): MeteringActivities {
  const now = deps.now ?? Date.now;
  const aws = perConnection(deps.store, (connection, credentials) =>
    new AwsMeteringClient(credentialsOf(connection, credentials, METERING_SYSTEMS.aws) as AwsMeteringConfig), (c) => c.close());
  const microsoft = perConnection(deps.store, (connection, credentials) =>
    new MicrosoftMeteringClient(credentialsOf(connection, credentials, METERING_SYSTEMS.azure) as unknown as MicrosoftMeteringConfig), (c) => c.close());

  async function senderFor(connectionId: string, cloud: MeteredCloud): Promise<CloudSender> {
    if (cloud === 'aws') {
      const { value: client } = await aws(connectionId);
      return {
        groupOf: (send) => send.product,
        quantityProblem: (q) => (/^\d+$/.test(q) ? undefined : `AWS Marketplace meters whole units; this hour adds up to ${q}`),
        async call(records) {
          const usage: AwsUsage[] = records.map(({ key, send }) => ({
            key, customerAccountId: send.customer!, dimension: send.dimension, quantity: Number(send.quantity), timestamp: new Date(send.hour),
          }));
          try {
            const answer = await client.batchMeterUsage(records[0].send.product, usage);
            const verdicts = new Map<string, Verdict>();
            for (const r of answer.results) {
              verdicts.set(r.key, r.status === 'Success' ? { kind: 'sent', recordId: r.meteringRecordId }
                : r.status === 'DuplicateRecord' ? { kind: 'duplicate', recordId: r.meteringRecordId }
                : { kind: 'dead', code: r.status, reason: `AWS Marketplace: the customer's AWS account is not subscribed to product ${records[0].send.product} for that hour` });
            }
            for (const key of answer.unprocessed) verdicts.set(key, { kind: 'again' });
            return { verdicts };
          } catch (error) {
            if (!(error instanceof AwsRefused)) throw error;
            if (AWS_CALLER_REFUSALS.has(error.code)) throw nonRetryable('AuthError', `AWS Marketplace refused the seller's call (${error.code}): ${error.message}; fix the connection's aws-marketplace credentials, and the hours wait to be sent`);
            return { refused: { code: error.code, message: `AWS Marketplace refused BatchMeterUsage: ${error.message}` } };
          }
        },
      };
    }
    const { value: client } = await microsoft(connectionId);
    return {
      groupOf: () => '',
      quantityProblem: (q) => (Number(q) > 0 ? undefined : `the Microsoft marketplace takes quantities above 0; this hour adds up to ${q}`),
      async call(records) {
        try {
          const results = await client.batchUsageEvent(records.map(({ key, send }) => ({
            key, resourceId: send.customer!, planId: send.plan!, dimension: send.dimension, quantity: Number(send.quantity), effectiveStartTime: new Date(send.hour),
          })));
          const verdicts = new Map<string, Verdict>();
          for (const r of results) {
            verdicts.set(r.key, r.status === 'Accepted' ? { kind: 'sent', recordId: r.usageEventId }
              : r.status === 'Duplicate' ? { kind: 'duplicate', recordId: r.usageEventId }
              : MICROSOFT_DEAD.has(r.status) ? { kind: 'dead', code: r.status, reason: `the Microsoft marketplace answered ${r.status}: ${r.message ?? r.status}` }
              : { kind: 'again' });
          }
          return { verdicts };
        } catch (error) {
          const name = (error as Error).name;
          if ((error instanceof MicrosoftRefused && (error.status === 401 || error.status === 403)) || ENTRA_REFUSALS.has(name)) {
            throw nonRetryable('AuthError', `the Microsoft marketplace refused the publisher's call: ${(error as Error).message}; fix the connection's microsoft-marketplace credentials, and the hours wait to be sent`);
          }
          if (error instanceof MicrosoftRefused) return { refused: { code: error.code, message: error.message } };
          throw error;
        }
      },
    };
  }

  /** Who each account is to the cloud, from the agreements the hub recorded: the newest active one. */
  async function customers(connectionId: string, cloud: MeteredCloud): Promise<Map<string, AgreementRow>> {
    const agreements = await deps.store.agreements.list({ connectionId, cloud, limit: 100_000 });
    const out = new Map<string, AgreementRow>();
    for (const a of agreements) {
      if (!a.accountId || !/^(active|subscribed)$/i.test(a.status)) continue;
      const kept = out.get(a.accountId);
      if (!kept || kept.acceptedAt <= a.acceptedAt) out.set(a.accountId, a);
    }
    return out;
  }

  async function pass(input: PassInput): Promise<PassResult> {
    const { connectionId, cloud } = input;
    const sender = await senderFor(connectionId, cloud);
    const counts: MeteringCounts = { ...ZERO_METERING };
    const at = now();
    const lateBefore = at - LATE_WINDOW_MS[cloud] + WINDOW_MARGIN_MS;
    let batches = 0;
    const tick = () => heartbeat({ batches, ...counts });

    const letter = async (keys: DeadKey[]) => {
      if (keys.length === 0) return;
      await deps.store.metering.deadLetter(connectionId, keys);
      counts.deadLettered += keys.length;
      deps.log.info({ connection: connectionId, cloud, hours: keys.length, codes: [...new Set(keys.map((k) => k.errorCode))] }, 'metering: usage dead-lettered');
    };
    const lateKey = (k: MeterKey & { plan: string | null }): DeadKey => ({
      ...meterKey(k), plan: k.plan, errorCode: 'Late',
      reason: `usage of ${k.hour} came too late for ${cloud === 'aws' ? 'AWS Marketplace (at most 6 hours after the hour; AWS refuses it with TimestampOutOfBounds)' : 'the Microsoft marketplace (at most 24 hours after the hour; Microsoft answers Expired)'}`,
    });

    /** Sends records (their rows written) in calls of at most 25 of a group, each record's outcome written after its call. */
    async function sendAll(records: Outgoing[]): Promise<void> {
      const groups = new Map<string, Outgoing[]>();
      for (const r of records) groups.set(sender.groupOf(r.send), [...(groups.get(sender.groupOf(r.send)) ?? []), r]);
      for (const group of groups.values()) {
        for (let i = 0; i < group.length; i += BATCH[cloud]) await sendBatch(group.slice(i, i + BATCH[cloud]));
      }
    }

    async function sendBatch(batch: Outgoing[]): Promise<void> {
      let pending = batch;
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) await deps.store.metering.countAttempt(connectionId, pending.map((p) => meterKey(p.send)));
        // Alive while the cloud is called: a throttle waited out in process outlasts the heartbeat timeout.
        const alive = setInterval(tick, ALIVE_MS);
        const outcome = await sender.call(pending).catch((e: unknown) => { throw asActivityFailure(e); }).finally(() => clearInterval(alive));
        counts.calls++;
        batches++;
        tick();
        if ('refused' in outcome) {
          // A call refused whole: alone, each record gets its own answer (and only the bad ones are lettered).
          if (pending.length > 1) {
            for (const one of pending) await sendBatch([one]);
            return;
          }
          const [only] = pending;
          const late = outcome.refused.code === 'TimestampOutOfBounds';
          await letter([late ? lateKey(only.send) : { ...meterKey(only.send), plan: only.send.plan, errorCode: outcome.refused.code, reason: outcome.refused.message }]);
          return;
        }
        const finished: Array<MeterKey & { status: 'sent' | 'duplicate'; recordId?: string | null }> = [];
        const dead: DeadKey[] = [];
        const again: Outgoing[] = [];
        for (const r of pending) {
          const verdict = outcome.verdicts.get(r.key) ?? { kind: 'again' as const };
          if (verdict.kind === 'sent' || verdict.kind === 'duplicate') finished.push({ ...meterKey(r.send), status: verdict.kind, recordId: verdict.recordId ?? null });
          else if (verdict.kind === 'dead') dead.push({ ...meterKey(r.send), plan: r.send.plan, errorCode: verdict.code, reason: verdict.reason });
          else again.push(r);
        }
        await deps.store.metering.finish(connectionId, finished);
        counts.sent += finished.filter((f) => f.status === 'sent').length;
        counts.duplicates += finished.filter((f) => f.status === 'duplicate').length;
        await letter(dead);
        pending = again;
        if (pending.length > 0 && round + 1 >= UNPROCESSED_ROUNDS) {
          // Still sending: the next pass sends them again, as they are.
          counts.unprocessed += pending.length;
          return;
        }
      }
    }

    // 1. Hours a dead worker (or a failed call) left sending: again, as they are, unless now too late.
    const unfinished = (await deps.store.metering.unfinished(connectionId)).filter((s) => s.cloud === cloud);
    await letter(unfinished.filter((s) => Date.parse(s.hour) < lateBefore).map(lateKey));
    const resend = unfinished.filter((s) => Date.parse(s.hour) >= lateBefore);
    if (resend.length > 0) {
      await deps.store.metering.countAttempt(connectionId, resend.map(meterKey));
      await sendAll(resend.map((send) => ({ key: keyOf(send), send })));
    }

    // 2. Closed hours (their grace passed) whose usage waits.
    // An hour is due once it ended and its grace passed too: hours before the one `at - grace` falls in.
    const dueBefore = Math.floor((at - input.graceMs) / HOUR_MS) * HOUR_MS;
    const waiting = await deps.store.metering.waiting(connectionId, { before: new Date(dueBefore).toISOString(), clouds: [cloud] });
    const byAccount = await customers(connectionId, cloud);
    const dead: DeadKey[] = [];
    const ready: Array<WaitingHour & { customer: string; plan: string | null }> = [];
    for (const w of waiting) {
      // An hour in a dead letter: its usage joins the letter's replay.
      if (w.sent === 'dead' || w.sent === 'sending') continue;
      if (w.sent === 'sent' || w.sent === 'duplicate') {
        dead.push({ ...meterKey(w), plan: w.plan, errorCode: 'AfterMetering', reason: `usage of ${w.hour} came after that hour was metered: the cloud takes one record per customer, dimension and hour` });
        continue;
      }
      if (Date.parse(w.hour) < lateBefore) {
        dead.push(lateKey(w));
        continue;
      }
      const agreement = byAccount.get(w.accountId);
      if (!agreement) {
        dead.push({ ...meterKey(w), plan: w.plan, errorCode: 'NoCustomer', reason: `account ${w.accountId} has no active ${cloud === 'aws' ? 'AWS Marketplace agreement' : 'Microsoft marketplace SaaS subscription'} in the hub to meter it by: record the agreement, then replay` });
        continue;
      }
      const customer = cloud === 'aws' ? agreement.acceptor : String(agreement.data.subscriptionId ?? agreement.agreementId);
      const plan = w.plan ?? (typeof agreement.data.planId === 'string' ? agreement.data.planId : null);
      if (cloud === 'azure' && !plan) {
        dead.push({ ...meterKey(w), plan: null, errorCode: 'NoPlan', reason: 'the Microsoft marketplace meters usage against a plan: the usage names none and neither does the subscription\'s agreement' });
        continue;
      }
      const problem = sender.quantityProblem(w.quantity);
      if (problem) {
        dead.push({ ...meterKey(w), plan, errorCode: 'InvalidQuantity', reason: problem });
        continue;
      }
      ready.push({ ...w, customer, plan });
    }
    await letter(dead);

    // Per group, in calls of 25: each call's hours claimed (the intent) just before it.
    const limit = input.batchesPerPass * BATCH[cloud];
    const groups = new Map<string, typeof ready>();
    for (const r of ready) {
      const group = cloud === 'aws' ? r.product : '';
      groups.set(group, [...(groups.get(group) ?? []), r]);
    }
    let taken = 0;
    let more = false;
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += BATCH[cloud]) {
        if (taken >= limit) {
          more = true;
          break;
        }
        const chunk = group.slice(i, i + BATCH[cloud]);
        taken += chunk.length;
        const claimed = await deps.store.metering.startSends(connectionId, chunk.map((c) => ({ ...meterKey(c), plan: c.plan, customer: c.customer })));
        if (claimed.length > 0) await sendBatch(claimed.map((send) => ({ key: keyOf(send), send })));
      }
    }

    // The earliest hour still waiting for its grace, for the workflow's timer.
    const later = await deps.store.metering.waiting(connectionId, { before: new Date(at + 2 * HOUR_MS).toISOString(), clouds: [cloud] });
    const nextHour = later.map((w) => Date.parse(w.hour)).filter((h) => h >= dueBefore).sort((a, b) => a - b)[0];
    const candidates = [
      ...(nextHour !== undefined ? [nextHour + HOUR_MS + input.graceMs] : []),
      // Records the cloud did not get to are still sending: the next pass, a little later, sends them again.
      ...(counts.unprocessed > 0 ? [now() + RESEND_AFTER_MS] : []),
    ];
    return { counts, more, ...(candidates.length > 0 ? { nextDueAt: new Date(Math.min(...candidates)).toISOString() } : {}) };
  }

  return {
    async meteringPass(input) {
      try {
        return await pass(input);
      } catch (error) {
        throw asActivityFailure(error);
      }
    },

    async replayMeteringLetters({ connectionId, cloud, ids }) {
      const open = await deps.store.metering.letters({ connectionId, cloud, status: 'open', limit: 100_000 });
      const wanted = ids ? open.filter((l) => ids.includes(l.id)).map((l) => l.id) : open.map((l) => l.id);
      if (ids && wanted.length < ids.length) {
        throw ApplicationFailure.create({ type: 'ConfigurationError', nonRetryable: true, message: `not open metering dead letters of this connection's ${cloud} usage: ${ids.filter((id) => !wanted.includes(id)).join(', ')}` });
      }
      if (wanted.length === 0) return { replayed: 0, stillFailing: 0 };
      return deps.store.metering.replay(connectionId, wanted);
    },

    async ensureMeteringSchedule(input) {
      await deps.ensureSchedule(input);
    },

    async wakeMetering(input) {
      const connection = await deps.store.connections.get(input.connectionId);
      if (!connection) throw nonRetryable('ConfigurationError', `connection ${input.connectionId} does not exist`);
      await deps.wake(input);
    },
  };
}
