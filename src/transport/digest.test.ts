import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  DigestChallengeError,
  digestAuthorization,
  digestChallenge,
  digestResponse,
  parseAuthCredentials,
  parseBasic,
  verifyDigest,
} from './digest.ts';
import type { VerifyDigestOptions } from './digest.ts';

const KEY = 'server-secret-key';
const REALM = 'aps';
const T0 = 1_700_000_000_000;
const USERS = new Map([['cpe-001122-SN1', 'pa"ss\\word']]);

function server(header: string | undefined, over: Partial<VerifyDigestOptions> = {}): ReturnType<typeof verifyDigest> {
  return verifyDigest({
    header,
    method: 'POST',
    uri: '/tr069',
    realm: REALM,
    secretKey: KEY,
    now: T0 + 1000,
    lookupPassword: (u) => USERS.get(u),
    ...over,
  });
}

function login(challenge: string, over: Partial<Parameters<typeof digestAuthorization>[0]> = {}): string {
  return digestAuthorization({
    challenge,
    username: 'cpe-001122-SN1',
    password: 'pa"ss\\word',
    method: 'POST',
    uri: '/tr069',
    nc: 1,
    cnonce: 'abc123',
    ...over,
  });
}

test('challenge: qop=auth, MD5, opaque, stateless nonce; stale flag when asked', () => {
  const c = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 });
  const parsed = parseAuthCredentials(c);
  assert.ok(parsed);
  assert.equal(parsed.scheme, 'Digest');
  assert.equal(parsed.params.get('realm'), REALM);
  assert.equal(parsed.params.get('qop'), 'auth');
  assert.equal(parsed.params.get('algorithm'), 'MD5');
  assert.match(parsed.params.get('nonce') ?? '', /^[A-Za-z0-9_-]{64}$/);
  assert.ok((parsed.params.get('opaque') ?? '').length > 20);
  assert.equal(parsed.params.has('stale'), false);
  assert.equal(parseAuthCredentials(digestChallenge({ realm: REALM, secretKey: KEY, now: T0, stale: true }))?.params.get('stale'), 'true');
  // `issued` is told the nonce the header carries (a server storing nonce-counts notes it has none yet).
  const told: string[] = [];
  const withHook = digestChallenge({ realm: REALM, secretKey: KEY, now: T0, issued: (n) => told.push(n) });
  assert.deepEqual(told, [parseAuthCredentials(withHook)!.params.get('nonce')]);
  // Two challenges in the same millisecond still differ (random part).
  assert.notEqual(c, digestChallenge({ realm: REALM, secretKey: KEY, now: T0 }));
  // So do 2,000 (the random halves come from a pool refilled every 512 nonces), and each is still ours.
  const nonces = Array.from({ length: 2000 }, () =>
    parseAuthCredentials(digestChallenge({ realm: REALM, secretKey: KEY, now: T0 }))!.params.get('nonce')!,
  );
  assert.equal(new Set(nonces).size, nonces.length);
  const last = digestAuthorization({
    challenge: `Digest realm="${REALM}", nonce="${nonces.at(-1)}", qop="auth"`,
    username: 'cpe-001122-SN1',
    password: 'pa"ss\\word',
    method: 'POST',
    uri: '/tr069',
    nc: 1,
  });
  assert.equal(server(last, { now: T0 }).kind, 'ok');
});

test('client ↔ server round trip, across "nodes" sharing only the key', () => {
  const challenge = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 });
  const auth = login(challenge);
  assert.deepEqual(server(auth), { kind: 'ok', username: 'cpe-001122-SN1' });
  // A second node with the same key (and a slightly different clock) accepts the same header.
  assert.deepEqual(server(auth, { secretKey: Buffer.from(KEY), now: T0 - 2000 }), { kind: 'ok', username: 'cpe-001122-SN1' });
  // MD5-sess and SHA-256 from a client whose challenge names them are verified too.
  for (const alg of ['MD5-sess', 'SHA-256', 'SHA-256-sess']) {
    const c = challenge.replace('algorithm=MD5', `algorithm=${alg}`);
    assert.equal(server(login(c)).kind, 'ok', alg);
  }
});

test('legacy RFC 2069 form without qop is accepted unless disabled', () => {
  const challenge = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 }).replace('qop="auth", ', '');
  const auth = login(challenge);
  assert.ok(!auth.includes('qop=') && !auth.includes('nc='));
  assert.equal(server(auth).kind, 'ok');
  assert.equal(server(auth, { allowLegacy: false }).kind, 'malformed');
});

