import { seededRandom } from './random.js';

/**
 * Fault injection shared by every sandbox. The plan says how often each fault happens; the
 * sandbox turns a decision into its own system's wire format (Salesforce's REQUEST_LIMIT_EXCEEDED,
 * HubSpot's RATE_LIMIT with policyName, AWS's ThrottlingException...).
 */
export interface FaultPlan {
  /** Fraction (0..1) of calls answered with the system's rate-limit error. */
  rateLimitRate?: number;
  /** Fraction of calls answered with a 5xx. */
  serverErrorRate?: number;
  /** Fraction of calls that hang until the client gives up (the server never answers in time). */
  timeoutRate?: number;
  /** Fraction of records in a batch write that fail individually (partial batch failure). */
  recordFailureRate?: number;
  /** Added latency per call, in ms: fixed, or [min, max] uniformly. */
  latencyMs?: number | [number, number];
  /** Hard limit: at most this many calls per second (sliding one-second window), beyond it a rate-limit error. */
  callsPerSecond?: number;
  /** Only calls whose endpoint name matches are affected (default: all). */
  endpoints?: RegExp;
  seed?: number;
}

export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'rateLimit'; latencyMs: number; retryAfterMs: number }
  | { kind: 'serverError'; latencyMs: number }
  | { kind: 'timeout'; latencyMs: number };

export class FaultInjector {
  private plan: FaultPlan = {};
  private random = seededRandom(1);
  private window: number[] = [];

  constructor(plan: FaultPlan = {}) {
    this.set(plan);
  }

  set(plan: FaultPlan): void {
    this.plan = { ...plan };
    this.random = seededRandom(plan.seed ?? 1);
    this.window = [];
  }

  get current(): FaultPlan {
    return { ...this.plan };
  }

  /** Decide the fate of one call to `endpoint` at time `now` (ms). */
  decide(endpoint: string, now = Date.now()): FaultDecision {
    const p = this.plan;
    const latencyMs = this.latency();
    if (p.endpoints && !p.endpoints.test(endpoint)) return { kind: 'none', latencyMs: 0 };
    if (p.callsPerSecond !== undefined) {
      while (this.window.length > 0 && this.window[0] <= now - 1000) this.window.shift();
      if (this.window.length >= p.callsPerSecond) {
        return { kind: 'rateLimit', latencyMs, retryAfterMs: Math.max(1, this.window[0] + 1000 - now) };
      }
      this.window.push(now);
    }
    const r = this.random();
    let edge = p.rateLimitRate ?? 0;
    if (r < edge) return { kind: 'rateLimit', latencyMs, retryAfterMs: 1000 };
    edge += p.serverErrorRate ?? 0;
    if (r < edge) return { kind: 'serverError', latencyMs };
    edge += p.timeoutRate ?? 0;
    if (r < edge) return { kind: 'timeout', latencyMs };
    return { kind: 'none', latencyMs };
  }

  /** Whether one record of a batch write fails on its own. */
  recordFails(): boolean {
    const rate = this.plan.recordFailureRate ?? 0;
    return rate > 0 && this.random() < rate;
  }

  private latency(): number {
    const l = this.plan.latencyMs;
    if (l === undefined) return 0;
    if (typeof l === 'number') return l;
    return l[0] + Math.round(this.random() * (l[1] - l[0]));
  }
}

/** Parses the `--faults` CLI option: "rateLimitRate=0.1,serverErrorRate=0.05,latencyMs=20". */
export function parseFaultPlan(text: string): FaultPlan {
  const plan: Record<string, unknown> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value] = part.split('=');
    if (!key || value === undefined) throw new Error(`fault "${part}" is not key=value`);
    const allowed = ['rateLimitRate', 'serverErrorRate', 'timeoutRate', 'recordFailureRate', 'latencyMs', 'callsPerSecond', 'seed'];
    if (!allowed.includes(key)) throw new Error(`unknown fault "${key}" (known: ${allowed.join(', ')})`);
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`fault ${key} needs a non-negative number, got "${value}"`);
    plan[key] = n;
  }
  return plan as FaultPlan;
}
