/**
 * What the Temporal UI shows of each workflow ecosync starts, in words: a one-line static summary
 * (the list page) and static details (the detail page, Temporal markdown), given when the
 * workflow starts. The workflows themselves keep their current details up to date as they run.
 */
import type { CoSellSnapshot } from '../cosell/payload.js';
import type { Money, OfferRequest } from '../model/index.js';
import { COSELL_CLOUD_NAMES, type CoSellCloud } from '../model/cosell-status.js';
import { systemsLine, type Connection } from '../store/index.js';

export interface WorkflowText {
  staticSummary: string;
  staticDetails: string;
}

/** The systems ecosync syncs, as their makers write them. */
const PRODUCT_NAMES: Record<string, string> = { salesforce: 'Salesforce', hubspot: 'HubSpot', netsuite: 'NetSuite' };

/** A system of a connection in words: its product, and its name in the connection when that says more. */
function systemWords(system: Connection['systems'][number]): string {
  const product = PRODUCT_NAMES[system.system] ?? system.system;
  return system.name === system.system ? product : `${system.name} (${product})`;
}

/** `392,000 USD` from { amount: "392000.00", currency: "USD" }: grouped, a zero fraction left out, no float in between. */
export function moneyWords(money: Money): string {
  const [whole, fraction] = money.amount.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${grouped}${fraction && !/^0+$/.test(fraction) ? `.${fraction}` : ''} ${money.currency}`;
}

function scheduleWords(connection: Pick<Connection, 'scheduleSeconds'>): string {
  return connection.scheduleSeconds ? `every ${connection.scheduleSeconds} s, on webhooks and on demand` : 'on webhooks and on demand';
}

type SyncConnection = Pick<Connection, 'id' | 'name' | 'systems' | 'entities' | 'scheduleSeconds'>;

/** The connection's long-running sync workflow: `Sync · demo-hub · Salesforce ⇄ HubSpot ⇄ NetSuite`. */
export function syncWorkflowText(connection: SyncConnection): WorkflowText {
  return {
    staticSummary: `Sync · ${connection.name} · ${systemsLine({ systems: connection.systems.map((s) => ({ ...s, name: systemWords(s) })) })}`,
    staticDetails: [
      `Connection **${connection.name}** (\`${connection.id}\`) keeps ${connection.entities.map((e) => e.entity).join(', ')} in step; it runs ${scheduleWords(connection)}.`,
      `Systems: ${connection.systems.map((s) => `${s.name} (${s.system}, ${s.role === 'both' ? 'read and written' : s.role === 'source' ? 'only read' : 'only written'})`).join(', ')}.`,
      'The current details say what the workflow is doing or waiting for; `ecosync sync status` shows the same.',
    ].join('\n'),
  };
}

/** The workflow a connection's Schedule starts to wake its sync workflow. */
export function syncTriggerText(connection: SyncConnection): WorkflowText {
  return {
    staticSummary: `Sync trigger · ${connection.name} · every ${connection.scheduleSeconds} s`,
    staticDetails: `Started by the Schedule of connection **${connection.name}**: asks its sync workflow (\`sync:${connection.id}\`) for a cycle.`,
  };
}

/** An opportunity sent to a cloud: `AWS co-sell · Aperture Logistics 1 – Analytics Add-on · 392,000 USD`. */
export function coSellText(cloud: CoSellCloud, snapshot: CoSellSnapshot, context: { connection: string; requestedBy: string; crm?: { system: string; id: string } }): WorkflowText {
  const { opportunity, account } = snapshot;
  return {
    staticSummary: [`${COSELL_CLOUD_NAMES[cloud]} co-sell`, opportunity.name, ...(opportunity.amount ? [moneyWords(opportunity.amount)] : [])].join(' · '),
    staticDetails: [
      `Opportunity **${opportunity.name}**${account?.name ? ` of ${account.name}` : ''} (ecosync id \`${opportunity.id}\`${context.crm ? `, ${context.crm.system} ${context.crm.id}` : ''}), shared with ${COSELL_CLOUD_NAMES[cloud]}.`,
      `Requested by ${context.requestedBy} through connection ${context.connection}. Decide with \`ecosync cosell approve|reject|request-changes ${cloud}:${opportunity.id}\`.`,
    ].join('\n'),
  };
}

/** An opportunity a cloud shared with us, before it is read: its id and connection. */
export function invitationText(cloud: CoSellCloud, invitationId: string, connection: string): WorkflowText {
  return {
    staticSummary: `${COSELL_CLOUD_NAMES[cloud]} invitation · ${invitationId} · ${connection}`,
    staticDetails: `An opportunity ${COSELL_CLOUD_NAMES[cloud]} shared with us, for connection ${connection}. Accept or reject it with \`ecosync cosell approve|reject ${cloud}:${invitationId}\`; the current details show its customer and status.`,
  };
}

/** The poller of a cloud's invitations for one connection. */
export function inboxText(cloud: CoSellCloud, connection: string, pollSeconds?: number): WorkflowText {
  return {
    staticSummary: `${COSELL_CLOUD_NAMES[cloud]} co-sell inbox · ${connection}`,
    staticDetails: `Polls ${COSELL_CLOUD_NAMES[cloud]}${pollSeconds ? ` every ${pollSeconds} s` : ''} for opportunities shared with connection ${connection}, and starts one invitation workflow for each.`,
  };
}

/**
 * A private offer asked for on an opportunity: `AWS private offer · Aperture Logistics 1 – Analytics
 * Add-on · 392,000 USD` (the opportunity's amount; the offer's own total is in its current details).
 */
export function offerText(request: OfferRequest, opportunity: { name?: string; amount?: Money }, context: { connection: string; crm?: { system: string; id: string } }): WorkflowText {
  const cloud = COSELL_CLOUD_NAMES[request.cloud];
  const name = opportunity.name ?? request.opportunityId;
  return {
    staticSummary: [`${cloud} private offer${request.channel === 'cppo' ? ' through a reseller' : ''}`, name, ...(opportunity.amount ? [moneyWords(opportunity.amount)] : [])].join(' · '),
    staticDetails: [
      `Opportunity **${name}** (ecosync id \`${request.opportunityId}\`${context.crm ? `, ${context.crm.system} ${context.crm.id}` : ''}) offered on ${cloud} Marketplace${request.resale ? ` through reseller ${request.resale.resellerAccountId} at ${request.resale.markupPercent} % markup` : ''}.`,
      `${request.pricingModel} pricing: ${request.dimensions.map((d) => `${d.key} at ${d.price}${d.quantity ? ` × ${d.quantity}` : ''}`).join(', ')}.`,
      `Asked for by ${request.requestedBy} through connection ${context.connection}; the current details say what it waits for.`,
    ].join('\n'),
  };
}

/** `ecosync doctor`'s round trip. */
export const HEALTH_CHECK_TEXT: WorkflowText = {
  staticSummary: 'Health check · worker and store',
  staticDetails: 'Run by `ecosync doctor`: a worker picks it up and asks the store one question.',
};
