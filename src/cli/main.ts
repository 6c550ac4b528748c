#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { EXIT } from './exit.js';

const program = new Command('ecosync')
  .description('Integration hub for partner ecosystems: CRM, ERP and cloud marketplaces kept in step')
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit through here with code 0.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  console.error(`ecosync: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT.invalidInput);
}
