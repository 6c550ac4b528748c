import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { CheckResult } from '../../sync/protocol.js';
import { systemsLine, type Connection } from '../../store/index.js';
import { formatTable, print, printJson, runWithApi, withApiOptions, type ApiFlags } from '../client.js';
import { EXIT } from '../exit.js';

interface SystemArg { name?: string; system: string; role?: string }

interface AddOptions extends ApiFlags {
  system: SystemArg[];
  source?: string;
  target?: string;
  mode: string;
  entities?: string;
  objects?: string;
  credentials: string;
  schedule: number;
  deletePolicy: string;
  conflictPolicy: string;
  json?: boolean;
}

/** `ecosync connections add|list|check|remove`: the systems a connection keeps in step. */
export function registerConnectionCommands(program: Command): void {
  const connections = program.command('connections').description('connect systems into a hub, list connections, check their credentials');

  withApiOptions(connections
    .command('add')
    .description('connect two or more systems through mapping files and start syncing them on a schedule')
    .argument('<name>', 'a name for the connection (letters, digits, . _ -)')
    .option('--system <[name=]kind[:role]>', 'a system of the hub, once per system: salesforce, hubspot-eu=hubspot, netsuite:target (role both, source = only read, or target = only written)', (value: string, previous: SystemArg[]) => [...previous, parseSystem(value)], [] as SystemArg[])
    .option('--entities <default|file.json>', 'with --system: "default" (the shipped Account, Contact and Opportunity mappings of the systems) or a JSON file of [{ "entity": …, "members": [{ "system": …, "mapping": … }] }]')
    .option('--source <system>', 'two systems: the source system, e.g. salesforce')
    .option('--target <system>', 'two systems: the target system, e.g. hubspot')
    .option('--mode <mode>', 'two systems: bidirectional or one-way', choice(['bidirectional', 'one-way']), 'bidirectional')
    .option('--objects <default|file.json>', 'two systems: "default" (the shipped mappings for the pair) or a JSON file of [{ "sourceMapping": …, "targetMapping": … }]')
    .requiredOption('--credentials <file.json>', 'JSON file with each system\'s settings by its name: { "salesforce": {…}, "hubspot-eu": {…} }')
    .option('--schedule <seconds>', 'seconds between scheduled syncs; 0 = only on demand and by webhook', seconds, 300)
    .option('--delete-policy <policy>', 'propagate deletes to the other system, or ignore them', choice(['propagate', 'ignore']), 'ignore')
    .option('--conflict-policy <policy>', 'last-writer-wins, manual (queue every conflict), or a system name that always wins', 'last-writer-wins')
    .option('--json', 'print the created connection as JSON'))
    .action((name: string, opts: AddOptions) => runWithApi(opts, async (api) => {
      const credentials = await readJsonFile(opts.credentials, '--credentials');
      const jsonOrDefault = async (value: string | undefined, flag: string) => (value === undefined || value === 'default' ? 'default' : readJsonFile(value, flag));
      let shape: Record<string, unknown>;
      if (opts.system.length > 0) {
        if (opts.source || opts.target || opts.objects) throw new InvalidArgumentError('use either --system (any number of systems) or --source and --target (two), not both');
        shape = { systems: opts.system, entities: await jsonOrDefault(opts.entities, '--entities') };
      } else {
        if (!opts.source || !opts.target) throw new InvalidArgumentError('name the systems: --system once per system, or --source and --target');
        shape = { source: opts.source, target: opts.target, mode: opts.mode, objects: await jsonOrDefault(opts.objects, '--objects') };
      }
      const created = await api.post<{ connection: Connection; schedule: string }>('/connections', {
        name,
        ...shape,
        credentials,
        scheduleSeconds: opts.schedule === 0 ? null : opts.schedule,
        deletePolicy: opts.deletePolicy,
        conflictPolicy: opts.conflictPolicy,
      });
      if (opts.json) return printJson(created.connection);
      const c = created.connection;
      print(`connection ${c.name} created: ${systemsLine(c)}, ${c.entities.map((e) => e.entity).join(', ')}; ${schedule(c)}`);
    }));

  withApiOptions(connections
    .command('list')
    .description('list the connections')
    .option('--json', 'print them as JSON'))
    .action((opts: ApiFlags & { json?: boolean }) => runWithApi(opts, async (api) => {
      const { connections: list } = await api.get<{ connections: Connection[] }>('/connections');
      if (opts.json) return printJson(list);
      if (list.length === 0) return print('no connections yet: add one with `ecosync connections add`');
      print(formatTable(
        ['NAME', 'SYSTEMS', 'ENTITIES', 'SCHEDULE', 'DELETES', 'ENABLED'],
        list.map((c) => [c.name, systemsLine(c), c.entities.map((e) => e.entity).join(','), c.scheduleSeconds ? `${c.scheduleSeconds}s` : 'on demand', c.deletePolicy, c.enabled ? 'yes' : 'no']),
      ));
    }));

  withApiOptions(connections
    .command('check')
    .description('log in to every system with the stored credentials; exit 1 when one fails')
    .argument('<name>', 'the connection')
    .option('--json', 'print the result as JSON'))
    .action((name: string, opts: ApiFlags & { json?: boolean }) => runWithApi(opts, async (api) => {
      const result = await api.post<{ ok: boolean; systems: Record<string, CheckResult> }>(`/connections/${encodeURIComponent(name)}/check`);
      if (opts.json) printJson(result);
      else for (const [system, r] of Object.entries(result.systems)) print(`${r.ok ? '✓' : '✗'} ${system}: ${r.message}`);
      return result.ok ? EXIT.ok : EXIT.invalidInput;
    }));

  withApiOptions(connections
    .command('remove')
    .description('delete a connection, its schedule, workflow, runs, dead letters and conflicts (admin)')
    .argument('<name>', 'the connection'))
    .action((name: string, opts: ApiFlags) => runWithApi(opts, async (api) => {
      await api.delete(`/connections/${encodeURIComponent(name)}`);
      print(`connection ${name} removed`);
    }));
}

function schedule(c: Connection): string {
  return c.scheduleSeconds ? `syncs every ${c.scheduleSeconds} s` : 'syncs on demand (ecosync sync run)';
}

/** `[name=]kind[:role]` → a system of the hub. */
function parseSystem(value: string): SystemArg {
  const match = /^(?:([a-z][a-z0-9-]*)=)?([a-z][a-z0-9-]*)(?::(both|source|target))?$/.exec(value);
  if (!match) throw new InvalidArgumentError(`--system ${value}: write [name=]kind[:role], e.g. hubspot-eu=hubspot or netsuite:target`);
  const [, name, system, role] = match;
  return { ...(name ? { name } : {}), system, ...(role ? { role } : {}) };
}

function choice(allowed: string[]) {
  return (value: string) => {
    if (!allowed.includes(value)) throw new InvalidArgumentError(`choose one of ${allowed.join(', ')}`);
    return value;
  };
}

function seconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number of seconds');
  return Number(value);
}

async function readJsonFile(file: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${flag}: cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${flag}: ${file} is not valid JSON: ${(error as Error).message}`);
  }
}
