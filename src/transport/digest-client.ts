// The client side of Digest: answer a WWW-Authenticate challenge (RFC 7616 §3.4). Used by device
// simulators and by an adapter that sends a device a Digest-protected request (a connection request).
import { randomBytes } from 'node:crypto';
import { digestResponse, parseDigestAlgorithm } from './digest-compute.ts';
import { parseAuthChallenges, quoteString } from './digest-header.ts';

/** The challenge cannot be answered (not Digest, unknown algorithm, only qop=auth-int, …). */
export class DigestChallengeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestChallengeError';
  }
}

export interface DigestClientOptions {
  /** The WWW-Authenticate value (may list several challenges; the first usable Digest one is answered). */
  challenge: string;
  username: string;
  password: string;
  method: string;
  /** request-target exactly as it will be sent (RFC 7616 §3.4: the `uri` directive). */
  uri: string;
  /** nonce-count: a number (formatted as 8 hex digits) or the 8-hex string itself. Default 1. */
  nc?: number | string;
  /** Default: 16 random bytes, hex. */
  cnonce?: string;
}

function formatNc(nc: number | string | undefined): string {
  if (nc === undefined) return '00000001';
  if (typeof nc === 'string') {
    if (!/^[0-9a-f]{8}$/i.test(nc)) throw new DigestChallengeError('nc must be 8 hex digits');
    return nc.toLowerCase();
  }
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new DigestChallengeError('nc out of range');
  return nc.toString(16).padStart(8, '0');
}

/** The Authorization header value answering `challenge`. Throws DigestChallengeError. */
export function digestAuthorization(o: DigestClientOptions): string {
  const challenges = parseAuthChallenges(o.challenge);
  if (challenges === null) throw new DigestChallengeError('malformed WWW-Authenticate header');
  const ch = challenges.find((c) => c.scheme.toLowerCase() === 'digest' && parseDigestAlgorithm(c.params.get('algorithm')) !== undefined);
  if (ch === undefined) throw new DigestChallengeError('no Digest challenge with a supported algorithm');
  const realm = ch.params.get('realm');
  const nonce = ch.params.get('nonce');
  if (realm === undefined || nonce === undefined) throw new DigestChallengeError('Digest challenge lacks realm or nonce');
  const algorithm = parseDigestAlgorithm(ch.params.get('algorithm')) ?? 'MD5';
  // qop is a quoted list ("auth,auth-int"); without it, the RFC 2069 form applies.
  const qopList = ch.params
    .get('qop')
    ?.split(',')
    .map((q) => q.trim().toLowerCase());
  if (qopList !== undefined && !qopList.includes('auth')) throw new DigestChallengeError('server requires a qop other than auth');
  const qop = qopList !== undefined ? ('auth' as const) : undefined;
  const nc = formatNc(o.nc);
  const cnonce = o.cnonce ?? randomBytes(16).toString('hex');
  const sess = algorithm.endsWith('-sess');
  const response = digestResponse({
    algorithm,
    username: o.username,
    realm,
    password: o.password,
    method: o.method,
    uri: o.uri,
    nonce,
    ...(qop ? { qop, nc, cnonce } : { cnonce }),
  });
  const parts = [
    `Digest username=${quoteString(o.username)}`,
    `realm=${quoteString(realm)}`,
    `nonce=${quoteString(nonce)}`,
    `uri=${quoteString(o.uri)}`,
  ];
  if (ch.params.has('algorithm')) parts.push(`algorithm=${algorithm}`);
  parts.push(`response="${response}"`);
  const opaque = ch.params.get('opaque');
  if (opaque !== undefined) parts.push(`opaque=${quoteString(opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quoteString(cnonce)}`);
  else if (sess) parts.push(`cnonce=${quoteString(cnonce)}`);
  return parts.join(', ');
}
