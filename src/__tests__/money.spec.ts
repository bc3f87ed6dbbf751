import { readComputeMetadata } from '../metadata';
import { costMicros, parseMicros } from '../money';
import { VERSION } from '../version';

describe('money in micro-units', () => {
  it('parses decimal strings exactly', () => {
    expect(parseMicros('0.50')).toBe(BigInt(500000));
    expect(parseMicros('3.6')).toBe(BigInt(3600000));
    expect(parseMicros('0.013889')).toBe(BigInt(13889));
    expect(parseMicros('12')).toBe(BigInt(12000000));
    expect(parseMicros('-0.25')).toBe(BigInt(-250000));
    expect(parseMicros('0.1234567')).toBe(BigInt(123456));
    expect(parseMicros('90071992547.409930')).toBe(BigInt('90071992547409930'));
    expect(parseMicros('abc')).toBeNull();
    expect(parseMicros('')).toBeNull();
    expect(parseMicros('.')).toBeNull();
  });

  it('computes rate × elapsed in integers, rounding down', () => {
    // 3.60/h is 1 micro-unit per millisecond.
    expect(costMicros(BigInt(3600000), 1000)).toBe(BigInt(1000));
    // 0.50/h for one second: 138.88… micro-units.
    expect(costMicros(BigInt(500000), 1000)).toBe(BigInt(138));
    expect(costMicros(BigInt(500000), 0)).toBe(BigInt(0));
    expect(costMicros(BigInt(500000), -5)).toBe(BigInt(0));
    // A year at 100/h stays exact (beyond 2^53 in intermediate products).
    const year = 365 * 24 * 3600 * 1000;
    expect(costMicros(BigInt(100000000), year)).toBe(BigInt('876000000000'));
  });
});

describe('readComputeMetadata', () => {
  it('accepts {tier, grant}', () => {
    expect(readComputeMetadata({ tier: 'h200', grant: 'nsf-1' })).toEqual({
      kind: 'valid',
      value: { tier: 'h200', grant: 'nsf-1' }
    });
    expect(readComputeMetadata({ tier: 'local' })).toEqual({
      kind: 'valid',
      value: { tier: 'local', grant: null }
    });
    expect(readComputeMetadata(undefined)).toEqual({ kind: 'absent' });
  });

  it('rejects bad values without throwing', () => {
    expect(readComputeMetadata('h200').kind).toBe('invalid');
    expect(readComputeMetadata(['h200']).kind).toBe('invalid');
    expect(readComputeMetadata({ tier: 3 })).toEqual({
      kind: 'invalid',
      reason: '"tier" is not a tier id'
    });
    expect(readComputeMetadata({ tier: 'h200', grant: 7 }).kind).toBe(
      'invalid'
    );
  });
});

describe('VERSION', () => {
  it('matches package.json', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('../../package.json');
    expect(VERSION).toBe(pkg.version);
  });
});
