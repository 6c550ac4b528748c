import { CURRENCY_MINOR_DIGITS, type CurrencyCode } from '../model/common.js';
import { COSELL_CLOUD_NAMES } from '../model/cosell-status.js';
import type { InboundCoSellStatus, InboundCustomer, InboundMatch, InboundProject, InboundSender } from '../model/cosell-inbound.js';

/**
 * Inbound co-sell, the pure part: what AWS and Microsoft send us read into ecosync's words, and
 * the match of a shared customer and project against the CRM records ecosync already knows
 * (by domain, then by company name; then an open opportunity with a similar title).
 */

/** An invitation or incoming referral as the workflow sees it, whatever the cloud. */
export interface InboundInvitation {
  invitationId: string;
  status: InboundCoSellStatus;
  cloudStatus: string;
  /** Microsoft's engagement id; AWS's opportunity id once accepted (the invitation does not carry it). */
  cloudOpportunityId?: string;
  sender: InboundSender;
  customer: InboundCustomer;
  project: InboundProject;
  message?: string;
  receivedAt?: string;
  expiresAt?: string;
}

// --- AWS engagement invitations ---------------------------------------------------------------

/** The GetEngagementInvitation fields we read (dates as the SDK gives them, or ISO strings). */
export interface AwsInvitationView {
  Id?: string;
  Status?: string;
  EngagementTitle?: string;
  InvitationDate?: Date | string;
  ExpirationDate?: Date | string;
  SenderAwsAccountId?: string;
  SenderCompanyName?: string;
  InvitationMessage?: string;
  Payload?: {
    OpportunityInvitation?: {
      SenderContacts?: { Email?: string; FirstName?: string; LastName?: string; BusinessTitle?: string; Phone?: string }[];
      Customer?: { Industry?: string; CompanyName?: string; WebsiteUrl?: string; CountryCode?: string };
      Project?: {
        Title?: string;
        BusinessProblem?: string;
        TargetCompletionDate?: string;
        ExpectedCustomerSpend?: { Amount?: string; CurrencyCode?: string; Frequency?: string }[];
      };
    };
  };
}

const AWS_STATUSES: Record<string, InboundCoSellStatus> = {
  PENDING: 'pending_acceptance', ACCEPTED: 'accepted', REJECTED: 'declined', EXPIRED: 'expired',
};

export function awsInvitation(i: AwsInvitationView): InboundInvitation {
  const payload = i.Payload?.OpportunityInvitation;
  const customer = payload?.Customer;
  const project = payload?.Project;
  const spend = project?.ExpectedCustomerSpend?.[0];
  return clean({
    invitationId: i.Id ?? '',
    status: AWS_STATUSES[i.Status ?? ''] ?? 'withdrawn',
    cloudStatus: i.Status ?? 'UNKNOWN',
    sender: {
      ...clean({ company: i.SenderCompanyName, accountId: i.SenderAwsAccountId }),
      contacts: (payload?.SenderContacts ?? []).filter((c) => c.Email).map((c) => clean({
        email: c.Email!, firstName: c.FirstName, lastName: c.LastName, title: c.BusinessTitle, phone: c.Phone,
      })),
    },
    customer: clean({
      company: customer?.CompanyName ?? i.EngagementTitle ?? 'Unknown customer',
      domain: domainOf(customer?.WebsiteUrl),
      website: customer?.WebsiteUrl,
      country: customer?.CountryCode,
      industry: customer?.Industry,
    }),
    project: clean({
      title: project?.Title ?? i.EngagementTitle ?? 'AWS engagement',
      description: project?.BusinessProblem,
      // AWS states the spend per month: the opportunity carries a year of it.
      amount: spend?.Amount && (spend.Frequency ?? 'Monthly') === 'Monthly' ? yearly(spend.Amount, spend.CurrencyCode) : undefined,
      closeDate: isoDate(project?.TargetCompletionDate),
    }),
    message: i.InvitationMessage,
    receivedAt: instant(i.InvitationDate),
    expiresAt: instant(i.ExpirationDate),
  });
}

