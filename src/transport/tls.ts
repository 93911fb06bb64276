import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import type { ApsConfig } from '../config.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import type { Logger } from '../log.ts';

/**
 * The default cipher list: TLS 1.3's suites, then TLS 1.2 with forward secrecy and AEAD only (Mozilla's
 * "intermediate" list). No CBC suite (the SHA-1 ones Node's default admits through HIGH, nor SHA-256/384):
 * CBC with MAC-then-encrypt is where Lucky13-style padding oracles live.
 */
export const DEFAULT_TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
].join(':');

/** The protocol settings of the HTTPS listener (`tls.minVersion`, `tls.ciphers`). */
export function tlsServerOptions(
  config: Pick<ApsConfig, 'tls'>,
): Pick<SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'> {
  return { minVersion: config.tls.minVersion, ciphers: config.tls.ciphers ?? DEFAULT_TLS_CIPHERS, honorCipherOrder: true };
}

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, printed at start so an operator can pin or verify it on devices. */
  fingerprint: string;
  generated: boolean;
  /** The public host, when the certificate does not cover it (a warning was logged). */
  uncoveredHost?: string;
}

export interface TlsOptions {
  /** The host devices are told to use (APS_PUBLIC_URL's, else the LAN address): a SAN of a new certificate. */
  publicHost?: string;
  log?: Pick<Logger, 'warn'>;
}

/** "[::1]" (as URL.hostname gives it) → "::1"; names are compared in lower case. */
function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** Subject alternative names for a new self-signed certificate: localhost, this machine, the public host. */
function altNames(publicHost?: string): Array<{ type: 2; value: string } | { type: 7; ip: string }> {
  const hosts = new Set(['localhost', hostname().toLowerCase(), '127.0.0.1']);
  if (publicHost) hosts.add(bareHost(publicHost));
  return [...hosts].map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h }));
}

/** Whether the certificate is valid for the host (DNS name or IP address SAN). */
export function certCovers(cert: string | X509Certificate, host: string): boolean {
  const x = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  const h = bareHost(host);
  return isIP(h) ? x.checkIP(h) !== undefined : x.checkHost(h) !== undefined;
}

/**
 * The configured cert/key, or a self-signed pair generated once into the data folder and reused after.
 * A new certificate also names the public host; an existing or configured one that does not cover it is
 * kept (devices may have pinned it) and a warning says so.
 */
export async function loadTls(dataDir: string, certFile?: string, keyFile?: string, opts: TlsOptions = {}): Promise<TlsMaterial> {
  let generated = false;
  if (!certFile || !keyFile) {
    certFile = join(dataDir, 'tls', 'cert.pem');
    keyFile = join(dataDir, 'tls', 'key.pem');
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      const notAfterDate = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
      // Loaded only to create a certificate (once per data folder): its crypto stack is the slowest import APS has.
      const { generate } = await import('selfsigned');
      const pems = await generate([{ name: 'commonName', value: hostname() }], {
        keySize: 2048,
        algorithm: 'sha256',
        notAfterDate,
        extensions: [{ name: 'subjectAltName', altNames: altNames(opts.publicHost) }],
      });
      writeFileAtomic(keyFile, pems.private, 0o600);
      writeFileAtomic(certFile, pems.cert, 0o600);
      generated = true;
    }
  }
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  const x509 = new X509Certificate(cert);
  const material: TlsMaterial = { cert, key, fingerprint: x509.fingerprint256, generated };
  if (opts.publicHost && !certCovers(x509, opts.publicHost)) {
    material.uncoveredHost = bareHost(opts.publicHost);
    opts.log?.warn(
      { cert: certFile, publicHost: material.uncoveredHost, subjectAltName: x509.subjectAltName ?? null },
      'the HTTPS certificate does not cover the public host: devices that check it will refuse HTTPS. ' +
        'Kept as is (devices may have pinned it); to get a new self-signed one, remove the tls folder in the data folder and restart, or configure https.cert/https.key',
    );
  }
  return material;
}
