import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { parseInfo, runVopCycle, type VopSimOptions } from './simulator.ts';
import { runVopFleet } from './simulator-command.ts';
import { APS_BIN as BIN } from '../../test/helpers/cli.ts';

const run = promisify(execFile);

describe('VOP end to end: server on port 0, the simulator following seed 000', () => {
  let s: TestServer;
  let sim: VopSimOptions;

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'op1', profile: 'vop', password: 'pw-1', vars: { sip_password: 'sip-1' } });
    s.core.devices.upsert({ id: 'op2', profile: 'vop', password: 'pw-2' });
    await s.core.catalog.addBuffer(Buffer.from('BOOT v1'), { kind: 'bootstrap', profile: 'vop', version: '1.0', filename: 'boot.bin' });
    await s.core.catalog.addBuffer(Buffer.alloc(100_000, 1), {
      kind: 'firmware',
      profile: 'vop',
      version: '3.0',
      serial: 30,
      filename: 'fw30.bin',
    });
    sim = { server: s.http, user: 'op1', password: 'pw-1', stateDir: tempDir('aps-vop-sim-') };
  });
  after(async () => {
    await s.stop();
  });

  it('first check installs bootstrap, firmware and config, each matching the announced MD5', async () => {
    const r = await runVopCycle(sim);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.installed, ['bootstrap', 'firmware', 'config']);
    assert.equal(readFileSync(join(sim.stateDir, 'bootstrap'), 'utf8'), 'BOOT v1');
    assert.equal(readFileSync(join(sim.stateDir, 'firmware')).length, 100_000);
    const cfg = readFileSync(join(sim.stateDir, 'config'), 'utf8');
    assert.match(cfg, /user=op1/);
    assert.match(cfg, /sip_password=sip-1/);
    const info = await parseInfo(readFileSync(join(sim.stateDir, 'info.xml'), 'utf8'));
    assert.equal(info.firmware?.serial, 30);
    assert.equal(info.bootstrap?.version, '1.0');
  });

  it('a second check downloads nothing', async () => {
    const r = await runVopCycle(sim);
    assert.ok(r.ok);
    assert.deepEqual(r.installed, []);
    assert.equal(r.bytes, 0);
  });

  it('a new firmware makes the next check fetch only the firmware', async () => {
    await s.core.catalog.addBuffer(Buffer.alloc(50_000, 2), {
      kind: 'firmware',
      profile: 'vop',
      version: '3.1',
      serial: 31,
      filename: 'fw31.bin',
    });
    const r = await runVopCycle(sim);
    assert.deepEqual(r.installed, ['firmware']);
    assert.equal(readFileSync(join(sim.stateDir, 'firmware'))[0], 2);
    s.core.events.flush();
    // The VOP never reports what it runs: the complete download is recorded as fetched, not as reported.
    assert.equal(s.core.devices.state('op1')?.fetched.firmware?.version, '3.1');
    assert.equal(s.core.devices.state('op1')?.reported.firmware, undefined);
  });

  it('a changed variable gives a new config with a larger serial, and only the config', async () => {
    const before = (await parseInfo(readFileSync(join(sim.stateDir, 'info.xml'), 'utf8'))).config!.serial;
    s.core.devices.upsert({ id: 'op1', vars: { language: 'fr' } });
    const r = await runVopCycle(sim);
    assert.deepEqual(r.installed, ['config']);
    assert.ok(r.info!.config!.serial > before);
    assert.match(readFileSync(join(sim.stateDir, 'config'), 'utf8'), /language=fr/);
  });

  it('a tampered blob on disk is rejected by MD5 and the previous state is kept', async () => {
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(20_000, 3), {
      kind: 'firmware',
      profile: 'vop',
      version: '3.2',
      serial: 32,
      filename: 'fw32.bin',
    });
    writeFileSync(s.core.catalog.blobs.pathOf(fw.sha256), Buffer.alloc(20_000, 9));
    const infoBefore = readFileSync(join(sim.stateDir, 'info.xml'));
    const r = await runVopCycle(sim);
    assert.equal(r.ok, false);
    assert.match(r.error!, /firmware MD5 mismatch/);
    assert.deepEqual(readFileSync(join(sim.stateDir, 'info.xml')), infoBefore, 'info file unchanged');
    assert.equal(readFileSync(join(sim.stateDir, 'firmware'))[0], 2, 'old firmware kept');
    assert.ok(!existsSync(join(sim.stateDir, '.firmware.download')), 'no partial file left');
    // The CLI exits non-zero on such a failure.
    await assert.rejects(
      run(process.execPath, [
        BIN,
        'simulate',
        'vop',
        '--once',
        '--server',
        s.http,
        '--user',
        'op1',
        '--password',
        'pw-1',
        '--state',
        join(sim.stateDir, '..', 'cli-op1'),
      ]),
      (e: { code: number; stdout: string }) => e.code === 1 && /MD5 mismatch/.test(e.stdout),
    );
    // Repair the blob: the next check installs the real firmware.
    writeFileSync(s.core.catalog.blobs.pathOf(fw.sha256), Buffer.alloc(20_000, 3));
    assert.deepEqual((await runVopCycle(sim)).installed, ['firmware']);
  });

  it('wrong or unknown credentials get 401 and change nothing', async () => {
    const bad = await runVopCycle({ ...sim, password: 'nope', stateDir: tempDir() });
    assert.match(bad.error!, /answered 401/);
    const unknown = await runVopCycle({ ...sim, user: 'ghost', stateDir: tempDir() });
    assert.match(unknown.error!, /answered 401/);
  });

  it('answers malformed requests with a clear 4xx and keeps serving', async () => {
    const bad = await fetch(`${s.http}/vop/%E0%A4%A?u=op1&p=pw-1`);
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'Bad Request\n', "the device path's fixed refusal, never express's message");
    assert.equal((await fetch(`${s.http}/vop/i?u=op1&u=op1&p=pw-1`)).status, 401, 'repeated parameters are not credentials');
    assert.equal((await fetch(`${s.http}/vop/x?u=op1&p=pw-1`)).status, 404);
    assert.equal((await fetch(`${s.http}/vop/i?u=op1&p=pw-1`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${s.http}/vop/i?u=op1&p=pw-1`)).status, 200);
  });

  it('works over HTTPS with the generated certificate, with URLs in https', async () => {
    const r = await runVopCycle({
      ...sim,
      server: s.https,
      user: 'op2',
      password: 'pw-2',
      stateDir: tempDir(),
      ca: readFileSync(join(s.dataDir, 'tls', 'cert.pem'), 'utf8'),
    });
    assert.equal(r.error, undefined);
    assert.ok(r.info!.firmware!.url.startsWith('https://127.0.0.1:'));
    assert.ok(r.installed.includes('firmware'));
  });

  it('sees changes made by the CLI in another process without a restart', async () => {
    const env = { ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' };
    await run(process.execPath, [BIN, 'device', 'add', 'cli-op', '--profile', 'vop', '--password', 'cli-pw'], { env });
    const fresh = { ...sim, user: 'cli-op', password: 'cli-pw', stateDir: tempDir() };
    assert.ok((await runVopCycle(fresh)).ok, 'device added by the CLI is served');
    const fwFile = join(fresh.stateDir, '..', 'cli-fw.bin');
    writeFileSync(fwFile, 'firmware from the CLI');
    await run(
      process.execPath,
      [BIN, 'artifact', 'add', fwFile, '--profile', 'vop', '--kind', 'firmware', '--version', '4.0', '--serial', '40'],
      { env },
    );
    const r = await runVopCycle(fresh);
    assert.deepEqual(r.installed, ['firmware']);
    assert.equal(readFileSync(join(fresh.stateDir, 'firmware'), 'utf8'), 'firmware from the CLI');
  });

  it('a preview from the CLI (whose public URL differs) never moves a revision the server serves', async () => {
    const info = (): Promise<Response> => fetch(`${s.http}/vop/i?u=op2&p=pw-2`);
    const before = (await info()).headers.get('last-modified');
    const env = { ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent', APS_PUBLIC_URL: 'http://elsewhere.invalid:1' };
    const { stdout } = await run(process.execPath, [BIN, 'preview', 'op2', '--json'], { env });
    assert.match(stdout, /elsewhere\.invalid/, 'the preview shows the CLI its own URLs');
    s.core.devices.upsert({ id: 'unrelated', profile: 'vop' }); // the server re-renders on the next request
    assert.equal((await info()).headers.get('last-modified'), before);
  });

  it('runs a fleet of N virtual VOPs with --count and summarises', async () => {
    for (let i = 1; i <= 5; i++) s.core.devices.upsert({ id: `fleet${i}`, profile: 'vop', password: 'fleet-pw' });
    const { summary } = await runVopFleet({ server: s.http, user: 'fleet', password: 'fleet-pw', stateDir: tempDir(), count: 5 });
    assert.equal(summary.vops, 5);
    assert.equal(summary.failed, 0);
    assert.equal(summary.installed.firmware, 5);
    assert.equal(summary.installed.config, 5);
  });

  it('records every request as an event and serves the fleet view', async () => {
    s.core.events.flush();
    const res = await fetch(`${s.http}/api/v1/events?device=op1&limit=100`, { headers: { authorization: s.auth } });
    const { items: events } = (await res.json()) as {
      items: Array<{
        file: string;
        status: number;
        bytes: number;
        artifactId: number | null;
        revision: number | null;
      }>;
    };
    assert.ok(events.some((e) => e.file === 'firmware' && e.status === 200 && e.artifactId !== null && e.bytes > 0));
    assert.ok(events.some((e) => e.file === 'config' && e.status === 200 && e.revision !== null));
    assert.ok(events.some((e) => e.status === 401));
    // One file name per request type, served or refused (issue 9 point 8): `info`, never `i`.
    assert.deepEqual(
      [...new Set(events.map((e) => e.file))].filter((f) => !['info', 'bootstrap', 'firmware', 'config'].includes(f)),
      [],
    );
    assert.ok(events.some((e) => e.file === 'info' && e.status === 401));
    const fleet = (await (await fetch(`${s.http}/api/v1/fleet`, { headers: { authorization: s.auth } })).json()) as {
      versions: Array<{ profile: string; devices: number }>;
    };
    assert.ok(fleet.versions.some((f) => f.profile === 'vop' && f.devices >= 1));
  });
});
