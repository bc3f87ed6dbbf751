import {
  exactMoney,
  formatDisplayMicros,
  formatMoney,
  formatRate
} from '../money';

describe('one money format', () => {
  it('shows two decimals from a cent up, with the currency', () => {
    expect(formatMoney('4999.879288', 'USD')).toBe('4999.88 USD');
    expect(formatMoney('0', 'USD')).toBe('0.00 USD');
    expect(formatMoney('0.0000', 'USD')).toBe('0.00 USD');
    expect(formatMoney('12', 'EUR')).toBe('12.00 EUR');
    expect(formatMoney('0.01', 'USD')).toBe('0.01 USD');
    expect(formatMoney('0.015', 'USD')).toBe('0.02 USD');
    expect(formatMoney('-3.004', 'USD')).toBe('-3.00 USD');
  });

  it('keeps two significant digits below a cent', () => {
    expect(formatMoney('0.000141', 'USD')).toBe('0.00014 USD');
    expect(formatMoney('0.0099', 'USD')).toBe('0.0099 USD');
    expect(formatMoney('0.000001', 'USD')).toBe('0.000001 USD');
    expect(formatMoney('0.00005', 'USD')).toBe('0.000050 USD');
    expect(formatMoney('-0.000141', 'USD')).toBe('-0.00014 USD');
    // Rounding up to a whole cent reads as cents.
    expect(formatMoney('0.009999', 'USD')).toBe('0.01 USD');
  });

  it('gives the exact micro-amount for hover and exports', () => {
    expect(exactMoney('0.000141', 'USD')).toBe('0.000141 USD');
    expect(exactMoney('4999.879288', 'USD')).toBe('4999.879288 USD');
    expect(exactMoney('0', 'USD')).toBe('0.00 USD');
  });

  it('formats rates and leaves unparsable amounts as sent', () => {
    expect(formatRate('0.5', 'USD')).toBe('0.50 USD/h');
    expect(formatMoney('n/a', 'USD')).toBe('n/a USD');
    expect(formatDisplayMicros(BigInt(0))).toBe('0.00');
  });
});
