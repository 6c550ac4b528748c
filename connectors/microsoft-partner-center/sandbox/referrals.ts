import { createHash } from 'node:crypto';
import { fakeCompany, fakePerson, intBetween, pick } from '../../../src/sandbox/index.js';
import { applyJsonPatch } from '../json-patch.js';
import type { Referral, ReferralInput, ReferralStatus, ReferralSubstatus } from '../referral.js';
import { validateReferral, validateReferralUpdate, type FieldError } from '../validate.js';

/**
 * The sandbox's referral store and the simulated Microsoft side. Time comes from the sandbox
 * clock: Microsoft's decision on a Shared referral we created, and the expiry of referrals nobody
 * acted on, fall due at a clock instant and are applied lazily (`tick`) before each request, so
 * tests move time forward instead of waiting.
 */
export type MicrosoftDecision = { accept: true } | { accept: false; reason: string };
export type DecideRule = (referral: Referral) => MicrosoftDecision;

/** Default rule: Microsoft declines small deals and accepts the rest. */
export const CO_SELL_THRESHOLD = 1000;
export const defaultDecide: DecideRule = (r) =>
  r.details.dealValue >= CO_SELL_THRESHOLD
    ? { accept: true }
    : { accept: false, reason: `Deal value below the co-sell threshold of ${CO_SELL_THRESHOLD} ${r.details.currency}` };

/** A referral nobody acts on is closed as Expired after this long. */
const EXPIRY_MS = 90 * 24 * 3600 * 1000;

export class ReferralRejected extends Error {
  constructor(readonly status: 400 | 404 | 412, readonly code: string, message: string, readonly errors: FieldError[] = []) {
    super(message);
  }
}

interface Stored {
  referral: Referral;
  version: number;
  /** Clock instant at which Microsoft decides, for our Shared referrals still New/Pending. */
  decisionDueAt?: number;
}

export interface ReferralStoreOptions {
  random: () => number;
  now: () => number;
  decisionDelayMs: number;
  decide: DecideRule;
}

export class ReferralStore {
  private byId = new Map<string, Stored>();

  constructor(private readonly options: ReferralStoreOptions) {}

  /** Applies Microsoft decisions and expiries that have fallen due. */
  tick(): void {
    const now = this.options.now();
    for (const stored of this.byId.values()) {
      const r = stored.referral;
      if (stored.decisionDueAt !== undefined && stored.decisionDueAt <= now && r.status === 'New') {
        const at = stored.decisionDueAt;
        stored.decisionDueAt = undefined;
        const decision = this.options.decide(structuredClone(r));
        if (decision.accept) this.move(stored, 'Active', 'Accepted', at);
        else this.move(stored, 'Closed', 'Declined', at, decision.reason);
      }
      const expiry = r.expirationDateTime ? Date.parse(r.expirationDateTime) : Infinity;
      if (r.status === 'New' && expiry <= now) {
        stored.decisionDueAt = undefined;
        this.move(stored, 'Closed', 'Expired', expiry, 'Nobody acted on the referral before it expired');
      }
    }
  }

  create(input: unknown): { referral: Referral; etag: string } {
    const errors = validateReferral(input);
    if (errors.length > 0) throw invalid(errors);
    const body = input as ReferralInput;
    const now = this.options.now();
    const shared = body.type === 'Shared';
    const status: ReferralStatus = body.status ?? (shared ? 'New' : 'Active');
    const substatus: ReferralSubstatus = body.substatus ?? (shared ? 'Pending' : 'Accepted');
    const referral: Referral = {
      ...structuredClone(body),
      id: this.guid(),
      engagementId: this.guid(),
      direction: 'Outgoing',
      status,
      substatus,
      createdDateTime: iso(now),
      updatedDateTime: iso(now),
      expirationDateTime: iso(now + EXPIRY_MS),
      ...(status === 'Active' ? { acceptedDateTime: iso(now) } : {}),
    };
    const stored: Stored = { referral, version: 1, decisionDueAt: shared ? now + this.options.decisionDelayMs : undefined };
    this.byId.set(referral.id, stored);
    return this.view(stored);
  }

  get(id: string): { referral: Referral; etag: string } {
    return this.view(this.find(id));
  }

  /** All referrals in list order: oldest change first, ties by id. */
  all(): Referral[] {
    return [...this.byId.values()]
      .map((s) => s.referral)
      .sort((a, b) => a.updatedDateTime.localeCompare(b.updatedDateTime) || a.id.localeCompare(b.id))
      .map((r) => structuredClone(r));
  }

