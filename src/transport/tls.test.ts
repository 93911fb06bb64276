import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, it } from 'node:test';
import { startTestServer, tempDir } from '../../test/helpers/server.ts';
import { createLogger } from '../log.ts';
import { certCovers, loadTls } from './tls.ts';

/** A real logger whose lines are kept, to see what an operator would see at start. */
function capture(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

/** The certificate an HTTPS server presents. */
function peerCert(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const c = s.getPeerX509Certificate();
      s.end();
      if (c) resolve(c);
      else reject(new Error('no certificate'));
    });
    s.on('error', reject);
  });
}

describe('self-signed certificate and the public host', () => {
  it('a new certificate names the public DNS host as well as localhost, this machine and 127.0.0.1', async () => {
    const dir = tempDir();
    const { log, lines } = capture();
    const t = await loadTls(dir, undefined, undefined, { publicHost: 'APS.Example.NET', log });
    assert.equal(t.generated, true);
    const x = new X509Certificate(t.cert);
    assert.match(x.subjectAltName!, /DNS:aps\.example\.net/);
    assert.match(x.subjectAltName!, /DNS:localhost/);
    assert.match(x.subjectAltName!, /IP Address:127\.0\.0\.1/);
    assert.ok(certCovers(x, 'aps.example.net'));
    assert.equal(t.uncoveredHost, undefined);
    assert.equal(lines.filter((l) => l.level === 40).length, 0, 'no warning');
  });

  it('a public IP address (v4 or v6) becomes an IP SAN, not a DNS name', async () => {
    const v4 = new X509Certificate((await loadTls(tempDir(), undefined, undefined, { publicHost: '203.0.113.7' })).cert);
    assert.match(v4.subjectAltName!, /IP Address:203\.0\.113\.7/);
    assert.ok(!/DNS:203/.test(v4.subjectAltName!));
    assert.ok(certCovers(v4, '203.0.113.7'));
    const v6 = new X509Certificate((await loadTls(tempDir(), undefined, undefined, { publicHost: '[2001:db8::7]' })).cert);
    assert.ok(certCovers(v6, '[2001:db8::7]'), v6.subjectAltName);
  });

  it('an existing certificate that does not cover the public host is kept, with a warning at start', async () => {
    const dir = tempDir();
    const first = await loadTls(dir, undefined, undefined, { publicHost: 'old.example.net' });
    const { log, lines } = capture();
    const again = await loadTls(dir, undefined, undefined, { publicHost: 'new.example.net', log });
    assert.equal(again.generated, false);
    assert.equal(again.fingerprint, first.fingerprint, 'not regenerated');
    assert.equal(readFileSync(join(dir, 'tls', 'cert.pem'), 'utf8'), first.cert);
    assert.equal(again.uncoveredHost, 'new.example.net');
    const warn = lines.find((l) => l.level === 40);
    assert.ok(warn, 'a warning line');
    assert.equal(warn.publicHost, 'new.example.net');
    assert.match(String(warn.msg), /does not cover the public host/);
    assert.match(String(warn.subjectAltName), /DNS:old\.example\.net/);
    // Covered (here by its own name, or 127.0.0.1): no warning.
    const quiet = capture();
    await loadTls(dir, undefined, undefined, { publicHost: 'old.example.net', log: quiet.log });
    await loadTls(dir, undefined, undefined, { publicHost: '127.0.0.1', log: quiet.log });
    assert.equal(quiet.lines.length, 0);
  });

  it('a configured certificate is checked the same way', async () => {
    const made = tempDir();
    await loadTls(made, undefined, undefined, { publicHost: 'lab.example.net' });
    const { log, lines } = capture();
    const t = await loadTls(tempDir(), join(made, 'tls', 'cert.pem'), join(made, 'tls', 'key.pem'), {
      publicHost: 'prod.example.net',
      log,
    });
    assert.equal(t.uncoveredHost, 'prod.example.net');
    assert.equal(lines.length, 1);
  });

  it('aps serve with APS_PUBLIC_URL presents a certificate for that host', async () => {
    const s = await startTestServer({ publicUrl: 'http://aps.site.example:8080' });
    try {
      const c = await peerCert(s.httpsPort!);
      assert.ok(certCovers(c, 'aps.site.example'), c.subjectAltName);
      assert.equal(c.fingerprint256, s.tlsFingerprint);
    } finally {
      await s.stop();
    }
  });
});

/** Whether a TLS handshake with these client settings succeeds, and with which cipher. */
function handshake(
  port: number,
  o: { ciphers?: string; minVersion?: 'TLSv1.2'; maxVersion?: 'TLSv1.2' | 'TLSv1.3' },
): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o }, () => {
      const name = s.getCipher().name;
      s.end();
      resolve(name);
    });
    s.on('error', () => resolve(null));
  });
}

describe('TLS protocol settings (issue 13)', () => {
  it('refuses CBC suites on TLS 1.2 by default and accepts ECDHE with AES-GCM and TLS 1.3', async () => {
    const s = await startTestServer();
    try {
      for (const cbc of ['AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-RSA-AES128-SHA256', 'AES256-SHA256'])
        assert.equal(await handshake(s.httpsPort!, { ciphers: cbc, maxVersion: 'TLSv1.2' }), null, cbc);
      assert.equal(await handshake(s.httpsPort!, { maxVersion: 'TLSv1.2' }), 'ECDHE-RSA-AES128-GCM-SHA256');
      assert.match((await handshake(s.httpsPort!, {})) ?? '', /^TLS_AES/);
    } finally {
      await s.stop();
    }
  });

  it('tls.minVersion TLSv1.3 refuses a TLS 1.2 client; tls.ciphers replaces the list', async () => {
    const s = await startTestServer({ tls: { minVersion: 'TLSv1.3' } });
    try {
      assert.equal(await handshake(s.httpsPort!, { maxVersion: 'TLSv1.2' }), null);
      assert.ok(await handshake(s.httpsPort!, {}));
    } finally {
      await s.stop();
    }
    const legacy = await startTestServer({ tls: { minVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' } });
    try {
      assert.equal(await handshake(legacy.httpsPort!, { ciphers: 'ECDHE-RSA-AES128-SHA', maxVersion: 'TLSv1.2' }), 'ECDHE-RSA-AES128-SHA');
    } finally {
      await legacy.stop();
    }
  });
});
