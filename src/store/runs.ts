import type { Db } from './db.js';
import { iso, isoOrNull } from './rows.js';

export type RunMode = 'incremental' | 'full';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RunCounters {
  read: number;
  created: number;
  updated: number;
  /** Includes echoes of our own writes and lookback re-reads. */
  unchanged: number;
  deleted: number;
  failed: number;
  conflicts: number;
}

export interface SyncRun {
  id: string;
  connectionId: string;
  workflowId: string | null;
  runId: string | null;
  mode: RunMode;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  counters: RunCounters;
  error: string | null;
}

export interface RunStart {
  connectionId: string;
  mode: RunMode;
  workflowId?: string;
  runId?: string;
  /** Lets a retried start return the run it already made instead of a second one. */
  id?: string;
}

/** Counter name → column. */
const COUNTER_COLUMNS: Record<keyof RunCounters, string> = {
  read: 'records_read',
  created: 'records_created',
  updated: 'records_updated',
  unchanged: 'records_unchanged',
  deleted: 'records_deleted',
  failed: 'records_failed',
  conflicts: 'conflicts_found',
};
const COUNTERS = Object.keys(COUNTER_COLUMNS) as (keyof RunCounters)[];

const COLUMNS = `id, connection_id, workflow_id, run_id, mode, status, started_at, finished_at, error,
  ${COUNTERS.map((c) => COUNTER_COLUMNS[c]).join(', ')}`;

type RunRow = Record<string, unknown> & {
  id: string; connection_id: string; workflow_id: string | null; run_id: string | null;
  mode: RunMode; status: RunStatus; started_at: Date; finished_at: Date | null; error: string | null;
};

function toRun(r: RunRow): SyncRun {
  const counters = Object.fromEntries(COUNTERS.map((c) => [c, Number(r[COUNTER_COLUMNS[c]])])) as unknown as RunCounters;
  return {
    id: r.id,
    connectionId: r.connection_id,
    workflowId: r.workflow_id,
    runId: r.run_id,
    mode: r.mode,
    status: r.status,
    startedAt: iso(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
    counters,
    error: r.error,
  };
}

/** `col = col + $n` for each counter given, with the values appended to params. */
function increments(counters: Partial<RunCounters>, params: unknown[]): string[] {
  const sets: string[] = [];
  for (const c of COUNTERS) {
    const n = counters[c];
    if (n === undefined || n === 0) continue;
    if (!Number.isInteger(n)) throw new Error(`run counter ${c} must be an integer, got ${n}`);
    params.push(n);
    sets.push(`${COUNTER_COLUMNS[c]} = ${COUNTER_COLUMNS[c]} + $${params.length}`);
  }
  return sets;
}

export function runsRepo(db: Db) {
  async function get(id: string): Promise<SyncRun | null> {
    const [row] = await db.query<RunRow>(`SELECT ${COLUMNS} FROM sync_runs WHERE id = $1`, [id]);
    return row ? toRun(row) : null;
  }

  async function start(input: RunStart): Promise<SyncRun> {
    const [row] = await db.query<RunRow>(
      `INSERT INTO sync_runs (id, connection_id, mode, workflow_id, run_id)
       VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [input.id ?? null, input.connectionId, input.mode, input.workflowId ?? null, input.runId ?? null],
    );
    if (row) return toRun(row);
    return (await get(input.id!))!;
  }

  /** Adds to the counters atomically (concurrent batches of one run may report at once). */
  async function addCounters(id: string, counters: Partial<RunCounters>): Promise<void> {
    const params: unknown[] = [id];
    const sets = increments(counters, params);
    if (sets.length === 0) return;
    const rows = await db.query(`UPDATE sync_runs SET ${sets.join(', ')} WHERE id = $1 RETURNING id`, params);
    if (rows.length === 0) throw new Error(`no sync run with id ${id}`);
  }

  /** Ends a running run, adding any last counters; finishing a finished run changes nothing. */
  async function finish(
    id: string,
    result: { status: Exclude<RunStatus, 'running'>; error?: string | null; counters?: Partial<RunCounters> },
  ): Promise<SyncRun> {
    const params: unknown[] = [id, result.status, result.error ?? null];
    const sets = ['status = $2', 'error = $3', 'finished_at = now()', ...increments(result.counters ?? {}, params)];
    const [row] = await db.query<RunRow>(
      `UPDATE sync_runs SET ${sets.join(', ')} WHERE id = $1 AND status = 'running' RETURNING ${COLUMNS}`, params,
    );
    if (row) return toRun(row);
    // Already finished (a retried call): leave it as it is.
    const finished = await get(id);
    if (!finished) throw new Error(`no sync run with id ${id}`);
    return finished;
  }

  /** Newest first. */
  async function list(filter: { connectionId?: string; status?: RunStatus; limit?: number } = {}): Promise<SyncRun[]> {
    const rows = await db.query<RunRow>(
      `SELECT ${COLUMNS} FROM sync_runs
       WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::text IS NULL OR status = $2)
       ORDER BY started_at DESC, id LIMIT $3`,
      [filter.connectionId ?? null, filter.status ?? null, filter.limit ?? 100],
    );
    return rows.map(toRun);
  }

  return { start, addCounters, finish, get, list };
}

export type RunsRepo = ReturnType<typeof runsRepo>;
