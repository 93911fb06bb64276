import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { simRequest } from '../sim/http-client.ts';
import { tempDir } from '../../test/helpers/server.ts';
import { until } from '../../test/helpers/until.ts';
import { serveFile } from './file-responder.ts';

describe('file responder (one for every adapter)', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const big = Buffer.alloc(8 * 1024 * 1024);
  const lastModified = new Date('2026-03-01T10:00:00Z');
  const results: Array<{ status: number; bytes: number }> = [];

  before(async () => {
    dir = tempDir('aps-fr-');
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    writeFileSync(join(dir, 'big.bin'), big);
    writeFileSync(join(dir, 'huge.bin'), Buffer.alloc(48 << 20, 7)); // more than loopback socket buffers hold
    const app = express();
    app.get(
      '/disk',
      (req, res) =>
        void serveFile(req, res, {
          body: { path: join(dir, 'big.bin') },
          etag: '"big"',
          lastModified,
          contentType: 'application/octet-stream',
        }),
    );
    app.get('/disk-result', async (req, res) => {
      results.push(
        await serveFile(req, res, {
          body: { path: join(dir, 'huge.bin') },
          etag: '"huge"',
          lastModified,
          contentType: 'application/octet-stream',
        }),
      );
    });
    app.get(
      '/gone',
      (req, res) =>
        void serveFile(req, res, { body: { path: join(dir, 'missing.bin') }, etag: '"x"', lastModified, contentType: 'text/plain' }),
    );
    app.get(
      '/mem',
      (req, res) =>
        void serveFile(req, res, { body: { bytes: Buffer.from('hello world') }, etag: '"mem"', lastModified, contentType: 'text/plain' }),
    );
    app.get(
      '/empty',
      (req, res) => void serveFile(req, res, { body: { bytes: Buffer.alloc(0) }, etag: '"e"', lastModified, contentType: 'text/plain' }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a large file from disk intact, with its length', async () => {
    const r = await simRequest({ url: `${base}/disk` });
    assert.equal(r.status, 200);
    assert.equal(r.size, big.length);
    assert.equal(r.md5, createHash('md5').update(big).digest('hex'));
    assert.equal(r.headers['content-length'], String(big.length));
    assert.equal(r.headers['last-modified'], lastModified.toUTCString());
    assert.equal(r.headers['accept-ranges'], 'bytes');
  });

  it('a client that leaves mid-file ends the send (499, the bytes written so far) and frees the file', async () => {
    await new Promise<void>((res, rej) => {
      const req = get(`${base}/disk-result`, (r) => {
        r.once('data', () => {
          req.destroy();
          res();
        });
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : rej(e)));
    });
    await until('the send ended', () => results.length > 0);
    assert.equal(results.length, 1, 'the send ended once');
    assert.equal(results[0]!.status, 499);
    assert.ok(results[0]!.bytes < 48 << 20);
  });

  it('serves a middle range of a file on disk', async () => {
    const r = await simRequest({ url: `${base}/disk`, headers: { Range: 'bytes=4096-8191' } });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, big.subarray(4096, 8192));
  });

  it('If-None-Match wins over If-Modified-Since', async () => {
    const r = await simRequest({
      url: `${base}/mem`,
      headers: { 'If-None-Match': '"other"', 'If-Modified-Since': new Date().toUTCString() },
    });
    assert.equal(r.status, 200, 'a non-matching ETag means modified, whatever the date says');
    const w = await simRequest({ url: `${base}/mem`, headers: { 'If-None-Match': 'W/"mem"' } });
    assert.equal(w.status, 304, 'weak comparison for If-None-Match');
  });

  it('answers 304 even when the client also sends Cache-Control: no-cache', async () => {
    const r = await simRequest({
      url: `${base}/mem`,
      headers: { 'If-Modified-Since': lastModified.toUTCString(), 'Cache-Control': 'no-cache', Pragma: 'no-cache' },
    });
    assert.equal(r.status, 304);
    const e = await simRequest({ url: `${base}/mem`, headers: { 'If-None-Match': '"mem"', 'Cache-Control': 'no-cache' } });
    assert.equal(e.status, 304);
  });

  it('honours If-Range with a date', async () => {
    const same = await simRequest({ url: `${base}/mem`, headers: { Range: 'bytes=0-4', 'If-Range': lastModified.toUTCString() } });
    assert.equal(same.status, 206);
    assert.equal(same.body.toString(), 'hello');
    const older = await simRequest({
      url: `${base}/mem`,
      headers: { Range: 'bytes=0-4', 'If-Range': new Date(lastModified.getTime() - 1000).toUTCString() },
    });
    assert.equal(older.status, 200);
    assert.equal(older.body.toString(), 'hello world');
  });

  it('ignores a malformed Range and serves the whole file; multiple ranges too', async () => {
    assert.equal((await simRequest({ url: `${base}/mem`, headers: { Range: 'bytes=abc' } })).status, 200);
    const multi = await simRequest({ url: `${base}/mem`, headers: { Range: 'bytes=0-1,4-5' } });
    assert.equal(multi.status, 200);
    assert.equal(multi.body.toString(), 'hello world');
  });

  it('answers an empty file and a missing blob cleanly', async () => {
    const e = await simRequest({ url: `${base}/empty` });
    assert.equal(e.status, 200);
    assert.equal(e.headers['content-length'], '0');
    const g = await simRequest({ url: `${base}/gone` });
    assert.equal(g.status, 500);
    assert.ok(!g.body.toString().includes(dir), 'no server path in the body');
  });
});
