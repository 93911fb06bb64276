// The simulated device's HTTP: GETs through the shared simulator client, and the scfg upload as the device
// sends it, an HTTP PUT with chunked transfer encoding (protocols.md §(c) "Backups"). Optional HTTP
// credentials answer a 401 with Digest (or Basic over HTTPS), as the device's HTTP-Client settings do.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { digestAuthorization, simRequest, type SimResponse } from '../../src/adapter-api.ts';

export interface SimHttp {
  credentials?: { username: string; password: string };
  insecure?: boolean;
  ca?: string;
}

function authorization(h: SimHttp, url: string, method: string, challenge: string | undefined): string | undefined {
  if (!h.credentials || !challenge) return undefined;
  const u = new URL(url);
  if (/digest/i.test(challenge)) {
    return digestAuthorization({
      challenge,
      username: h.credentials.username,
      password: h.credentials.password,
      method,
      uri: u.pathname + u.search,
    });
  }
  if (u.protocol === 'https:') return `Basic ${Buffer.from(`${h.credentials.username}:${h.credentials.password}`).toString('base64')}`;
  return undefined;
}

/** A GET; a 401 is answered once with the credentials, if the device has any. */
export async function simGet(h: SimHttp, url: string, saveTo?: string): Promise<SimResponse> {
  const first = await simRequest({ url, insecure: h.insecure, ca: h.ca, saveTo });
  if (first.status !== 401) return first;
  const auth = authorization(h, url, 'GET', first.headers['www-authenticate'] as string | undefined);
  if (!auth) return first;
  return simRequest({ url, headers: { Authorization: auth }, insecure: h.insecure, ca: h.ca, saveTo });
}

/** One chunked PUT; resolves with the status and the answer's text. */
function putOnce(h: SimHttp, url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; challenge?: string }> {
  const u = new URL(url);
  const fn = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolveOnce, rejectOnce) => {
    let settled = false;
    const resolve = (v: { status: number; challenge?: string }): void => {
      if (settled) return;
      settled = true;
      resolveOnce(v);
    };
    const reject = (e: Error): void => {
      if (settled) return;
      settled = true;
      rejectOnce(e);
    };
    const r = fn(
      u,
      {
        method: 'PUT',
        headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', ...headers },
        rejectUnauthorized: !h.insecure,
        ca: h.ca,
        agent: false,
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] as string | undefined }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout after 30000 ms')));
    r.on('error', (e) => {
      // The server may answer (401, 413) and close before the whole body is written: that answer counts.
      if ((e as NodeJS.ErrnoException).code === 'EPIPE' || (e as NodeJS.ErrnoException).code === 'ECONNRESET') return;
      reject(e);
    });
    r.on('close', () => setImmediate(() => reject(new Error('connection closed without an answer'))));
    // Written in pieces, as the device streams its configuration: chunked, no Content-Length.
    for (let i = 0; i < body.length; i += 1024) r.write(body.subarray(i, i + 1024));
    r.end();
  });
}

/** The scfg upload: a chunked PUT, retried once with credentials after a 401. */
export async function simPutChunked(h: SimHttp, url: string, body: Buffer): Promise<number> {
  const first = await putOnce(h, url, body, {});
  if (first.status !== 401) return first.status;
  const auth = authorization(h, url, 'PUT', first.challenge);
  if (!auth) return first.status;
  return (await putOnce(h, url, body, { Authorization: auth })).status;
}
