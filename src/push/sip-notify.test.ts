// Drives sendSipNotify against a real UDP socket on 127.0.0.1 playing the device. Where the count of
// transmissions matters, timers run on a manual clock that the device advances when a request reaches it,
// so the RFC 3261 schedule is checked in virtual time and a loaded machine changes nothing. Elsewhere
// timers are shrunk; assertions are on what was sent and answered, never on time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { summarizeNotify } from './check-sync.ts';
import { sendSipNotify, type SipClock } from './sip-notify.ts';

/** Virtual time: nothing fires until next() runs the earliest pending timer. */
class ManualClock implements SipClock {
  now = 0;
  private seq = 0;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): number {
    this.timers.set(++this.seq, { due: this.now + ms, fn });
    return this.seq;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Runs the earliest timer (the first set, on a tie); false when none is pending. */
  next(): boolean {
    let id = -1;
    for (const [k, t] of this.timers) if (id < 0 || t.due < this.timers.get(id)!.due) id = k;
    const t = this.timers.get(id);
    if (!t) return false;
    this.timers.delete(id);
    this.now = t.due;
    t.fn();
    return true;
  }

  pending(): number {
    return this.timers.size;
  }
}

/** RFC 3261 defaults: T1 500 ms, T2 4 s, Timer F 64*T1. */
const RFC = { t1Ms: 500, t2Ms: 4000, timerFMs: 32_000 };

// Retransmissions come fast; Timer F stays far off: these devices answer, and a test process stalled for a
// few seconds on a loaded machine must not turn an answered request into a timeout.
const fast = { t1Ms: 20, t2Ms: 80, timerFMs: 30_000 };
// Counts are lower bounds: on a loaded machine a reply can lose the race with one more retransmission.
function final(r: Awaited<ReturnType<typeof sendSipNotify>>, status: number, minTransmissions: number): void {
  assert.equal(r.outcome, 'final', JSON.stringify(r));
  assert.equal(r.outcome === 'final' && r.status, status);
  assert.ok(r.transmissions >= minTransmissions, `only ${r.transmissions} transmissions`);
}

interface Device {
  port: number;
  requests: string[];
  close(): Promise<void>;
}
/** What the device answers to its n-th request (0-based): datagrams to send back, maybe none. */
type Behaviour = (n: number, request: string) => string[];

function header(request: string, name: string): string {
  const m = new RegExp(`^${name}: (.*)$`, 'mi').exec(request);
  assert.ok(m, `request has no ${name}`);
  return m[1]!;
}

