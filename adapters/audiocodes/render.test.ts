// Golden files: fixtures/render_*.golden.ini. After a deliberate change to the output, regenerate them with
//   APS_UPDATE_GOLDEN=1 npm test -- audiocodes/render
// and review the diff; normal runs only compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { AudioCodesRenderError, renderAudioCodesIni } from './render.ts';
import type { AudioCodesRenderInput } from './render.ts';
import { IniError, getParam, parseIni } from './ini-doc.ts';

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url);
// The real MP-124 export doubles as a template: what an admin gets by exporting a configured gateway.
const template = readFileSync(fixture('MP124_6.60A_export.ini'), 'utf8');

function golden(name: string, actual: Buffer): void {
  if (process.env.APS_UPDATE_GOLDEN === '1') writeFileSync(fixture(name), actual);
  assert.ok(actual.equals(readFileSync(fixture(name))), `${name} differs from the rendered bytes`);
}

const periodic: AudioCodesRenderInput = {
  template,
  iniFileUrl: 'http://aps.example.net:8080/audiocodes/<MAC>.ini',
  schedule: { kind: 'frequency', minutes: 60 },
};

const full: AudioCodesRenderInput = {
  template,
  params: { EnableSIPRemoteReset: 1, SyslogServerIP: '10.0.0.9', AUPDDigestUsername: 'mp124-0001' },
  iniFileUrl: 'https://aps.example.net:8443/audiocodes/<MAC>.ini',
  firmwareUrl: 'https://aps.example.net:8443/audiocodes/fw/MP124_SIP_F6.60A.360.002.cmp',
  auxUrls: {
    cpt: 'https://aps.example.net:8443/audiocodes/aux/cpt-3f2a9c.dat',
    tlsRoot: 'https://aps.example.net:8443/audiocodes/aux/root-77aa01.pem',
    fxsCoeff: 'https://aps.example.net:8443/audiocodes/aux/fxs-coeff-0a1b2c.dat',
  },
  schedule: { kind: 'daily', time: '02:30', randomSeconds: 900 },
  checkIfIniChanged: 1,
};

test('periodic check, no firmware or aux target: matches the golden file', () => {
  const out = renderAudioCodesIni(periodic);
  golden('render_periodic.golden.ini', out);
  const doc = parseIni(out.toString('utf8'));
  assert.deepEqual(getParam(doc, 'AutoUpdateFrequency'), { kind: 'bare', value: '60' });
  assert.deepEqual(getParam(doc, 'AutoUpdateCmpFile'), { kind: 'bare', value: '0' });
  assert.equal(getParam(doc, 'CmpFileURL'), undefined);
  assert.equal(getParam(doc, 'AutoUpdatePredefinedTime'), undefined);
});

test('firmware, aux targets, daily check, params: matches the golden file', () => {
  const out = renderAudioCodesIni(full);
  golden('render_full.golden.ini', out);
  const doc = parseIni(out.toString('utf8'));
  assert.deepEqual(getParam(doc, 'cmpfileurl'), { kind: 'string', value: full.firmwareUrl! });
  assert.deepEqual(getParam(doc, 'AutoUpdateCmpFile'), { kind: 'bare', value: '1' });
  assert.deepEqual(getParam(doc, 'CptFileURL'), { kind: 'string', value: full.auxUrls!.cpt! });
  assert.deepEqual(getParam(doc, 'TLSRootFileUrl'), { kind: 'string', value: full.auxUrls!.tlsRoot! });
  assert.equal(getParam(doc, 'PrtFileURL'), undefined);
  assert.deepEqual(getParam(doc, 'FXSCoeffFileUrl'), { kind: 'string', value: full.auxUrls!.fxsCoeff! });
  assert.equal(getParam(doc, 'FXOCoeffFileUrl'), undefined);
  assert.deepEqual(getParam(doc, 'AutoUpdatePredefinedTime'), { kind: 'string', value: '02:30' });
  assert.deepEqual(getParam(doc, 'AutoUpdatePredefinedRandomTime'), { kind: 'bare', value: '900' });
  assert.deepEqual(getParam(doc, 'AutoUpdateFrequency'), { kind: 'bare', value: '0' }, 'the periodic check is switched off, not left out');
  // The export writes this IP bare, and an override keeps it so.
  assert.deepEqual(getParam(doc, 'SyslogServerIP'), { kind: 'bare', value: '10.0.0.9' });
  assert.match(out.toString('utf8'), /\r\nAUPDCheckIfIniChanged = 1\r\n/);
  assert.ok(out.toString('utf8').endsWith('\r\n'));
});

test('deterministic: same input, same bytes, whatever the params key order; template untouched', () => {
  const doc = parseIni(template);
  const before = structuredClone(doc);
  const a = renderAudioCodesIni({ ...full, template: doc });
  const reordered = { AUPDDigestUsername: 'mp124-0001', SyslogServerIP: '10.0.0.9', EnableSIPRemoteReset: 1 };
  const b = renderAudioCodesIni({ ...full, template: doc, params: reordered });
  assert.ok(a.equals(b));
  assert.ok(a.equals(renderAudioCodesIni(full)), 'text and parsed template render alike');
  assert.deepEqual(doc, before);
});

