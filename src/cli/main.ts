#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT } from './exit.js';
import { buildProgram } from './program.js';

// A reader that stops early (`ecosync cosell list | head`) closes the pipe: the output was taken, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  throw error;
});

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
