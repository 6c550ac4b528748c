import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { domainOf } from './expr.js';
import { fixDecimal, midnightOf, normalizeDecimal, numberToDecimal, toDecimal, toEpochMs, toIsoDate, UTC_ZONE, zone } from './values.js';

describe('decimals', () => {
  it('writes numbers without exponents', () => {
    expect(numberToDecimal(1e21)).toBe('1000000000000000000000');
    expect(numberToDecimal(1.5e-7)).toBe('0.00000015');
    expect(numberToDecimal(-2.5e22)).toBe('-25000000000000000000000');
    expect(numberToDecimal(-0)).toBe('0');
    expect(numberToDecimal(Infinity)).toBeUndefined();
  });

  it('reads loose numeric strings and refuses the rest', () => {
    expect(toDecimal(' 12 ')).toBe('12');
    expect(toDecimal('.5')).toBe('0.5');
    expect(toDecimal('+3.')).toBe('3');
    expect(toDecimal('1.5E3')).toBe('1500');
    expect(toDecimal('12abc')).toBeUndefined();
    expect(toDecimal('.')).toBeUndefined();
    expect(toDecimal(true)).toBeUndefined();
  });

  it('rounds half away from zero to the given digits', () => {
    expect(fixDecimal('1250.5', 2)).toBe('1250.50');
    expect(fixDecimal('0.125', 2)).toBe('0.13');
    expect(fixDecimal('-0.125', 2)).toBe('-0.13');
    expect(fixDecimal('-0.001', 2)).toBe('0.00');
    expect(fixDecimal('3000.5', 0)).toBe('3001');
    expect(fixDecimal('007', 2)).toBe('7.00');
    expect(normalizeDecimal('007.500')).toBe('7.5');
    expect(normalizeDecimal('-0.000')).toBe('0');
  });

  it('fixDecimal agrees with exact integer arithmetic', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 }), (scaled, given, digits) => {
      // `scaled` / 10^given written out, then rounded to `digits`.
      const neg = scaled < 0n;
      const abs = (neg ? -scaled : scaled).toString().padStart(given + 1, '0');
      const text = (neg ? '-' : '') + (given ? `${abs.slice(0, -given)}.${abs.slice(-given)}` : abs);
      const out = fixDecimal(text, digits);
      const shift = 10n ** BigInt(Math.abs(given - digits));
      const absScaled = neg ? -scaled : scaled;
      const expected = given <= digits ? absScaled * shift : (absScaled + shift / 2n) / shift;
      const [i, f = ''] = out.replace('-', '').split('.');
      expect(f.length).toBe(digits);
      expect(BigInt(i + f)).toBe(expected);
      expect(out.startsWith('-')).toBe(neg && expected !== 0n);
    }));
  });
});

describe('dates and instants', () => {
  const newYork = zone('America/New_York');

  it('reads ISO instants with any offset form, epoch ms and wall-clock times', () => {
    const t = Date.UTC(2024, 4, 1, 12, 34, 56);
    expect(toEpochMs('2024-05-01T12:34:56Z', UTC_ZONE)).toBe(t);
    expect(toEpochMs('2024-05-01T12:34:56.000+0000', UTC_ZONE)).toBe(t);
    expect(toEpochMs('2024-05-01T08:34:56-04:00', UTC_ZONE)).toBe(t);
    expect(toEpochMs('2024-05-01T13:34:56+01', UTC_ZONE)).toBe(t);
    expect(toEpochMs(String(t), UTC_ZONE)).toBe(t);
    expect(toEpochMs('2024-05-01 08:34:56', newYork)).toBe(t);
    expect(toEpochMs('2024-02-30T00:00:00Z', UTC_ZONE)).toBeUndefined();
    expect(toEpochMs('yesterday', UTC_ZONE)).toBeUndefined();
  });

  it('converts across daylight-saving changes', () => {
    expect(midnightOf('2024-03-10', newYork)).toBe(Date.UTC(2024, 2, 10, 5)); // EST
    expect(midnightOf('2024-03-11', newYork)).toBe(Date.UTC(2024, 2, 11, 4)); // EDT
    expect(newYork.localOf(Date.UTC(2024, 10, 3, 6, 30))).toBe('2024-11-03T01:30:00.000');
    expect(toIsoDate('2024-03-01T03:30:00Z', newYork)).toBe('2024-02-29');
    expect(toIsoDate('2024-03-01T03:30:00Z', UTC_ZONE)).toBe('2024-03-01');
  });

  it('wall-clock time round-trips through a zone', () => {
    fc.assert(fc.property(fc.date({ min: new Date('1980-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }), (d) => {
      const tokyo = zone('Asia/Tokyo');
      expect(toEpochMs(tokyo.localOf(d.getTime()), tokyo)).toBe(d.getTime());
      expect(toIsoDate(new Date(midnightOf(tokyo.dateOf(d.getTime()), tokyo)).toISOString(), tokyo)).toBe(tokyo.dateOf(d.getTime()));
    }));
  });
});

describe('domainOf', () => {
  it('takes the lower-case host without www', () => {
    expect(domainOf('https://www.Acme.com/about?x=1')).toBe('acme.com');
    expect(domainOf('acme.co.uk')).toBe('acme.co.uk');
    expect(domainOf('http://shop.acme.com:8080')).toBe('shop.acme.com');
  });
});
