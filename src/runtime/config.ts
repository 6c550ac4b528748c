import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { DEFAULT_APPROVAL_POLICY, type ApprovalPolicy } from '../cosell/approval.js';
import { ApprovalPolicySchema } from '../cosell/policy-config.js';
import { offsetAtPath } from '../mapping/diagnostics.js';
import { CoSellInvolvement, CoSellVisibility, Email } from '../model/index.js';

/** The connection `ecosync up` creates between its Salesforce and HubSpot sandboxes. */
export const DEMO_CONNECTION_NAME = 'demo-hub';

/** The people of the embedded demo's approval policy (and the requester of CRM-marked co-sells). */
export const DEMO_COSELL_USERS = {
  allianceManager: 'alex@example.com',
  dealDesk: 'dana@example.com',
  allianceLead: 'lee@example.com',
} as const;

/** Deal desk always, the alliance lead from 100,000 USD: the shipped stages with the demo's people. */
export const DEMO_APPROVAL_POLICY: ApprovalPolicy = {
  ...DEFAULT_APPROVAL_POLICY,
  users: {
    [DEMO_COSELL_USERS.dealDesk]: ['deal_desk'],
    [DEMO_COSELL_USERS.allianceLead]: ['alliance_lead'],
    [DEMO_COSELL_USERS.allianceManager]: ['alliance_manager'],
  },
};

/** https:// anywhere; plain http:// only to this machine (a local relay, tests). */
function isWebhookUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

/** What a co-sell to one cloud carries unless the alliance manager says otherwise. */
const CloudDefaults = (solutionIds: string[]) => z.object({
  /** Partner solutions co-sold: AWS solution ids (S-0000001…), Microsoft solution ids. */
  solutionIds: z.array(z.string().min(1)).default(solutionIds),
  involvementType: CoSellInvolvement.default('co_sell'),
  visibility: CoSellVisibility.default('full'),
}).strict().default({ solutionIds, involvementType: 'co_sell', visibility: 'full' });

const CoSellSettings = z.object({
  /** Internal approval stages and who holds which role (see README, Co-sell). */
  policy: ApprovalPolicySchema.default(() => ApprovalPolicySchema.parse(DEMO_APPROVAL_POLICY)),
  /** Recorded as the requester of co-sells an alliance manager marks in the CRM. */
  requester: Email.default(DEMO_COSELL_USERS.allianceManager),
  /** The connection whose credentials reach the CRM and the clouds. */
  connection: z.string().min(1).default(DEMO_CONNECTION_NAME),
  // The demo sandboxes' solutions: production sets its own published solution ids.
  aws: CloudDefaults(['S-0000001']),
  azure: CloudDefaults(['SOL-12345-ECO']),
  /** First wait between polls of the cloud's review (doubling up to an hour). */
  pollSeconds: z.number().int().min(1).default(60),
  /** Seconds between polls of each cloud for opportunities shared with us (engagement invitations, incoming referrals). */
  inboxSeconds: z.number().int().min(5).default(300),
  /** Where approval reminders and escalations go; without a webhook they are only logged. */
  notify: z.object({
    webhookUrl: z.string().refine(isWebhookUrl, 'an https:// URL (http:// only to localhost)').optional(),
    /** `json`: { to, subject, text, sentAt }; `slack`: a Slack incoming webhook's { text }. */
    format: z.enum(['json', 'slack']).default('json'),
    /** Signs each body (X-Ecosync-Signature: sha256=<HMAC-SHA256 hex>) so the receiver can check its origin. */
    secret: z.string().min(1).optional(),
  }).strict().default({ format: 'json' }),
}).strict();
/**
 * Private offers: their own approval policy (by value and by discount off list price), the
 * connection they go through, and the offer workflow's timings.
 */
const OfferSettings = z.object({
  /**
   * Approval stages for private offers. When absent, the co-sell policy's, each stage it puts
   * behind an amount also reached from OFFER_DISCOUNT_PERCENT off list price.
   */
  policy: ApprovalPolicySchema.optional(),
  /** The connection whose credentials reach the CRM, the marketplaces and the ERP; the co-sell connection when absent. */
  connection: z.string().min(1).optional(),
  /** First wait between reads of a change set or Microsoft job, doubled after each read up to maxPollSeconds. */
  pollSeconds: z.number().int().min(1).default(30),
  maxPollSeconds: z.number().int().min(1).default(600),
  /** How often a live offer is checked for an acceptance no event announced. */
  acceptancePollSeconds: z.number().int().min(10).default(3600),
  /** Days before expiry on which the alliance manager is reminded of an offer not yet accepted. */
  reminderDays: z.array(z.number().int().min(1)).default([7, 1]),
}).strict().superRefine((offers, ctx) => {
  if (offers.maxPollSeconds < offers.pollSeconds) ctx.addIssue({ code: 'custom', path: ['maxPollSeconds'], message: `at least pollSeconds (${offers.pollSeconds})` });
});

