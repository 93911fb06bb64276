// The simulated gateway's SIP side: a UDP listener that answers an out-of-dialog NOTIFY with
// `Event: check-sync` (protocols.md §(a) "SIP NOTIFY check-sync", needs EnableSIPRemoteReset = 1) and then
// runs a check. Retransmissions of the same transaction (same Via branch) get the same answer and start
// no second check (RFC 3261 §17.2.2, non-INVITE server transaction).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface SipListenerOptions {
  host?: string;
  port?: number;
  /** The final status to answer (200 normally; 401 to play a gateway that wants authentication). */
  status?: number;
  onCheckSync(): void;
}

export interface SipListener {
  port: number;
  /** NOTIFY transactions received (retransmissions not counted). */
  received(): number;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 200: 'OK', 401: 'Unauthorized', 481: 'Call/Transaction Does Not Exist', 489: 'Bad Event' };

function headers(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (line === '') break;
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const short: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', o: 'event' };
    const key = short[name] ?? name;
    out.set(key, [...(out.get(key) ?? []), line.slice(i + 1).trim()]);
  }
  return out;
}

function answer(h: Map<string, string[]>, status: number): Buffer {
  const lines = [`SIP/2.0 ${status} ${REASONS[status] ?? 'Response'}`];
  for (const v of h.get('via') ?? []) lines.push(`Via: ${v}`);
  lines.push(`From: ${h.get('from')?.[0] ?? ''}`);
  const to = h.get('to')?.[0] ?? '';
  lines.push(`To: ${/;\s*tag=/i.test(to) ? to : `${to};tag=sim${Math.random().toString(16).slice(2, 10)}`}`);
  lines.push(`Call-ID: ${h.get('call-id')?.[0] ?? ''}`, `CSeq: ${h.get('cseq')?.[0] ?? ''}`);
  if (status === 401) lines.push('WWW-Authenticate: Digest realm="gateway", nonce="0123456789abcdef", algorithm=MD5, qop="auth"');
  lines.push('Content-Length: 0');
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n');
}

export function startSipListener(o: SipListenerOptions): Promise<SipListener> {
  const socket: Socket = createSocket('udp4');
  const answered = new Map<string, Buffer>();
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const text = msg.toString('utf8');
    if (!/^NOTIFY\s+sip:\S+\s+SIP\/2\.0\r?\n/.test(text)) return;
    const h = headers(text);
    const branch = /branch=([^;\s,]+)/i.exec(h.get('via')?.[0] ?? '')?.[1] ?? '';
    const prior = answered.get(branch);
    if (prior) return void socket.send(prior, from.port, from.address);
    const event = (h.get('event')?.[0] ?? '').toLowerCase();
    const isCheckSync = /^check-sync\b/.test(event);
    const status = isCheckSync ? (o.status ?? 200) : 489;
    const reply = answer(h, status);
    answered.set(branch, reply);
    socket.send(reply, from.port, from.address);
    if (isCheckSync && status === 200) o.onCheckSync();
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      socket.off('error', reject);
      resolve({
        port: socket.address().port,
        received: () => answered.size,
        close: () => new Promise((r) => socket.close(() => r())),
      });
    });
  });
}
