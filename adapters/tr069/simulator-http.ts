// The CPE side of HTTP for the simulator: a session's cookie, the Digest (or Basic over TLS) answer to
// a 401, optional gzip bodies. A session's messages share one persistent HTTP/1.1 connection, as TR-069
// §3.4.2 (Amendment 6, "Transaction Sessions") asks of a CPE: it SHOULD keep one TCP connection for the
// whole session, MUST NOT close it mid-session, MUST send the request after a 401 on the same connection
// unless the ACS answered "Connection: close", and if the connection is closed anyway continues the session
// on a new one. genieacs-sim does the same (one keep-alive agent of one socket, destroyed at the session's
// end). `connection: 'message'` opens a fresh connection per message instead, as some old firmware does.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { gzipSync } from 'node:zlib';
import { simRequest, type SimResponse, digestAuthorization, parseAuthChallenges } from '../../src/adapter-api.ts';

export interface HttpOptions {
  insecure?: boolean;
  ca?: string;
}

/** One Authorization value answering `challenge`: Digest if offered, else Basic (https only). */
export function answerChallenge(
  challenge: string,
  url: URL,
  method: string,
  username: string,
  password: string,
  nc: number,
): string | undefined {
  const schemes = parseAuthChallenges(challenge)?.map((c) => c.scheme.toLowerCase()) ?? [];
  if (schemes.includes('digest')) return digestAuthorization({ challenge, username, password, method, uri: url.pathname + url.search, nc });
  if (schemes.includes('basic') && url.protocol === 'https:') return basicAuthorization(username, password);
  return undefined;
}

/** GET with credentials given only after a challenge, as in seed 002 steps 9–12. */
export async function getWithAuth(
  url: string,
  username: string,
  password: string,
  http: HttpOptions,
  saveTo?: string,
): Promise<SimResponse & { challenged: boolean }> {
  const first = await simRequest({ url, ...http, saveTo });
  if (first.status !== 401) return { ...first, challenged: false };
  const auth = answerChallenge(String(first.headers['www-authenticate'] ?? ''), new URL(url), 'GET', username, password, 1);
  if (!auth) return { ...first, challenged: true };
  return { ...(await simRequest({ url, headers: { Authorization: auth }, ...http, saveTo })), challenged: true };
}

/**
 * How the CPE authenticates to the ACS: 'digest' answers the 401 challenge (Digest if offered, else Basic
 * over TLS), as seed 002 shows; 'basic' sends Basic with every message, unasked, and never answers a
 * challenge, as genieacs-sim and many CPE stacks do.
 */
export type CpeAuth = 'digest' | 'basic';

/** 'session': one keep-alive connection for all the session's messages (TR-069 §3.4.2); 'message': a new one per message. */
export type CpeConnection = 'session' | 'message';

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * The CWMP connection of one session: cookie jar of one cookie, authentication after a 401 (or always Basic),
 * one TCP connection reused until `close()` (unless `connection: 'message'`).
 */
export class CwmpHttp {
  private cookie: string | undefined;
  private agent: HttpAgent | undefined;
  private challenge: string | undefined;
  private nc = 0;
  challenges = 0;
  messages = 0;

  constructor(
    private readonly acs: string,
    private readonly username: string,
    private readonly password: string,
    private readonly http: HttpOptions & { gzip?: boolean; auth?: CpeAuth; connection?: CpeConnection },
  ) {}

  /** Ends the session's connection (a CPE closes it when the session is over). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /** The session's pool of one keep-alive socket; a socket the ACS closes is replaced on the next message. */
  private sessionAgent(): HttpAgent | undefined {
    if (this.http.connection === 'message') return undefined;
    const o = { keepAlive: true, maxSockets: 1 };
    return (this.agent ??= this.acs.startsWith('https:') ? new HttpsAgent(o) : new HttpAgent(o));
  }

  async post(xml: string): Promise<SimResponse> {
    let r = await this.send(xml);
    if (r.status === 401 && r.headers['www-authenticate'] && this.http.auth !== 'basic') {
      this.challenges++;
      this.challenge = String(r.headers['www-authenticate']);
      this.nc = 0;
      r = await this.send(xml);
    }
    return r;
  }

  private async send(xml: string): Promise<SimResponse> {
    const url = new URL(this.acs);
    const headers: Record<string, string> = {};
    let body: Buffer | undefined;
    if (xml !== '') {
      headers['Content-Type'] = 'text/xml; charset="utf-8"';
      headers.SOAPAction = '';
      body = Buffer.from(xml, 'utf8');
      if (this.http.gzip) {
        body = gzipSync(body);
        headers['Content-Encoding'] = 'gzip';
      }
    }
    if (this.cookie) headers.Cookie = this.cookie;
    if (this.http.auth === 'basic') headers.Authorization = basicAuthorization(this.username, this.password);
    else if (this.challenge) {
      const auth = answerChallenge(this.challenge, url, 'POST', this.username, this.password, ++this.nc);
      if (auth) headers.Authorization = auth;
    }
    this.messages++;
    const r = await simRequest({
      url: this.acs,
      method: 'POST',
      headers,
      body,
      insecure: this.http.insecure,
      ca: this.http.ca,
      agent: this.sessionAgent(),
    });
    const set = r.headers['set-cookie'];
    if (set && set.length > 0) this.cookie = set[0]!.split(';')[0];
    return r;
  }
}
