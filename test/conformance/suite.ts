import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simRequest, type SimResponse } from '../../src/sim/http-client.ts';
import { PassThrough } from 'node:stream';
import { Client as FtpClient } from 'basic-ftp';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// The shared conformance suite (DESIGN "Conventions"): every adapter gets these checks by describing
// how to ask for one of its device files. ETag/304, If-Modified-Since/304, Range/206/416, HEAD, refusals
// that leak nothing, and never another device's file.

export interface RequestSpec {
  url: string;
  headers?: Record<string, string>;
}

export interface ConformanceCase {
  /** A rendered (per-device) file device A may fetch. */
  own: RequestSpec;
  /** An artifact (catalog blob) device A may fetch, streamed from disk. */
  ownArtifact?: RequestSpec;
  /** Device B's own file, asked with B's identity: must be served, and differ from A's. */
  otherOwn: RequestSpec;
  /**
   * A's identity aimed at B's file (B's URL, B's MAC or user name where the protocol puts it in the request):
   * must be refused, or answer A's own file — never B's bytes.
   */
  crossDevice: RequestSpec;
  /** A's file with a wrong credential; omit for protocols without credentials (name the reason in skips). */
  badCredentials?: RequestSpec;
  /** A device APS does not know. */
  unknownDevice: RequestSpec;
  /** Strings no refusal body may contain (device ids, passwords, paths). */
  secrets: string[];
  /** Where the adapter mounts FTP: A's login and file path, and B's file path (must stay unreachable to A). */
  ftp?: { user: string; password: string; own: string; other: string };
}

/** What the suite needs of the server under test: where it answers, and how to stop it. */
export interface ConformanceServer {
  http: string;
  https: string;
  dataDir: string;
  /** Where FTP listens, for targets with `ftp: true`. */
  ftpPort?: number | null;
  stop(): Promise<void>;
}

export interface ConformanceTarget<S extends ConformanceServer = TestServer> {
  adapter: string;
  /**
   * The server under test. Left out: `startTestServer()`, in this process from the sources. Given: any server
   * the suite reaches over the wire, e.g. the compiled build in a child process (test/build.test.ts).
   */
  start?: () => Promise<S>;
  prepare(server: S): Promise<ConformanceCase>;
  /** Checks that cannot apply, each with its reason. */
  skips?: Partial<Record<'badCredentials' | 'range', string>>;
  /** True where the adapter mounts FTP: prepare() must then return an `ftp` case. */
  ftp?: boolean;
}

function get(spec: RequestSpec, extra: Record<string, string> = {}, method = 'GET'): Promise<SimResponse> {
  return simRequest({ url: spec.url, headers: { ...spec.headers, ...extra }, method, insecure: true });
}

function assertLeaksNothing(r: SimResponse, secrets: string[]): void {
  assert.ok([401, 403, 404].includes(r.status), `refusal status ${r.status}`);
  const body = r.body.toString('utf8');
  assert.ok(body.length < 200, 'short body');
  for (const s of secrets) assert.ok(!body.includes(s), `body must not contain "${s}"`);
  assert.ok(!/\bat .*\.(ts|js):\d+/.test(body) && !/Error:/.test(body), 'no stack trace or error text');
}

async function ftpGet(client: FtpClient, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (b: Buffer) => chunks.push(b));
  await client.downloadTo(sink, path);
  return Buffer.concat(chunks);
}

