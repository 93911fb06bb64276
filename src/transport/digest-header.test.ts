import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_AUTH_HEADER_LENGTH, parseAuthChallenges, parseAuthCredentials, quoteString } from './digest-header.ts';

const params = (v: string): Record<string, string> | null => {
  const c = parseAuthCredentials(v);
  return c === null ? null : Object.fromEntries(c.params);
};

test('quoted strings: escaped quotes, commas and equals inside quotes, spaces around =', () => {
  assert.deepEqual(params('Digest username="a\\"b\\\\c", realm = "x, y=z" ,nonce=abc , qop=auth'), {
    username: 'a"b\\c',
    realm: 'x, y=z',
    nonce: 'abc',
    qop: 'auth',
  });
  assert.deepEqual(params('digest  realm=""'), { realm: '' });
  assert.deepEqual(params('Digest a="\\\\", b="\\x\\"y\\\\", c="tab\there é"'), { a: '\\', b: 'x"y\\', c: 'tab\there é' });
  assert.equal(parseAuthCredentials('DIGEST realm="r"')?.scheme, 'DIGEST');
});

test('parameter names are case-insensitive and kept in a Map (no prototype keys)', () => {
  const c = parseAuthCredentials('Digest Realm="r", __proto__="x", constructor=y');
  assert.ok(c);
  assert.equal(c.params.get('realm'), 'r');
  assert.equal(c.params.get('__proto__'), 'x');
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
});

test('several challenges, token68 and empty list elements', () => {
  const list = parseAuthChallenges(
    'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Digest realm="d", qop="auth,auth-int"',
  );
  assert.ok(list);
  assert.deepEqual(
    list.map((c) => [c.scheme, Object.fromEntries(c.params)]),
    [
      ['Newauth', { realm: 'apps', type: '1', title: 'Login to "apps"' }],
      ['Basic', { realm: 'simple' }],
      ['Digest', { realm: 'd', qop: 'auth,auth-int' }],
    ],
  );
  assert.deepEqual(parseAuthChallenges('Basic dXNlcjpw=='), [{ scheme: 'Basic', token68: 'dXNlcjpw==', params: new Map() }]);
  assert.deepEqual(
    parseAuthChallenges(', Basic, Bearer abc/def= ,,Digest realm=r')?.map((c) => c.scheme),
    ['Basic', 'Bearer', 'Digest'],
  );
});

test('malformed values give null', () => {
  for (const bad of [
    '',
    '"Digest"',
    'Digest realm="unterminated',
    'Digest realm="a" nonce="b"',
    'Digest realm=="x"',
    'Digest realm="a", realm="b"',
    'Digest realm="a"junk',
    'Digest realm="bad\u0001char"',
    'Digest realm="escaped \\\u0001 control"',
    'Digest realm="del\u007f"',
    'Digest realm="ends in a backslash\\',
    'Digest realm="escaped quote, no end\\"',
    'Digest realm="a",, =b',
    'Digest\trealm="a"',
    'Digest realm=a/b',
    'Digest =x',
    `Digest realm="${'a'.repeat(MAX_AUTH_HEADER_LENGTH)}"`,
  ]) {
    assert.equal(parseAuthCredentials(bad), null, JSON.stringify(bad));
  }
  // Credentials hold exactly one scheme.
  assert.equal(parseAuthCredentials('Basic abc, Digest realm="r"'), null);
});

test('quoteString round-trips through the parser', () => {
  for (const v of ['plain', 'with "quotes"', 'back\\slash', 'comma, and = sign', '']) {
    assert.equal(parseAuthCredentials(`Digest v=${quoteString(v)}`)?.params.get('v'), v);
  }
});
