// Front-proxy mode (`http.frontProxy`): APS identifies the device, checks its credentials and decides which
// blob it gets, then answers nginx with `X-Accel-Redirect` to the content-addressed blob; nginx sends the
// bytes (sendfile, its own range handling). So that events and `fetched` stay as accurate as when APS
// streams the file itself, nginx reports each handed-over transfer's end in one syslog line over UDP
// (`access_log syslog:` with the `aps_done` format of nginx/aps.conf.template): the transfer id APS gave
// it, the status, the bytes sent and whether the response completed. Only then is the event recorded.
// A transfer nginx never reports (nginx restarted, a datagram lost) is recorded after `completionTimeoutSeconds`
// with what APS knows, marked as unconfirmed, and never counted as fetched.
// Only a request that came through a trusted proxy (`http.trustedProxies`) is handed over: anyone else
// talking to APS's port directly gets the bytes from APS and never sees a transfer id. Reports are read
// only from those proxies' addresses, and the transfers awaiting one are capped (`maxPending`).
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../log.ts';
import type { NetworkList } from './networks.ts';

export interface FrontProxyConfig {
  mode: 'x-accel';
  /** nginx's internal location that maps to the blob folder: `<prefix><sha256[0:2]>/<sha256>`. */
  prefix: string;
  /** Where APS listens for nginx's syslog lines (UDP); port 0 picks one (tests). */
  completionHost: string;
  completionPort: number;
  /** A transfer not reported within this time is recorded as unconfirmed. */
  completionTimeoutSeconds: number;
  /** Transfers awaiting a report at most: past it, the oldest is recorded as unconfirmed. */
  maxPending: number;
}

/** How a handed-over transfer ended, as nginx logged it. */
export interface TransferEnd {
  status: number;
  bytes: number;
  /** nginx's $request_completion: the whole response was sent. */
  complete: boolean;
  /** false: nginx never reported it within the timeout. */
  confirmed: boolean;
}

interface Pending {
  done: (end: TransferEnd) => void;
  timer: NodeJS.Timeout;
  /** The status APS expected nginx to send (200, or 206 for a range): what an unconfirmed end records. */
  status: number;
}

const ID_RE = /^[A-Za-z0-9_-]{22}$/;
// The message part of an RFC 3164 line as nginx writes it: `... <tag>: <id> <status> <bytes> <completion>`.
const LINE_RE = /:\s([A-Za-z0-9_-]{22}) (\d{3}) (\d+) (OK)?\s*$/;

export class FrontProxy {
  readonly config: FrontProxyConfig;
  private readonly log: Logger;
  private readonly pending = new Map<string, Pending>();
  private socket: Socket | null = null;
  private readonly counts = { handedOver: 0, confirmed: 0, unconfirmed: 0, overflowed: 0 };
  private readonly proxies: NetworkList | undefined;
  /** Set while close() waits for the last reports. */
  private onIdle: (() => void) | null = null;

  /** @param proxies the trusted proxies (src/transport/trusted-proxies.ts): who is handed transfers and may report them */
  constructor(config: FrontProxyConfig, log: Logger, proxies: NetworkList | undefined) {
    this.config = config;
    this.log = log;
    this.proxies = proxies;
  }

  /** Whether a request's peer (req.socket.remoteAddress, not req.ip) is a trusted proxy: only then is it handed over. */
  fronts(peer: string | undefined): boolean {
    return this.proxies?.contains(peer) ?? false;
  }

  /** The internal URI nginx serves a blob from. */
  uriOf(sha256: string): string {
    return `${this.config.prefix}${sha256.slice(0, 2)}/${sha256}`;
  }

  /** A new transfer: the id to put in X-Aps-Transfer; `done` runs once, when nginx reports it or at the timeout. */
  begin(done: (end: TransferEnd) => void, status: number): string {
    // Full (nginx stopped reporting, or a flood of downloads): the oldest is given up on, so memory stays bounded.
    while (this.pending.size >= this.config.maxPending) {
      const oldest = this.pending.keys().next().value!;
      this.counts.overflowed++;
      // The first and then every thousandth: a proxy that stopped reporting would otherwise log every download.
      if (this.counts.overflowed % 1000 === 1) {
        this.log.warn(
          { maxPending: this.config.maxPending, overflowed: this.counts.overflowed },
          'front proxy: too many transfers await a report; the oldest are recorded as unconfirmed (is nginx reporting?)',
        );
      }
      this.unconfirmed(oldest);
    }
    const id = randomBytes(16).toString('base64url');
    const timer = setTimeout(() => this.unconfirmed(id), this.config.completionTimeoutSeconds * 1000);
    timer.unref();
    this.pending.set(id, { done, timer, status });
    this.counts.handedOver++;
    return id;
  }

  /** `unconfirmed` includes `overflowed`: the transfers given up on because `maxPending` were waiting. */
  stats(): { handedOver: number; confirmed: number; unconfirmed: number; overflowed: number; pending: number } {
    return { ...this.counts, pending: this.pending.size };
  }

  /** Handles one syslog datagram from nginx; ignores anything that is not a pending transfer's report. */
  receive(line: string): boolean {
    const m = LINE_RE.exec(line);
    if (!m || !ID_RE.test(m[1]!)) return false;
    const p = this.pending.get(m[1]!);
    if (!p) return false;
    this.pending.delete(m[1]!);
    clearTimeout(p.timer);
    this.counts.confirmed++;
    p.done({ status: Number(m[2]), bytes: Number(m[3]), complete: m[4] === 'OK', confirmed: true });
    this.idleCheck();
    return true;
  }

  /** The UDP port nginx reports to, once listening. */
  port(): number | null {
    return this.socket ? this.socket.address().port : null;
  }

  /** Starts the UDP listener; resolves with its port. */
  async listen(): Promise<number> {
    const socket = createSocket(this.config.completionHost.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    // A datagram from anyone but a trusted proxy is dropped unread: the channel's only check otherwise
    // would be the transfer id, and a forged "complete" would count a download as fetched.
    socket.on('message', (msg, from) => {
      if (msg.length <= 1024 && this.fronts(from.address)) this.receive(msg.toString('latin1'));
    });
    socket.on('error', (e) => this.log.error({ err: e }, 'front-proxy completion listener failed'));
    await new Promise<void>((res, rej) => {
      socket.once('error', rej);
      socket.bind(this.config.completionPort, this.config.completionHost, () => {
        socket.off('error', rej);
        res();
      });
    });
    return socket.address().port;
  }

  private unconfirmed(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.counts.unconfirmed++;
    p.done({ status: p.status, bytes: 0, complete: false, confirmed: false });
    this.idleCheck();
  }

  private idleCheck(): void {
    if (this.pending.size === 0) this.onIdle?.();
  }

  /**
   * Waits up to `waitMs` for nginx to report the transfers still pending (nginx keeps sending after APS
   * stopped answering: a restart must not record them as unconfirmed), then records what is left as
   * unconfirmed and stops listening.
   */
  async close(waitMs = 0): Promise<void> {
    if (this.pending.size > 0 && waitMs > 0 && this.socket) {
      this.log.info({ pending: this.pending.size, waitMs }, 'shutdown: waiting for the front proxy to report transfers it is sending');
      await new Promise<void>((res) => {
        const timer = setTimeout(res, waitMs);
        this.onIdle = (): void => {
          clearTimeout(timer);
          res();
        };
      });
      this.onIdle = null;
    }
    for (const id of [...this.pending.keys()]) this.unconfirmed(id);
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((res) => s.close(() => res()));
  }
}
