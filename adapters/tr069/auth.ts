// Authentication of the CPE by the ACS and of the CPE's file fetches (TR-069 §3.4.4: HTTP Digest, or
// Basic only over TLS). Nonces are the core's stateless HMAC nonces, so the retry after a 401 may come
// on a new TCP connection or another node (issue #4; GenieACS ties it to the socket, we do not).
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import {
  type AdapterServices,
  type AdapterState,
  digestChallenge,
  digestNonceIssued,
  digestUsername,
  nonceCountCheck,
  parseBasic,
  quoteString,
  verifyDigest,
} from '../../src/adapter-api.ts';

/**
 * `checked`: a credential was really compared and was wrong (a guess, counted by ctx.access.attempt);
 * false for no credentials, an expired or replayed nonce, a scheme refused here.
 */
export type AuthResult = { ok: true; username: string } | { ok: false; reason: string; stale: boolean; checked: boolean };

export interface AuthRequest {
  core: AdapterServices;
  realm: string;
  /** Key purpose for the nonces: the ACS and the file server use different ones. */
  purpose: string;
  /** The password of a user name, or undefined when the name is not acceptable here. */
  lookupPassword: (username: string) => string | undefined;
  /**
   * Where the highest nonce-count of each nonce is kept (the store, so every node sees it): a Digest
   * header is accepted once per count. Without it, a captured header works again until its nonce is stale.
   */
  nonceCounts?: AdapterState;
  /**
   * Accept a right password with an expired nonce. Inside a session, where the header only has to show
   * whose session it is (the cookie and the address already bind it), a CPE that keeps its first nonce
   * for a long session must not be cut off.
   */
  acceptStale?: boolean;
  /** adapters.tr069.allowBasicOverHttp: Basic accepted (and offered) on plain HTTP too, for closed labs. */
  allowBasicOverHttp?: boolean;
}

/** Where a nonce's highest nonce-count is kept in `nonceCounts`. */
const NONCE_COUNT = 'nonce:';

/** Basic is accepted on HTTPS, and on plain HTTP only where the admin allowed it (a clear password). */
function basicAllowed(req: Request, a: Pick<AuthRequest, 'allowBasicOverHttp'>): boolean {
  return req.secure || a.allowBasicOverHttp === true;
}

/** Digest always; Basic only on an HTTPS request (a clear password must never cross plain HTTP), unless allowed. */
export function authenticate(req: Request, a: AuthRequest): AuthResult {
  const header = req.get('authorization');
  if (header === undefined) return { ok: false, reason: 'no credentials', stale: false, checked: false };
  if (/^\s*basic\s/i.test(header)) {
    if (!basicAllowed(req, a)) return { ok: false, reason: 'Basic refused over plain HTTP', stale: false, checked: false };
    const b = parseBasic(header);
    if (!b) return { ok: false, reason: 'malformed Basic credentials', stale: false, checked: false };
    const pw = a.lookupPassword(b.username);
    if (pw === undefined) return { ok: false, reason: `unknown user ${b.username}`, stale: false, checked: true };
    return sameSecret(a.core, pw, b.password)
      ? { ok: true, username: b.username }
      : { ok: false, reason: 'wrong password', stale: false, checked: true };
  }
  const r = verifyDigest({
    header,
    method: req.method,
    realm: a.realm,
    secretKey: a.core.secrets.key(a.purpose),
    now: Date.now(),
    uri: req.originalUrl,
    lookupPassword: a.lookupPassword,
    ...(a.nonceCounts ? { acceptNonceCount: nonceCountCheck(a.nonceCounts, NONCE_COUNT) } : {}),
  });
  if (r.kind === 'ok' || (r.kind === 'stale' && a.acceptStale)) return { ok: true, username: r.username };
  const user = 'username' in r ? ` (user ${r.username})` : '';
  // A replay is answered like an expired nonce: the real CPE retries with a fresh one, silently.
  return {
    ok: false,
    reason: `digest ${r.kind}${user}`,
    stale: r.kind === 'stale' || r.kind === 'replay',
    checked: r.kind === 'bad-response' || r.kind === 'unknown-user',
  };
}

/**
 * Whether an Authorization header earns a request the full body limit before anything is parsed (issue 13,
 * defect 3): a Digest header must carry a fresh nonce this server issued (an HMAC check, no password
 * needed), a Basic one (where accepted) a user name `known` says is one of ours. Anything else, such as
 * `Digest username="x"`, stays under the small anonymous limit.
 */
export function worthReading(
  req: Request,
  a: Pick<AuthRequest, 'core' | 'realm' | 'purpose' | 'allowBasicOverHttp'>,
  known: (user: string) => boolean,
): boolean {
  const header = req.get('authorization');
  if (header === undefined) return false;
  if (/^\s*basic\s/i.test(header)) {
    const b = basicAllowed(req, a) ? parseBasic(header) : null;
    return b !== null && known(b.username);
  }
  return digestNonceIssued(header, a.realm, a.core.secrets.key(a.purpose), Date.now());
}

/**
 * The user name an Authorization header claims (Basic or Digest, `username*` too: the name verifyDigest
 * checks), before anything is checked.
 */
export function claimedUser(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  return parseBasic(header)?.username ?? digestUsername(header);
}

/**
 * WWW-Authenticate: Digest MD5 qop=auth, plus Basic where it is accepted (one header, two challenges,
 * RFC 9110 §11.6.1); a client that speaks both picks Digest.
 */
export function challenge(
  req: Request,
  a: Pick<AuthRequest, 'core' | 'realm' | 'purpose' | 'allowBasicOverHttp' | 'nonceCounts'>,
  stale: boolean,
): Record<string, string> {
  const counts = a.nonceCounts;
  const digest = digestChallenge({
    realm: a.realm,
    secretKey: a.core.secrets.key(a.purpose),
    now: Date.now(),
    stale,
    // The nonce is new (random): no nonce-count can be stored for it yet, so the answer's count check need not
    // read SQLite (one statement per TR-069 session, issue 15). The hint holds until another process commits.
    ...(counts ? { issued: (nonce: string): void => counts.knownAbsent(NONCE_COUNT + nonce) } : {}),
  });
  return { 'WWW-Authenticate': basicAllowed(req, a) ? `${digest}, Basic realm=${quoteString(a.realm)}` : digest };
}

// Constant-time comparison through HMACs of equal length, whatever the lengths of the inputs.
function sameSecret(core: AdapterServices, a: string, b: string): boolean {
  return timingSafeEqual(core.secrets.hmac('compare', a), core.secrets.hmac('compare', b));
}
