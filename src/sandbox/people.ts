import { intBetween, pick } from './random.js';

/** Plausible company and person data for seeded sandboxes; deterministic for a given PRNG. */
const PREFIXES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell', 'Cyberdyne', 'Wonka', 'Aperture', 'Massive', 'Nimbus', 'Polaris', 'Quantum', 'Redwood', 'Summit', 'Vertex'];
const SUFFIXES = ['Labs', 'Systems', 'Analytics', 'Cloud', 'Networks', 'Health', 'Logistics', 'Robotics', 'Energy', 'Foods', 'Capital', 'Media', 'Software', 'Security', 'Bio'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Frances', 'Edsger', 'Radia', 'Tim', 'Katherine', 'Donald', 'Hedy', 'Vint', 'Shafi', 'Leslie', 'Sophie', 'John'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov', 'Thompson', 'Allen', 'Dijkstra', 'Perlman', 'Berners-Lee', 'Johnson', 'Knuth', 'Lamarr', 'Cerf', 'Goldwasser', 'Lamport', 'Wilson', 'McCarthy'];
const TITLES = ['CTO', 'VP Engineering', 'Head of Procurement', 'Director of IT', 'Cloud Architect', 'CFO', 'Data Lead', 'Security Officer'];
const CITIES: ReadonlyArray<[city: string, state: string, country: string, postal: string]> = [
  ['Seattle', 'WA', 'US', '98101'], ['Austin', 'TX', 'US', '73301'], ['New York', 'NY', 'US', '10001'],
  ['London', '', 'GB', 'EC1A 1BB'], ['Berlin', '', 'DE', '10115'], ['Toronto', 'ON', 'CA', 'M5H 2N2'],
  ['Sydney', 'NSW', 'AU', '2000'], ['Paris', '', 'FR', '75001'],
];
export const INDUSTRIES = ['Technology', 'Healthcare', 'Finance', 'Retail', 'Manufacturing', 'Energy', 'Education', 'Media'] as const;

export interface FakeCompany {
  name: string;
  domain: string;
  website: string;
  industry: string;
  phone: string;
  employees: number;
  annualRevenue: number;
  street: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
}

export function fakeCompany(random: () => number, index: number): FakeCompany {
  const name = `${pick(random, PREFIXES)} ${pick(random, SUFFIXES)} ${index}`;
  const domain = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example.com`;
  const [city, state, country, postalCode] = pick(random, CITIES);
  return {
    name,
    domain,
    website: `https://www.${domain}`,
    industry: pick(random, INDUSTRIES),
    phone: `+1 555 ${String(intBetween(random, 100, 999))} ${String(intBetween(random, 1000, 9999))}`,
    employees: intBetween(random, 5, 50_000),
    annualRevenue: intBetween(random, 1, 5000) * 10_000,
    street: `${intBetween(random, 1, 999)} Market Street`,
    city, state, postalCode, country,
  };
}

export interface FakePerson {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  title: string;
}

export function fakePerson(random: () => number, index: number, domain: string): FakePerson {
  const firstName = pick(random, FIRST);
  const lastName = pick(random, LAST);
  return {
    firstName,
    lastName,
    email: `${firstName}.${lastName}.${index}@${domain}`.toLowerCase(),
    phone: `+1 555 ${String(intBetween(random, 100, 999))} ${String(intBetween(random, 1000, 9999))}`,
    title: pick(random, TITLES),
  };
}
