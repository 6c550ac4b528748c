import { fakeCompany, fakePerson, intBetween, pick } from '../../../src/sandbox/index.js';
import type { Catalog } from '../rules.js';

/** The partner's own AWS account in the sandbox (receiver of invitations, owner of opportunities). */
export const SANDBOX_ACCOUNT_ID = '111122223333';
/** AWS's account as the sender of engagement invitations. */
export const AWS_SENDER_ACCOUNT_ID = '000000000000';
export const REGION = 'us-east-1';

const DAY_MS = 86_400_000;

/** The sandbox's fake company industries mapped onto Partner Central's Industry values. */
const INDUSTRY: Record<string, string> = {
  Technology: 'Software and Internet', Healthcare: 'Healthcare', Finance: 'Financial Services', Retail: 'Retail',
  Manufacturing: 'Manufacturing', Energy: 'Energy - Power and Utilities', Education: 'Education', Media: 'Media and Entertainment',
};

const PROJECTS = [
  ['Data lake modernisation', 'The customer runs nightly batch reports on an ageing on-premises warehouse and needs near-real-time analytics.'],
  ['Contact centre migration', 'The customer wants to move its contact centre to the cloud to cut licence costs and add call analytics.'],
  ['SAP on AWS', 'The customer must leave its data centre by year end and wants its SAP estate migrated with minimal downtime.'],
  ['Generative AI assistant', 'The customer wants a support assistant over its knowledge base to reduce ticket volume by a third.'],
  ['Security posture review', 'The customer failed an audit and needs continuous compliance monitoring across forty accounts.'],
] as const;

export interface SeedSolution {
  Catalog: Catalog;
  Id: string;
  Name: string;
  Status: 'Active';
  Category: string;
  CreatedDate: number;
}

export interface SeedInvitation {
  Catalog: Catalog;
  Id: string;
  Arn: string;
  EngagementId: string;
  EngagementTitle: string;
  PayloadType: 'OpportunityInvitation';
  Status: 'PENDING' | 'ACCEPTED' | 'REJECTED' | 'EXPIRED';
  InvitationDate: number;
  ExpirationDate: number;
  SenderAwsAccountId: string;
  SenderCompanyName: string;
  InvitationMessage: string;
  RejectionReason?: string;
  Payload: { OpportunityInvitation: Record<string, unknown> };
}

/** Lower-case letters and digits from the seeded PRNG: ids look like AWS's and repeat per seed. */
export function randomToken(random: () => number, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
}

/** The partner's solutions: S-0000001, S-0000002... */
export function seedSolutions(catalog: Catalog, count: number, now: number): SeedSolution[] {
  const names: [string, string][] = [
    ['Analytics Platform', 'Software Product'],
    ['Managed Security Service', 'Consulting Service'],
    ['Migration Accelerator', 'Consulting Service'],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [name, Category] = names[i % names.length];
    const Name = i < names.length ? name : `${name} ${Math.floor(i / names.length) + 1}`;
    return { Catalog: catalog, Id: `S-${String(i + 1).padStart(7, '0')}`, Name, Status: 'Active', Category, CreatedDate: now - 400 * DAY_MS };
  });
}

/** An invitation from AWS describing a customer and a project; `overrides` lets tests shape one. */
export function makeInvitation(random: () => number, catalog: Catalog, index: number, now: number, overrides: Partial<SeedInvitation> = {}): SeedInvitation {
  const company = fakeCompany(random, index);
  const contact = fakePerson(random, index, 'amazon.com');
  const [title, problem] = pick(random, PROJECTS);
  const id = `engi-${randomToken(random, 13)}`;
  const invitationDate = now - intBetween(random, 1, 10) * DAY_MS;
  const monthly = intBetween(random, 5, 200) * 500;
  return {
    Catalog: catalog,
    Id: id,
    Arn: `arn:aws:partnercentral:${REGION}:aws:catalog/${catalog}/engagement-invitation/${id}`,
    EngagementId: `eng-${randomToken(random, 13)}`,
    EngagementTitle: `${company.name} ${title}`.slice(0, 40),
    PayloadType: 'OpportunityInvitation',
    Status: 'PENDING',
    InvitationDate: invitationDate,
    ExpirationDate: invitationDate + 15 * DAY_MS,
    SenderAwsAccountId: AWS_SENDER_ACCOUNT_ID,
    SenderCompanyName: 'Amazon Web Services',
    InvitationMessage: `AWS invites you to co-sell ${title.toLowerCase()} with ${company.name}.`,
    Payload: {
      OpportunityInvitation: {
        ReceiverResponsibilities: ['Software Partner'],
        SenderContacts: [{ Email: contact.email, FirstName: contact.firstName, LastName: contact.lastName, BusinessTitle: 'Account Manager' }],
        Customer: {
          Industry: INDUSTRY[company.industry] ?? 'Other',
          CompanyName: company.name,
          WebsiteUrl: company.website,
          CountryCode: company.country,
        },
        Project: {
          Title: title,
          BusinessProblem: problem,
          TargetCompletionDate: new Date(now + intBetween(random, 30, 180) * DAY_MS).toISOString().slice(0, 10),
          ExpectedCustomerSpend: [{ Amount: monthly.toFixed(2), CurrencyCode: 'USD', Frequency: 'Monthly', TargetCompany: 'AWS' }],
        },
      },
    },
    ...overrides,
  };
}

/** `count` invitations per catalog; the oldest one has already expired. */
export function seedInvitations(random: () => number, catalog: Catalog, count: number, now: number): SeedInvitation[] {
  return Array.from({ length: count }, (_, i) => {
    const invitation = makeInvitation(random, catalog, i + 1, now);
    if (i === count - 1 && count > 1) {
      invitation.InvitationDate = now - 30 * DAY_MS;
      invitation.ExpirationDate = now - 15 * DAY_MS;
      invitation.Status = 'EXPIRED';
    }
    return invitation;
  });
}
