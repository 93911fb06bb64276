// HTTP Digest access authentication, server and client side, vendor-neutral (RFC 7616, RFC 2617, and
// the RFC 2069 form without qop that old devices still send). Also Basic credentials (RFC 7617).
//
// Nonces are stateless (RFC 7616 §3.3 leaves the construction to the server): base64url of
// timestamp(8, ms, big-endian) | random(8) | HMAC-SHA256(secretKey, label | realm | timestamp | random).
// Any node holding the key can check one, whichever TCP connection or node the retry arrives on, and
// its age gives `stale` without storing anything. The price: a captured request can be replayed while
// its nonce is fresh, unless the caller remembers nonce counts in a shared store (`acceptNonceCount`,
// RFC 7616 §5.13) — qop=auth does not cover the body, so a replayed header can carry any body.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { digestResponse, parseDigestAlgorithm } from './digest-compute.ts';
import { parseAuthCredentials, quoteString } from './digest-header.ts';
import type { SharedAuthScheme } from './digest-header.ts';

export const DEFAULT_NONCE_TTL_MS = 5 * 60_000;
/** How far in the future a nonce's timestamp may be: clocks of several nodes are never exactly equal. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;

const NONCE_LABEL = 'aps-digest-nonce\0';
const OPAQUE_LABEL = 'aps-digest-opaque\0';
const NONCE_BYTES = 8 + 8 + 32;

type Key = string | Uint8Array;

function hmac(key: Key, ...parts: (string | Uint8Array)[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

// The nonces' random halves, drawn from the CSPRNG 4 KiB at a time (as node does for randomUUID): a randomBytes
// call per nonce was ~1 % of a Digest session's server CPU (issue 15). Each byte is handed out once.
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomAt = 0;

function makeNonce(key: Key, realm: string, now: number): string {
  const head = Buffer.alloc(16);
  head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
  if (randomAt + 8 > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomAt = 0;
  }
  randomPool.copy(head, 8, randomAt, randomAt + 8);
  randomAt += 8;
  return Buffer.concat([head, hmac(key, NONCE_LABEL, realm, '\0', head)]).toString('base64url');
}

// Nonces this key issued that were checked already (a session of several requests shows its nonce in each):
// their timestamps, by key object and realm + nonce. Only genuine ones are kept; bounded, starting over when full.
const checkedNonces = new WeakMap<Uint8Array, Map<string, number>>();
const MAX_CHECKED_NONCES = 10_000;

/** Timestamp of a nonce this key issued for this realm, or undefined if it is not one of ours. */
function nonceTime(key: Key, realm: string, nonce: string): number | undefined {
  const memo = typeof key === 'string' ? undefined : checkedNonces.get(key);
  const known = memo?.get(`${realm}\0${nonce}`);
  if (known !== undefined) return known;
  if (!/^[A-Za-z0-9_-]{64}$/.test(nonce)) return undefined;
  const raw = Buffer.from(nonce, 'base64url');
  if (raw.length !== NONCE_BYTES) return undefined;
  const head = raw.subarray(0, 16);
  if (!timingSafeEqual(raw.subarray(16), hmac(key, NONCE_LABEL, realm, '\0', head))) return undefined;
  const issued = Number(head.readBigUInt64BE(0));
  if (typeof key !== 'string') {
    let m = memo;
    if (!m) checkedNonces.set(key, (m = new Map()));
    if (m.size >= MAX_CHECKED_NONCES) m.clear();
    m.set(`${realm}\0${nonce}`, issued);
  }
  return issued;
}

// The opaque depends only on the key and the realm; it is sent with every challenge and checked with every
// header, so it is computed once per (key object, realm). Keys are the keyring's memoised Buffers.
const opaques = new WeakMap<Uint8Array, Map<string, string>>();

function makeOpaque(key: Key, realm: string): string {
  if (typeof key === 'string') return hmac(key, OPAQUE_LABEL, realm).toString('base64url');
  let byRealm = opaques.get(key);
  if (!byRealm) opaques.set(key, (byRealm = new Map()));
  let o = byRealm.get(realm);
  if (o === undefined) {
    o = hmac(key, OPAQUE_LABEL, realm).toString('base64url');
    if (byRealm.size < 64) byRealm.set(realm, o);
  }
  return o;
}

export interface DigestChallengeOptions {
  realm: string;
  secretKey: Key;
  /** Milliseconds since the epoch (injected: no hidden clock). */
  now: number;
  /** RFC 7616 §3.3: the previous nonce was valid but expired; the client retries without prompting. */
  stale?: boolean;
  /** Told the nonce the challenge carries: a server that stores nonce-counts can note that it has none yet. */
  issued?: (nonce: string) => void;
}

