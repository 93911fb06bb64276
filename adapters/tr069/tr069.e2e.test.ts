import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { keys, type PendingDownload, type RetryState } from './state.ts';
import { initialState, runCpeSession, type CpeOptions, type SessionResult } from './simulator.ts';
import { startConnectionRequestServer, type ConnectionRequestServer } from './simulator-cr.ts';
import { APS_BIN as BIN } from '../../test/helpers/cli.ts';

const run = promisify(execFile);

/** A simulated firmware image: `APSFW <version> <md5 of payload>` then the payload (simulator.ts). */
function image(version: string, size: number, fill: number): Buffer {
  const payload = Buffer.alloc(size, fill);
  return Buffer.concat([Buffer.from(`APSFW ${version} ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
}

describe('TR-069 end to end: the simulator following seed 002 against the server', () => {
  let s: TestServer;
  let cpe: CpeOptions;
  const kv = () => s.core.stateOf('tr069');
  const reported = (id: string): Record<string, any> => {
    s.core.events.flush();
    return s.core.devices.state(id)?.reported ?? {};
  };
  const session = (extra: Partial<CpeOptions> = {}, events: string[] = []): Promise<SessionResult> =>
    runCpeSession({ ...cpe, ...extra }, events);

  before(async () => {
    s = await startTestServer();
    // The admin names the CPE by its serial; a second one by OUI-ProductClass-SerialNumber.
    s.core.devices.upsert({
      id: 'CP0001',
      profile: 'thomson-tr069',
      password: 'cpe-pw-1',
      vars: { cr_username: 'cr-user', cr_password: 'cr-secret' },
    });
    s.core.devices.upsert({ id: '00147F-TG784-CP0002', profile: 'thomson-tr069', password: 'cpe-pw-2' });
    cpe = { acs: `${s.http}/tr069`, serial: 'CP0001', password: 'cpe-pw-1', state: initialState('1.0') };
  });
  after(async () => {
    await s.stop();
  });

  it('first contact: 401 Digest challenge, Inform stored, config Download with TransferComplete in the same session', async () => {
    const r = await session();
    assert.equal(r.error, undefined);
    assert.deepEqual(r.informEvents, ['0 BOOTSTRAP']);
    assert.equal(r.challenges, 1, 'one 401 on the first Inform, then Digest');
    assert.equal(r.downloads.length, 1);
    assert.equal(r.downloads[0]!.fileType, '3 Vendor Configuration File');
    assert.equal(r.downloads[0]!.status, 1);
    assert.equal(r.downloads[0]!.fetchChallenged, true, 'the file server challenged too (seed steps 9–12)');
    assert.deepEqual(r.transferCompletes, [{ commandKey: r.downloads[0]!.commandKey, faultCode: 0 }]);
    assert.equal(cpe.state!.configVersion, '1.0', 'CONF_VERSION from the rendered CLI script');
    const rep = reported('CP0001');
    assert.equal(rep.firmware, '1.0');
    assert.equal(rep.hardwareVersion, 'SIM-1');
    assert.equal(rep.cwmpDeviceId.oui, '00147F');
    assert.match(rep.connectionRequestUrl ?? '', /^$/);
    assert.deepEqual(rep.lastInform.events, ['0 BOOTSTRAP']);
    assert.equal(kv().entries(keys.downloadsOf('CP0001')).length, 0, 'nothing pending');
  });

  it('a second session (gzip bodies) is a periodic Inform with nothing to do', async () => {
    const r = await session({ gzip: true });
    assert.equal(r.error, undefined);
    assert.deepEqual(r.informEvents, ['2 PERIODIC']);
    assert.deepEqual(r.downloads, []);
    assert.equal(reported('CP0001').configVersion, '1.0', 'VendorConfigFile version reported back');
  });

  it('a firmware Download answered with Status 1 completes in the next session with the new SoftwareVersion', async () => {
    await s.core.catalog.addBuffer(image('2.0', 30_000, 2), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '2.0',
      filename: 'tg784-2.0.bin',
    });
    const r1 = await session();
    assert.equal(r1.error, undefined);
    assert.equal(r1.downloads.length, 1);
    assert.equal(r1.downloads[0]!.fileType, '1 Firmware Upgrade Image');
    assert.equal(r1.downloads[0]!.status, 1);
    assert.equal(r1.rebooted, true);
    assert.deepEqual(r1.transferCompletes, []);
    const pending = kv().get<PendingDownload>(keys.download('CP0001', r1.downloads[0]!.commandKey));
    assert.equal(pending?.state, 'accepted');

    const r2 = await session();
    assert.equal(r2.error, undefined);
    for (const e of ['1 BOOT', 'M Download', '7 TRANSFER COMPLETE']) assert.ok(r2.informEvents.includes(e), e);
    assert.deepEqual(r2.transferCompletes, [{ commandKey: r1.downloads[0]!.commandKey, faultCode: 0 }]);
    assert.deepEqual(r2.downloads, []);
    assert.equal(cpe.state!.softwareVersion, '2.0');
    assert.equal(reported('CP0001').firmware, '2.0');
    assert.equal(kv().get(keys.download('CP0001', r1.downloads[0]!.commandKey)), undefined);
  });

  it('a corrupt firmware is recorded as a fault and retried later with back-off, not in a loop', async () => {
    const fw = await s.core.catalog.addBuffer(image('3.0', 20_000, 3), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '3.0',
      filename: 'tg784-3.0.bin',
    });
    const good = image('3.0', 20_000, 3);
    const bad = Buffer.from(good);
    bad[bad.length - 1] = 0x55; // same size, wrong image MD5
    writeFileSync(s.core.catalog.blobs.pathOf(fw.sha256), bad);
    const r1 = await session();
    assert.equal(r1.error, undefined);
    assert.equal(r1.downloads.length, 1);
    assert.equal(r1.transferCompletes[0]!.faultCode, 9018);
    assert.equal(r1.rebooted, false);
    assert.equal(reported('CP0001').lastFault.faultCode, 9018);
    // Recorded as the CPE's fault with its code and string, not as a server error (issue 9 point 8).
    const failed = s.core.store.state.events({ deviceId: 'CP0001', limit: 50 }).find((e) => e.file === 'download:firmware' && e.fault);
    assert.equal(failed?.fault?.code, '9018');
    assert.match(failed!.fault!.message, /MD5/);
    assert.ok(failed!.status < 500);
    const retry = kv().get<RetryState>(keys.retry('CP0001', 'firmware'));
    assert.equal(retry?.failures, 1);
    assert.ok(retry!.notBefore > Date.now());

    const r2 = await session();
    assert.deepEqual(r2.downloads, [], 'backing off: no Download right away');

    writeFileSync(s.core.catalog.blobs.pathOf(fw.sha256), good);
    kv().set(keys.retry('CP0001', 'firmware'), { ...retry!, notBefore: Date.now() - 1 }); // the back-off has passed
    const r3 = await session();
    assert.equal(r3.downloads.length, 1);
    assert.notEqual(r3.downloads[0]!.commandKey, r1.downloads[0]!.commandKey, 'a new CommandKey per attempt');
    const r4 = await session();
    assert.equal(r4.transferCompletes[0]!.faultCode, 0);
    assert.equal(cpe.state!.softwareVersion, '3.0');
    assert.equal(kv().get(keys.retry('CP0001', 'firmware')), undefined, 'success clears the back-off');
  });

  it('DownloadResponse Status 0: fetched and applied before answering, no TransferComplete needed', async () => {
    s.core.devices.upsert({ id: 'CP0001', vars: { conf_version: '1.1' } });
    const r = await session({ status0: true });
    assert.equal(r.error, undefined);
    assert.equal(r.downloads[0]!.status, 0);
    assert.deepEqual(r.transferCompletes, []);
    assert.equal(cpe.state!.configVersion, '1.1');
    assert.deepEqual((await session()).downloads, [], 'applied: nothing to send');
  });

  it('a download that never completes times out into a fault; its late TransferComplete is answered and logged', async () => {
    s.core.devices.upsert({ id: 'CP0001', vars: { conf_version: '1.2' } });
    const r1 = await session({ complete: { config: 'next' } });
    const ck = r1.downloads[0]!.commandKey;
    const d = kv().get<PendingDownload>(keys.download('CP0001', ck))!;
    kv().set(keys.download('CP0001', ck), { ...d, deadline: Date.now() - 1 }); // the timeout has passed
    const r2 = await session();
    assert.equal(r2.error, undefined);
    assert.deepEqual(r2.transferCompletes, [{ commandKey: ck, faultCode: 0 }], 'answered with TransferCompleteResponse');
    const rep = reported('CP0001');
    assert.equal(rep.lastFault.faultCode, 9010);
    assert.match(rep.lastFault.faultString, /no TransferComplete within/);
    const events = s.core.store.state.events({ deviceId: 'CP0001', limit: 50 });
    assert.ok(events.some((e) => e.file === 'transfer-complete' && e.status === 404 && /unknown CommandKey/.test(e.detail ?? '')));
  });

  it('refuses a wrong password and an unknown CPE alike with 401', async () => {
    const bad = await session({ password: 'nope', state: initialState() });
    assert.match(bad.error!, /ACS answered 401/);
    const unknown = await session({ serial: 'NOPE0001', state: initialState() });
    assert.match(unknown.error!, /ACS answered 401/);
  });

  it('matches OUI-ProductClass-SerialNumber ids and the Device. data model root', async () => {
    const r = await session({
      serial: 'CP0002',
      password: 'cpe-pw-2',
      username: '00147F-TG784-CP0002',
      root: 'Device.',
      state: initialState('0.9'),
    });
    assert.equal(r.error, undefined);
    assert.equal(reported('00147F-TG784-CP0002').firmware, '0.9');
    assert.equal(r.downloads[0]!.fileType, '1 Firmware Upgrade Image');
  });

  describe('connection request', () => {
    let cr: ConnectionRequestServer;
    let triggered: Promise<SessionResult>;
    before(async () => {
      let fire!: (r: Promise<SessionResult>) => void;
      triggered = new Promise<SessionResult>((r) => (fire = (p) => void p.then(r)));
      cr = await startConnectionRequestServer({
        username: 'cr-user',
        password: 'cr-secret',
        onRequest: () => fire(session({}, ['6 CONNECTION REQUEST'])),
      });
      cpe.connectionRequestUrl = cr.url;
      assert.equal((await session()).error, undefined); // reports the ConnectionRequestURL
    });
    after(async () => {
      await cr.close();
    });

    it('aps notify sends a Digest-authenticated GET and the CPE opens a session', async () => {
      const env = { ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' };
      const { stdout } = await run(process.execPath, [BIN, 'notify', 'CP0001'], { env });
      assert.match(stdout, /CP0001: connection request to 127\.0\.0\.1:\d+: 200 after Digest authentication/);
      const r = await triggered;
      assert.equal(r.error, undefined);
      assert.ok(r.informEvents.includes('6 CONNECTION REQUEST'));
    });

    it('reports a refused connection request without leaking the password', async () => {
      s.core.devices.upsert({ id: 'CP0001', vars: { cr_password: 'wrong-secret' } });
      const env = { ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' };
      await assert.rejects(
        run(process.execPath, [BIN, 'notify', 'CP0001'], { env }),
        (e: { code: number; stdout: string }) =>
          e.code === 2 && /answered 401 to the credentials/.test(e.stdout) && !e.stdout.includes('wrong-secret'),
      );
    });
  });
});

describe('TR-069: unknown CPEs registered as pending (adapters.tr069.unknownCpe: pending)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ adapters: { tr069: { unknownCpe: 'pending', pendingProfile: 'thomson-tr069' } } });
    await s.core.catalog.addBuffer(image('2.0', 100, 1), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '2.0',
      filename: 'fw.bin',
    });
  });
  after(async () => {
    await s.stop();
  });

  it('answers the Inform, registers OUI-ProductClass-SerialNumber as pending, and sends nothing', async () => {
    const r = await runCpeSession({ acs: `${s.http}/tr069`, serial: 'NEW0001', oui: '001122', password: 'factory', state: initialState() });
    assert.equal(r.error, undefined);
    assert.deepEqual(r.downloads, []);
    const d = s.core.devices.get('001122-TG784-NEW0001');
    assert.equal(d?.status, 'pending');
    s.core.events.flush();
    assert.equal(
      (s.core.devices.state(d!.id)?.reported as { cwmpDeviceId: { oui: string } }).cwmpDeviceId.oui,
      '001122',
      'leading zeros kept',
    );
  });
});
