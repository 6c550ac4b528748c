import type { CompiledMapping } from '../mapping/index.js';
import type { Account, CoSellInvolvement, CoSellSubmission, CoSellVisibility, Contact, Opportunity } from '../model/index.js';

/**
 * Canonical opportunity (+ account and contacts) → the cloud's payload: an AWS Partner Central
 * CreateOpportunity body, or a Microsoft Partner Center co-sell referral. What goes where is in
 * mapping files (COSELL_MAPPINGS), which RevOps edits like the CRM mappings; this is the glue that
 * maps a CoSellSubmission with them. The cloud's rules are checked on the result by the
 * connector's own validator, and a rule's field is traced back through the mapping file to the
 * canonical field it came from, so the alliance manager knows what to fix. No I/O: the caller
 * passes the compiled mappings (the runtime's loader, src/runtime/mappings.ts coSellMappingFiles).
 */

/** What the co-sell is about, as the CRM had it when it was asked for. */
export interface CoSellSnapshot {
  opportunity: Opportunity;
  account?: Account;
  /** Customer contacts: Microsoft needs at least one on the referral's customer team. */
  contacts?: Contact[];
}

/** The co-sell choices an alliance manager makes besides the opportunity itself. */
export interface CoSellOptions {
  involvementType: CoSellInvolvement;
  visibility: CoSellVisibility;
  /** Partner solutions being co-sold: AWS solution ids (S-0000001) or Microsoft solution ids. */
  solutionIds: string[];
  /** AWS only; the mapping file's defaults fit a typical SaaS co-sell. */
  primaryNeedsFromAws?: string[];
  customerUseCase?: string;
  deliveryModels?: string[];
  salesActivities?: string[];
}

/** The mapping files of the co-sell payloads, relative to the repository root (or absolute). */
export const COSELL_MAPPINGS = {
  aws: 'mappings/aws-partner-central-opportunity.yaml',
  azure: 'mappings/microsoft-partner-center-referral.yaml',
} as const;

/** The compiled mapping of a co-sell mapping file (a COSELL_MAPPINGS entry, or another file RevOps edits). */
export type CoSellMappingLoader = (file: string) => CompiledMapping;

/** The canonical record the payload mappings read. */
export function coSellSubmission(snapshot: CoSellSnapshot, options: CoSellOptions, partnerOpportunityId?: string): CoSellSubmission {
  return { ...options, partnerOpportunityId, ...snapshot };
}

function payloadOf(mappings: CoSellMappingLoader, file: string, submission: CoSellSubmission): Record<string, unknown> {
  const mapping = mappings(file);
  const result = mapping.reverse(submission as unknown as Record<string, unknown>);
  if (!result.ok) {
    // A record error here is a mapping that cannot write this submission (a value its map lacks).
    throw new Error(`co-sell mapping ${file} cannot map this opportunity: ${result.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  }
  return result.value;
}

/**
 * The CreateOpportunity body (without Catalog and ClientToken). Missing canonical values are left
 * out, not invented: the validator then names the field.
 */
export function awsOpportunityPayload(
  mappings: CoSellMappingLoader, snapshot: CoSellSnapshot, options: CoSellOptions, partnerOpportunityId: string, mappingFile: string = COSELL_MAPPINGS.aws,
): Record<string, unknown> {
  return payloadOf(mappings, mappingFile, coSellSubmission(snapshot, options, partnerOpportunityId));
}

/** The fields of an existing AWS opportunity a CRM edit may change (UpdateOpportunity patch). */
export function awsOpportunityPatch(payload: Record<string, unknown>): Record<string, unknown> {
  const { Origin: _origin, ...patch } = payload;
  return patch;
}

/** The AwsSubmission of StartEngagementFromOpportunityTask. */
export function awsSubmission(options: CoSellOptions): { InvolvementType: string; Visibility: string } {
  return {
    InvolvementType: options.involvementType === 'co_sell' ? 'Co-Sell' : 'For Visibility Only',
    Visibility: options.visibility === 'full' ? 'Full' : 'Limited',
  };
}

/** A Microsoft co-sell referral: Shared (Microsoft's sellers decide) for co-sell, Independent for visibility only. */
export function microsoftReferralPayload(
  mappings: CoSellMappingLoader, snapshot: CoSellSnapshot, options: CoSellOptions, mappingFile: string = COSELL_MAPPINGS.azure,
): Record<string, unknown> {
  return payloadOf(mappings, mappingFile, coSellSubmission(snapshot, options));
}

/** The referral fields a CRM edit may change (Microsoft's status stays Microsoft's). */
export function microsoftReferralPatch(payload: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, consent: _consent, ...patch } = payload;
  return patch;
}

/**
 * The canonical source of a cloud field path, as the mapping files say (array indexes ignored):
 * the field itself, else the nearest enclosing field that is mapped, else what the fields inside
 * it come from (`Project.ExpectedCustomerSpend` → Opportunity.amount).
 */
export function sourceOf(mappings: CoSellMappingLoader, field: string, mappingFiles: readonly string[] = [COSELL_MAPPINGS.aws, COSELL_MAPPINGS.azure]): string | undefined {
  const writes = mappingFiles.flatMap((f) => mappings(f).writes)
    .map((w) => ({ target: w.target.replace(/\[\d+\]/g, '[]'), sources: w.sources }))
    .filter((w) => w.sources.length > 0);
  const bare = field.replace(/\[\d+\]/g, '[]');
  for (let p = bare; p; p = p.replace(/(\.[^.[\]]*|\[\])$/, '')) {
    const exact = writes.filter((w) => w.target === p).flatMap((w) => w.sources);
    if (exact.length > 0) return [...new Set(exact)].map(shown).join(', ');
    if (!/(\.[^.[\]]*|\[\])$/.test(p)) break;
  }
  const inside = [...new Set(writes.filter((w) => w.target.startsWith(`${bare}.`) || w.target.startsWith(`${bare}[]`)).flatMap((w) => w.sources))];
  if (inside.length === 0) return undefined;
  const common = commonPrefix(inside);
  return common ? shown(common) : inside.map(shown).join(', ');
}

/** A CoSellSubmission path as the alliance manager knows it: `opportunity.stage` → Opportunity.stage. */
function shown(path: string): string {
  return path.replace(/^opportunity\b/, 'Opportunity').replace(/^account\b/, 'Account').replace(/\.amount\.amount$/, '.amount');
}

function commonPrefix(paths: string[]): string {
  const split = paths.map((p) => p.split('.'));
  const out: string[] = [];
  for (let i = 0; split.every((s) => i < s.length && s[i] === split[0][i]); i++) out.push(split[0][i]);
  return out.join('.');
}
