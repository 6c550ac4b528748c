import { InvalidArgumentError, type Command } from 'commander';
import type { Connection, DeadLetter } from '../../store/index.js';
import type { ReplayResult } from '../../../workflows/sync-types.js';
import { cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';

/** `ecosync deadletters list|replay|discard`: records a sync could not move, and what to do with them. */
export function registerDeadLetterCommands(program: Command): void {
  const deadletters = program.command('deadletters').description('records a sync could not move: list them, replay them after a fix, or discard them');

  withApiOptions(deadletters
    .command('list')
    .description('list dead letters, newest failure first')
    .option('--connection <name>', 'only this connection\'s')
    .option('--status <status>', 'open, replayed, discarded or all', statusOption, 'open')
    .option('--json', 'print them as JSON (payloads included)'))
    .action((opts: ApiFlags & { connection?: string; status: string; json?: boolean }) => runWithApi(opts, async (api) => {
      const [{ deadLetters: letters }, names] = await Promise.all([
        api.get<{ deadLetters: DeadLetter[] }>('/deadletters', { connection: opts.connection, status: opts.status === 'all' ? undefined : opts.status }),
        connectionNames(api),
      ]);
      if (opts.json) return printJson(letters);
      if (letters.length === 0) return print(`no ${opts.status === 'all' ? '' : `${opts.status} `}dead letters`);
      print(formatTable(
        ['ID', 'CONNECTION', 'SYSTEM', 'OBJECT', 'RECORD', 'STATUS', 'ATTEMPTS', 'LAST FAILED', 'REASON'],
        letters.map((l) => [l.id, names.get(l.connectionId) ?? l.connectionId, l.system, l.object, l.externalId ?? l.canonicalId ?? '-', l.status, String(l.attempts), l.lastFailedAt, cell(`${l.errorCode ? `${l.errorCode}: ` : ''}${l.reason}`, 80)]),
      ));
    }));

  withApiOptions(deadletters
    .command('replay')
    .description('run open dead letters again after a fix (all of the connection\'s, or --id ones); exit 1 if some still fail')
    .argument('<connection>', 'the connection')
    .option('--id <id>', 'a dead letter to replay (repeat for more)', (id: string, ids: string[] = []) => [...ids, id]))
    .action((connection: string, opts: ApiFlags & { id?: string[] }) => runWithApi(opts, async (api) => {
      const result = await api.post<ReplayResult>(`/connections/${encodeURIComponent(connection)}/deadletters/replay`, opts.id ? { ids: opts.id } : {});
      print(`replayed ${result.replayed}, still failing ${result.stillFailing}, gone from the source (discarded) ${result.gone}`);
      if (result.stillFailing > 0) print(`see why with: ecosync deadletters list --connection ${connection}`);
      return result.stillFailing > 0 ? EXIT.invalidInput : EXIT.ok;
    }));

  withApiOptions(deadletters
    .command('discard')
    .description('give up on an open dead letter')
    .argument('<id>', 'the dead letter'))
    .action((id: string, opts: ApiFlags) => runWithApi(opts, async (api) => {
      await api.post(`/deadletters/${encodeURIComponent(id)}/discard`);
      print(`dead letter ${id} discarded`);
    }));
}

function statusOption(value: string): string {
  if (!['open', 'replayed', 'discarded', 'all'].includes(value)) throw new InvalidArgumentError('choose one of open, replayed, discarded, all');
  return value;
}

/** Connection id → name, for tables. */
export async function connectionNames(api: { get<T>(path: string): Promise<T> }): Promise<Map<string, string>> {
  const { connections } = await api.get<{ connections: Connection[] }>('/connections');
  return new Map(connections.map((c) => [c.id, c.name]));
}