/** Offers this far below list price reach the stages the co-sell policy keeps for large amounts. */
export const OFFER_DISCOUNT_PERCENT = '20';

/** The offer settings as the service uses them: a policy and a connection always. */
export interface OfferSettings {
  policy: ApprovalPolicy;
  connection: string;
  timings: { pollIntervalMs: number; maxPollIntervalMs: number; acceptancePollMs: number; reminderDays: number[] };
}

/** The co-sell policy, each stage it keeps for large amounts also reached by a deep discount. */
export function offerPolicyFrom(policy: ApprovalPolicy, discountPercent = OFFER_DISCOUNT_PERCENT): ApprovalPolicy {
  return {
    ...policy,
    stages: policy.stages.map((stage) => (stage.minAmount !== undefined && stage.minDiscountPercent === undefined ? { ...stage, minDiscountPercent: discountPercent } : stage)),
  };
}

/** What the offers section and the co-sell section say together. */
export function offerSettingsOf(config: { offers: Config['offers']; cosell: Pick<CoSellSettings, 'policy' | 'connection'> }): OfferSettings {
  const offers = config.offers;
  return {
    policy: offers.policy ?? offerPolicyFrom(config.cosell.policy),
    connection: offers.connection ?? config.cosell.connection,
    timings: {
      pollIntervalMs: offers.pollSeconds * 1000,
      maxPollIntervalMs: offers.maxPollSeconds * 1000,
      acceptancePollMs: offers.acceptancePollSeconds * 1000,
      reminderDays: offers.reminderDays,
    },
  };
}

/** The settings as the service uses them: the policy as the workflow's type; no notify section: reminders are logged. */
export type CoSellSettings = Omit<z.infer<typeof CoSellSettings>, 'policy' | 'notify'> & { policy: ApprovalPolicy; notify?: NotifySettings };
export type NotifySettings = z.infer<typeof CoSellSettings>['notify'];

/**
 * Configuration: an optional YAML file (ecosync.yaml, or ECOSYNC_CONFIG) overlaid by environment
 * variables, validated by zod. Errors name the file, line and column of the offending value.
 */