function respond(request: string, status: string, extra: string[] = []): string {
  return [
    `SIP/2.0 ${status}`,
    `Via: ${header(request, 'Via')};received=127.0.0.1`,
    `From: ${header(request, 'From')}`,
    `To: ${header(request, 'To')};tag=dev1`,
    `Call-ID: ${header(request, 'Call-ID')}`,
    `CSeq: ${header(request, 'CSeq')}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function device(behaviour: Behaviour): Promise<Device> {
  const socket: Socket = createSocket('udp4');
  const requests: string[] = [];
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const text = msg.toString('utf8');
    const replies = behaviour(requests.length, text);
    requests.push(text);
    for (const r of replies) socket.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    requests,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

test('retransmits until answered: two requests dropped, the third gets 200', async () => {
  const clock = new ManualClock();
  const at: number[] = [];
  // A silent device moves virtual time on to the next retransmission; the answer stops it.
  const dev = await device((n, req) => {
    at.push(clock.now);
    if (n >= 2) return [respond(req, '200 OK')];
    clock.next();
    return [];
  });
  try {
    const result = await sendSipNotify({ host: '127.0.0.1', port: dev.port, user: '1001' }, { timers: RFC, clock });
    final(result, 200, 3);
    assert.equal(result.transmissions, 3);
    assert.deepEqual(at, [0, 500, 1500], 'Timer E: T1, then doubling');
    assert.equal(clock.pending(), 0, 'Timer E and Timer F are cancelled by the final response');
    assert.equal(result.outcome === 'final' && result.reason, 'OK');
    assert.equal(dev.requests.length, 3);
    assert.ok(
      dev.requests.every((r) => r === dev.requests[0]),
      'a retransmission is the same request',
    );
    const req = dev.requests[0]!;
    assert.ok(req.startsWith(`NOTIFY sip:1001@127.0.0.1:${dev.port} SIP/2.0\r\n`));
    assert.match(header(req, 'Via'), /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK[0-9a-f]+;rport$/);
    assert.match(header(req, 'From'), /^<sip:aps@127\.0\.0\.1>;tag=[0-9a-f]+$/);
    assert.equal(header(req, 'To'), '<sip:1001@127.0.0.1>');
    assert.match(header(req, 'Call-ID'), /^[0-9a-f]+@127\.0\.0\.1$/);
    assert.equal(header(req, 'CSeq'), '1 NOTIFY');
    assert.equal(header(req, 'Max-Forwards'), '70');
    assert.equal(header(req, 'Event'), 'check-sync;reboot=false');
    assert.equal(header(req, 'Content-Length'), '0');
    assert.ok(req.endsWith('\r\n\r\n'));
  } finally {
    await dev.close();
  }
});

test('401 and 407 are final, with the challenge kept', async () => {
  const challenge = 'Digest realm="mp124", nonce="abc123", algorithm=MD5, qop="auth"';
  const dev = await device((_n, req) => [respond(req, '401 Unauthorized', [`WWW-Authenticate: ${challenge}`])]);
  const proxy = await device((_n, req) => [respond(req, '407 Proxy Authentication Required', [`Proxy-Authenticate: ${challenge}`])]);
  try {
    const { transmissions, ...rest } = await sendSipNotify({ host: '127.0.0.1', port: dev.port }, { timers: fast });
    assert.ok(transmissions >= 1);
    assert.deepEqual(rest, {
      outcome: 'final',
      status: 401,
      reason: 'Unauthorized',
      challenge: { header: 'WWW-Authenticate', value: challenge },
    });
    assert.ok(dev.requests[0]!.startsWith(`NOTIFY sip:127.0.0.1:${dev.port} SIP/2.0\r\n`), 'no user part without a user');
    const r = await sendSipNotify({ host: '127.0.0.1', port: proxy.port }, { timers: fast });
    assert.equal(r.outcome === 'final' && r.challenge?.header, 'Proxy-Authenticate');
    assert.equal(r.outcome === 'final' && r.challenge?.value, challenge);
  } finally {
    await dev.close();
    await proxy.close();
  }
});

test('100 Trying, then retransmissions go on until 200', async () => {
  const dev = await device((n, req) => (n === 0 ? [respond(req, '100 Trying')] : n < 3 ? [] : [respond(req, '200 OK')]));
  try {
    const result = await sendSipNotify({ host: '127.0.0.1', port: dev.port, user: 'gw' }, { timers: fast });
    final(result, 200, 4);
    assert.ok(dev.requests.length >= 4);
  } finally {
    await dev.close();
  }
});

test('a device that never answers times out after retransmitting', async () => {
  // Virtual time moves only when a request has reached the device, so every transmission is counted
  // before the next timer runs, and Timer F fires exactly when RFC 3261 says, however loaded the machine.
  const clock = new ManualClock();
  const at: number[] = [];
  const dev = await device(() => {
    at.push(clock.now);
    clock.next();
    return [];
  });
  try {
    const result = await sendSipNotify({ host: '127.0.0.1', port: dev.port }, { timers: RFC, clock });
    assert.deepEqual(result, { outcome: 'timeout', transmissions: 11, provisional: false });
    // §17.1.2.2: T1, doubling up to T2, then every T2, until Timer F (64*T1 = 32 s).
    assert.deepEqual(at, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.equal(clock.now, 32_000, 'the last timer to run was Timer F');
    assert.equal(clock.pending(), 0, 'no retransmission is left scheduled after the timeout');
    assert.equal(dev.requests.length, result.transmissions);
    assert.ok(
      dev.requests.every((r) => r === dev.requests[0]),
      'every retransmission is the same request',
    );
  } finally {
    await dev.close();
  }
});

test('garbage and responses of other transactions are ignored', async () => {
  const clock = new ManualClock();
  const dev = await device((_n, req) => {
    const replies = [
      'garbage',
      'SIP/2.0 200 OK\r\n\r\n',
      respond(req, '200 OK').replace(/branch=z9hG4bK[0-9a-f]+/, 'branch=z9hG4bKsomeoneelse'),
      respond(req, '200 OK').replace('1 NOTIFY', '1 INVITE'),
      respond(req, '200 OK').replace('SIP/2.0 200 OK', 'SIP/2.0 2OO OK'),
      Buffer.from([0, 1, 2, 3, 255]).toString('latin1'),
    ];
    clock.next();
    return replies;
  });
  try {
    const result = await sendSipNotify({ host: '127.0.0.1', port: dev.port }, { timers: RFC, clock });
    assert.deepEqual(result, { outcome: 'timeout', transmissions: 11, provisional: false });
    assert.equal(dev.requests.length, 11, 'the device kept receiving retransmissions');
  } finally {
    await dev.close();
  }
});

test('a closed port (ICMP unreachable) is an error result', async () => {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  // No timer ever runs on this clock: the ICMP error alone must end the transaction.
  const clock = new ManualClock();
  const result = await sendSipNotify({ host: '127.0.0.1', port }, { timers: RFC, clock });
  assert.equal(result.outcome, 'error');
  assert.equal(clock.pending(), 0, 'the timers are cancelled');
  assert.equal(result.outcome === 'error' && result.sent, true, 'the NOTIFY did leave');
  assert.equal(
    result.outcome === 'error' ? result.message : '',
    `sent; the device refused it (ICMP port unreachable: nothing listens on 127.0.0.1:${port}/udp)`,
  );
  assert.deepEqual(summarizeNotify(result), {
    ok: false,
    summary: `sent; the device refused it (ICMP port unreachable: nothing listens on 127.0.0.1:${port}/udp)`,
  });
});

test('bad targets and options are error results, nothing is sent', async () => {
  const bad = [
    sendSipNotify({ host: 'bad host' }),
    sendSipNotify({ host: '127.0.0.1', port: 0 }),
    sendSipNotify({ host: '127.0.0.1', port: 70000 }),
    sendSipNotify({ host: '127.0.0.1', user: 'a b' }),
    sendSipNotify({ host: '127.0.0.1' }, { event: 'check-sync\r\nX: injected' }),
    sendSipNotify({ host: '127.0.0.1' }, { extraHeaders: { 'Bad Name': 'x' } }),
    sendSipNotify({ host: '127.0.0.1' }, { timers: { t1Ms: 0 } }),
    sendSipNotify({ host: 'no-such-host.invalid' }),
  ];
  for (const r of await Promise.all(bad)) {
    assert.equal(r.outcome, 'error');
    assert.equal(r.transmissions, 0);
    assert.match(summarizeNotify(r).summary, /^not sent: /);
  }
});

test('event, from user, advertised host and extra headers are configurable', async () => {
  const dev = await device((_n, req) => [respond(req, '200 OK')]);
  try {
    const result = await sendSipNotify(
      { host: '127.0.0.1', port: dev.port, user: '1001' },
      {
        timers: fast,
        event: 'check-sync;reboot=true',
        fromUser: 'prov',
        advertisedHost: 'aps.example.net',
        extraHeaders: { 'Subscription-State': 'terminated' },
      },
    );
    assert.equal(result.outcome, 'final');
    const req = dev.requests[0]!;
    assert.equal(header(req, 'Event'), 'check-sync;reboot=true');
    assert.equal(header(req, 'Subscription-State'), 'terminated');
    assert.match(header(req, 'From'), /^<sip:prov@aps\.example\.net>;tag=/);
    assert.match(header(req, 'Via'), /^SIP\/2\.0\/UDP aps\.example\.net:\d+;branch=z9hG4bK/);
  } finally {
    await dev.close();
  }
});
