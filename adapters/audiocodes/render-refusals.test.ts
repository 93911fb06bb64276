import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { simRequest } from '../../src/adapter-api.ts';
import { audiocodesAdapter } from './index.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { getParam, parseIni, valueText } from './ini-doc.ts';
import { checkIniVariables } from './template-vars.ts';
import { APS_BIN as BIN } from '../../test/helpers/cli.ts';

// An ini APS can't serve correctly is refused for that one device (500, reason in the log and the event,
// the same error in `aps preview`), never served broken and never a crash.
const PROFILE = 'audiocodes-mp124';
const exec = promisify(execFile);

describe('AudioCodes: an ini that cannot work is refused, per device', () => {
  let s: TestServer;
  const ini = (mac: string) => simRequest({ url: `${s.http}/audiocodes/${mac}.ini` });
  const lastEvent = (id: string) => {
    s.core.events.flush();
    return s.core.store.state.events({ deviceId: id, limit: 1 })[0];
  };

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'fine', profile: PROFILE, mac: '00908FBB0001' });
  });
  after(async () => {
    await s.stop();
  });

  it('update_scheme ftp without a device password and without anonymous FTP', async () => {
    const d = s.core.devices.upsert({ id: 'ftp-nopw', profile: PROFILE, mac: '00908FBB0002', vars: { update_scheme: 'ftp' } });
    const r = await ini('00908FBB0002');
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'Internal Server Error\n', 'the device learns nothing');
    assert.match(String(lastEvent('ftp-nopw')?.detail), /update_scheme ftp needs a device password/);
    assert.throws(
      () => audiocodesAdapter.preview(d, s.core.servicesFor('audiocodes', { readOnly: true }), s.core.adapterConfig('audiocodes')),
      /device ftp-nopw: update_scheme ftp needs a device password .*anonymous FTP/,
    );
    await assert.rejects(
      exec(process.execPath, [BIN, 'preview', 'ftp-nopw'], { env: { ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' } }),
      (e: { code: number; stderr: string }) => e.code === 1 && /update_scheme ftp needs a device password/.test(e.stderr),
    );
    // Other devices are served as before.
    assert.equal((await ini('00908FBB0001')).status, 200);

    // With a password the URLs carry the FTP login and the ini is served.
    s.core.devices.upsert({ id: 'ftp-nopw', password: 'ftp-pw-1' });
    const ok = await simRequest({
      url: `${s.http}/audiocodes/00908FBB0002.ini`,
      headers: { Authorization: `Basic ${Buffer.from('ftp-nopw:ftp-pw-1').toString('base64')}` },
    });
    assert.equal(ok.status, 200);
    assert.match(
      valueText(getParam(parseIni(ok.body.toString()), 'IniFileURL')!),
      /^ftp:\/\/ftp-nopw:ftp-pw-1@127\.0\.0\.1:\d+\/00908FBB0002\.ini$/,
    );
  });

  it('a variable with a single quote inside a quoted parameter value: 500 naming it, not a parse error', async () => {
    s.core.devices.upsert({ id: 'quote', profile: PROFILE, mac: '00908FBB0003', vars: { ntp_server: "o'brien.example" } });
    assert.equal((await ini('00908FBB0003')).status, 500);
    assert.match(
      String(lastEvent('quote')?.detail),
      /variable ntp_server contains ', which would end the quoted value of parameter NTPServerIP/,
    );
    assert.ok(!String(lastEvent('quote')?.detail).includes('brien'), 'the value itself is never logged');
    // A double quote is harmless in a single-quoted scalar: served.
    s.core.devices.upsert({ id: 'quote', vars: { ntp_server: 'ntp"1.example' } });
    const r = await ini('00908FBB0003');
    assert.equal(r.status, 200);
    assert.equal(valueText(getParam(parseIni(r.body.toString()), 'NTPServerIP')!), 'ntp"1.example');
  });

  it('a variable with a double quote inside a table string is refused', async () => {
    s.core.devices.upsert({ id: 'dq', profile: PROFILE, mac: '00908FBB0004', vars: { sip_proxy: 'sip"x.example' } });
    assert.equal((await ini('00908FBB0004')).status, 500);
    assert.match(
      String(lastEvent('dq')?.detail),
      /variable sip_proxy contains ", which would end the quoted value of table PREFIX row 0 field 2/,
    );
  });

  it("a variable with a line break can't inject parameters", async () => {
    s.core.devices.upsert({
      id: 'inject',
      profile: PROFILE,
      mac: '00908FBB0005',
      vars: { syslog_server: '10.0.0.1\r\nIniFileURL2 = 1\r\nResetNow = 1' },
    });
    const r = await ini('00908FBB0005');
    assert.equal(r.status, 500);
    assert.ok(!r.body.toString().includes('ResetNow'));
    assert.match(String(lastEvent('inject')?.detail), /variable syslog_server contains a line break/);
  });

  it('a risky variable the template does not use changes nothing', async () => {
    s.core.devices.upsert({ id: 'unused', profile: PROFILE, mac: '00908FBB0006', vars: { note: "it's\nfine" } });
    assert.equal((await ini('00908FBB0006')).status, 200);
  });
});

describe('AudioCodes: update_scheme ftp without a password, anonymous FTP configured', () => {
  it('serves ftp:// URLs without a login', async () => {
    const s = await startTestServer({
      ftp: { enabled: true, port: 0, pasvMin: 41000, pasvMax: 41999, anonymous: true },
      adapters: { audiocodes: { ftpAnonymous: true } },
    });
    try {
      s.core.devices.upsert({ id: 'anon-ftp', profile: PROFILE, mac: '00908FBB0101', vars: { update_scheme: 'ftp' } });
      const r = await simRequest({ url: `${s.http}/audiocodes/00908FBB0101.ini` });
      assert.equal(r.status, 200);
      assert.equal(valueText(getParam(parseIni(r.body.toString()), 'IniFileURL')!), `ftp://127.0.0.1:${s.ftpPort}/00908FBB0101.ini`);
    } finally {
      await s.stop();
    }
  });
});

describe('checkIniVariables', () => {
  const tpl = (v: Record<string, string>) =>
    `A = '${v.a}'\r\nB = ${v.b}\r\n; ${v.c}\r\n[ T ]\r\nFORMAT T_Index = T_X, T_Y;\r\nT 0 = "${v.d}", ${v.e};\r\n[ \\T ]\r\n`;
  const ok = { a: 'x', b: '1', c: 'c', d: 'd', e: '2' };

  it('passes values that keep the quoting, refuses those that break it', () => {
    checkIniVariables({ ...ok, a: 'say "hi"', c: `it's "c"`, d: "it's" }, tpl);
    assert.throws(() => checkIniVariables({ ...ok, a: "it's" }, tpl), /variable a contains '/);
    assert.throws(() => checkIniVariables({ ...ok, b: "'1" }, tpl), /variable b contains a quote/);
    assert.throws(() => checkIniVariables({ ...ok, d: 'a"b' }, tpl), /variable d contains "/);
    assert.throws(() => checkIniVariables({ ...ok, e: '"2' }, tpl), /variable e contains a quote/);
    assert.throws(() => checkIniVariables({ ...ok, c: 'x\nB2 = 1' }, tpl), /variable c contains a line break/);
  });
});
