import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerValue, parseSipRequest, parseSipResponse } from './sip-message.ts';

const ok = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport=5060;received=10.0.0.1, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKother',
  'From: <sip:aps@10.0.0.1>;tag=1',
  'To: <sip:1001@10.0.0.2>;tag=2',
  'Call-ID: x@10.0.0.1',
  'CSeq: 1 NOTIFY',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

test('parses a well-formed response', () => {
  const r = parseSipResponse(Buffer.from(ok))!;
  assert.equal(r.status, 200);
  assert.equal(r.reason, 'OK');
  assert.equal(r.topViaBranch, 'z9hG4bKabc');
  assert.deepEqual(r.cseq, { seq: 1, method: 'NOTIFY' });
  assert.equal(r.callId, 'x@10.0.0.1');
  assert.equal(headerValue(r, 'content-length'), '0');
});

test('compact forms, folded lines, bare LF and a multi-word reason are accepted', () => {
  const text = [
    'SIP/2.0 401 Unauthorized here',
    'v: SIP/2.0/UDP h;branch=z9hG4bK1',
    'i: c1',
    'CSeq:  7   NOTIFY',
    'WWW-Authenticate: Digest realm="r",',
    '  nonce="n", algorithm=MD5',
    'l: 0',
    '',
    '',
  ].join('\n');
  const r = parseSipResponse(text)!;
  assert.equal(r.reason, 'Unauthorized here');
  assert.equal(r.topViaBranch, 'z9hG4bK1');
  assert.equal(r.callId, 'c1');
  assert.deepEqual(r.cseq, { seq: 7, method: 'NOTIFY' });
  assert.equal(headerValue(r, 'www-authenticate'), 'Digest realm="r", nonce="n", algorithm=MD5');
  assert.equal(parseSipResponse('SIP/2.0 180\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 NOTIFY\r\nCall-ID: c\r\n\r\n')!.topViaBranch, null);
});

test('malformed datagrams are null, never an exception', () => {
  const bad: (string | Buffer)[] = [
    '',
    Buffer.alloc(0),
    'garbage',
    '\r\n\r\n',
    Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
    ok.replace('SIP/2.0 200 OK', 'SIP/2.0 abc OK'),
    ok.replace('SIP/2.0 200 OK', 'SIP/3.0 200 OK'),
    ok.replace('SIP/2.0 200 OK', 'HTTP/1.1 200 OK'),
    ok.replace('SIP/2.0 200 OK', 'SIP/2.0 099 Low'),
    ok.replace('SIP/2.0 200 OK', 'SIP/2.0 700 High'),
    ok.replace('SIP/2.0 200 OK', 'SIP/2.0  200 OK'),
    ok.replace('SIP/2.0 200 OK', 'NOTIFY sip:a@b SIP/2.0'),
    ok.replace('Content-Length: 0', 'Content-Length 0'),
    ok.replace('Content-Length: 0', ': 0'),
    ok.replace('CSeq: 1 NOTIFY', 'CSeq: NOTIFY'),
    ok.replace('CSeq: 1 NOTIFY', 'CSeq: 1'),
    ok.replace(/Via: [^\r]*\r\n/, ''),
    ok.replace('Call-ID: x@10.0.0.1\r\n', ''),
    ok.replace('\r\n\r\n', '\r\n'),
    'SIP/2.0 200 OK\r\n folded-first\r\n\r\n',
    ok + 'x'.repeat(70000),
  ];
  for (const b of bad) assert.equal(parseSipResponse(b), null, JSON.stringify(String(b).slice(0, 60)));
});

test('parses a request: method, Request-URI, compact Event, topmost branch; a response is no request', () => {
  const text = [
    'NOTIFY sip:1001@10.0.0.2:5060 SIP/2.0',
    'v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKreq',
    'f: <sip:aps@10.0.0.1>;tag=1',
    't: <sip:1001@10.0.0.2>',
    'i: n@10.0.0.1',
    'CSeq: 7 NOTIFY',
    'o: check-sync;reboot=false',
    '',
    '',
  ].join('\r\n');
  const r = parseSipRequest(text)!;
  assert.deepEqual(
    [r.method, r.uri, r.topViaBranch, r.callId, r.cseq],
    ['NOTIFY', 'sip:1001@10.0.0.2:5060', 'z9hG4bKreq', 'n@10.0.0.1', { seq: 7, method: 'NOTIFY' }],
  );
  assert.equal(headerValue(r, 'event'), 'check-sync;reboot=false');
  assert.equal(parseSipRequest(ok), null);
  assert.equal(parseSipResponse(text), null);
  // Missing Call-ID, a bad Request-Line, garbage: null, never a throw.
  assert.equal(parseSipRequest(text.replace('i: n@10.0.0.1\r\n', '')), null);
  assert.equal(parseSipRequest(text.replace(' SIP/2.0\r\n', ' HTTP/1.1\r\n')), null);
  assert.equal(parseSipRequest(Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])), null);
});
