import type { Command } from 'commander';
import { objectSpecOf } from '../../../connectors/registry.js';
import { registerAuditCommands } from './audit.js';
import { registerConflictCommands } from './conflicts.js';
import { registerConnectionCommands } from './connections.js';
import { registerCoSellCommands } from './cosell.js';
import { registerDeadLetterCommands } from './deadletters.js';
import { registerDoctorCommand } from './doctor.js';
import { registerDrawdownCommands } from './drawdown.js';
import { registerMappingCommands } from './mappings.js';
import { registerOfferCommands } from './offers.js';
import { registerRuleCommands } from './rules.js';
import { registerSandboxCommands } from './sandbox.js';
import { registerSyncCommands } from './sync.js';
import { registerUpCommand } from './up.js';
import { registerUsageCommands } from './usage.js';

/** Each command group lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  registerUpCommand(program);
  registerDoctorCommand(program);
  registerMappingCommands(program, { schemaFor: objectSpecOf });
  registerRuleCommands(program);
  registerSandboxCommands(program);
  registerConnectionCommands(program);
  registerSyncCommands(program);
  registerDeadLetterCommands(program);
  registerConflictCommands(program);
  registerCoSellCommands(program);
  registerOfferCommands(program);
  registerDrawdownCommands(program);
  registerUsageCommands(program);
  registerAuditCommands(program);
}
