/** The processes the benchmark started that the watchdog ends, each by a kill of its own. */
const running = new Set<() => void>();

/** Registers a started process for the watchdog to end; call the returned function once it has stopped. */
export function endOnTimeout(kill: () => void): () => void {
  running.add(kill);
  return () => running.delete(kill);
}

/**
 * A benchmark stops by itself: past `afterMs` it says `why`, ends the processes it started
 * (endOnTimeout) and exits with 2, giving them 3 s to go. Clear the timer when the benchmark is done.
 */
export function startWatchdog(afterMs: number, why: string): NodeJS.Timeout {
  const timer = setTimeout(() => {
    console.error(why);
    if (running.size === 0) process.exit(2);
    for (const kill of running) kill();
    setTimeout(() => process.exit(2), 3_000);
  }, afterMs);
  timer.unref();
  return timer;
}
