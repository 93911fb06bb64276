import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNetworks } from './networks.ts';

describe('address lists in variables', () => {
  it('takes addresses and CIDR networks of both families, comma or blank separated', () => {
    const l = parseNetworks(' 10.0.0.0/8, 192.0.2.1 2001:db8::/32', 'x')!;
    assert.equal(l.contains('10.20.30.40'), true);
    assert.equal(l.contains('::ffff:10.20.30.40'), true, 'an IPv4 client of a dual-stack socket');
    assert.equal(l.contains('192.0.2.1'), true);
    assert.equal(l.contains('192.0.2.2'), false);
    assert.equal(l.contains('2001:db8::7'), true);
    assert.equal(l.contains(undefined), false);
  });

  it('is absent when empty, and names the variable for what is not a network', () => {
    assert.equal(parseNetworks(undefined, 'x'), undefined);
    assert.equal(parseNetworks('  ', 'x'), undefined);
    assert.throws(() => parseNetworks('10.0.0.0/8, lab-router', 'allow_ips'), /variable allow_ips: "lab-router" is not an IP address/);
    assert.throws(() => parseNetworks('10.0.0.0/33', 'allow_ips'), /"10\.0\.0\.0\/33"/);
    assert.throws(() => parseNetworks('10.0.0.0/x', 'allow_ips'), /"10\.0\.0\.0\/x"/);
  });
});
