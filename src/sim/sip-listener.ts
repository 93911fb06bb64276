// The SIP side of a simulated device: a UDP listener that answers an out-of-dialog NOTIFY with
// `Event: check-sync` (what src/push/check-sync.ts sends) and tells the simulator to run its check. It is a
// non-INVITE server transaction (RFC 3261 §17.2.2): a retransmission of the same request (same topmost Via
// branch) gets the same answer again and starts no second check, as on a real phone or gateway.
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import { headerValue, parseSipRequest, type SipRequest } from '../push/sip-message.ts';

export interface SipListenerOptions {
  host?: string;
  port?: number;
  /** The final status for a check-sync NOTIFY: 200 normally; 401 plays a device that wants authentication. */
  status?: 200 | 401;
  /** Called once per check-sync NOTIFY answered 200 (retransmissions not counted). */
  onCheckSync(): void;
}

export interface SipListener {
  port: number;
  /** NOTIFY transactions received (retransmissions not counted). */
  received(): number;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 200: 'OK', 401: 'Unauthorized', 405: 'Method Not Allowed', 489: 'Bad Event' };

/**
 * Transactions remembered for retransmissions. A client retransmits for 32 s (Timer F); a lab simulator
 * that runs for days must not keep every NOTIFY it ever answered.
 */
const REMEMBERED = 256;

/** The response to one request, echoing what §8.2.6.2 requires (Via, From, To with a tag, Call-ID, CSeq). */
function answer(req: SipRequest, status: number): Buffer {
  const values = (name: string): string[] => req.headers.filter(([n]) => n === name).map(([, v]) => v);
  const to = headerValue(req, 'to') ?? '';
  const lines = [
    `SIP/2.0 ${status} ${REASONS[status] ?? 'Response'}`,
    ...values('via').map((v) => `Via: ${v}`),
    `From: ${headerValue(req, 'from') ?? ''}`,
    `To: ${/;\s*tag=/i.test(to) ? to : `${to};tag=sim${randomBytes(4).toString('hex')}`}`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.cseq.seq} ${req.cseq.method}`,
  ];
  if (status === 401) lines.push('WWW-Authenticate: Digest realm="device", nonce="0123456789abcdef", algorithm=MD5, qop="auth"');
  if (status === 405) lines.push('Allow: NOTIFY');
  lines.push('Content-Length: 0');
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n');
}

/** Listens on UDP (default 127.0.0.1, an ephemeral port) for check-sync NOTIFYs. */
export function startSipListener(o: SipListenerOptions): Promise<SipListener> {
  const host = o.host ?? '127.0.0.1';
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  const answered = new Map<string, Buffer>();
  let received = 0;
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    // A response, noise, or a request without a Via branch (no transaction to match): nothing to answer.
    // Source port 0 (only a forged datagram has it) cannot be answered: send() would throw.
    const req = from.port === 0 ? null : parseSipRequest(msg);
    if (!req?.topViaBranch) return;
    // An ACK is never answered (RFC 3261: no response to an ACK): a 405 to it would be a stray response.
    if (req.method === 'ACK') return;
    const key = `${from.address}|${req.topViaBranch}|${req.method}`;
    const prior = answered.get(key);
    if (prior) return void socket.send(prior, from.port, from.address);
    const isNotify = req.method === 'NOTIFY';
    const isCheckSync = isNotify && /^check-sync\b/i.test(headerValue(req, 'event') ?? '');
    const status = !isNotify ? 405 : isCheckSync ? (o.status ?? 200) : 489;
    const reply = answer(req, status);
    if (answered.size >= REMEMBERED) answered.delete(answered.keys().next().value!);
    answered.set(key, reply);
    if (isNotify) received++;
    socket.send(reply, from.port, from.address);
    if (status === 200) o.onCheckSync();
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.port ?? 0, host, () => {
      socket.off('error', reject);
      // A send the network refuses (an ICMP error, a reply too large) is the peer's loss, never the simulator's end.
      socket.on('error', () => {});
      resolve({
        port: socket.address().port,
        received: () => received,
        close: () => new Promise((r) => socket.close(() => r())),
      });
    });
  });
}