test('wrong password, unknown user, wrong method, wrong uri, wrong realm', () => {
  const challenge = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 });
  assert.deepEqual(server(login(challenge, { password: 'nope' })), { kind: 'bad-response', username: 'cpe-001122-SN1' });
  assert.deepEqual(server(login(challenge, { username: 'ghost' })), { kind: 'unknown-user', username: 'ghost' });
  assert.equal(server(login(challenge, { method: 'GET' })).kind, 'bad-response');
  assert.equal(server(login(challenge, { uri: '/other' })).kind, 'bad-response');
  assert.equal(server(login(challenge), { uri: '/elsewhere' }).kind, 'bad-response');
  assert.equal(server(login(challenge), { realm: 'other' }).kind, 'bad-response');
  // An absolute-form uri directive matches the same path.
  assert.equal(server(login(challenge, { uri: 'http://acs.example:8080/tr069' })).kind, 'ok');
});

test('tampered, foreign, future and expired nonces', () => {
  const challenge = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 });
  const nonce = parseAuthCredentials(challenge)?.params.get('nonce') ?? '';
  const flipped = nonce[10] === 'A' ? 'B' : 'A';
  const tampered = challenge.replace(nonce, nonce.slice(0, 10) + flipped + nonce.slice(11));
  assert.equal(server(login(tampered)).kind, 'bad-nonce');
  assert.equal(server(login(challenge.replace(nonce, 'dcd98b7102dd2f0e8b11d0f600bfb0c093'))).kind, 'bad-nonce');
  const foreign = digestChallenge({ realm: REALM, secretKey: 'another-key', now: T0 });
  assert.equal(server(login(foreign)).kind, 'bad-nonce');
  const otherRealm = digestChallenge({ realm: 'other', secretKey: KEY, now: T0 });
  assert.equal(server(login(otherRealm), { realm: 'other', uri: '/tr069' }).kind, 'ok');
  const future = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 + 10 * 60_000 });
  assert.equal(server(login(future)).kind, 'bad-nonce');
  const opaqueSwapped = challenge.replace(/opaque="[^"]+"/, 'opaque="xyz"');
  assert.equal(server(login(opaqueSwapped)).kind, 'bad-nonce');
  // Expired: stale only when the response is otherwise right.
  const later = { now: T0 + 6 * 60_000 };
  assert.deepEqual(server(login(challenge), later), { kind: 'stale', username: 'cpe-001122-SN1' });
  assert.equal(server(login(challenge, { password: 'nope' }), later).kind, 'bad-response');
  assert.equal(server(login(challenge), { ...later, nonceTtlMs: 10 * 60_000 }).kind, 'ok');
});

test('missing and malformed Authorization headers', () => {
  assert.deepEqual(server(undefined), { kind: 'missing' });
  assert.deepEqual(server('  '), { kind: 'missing' });
  assert.deepEqual(server('Basic dXNlcjpwYXNz'), { kind: 'missing' });
  const good = login(digestChallenge({ realm: REALM, secretKey: KEY, now: T0 }));
  for (const bad of [
    'Digest',
    'Digest username="a", realm="aps"',
    'Digest username="unterminated',
    good.replace('qop=auth', 'qop=auth-int'),
    good.replace('nc=00000001', 'nc=1'),
    good.replace(/, cnonce="[^"]*"/, ''),
    good.replace('username="cpe-001122-SN1"', 'username="a", username="b"'),
    `${good}, algorithm=SHA-512`,
    good.replace('realm="aps"', 'realm=aps"'),
    good.replace('username="cpe-001122-SN1"', 'username="cpe-001122-SN1", username*=UTF-8\'\'x'),
  ]) {
    assert.equal(server(bad).kind, 'malformed', bad);
  }
});

test('username* (RFC 7616 §3.4.4) extended notation', () => {
  const challenge = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 });
  const auth = login(challenge, { username: 'Jäsøn' }).replace(/username="[^"]*"/, "username*=UTF-8''J%C3%A4s%C3%B8n");
  assert.deepEqual(server(auth, { lookupPassword: (u) => (u === 'Jäsøn' ? 'pa"ss\\word' : undefined) }), {
    kind: 'ok',
    username: 'Jäsøn',
  });
});