// --- Microsoft referrals shared with us --------------------------------------------------------

/** The Partner Center referral fields we read. */
export interface MicrosoftReferralView {
  id: string;
  engagementId?: string;
  name: string;
  status: string;
  substatus: string;
  statusReason?: string;
  customerProfile?: { name?: string; address?: { country?: string }; team?: { email?: string }[] };
  details?: { dealValue?: number; currency?: string; closingDateTime?: string; notes?: string };
  team?: { firstName?: string; lastName?: string; email?: string; phoneNumber?: string }[];
  createdDateTime?: string;
  expirationDateTime?: string;
}

export function microsoftReferralStatusInbound(status: string, substatus: string): InboundCoSellStatus {
  if (status === 'New') return 'pending_acceptance';
  if (status === 'Active') return 'accepted';
  if (substatus === 'Declined') return 'declined';
  if (substatus === 'Expired') return 'expired';
  return 'withdrawn';
}

export function microsoftInvitation(r: MicrosoftReferralView): InboundInvitation {
  const profile = r.customerProfile;
  // Partner Center gives no website: the customer contacts' e-mail domain stands in for it.
  const domain = (profile?.team ?? []).map((m) => domainOf(m.email?.split('@')[1])).find(Boolean);
  const currency = r.details?.currency;
  return clean({
    invitationId: r.id,
    status: microsoftReferralStatusInbound(r.status, r.substatus),
    cloudStatus: `${r.status}/${r.substatus}`,
    cloudOpportunityId: r.engagementId,
    sender: {
      company: 'Microsoft',
      contacts: (r.team ?? []).filter((m) => m.email).map((m) => clean({ email: m.email!, firstName: m.firstName, lastName: m.lastName, phone: m.phoneNumber })),
    },
    customer: clean({ company: profile?.name ?? r.name, domain, country: profile?.address?.country }),
    project: clean({
      title: r.name,
      description: r.details?.notes,
      amount: r.details?.dealValue !== undefined && isCurrency(currency) ? { amount: withMinorDigits(String(Math.round(r.details.dealValue)), currency), currency } : undefined,
      closeDate: isoDate(r.details?.closingDateTime),
    }),
    message: r.statusReason,
    receivedAt: r.createdDateTime,
    expiresAt: r.expirationDateTime,
  });
}

// --- matching -----------------------------------------------------------------------------------

/** An account ecosync knows (canonical record data). */
export interface CandidateAccount {
  id: string;
  name?: string;
  domain?: string;
  website?: string;
}

export interface CandidateOpportunity {
  id: string;
  name?: string;
  accountId?: string;
  stage?: string;
}

/** How alike two titles must be for an open opportunity to count as the same deal. */
export const TITLE_SIMILARITY = 0.6;

/**
 * The CRM account and opportunity an invitation is about. The account: one whose domain (or
 * website host) is the customer's, else one whose company name is the same once case,
 * punctuation and legal suffixes are set aside. The opportunity: an open one of that account
 * whose title shares most words with the project's. Candidates are newest first; ties go to the
 * first.
 */
