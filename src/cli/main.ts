#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT } from './exit.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit through here with code 0; anything else is a usage error.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  console.error(`ecosync: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT.invalidInput);
}
