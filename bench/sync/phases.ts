/**
 * Where a sync page's time goes, measured from outside the pipeline: the connectors, the store
 * and the compiled mappings are wrapped, so src/ stays as it ships. Each phase keeps the wall time
 * during which at least one of its operations was running (writes overlap each other), so phases
 * of one page add up to the page's time minus what the pipeline did in between (planning,
 * hashing, glue).
 */
import type { Connector, Page } from '../../src/sync/protocol.js';
import type { CompiledMapping } from '../../src/mapping/index.js';
import type { Store } from '../../src/store/index.js';
import type { HubState } from '../../src/sync/ports.js';

export const PHASES = ['page', 'read', 'map', 'store', 'write'] as const;
export type Phase = (typeof PHASES)[number];

/** Wall time per phase, as the union of the intervals its operations ran in. */
export class PhaseClock {
  private active = new Map<Phase, { count: number; since: number }>();
  private totals = new Map<Phase, number>();
  private calls = new Map<Phase, number>();
  /** Summed time per named operation (store methods, connector calls): overlapping calls add up. */
  private details = new Map<string, { ms: number; calls: number }>();

  begin(phase: Phase, detail?: string): () => void {
    const now = performance.now();
    const a = this.active.get(phase) ?? { count: 0, since: now };
    if (a.count === 0) a.since = now;
    a.count++;
    this.active.set(phase, a);
    this.calls.set(phase, (this.calls.get(phase) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (detail) this.addDetail(detail, performance.now() - now);
      if (--a.count === 0) this.totals.set(phase, (this.totals.get(phase) ?? 0) + performance.now() - a.since);
    };
  }

  async time<T>(phase: Phase, fn: () => Promise<T>, detail?: string): Promise<T> {
    const end = this.begin(phase, detail);
    try {
      return await fn();
    } finally {
      end();
    }
  }

  timeSync<T>(phase: Phase, fn: () => T): T {
    const end = this.begin(phase);
    try {
      return fn();
    } finally {
      end();
    }
  }

  addDetail(detail: string, ms: number): void {
    const d = this.details.get(detail) ?? { ms: 0, calls: 0 };
    d.ms += ms;
    d.calls++;
    this.details.set(detail, d);
  }

  reset(): void {
    this.totals.clear();
    this.calls.clear();
    this.details.clear();
  }

  /** Summed milliseconds and calls per named operation since the last reset, largest first. */
  detailSnapshot(): Record<string, { ms: number; calls: number }> {
    return Object.fromEntries([...this.details].sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { ms: Math.round(v.ms), calls: v.calls }]));
  }

  /** Milliseconds and operation counts per phase since the last reset. */
  snapshot(): Record<Phase, { ms: number; calls: number }> {
    return Object.fromEntries(PHASES.map((p) => [p, { ms: Math.round(this.totals.get(p) ?? 0), calls: this.calls.get(p) ?? 0 }])) as Record<Phase, { ms: number; calls: number }>;
  }
}

/** The connector with its reads (each page awaited) and writes timed. */
export function timedConnector(connector: Connector, clock: PhaseClock): Connector {
  return new Proxy(connector, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'read') {
        return (...args: unknown[]): AsyncIterable<Page> => {
          const pages = (value as (...a: unknown[]) => AsyncIterable<Page>).apply(target, args);
          return {
            [Symbol.asyncIterator]() {
              const it = pages[Symbol.asyncIterator]();
              return {
                next: () => clock.time('read', () => it.next(), `${target.system}.read`),
                return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true as const, value: undefined }),
              };
            },
          };
        };
      }
      if (prop === 'readByIds') return (...args: unknown[]) => clock.time('read', () => value.apply(target, args), `${target.system}.readByIds`);
      if (prop === 'write' || prop === 'delete') return (...args: unknown[]) => clock.time('write', () => value.apply(target, args), `${target.system}.${prop}`);
      return value.bind(target);
    },
  });
}

/** The store with every repository call and transaction timed as 'store'. */
export function timedStore(store: Store, clock: PhaseClock): Store {
  const repo = <T extends object>(name: string, r: T): T => new Proxy(r, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (...args: unknown[]) => clock.time('store', () => value.apply(target, args), `store.${name}.${String(prop)}`) : value;
    },
  });
  return {
    ...store,
    connections: repo('connections', store.connections),
    links: repo('links', store.links),
    records: repo('records', store.records),
    cursors: repo('cursors', store.cursors),
    runs: repo('runs', store.runs),
    deadLetters: repo('deadLetters', store.deadLetters),
    conflicts: repo('conflicts', store.conflicts),
    transaction: (fn) => clock.time('store', () => store.transaction((tx) => fn(timedTransaction(tx, clock))), 'store.transaction'),
    hub: (connectionId) => timedState(store.hub(connectionId), clock),
  };
}

/** The engine's state port with every call timed as 'store'. */
function timedState(state: HubState, clock: PhaseClock): HubState {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(state)) {
    out[name] = (...args: unknown[]) => clock.time('store', () => (fn as (...a: unknown[]) => Promise<unknown>)(...args), `state.${name}`);
  }
  return out as unknown as HubState;
}

/** Inside a transaction: each statement timed by name only (the transaction already counts as 'store'). */
function timedTransaction<T extends object>(tx: T, clock: PhaseClock): T {
  const out: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(tx)) {
    out[name] = new Proxy(r as object, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const started = performance.now();
          try {
            return await value.apply(target, args);
          } finally {
            clock.addDetail(`tx.${name}.${String(prop)}`, performance.now() - started);
          }
        };
      },
    });
  }
  return out as T;
}

/** The compiled mapping with forward, validate and reverse timed as 'map'. */
export function timedMapping(mapping: CompiledMapping, clock: PhaseClock): CompiledMapping {
  return {
    ...mapping,
    forward: (...args) => clock.timeSync('map', () => mapping.forward(...args)),
    validate: (...args) => clock.timeSync('map', () => mapping.validate(...args)),
    reverse: (...args) => clock.timeSync('map', () => mapping.reverse(...args)),
  };
}