export function conformanceSuite<S extends ConformanceServer = TestServer>(target: ConformanceTarget<S>): void {
  // Without `start`, S is the default TestServer (prepare's parameter says so).
  const start = target.start ?? ((): Promise<S> => startTestServer() as unknown as Promise<S>);
  describe(`conformance: ${target.adapter}`, () => {
    let server: S;
    let c: ConformanceCase;
    let own: SimResponse;

    before(async () => {
      server = await start();
      c = await target.prepare(server);
      own = await get(c.own);
    });
    after(async () => {
      await server.stop();
    });

    it('serves the device its file with Content-Length, ETag and Last-Modified', () => {
      assert.equal(own.status, 200);
      assert.ok(own.body.length > 0);
      assert.equal(Number(own.headers['content-length']), own.body.length);
      assert.match(String(own.headers.etag), /^"[^"]+"$/);
      assert.ok(!Number.isNaN(Date.parse(String(own.headers['last-modified']))));
      assert.ok(own.headers.date, 'Date header present');
    });

    it('answers 304 to If-None-Match and If-Modified-Since, 200 when older', async () => {
      const a = await get(c.own, { 'If-None-Match': String(own.headers.etag) });
      assert.equal(a.status, 304);
      assert.equal(a.body.length, 0);
      const b = await get(c.own, { 'If-Modified-Since': String(own.headers['last-modified']) });
      assert.equal(b.status, 304);
      const older = new Date(Date.parse(String(own.headers['last-modified'])) - 3600_000).toUTCString();
      const d = await get(c.own, { 'If-Modified-Since': older });
      assert.equal(d.status, 200);
      assert.deepEqual(d.body, own.body);
    });

    it('answers HEAD with the same headers and no body', async () => {
      const h = await get(c.own, {}, 'HEAD');
      assert.equal(h.status, 200);
      assert.equal(h.body.length, 0);
      assert.equal(h.headers['content-length'], own.headers['content-length']);
      assert.equal(h.headers.etag, own.headers.etag);
    });

    it('answers Range with 206 and an unsatisfiable range with 416', { skip: target.skips?.range }, async () => {
      const spec = c.ownArtifact ?? c.own;
      const full = await get(spec);
      assert.equal(full.status, 200);
      const r = await get(spec, { Range: 'bytes=1-3' });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 1-3/${full.body.length}`);
      assert.deepEqual(r.body, full.body.subarray(1, 4));
      const tail = await get(spec, { Range: 'bytes=-2' });
      assert.deepEqual(tail.body, full.body.subarray(full.body.length - 2));
      const bad = await get(spec, { Range: `bytes=${full.body.length + 10}-` });
      assert.equal(bad.status, 416);
      assert.equal(bad.headers['content-range'], `bytes */${full.body.length}`);
      const stale = await get(spec, { Range: 'bytes=0-1', 'If-Range': '"not-the-etag"' });
      assert.equal(stale.status, 200, 'If-Range mismatch serves the whole file');
    });

    it("never gives device B's file to device A", async () => {
      const other = await get(c.otherOwn);
      assert.equal(other.status, 200, "B's own request is served (else this check proves nothing)");
      assert.ok(!other.body.equals(own.body), "A's and B's files differ (else this check proves nothing)");
      const r = await get(c.crossDevice);
      if (r.status === 200) assert.deepEqual(r.body, own.body, "a 200 to A's identity carries A's own file, never B's");
      else assertLeaksNothing(r, c.secrets);
      if (c.ownArtifact === undefined) return;
      const a = await get(c.ownArtifact);
      assert.equal(a.status, 200);
    });

    // Only where the adapter mounts FTP (test/conformance-coverage.test.ts requires the case there).
    if (target.ftp)
      it("over FTP, serves A its file and never B's", async () => {
        const f = c.ftp;
        assert.ok(f, 'prepare() returns the ftp case');
        const client = new FtpClient(10_000);
        try {
          await client.access({ host: '127.0.0.1', port: server.ftpPort!, user: f.user, password: f.password });
          const mine = await ftpGet(client, f.own);
          assert.ok(mine.length > 0, "A's file over FTP");
          await assert.rejects(ftpGet(client, f.other), "B's file is not in A's view");
        } finally {
          client.close();
        }
      });

    it('refuses wrong credentials and unknown devices alike, leaking nothing', { skip: target.skips?.badCredentials }, async () => {
      const bad = await get(c.badCredentials!);
      assertLeaksNothing(bad, c.secrets);
      const unknown = await get(c.unknownDevice);
      assertLeaksNothing(unknown, c.secrets);
      assert.equal(bad.status, unknown.status, 'same status whether the device exists or not');
      assert.deepEqual(bad.body, unknown.body, 'same body whether the device exists or not');
    });

    it('refuses an unknown device without a credential check too', async () => {
      assertLeaksNothing(await get(c.unknownDevice), c.secrets);
    });
  });
}
