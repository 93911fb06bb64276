import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretAccess } from './access.ts';
import { macOfPhoneFile, parseAvayaUserAgent } from './identify.ts';
import { dhcpOption } from './setup.ts';

test('User-Agent: AVAYA/product-release model, parsed where present', () => {
  assert.deepEqual(parseAvayaUserAgent('AVAYA/96x1-IPT-SIP-R7_1_15_0_4 9608'), {
    product: '96x1-IPT-SIP',
    firmware: 'R7_1_15_0_4',
    model: '9608',
  });
  assert.deepEqual(parseAvayaUserAgent('AVAYA/J100-SIP-R4_1_1_0_7 J179'), { product: 'J100-SIP', firmware: 'R4_1_1_0_7', model: 'J179' });
  assert.deepEqual(parseAvayaUserAgent('AVAYA'), { product: null, firmware: null, model: null });
  assert.deepEqual(parseAvayaUserAgent('AVAYA/96x1'), { product: '96x1', firmware: null, model: null });
  assert.equal(parseAvayaUserAgent('curl/8.0'), null);
  assert.equal(parseAvayaUserAgent(undefined), null);
});

test('per-phone file names: 12 hex digits and .txt, read in lower case', () => {
  assert.equal(macOfPhoneFile('c81fea9b650d.txt'), 'c81fea9b650d');
  assert.equal(macOfPhoneFile('C81FEA9B650D.txt'), 'c81fea9b650d');
  for (const n of ['46xxsettings.txt', 'c81fea9b650.txt', 'c81fea9b650d0.txt', 'c8:1f:ea:9b:65:0d.txt', 'c81fea9b650d.bin'])
    assert.equal(macOfPhoneFile(n), null, n);
});

test('secret access: HTTPS (or allowed plain HTTP) and credentials or an allowed network', () => {
  const vars = { avaya_secret_networks: '10.1.0.0/16, 192.168.5.7 fd00::/8' };
  assert.equal(secretAccess(vars, { secure: true, ip: '10.1.2.3', credentialed: false }).allowed, true);
  assert.equal(secretAccess(vars, { secure: true, ip: '::ffff:10.1.2.3', credentialed: false }).allowed, true);
  assert.equal(secretAccess(vars, { secure: true, ip: '192.168.5.7', credentialed: false }).allowed, true);
  assert.equal(secretAccess(vars, { secure: true, ip: 'fd00::1', credentialed: false }).allowed, true);
  assert.equal(secretAccess(vars, { secure: true, ip: '10.2.0.1', credentialed: false }).allowed, false);
  assert.equal(secretAccess(vars, { secure: true, ip: '10.2.0.1', credentialed: true }).allowed, true);
  assert.equal(secretAccess(vars, { secure: false, ip: '10.1.2.3', credentialed: true }).allowed, false);
  assert.equal(
    secretAccess({ ...vars, avaya_secrets_over_http: 'yes' }, { secure: false, ip: '10.1.2.3', credentialed: false }).allowed,
    true,
  );
  // A malformed list refuses, naming the variable.
  assert.throws(
    () => secretAccess({ avaya_secret_networks: '10.0.0.0/33' }, { secure: true, ip: '10.0.0.1', credentialed: false }),
    /avaya_secret_networks: "10\.0\.0\.0\/33"/,
  );
  assert.throws(
    () => secretAccess({ avaya_secret_networks: 'example.com' }, { secure: true, ip: '10.0.0.1', credentialed: false }),
    /avaya_secret_networks/,
  );
});

test('the DHCP option string names the file server, folder and ports', () => {
  assert.equal(
    dhcpOption({ http: 'http://10.0.0.9:8080', https: 'https://10.0.0.9:8443' }),
    'HTTPSRVR=10.0.0.9,HTTPDIR=avaya,HTTPPORT=8080,TLSSRVR=10.0.0.9,TLSPORT=8443',
  );
  assert.equal(dhcpOption({ http: 'http://aps.example.net/prov', https: null }), 'HTTPSRVR=aps.example.net,HTTPDIR=prov/avaya,HTTPPORT=80');
});
