import { setTimeout as sleep } from 'node:timers/promises';
import { CallCounters } from './counters.js';
import { seededRandom } from './random.js';

/**
 * Outbound webhooks for the sandboxes: events are batched over a short window (or until a batch
 * is full), each batch is POSTed signed, and retried with backoff on 5xx, 429, timeouts and
 * network errors, as HubSpot does. A 4xx is final: a refused signature does not improve with time.
 * Each sandbox supplies the body and headers of its own wire format; this class knows none.
 */
export interface WebhookFaultPlan {
  /** Fraction (0..1) of batches never sent (lost on the way). */
  dropRate?: number;
  /** Delay before each attempt, ms: fixed, or [min, max] uniformly. */
  delayMs?: number | [number, number];
  seed?: number;
}

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface WebhookDeliveryOptions<E> {
  /** Builds the request for a batch; called per attempt so each retry carries a fresh signature. Undefined: nowhere to send. */
  request(events: E[], attempt: number): WebhookRequest | undefined;
  /** How long events wait for company before their batch leaves (default 100 ms). */
  windowMs?: number;
  /** Most events in one request (default 100). */
  maxBatch?: number;
  /** Attempts per batch, the first included (default 5). */
  maxAttempts?: number;
  /** First retry delay; doubles each time (default 200 ms). */
  retryBaseMs?: number;
  /** A request that takes longer fails and is retried (HubSpot waits 5 s). */
  timeoutMs?: number;
  faults?: WebhookFaultPlan;
}

/**
 * Counters: `sent` batches answered 2xx and the `events` they carried, `retries`, `failed`
 * batches given up on (refused or out of attempts), `dropped` by fault injection.
 */
export class WebhookDelivery<E> {
  readonly counters = new CallCounters();
  /** How long each request answered 2xx took, as the sender saw it, in ms (the latest 100,000). */
  readonly answerMs: number[] = [];
  private queue: E[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private faultPlan: WebhookFaultPlan = {};
  private random = seededRandom(1);

  constructor(private readonly options: WebhookDeliveryOptions<E>) {
    this.faults = options.faults ?? {};
  }

  set faults(plan: WebhookFaultPlan) {
    this.faultPlan = { ...plan };
    this.random = seededRandom(plan.seed ?? 1);
  }

  get faults(): WebhookFaultPlan {
    return { ...this.faultPlan };
  }

  enqueue(event: E): void {
    if (this.abort.signal.aborted) return;
    this.queue.push(event);
    if (this.queue.length >= (this.options.maxBatch ?? 100)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs ?? 100);
  }

  /** Sends what is queued now, in batches of at most maxBatch. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const max = this.options.maxBatch ?? 100;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, max);
      const sending = this.deliver(batch).finally(() => this.inFlight.delete(sending));
      this.inFlight.add(sending);
    }
  }

  /** Resolves once nothing is queued or in flight (retries included). */
  async idle(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Stops sending: queued events are discarded, requests in flight are abandoned. */
  close(): void {
    clearTimeout(this.timer);
    this.queue = [];
    this.abort.abort();
  }

  private async deliver(batch: E[]): Promise<void> {
    if (this.random() < (this.faultPlan.dropRate ?? 0)) {
      this.counters.add('dropped');
      return;
    }
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        this.counters.add('retries');
        if (!(await this.pause((this.options.retryBaseMs ?? 200) * 2 ** (attempt - 1)))) return;
      }
      const delay = this.delay();
      if (delay > 0 && !(await this.pause(delay))) return;
      const request = this.options.request(batch, attempt);
      if (!request) return;
      const outcome = await this.post(request);
      if (outcome === 'ok') {
        this.counters.add('sent');
        this.counters.add('events', batch.length);
        return;
      }
      if (outcome === 'refused' || this.abort.signal.aborted) break;
    }
    this.counters.add('failed');
  }

  private async post(request: WebhookRequest): Promise<'ok' | 'refused' | 'retry'> {
    try {
      const sentAt = performance.now();
      const response = await fetch(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...request.headers },
        body: request.body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 5_000)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        if (this.answerMs.push(performance.now() - sentAt) > 100_000) this.answerMs.shift();
        return 'ok';
      }
      return response.status >= 500 || response.status === 429 ? 'retry' : 'refused';
    } catch {
      return 'retry';
    }
  }

  /** Waits, unless closed meanwhile: true when the wait ran out normally. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.abort.signal });
      return true;
    } catch {
      return false;
    }
  }

  private delay(): number {
    const d = this.faultPlan.delayMs;
    if (d === undefined) return 0;
    if (typeof d === 'number') return d;
    return d[0] + Math.round(this.random() * (d[1] - d[0]));
  }
}

/** What a sandbox exposes about its webhooks: the same controls for every system. */
export interface WebhookEmitter<T> {
  /** Point deliveries somewhere (or stop them with undefined) while the sandbox runs. */
  configure(target: T | undefined): void;
  readonly target: T | undefined;
  /** sent, events, retries, failed, dropped. */
  readonly counters: CallCounters;
  /** How long each request answered 2xx took, as the sender saw it, in ms. */
  readonly answerMs: readonly number[];
  faults: WebhookFaultPlan;
  /** Resolves when every queued event has been delivered or given up. */
  idle(): Promise<void>;
  close(): void;
}

/** The controls over a delivery whose target lives in `slot`; `detach` stops listening for changes. */
export function webhookEmitter<T extends object, E>(delivery: WebhookDelivery<E>, slot: { target: T | undefined }, detach: () => void): WebhookEmitter<T> {
  return {
    configure(next) {
      slot.target = next ? { ...next } : undefined;
    },
    get target() {
      return slot.target;
    },
    counters: delivery.counters,
    answerMs: delivery.answerMs,
    get faults() {
      return delivery.faults;
    },
    set faults(plan) {
      delivery.faults = plan;
    },
    idle: () => delivery.idle(),
    close() {
      detach();
      delivery.close();
    },
  };
}