test('the template cannot keep stale APS-owned values; one schedule replaces the other', () => {
  const stale = [
    '[SYSTEM Params]',
    "IniFileURL = 'http://old/x.ini'",
    "CmpFileURL = 'http://old/fw.cmp'",
    'AutoUpdateCmpFile = 1',
    "PrtFileURL = 'http://old/prt.dat'",
    "FXOCoeffFileURL = 'http://old/fxo.dat'",
    'AutoUpdateFrequency = 5',
    "AutoUpdatePredefinedTime = '01:00'",
    'AutoUpdatePredefinedRandomTime = 60',
    'AUPDCheckIfIniChanged = 2',
    '',
  ].join('\r\n');
  const out = renderAudioCodesIni({ template: stale, iniFileUrl: 'http://aps/<MAC>.ini', schedule: { kind: 'frequency', minutes: 15 } });
  assert.equal(
    out.toString('utf8'),
    [
      '[SYSTEM Params]',
      "IniFileURL = 'http://aps/<MAC>.ini'",
      'AutoUpdateCmpFile = 0',
      'AUPDCheckIfIniChanged = 2',
      'AutoUpdateFrequency = 15',
      '',
    ].join('\r\n'),
  );
  const daily = renderAudioCodesIni({
    template: stale,
    iniFileUrl: 'http://aps/<MAC>.ini',
    schedule: { kind: 'daily', time: '23:59', randomSeconds: 0 },
  });
  const text = daily.toString('utf8');
  assert.match(text, /AutoUpdateFrequency = 0\r\nAutoUpdatePredefinedTime = '23:59'\r\nAutoUpdatePredefinedRandomTime = 0\r\n/);
  assert.doesNotMatch(text, /AutoUpdateFrequency = [1-9]/);
});

test('a template without sections gets the parameters ahead of its tables', () => {
  const t = '[ ProxyIp ]\r\nFORMAT ProxyIp_Index = ProxyIp_IpAddress;\r\nProxyIp 0 = "sip.example.net";\r\n[ \\ProxyIp ]\r\n';
  const out = renderAudioCodesIni({ template: t, iniFileUrl: 'http://aps/a.ini', schedule: { kind: 'frequency', minutes: 1 } });
  assert.ok(
    out
      .toString('utf8')
      .startsWith("IniFileURL = 'http://aps/a.ini'\r\nAutoUpdateCmpFile = 0\r\nAutoUpdateFrequency = 1\r\n[ ProxyIp ]\r\n"),
  );
});

test('bad input is refused with a typed error', () => {
  const renderError = (input: AudioCodesRenderInput, code: string): void => {
    assert.throws(
      () => renderAudioCodesIni(input),
      (e: unknown) => e instanceof AudioCodesRenderError && e.reason === code,
    );
  };
  renderError({ ...periodic, schedule: { kind: 'frequency', minutes: 0 } }, 'bad-schedule');
  renderError({ ...periodic, schedule: { kind: 'frequency', minutes: 1.5 } }, 'bad-schedule');
  renderError({ ...periodic, schedule: { kind: 'daily', time: '24:00', randomSeconds: 0 } }, 'bad-schedule');
  renderError({ ...periodic, schedule: { kind: 'daily', time: '2:30', randomSeconds: 0 } }, 'bad-schedule');
  renderError({ ...periodic, schedule: { kind: 'daily', time: '02:30', randomSeconds: -1 } }, 'bad-schedule');
  renderError({ ...periodic, iniFileUrl: '' }, 'bad-url');
  renderError({ ...periodic, auxUrls: { cpt: ' http://x ' } }, 'bad-url');
  renderError({ ...periodic, params: { inifileurl: 'http://elsewhere' } }, 'owned-param');
  renderError({ ...periodic, checkIfIniChanged: 1, params: { AUPDCheckIfIniChanged: 2 } }, 'owned-param');
  renderError({ ...periodic, checkIfIniChanged: 3 as 1 }, 'bad-option');
  // Template faults and values the file cannot hold are IniErrors, and never echo the value.
  assert.throws(
    () => renderAudioCodesIni({ ...periodic, template: '[ T ]\r\n' }),
    (e: unknown) => e instanceof IniError && e.line === 1,
  );
  assert.throws(
    () => renderAudioCodesIni({ ...periodic, params: { AUPDDigestPassword: "pa'ss" } }),
    (e: unknown) => e instanceof IniError && /AUPDDigestPassword/.test(e.message) && !/pa'ss/.test(e.message),
  );
});

test('iniEncoding latin1: one byte per character; a character latin-1 lacks is an IniError naming its line', () => {
  const input: AudioCodesRenderInput = {
    template: ";café\r\nA = 'Zürich'\r\n",
    iniFileUrl: 'http://aps/a.ini',
    schedule: { kind: 'frequency', minutes: 5 },
    encoding: 'latin1',
  };
  const out = renderAudioCodesIni(input);
  assert.ok(out.includes(Buffer.from([0x3b, 0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a])), ';café in latin-1');
  assert.ok(renderAudioCodesIni({ ...input, encoding: undefined }).includes(Buffer.from(';café', 'utf8')), 'UTF-8 by default');
  assert.throws(
    () => renderAudioCodesIni({ ...input, template: ";ok\r\nA = '20 €'\r\n" }),
    (e: unknown) => e instanceof IniError && e.line === 2 && /U\+20AC/.test(e.message),
  );
});