export const Config = z.object({
  /** Where the embedded stack keeps its state: PGlite database, Temporal SQLite file, secret key. */
  dataDir: z.string().min(1).default('.ecosync'),
  database: z.object({
    /** postgres://… for production; absent means embedded PGlite in <dataDir>/pglite. */
    url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
    /** PostgreSQL schema to use (tenants or tests sharing one database). */
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier').optional(),
  }).strict().default({}),
  temporal: z.object({
    /** host:port of an existing cluster; absent means the embedded dev server. */
    address: z.string().regex(/^[^\s:]+:\d+$/, 'host:port').optional(),
    namespace: z.string().min(1).default('default'),
    taskQueue: z.string().min(1).default('ecosync'),
    /** Embedded dev server ports. */
    port: z.number().int().min(1).max(65535).default(7233),
    uiPort: z.number().int().min(1).max(65535).default(8233),
    /** Path of the temporal CLI binary for the embedded server. */
    cli: z.string().optional(),
    /** An API key (Temporal Cloud, or a cluster that takes bearer tokens): sent as the Authorization header, over TLS. */
    apiKey: z.string().min(1).optional(),
    /**
     * TLS to an external cluster, PEM files: a client certificate and its key (mTLS, as Temporal
     * Cloud's certificate namespaces take), the CA of a cluster with a private one, the name its
     * certificate carries. TLS is on when any of them or an API key is given, or `enabled: true`.
     */
    tls: z.object({
      enabled: z.union([z.boolean(), z.stringbool()]).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      caFile: z.string().min(1).optional(),
      serverName: z.string().min(1).optional(),
    }).strict().superRefine((tls, ctx) => {
      if (tls.certFile && !tls.keyFile) ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'a client certificate needs its key (TEMPORAL_TLS_KEY)' });
      if (tls.keyFile && !tls.certFile) ctx.addIssue({ code: 'custom', path: ['certFile'], message: 'a client key needs its certificate (TEMPORAL_TLS_CERT)' });
    }).optional(),
  }).strict().default({ namespace: 'default', taskQueue: 'ecosync', port: 7233, uiPort: 8233 }),
  api: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** The address senders of webhooks use (behind a proxy): HubSpot signs the full URL it called. */
    publicUrl: z.url().optional(),
  }).strict().default({ host: '127.0.0.1', port: 8080 }),
  /**
   * Where a process that runs the worker without the API (`ecosync worker`) serves /metrics and
   * /healthz; with the API in the process, the API's own /metrics has everything.
   */
  metrics: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(9464),
  }).strict().default({ host: '127.0.0.1', port: 9464 }),
  /** `ecosync up` only: seeded Salesforce, HubSpot and NetSuite sandboxes, one demo hub around them, and the co-sell clouds' sandboxes. */
  demo: z.object({
    enabled: z.boolean().default(true),
    salesforcePort: z.number().int().min(0).max(65535).default(8701),
    hubspotPort: z.number().int().min(0).max(65535).default(8702),
    awsPort: z.number().int().min(0).max(65535).default(8703),
    microsoftPort: z.number().int().min(0).max(65535).default(8704),
    netsuitePort: z.number().int().min(0).max(65535).default(8705),
    /** The AWS Marketplace sandbox (Catalog, Agreement, Metering), its EventBridge events delivered to the hub. */
    awsMarketplacePort: z.number().int().min(0).max(65535).default(8706),
    /** Seeded Salesforce accounts (each with 2 contacts and 1 opportunity). */
    accounts: z.number().int().min(0).default(200),
    /** Seconds between scheduled runs of the demo connection. */
    scheduleSeconds: z.number().int().min(10).default(300),
  }).strict().default({ enabled: true, salesforcePort: 8701, hubspotPort: 8702, awsPort: 8703, microsoftPort: 8704, netsuitePort: 8705, awsMarketplacePort: 8706, accounts: 200, scheduleSeconds: 300 }),
  /** Co-sell with AWS and Microsoft: approval policy, requester, connection and per-cloud defaults. */
  cosell: CoSellSettings.default(() => CoSellSettings.parse({})),
  /** Private offers on AWS Marketplace and the Microsoft marketplace: approval policy, connection, timings. */
  offers: OfferSettings.default(() => OfferSettings.parse({})),
  log: z.object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).strict().default({ level: 'info' }),
}).strict();
export type Config = z.infer<typeof Config>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Environment variables and where they land in the config. */
const ENV_PATHS: Array<[name: string, path: string[], kind: 'string' | 'number']> = [
  ['ECOSYNC_DATA_DIR', ['dataDir'], 'string'],
  ['DATABASE_URL', ['database', 'url'], 'string'],
  ['ECOSYNC_DATABASE_SCHEMA', ['database', 'schema'], 'string'],
  ['TEMPORAL_ADDRESS', ['temporal', 'address'], 'string'],
  ['TEMPORAL_NAMESPACE', ['temporal', 'namespace'], 'string'],
  ['ECOSYNC_TASK_QUEUE', ['temporal', 'taskQueue'], 'string'],
  ['TEMPORAL_PORT', ['temporal', 'port'], 'number'],
  ['TEMPORAL_UI_PORT', ['temporal', 'uiPort'], 'number'],
  ['TEMPORAL_CLI', ['temporal', 'cli'], 'string'],
  ['TEMPORAL_API_KEY', ['temporal', 'apiKey'], 'string'],
  ['TEMPORAL_TLS', ['temporal', 'tls', 'enabled'], 'string'],
  ['TEMPORAL_TLS_CERT', ['temporal', 'tls', 'certFile'], 'string'],
  ['TEMPORAL_TLS_KEY', ['temporal', 'tls', 'keyFile'], 'string'],
  ['TEMPORAL_TLS_CA', ['temporal', 'tls', 'caFile'], 'string'],
  ['TEMPORAL_TLS_SERVER_NAME', ['temporal', 'tls', 'serverName'], 'string'],
  ['ECOSYNC_API_HOST', ['api', 'host'], 'string'],
  ['ECOSYNC_API_PORT', ['api', 'port'], 'number'],
  ['ECOSYNC_PUBLIC_URL', ['api', 'publicUrl'], 'string'],
  ['ECOSYNC_METRICS_HOST', ['metrics', 'host'], 'string'],
  ['ECOSYNC_METRICS_PORT', ['metrics', 'port'], 'number'],
  ['LOG_LEVEL', ['log', 'level'], 'string'],
  ['ECOSYNC_DEMO_SALESFORCE_PORT', ['demo', 'salesforcePort'], 'number'],
  ['ECOSYNC_DEMO_HUBSPOT_PORT', ['demo', 'hubspotPort'], 'number'],
  ['ECOSYNC_DEMO_AWS_PORT', ['demo', 'awsPort'], 'number'],
  ['ECOSYNC_DEMO_MICROSOFT_PORT', ['demo', 'microsoftPort'], 'number'],
  ['ECOSYNC_DEMO_NETSUITE_PORT', ['demo', 'netsuitePort'], 'number'],
  ['ECOSYNC_DEMO_AWS_MARKETPLACE_PORT', ['demo', 'awsMarketplacePort'], 'number'],
  ['ECOSYNC_COSELL_CONNECTION', ['cosell', 'connection'], 'string'],
  ['ECOSYNC_COSELL_REQUESTER', ['cosell', 'requester'], 'string'],
  ['ECOSYNC_COSELL_NOTIFY_URL', ['cosell', 'notify', 'webhookUrl'], 'string'],
  ['ECOSYNC_OFFERS_CONNECTION', ['offers', 'connection'], 'string'],
];

