import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { headerValue, parseSipResponse, type SipResponse } from '../push/sip-message.ts';
import { sendSipNotify } from '../push/sip-notify.ts';
import { startSipListener, type SipListener } from './sip-listener.ts';

/** A raw UDP peer: sends one datagram and reads the next answer (the listener's transactions seen from outside). */
async function exchange(sock: Socket, port: number, text: string): Promise<SipResponse> {
  const answer = once(sock, 'message');
  sock.send(text, port, '127.0.0.1');
  const [msg] = (await answer) as [Buffer];
  return parseSipResponse(msg)!;
}

function request(method: string, branch: string, event?: string): string {
  return [
    `${method} sip:dev@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=${branch}`,
    'From: <sip:aps@127.0.0.1>;tag=a1',
    'To: <sip:dev@127.0.0.1>',
    `Call-ID: ${branch}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    ...(event ? [`Event: ${event}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('simulated device SIP listener (check-sync)', () => {
  let sip: SipListener;
  let checks = 0;
  let peer: Socket;
  before(async () => {
    sip = await startSipListener({ onCheckSync: () => void checks++ });
    peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  });
  after(async () => {
    peer.close();
    await sip.close();
  });

  it("answers APS's own NOTIFY check-sync 200 and runs one check", async () => {
    const r = await sendSipNotify({ host: '127.0.0.1', port: sip.port, user: 'dev' });
    assert.equal(r.outcome, 'final');
    assert.equal(r.outcome === 'final' && r.status, 200);
    assert.equal(checks, 1);
  });

  it('a retransmission gets the same answer and starts no second check', async () => {
    const before = checks;
    const first = await exchange(peer, sip.port, request('NOTIFY', 'z9hG4bKretx', 'check-sync'));
    const again = await exchange(peer, sip.port, request('NOTIFY', 'z9hG4bKretx', 'check-sync'));
    assert.equal(first.status, 200);
    assert.deepEqual(again, first); // the same To tag too: the same transaction's answer
    assert.match(headerValue(first, 'to') ?? '', /;tag=sim[0-9a-f]{8}$/);
    assert.equal(first.topViaBranch, 'z9hG4bKretx');
    assert.equal(checks, before + 1);
    assert.equal(sip.received(), 2); // APS's NOTIFY and this one
  });

  it('another event gets 489, another method 405 with Allow; neither runs a check', async () => {
    const before = checks;
    assert.equal((await exchange(peer, sip.port, request('NOTIFY', 'z9hG4bKdialog', 'dialog'))).status, 489);
    const options = await exchange(peer, sip.port, request('OPTIONS', 'z9hG4bKopt'));
    assert.equal(options.status, 405);
    assert.equal(headerValue(options, 'allow'), 'NOTIFY');
    assert.equal(checks, before);
  });

  it('noise and responses get no answer and do not stop the listener', async () => {
    const before = checks;
    peer.send('not sip at all\r\n\r\n', sip.port, '127.0.0.1');
    peer.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKr\r\nCall-ID: r\r\nCSeq: 1 NOTIFY\r\n\r\n', sip.port, '127.0.0.1');
    // The next request is answered, and it is the first datagram that comes back: the two above got none.
    assert.equal((await exchange(peer, sip.port, request('NOTIFY', 'z9hG4bKafter', 'check-sync'))).status, 200);
    assert.equal(checks, before + 1);
  });
});

it('a device that wants authentication answers 401 with a challenge and runs no check', async () => {
  let checks = 0;
  const sip = await startSipListener({ status: 401, onCheckSync: () => void checks++ });
  try {
    const r = await sendSipNotify({ host: '127.0.0.1', port: sip.port });
    assert.ok(r.outcome === 'final' && r.status === 401 && r.challenge?.header === 'WWW-Authenticate');
    assert.equal(checks, 0);
  } finally {
    await sip.close();
  }
});

describe('simulated device SIP listener: what it must not answer', () => {
  let sip: SipListener;
  let peer: Socket;
  before(async () => {
    sip = await startSipListener({ onCheckSync: () => undefined });
    peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  });
  after(async () => {
    peer.close();
    await sip.close();
  });

  it('an ACK gets no response (RFC 3261: no request answers an ACK), not a 405', async () => {
    peer.send(request('ACK', 'z9hG4bKack'), sip.port, '127.0.0.1');
    // The first datagram back is the answer to the OPTIONS sent after the ACK: the ACK got none.
    const next = await exchange(peer, sip.port, request('OPTIONS', 'z9hG4bKafterack'));
    assert.equal(next.cseq.method, 'OPTIONS');
    assert.equal(next.status, 405);
  });
});