export function matchInbound(
  invitation: { customer: Pick<InboundCustomer, 'company' | 'domain' | 'website'>; project: Pick<InboundProject, 'title'> },
  accounts: readonly CandidateAccount[],
  opportunities: readonly CandidateOpportunity[],
): InboundMatch {
  const domain = invitation.customer.domain ?? domainOf(invitation.customer.website);
  const byDomain = domain ? accounts.find((a) => domainOf(a.domain) === domain || domainOf(a.website) === domain) : undefined;
  const name = normaliseCompanyName(invitation.customer.company);
  const byName = byDomain || name === '' ? undefined : accounts.find((a) => a.name !== undefined && normaliseCompanyName(a.name) === name);
  const account = byDomain ?? byName;
  if (!account) return { reason: 'none', detail: `no account with domain ${domain ?? '(none)'} or name "${invitation.customer.company}"` };
  const how = byDomain ? `account "${account.name ?? account.id}" by domain ${domain}` : `account "${account.name ?? account.id}" by company name`;

  const scored = opportunities
    .filter((o) => o.accountId === account.id && !isClosed(o.stage) && o.name)
    .map((o) => ({ o, score: titleSimilarity(invitation.project.title, o.name!, account.name ?? invitation.customer.company) }))
    .filter((s) => s.score >= TITLE_SIMILARITY);
  const best = scored.reduce<(typeof scored)[number] | undefined>((top, s) => (!top || s.score > top.score ? s : top), undefined);
  return {
    accountId: account.id,
    ...(best ? { opportunityId: best.o.id } : {}),
    reason: byDomain ? 'domain' : 'company_name',
    detail: best ? `${how}; open opportunity "${best.o.name}" by title` : `${how}; no open opportunity with a similar title`,
  };
}

/** Lower-case host without `www.`, from a URL, a host or an e-mail domain; undefined when it is none. */
export function domainOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let host = value.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^[^@/]*@/, '');
  host = host.split(/[/?#]/)[0].replace(/:\d+$/, '').replace(/\.$/, '').replace(/^www\d?\./, '');
  return /^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : undefined;
}

const LEGAL_SUFFIXES = [
  'inc', 'incorporated', 'llc', 'llp', 'lp', 'ltd', 'limited', 'corp', 'corporation', 'co', 'company', 'plc',
  'gmbh', 'ag', 'sa', 'sas', 'sarl', 'srl', 'spa', 'bv', 'nv', 'ab', 'as', 'oy', 'kk', 'pty', 'pte', 'group',
];

/** "Acme, Inc." and "ACME Inc" both read "acme": case, punctuation, "the" and legal suffixes set aside. */
export function normaliseCompanyName(name: string): string {
  const words = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/&/g, ' and ').replace(/\./g, '').replace(/[^a-z0-9]+/g, ' ').trim().split(' ').filter(Boolean);
  if (words[0] === 'the' && words.length > 1) words.shift();
  while (words.length > 1 && LEGAL_SUFFIXES.includes(words[words.length - 1])) words.pop();
  return words.join(' ');
}

/**
 * The spellings a CRM may hold for a company name, to look accounts up by exact (case-blind)
 * name: the store cannot normalise, so the usual suffix forms are asked for together.
 */
export function companyNameVariants(name: string): string[] {
  const core = normaliseCompanyName(name);
  if (core === '') return [];
  const suffixes = ['Inc', 'Inc.', 'LLC', 'Ltd', 'Ltd.', 'Limited', 'Corp', 'Corp.', 'Corporation', 'Co.', 'GmbH', 'AG', 'SA', 'PLC', 'BV', 'NV', 'Pty Ltd'];
  const variants = new Set([name.trim(), core, `the ${core}`]);
  for (const s of suffixes) {
    variants.add(`${core} ${s}`);
    variants.add(`${core}, ${s}`);
  }
  return [...variants].map((v) => v.toLowerCase());
}

const STOP_WORDS = new Set(['a', 'an', 'and', 'the', 'of', 'for', 'to', 'in', 'on', 'with', 'at', 'by', 'from', 'project', 'opportunity', 'deal']);

/**
 * Shared words over the shorter title's words (the customer's name and filler words left out):
 * "Data lake modernisation" and "Acme – data lake modernization" are alike, "Contact centre
 * migration" is not.
 */
export function titleSimilarity(a: string, b: string, company = ''): number {
  const skip = new Set(normaliseCompanyName(company).split(' ').filter(Boolean));
  const words = (t: string) => new Set(t.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(' ')
    .filter((w) => w && !STOP_WORDS.has(w) && !skip.has(w)).map(stem));
  const [x, y] = [words(a), words(b)];
  if (x.size === 0 || y.size === 0) return 0;
  let shared = 0;
  for (const w of x) if (y.has(w)) shared++;
  return shared / Math.min(x.size, y.size);
}

