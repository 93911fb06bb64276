// The simulated phone's SIP side: answers an out-of-dialog NOTIFY with Event: check-sync (200 OK, then the
// phone reboots: protocols.md §(b) "SIP NOTIFY check-sync (Avaya)"); other events get 489, other methods 405.
import { createSocket } from 'node:dgram';

export interface SipListener {
  port: number;
  close(): Promise<void>;
}

/** The response to one request, echoing the headers RFC 3261 §8.2.6.2 requires. */
function answer(request: string, status: string): string {
  const headers = request.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq)\s*:/i.test(l));
  return [`SIP/2.0 ${status}`, ...headers, 'Content-Length: 0', '', ''].join('\r\n');
}

export function listenCheckSync(port: number, host: string, onCheckSync: () => void): Promise<SipListener> {
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (msg, rinfo) => {
    const text = msg.toString('utf8');
    const method = /^(\S+) \S+ SIP\/2\.0\r\n/.exec(text)?.[1];
    if (!method) return; // a response or noise: nothing to answer
    const event = /\r\n(?:Event|o)\s*:\s*([^;\r\n]+)/i.exec(text)?.[1]?.trim().toLowerCase();
    const status = method !== 'NOTIFY' ? '405 Method Not Allowed' : event === 'check-sync' ? '200 OK' : '489 Bad Event';
    sock.send(answer(text, status), rinfo.port, rinfo.address);
    if (status === '200 OK') onCheckSync();
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve({ port: sock.address().port, close: () => new Promise((r) => sock.close(() => r())) });
    });
  });
}
