import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors.ts';
import { isIpAllowed, parseIpAllowList } from '../../lib/domain/ip-allow-list.ts';

describe('isIpAllowed', () => {
  it.each([
    [[], '8.8.8.8', true],
    [['200.1.2.0/24'], '200.1.2.77', true],
    [['200.1.2.0/24'], '200.1.3.1', false],
    [['10.0.0.1'], '10.0.0.1', true],
    [['10.0.0.1'], '10.0.0.2', false],
    [['10.0.0.1'], '::ffff:10.0.0.1', true],
    [['2001:db8::/32'], '2001:db8:1::5', true],
    [['2001:db8::/32'], '2001:db9::5', false],
    [['200.1.2.0/24'], 'not-an-ip', false],
  ])('with %j checks %s -> %s', (list, ip, expected) => {
    expect(isIpAllowed(list, ip)).toBe(expected);
  });
});

describe('parseIpAllowList', () => {
  it('keeps valid addresses and ranges, trimmed', () => {
    expect(parseIpAllowList([' 1.2.3.4 ', '10.0.0.0/8', '::1', 'fd00::/8'])).toEqual([
      '1.2.3.4',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
    ]);
  });

  it('refuses bad entries naming them', () => {
    expect(() => parseIpAllowList(['1.2.3.4/33', 'abc', '1.2.3.4'])).toThrowError(DomainError);
    expect(() => parseIpAllowList(['1.2.3.4/33'])).toThrowError(/1\.2\.3\.4\/33/);
  });
});