/** British and American spellings and plurals read alike: modernisation/modernization, centre/center. */
function stem(word: string): string {
  return word.replace(/is(e|ation|ing|ed)$/, 'iz$1').replace(/tre$/, 'ter').replace(/(?<=[a-z]{3})s$/, '');
}

function isClosed(stage: string | undefined): boolean {
  return stage === 'closed_won' || stage === 'closed_lost';
}

// --- the CRM records an accepted invitation becomes ---------------------------------------------

/** Canonical Account values for a customer no CRM knew. */
export function inboundAccountValues(customer: InboundCustomer): Record<string, unknown> {
  return clean({
    name: customer.company,
    domain: customer.domain,
    website: customer.website ?? (customer.domain ? `https://${customer.domain}` : undefined),
    billingAddress: customer.country ? { country: customer.country } : undefined,
  });
}

/** Canonical Opportunity values for an accepted invitation that matched no open opportunity. */
export function inboundOpportunityValues(
  cloud: 'aws' | 'azure',
  invitation: Pick<InboundInvitation, 'customer' | 'project'>,
  accountId: string,
  today: string,
): Record<string, unknown> {
  const { customer, project } = invitation;
  const name = normaliseCompanyName(project.title).includes(normaliseCompanyName(customer.company)) ? project.title : `${customer.company}: ${project.title}`;
  return clean({
    name: name.slice(0, 120),
    amount: project.amount,
    stage: 'qualification',
    // A close date is required; a quarter out when the cloud gave none.
    closeDate: project.closeDate ?? addDays(today, 90),
    type: 'new_business',
    accountId,
    leadSource: 'Partner Referral',
    description: project.description,
    nextStep: `${COSELL_CLOUD_NAMES[cloud]} co-sell accepted`,
    partnerInvolvement: [{ role: 'sourced', cloud }],
  });
}

/** The line the CRM opportunity shows of the co-sell it came from. */
export function inboundSummary(cloud: 'aws' | 'azure', cloudOpportunityId: string | undefined, invitationId: string): string {
  return `${COSELL_CLOUD_NAMES[cloud]} co-sell ${cloudOpportunityId ?? invitationId}: accepted`;
}

// --- small helpers -------------------------------------------------------------------------------

function isCurrency(code: string | undefined): code is CurrencyCode {
  return code !== undefined && Object.hasOwn(CURRENCY_MINOR_DIGITS, code);
}

/** A monthly decimal amount times twelve, exactly, with the currency's minor digits. */
export function yearly(monthly: string, currency: string | undefined): { amount: string; currency: CurrencyCode } | undefined {
  if (!isCurrency(currency)) return undefined;
  const match = /^(\d+)(?:\.(\d+))?$/.exec(monthly.trim());
  if (!match) return undefined;
  const digits = CURRENCY_MINOR_DIGITS[currency];
  const scale = (match[2] ?? '').length;
  const value = BigInt(match[1] + (match[2] ?? '')) * 12n;
  // Round half up to the currency's digits.
  const scaled = scale <= digits ? value * 10n ** BigInt(digits - scale) : (value + 5n * 10n ** BigInt(scale - digits - 1)) / 10n ** BigInt(scale - digits);
  return { amount: withMinorDigits(scaled.toString(), currency, true), currency };
}

/** "1500" → "1500.00" (USD); with `scaled`, the text is already in minor units: "150000" → "1500.00". */
function withMinorDigits(text: string, currency: CurrencyCode, scaled = false): string {
  const digits = CURRENCY_MINOR_DIGITS[currency];
  if (digits === 0) return text;
  if (!scaled) return `${text}.${'0'.repeat(digits)}`;
  const padded = text.padStart(digits + 1, '0');
  return `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

function isoDate(value: string | undefined): string | undefined {
  const date = value?.slice(0, 10);
  return date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : undefined;
}

function instant(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function addDays(isoDay: string, days: number): string {
  return new Date(Date.parse(`${isoDay}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function clean<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