  /** A partner's PATCH: JSON Patch operations, optionally guarded by If-Match. */
  patch(id: string, ops: unknown, ifMatch: string | undefined): { referral: Referral; etag: string } {
    const stored = this.find(id);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etagOf(stored)) {
      throw new ReferralRejected(412, 'PreconditionFailed', 'The referral was changed since it was read: its ETag no longer matches If-Match');
    }
    let after: Referral;
    try {
      after = applyJsonPatch(stored.referral, ops);
    } catch (error) {
      const path = (error as { path?: string }).path ?? '';
      throw invalid([{ field: path.replace(/^\//, '').replace(/\//g, '.'), code: 'InvalidValue', message: (error as Error).message }]);
    }
    return this.commit(stored, after, 'partner');
  }

  /** A change Microsoft's sellers make on their side (tests and the demo drive it). */
  microsoftEdit(id: string, changes: Partial<Referral>): { referral: Referral; etag: string } {
    const stored = this.find(id);
    const after = { ...structuredClone(stored.referral), ...structuredClone(changes) } as Referral;
    if (after.status !== 'New') stored.decisionDueAt = undefined;
    return this.commit(stored, after, 'microsoft');
  }

  /** Microsoft shares a referral with us: it arrives as New/Received. */
  shareWithPartner(overrides: Partial<ReferralInput> = {}): { referral: Referral; etag: string } {
    const random = this.options.random;
    const now = this.options.now();
    const company = fakeCompany(random, this.byId.size + 1);
    const person = fakePerson(random, this.byId.size + 1, company.domain);
    const referral: Referral = {
      name: `${company.name} - ${pick(random, ['Azure migration', 'Data platform', 'Security modernization', 'AI assistant rollout'])}`,
      type: 'Shared',
      qualification: 'SalesQualified',
      customerProfile: {
        name: company.name,
        address: { addressLine1: company.street, city: company.city, state: company.state, postalCode: company.postalCode, country: company.country },
        team: [{ firstName: person.firstName, lastName: person.lastName, email: person.email, phoneNumber: person.phone }],
      },
      consent: { consentToShareReferralWithMicrosoftSellers: true, consentToContact: true },
      details: {
        dealValue: intBetween(random, 5, 500) * 1000,
        currency: 'USD',
        closingDateTime: iso(now + intBetween(random, 30, 180) * 24 * 3600 * 1000),
        notes: `Microsoft seller notes for ${company.name}`,
        requirements: { solutions: [{ id: `SOL-${intBetween(random, 10000, 99999)}-ECO`, name: 'ecosync' }] },
      },
      ...structuredClone(overrides),
      id: this.guid(),
      engagementId: this.guid(),
      direction: 'Incoming',
      status: 'New',
      substatus: 'Received',
      createdDateTime: iso(now),
      updatedDateTime: iso(now),
      expirationDateTime: iso(now + EXPIRY_MS),
    };
    const stored: Stored = { referral, version: 1 };
    this.byId.set(referral.id, stored);
    return this.view(stored);
  }

  private commit(stored: Stored, after: Referral, actor: 'partner' | 'microsoft'): { referral: Referral; etag: string } {
    const errors = validateReferralUpdate(stored.referral, after, actor);
    if (errors.length > 0) {
      const transition = errors.find((e) => e.code === 'InvalidStateTransition');
      if (transition) throw new ReferralRejected(400, 'InvalidStateTransition', transition.message, errors);
      throw invalid(errors);
    }
    const now = this.options.now();
    const before = stored.referral;
    if (before.status !== 'Active' && after.status === 'Active') after.acceptedDateTime = iso(now);
    after.updatedDateTime = iso(Math.max(now, Date.parse(before.updatedDateTime) + 1));
    stored.referral = after;
    stored.version++;
    return this.view(stored);
  }

  private move(stored: Stored, status: ReferralStatus, substatus: ReferralSubstatus, at: number, reason?: string): void {
    const r = stored.referral;
    r.status = status;
    r.substatus = substatus;
    if (reason !== undefined) r.statusReason = reason;
    if (status === 'Active') r.acceptedDateTime = iso(at);
    r.updatedDateTime = iso(Math.max(at, Date.parse(r.updatedDateTime) + 1));
    stored.version++;
  }

  private find(id: string): Stored {
    const stored = this.byId.get(id);
    if (!stored) throw new ReferralRejected(404, 'NotFound', `Referral ${id} was not found`);
    return stored;
  }

  private view(stored: Stored): { referral: Referral; etag: string } {
    return { referral: structuredClone(stored.referral), etag: etagOf(stored) };
  }

  /** GUIDs from the seeded PRNG, so a seed gives the same ids on every machine. */
  private guid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.options.random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

function etagOf(stored: Stored): string {
  return `"${createHash('sha256').update(`${stored.referral.id}:${stored.version}`).digest('base64url').slice(0, 16)}"`;
}

function invalid(errors: FieldError[]): ReferralRejected {
  return new ReferralRejected(400, 'InvalidInput', `The referral is invalid: ${errors.map((e) => e.field || 'body').join(', ')}`, errors);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
