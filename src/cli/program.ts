import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

/** The `ecosync` command tree, built without parsing so tests can inspect and run it. */
export function buildProgram(): Command {
  const program = new Command('ecosync')
    .description('Integration hub for partner ecosystems: CRM, ERP and cloud marketplaces kept in step')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}
