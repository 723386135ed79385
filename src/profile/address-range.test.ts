import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { enclosingRange, formatRange, normaliseAddressText, parseAddress, parseRange, rangeContains } from './address-range.ts';

function contains(range: string, address: string): boolean {
  return rangeContains(parseRange(range)!, parseAddress(address)!);
}

describe('address ranges', () => {
  it('matches addresses inside a CIDR block and not outside it', () => {
    assert.equal(contains('10.0.3.0/24', '10.0.3.77'), true);
    assert.equal(contains('10.0.3.0/24', '10.0.4.1'), false);
    assert.equal(contains('0.0.0.0/0', '203.0.113.9'), true);
    assert.equal(contains('2001:db8::/32', '2001:db8:1::5'), true);
    assert.equal(contains('2001:db8::/32', '2001:db9::5'), false);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    assert.equal(contains('127.0.0.0/8', '::ffff:127.0.0.3'), true);
    assert.equal(normaliseAddressText('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(normaliseAddressText('::ffff:10.0.0.0/104'), '10.0.0.0/8');
  });

  it('never matches across address families', () => {
    assert.equal(contains('0.0.0.0/0', '::1'), false);
    assert.equal(contains('::/0', '10.0.0.1'), false);
  });

  it('writes addresses and blocks in their canonical form', () => {
    assert.equal(normaliseAddressText('10.0.3.77/24'), '10.0.3.0/24');
    assert.equal(normaliseAddressText('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(normaliseAddressText('fe80::1%eth0'), 'fe80::1');
    assert.equal(normaliseAddressText('[::1]'), '::1');
    assert.equal(normaliseAddressText('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
    assert.equal(formatRange(enclosingRange(parseAddress('2001:db8:1:2:3:4:5:6')!, 64)), '2001:db8:1:2::/64');
    assert.equal(formatRange(enclosingRange(parseAddress('192.168.7.9')!, 24)), '192.168.7.0/24');
  });

  it('refuses garbage, truncated and out-of-range input', () => {
    for (const bad of ['', 'localhost', '10.0.0', '10.0.0.256', '10.0.0.1.2', '010.0.0.1', '1.2.3.4/33', '1.2.3.4/-1', '1.2.3.4/24/1',
      ':::', '1::2::3', '12345::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '::1/129', '10.0.0.1/ 8', 'x'.repeat(10_000)]) {
      assert.equal(parseRange(bad), undefined, bad);
    }
  });
});
