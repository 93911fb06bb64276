// The Digest `response` computation (RFC 7616 §3.4.1; RFC 2617 §3.2.2; RFC 2069 §2.1.2), shared by the
// server check and the client. Hashes come from node:crypto; nothing here is hand-rolled cryptography.
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** Absent for the RFC 2069 form. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

function hashHex(algorithm: DigestAlgorithm, s: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(s, 'utf8')
    .digest('hex');
}

/** The `response` value of RFC 7616 §3.4.1 (and RFC 2617 §3.2.2, RFC 2069 §2.1.2 without qop). */
export function digestResponse(p: DigestResponseInput): string {
  let ha1 = hashHex(p.algorithm, `${p.username}:${p.realm}:${p.password}`);
  if (p.algorithm.endsWith('-sess')) ha1 = hashHex(p.algorithm, `${ha1}:${p.nonce}:${p.cnonce ?? ''}`);
  const ha2 = hashHex(p.algorithm, `${p.method}:${p.uri}`);
  const middle = p.qop ? `${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:` : '';
  return hashHex(p.algorithm, `${ha1}:${p.nonce}:${middle}${ha2}`);
}

/** The algorithm directive, case-insensitive; undefined for one we do not implement. */
export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5'; // RFC 7616 §3.3: absent means MD5
  const v = value.toUpperCase();
  if (v === 'MD5') return 'MD5';
  if (v === 'MD5-SESS') return 'MD5-sess';
  if (v === 'SHA-256') return 'SHA-256';
  if (v === 'SHA-256-SESS') return 'SHA-256-sess';
  return undefined;
}
