/** Figures every benchmark reads from the CRM sandboxes' call counters and the worker's stats. */

/** HubSpot calls that write records (the ⌈N/100⌉ budget), by the sandbox's counter names. */
export const HUBSPOT_RECORD_WRITE = /^(companies|contacts|deals)\.(create|update|archive|batch\.(create|update|upsert|archive))$/;
/** Every HubSpot call that changes data: record writes and deal→company associations. */
export const HUBSPOT_WRITE = /\.(create|update|upsert|archive)$|^associations\.(put|batch\.associate)$/;
/** Salesforce calls that read records (SOQL query, queryAll and their continuation pages; Bulk API 2.0 query jobs and result pages). */
export const SALESFORCE_READ = /^(query|queryAll|queryMore|bulkQuery\.(create|get|results))$/;
/** Salesforce calls that write records, by the sandbox's counter names. */
export const SALESFORCE_WRITE = /^(composite|sobject)\.(create|update|upsert)$/;

export function sumMatching(counts: Record<string, number>, match: RegExp): number {
  let n = 0;
  for (const [name, v] of Object.entries(counts)) if (match.test(name)) n += v;
  return n;
}

export const mb = (bytes: number) => Math.round(bytes / 1e6);
