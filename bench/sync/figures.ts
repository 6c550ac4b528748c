/** Small pure helpers that turn what the sync benchmark recorded into its figures; bench/support/figures.ts holds those every benchmark reads. */

/**
 * The share of a rolling-window limit a client used in steady state: calls admitted in the whole
 * windows from the first admitted call on, over what the limit allows in them. A rolling window
 * never admits more than `limit` calls in any `windowMs`, so 1 is the ceiling. Undefined when the
 * calls span less than one window.
 */
export function steadyRateFraction(admittedAt: readonly number[], limit: number, windowMs: number): { fraction: number; windows: number; calls: number } | undefined {
  if (admittedAt.length === 0) return undefined;
  const t0 = admittedAt[0];
  const windows = Math.floor((admittedAt[admittedAt.length - 1] - t0) / windowMs);
  if (windows < 1) return undefined;
  const end = t0 + windows * windowMs;
  const calls = admittedAt.filter((t) => t < end).length;
  return { fraction: calls / (windows * limit), windows, calls };
}

/** CPU time of another process (utime + stime) in ms, from /proc; undefined where there is no /proc. */
export async function processCpuMs(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const { readFile } = await import('node:fs/promises');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

export const rate = (records: number, ms: number) => Math.round(records / (ms / 1000));
