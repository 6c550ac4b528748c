import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { Connection, SyncRun } from '../../store/index.js';
import type { RunSummary, SyncCounters, SyncStatus } from '../../../workflows/sync-types.js';
import { ApiClient, cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';

interface StatusAnswer {
  connection: string;
  workflow: SyncStatus | null;
  runs: SyncRun[];
}

const POLL_MS = 500;

/** `ecosync sync run|status`: run a connection's sync now, and see how its syncs went. */
export function registerSyncCommands(program: Command): void {
  const sync = program.command('sync').description('run a connection\'s sync now, or show sync status');

  withApiOptions(sync
    .command('run')
    .description('ask the connection\'s workflow for a sync cycle; with --wait, follow it and exit 1 if it fails')
    .argument('<name>', 'the connection')
    .option('--full', 'full reconcile: read every record, not just changes since the last cycle')
    .option('--wait', 'wait for the cycle to end and print its summary')
    .option('--json', 'print the summary as JSON (with --wait)'))
    .action((name: string, opts: ApiFlags & { full?: boolean; wait?: boolean; json?: boolean }) => runWithApi(opts, async (api) => {
      const path = `/connections/${encodeURIComponent(name)}`;
      if (!opts.wait) {
        const accepted = await api.post<{ requestId: string }>(`${path}/sync`, { full: opts.full === true });
        if (opts.json) return printJson(accepted);
        return print(`sync of ${name} requested (request ${accepted.requestId}); follow it with: ecosync sync status ${name}`);
      }
      const connection = await api.get<Connection>(path);
      const progress = opts.json ? undefined : followProgress(api, connection);
      let summary: RunSummary;
      try {
        summary = await api.post<RunSummary>(`${path}/sync`, { full: opts.full === true, wait: true });
      } finally {
        await progress?.stop();
      }
      if (opts.json) printJson(summary);
      else print(`sync of ${name} ${summary.status} in ${seconds(summary.startedAt, summary.finishedAt)}: ${describe(summary.counters)}${summary.error ? `\n  error: ${summary.error}` : ''}`);
      return summary.status === 'succeeded' ? EXIT.ok : EXIT.invalidInput;
    }));

  withApiOptions(sync
    .command('status')
    .description('the workflow\'s phase, current step and recent runs of one connection, or of all')
    .argument('[name]', 'the connection (all when absent)')
    .option('--json', 'print the status as JSON'))
    .action((name: string | undefined, opts: ApiFlags & { json?: boolean }) => runWithApi(opts, async (api) => {
      const names = name ? [name] : (await api.get<{ connections: Connection[] }>('/connections')).connections.map((c) => c.name);
      const answers = await Promise.all(names.map((n) => api.get<StatusAnswer>(`/connections/${encodeURIComponent(n)}/status`)));
      if (opts.json) return printJson(name ? answers[0] : answers);
      if (answers.length === 0) return print('no connections yet: add one with `ecosync connections add`');
      if (!name) {
        return print(formatTable(
          ['CONNECTION', 'PHASE', 'CYCLES', 'LAST RUN', 'FINISHED', 'LAST COUNTERS'],
          answers.map((a) => {
            const last = a.runs[0];
            return [a.connection, phaseOf(a), String(a.workflow?.cycles ?? 0), last?.status ?? '-', last?.finishedAt ?? '-', last ? describe(last.counters) : ''];
          }),
        ));
      }
      const a = answers[0];
      print(`${a.connection}: ${phaseOf(a)}${a.workflow ? `, ${a.workflow.cycles} cycles, ${a.workflow.pending} requests waiting` : ''}`);
      const current = a.workflow?.current;
      if (a.workflow?.phase === 'running' && current) print(`  now: ${current.entity} from ${current.source}, page ${current.pages}; ${describe(current.counters)}`);
      if (a.workflow) print(`  totals: ${describe(a.workflow.totals)}`);
      if (a.runs.length === 0) return print('  no runs yet: start one with `ecosync sync run ' + a.connection + '`');
      print('');
      print(formatTable(['RUN', 'MODE', 'STATUS', 'STARTED', 'COUNTERS', 'ERROR'], a.runs.map((r) => [r.id, r.mode, r.status, r.startedAt, describe(r.counters), cell(r.error ?? '')])));
    }));
}

function phaseOf(a: StatusAnswer): string {
  return a.workflow?.phase ?? 'not started';
}

function describe(c: Partial<SyncCounters>): string {
  return `read ${c.read ?? 0}, created ${c.created ?? 0}, updated ${c.updated ?? 0}, unchanged ${c.unchanged ?? 0}, deleted ${c.deleted ?? 0}, failed ${c.failed ?? 0}, conflicts ${c.conflicts ?? 0}`;
}

function seconds(from: string, to: string): string {
  return `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s`;
}

/**
 * Polls the status while a waited-for cycle runs: a progress bar over the connection's steps
 * (each entity read from each system) on a terminal, one line per step otherwise.
 */
function followProgress(api: ApiClient, connection: Connection): { stop(): Promise<void> } {
  const read = new Set(connection.systems.filter((s) => s.role !== 'target').map((s) => s.name));
  const steps = connection.entities.flatMap((e) => e.members.filter((m) => read.has(m.system)).map((m) => `${e.entity} from ${m.system}`));
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new SingleBar({
      format: `${connection.name} [{bar}] {value}/{total} {step} | page {pages} | read {read} created {created} updated {updated} failed {failed}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 24,
    })
    : undefined;
  bar?.start(steps.length, 0, { step: 'waiting', pages: 0, read: 0, created: 0, updated: 0, failed: 0 });
  let lastStep = '';
  let stopped = false;

  const poll = async () => {
    const status = await api.get<StatusAnswer>(`/connections/${encodeURIComponent(connection.name)}/status`).catch(() => undefined);
    const current = status?.workflow?.phase === 'running' ? status.workflow.current : undefined;
    if (!current || stopped) return;
    const step = `${current.entity} from ${current.source}`;
    const payload = { step, pages: current.pages, ...current.counters };
    if (bar) bar.update(steps.indexOf(step) + 1, payload);
    else if (step !== lastStep) print(`  ${step}: page ${current.pages}; ${describe(current.counters)}`);
    lastStep = step;
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      bar?.stop();
    },
  };
}
