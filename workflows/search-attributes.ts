import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes: they make runs findable in the Temporal UI, e.g.
 * `EcosyncConnection = "sf-to-hubspot" AND EcosyncStatus = "failed"`. Registered with the dev
 * server at start (ecosync up, tests) and with `temporal operator search-attribute create` in
 * production (see README).
 */
export const SA = {
  connection: defineSearchAttributeKey('EcosyncConnection', SearchAttributeType.KEYWORD),
  source: defineSearchAttributeKey('EcosyncSource', SearchAttributeType.KEYWORD),
  target: defineSearchAttributeKey('EcosyncTarget', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('EcosyncStatus', SearchAttributeType.KEYWORD),
  recordsFailed: defineSearchAttributeKey('EcosyncRecordsFailed', SearchAttributeType.INT),
  recordsSynced: defineSearchAttributeKey('EcosyncRecordsSynced', SearchAttributeType.INT),
  cloud: defineSearchAttributeKey('EcosyncCloud', SearchAttributeType.KEYWORD),
  approvers: defineSearchAttributeKey('EcosyncApprovers', SearchAttributeType.KEYWORD_LIST),
  /** A private offer's buyers (AWS account ids, Microsoft beneficiaries). */
  buyer: defineSearchAttributeKey('EcosyncBuyer', SearchAttributeType.KEYWORD_LIST),
  /** The cloud's id of the thing a run drives (a private offer's offer id), so cloud events find it. */
  cloudId: defineSearchAttributeKey('EcosyncCloudId', SearchAttributeType.KEYWORD),
  /** The customer (canonical Account id) a commitment's ledger belongs to. */
  customer: defineSearchAttributeKey('EcosyncCustomer', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTES = Object.values(SA);

/** The `--search-attribute Name=Type` arguments of `temporal server start-dev`. */
export function searchAttributeArgs(): string[] {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', KEYWORD_LIST: 'KeywordList', TEXT: 'Text', BOOL: 'Bool', DOUBLE: 'Double', DATETIME: 'Datetime' };
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${cliType[key.type]}`]);
}