/** A WWW-Authenticate value: Digest, qop="auth", MD5 (what CPEs and phones implement). */
export function digestChallenge(o: DigestChallengeOptions): string {
  const nonce = makeNonce(o.secretKey, o.realm, o.now);
  o.issued?.(nonce);
  const parts = [
    `Digest realm=${quoteString(o.realm)}`,
    'qop="auth"',
    'algorithm=MD5',
    `nonce="${nonce}"`,
    `opaque="${makeOpaque(o.secretKey, o.realm)}"`,
  ];
  if (o.stale) parts.push('stale=true');
  return parts.join(', ');
}

export type DigestVerifyResult =
  | { kind: 'ok'; username: string }
  | { kind: 'missing' }
  | { kind: 'malformed' }
  | { kind: 'bad-nonce'; username: string }
  | { kind: 'stale'; username: string }
  /** Right credentials, but this nonce and nonce-count were used before (acceptNonceCount said no). */
  | { kind: 'replay'; username: string }
  | { kind: 'bad-response'; username: string }
  | { kind: 'unknown-user'; username: string };

export interface VerifyDigestOptions {
  /** The Authorization header value, if any. */
  header: string | undefined;
  method: string;
  realm: string;
  secretKey: Key;
  now: number;
  lookupPassword(username: string): string | undefined;
  /** The request-target as received (e.g. req.originalUrl); when given, the `uri` directive must match. */
  uri?: string;
  nonceTtlMs?: number;
  maxClockSkewMs?: number;
  /** Accept the RFC 2069 form without qop (default true: legacy phones and CPEs). */
  allowLegacy?: boolean;
  /**
   * Replay check, called only for a right response with a fresh nonce: true when `nc` is new for this
   * nonce (the caller keeps the highest seen, RFC 7616 §3.3 nonce-count). `nc` is undefined for the
   * RFC 2069 form, which has no counter: such a nonce can be used once.
   */
  acceptNonceCount?(nonce: string, nc: number | undefined): boolean;
}

/** RFC 7616 §3.4.5 `username*` (RFC 8187 ext-value, UTF-8 only) or plain `username`. */
function usernameOf(params: ReadonlyMap<string, string>): string | undefined {
  const ext = params.get('username*');
  if (ext === undefined) return params.get('username');
  if (params.has('username')) return undefined; // both forms: malformed (RFC 7616 §3.4.4)
  const m = /^UTF-8'[^']*'(.*)$/i.exec(ext);
  if (m === null) return undefined;
  try {
    return decodeURIComponent(m[1] ?? '');
  } catch {
    return undefined;
  }
}

/**
 * The user name a Digest Authorization header claims (`username` or `username*`, read as verifyDigest
 * reads it), before anything is checked; undefined for another scheme or no usable name.
 */
export function digestUsername(header: string): string | undefined {
  const cred = parseAuthCredentials(header);
  return cred?.scheme.toLowerCase() === 'digest' ? usernameOf(cred.params) : undefined;
}

function sameUri(directive: string, requestUri: string): boolean {
  if (directive === requestUri) return true;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(directive)) return false;
  try {
    const u = new URL(directive); // absolute-form request-target (RFC 9112 §3.2.2)
    return u.pathname + u.search === requestUri;
  } catch {
    return false;
  }
}

function sameHex(expected: string, given: string): boolean {
  const g = given.toLowerCase();
  if (g.length !== expected.length || !/^[0-9a-f]+$/.test(g)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(g, 'hex'));
}

