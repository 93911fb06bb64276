import { open, stat } from 'node:fs/promises';
import type { Request, Response } from 'express';
import fresh from 'fresh';
import { watchSendRate, type SendRateLimit } from './send-rate.ts';

export interface ServedFile {
  /**
   * Small rendered files are served from memory; artifacts stream from their blob on disk, or are handed
   * to a front proxy (handOver: the headers that tell nginx which blob to send, X-Accel-Redirect).
   */
  body: { bytes: Buffer } | { path: string; handOver?: (status: 200 | 206) => Record<string, string> };
  etag: string;
  lastModified: Date;
  contentType: string;
}

export interface ServeResult {
  status: number;
  bytes: number;
  /** The bytes are the front proxy's to send: the outcome is known once it reports the transfer. */
  handedOver?: boolean;
  /** Why the answer was cut short by the server, for the event (a client reading too slowly). */
  detail?: string;
}

/**
 * The one device-facing responder: Content-Length, ETag, Last-Modified, 304 on If-None-Match /
 * If-Modified-Since, 206/416 on Range (with If-Range), HEAD, and streaming with bounded memory.
 * Conditional and range headers are parsed by express (`fresh`, `range-parser`), not by hand.
 */
export async function serveFile(req: Request, res: Response, file: ServedFile, rate?: SendRateLimit): Promise<ServeResult> {
  // A revision made in this second is dated from the next one (render/revisions.ts): wait for it, so
  // Last-Modified is never later than Date and the client's next If-Modified-Since is exact.
  const ahead = file.lastModified.getTime() - Date.now();
  if (ahead > 0) {
    await new Promise((r) => setTimeout(r, Math.min(ahead, 2000) + 5));
    if (req.socket.destroyed) return { status: 499, bytes: 0 }; // the client left while held: nothing was sent
  }
  let size: number;
  if ('bytes' in file.body) {
    size = file.body.bytes.length;
  } else {
    try {
      size = (await stat(file.body.path)).size;
    } catch {
      res.status(500).type('text/plain').send('file unavailable\n');
      return { status: 500, bytes: 0 };
    }
  }
  const lastModified = httpDate(file.lastModified);
  // Devices must revalidate every time: they rely on 304/200 to decide whether to install.
  const validators = { ETag: file.etag, 'Last-Modified': lastModified, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-cache' };

  if (notModified(req, file.etag, lastModified)) {
    res.writeHead(304, validators).end();
    return { status: 304, bytes: 0 };
  }
  const method = req.method;
  const headers = req.headers;
  // The common answer (a rendered file, whole): every header in one writeHead, nothing parsed.
  if ('bytes' in file.body && !headers.range) {
    const bytes = file.body.bytes;
    res.writeHead(200, { ...validators, 'Content-Type': file.contentType, 'Content-Length': String(size) });
    if (method === 'HEAD' || size === 0) {
      res.end();
      return { status: 200, bytes: 0 };
    }
    res.end(bytes);
    return { status: 200, bytes: size };
  }
  for (const [k, v] of Object.entries(validators)) res.setHeader(k, v);
  res.setHeader('Content-Type', file.contentType);

  // Front-proxy mode: the decision is made, the bytes are nginx's to send (ranges included). An If-Range is
  // answered here, where the validators are the device's own (nginx would compare the blob file's).
  if ('path' in file.body && file.body.handOver && method === 'GET' && !headers['if-range']) {
    const status = headers.range ? 206 : 200;
    for (const [k, v] of Object.entries(file.body.handOver(status))) res.setHeader(k, v);
    res.status(200).end();
    return { status, bytes: 0, handedOver: true };
  }

  let start = 0;
  let end = size - 1;
  let status = 200;
  if (headers.range && rangeApplies(req, file)) {
    const ranges = req.range(size);
    if (ranges === -1) {
      res.setHeader('Content-Range', `bytes */${size}`);
      res.removeHeader('Content-Type');
      res.status(416).end();
      return { status: 416, bytes: 0 };
    }
    // Malformed (-2) or several ranges: answer the whole file, which RFC 9110 allows.
    if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) {
      start = ranges[0]!.start;
      end = ranges[0]!.end;
      status = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  res.status(status);
  res.setHeader('Content-Length', String(length));
  if (method === 'HEAD' || length === 0) {
    res.end();
    return { status, bytes: 0 };
  }
  if ('bytes' in file.body) {
    res.end(status === 206 ? file.body.bytes.subarray(start, end + 1) : file.body.bytes);
    return { status, bytes: length };
  }
  const watch = watchSendRate(res.socket, rate, () => res.destroy());
  const sent = { acked: 0 };
  try {
    await sendRange(file.body.path, start, length, res, sent);
    return { status, bytes: length };
  } catch {
    // A client that read the last byte and closed at once: on a busy server its close can be seen before the
    // last write's callback, which runs in the same turn. Every byte the kernel took is a download completed.
    await new Promise((r) => setImmediate(r));
    if (sent.acked === length && !watch.reason()) return { status, bytes: length };
    // The client went away, read too slowly, or the disk failed mid-stream: the response is already cut.
    res.destroy();
    const detail = watch.reason();
    return { status: 499, bytes: res.socket?.bytesWritten ?? 0, ...(detail ? { detail } : {}) };
  } finally {
    watch.stop();
  }
}

// A file's date is the same Date object at every request until it changes (a revision, an artifact):
// its HTTP form is made once.
const httpDates = new WeakMap<Date, string>();
function httpDate(d: Date): string {
  let s = httpDates.get(d);
  if (s === undefined) httpDates.set(d, (s = d.toUTCString()));
  return s;
}

const CHUNK = 64 * 1024;

/**
 * Sends `length` bytes of a file from `start` with two buffers per response, reused: one is read from disk
 * while the other is being written, and a buffer is read into again only once its write has completed
 * (handed to the kernel). So a download holds 128 KiB whatever the file size or the client's speed, and
 * allocates nothing per chunk: fs.createReadStream made a new 64 KiB buffer per read, garbage that peak RSS
 * carried between collections (bench/README.md, firmware-download).
 */
async function sendRange(path: string, start: number, length: number, res: Response, sent: { acked: number }): Promise<void> {
  const fh = await open(path, 'r');
  // A write's callback is not always called when the client goes away with the write still queued in the
  // response: the connection's close ends the wait instead, so a cut download is always seen (and recorded).
  let onClose: () => void = () => undefined;
  const gone = new Promise<never>((_ok, fail) => {
    onClose = (): void => fail(new Error('client gone'));
    res.once('close', onClose);
  });
  gone.catch(() => undefined);
  try {
    const bufs = [Buffer.allocUnsafe(Math.min(CHUNK, length)), Buffer.allocUnsafe(Math.min(CHUNK, length))];
    const written: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
    let pos = start;
    let left = length;
    for (let i = 0; left > 0; i ^= 1) {
      await Promise.race([written[i], gone]); // this buffer's previous write has completed
      if (res.destroyed) throw new Error('client gone');
      const want = Math.min(bufs[i]!.length, left);
      const { bytesRead } = await fh.read(bufs[i]!, 0, want, pos);
      if (bytesRead === 0) throw new Error('file shorter than its size');
      pos += bytesRead;
      left -= bytesRead;
      const chunk = bufs[i]!.subarray(0, bytesRead);
      written[i] = new Promise<void>((ok, fail) =>
        res.write(chunk, (e) => {
          if (e) return fail(e);
          sent.acked += chunk.length; // taken by the kernel
          ok();
        }),
      );
      written[i]!.catch(() => undefined); // awaited below or at the next turn; a failure is seen there
    }
    await Promise.race([Promise.all(written), gone]);
    await Promise.race([
      new Promise<void>((ok, fail) => {
        res.once('error', fail);
        res.end(() => ok());
      }),
      gone,
    ]);
  } finally {
    res.off('close', onClose);
    await fh.close();
  }
}

// The origin server always evaluates If-None-Match / If-Modified-Since (RFC 9110 §13.2.1). express's
// req.fresh also answers "changed" to any request carrying Cache-Control: no-cache (a cache's reload rule),
// which would make a gateway that sends it download and reset on every cycle; so `fresh` is asked directly.
function notModified(req: Request, etag: string, lastModified: string): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const ifNoneMatch = req.headers['if-none-match'];
  const ifModifiedSince = req.headers['if-modified-since'];
  if (!ifNoneMatch && !ifModifiedSince) return false;
  return fresh({ 'if-none-match': ifNoneMatch, 'if-modified-since': ifModifiedSince }, { etag, 'last-modified': lastModified });
}

// If-Range: serve the range only when the validator still matches, else the whole (new) file.
function rangeApplies(req: Request, file: ServedFile): boolean {
  const ifRange = req.get('if-range');
  if (!ifRange) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === file.etag;
  const t = Date.parse(ifRange);
  return !Number.isNaN(t) && Math.floor(file.lastModified.getTime() / 1000) <= Math.floor(t / 1000);
}
