import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config.ts';
import { trustedProxies } from './trusted-proxies.ts';

describe('trusted proxies (http.trustedProxies)', () => {
  it('defaults to loopback in front-proxy mode and to none otherwise; a configured list replaces the default', () => {
    const front = trustedProxies({ frontProxy: { mode: 'x-accel' } })!;
    assert.deepEqual(
      ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '10.1.2.3', '192.168.1.5', 'fd00::1', 'fe80::1'].map((a) => front.contains(a)),
      [true, true, true, true, false, false, false, false],
      'loopback only: private and link-local addresses are where phones live',
    );
    assert.equal(trustedProxies({}), undefined, 'no proxy without front-proxy mode');
    const set = trustedProxies({ frontProxy: { mode: 'x-accel' }, trustedProxies: ['172.30.80.10', '2001:db8::/64'] })!;
    assert.deepEqual(
      ['172.30.80.10', '172.30.80.11', '2001:db8::5', '127.0.0.1'].map((a) => set.contains(a)),
      [true, false, true, false],
    );
    assert.equal(
      trustedProxies({ trustedProxies: ['10.0.0.7'] })?.contains('10.0.0.7'),
      true,
      'a plain reverse proxy, without front-proxy mode',
    );
  });

  it('is read from aps.yaml or APS_TRUSTED_PROXIES; an entry that is not an address or network fails start-up', () => {
    const env = loadConfig({ env: { APS_TRUSTED_PROXIES: '172.30.80.10, ::1' }, file: undefined });
    assert.deepEqual(env.http.trustedProxies, ['172.30.80.10', '::1']);
    for (const bad of ['nginx', '10.0.0.0/33', '10.0.0.1 10.0.0.2', '']) {
      assert.throws(() => loadConfig({ env: {}, file: undefined, overrides: { http: { trustedProxies: [bad] } } }), /trustedProxies/, bad);
    }
  });
});
