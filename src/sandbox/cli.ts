import { InvalidArgumentError } from 'commander';
import { parseFaultPlan, type FaultPlan } from './faults.js';

/**
 * What every `ecosync sandbox <system>` command shares: option parsers that commander reports
 * with the flag name, and running a started sandbox in the foreground until Ctrl-C.
 */

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** For rates and delays, where a fraction (0.5 writes a second) means something. */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

export function faultPlanOption(value: string): FaultPlan {
  try {
    return parseFaultPlan(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * Prints the banner, serves until Ctrl-C (SIGINT) or SIGTERM, closes the sandbox and prints the
 * farewell, if any. Both signal listeners go once either fires, so none outlives the sandbox.
 */
export async function serveUntilStopped<S extends { close(): Promise<void> }>(
  sandbox: S,
  banner: readonly string[],
  farewell?: (sandbox: S) => string,
): Promise<void> {
  for (const line of banner) console.log(line);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sandbox.close();
  if (farewell) console.log(farewell(sandbox));
}