test('RFC 2617 §3.5 "Mufasa" example gives its documented response', () => {
  const challenge =
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
  const auth = digestAuthorization({
    challenge,
    username: 'Mufasa',
    password: 'Circle Of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nc: 1,
    cnonce: '0a4f113b',
  });
  const p = parseAuthCredentials(auth);
  assert.equal(p?.params.get('response'), '6629fae49393a05397450978507c4ef1');
  assert.equal(p?.params.get('qop'), 'auth');
  assert.equal(p?.params.get('nc'), '00000001');
  assert.equal(p?.params.get('opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
});

test('RFC 7616 §3.9.1 example: MD5 and SHA-256 responses', () => {
  const base = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  assert.equal(digestResponse({ ...base, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(digestResponse({ ...base, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  // The RFC's own challenge, answered by the client, carries the same value.
  const challenge = `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="${base.nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="${base.nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
  const auth = digestAuthorization({
    challenge,
    username: 'Mufasa',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nc: 1,
    cnonce: base.cnonce,
  });
  assert.equal(parseAuthCredentials(auth)?.params.get('response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

test('RFC 2069 (no qop) response is H(H(A1):nonce:H(A2))', () => {
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const expected = md5(`${md5('Mufasa:testrealm@host.com:CircleOfLife')}:dcd98b7102dd2f0e8b11d0f600bfb0c093:${md5('GET:/dir/index.html')}`);
  assert.equal(expected, '1949323746fe6a43ef61f9606e7febea');
  const got = digestResponse({
    algorithm: 'MD5',
    username: 'Mufasa',
    realm: 'testrealm@host.com',
    password: 'CircleOfLife',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  });
  assert.equal(got, expected);
});

test('client refuses challenges it cannot answer', () => {
  const bad = [
    'Basic realm="x"',
    'Digest realm="x", nonce="n", algorithm=SHA-512-256',
    'Digest realm="x", nonce="n", qop="auth-int"',
    'Digest nonce="n"',
    'Digest realm="x", nonce="unterminated',
  ];
  for (const challenge of bad) {
    assert.throws(() => login(challenge), DigestChallengeError, challenge);
  }
  assert.throws(() => login('Digest realm="x", nonce="n"', { nc: 'zz' }), DigestChallengeError);
  // Basic + Digest in one header: the Digest challenge is answered.
  assert.match(login('Basic realm="b", Digest realm="x", nonce="n", qop="auth"'), /^Digest username=/);
});

test('parseBasic', () => {
  const enc = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.deepEqual(parseBasic(enc('Aladdin:open sesame')), { username: 'Aladdin', password: 'open sesame' });
  assert.deepEqual(parseBasic(enc('user:pa:ss')), { username: 'user', password: 'pa:ss' });
  assert.deepEqual(parseBasic(enc('täst:ü')), { username: 'täst', password: 'ü' });
  assert.deepEqual(parseBasic(`basic   ${Buffer.from('u:').toString('base64')}`), { username: 'u', password: '' });
  for (const bad of [
    undefined,
    '',
    'Basic',
    'Basic !!!',
    enc('nocolon'),
    'Digest abc',
    'Basic a',
    `Bearer ${Buffer.from('u:p').toString('base64')}`,
  ]) {
    assert.equal(parseBasic(bad), null, String(bad));
  }
});

test('acceptNonceCount: a right response with a used nonce-count is a replay; the legacy form has no count', () => {
  const seen = new Map<string, number>();
  const acceptNonceCount = (nonce: string, nc: number | undefined): boolean => {
    const n = nc ?? 1;
    if (n <= (seen.get(nonce) ?? 0)) return false;
    seen.set(nonce, n);
    return true;
  };
  const challenge = digestChallenge({ realm: REALM, secretKey: KEY, now: T0 });
  const first = login(challenge, { nc: 1 });
  assert.deepEqual(server(first, { acceptNonceCount }), { kind: 'ok', username: 'cpe-001122-SN1' });
  assert.deepEqual(server(first, { acceptNonceCount }), { kind: 'replay', username: 'cpe-001122-SN1' });
  assert.equal(server(login(challenge, { nc: 3 }), { acceptNonceCount }).kind, 'ok', 'a higher count is new');
  assert.equal(server(login(challenge, { nc: 2 }), { acceptNonceCount }).kind, 'replay', 'a lower one is not');
  // Wrong password or stale nonce: the hook is not consulted, so it never records a count for them.
  const before = new Map(seen);
  assert.equal(server(login(challenge, { nc: 9, password: 'nope' }), { acceptNonceCount }).kind, 'bad-response');
  assert.equal(server(login(challenge, { nc: 9 }), { acceptNonceCount, now: T0 + 10 * 60_000 }).kind, 'stale');
  assert.deepEqual(seen, before);
  const legacy = digestAuthorization({
    challenge: challenge.replace('qop="auth", ', ''),
    username: 'cpe-001122-SN1',
    password: 'pa"ss\\word',
    method: 'POST',
    uri: '/tr069',
  });
  const other = new Map<string, number>();
  const once = (nonce: string, nc: number | undefined): boolean => {
    assert.equal(nc, undefined);
    if (other.has(nonce)) return false;
    other.set(nonce, 1);
    return true;
  };
  assert.equal(server(legacy, { acceptNonceCount: once }).kind, 'ok');
  assert.equal(server(legacy, { acceptNonceCount: once }).kind, 'replay');
});
