import type { Command } from 'commander';
import { registerAwsMarketplaceSandboxCommand } from '../../../connectors/aws-marketplace/sandbox/cli.js';
import { registerPartnerCentralSandboxCommand } from '../../../connectors/aws-partner-central/sandbox/cli.js';
import { registerHubSpotSandboxCommand } from '../../../connectors/hubspot/sandbox/cli.js';
import { registerMicrosoftSandboxCommand } from '../../../connectors/microsoft-partner-center/cli.js';
import { registerMicrosoftMarketplaceSandboxCommand } from '../../../connectors/microsoft-marketplace/sandbox/cli.js';
import { registerNetSuiteSandboxCommand } from '../../../connectors/netsuite/sandbox/cli.js';
import { registerSalesforceSandboxCommand } from '../../../connectors/salesforce/cli.js';

/** `ecosync sandbox <system>`: each external system's local simulator, run standalone. */
export function registerSandboxCommands(program: Command): void {
  const sandbox = program.command('sandbox').description('run a local simulator of an external system (seeded data, fault injection)');
  registerSalesforceSandboxCommand(sandbox);
  registerHubSpotSandboxCommand(sandbox);
  registerPartnerCentralSandboxCommand(sandbox);
  registerAwsMarketplaceSandboxCommand(sandbox);
  registerMicrosoftSandboxCommand(sandbox);
  registerMicrosoftMarketplaceSandboxCommand(sandbox);
  registerNetSuiteSandboxCommand(sandbox);
}
