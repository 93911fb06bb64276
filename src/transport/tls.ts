import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { writeFileAtomic } from '../fs-atomic.ts';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, printed at start so an operator can pin or verify it on devices. */
  fingerprint: string;
  generated: boolean;
}

/** The configured cert/key, or a self-signed pair generated once into the data folder and reused after. */
export async function loadTls(dataDir: string, certFile?: string, keyFile?: string): Promise<TlsMaterial> {
  let generated = false;
  if (!certFile || !keyFile) {
    certFile = join(dataDir, 'tls', 'cert.pem');
    keyFile = join(dataDir, 'tls', 'key.pem');
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      const notAfterDate = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
      const pems = await generate([{ name: 'commonName', value: hostname() }], {
        keySize: 2048,
        algorithm: 'sha256',
        notAfterDate,
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 2, value: hostname() }, { type: 7, ip: '127.0.0.1' }] }],
      });
      writeFileAtomic(keyFile, pems.private, 0o600);
      writeFileAtomic(certFile, pems.cert, 0o644);
      generated = true;
    }
  }
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  return { cert, key, fingerprint: new X509Certificate(cert).fingerprint256, generated };
}
