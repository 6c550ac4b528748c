import { describe, expect, it } from 'vitest';
import { discountPercent, markedUp, totalValue } from './terms.js';

describe('offer terms', () => {
  it('values a contract at price × quantity, a payment schedule at its sum, a usage offer at nothing up front', () => {
    expect(totalValue({ pricingModel: 'contract', dimensions: [{ key: 'users', price: '1200.50', quantity: 10 }, { key: 'support', price: '999.99' }] })).toBe('13004.99');
    expect(totalValue({ pricingModel: 'contract', dimensions: [{ key: 'users', price: '0' }], paymentSchedule: [{ date: '2027-01-01', amount: '50000.10' }, { date: '2028-01-01', amount: '49999.90' }] })).toBe('100000.00');
    expect(totalValue({ pricingModel: 'usage', dimensions: [{ key: 'api_calls', price: '0.002' }] })).toBe('0.00');
  });

  it('measures the discount off list price weighted by units, and knows none without every list price', () => {
    expect(discountPercent({ pricingModel: 'contract', dimensions: [{ key: 'users', price: '80', listPrice: '100', quantity: 3 }, { key: 'admin', price: '100', listPrice: '100' }] })).toBe('15.00');
    expect(discountPercent({ pricingModel: 'contract', dimensions: [{ key: 'users', price: '0.1', listPrice: '0.3' }] })).toBe('66.67');
    expect(discountPercent({ pricingModel: 'contract', dimensions: [{ key: 'users', price: '120', listPrice: '100' }] })).toBe('0.00');
    expect(discountPercent({ pricingModel: 'contract', dimensions: [{ key: 'users', price: '80', listPrice: '100' }, { key: 'x', price: '1' }] })).toBeUndefined();
  });

  it('marks a wholesale price up to the cent', () => {
    expect(markedUp('1000', '5.0')).toBe('1050.00');
    expect(markedUp('333.33', '7.5')).toBe('358.33');
  });
});
