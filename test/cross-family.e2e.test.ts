import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCpeSession, initialState } from '../adapters/tr069/simulator.ts';
import { apsCli } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

// What the review of the narrowed contract found, each checked on a real server: a refusal costs the same
// work whether a device exists or not (no enumeration by timing), another family's ids and artifacts stay
// out of an adapter's reach, and settings a device could never use are refused when written.
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('across device families', () => {
  let s: TestServer;
  const checked = (): number => s.core.devices.passwordCheckStats().checked;
  const get = (path: string, auth?: string): Promise<Response> =>
    fetch(`${s.http}${path}`, auth ? { headers: { authorization: auth } } : {});

  before(async () => {
    s = await startTestServer({ adapters: { tr069: { unknownCpe: 'pending', pendingProfile: 'thomson-tr069' } } });
    s.core.devices.upsert({ id: 'gw-a', profile: 'audiocodes-mp124', mac: '00908F0000AA', password: 'gw-pw' });
    s.core.devices.upsert({ id: 'desk-a', profile: 'avaya-96x1', model: '9608', mac: '00e0bb0000aa', password: 'desk-pw' });
    s.core.devices.upsert({ id: 'SHARED-ID', profile: 'vop', password: 'vop-pw' });
  });
  after(async () => {
    await s.stop();
  });

  it('AudioCodes (clear secret, no hash check for a known MAC): an unknown MAC costs none either', async () => {
    const before = checked();
    assert.equal((await get('/audiocodes/00908F0000AA.ini', basic('gw-a', 'wrong'))).status, 401);
    assert.equal((await get('/audiocodes/00908F0000FF.ini', basic('gw-a', 'wrong'))).status, 401);
    assert.equal(checked(), before, 'neither refusal checked a hash: their cost is the same');
  });

  it('Avaya (hashed passwords): an unknown MAC with credentials costs one check, as a wrong password does', async () => {
    let before = checked();
    assert.equal((await get('/avaya/00e0bb0000aa.txt', basic('desk-a', 'wrong-1'))).status, 401);
    assert.equal(checked(), before + 1, 'a wrong password for a known phone: one hash check');
    before = checked();
    assert.equal((await get('/avaya/00e0bb0000ff.txt', basic('desk-a', 'wrong-2'))).status, 401);
    assert.equal(checked(), before + 1, 'an unknown MAC: one hash check too');
    before = checked();
    assert.equal((await get('/avaya/00e0bb0000aa.txt', basic('someone-else', 'desk-pw'))).status, 401, 'the login must name this phone');
    assert.equal(checked(), before + 1);
  });

  it("TR-069: an Inform naming another family's device id is refused like any unknown CPE, never a 500", async () => {
    const r = await runCpeSession({
      acs: `${s.http}/tr069`,
      serial: 'SHARED-ID',
      oui: '',
      productClass: '',
      password: 'x',
      state: initialState(),
    });
    assert.match(r.error ?? '', /ACS answered 401/);
    assert.equal(s.core.devices.get('SHARED-ID')?.profile, 'vop', 'the VOP device is untouched');
  });

  it("an adapter cannot read another family's artifacts, a device's own config among them", async () => {
    const own = await s.core.catalog.addBuffer(Buffer.from('[gw-a own ini]\n'), {
      kind: 'config',
      profile: 'audiocodes-mp124',
      deviceId: 'gw-a',
      filename: 'gw-a.ini',
    });
    const vop = s.core.servicesFor('vop');
    assert.equal(vop.catalog.get(own.id), undefined);
    assert.throws(() => vop.catalog.readSmall(own), /no vop artifact/);
    assert.throws(() => vop.catalog.blobPath(own), /no vop artifact/);
    assert.equal(vop.catalog.target(s.core.devices.get('gw-a')!, 'config'), undefined);
    assert.equal(s.core.servicesFor('audiocodes').catalog.get(own.id)?.id, own.id);
  });

  it('settings a device could never use are refused when written', async () => {
    const { fails } = apsCli({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' });
    // A hash cannot give back the clear password a Digest protocol needs.
    await fails(['device', 'set', 'SHARED-ID', '--profile', 'thomson-tr069'], /needs the clear password; give --password again/);
  });
});
