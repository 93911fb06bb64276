import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simRequest, type SimResponse, digestAuthorization } from '../../src/adapter-api.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { getParam, parseIni, valueText } from './ini-doc.ts';

// HTTP specifics of protocols.md §(a): identification by file name (any case, any separators) or by the
// User-Agent, If-Modified-Since semantics the gateway relies on, optional Basic/Digest, reported firmware.
const PROFILE = 'audiocodes-mp124';
const UA = (mac: string, ver = '6.60A.349.001'): string => `Mozilla/4.0 (compatible; AudioCodes; MP-124;${ver};${mac};7)`;

describe('AudioCodes over HTTP', () => {
  let s: TestServer;
  const get = (path: string, headers: Record<string, string> = {}): Promise<SimResponse> =>
    simRequest({ url: `${s.http}/audiocodes/${path}`, headers });

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'open', profile: PROFILE, mac: '00:90:8f:aa:00:01' });
    s.core.devices.upsert({ id: 'locked', profile: PROFILE, mac: '00908FAA0002', password: 'lock-pw' });
    s.core.devices.upsert({ id: 'waiting', profile: PROFILE, mac: '00908FAA0003', status: 'pending' });
  });
  after(async () => {
    await s.stop();
  });

  it('finds the device by the MAC in the file name, in any case and spelling', async () => {
    const a = await get('00908FAA0001.ini');
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /^text\/plain/);
    for (const name of [
      '00908faa0001.ini',
      '00-90-8F-AA-00-01.ini',
      'cfg_00908faa0001.ini',
      '0090.8faa.0001.ini',
      'cfg_00_90_8f_aa_00_01.ini',
    ]) {
      const r = await get(name);
      assert.equal(r.status, 200, name);
      assert.deepEqual(r.body, a.body, name);
    }
    const doc = parseIni(a.body.toString('utf8'));
    assert.equal(valueText(getParam(doc, 'IniFileURL')!), `${s.http}/audiocodes/00908FAA0001.ini`);
    assert.ok(
      a.body
        .toString('latin1')
        .split('\n')
        .slice(0, -1)
        .every((l) => l.endsWith('\r')),
      'CR LF line ends',
    );
  });

  it('finds it by the User-Agent MAC when the name has none, and records the version', async () => {
    const r = await get('gateway.ini', { 'User-Agent': UA('00908FAA0001', '6.60A.355.004') });
    assert.equal(r.status, 200);
    s.core.events.flush();
    assert.equal(s.core.devices.state('open')?.reported.firmware, '6.60A.355.004');
    assert.equal((await get('gateway.ini')).status, 404, 'no MAC anywhere');
    assert.equal((await get('00908FAA0001.ini', { 'User-Agent': UA('00908FAA0009') })).status, 404, 'name and User-Agent disagree');
  });

  it('answers 304 while the revision holds and 200 with Last-Modified and Date once it moves', async () => {
    const first = await get('00908FAA0001.ini');
    assert.ok(first.headers.date && first.headers['last-modified']);
    const lm = String(first.headers['last-modified']);
    assert.ok(Date.parse(lm) <= Date.parse(String(first.headers.date)), 'Last-Modified is never after Date');
    assert.equal((await get('00908FAA0001.ini', { 'If-Modified-Since': lm })).status, 304);
    // The gateway sends the time of its last download: the Date of that 200.
    const since = String(first.headers.date);
    assert.equal((await get('00908FAA0001.ini', { 'If-Modified-Since': since })).status, 304);
    // A change in the same second as that download must still reach the gateway.
    s.core.devices.upsert({ id: 'open', vars: { first_number: '777' } });
    const next = await get('00908FAA0001.ini', { 'If-Modified-Since': since });
    assert.equal(next.status, 200);
    assert.ok(Date.parse(String(next.headers['last-modified'])) > Date.parse(since));
    assert.ok(Date.parse(String(next.headers['last-modified'])) <= Date.parse(String(next.headers.date)));
    assert.match(next.body.toString('utf8'), /"777"/);
    // Same state, same bytes: rendering is deterministic, so the AUPDCheckIfIniChanged CRC is stable too.
    assert.deepEqual((await get('00908FAA0001.ini')).body, next.body);
  });

  it('refuses unknown MACs with 404, or 401 when credentials were sent, leaking nothing', async () => {
    const r = await get('00908FAAFFFF.ini');
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), 'Not Found\n');
    const basic = `Basic ${Buffer.from('x:y').toString('base64')}`;
    assert.equal((await get('00908FAAFFFF.ini', { Authorization: basic })).status, 401);
    assert.equal((await get('00908FAA0003.ini')).status, 403, 'pending approval');
    assert.equal((await get('00908FAA0001/cmp/none.cmp')).status, 404, 'no firmware target');
  });

  it('asks a device with a password for Basic or Digest credentials', async () => {
    const none = await get('00908FAA0002.ini');
    assert.equal(none.status, 401);
    const challenge = String(none.headers['www-authenticate']);
    assert.match(challenge, /^Digest realm="APS AudioCodes"/);
    assert.match(challenge, /Basic realm=/);
    const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    assert.equal((await get('00908FAA0002.ini', { Authorization: basic('locked', 'lock-pw') })).status, 200);
    assert.equal(
      (await get('00908FAA0002.ini', { Authorization: basic('00908faa0002', 'lock-pw') })).status,
      200,
      'the MAC is a login name too',
    );
    assert.equal((await get('00908FAA0002.ini', { Authorization: basic('locked', 'nope') })).status, 401);
    assert.equal((await get('00908FAA0002.ini', { Authorization: basic('open', 'lock-pw') })).status, 401);
    const uri = '/audiocodes/00908FAA0002.ini';
    const ok = await get('00908FAA0002.ini', {
      Authorization: digestAuthorization({ challenge, username: 'locked', password: 'lock-pw', method: 'GET', uri }),
    });
    assert.equal(ok.status, 200);
    // The gateway's own credentials travel in its ini (parameters absent from an ini reset to defaults).
    const doc = parseIni(ok.body.toString('utf8'));
    assert.equal(valueText(getParam(doc, 'AUPDDigestUsername')!), 'locked');
    const bad = await get('00908FAA0002.ini', {
      Authorization: digestAuthorization({ challenge, username: 'locked', password: 'x', method: 'GET', uri }),
    });
    assert.equal(bad.status, 401);
  });

  it('accepts a Digest header once per nonce-count: a captured one is not replayed (issue 13, defect 9)', async () => {
    const challenge = String((await get('00908FAA0002.ini')).headers['www-authenticate']);
    const uri = '/audiocodes/00908FAA0002.ini';
    const first = digestAuthorization({ challenge, username: 'locked', password: 'lock-pw', method: 'GET', uri });
    assert.equal((await get('00908FAA0002.ini', { Authorization: first })).status, 200);
    const replay = await get('00908FAA0002.ini', { Authorization: first });
    assert.equal(replay.status, 401, 'the same nc again');
    assert.match(String(replay.headers['www-authenticate']), /stale=true/, 'answered like an expired nonce: the device retries silently');
    const next = digestAuthorization({ challenge, username: 'locked', password: 'lock-pw', method: 'GET', uri, nc: 2 });
    assert.equal((await get('00908FAA0002.ini', { Authorization: next })).status, 200, 'a growing nc on the same nonce is fine');
    assert.equal((await get('00908FAA0002.ini', { Authorization: first })).status, 401, 'a lower nc is not');
  });

  it('serves only the current cmp target; an old cmp URL is gone', async () => {
    await s.core.catalog.addBuffer(Buffer.alloc(1000, 1), {
      kind: 'firmware',
      profile: PROFILE,
      version: '6.60A.360.002',
      filename: 'MP124.cmp',
    });
    const url = (ini: SimResponse): string => valueText(getParam(parseIni(ini.body.toString('utf8')), 'CmpFileURL')!);
    const v1 = url(await get('00908FAA0001.ini'));
    assert.match(v1, /\/audiocodes\/00908FAA0001\/cmp\/MP124_6\.60A\.360\.002\.cmp$/);
    assert.equal((await simRequest({ url: v1 })).status, 200);
    await s.core.catalog.addBuffer(Buffer.alloc(1000, 2), {
      kind: 'firmware',
      profile: PROFILE,
      version: '6.60A.361.001',
      filename: 'MP124_6.60A.361.001.cmp',
    });
    const v2 = url(await get('00908FAA0001.ini'));
    assert.match(v2, /\/cmp\/MP124_6\.60A\.361\.001\.cmp$/, 'a name that already names its version is kept');
    assert.equal((await simRequest({ url: v1 })).status, 404);
    const r = await simRequest({ url: v2 });
    assert.equal(r.status, 200);
    assert.equal(r.body[0], 2);
  });

  it('serves FXS and FXO coefficient files as auxiliary targets (FXSCoeffFileUrl, FXOCoeffFileUrl)', async () => {
    await s.core.catalog.addBuffer(Buffer.from('fxs coeff'), {
      kind: 'aux',
      role: 'fxs-coeff',
      profile: PROFILE,
      version: '1',
      filename: 'MP124_FXS_Coeff.dat',
    });
    await s.core.catalog.addBuffer(Buffer.from('fxo coeff'), {
      kind: 'aux',
      role: 'fxo-coeff',
      profile: PROFILE,
      version: '1',
      filename: 'MP124_FXO_Coeff.dat',
    });
    const doc = parseIni((await get('00908FAA0001.ini')).body.toString('utf8'));
    for (const [param, role, body] of [
      ['FXSCoeffFileUrl', 'fxs-coeff', 'fxs coeff'],
      ['FXOCoeffFileUrl', 'fxo-coeff', 'fxo coeff'],
    ] as const) {
      const url = valueText(getParam(doc, param)!);
      assert.match(url, new RegExp(`/audiocodes/00908FAA0001/aux/${role}/[0-9a-f]{12}/MP124_FX[SO]_Coeff\\.dat$`));
      const r = await simRequest({ url });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), body);
    }
  });
});
