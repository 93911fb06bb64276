import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

export interface SimRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Accept a self-signed server certificate (lab use). */
  insecure?: boolean;
  /** Trusted CA/certificate PEM for HTTPS. */
  ca?: string;
  /** Stream a 2xx body into this file (constant memory) instead of buffering it. */
  saveTo?: string;
  timeoutMs?: number;
  /**
   * The connection pool to send on (a keep-alive agent reuses one connection, as a device's session of several requests does);
   * default none: a fresh TCP connection for this request, closed after it.
   */
  agent?: Agent;
}

export interface SimResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, unless it was saved to a file. */
  body: Buffer;
  size: number;
  md5: string;
}

/**
 * The HTTP(S) client all device simulators share: node's own http/https (so a lab CA or --insecure
 * works), MD5 computed while streaming, large bodies written to disk, never held in memory.
 */
export function simRequest(req: SimRequest): Promise<SimResponse> {
  const u = new URL(req.url);
  const fn = u.protocol === 'https:' ? httpsRequest : u.protocol === 'http:' ? httpRequest : null;
  if (!fn) return Promise.reject(new Error(`unsupported URL scheme ${u.protocol}`));
  return new Promise((resolve, reject) => {
    const r = fn(
      u,
      {
        method: req.method ?? 'GET',
        headers: req.headers,
        rejectUnauthorized: !req.insecure,
        ca: req.ca,
        timeout: req.timeoutMs ?? 30_000,
        agent: req.agent ?? false,
      },
      (res) => {
        const md5 = createHash('md5');
        let size = 0;
        const chunks: Buffer[] = [];
        const save = req.saveTo && res.statusCode! >= 200 && res.statusCode! < 300 ? req.saveTo : undefined;
        const tap = new Transform({
          transform(c: Buffer, _e, cb): void {
            md5.update(c);
            size += c.length;
            if (!save) chunks.push(c);
            cb(null, save ? c : undefined);
          },
        });
        const done = (): void =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), size, md5: md5.digest('hex') });
        const p = save ? pipeline(res, tap, createWriteStream(save)) : pipeline(res, tap);
        p.then(done, async (e: Error) => {
          if (save) await rm(save, { force: true });
          reject(e);
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timeout after ${req.timeoutMs ?? 30_000} ms`)));
    r.on('error', (e) => reject(req.insecure ? e : withTlsHint(e, u)));
    r.end(req.body);
  });
}

/** OpenSSL's verdicts on a server certificate the client does not trust (node's err.code). */
const UNTRUSTED_CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A TLS verification failure says what to do about it: every simulator offers --ca and --insecure, and
 * APS's own self-signed certificate (generated on first start) is DATA/tls/cert.pem.
 */
export function withTlsHint(e: Error, url: URL): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (url.protocol !== 'https:' || !code || !UNTRUSTED_CERT.has(code)) return e;
  const hint = `${e.message}: the HTTPS certificate of ${url.host} is not trusted; pass --ca FILE with its certificate or CA (APS's own self-signed one is <data folder>/tls/cert.pem), or --insecure in a lab`;
  return Object.assign(new Error(hint, { cause: e }), { code });
}
