// How the simulated gateway fetches one URL (protocols.md §(a) "What one check does, per URL"):
// HTTP/HTTPS with the AudioCodes User-Agent, If-Modified-Since = the time of the last download from that
// URL (the server's Date of that 200), Basic credentials from the URL or Digest (AUPDDigestUsername /
// AUPDDigestPassword) on a 401; FTP with the login in the URL and MDTM standing in for If-Modified-Since.
import { Writable } from 'node:stream';
import { simRequest, type SimResponse, digestAuthorization } from '../../src/adapter-api.ts';

export interface FetchOptions {
  userAgent: string;
  /** AUPDDigestUsername / AUPDDigestPassword currently configured. */
  digest?: { username: string; password: string };
  /** HTTP date (HTTP) or ISO time (FTP) of the last download from this URL; absent: unconditional. */
  since?: string;
  insecure?: boolean;
  ca?: string;
}

export type FetchResult = { status: 200; body: Buffer; at: string } | { status: 304 } | { status: number; error: string };

async function fetchHttp(url: URL, o: FetchOptions): Promise<FetchResult> {
  const headers: Record<string, string> = { 'User-Agent': o.userAgent };
  if (o.since) headers['If-Modified-Since'] = o.since;
  let user = decodeURIComponent(url.username);
  let pass = decodeURIComponent(url.password);
  if (user) headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const clean = new URL(url);
  clean.username = '';
  clean.password = '';
  const get = (h: Record<string, string>): Promise<SimResponse> =>
    simRequest({ url: clean.href, headers: h, insecure: o.insecure, ca: o.ca });
  let r = await get(headers);
  if (r.status === 401 && !user && o.digest) {
    ({ username: user, password: pass } = o.digest);
    const challenge = String(r.headers['www-authenticate'] ?? '');
    const uri = clean.pathname + clean.search;
    r = await get({ ...headers, Authorization: digestAuthorization({ challenge, username: user, password: pass, method: 'GET', uri }) });
  }
  if (r.status === 304) return { status: 304 };
  if (r.status !== 200) return { status: r.status, error: `HTTP ${r.status}` };
  // The server's Date is the device's "time of the last download" (the manuals insist a server send it).
  return { status: 200, body: r.body, at: String(r.headers.date ?? new Date().toUTCString()) };
}

async function fetchFtp(url: URL, o: FetchOptions): Promise<FetchResult> {
  let ftp: typeof import('basic-ftp');
  try {
    ftp = await import('basic-ftp');
  } catch {
    return { status: 0, error: 'FTP simulation needs the basic-ftp package (a dev dependency)' };
  }
  const client = new ftp.Client(10_000);
  try {
    await client.access({
      host: url.hostname,
      port: Number(url.port || 21),
      user: url.username ? decodeURIComponent(url.username) : 'anonymous',
      password: url.username ? decodeURIComponent(url.password) : 'anonymous@',
    });
    const path = decodeURIComponent(url.pathname);
    const mtime = await client.lastMod(path);
    if (o.since && mtime.getTime() <= Date.parse(o.since)) return { status: 304 };
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb): void {
        chunks.push(c);
        cb();
      },
    });
    await client.downloadTo(sink, path);
    return { status: 200, body: Buffer.concat(chunks), at: mtime.toISOString() };
  } catch (e) {
    const code = (e as { code?: number }).code;
    return { status: typeof code === 'number' ? code : 0, error: `FTP: ${(e as Error).message}` };
  } finally {
    client.close();
  }
}

/** One GET of one URL. Never throws: failures are results. */
export async function fetchUrl(href: string, o: FetchOptions): Promise<FetchResult> {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return { status: 0, error: 'bad URL' };
  }
  try {
    if (url.protocol === 'ftp:') return await fetchFtp(url, o);
    if (url.protocol === 'http:' || url.protocol === 'https:') return await fetchHttp(url, o);
    return { status: 0, error: `unsupported scheme ${url.protocol}` };
  } catch (e) {
    return { status: 0, error: (e as Error).message };
  }
}
