import { seededRandom } from '../../../src/sandbox/index.js';

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Identifiers shaped like AWS Marketplace's, from a seeded generator so a seed gives the same
 * products and offers on every machine: prod-/offer- and 13 characters, resaleauthz- and 13,
 * agmt- and 25, change sets 25, term- and 8.
 */
export class IdGenerator {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  chars(n: number, alphabet = ALPHANUMERIC): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[Math.floor(this.random() * alphabet.length)];
    return out;
  }

  product = () => `prod-${this.chars(13)}`;
  productCode = () => this.chars(25);
  offer = () => `offer-${this.chars(13)}`;
  resaleAuthorization = () => `resaleauthz-${this.chars(13)}`;
  agreement = () => `agmt-${this.chars(25)}`;
  changeSet = () => this.chars(25);
  term = () => `term-${this.chars(8, '0123456789abcdef')}`;
  uuid = () => [8, 4, 4, 4, 12].map((n) => this.chars(n, '0123456789abcdef')).join('-');
}
