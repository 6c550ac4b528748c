import type { Command } from 'commander';
import { objectSpecOf } from '../../../connectors/registry.js';
import { registerDoctorCommand } from './doctor.js';
import { registerMappingCommands } from './mappings.js';
import { registerSandboxCommands } from './sandbox.js';
import { registerUpCommand } from './up.js';

/** Each command group lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  registerUpCommand(program);
  registerDoctorCommand(program);
  registerMappingCommands(program, { schemaFor: objectSpecOf });
  registerSandboxCommands(program);
}