export interface LoadedConfig {
  config: Config;
  /** The file read, if any. */
  file?: string;
}

export function loadConfig(options: { file?: string; env?: Env; cwd?: string } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.ECOSYNC_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : ['ecosync.yaml', 'ecosync.yml'].map((f) => path.join(cwd, f)).find((f) => existsSync(f));
  if (explicit && !existsSync(file!)) throw new ConfigError([`${explicit}: file not found`]);

  let raw: Record<string, unknown> = {};
  let doc: Document | undefined;
  const lines = new LineCounter();
  const problems: string[] = [];
  if (file) {
    doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, prettyErrors: false });
    for (const e of doc.errors) {
      const at = lines.linePos(e.pos[0]);
      problems.push(`${file}:${at.line}:${at.col}: ${e.message.split('\n')[0]}`);
    }
    if (problems.length) throw new ConfigError(problems);
    const value = doc.toJS() ?? {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError([`${file}:1:1: the configuration must be a mapping of keys to values`]);
    raw = value as Record<string, unknown>;
  }

  const fromEnv = new Set<string>();
  for (const [name, keyPath, kind] of ENV_PATHS) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, keyPath, kind === 'number' && /^\d+$/.test(value) ? Number(value) : value);
    fromEnv.add(keyPath.join('.'));
  }
  const envName = (p: string) => ENV_PATHS.find(([, keyPath]) => keyPath.join('.') === p)?.[0];

  const parsed = Config.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // An unknown key is reported at the key itself, one problem per key.
      const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const issuePath of paths) {
        const p = issuePath.map(String).join('.');
        const where = fromEnv.has(p) ? `environment ${envName(p)}` : file && doc ? `${file}:${positionOf(doc, lines, issuePath, issue.code === 'unrecognized_keys')}` : 'configuration';
        const reason = issue.code === 'unrecognized_keys' ? `unknown key (known: ${knownKeys(issue.path).join(', ')})` : issue.message;
        problems.push(`${where}: ${p ? `${p}: ` : ''}${reason}`);
      }
    }
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  return { config, file };
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]] = value;
}

/** The keys the schema knows at a path, for "unknown key" messages. */
function knownKeys(keyPath: PropertyKey[]): string[] {
  let schema: z.ZodType = Config;
  for (const key of keyPath) {
    const inner = (schema as unknown as { unwrap?: () => z.ZodType }).unwrap?.() ?? schema;
    const shape = (inner as unknown as { shape?: Record<string, z.ZodType> }).shape;
    if (!shape?.[String(key)]) return [];
    schema = shape[String(key)];
  }
  const inner = (schema as unknown as { unwrap?: () => z.ZodType }).unwrap?.() ?? schema;
  return Object.keys((inner as unknown as { shape?: Record<string, unknown> }).shape ?? {});
}

/**
 * line:col of the YAML node along `keyPath`: its value, or the key itself when `atKey` (an
 * unknown key) or when the value is missing.
 */
function positionOf(doc: Document, lines: LineCounter, keyPath: PropertyKey[], atKey = false): string {
  const at = lines.linePos(offsetAtPath(doc, keyPath, atKey));
  return `${at.line}:${at.col}`;
}

/** The offer settings with no offers section: the co-sell policy (the demo's by default) with its discount stage, the co-sell connection. */
export function defaultOfferSettings(cosell: Pick<CoSellSettings, 'policy' | 'connection'> = defaultCoSellSettings()): OfferSettings {
  return offerSettingsOf({ offers: OfferSettings.parse({}), cosell });
}

/** The co-sell settings with nothing configured: the demo policy and defaults. */
export function defaultCoSellSettings(): CoSellSettings {
  return CoSellSettings.parse({});
}
