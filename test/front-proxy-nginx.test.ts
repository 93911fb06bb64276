import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { until } from './helpers/until.ts';

// Front-proxy mode against a real nginx from Debian's packages (nginx-light; .ci/run installs it): APS
// decides, nginx sends the blob (X-Accel-Redirect), and the event and `fetched` state are recorded from
// nginx's report of each transfer, as exact as when APS streams the file itself.
const TEMPLATE = new URL('../nginx/aps.conf.template', import.meta.url);
const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0);

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

// A client on the phones' LAN talking to APS's port directly instead of through nginx: any loopback address
// but nginx's own (127.0.0.1, the only trusted proxy here) stands for it.
function direct(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = request(url, { headers, localAddress: '127.0.0.2', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('front-proxy mode behind a real nginx', () => {
  let s: TestServer;
  let nginx: ChildProcess | undefined;
  let base = '';
  let firmware: Buffer;
  let nginxLog = '';

  before(async () => {
    assert.ok(NGINX, "nginx is not installed: this test needs Debian's nginx (apt-get install -y nginx-light; .ci/run does it)");
    s = await startTestServer({
      http: { host: '127.0.0.1', port: 0, frontProxy: { mode: 'x-accel', completionPort: 0 }, trustedProxies: ['127.0.0.1'] },
    });
    firmware = randomBytes(3 << 20);
    await s.core.catalog.addBuffer(firmware, { kind: 'firmware', profile: 'vop', version: '9.1', serial: 91, filename: 'fw91.bin' });
    s.core.devices.upsert({ id: 'np1', profile: 'vop', password: 'pw-np1-0123456789' });
    s.core.devices.upsert({ id: 'np2', profile: 'vop', password: 'pw-np2-0123456789' });
    s.core.devices.upsert({ id: 'np3', profile: 'vop', password: 'pw-np3-0123456789' });
    // An Avaya phone whose SIP password goes only to HTTPS clients in 10.20/16 (review13 finding 2).
    s.core.devices.upsertGroup({ name: 'lab', vars: { avaya_group: '2', avaya_secret_networks: '10.20.0.0/16' }, pins: {} });
    s.core.devices.upsert({
      id: 'desk-1',
      profile: 'avaya-j100',
      model: 'J179',
      mac: '00e0bb00aa01',
      group: 'lab',
      password: 'desk-1-pw',
      vars: { SIPUSERNAME: '301', SIPPASSWORD: 'sip-secret-301' },
    });

    const dir = tempDir('aps-nginx-');
    nginxLog = join(dir, 'error.log');
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join('\n  ');
    // freePort() closes the port it found before nginx binds it: another process's listen(0) may take it in
    // between (each test server binds three; listen(0) draws from the ~14,000 odd ports). nginx then gives up
    // on the bind and exits: another port is tried.
    for (let attempt = 1; ; attempt++) {
      const port: number = await freePort();
      const vars: Record<string, string> = {
        NGINX_LISTEN: `127.0.0.1:${port}`,
        APS_UPSTREAM: `127.0.0.1:${s.httpPort}`,
        APS_COMPLETION: `127.0.0.1:${s.core.files.frontProxy!.port()}`,
        APS_PREFIX: '/_blobs/',
        APS_BLOBS: `${join(s.core.config.dataDir, 'blobs')}/`,
      };
      const site = readFileSync(TEMPLATE, 'utf8').replace(/\$\{([A-Z_]+)\}/g, (_m, k: string) => {
        assert.ok(k in vars, `the template names ${k}`);
        return vars[k]!;
      });
      writeFileSync(
        join(dir, 'nginx.conf'),
        `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${nginxLog} info;
events { worker_connections 256; }
http {
  default_type application/octet-stream;
  access_log off;
  ${temp}
${site}
}
`,
      );
      const syntax: SpawnSyncReturns<string> = spawnSync(NGINX!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
      assert.equal(syntax.status, 0, `nginx -t: ${syntax.stderr}`);
      const child = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
      nginx = child;
      base = `http://127.0.0.1:${port}`;
      const outcome = await until<'answers' | 'exited' | undefined>('nginx answers, or exits', async () => {
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        try {
          // nginx's own Server header: whoever else took the port may answer HTTP too, or never answer.
          const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
          await r.arrayBuffer();
          return r.headers.get('server')?.startsWith('nginx') ? 'answers' : undefined;
        } catch {
          return undefined;
        }
      });
      if (outcome === 'answers') return;
      const log = readFileSync(nginxLog, 'utf8');
      assert.ok(attempt < 3 && /Address already in use/.test(log), `nginx exited: ${log.slice(-2000)}`);
    }
  });

  let closed = false;
  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGQUIT');
      await exited;
    }
    if (!closed) await s?.stop();
    else rmSync(s.dataDir, { recursive: true, force: true });
  });

  const events = (device: string, file: string): Array<{ status: number; bytes: number; detail: string | null; ip: string | null }> => {
    s.core.events.flush();
    return s.core.store.state.events({ deviceId: device }).filter((e) => e.file === file);
  };

  it('nginx sends the blob APS chose, with APS’s validators; the event waits for nginx’s report', async () => {
    const info = await fetch(`${base}/vop/i?u=np1&p=pw-np1-0123456789`);
    assert.equal(info.status, 200);
    assert.match(await info.text(), /<firmware/i, 'rendered files come from APS itself');

    const r = await fetch(`${base}/vop/f?u=np1&p=pw-np1-0123456789`);
    assert.equal(r.status, 200);
    const body = Buffer.from(await r.arrayBuffer());
    assert.ok(body.equals(firmware), 'the exact bytes');
    assert.equal(r.headers.get('content-length'), String(firmware.length));
    const a = s.core.catalog.list('vop')[0]!;
    assert.equal(r.headers.get('etag'), `"${a.sha256.slice(0, 32)}"`, "APS's ETag, not nginx's");
    assert.equal(r.headers.get('last-modified'), s.core.files.artifactDate('np1', 'firmware', a).toUTCString());
    assert.equal(r.headers.get('x-accel-redirect'), null, 'nginx keeps the redirect to itself');
    assert.equal(r.headers.get('x-aps-transfer'), null);

    await until('the download recorded once nginx reported it', () => events('np1', 'firmware').length === 1);
    assert.deepEqual(
      events('np1', 'firmware').map((e) => [e.status, e.bytes]),
      [[200, firmware.length]],
    );
    assert.equal(s.core.devices.state('np1')?.fetched.firmware?.artifactId, a.id, 'fetched, as when APS streams it');
    assert.equal(s.core.files.frontProxy!.stats().confirmed, 1);

    // Conditional and range requests keep their meaning.
    const again = await fetch(`${base}/vop/f?u=np1&p=pw-np1-0123456789`, { headers: { 'if-none-match': r.headers.get('etag')! } });
    assert.equal(again.status, 304, 'APS answers 304 itself');
    const part = await fetch(`${base}/vop/f?u=np1&p=pw-np1-0123456789`, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(firmware.subarray(100, 200)));
    await until('the range recorded', () => events('np1', 'firmware').some((e) => e.status === 206));
    assert.equal(events('np1', 'firmware').find((e) => e.status === 206)?.bytes, 100);
  });

  it('refusals stay APS’s, and the blob location is not reachable from outside', async () => {
    const denied = await fetch(`${base}/vop/f?u=np1&p=wrong`);
    assert.equal(denied.status, 401);
    assert.equal(await denied.text(), 'Unauthorized\n');
    const a = s.core.catalog.list('vop')[0]!;
    const direct = await fetch(`${base}/_blobs/${a.sha256.slice(0, 2)}/${a.sha256}`);
    assert.equal(direct.status, 404, 'internal: only an X-Accel-Redirect reaches it');
    await direct.arrayBuffer();
  });

  it('a download the device abandons is recorded as cut off, and not as fetched', async () => {
    // Larger than what loopback socket buffers hold, so nginx is still sending when the device leaves.
    const big = randomBytes(48 << 20);
    await s.core.catalog.addBuffer(big, {
      kind: 'firmware',
      profile: 'vop',
      version: '9.2',
      serial: 92,
      filename: 'fw92.bin',
      deviceId: 'np2',
    });
    await new Promise<void>((res, rej) => {
      const req = request(`${base}/vop/f?u=np2&p=pw-np2-0123456789`, (resp) => {
        resp.once('data', () => {
          req.destroy();
          res();
        });
        resp.on('error', () => undefined);
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : rej(e)));
      req.end();
    });
    await until('the cut-off download recorded once nginx reported it', () => events('np2', 'firmware').length === 1);
    const [e] = events('np2', 'firmware');
    assert.equal(e!.status, 499);
    assert.ok(e!.bytes < big.length, `${e!.bytes} of ${big.length} bytes`);
    assert.equal(s.core.devices.state('np2')?.fetched.firmware, undefined);
  });
  it("a client talking to APS's port directly cannot forge X-Forwarded-For/-Proto (only the trusted proxy's are believed)", async () => {
    const path = '/avaya/00e0bb00aa01.txt';
    const forgedHeaders = { 'X-Forwarded-For': '10.20.1.1', 'X-Forwarded-Proto': 'https' };
    const forged = await direct(`${s.http}${path}`, forgedHeaders);
    assert.equal(forged.status, 200);
    assert.ok(!forged.body.toString('utf8').includes('sip-secret-301'), 'SIP password served to a forged X-Forwarded-For over plain HTTP');
    const viaNginx = await fetch(`${base}${path}`, { headers: forgedHeaders });
    assert.ok(!(await viaNginx.text()).includes('sip-secret-301'), 'nginx overwrites both headers');
    // Control: the same headers from the trusted proxy's address are believed (that is what nginx relies on).
    const trusted = await fetch(`${s.http}${path}`, { headers: forgedHeaders });
    assert.ok((await trusted.text()).includes('sip-secret-301'), 'a trusted proxy vouches for an HTTPS client in 10.20/16');
  });

  it('a direct client gets the bytes from APS itself: no transfer id, no X-Accel-Redirect, no pending hand-over', async () => {
    const fp = s.core.files.frontProxy!;
    const before = fp.stats();
    const recorded = events('np1', 'firmware').length;
    const r = await direct(`${s.http}/vop/f?u=np1&p=pw-np1-0123456789`, { 'X-Forwarded-For': '127.0.0.1' });
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(firmware), 'the exact bytes, from APS');
    assert.equal(r.headers['x-aps-transfer'], undefined, 'the transfer id (the completion channel’s secret) is not handed out');
    assert.equal(r.headers['x-accel-redirect'], undefined);
    assert.deepEqual(fp.stats(), before, 'no hand-over, nothing pending');
    // Recorded once APS's stream has ended, which may be just after the client read the last byte.
    await until('the direct download recorded', () => events('np1', 'firmware').length === recorded + 1);
    const e = events('np1', 'firmware')[0]!; // newest first
    assert.deepEqual([e.status, e.bytes], [200, firmware.length], 'recorded at once, as without a front proxy');
    assert.equal(e.ip, '127.0.0.2', 'the peer, not the forged header');
  });

  // Last: it shuts the server down.
  it('a shutdown waits (up to the grace deadline) for the reports of downloads nginx is still sending', async () => {
    const big = randomBytes(32 << 20);
    await s.core.catalog.addBuffer(big, {
      kind: 'firmware',
      profile: 'vop',
      version: '9.3',
      serial: 93,
      filename: 'fw93.bin',
      deviceId: 'np3',
    });
    const fp = s.core.files.frontProxy!;
    const before = fp.stats();
    let received = 0;
    let resume: () => void = () => {};
    const done = new Promise<void>((res, rej) => {
      const req = request(`${base}/vop/f?u=np3&p=pw-np3-0123456789`, (resp) => {
        resp.once('data', (c: Buffer) => {
          received += c.length;
          resp.pause();
          resume = () => resp.resume();
          resp.on('data', (d: Buffer) => (received += d.length));
          resp.on('end', res);
        });
        resp.on('error', rej);
      });
      req.on('error', rej);
      req.end();
    });
    await until('the download started', () => received > 0);
    assert.equal(fp.stats().pending, before.pending + 1);
    closed = true;
    const closing = s.close({ graceMs: 20_000 });
    // APS has stopped answering (its connections drained after a second idle) while nginx is still sending.
    await new Promise((r) => setTimeout(r, 1_500));
    resume();
    await done;
    await closing;
    assert.equal(received, big.length);
    const after = fp.stats();
    assert.equal(after.unconfirmed, before.unconfirmed, 'recorded as unconfirmed although nginx was about to report it');
    assert.equal(after.confirmed, before.confirmed + 1, 'the report that came in during the shutdown');
    assert.equal(after.pending, 0);
  });
});
