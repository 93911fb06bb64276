// Push trigger: an out-of-dialog SIP NOTIFY `Event: check-sync` over UDP, which makes a phone or gateway
// run its provisioning check now instead of at its next poll (protocols.md "Generic SIP NOTIFY
// check-sync"; some devices must have it enabled first: the adapter READMEs say how).
// One RFC 3261 §17.1.2 non-INVITE client transaction: Timer E retransmits from T1 doubling to T2, and at
// T2 once a 1xx arrived; Timer F (64*T1) gives up. Responses match on the top Via branch and the CSeq
// method (§17.1.3). Every network condition becomes a result value; this never throws.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { headerValue, parseSipResponse } from './sip-message.ts';

export interface SipNotifyTarget {
  /** IP address or host name of the device. */
  host: string;
  /** SIP port; 5060 when absent. */
  port?: number;
  /** User part of the Request-URI and To (the device's SIP account), if any. */
  user?: string;
}

/** RFC 3261 timer values in ms; tests shrink them. */
export interface SipTimers {
  t1Ms: number;
  t2Ms: number;
  timerFMs: number;
}

/**
 * Where Timer E and Timer F are scheduled. The default is the process's timers; a test passes a manual
 * clock so the retransmission schedule is checked in virtual time, whatever the machine's load.
 */
export interface SipClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const SYSTEM_CLOCK: SipClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SipNotifyOptions {
  /** Event header value; default `check-sync;reboot=false` (update without a forced reboot). */
  event?: string;
  timers?: Partial<SipTimers>;
  /** User part of From; default `aps`. */
  fromUser?: string;
  /** Host put in Via and From, e.g. the public address behind NAT; default the socket's local address. */
  advertisedHost?: string;
  /** Extra headers some phones want (e.g. `Subscription-State`); names and values on one line each. */
  extraHeaders?: Readonly<Record<string, string>>;
  /** Timer source; the process's timers when absent. */
  clock?: SipClock;
}

export type SipNotifyResult =
  /** A final response; 401/407 carry the challenge header so a caller may retry with credentials. */
  | {
      outcome: 'final';
      status: number;
      reason: string;
      transmissions: number;
      challenge?: { header: 'WWW-Authenticate' | 'Proxy-Authenticate'; value: string };
    }
  /** Timer F expired; `provisional` is true when a 1xx had arrived. */
  | { outcome: 'timeout'; transmissions: number; provisional: boolean }
  /**
   * DNS failure, ICMP unreachable, bad target: the message names the cause, never a credential. `sent` is
   * true when the NOTIFY left this host (an ICMP port unreachable means the device's host answered that
   * nothing listens on the port).
   */
  | { outcome: 'error'; message: string; transmissions: number; sent?: boolean };

const DEFAULT_T1 = 500;
const DEFAULT_T2 = 4000;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/;
const HOST = /^[A-Za-z0-9\-.]+$/;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const uriHost = (h: string): string => (isIP(h) === 6 ? `[${h}]` : h);

function checkInput(target: SipNotifyTarget, o: SipNotifyOptions, t: SipTimers): string | null {
  if (!(isIP(target.host) || HOST.test(target.host))) return 'bad target host';
  if (target.port !== undefined && !(Number.isInteger(target.port) && target.port > 0 && target.port < 65536)) {
    return 'bad target port';
  }
  if (target.user !== undefined && !USER.test(target.user)) return 'bad target user';
  if (o.fromUser !== undefined && !USER.test(o.fromUser)) return 'bad fromUser';
  if (o.advertisedHost !== undefined && !(isIP(o.advertisedHost) || HOST.test(o.advertisedHost))) return 'bad advertisedHost';
  if (o.event !== undefined && !/^[\x21-\x7e][\x20-\x7e]*$/.test(o.event)) return 'bad event';
  for (const [k, v] of Object.entries(o.extraHeaders ?? {})) {
    if (!TOKEN.test(k) || /[\r\n]/.test(v)) return 'bad extra header';
  }
  if (!(t.t1Ms > 0 && t.t2Ms >= t.t1Ms && t.timerFMs > 0)) return 'bad timers';
  return null;
}

interface Ids {
  branch: string;
  tag: string;
  callId: string;
  cseq: number;
}

