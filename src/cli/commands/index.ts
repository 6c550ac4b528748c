import type { Command } from 'commander';
import { registerDoctorCommand } from './doctor.js';
import { registerUpCommand } from './up.js';

/** Each command group lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  registerUpCommand(program);
  registerDoctorCommand(program);
}
