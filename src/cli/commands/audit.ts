import { InvalidArgumentError, type Command } from 'commander';
import { AUDIT_ACTIONS, type AuditEntry } from '../../store/index.js';
import { cell, formatTable, print, printJson, runWithApi, withApiOptions, type ApiFlags } from '../client.js';

interface ListFlags extends ApiFlags {
  actor?: string;
  action?: string;
  subject?: string;
  connection?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

/** `ecosync audit list`: who approved, rejected, resolved, replayed, created or deleted what. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log: who did what through the API (admins and viewers)');

  withApiOptions(audit
    .command('list')
    .description('list audit entries, newest first')
    .option('--actor <name>', 'done by this token name (or by an admin on their behalf)')
    .option('--action <action>', `one of ${AUDIT_ACTIONS.join(', ')}`, actionOption)
    .option('--subject <id>', 'about this connection, conflict, dead letter, co-sell or offer')
    .option('--connection <name>', 'about this connection')
    .option('--since <time>', 'at or after this ISO 8601 time')
    .option('--until <time>', 'before this ISO 8601 time')
    .option('--limit <n>', 'at most this many (1–1000)', '100')
    .option('--json', 'print them as JSON'))
    .action((opts: ListFlags) => runWithApi(opts, async (api) => {
      const { entries } = await api.get<{ entries: AuditEntry[] }>('/audit', {
        actor: opts.actor, action: opts.action, subject: opts.subject, connection: opts.connection, since: opts.since, until: opts.until, limit: opts.limit,
      });
      if (opts.json) return printJson(entries);
      if (entries.length === 0) return print('no audit entries');
      print(formatTable(
        ['AT', 'WHO', 'ROLE', 'ACTION', 'SUBJECT', 'CONNECTION', 'DETAIL'],
        entries.map((e) => [e.at, e.onBehalf ? `${e.actor} for ${e.onBehalf}` : e.actor, e.role, e.action, e.subject, e.connection ?? '-', cell(JSON.stringify(e.detail), 60)]),
      ));
    }));
}

function actionOption(value: string): string {
  if (!(AUDIT_ACTIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`choose one of ${AUDIT_ACTIONS.join(', ')}`);
  return value;
}
