import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { simRequest } from '../../src/adapter-api.ts';
import { capturingLogger } from '../../test/helpers/log-capture.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { CwmpHttp } from './simulator-http.ts';
import { initialState, runCpeSession, type CpeOptions, type SessionResult } from './simulator.ts';
import { buildCwmp, parseCwmp, type CwmpMessage, type DownloadArgs } from './soap.ts';
import { keys, type RetryState } from './state.ts';

// Issue 9 "TR-069 interop with real CPE software": CPEs that behave like genieacs-sim — HTTP Basic sent
// with every message, Download credentials ignored, any non-2xx answer ends the session — complete a
// firmware and a config Download without a fault once the admin chooses `fileAuth: token` and
// `allowBasicOverHttp: true`; the defaults keep refusing them.
const NS = 'urn:dslforum-org:cwmp-1-0';
const PROFILE = 'thomson-tr069';

function image(version: string, size: number): Buffer {
  const payload = Buffer.alloc(size, 5);
  return Buffer.concat([Buffer.from(`APSFW ${version} ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
}

interface Server extends TestServer {
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>;
}

/** A test server whose log lines the test can read. */
async function start(tr069: Record<string, unknown>): Promise<Server> {
  const { log, lines } = capturingLogger();
  const s = await startTestServer({ ftp: { enabled: false }, adapters: { tr069 } }, undefined, log);
  return Object.assign(s, { logs: lines });
}

const genieLike = (acs: string, id: string, serial: string): CpeOptions => ({
  acs,
  serial,
  username: id,
  password: `${serial}-pw`,
  auth: 'basic',
  ignoreDownloadCredentials: true,
  insecure: true,
  state: initialState('1.0'),
});

describe('TR-069 with genieacs-sim-like CPEs: fileAuth token and allowBasicOverHttp', () => {
  let s: Server;
  const kv = () => s.core.stateOf('tr069');
  before(async () => {
    s = await start({ fileAuth: 'token', allowBasicOverHttp: true });
    await s.core.catalog.addBuffer(image('2.0', 4096), { kind: 'firmware', profile: PROFILE, version: '2.0', filename: 'fw-2.0.bin' });
    for (let i = 1; i <= 8; i++) s.core.devices.upsert({ id: `00147F-TG784-GS${i}`, profile: PROFILE, password: `GS${i}-pw` });
    s.core.devices.upsert({ id: '00147F-TG784-RG1', profile: PROFILE, password: 'RG1-pw' });
  });
  after(async () => {
    await s.stop();
  });

  it('logs each weaker setting as a warning at start', () => {
    const warned = s.logs.filter((l) => l.level === 40).map((l) => l.setting);
    assert.ok(warned.includes('adapters.tr069.fileAuth'));
    assert.ok(warned.includes('adapters.tr069.allowBasicOverHttp'));
  });

  it('offers Basic beside Digest on plain HTTP, and still refuses a wrong Basic password', async () => {
    const inform = buildCwmp(
      {
        kind: 'Inform',
        deviceId: { manufacturer: 'THOMSON', oui: '00147F', productClass: 'TG784', serialNumber: 'RG1' },
        events: [{ eventCode: '2 PERIODIC', commandKey: '' }],
        maxEnvelopes: 1,
        currentTime: new Date().toISOString(),
        retryCount: 0,
        parameterList: [],
      },
      { ns: NS, id: 'x' },
    );
    const anonymous = await simRequest({ url: `${s.http}/tr069`, method: 'POST', body: inform });
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Digest .*, Basic realm="APS TR-069"$/);
    const wrong = `Basic ${Buffer.from('00147F-TG784-RG1:nope').toString('base64')}`;
    assert.equal(
      (await simRequest({ url: `${s.http}/tr069`, method: 'POST', body: inform, headers: { Authorization: wrong } })).status,
      401,
    );
  });

  for (const [scheme, first] of [
    ['HTTP', 1],
    ['HTTPS', 5],
  ] as const) {
    it(`four CPEs at once over ${scheme}: firmware and config Downloads, every TransferComplete without a fault`, async () => {
      const acs = `${scheme === 'HTTP' ? s.http : s.https}/tr069`;
      const cpes = [0, 1, 2, 3].map((n) => genieLike(acs, `00147F-TG784-GS${first + n}`, `GS${first + n}`));
      const one = await Promise.all(cpes.map((o) => runCpeSession(o)));
      for (const r of one) {
        assert.equal(r.error, undefined);
        assert.equal(r.challenges, 0, 'Basic with every message: never challenged');
        assert.deepEqual(r.downloads.map((d) => [d.fileType, d.status, d.fetchChallenged]).sort(), [
          ['1 Firmware Upgrade Image', 1, false],
          ['3 Vendor Configuration File', 1, false],
        ]);
      }
      // The firmware completes after the "reboot", in the next session.
      const two: SessionResult[] = await Promise.all(cpes.map((o) => runCpeSession(o)));
      s.core.events.flush();
      for (const [i, o] of cpes.entries()) {
        const id = o.username!;
        const all = [...one[i]!.transferCompletes, ...two[i]!.transferCompletes];
        assert.equal(two[i]!.error, undefined);
        assert.deepEqual(
          all.map((t) => t.faultCode),
          [0, 0],
          `${id}: config and firmware complete`,
        );
        assert.equal(o.state!.softwareVersion, '2.0');
        const st = s.core.devices.state(id)!;
        assert.equal(st.reported.firmware, '2.0');
        assert.equal(st.reported.lastFault, undefined, `${id}: no fault`);
        assert.equal(kv().entries(keys.downloadsOf(id)).length, 0, 'nothing left pending');
        assert.equal(kv().get<RetryState>(keys.retry(id, 'firmware')), undefined);
        const events = s.core.store.state.events({ deviceId: id, limit: 100 });
        assert.deepEqual(
          events.filter((e) => e.status >= 400 || e.detail?.includes('fault')),
          [],
          `${id}: no refusal, no fault`,
        );
        assert.ok(events.some((e) => e.file === 'firmware' && e.status === 200 && e.bytes === image('2.0', 4096).length));
      }
    });
  }

  it('a token URL opens one download only: retries and Range work until TransferComplete, nothing else does', async () => {
    const id = '00147F-TG784-RG1';
    const http = new CwmpHttp(`${s.http}/tr069`, id, 'RG1-pw', { auth: 'basic' });
    const post = async (m: CwmpMessage | null): Promise<CwmpMessage | null> => {
      const r = await http.post(m ? buildCwmp(m, { ns: NS, id: 'x' }) : '');
      assert.ok(r.status === 200 || r.status === 204, `answered ${r.status}`);
      const p = r.body.length ? parseCwmp(r.body) : { kind: 'Empty' as const };
      return p.kind === 'Message' ? p.message : null;
    };
    const ir = await post({
      kind: 'Inform',
      deviceId: { manufacturer: 'THOMSON', oui: '00147F', productClass: 'TG784', serialNumber: 'RG1' },
      events: [{ eventCode: '2 PERIODIC', commandKey: '' }],
      maxEnvelopes: 1,
      currentTime: new Date().toISOString(),
      retryCount: 0,
      parameterList: [{ name: 'InternetGatewayDevice.DeviceInfo.SoftwareVersion', value: '1.0', type: 'xsd:string' }],
    });
    assert.equal(ir?.kind, 'InformResponse');
    const dl = (await post(null)) as DownloadArgs & { kind: string };
    assert.equal(dl.kind, 'Download');
    assert.equal(dl.fileType, '1 Firmware Upgrade Image');
    assert.equal(dl.username, '', 'the URL is the credential: none in the Download');
    assert.equal(dl.password, '');
    const url = new URL(dl.url);
    const parts = url.pathname.split('/');
    const token = parts.at(-2)!;
    assert.match(token, /^[A-Za-z0-9_-]{24}$/);

    const full = await simRequest({ url: dl.url });
    assert.equal(full.status, 200);
    assert.equal(full.size, dl.fileSize);
    const again = await simRequest({ url: dl.url, headers: { Range: 'bytes=0-9' } });
    assert.equal(again.status, 206, 'a resumed fetch');
    assert.equal(again.body.toString('latin1'), 'APSFW 2.0 ');

    const wrong = [...parts];
    wrong[wrong.length - 2] = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    assert.equal((await simRequest({ url: new URL(wrong.join('/'), url).href })).status, 404, 'a wrong token');
    const withoutToken = parts.filter((_, i) => i !== parts.length - 2).join('/');
    assert.equal((await simRequest({ url: new URL(withoutToken, url).href })).status, 401, 'not through the credentials URL');
    const otherDevice = [...parts];
    otherDevice[otherDevice.length - 4] = '00147F-TG784-GS1';
    assert.equal((await simRequest({ url: new URL(otherDevice.join('/'), url).href })).status, 404, "not another device's path");

    assert.equal(
      (await post({ kind: 'DownloadResponse', status: 1, startTime: '', completeTime: '' } as CwmpMessage))?.kind ?? null,
      'Download',
    );
    // The config Download came next; the firmware's TransferComplete closes its URL.
    assert.equal(
      (
        await post({
          kind: 'TransferComplete',
          commandKey: dl.commandKey,
          fault: { faultCode: 0, faultString: '' },
          startTime: new Date().toISOString(),
          completeTime: new Date().toISOString(),
        })
      )?.kind,
      'TransferCompleteResponse',
    );
    assert.equal((await simRequest({ url: dl.url })).status, 404, 'closed after TransferComplete');
    s.core.events.flush();
    const refused = s.core.store.state.events({ deviceId: id, limit: 100 }).filter((e) => e.status >= 400);
    assert.ok(refused.length >= 3, 'the refusals are on the device the URL names');
    assert.ok(refused.filter((e) => e.detail !== 'no such download').every((e) => e.file === 'firmware'));
  });
});

describe('TR-069 defaults stay strict with genieacs-sim-like CPEs', () => {
  let s: Server;
  before(async () => {
    s = await start({});
    await s.core.catalog.addBuffer(image('2.0', 100), { kind: 'firmware', profile: PROFILE, version: '2.0', filename: 'fw-2.0.bin' });
    for (const sn of ['DF1', 'DF2']) s.core.devices.upsert({ id: `00147F-TG784-${sn}`, profile: PROFILE, password: `${sn}-pw` });
  });
  after(async () => {
    await s.stop();
  });

  it('logs no weaker setting', () => {
    assert.deepEqual(
      s.logs.filter((l) => typeof l.setting === 'string'),
      [],
    );
  });

  it('refuses Basic over plain HTTP: the CPE stops at the 401', async () => {
    const r = await runCpeSession(genieLike(`${s.http}/tr069`, '00147F-TG784-DF1', 'DF1'));
    assert.equal(r.error, 'ACS answered 401');
  });

  it('over HTTPS the Inform works, and a fetch without the Download credentials is refused (fault 9016 on the device)', async () => {
    const id = '00147F-TG784-DF2';
    const o = genieLike(`${s.https}/tr069`, id, 'DF2');
    const r = await runCpeSession(o);
    assert.equal(r.error, undefined);
    const fw = r.downloads.find((d) => d.fileType.startsWith('1 '))!;
    assert.equal(fw.fetchChallenged, true);
    await runCpeSession(o);
    s.core.events.flush();
    const fault = s.core.devices.state(id)!.reported.lastFault as { faultCode: number };
    assert.equal(fault.faultCode, 9016);
    const refusal = s.core.store.state.events({ deviceId: id, limit: 100 }).find((e) => e.status === 401 && e.file === 'firmware');
    assert.ok(refusal, "the file server's 401 is on the device the URL names");
    const metrics = await (await fetch(`${s.http}/metrics`)).text();
    assert.match(metrics, /^aps_device_faults_total\{adapter="tr069"\} [1-9]/m, 'device faults are counted apart from HTTP statuses');
  });
});
