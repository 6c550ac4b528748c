import { InvalidArgumentError, type Command } from 'commander';
import type { Conflict } from '../../store/index.js';
import { cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';
import { connectionNames } from './deadletters.js';

/** `ecosync conflicts list|resolve`: fields both systems changed, waiting for a person to choose. */
export function registerConflictCommands(program: Command): void {
  const conflicts = program.command('conflicts').description('fields both systems changed: list them and choose the winning value');

  withApiOptions(conflicts
    .command('list')
    .description('list conflicts, newest first')
    .option('--connection <name>', 'only this connection\'s')
    .option('--status <status>', 'open, resolved or all', statusOption, 'open')
    .option('--json', 'print them as JSON'))
    .action((opts: ApiFlags & { connection?: string; status: string; json?: boolean }) => runWithApi(opts, async (api) => {
      const [{ conflicts: list }, names] = await Promise.all([
        api.get<{ conflicts: Conflict[] }>('/conflicts', { connection: opts.connection, status: opts.status === 'all' ? undefined : opts.status }),
        connectionNames(api),
      ]);
      if (opts.json) return printJson(list);
      if (list.length === 0) return print(`no ${opts.status === 'all' ? '' : `${opts.status} `}conflicts`);
      print(formatTable(
        ['ID', 'CONNECTION', 'ENTITY', 'RECORD', 'FIELD', 'STATUS', 'VALUES'],
        list.map((c) => [c.id, names.get(c.connectionId) ?? c.connectionId, c.entity, c.canonicalId, c.field, c.status === 'open' ? 'open' : `resolved by ${c.resolvedBy}`,
          cell(Object.entries(c.sides).map(([system, side]) => `${system}=${JSON.stringify(side.value)}`).join(' '), 80)]),
      ));
    }));

  withApiOptions(conflicts
    .command('resolve')
    .description('choose the winning value of a conflict: one system\'s (--use) or your own (--value)')
    .argument('<id>', 'the conflict')
    .option('--use <system>', 'take this system\'s value')
    .option('--value <json>', 'take this value, as JSON (quote strings: \'"Acme"\')', json))
    .action((id: string, opts: ApiFlags & { use?: string; value?: { json: unknown } }, command: Command) => {
      if ((opts.use === undefined) === (opts.value === undefined)) command.error('error: give either --use <system> or --value <json>', { exitCode: EXIT.usage });
      return runWithApi(opts, async (api) => {
        const body = opts.use !== undefined ? { use: opts.use } : { value: opts.value!.json };
        const answer = await api.post<{ conflict: Conflict; applied: boolean; note?: string }>(`/conflicts/${encodeURIComponent(id)}/resolve`, body);
        const c = answer.conflict;
        print(`conflict ${c.id} resolved: ${c.entity}.${c.field} = ${JSON.stringify(c.resolvedValue)}${opts.use ? ` (${opts.use}'s value)` : ''}`);
        print(answer.applied ? 'written to both systems' : `note: ${answer.note ?? 'not written to the systems yet'}`);
      });
    });
}

function statusOption(value: string): string {
  if (!['open', 'resolved', 'all'].includes(value)) throw new InvalidArgumentError('choose one of open, resolved, all');
  return value;
}

/** Wrapped so that a JSON null or false still counts as given. */
function json(value: string): { json: unknown } {
  try {
    return { json: JSON.parse(value) };
  } catch {
    throw new InvalidArgumentError('not valid JSON (quote a string: \'"Acme"\')');
  }
}