function buildRequest(target: SipNotifyTarget, o: SipNotifyOptions, local: { host: string; port: number }, ids: Ids): Buffer {
  const port = target.port ?? 5060;
  const userPart = target.user ? `${target.user}@` : '';
  const ruri = `sip:${userPart}${uriHost(target.host)}:${port}`;
  const lh = uriHost(local.host);
  const lines = [
    `NOTIFY ${ruri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${lh}:${local.port};branch=${ids.branch};rport`,
    `Max-Forwards: 70`,
    `From: <sip:${o.fromUser ?? 'aps'}@${lh}>;tag=${ids.tag}`,
    `To: <sip:${userPart}${uriHost(target.host)}>`,
    `Call-ID: ${ids.callId}`,
    `CSeq: ${ids.cseq} NOTIFY`,
    `Event: ${o.event ?? 'check-sync;reboot=false'}`,
    ...Object.entries(o.extraHeaders ?? {}).map(([k, v]) => `${k}: ${v}`),
    `User-Agent: APS`,
    `Content-Length: 0`,
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8');
}

/** Sends one check-sync NOTIFY and waits for its outcome. */
export async function sendSipNotify(target: SipNotifyTarget, options: SipNotifyOptions = {}): Promise<SipNotifyResult> {
  const t1 = options.timers?.t1Ms ?? DEFAULT_T1;
  const timers: SipTimers = {
    t1Ms: t1,
    t2Ms: options.timers?.t2Ms ?? Math.max(DEFAULT_T2, t1),
    timerFMs: options.timers?.timerFMs ?? 64 * t1,
  };
  const bad = checkInput(target, options, timers);
  if (bad) return { outcome: 'error', message: bad, transmissions: 0 };

  let address: string;
  let family: number;
  try {
    ({ address, family } = await lookup(target.host));
  } catch (e) {
    return {
      outcome: 'error',
      message: `cannot resolve ${target.host}: ${(e as NodeJS.ErrnoException).code ?? 'lookup failed'}`,
      transmissions: 0,
    };
  }
  return runTransaction(target, options, timers, address, family === 6 ? 'udp6' : 'udp4');
}

function runTransaction(
  target: SipNotifyTarget,
  options: SipNotifyOptions,
  timers: SipTimers,
  address: string,
  type: 'udp4' | 'udp6',
): Promise<SipNotifyResult> {
  return new Promise((resolve) => {
    const socket: Socket = createSocket(type);
    const clock = options.clock ?? SYSTEM_CLOCK;
    const ids: Ids = { branch: `z9hG4bK${hex(12)}`, tag: hex(6), callId: `${hex(12)}@aps`, cseq: 1 };
    let transmissions = 0;
    let provisional = false;
    let interval = timers.t1Ms;
    let timerE: unknown;
    let timerF: unknown;
    let done = false;
    let request: Buffer | undefined;
    let sent = false;

    const finish = (result: SipNotifyResult): void => {
      if (done) return;
      done = true;
      if (timerE !== undefined) clock.clearTimeout(timerE);
      if (timerF !== undefined) clock.clearTimeout(timerF);
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      resolve(result);
    };
    const fail = (message: string): void => finish({ outcome: 'error', message, transmissions, ...(sent ? { sent } : {}) });
    // After a datagram left, an ICMP error is the device host's answer: say so rather than "not sent".
    const failWith = (err: unknown, what: string): void => {
      const code = errCode(err);
      const where = `${target.host}:${target.port ?? 5060}/udp`;
      if (sent && code === 'ECONNREFUSED') return fail(`sent; the device refused it (ICMP port unreachable: nothing listens on ${where})`);
      if (sent && (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')) {
        return fail(`sent; ${target.host} is unreachable (ICMP ${code === 'EHOSTUNREACH' ? 'host' : 'network'} unreachable)`);
      }
      fail(`${what}: ${code}`);
    };

    const transmit = (): void => {
      if (done || !request) return;
      transmissions++;
      try {
        socket.send(request, (err) => {
          if (err) failWith(err, `send to ${target.host} failed`);
          else sent = true;
        });
      } catch (err) {
        failWith(err, `send to ${target.host} failed`);
      }
    };
    const onTimerE = (): void => {
      transmit();
      // §17.1.2.2: doubling up to T2 while Trying; T2 once Proceeding.
      interval = provisional ? timers.t2Ms : Math.min(interval * 2, timers.t2Ms);
      timerE = clock.setTimeout(onTimerE, interval);
    };

    // ICMP port/host unreachable reaches a connected UDP socket as an error (ECONNREFUSED etc.).
    socket.on('error', (err) => failWith(err, target.host));
    socket.on('message', (msg) => {
      const res = parseSipResponse(msg);
      if (!res || res.topViaBranch !== ids.branch || res.cseq.method !== 'NOTIFY') return;
      if (res.status < 200) {
        provisional = true;
        return;
      }
      const header = res.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
      const value = res.status === 401 || res.status === 407 ? headerValue(res, header) : undefined;
      finish({
        outcome: 'final',
        status: res.status,
        reason: res.reason,
        transmissions,
        ...(value !== undefined ? { challenge: { header, value } } : {}),
      });
    });
    const start = (): void => {
      if (done) return;
      const local = socket.address();
      const host = options.advertisedHost ?? local.address;
      ids.callId = `${hex(12)}@${uriHost(host)}`;
      request = buildRequest(target, options, { host, port: local.port }, ids);
      transmit();
      // §17.1.2.2: Timer E and Timer F both start when the request is first sent (a slow connect or a
      // busy event loop before this point must not eat into the retransmission schedule).
      timerE = clock.setTimeout(onTimerE, interval);
      timerF = clock.setTimeout(() => finish({ outcome: 'timeout', transmissions, provisional }), timers.timerFMs);
    };
    try {
      socket.connect(target.port ?? 5060, address, start);
    } catch (err) {
      failWith(err, target.host);
    }
  });
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? 'error';
}