/** Check a Digest Authorization header against a challenge from digestChallenge(). */
export function verifyDigest(o: VerifyDigestOptions): DigestVerifyResult {
  if (o.header === undefined || o.header.trim() === '') return { kind: 'missing' };
  const cred: SharedAuthScheme | null = parseAuthCredentials(o.header);
  if (cred === null) return { kind: 'malformed' };
  if (cred.scheme.toLowerCase() !== 'digest') return { kind: 'missing' };
  const p = cred.params;
  const username = usernameOf(p);
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  const algorithm = parseDigestAlgorithm(p.get('algorithm'));
  const qop = p.get('qop');
  const nc = p.get('nc');
  const cnonce = p.get('cnonce');
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined) return { kind: 'malformed' };
  if (response === undefined || algorithm === undefined) return { kind: 'malformed' };
  if (qop !== undefined) {
    if (qop.toLowerCase() !== 'auth' || nc === undefined || !/^[0-9a-f]{8}$/i.test(nc) || !cnonce) return { kind: 'malformed' };
  } else if (o.allowLegacy === false) {
    return { kind: 'malformed' };
  }
  if (algorithm.endsWith('-sess') && !cnonce) return { kind: 'malformed' };

  const opaque = p.get('opaque');
  if (realm !== o.realm) return { kind: 'bad-response', username };
  const issued = nonceTime(o.secretKey, o.realm, nonce);
  if (issued === undefined) return { kind: 'bad-nonce', username };
  if (issued > o.now + (o.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS)) return { kind: 'bad-nonce', username };
  if (opaque !== undefined && opaque !== makeOpaque(o.secretKey, o.realm)) return { kind: 'bad-nonce', username };
  const password = o.lookupPassword(username);
  if (password === undefined) return { kind: 'unknown-user', username };
  if (o.uri !== undefined && !sameUri(uri, o.uri)) return { kind: 'bad-response', username };
  const expected = digestResponse({
    algorithm,
    username,
    realm,
    password,
    method: o.method,
    uri,
    nonce,
    ...(qop !== undefined ? { qop: 'auth' as const, nc, cnonce } : { cnonce }),
  });
  if (!sameHex(expected, response)) return { kind: 'bad-response', username };
  // Right password, old nonce: RFC 7616 §3.3 stale=true lets the client retry silently.
  if (o.now - issued > (o.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS)) return { kind: 'stale', username };
  if (o.acceptNonceCount && !o.acceptNonceCount(nonce, qop !== undefined ? parseInt(nc!, 16) : undefined))
    return { kind: 'replay', username };
  return { kind: 'ok', username };
}

/**
 * Whether a Digest Authorization header carries a nonce this key issued for this realm that is still fresh:
 * a cheap HMAC check, no password involved, to tell a client answering our challenge from one that only
 * wrote an Authorization header (e.g. to be allowed a larger body before its credentials are checked).
 */
export function digestNonceIssued(header: string, realm: string, secretKey: Key, now: number, ttlMs = DEFAULT_NONCE_TTL_MS): boolean {
  const cred = parseAuthCredentials(header);
  if (cred === null || cred.scheme.toLowerCase() !== 'digest') return false;
  const nonce = cred.params.get('nonce');
  const issued = nonce === undefined ? undefined : nonceTime(secretKey, realm, nonce);
  return issued !== undefined && issued <= now + DEFAULT_MAX_CLOCK_SKEW_MS && now - issued <= ttlMs;
}

/** Where nonce-counts are kept: an adapter's kv state (the store, so every node and restart sees them). */
export interface NonceCountStore {
  get<T>(key: string): T | undefined;
  /** Committed at once (AdapterState.setNow): a second node sharing the store must see the count before it answers. */
  setNow(key: string, value: unknown, ttlMs?: number): void;
}

/**
 * verifyDigest's `acceptNonceCount` over a store (RFC 7616 §3.3/§5.13): each (nonce, nc) once, counts only
 * growing; the RFC 2069 form (no nc) once per nonce. A captured header is then good for nothing, even while
 * its nonce is fresh. Entries live as long as the nonce can be fresh; after that verifyDigest says stale.
 */
export function nonceCountCheck(kv: NonceCountStore, prefix = 'digest-nc:'): (nonce: string, nc: number | undefined) => boolean {
  return (nonce, nc) => {
    const key = `${prefix}${nonce}`;
    const count = nc ?? 1;
    if (count <= (kv.get<number>(key) ?? 0)) return false;
    kv.setNow(key, count, DEFAULT_NONCE_TTL_MS + DEFAULT_MAX_CLOCK_SKEW_MS);
    return true;
  };
}

/** Basic credentials (RFC 7617 §2): user-id is everything before the first colon. Null if malformed. */
export function parseBasic(header: string | undefined): { username: string; password: string } | null {
  if (header === undefined) return null;
  const m = /^[ \t]*basic[ ]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (m === null || m[1] === undefined) return null;
  const b64 = m[1];
  // Reject what Node's lenient decoder would silently accept: a length that cannot be base64.
  if (b64.length % 4 === 1) return null;
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export { DigestChallengeError, digestAuthorization } from './digest-client.ts';
export type { DigestClientOptions } from './digest-client.ts';
export { digestResponse, parseDigestAlgorithm } from './digest-compute.ts';
export type { DigestAlgorithm, DigestResponseInput } from './digest-compute.ts';
export { parseAuthChallenges, parseAuthCredentials, quoteString } from './digest-header.ts';
export type { AuthScheme } from './digest-header.ts';
