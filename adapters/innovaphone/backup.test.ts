import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowList } from './backup.ts';

describe('innovaphone backup_allow_ips', () => {
  it('takes addresses and CIDR ranges of both families', () => {
    const l = allowList(' 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32')!;
    assert.equal(l.check('10.20.30.40', 'ipv4'), true);
    assert.equal(l.check('192.0.2.1', 'ipv4'), true);
    assert.equal(l.check('192.0.2.2', 'ipv4'), false);
    assert.equal(l.check('2001:db8::7', 'ipv6'), true);
  });

  it('is absent when empty, and refuses what is not an address', () => {
    assert.equal(allowList(undefined), undefined);
    assert.equal(allowList('  '), undefined);
    assert.throws(() => allowList('10.0.0.0/8, lab-router'), /backup_allow_ips: "lab-router" is not an IP address or CIDR range/);
    assert.throws(() => allowList('10.0.0.0/x'), /not an IP address or CIDR range/);
  });
});
