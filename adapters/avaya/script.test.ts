// The interpreter on the real public samples (fixtures/samples, provenance in fixtures/README.md): each
// test states what a phone of that model reaches, traced by hand through the file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runScript, type ScriptLoader } from './script.ts';
import { parseLine, quoteValue } from './script-lang.ts';

const sample = (name: string): string => readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8');

/** A file server holding these files; everything else is missing. */
function server(files: Record<string, string>): ScriptLoader {
  return async (name) => files[name] ?? null;
}

describe('language', () => {
  test('keywords and SEQ are case-insensitive; tags are "#", one space, one word', () => {
    assert.deepEqual(parseLine('goto END'), { kind: 'goto', tag: 'END' });
    assert.deepEqual(parseLine('if $MODEL4 seq J179 Goto X'), { kind: 'if', variable: 'MODEL4', value: 'J179', tag: 'X' });
    assert.deepEqual(parseLine('# GETSET'), { kind: 'tag', tag: 'GETSET' });
    for (const c of ['#GETSET', '# two words', '## GETSET', '#', '', '   ', '"ESMENABLED,ESMSRVR"'])
      assert.equal(parseLine(c).kind, 'comment', c);
    assert.deepEqual(parseLine('SET GMTOFFSET "-5:00"'), { kind: 'set', name: 'GMTOFFSET', value: '-5:00' });
    assert.deepEqual(parseLine('SET SNTPSRVR ""'), { kind: 'set', name: 'SNTPSRVR', value: '' });
    assert.deepEqual(parseLine('SET TCP_KEEP_ALIVE_STATUS 1 '), { kind: 'set', name: 'TCP_KEEP_ALIVE_STATUS', value: '1' });
  });

  test('the quoting rule: empty, blank, comma or semicolon', () => {
    assert.equal(quoteValue(''), '""');
    assert.equal(quoteValue('a b'), '"a b"');
    assert.equal(quoteValue('1,2,9'), '"1,2,9"');
    assert.equal(quoteValue('h:5061;transport=tls'), '"h:5061;transport=tls"');
    assert.equal(quoteValue('-5:00'), '-5:00');
  });

  test('a missing tag ends the file; an unknown variable skips the IF', async () => {
    const r = await runScript('IF $NOPE SEQ x GOTO A\nSET B 1\nGOTO MISSING\nSET C 2\n# A\nSET D 3', { phone: {}, load: server({}) });
    assert.deepEqual(r.settings, { B: '1' });
  });

  test('a GET that loads ends the current file; a failing GET continues', async () => {
    const r = await runScript('GET missing.txt\nSET A 1\nGET there.txt\nSET B 2', {
      phone: {},
      load: server({ 'there.txt': 'SET C 3' }),
    });
    assert.deepEqual(r.settings, { A: '1', C: '3' });
    assert.deepEqual(r.gets, [
      { file: 'missing.txt', loaded: false },
      { file: 'there.txt', loaded: true },
    ]);
  });

  test('a GOTO loop and a file that GETs itself stop with a reason', async () => {
    const loop = await runScript('# A\nGOTO A', { phone: {}, load: server({}), maxSteps: 50 });
    assert.match(String(loop.stopped), /step limit/);
    const self = await runScript('GET self.txt', { phone: {}, load: server({ 'self.txt': 'GET self.txt' }) });
    assert.match(String(self.stopped), /nesting/);
  });
});

describe('sample J100Supgrade.txt (acevallos31/Avaya_Asterisk)', () => {
  const script = sample('J100Supgrade.txt');
  const mac = 'c81fea9b650d';

  test('a J179 gets its application and the JEM24 module firmware, then 46xxsettings.txt and no $MACADDR.txt', async () => {
    const r = await runScript(script, { phone: { MODEL4: 'J179', MACADDR: mac }, load: server({ '46xxsettings.txt': 'SET SIPDOMAIN x' }) });
    assert.equal(r.settings.APPNAME, 'FW_S_J179_R4_1_1_0_7.bin');
    assert.equal(r.settings.JEM24_APPNAME, 'FW_JEM24_R1_0_1_0_23.bin');
    assert.equal(r.settings.SIPDOMAIN, 'x');
    // GET 46xxsettings.txt succeeded: the rest of the script (GET $MACADDR.txt) is not interpreted.
    assert.deepEqual(r.gets, [{ file: '46xxsettings.txt', loaded: true }]);
  });

  test('without a settings file the J129 falls through to its $MACADDR.txt (lower-case hex)', async () => {
    const r = await runScript(script, { phone: { MODEL4: 'J129', MACADDR: mac }, load: server({ [`${mac}.txt`]: 'SET SIPUSERNAME 201' }) });
    assert.equal(r.settings.APPNAME, 'FW_S_J129_R4_1_1_0_7.bin');
    assert.equal(r.settings.JEM24_APPNAME, undefined);
    assert.deepEqual(r.gets, [
      { file: '46xxsettings.txt', loaded: false },
      { file: `${mac}.txt`, loaded: true },
    ]);
    assert.equal(r.settings.SIPUSERNAME, '201');
  });

  test('a J189 picks its image by hardware version: $HWVERS 2 old, 4 new, unknown $HWVERS new', async () => {
    const run = async (phone: Record<string, string>): Promise<string | undefined> =>
      (await runScript(script, { phone: { MODEL4: 'J189', ...phone }, load: server({}) })).settings.APPNAME;
    assert.equal(await run({ HWVERS: '2' }), 'FW_S_J189_R4_1_1_0_7.bin');
    assert.equal(await run({ HWVERS: '4' }), 'FW_S_J189A_R4_1_1_0_7.bin');
    assert.equal(await run({}), 'FW_S_J189A_R4_1_1_0_7.bin');
  });

  test('a model the script does not name (K175) sets no APPNAME and still reads the settings', async () => {
    const r = await runScript(script, { phone: { MODEL4: 'k175', MACADDR: mac }, load: server({ '46xxsettings.txt': '' }) });
    assert.equal(r.settings.APPNAME, undefined);
    assert.deepEqual(r.gets, [{ file: '46xxsettings.txt', loaded: true }]);
  });
});

describe('sample 16xxupgrade.txt (acevallos31/Avaya_Asterisk, site-edited 1603SW-I SIP script)', () => {
  const script = sample('16xxupgrade.txt');

  test('a 1603 already on the backup application goes straight to the SIP application and 16xxsettings.txt', async () => {
    const r = await runScript(script, {
      phone: { MODEL4: '1603', BOOTNAME: 'hb1603ua1_2200.bin' },
      load: server({ '16xxsettings.txt': '' }),
    });
    assert.deepEqual(r.settings, { APPNAME: 'sa1603ua1_0100.bin' });
    assert.deepEqual(r.gets, [{ file: '16xxsettings.txt', loaded: true }]);
  });

  test('a 1603 on another boot image gets the backup application named too, and the site-added CONFIG_SERVER_PATH', async () => {
    const r = await runScript(script, { phone: { MODEL4: '1603', BOOTNAME: 'hb1603ua1_1000.bin' }, load: server({}) });
    assert.deepEqual(r.settings, {
      APPNAME: 'sa1603ua1_0100.bin',
      BACKUP_APPNAME: 'hb1603ua1_2200.bin',
      SKIPFWDOWNGRADE: '0',
      CONFIG_SERVER_PATH: 'http://10.2.248.2/',
    });
    assert.deepEqual(r.gets, [{ file: '16xxsettings.txt', loaded: false }]);
  });

  test('a 1608 is matched by its comcode ($PHONECC) only; without one it reaches "goto END" and reads nothing', async () => {
    const none = await runScript(script, { phone: { MODEL4: '1608' }, load: server({}) });
    assert.deepEqual(none.settings, {});
    assert.deepEqual(none.gets, []);
    const cc = await runScript(script, {
      phone: { MODEL4: '1608', PHONECC: '700458508', BOOTNAME: 'ha1603ua1_3200.bin' },
      load: server({}),
    });
    assert.equal(cc.settings.APPNAME, 'sa1603ua1_0100.bin');
  });
});

describe('sample 46xxsettings_ipoffice_autogen.txt (rguerra00/46xxsettings.txt, IP Office 11.0.4)', () => {
  const settings = sample('46xxsettings_ipoffice_autogen.txt');
  const run = (phone: Record<string, string>): Promise<Record<string, string>> =>
    runScript(settings, { phone, load: server({}) }).then((r) => r.settings);

  test('a SIP J179 walks SIPX → J1X9 → STIMULUS, then the J1X9 and stimulus product-line settings', async () => {
    const s = await run({ MODEL4: 'J179', SIG_IN_USE: 'SIP' });
    assert.equal(s.SIPDOMAIN, 'hospice.local');
    assert.equal(s.RTCPMON, '10.8.61.20');
    assert.equal(s.SIP_CONTROLLER_LIST, '10.8.61.20:5061;transport=tls');
    assert.equal(s.SYSTEM_LANGUAGE, 'Mlf_J169_J179_English.xml');
    assert.equal(s.SIPREGPROXYPOLICY, 'alternate');
    assert.equal(s.ENABLE_IPOFFICE, '2');
    assert.equal(s.USBLOGINSTAT, '0');
    assert.equal(s.CONFERENCE_TYPE, undefined, 'J129-only settings stay out');
    assert.equal(s.SNTPSRVR, undefined, 'J129-only settings stay out');
  });

  test('a J129 gets its own block, the empty SNTPSRVR "" and the later of two SUBSCRIBE_SECURITY lines', async () => {
    const s = await run({ MODEL4: 'J129', SIG_IN_USE: 'SIP' });
    assert.equal(s.SNTPSRVR, '');
    assert.equal(s.USER_STORE_URI, 'http://10.8.61.20:80/user');
    assert.equal(s.CONFERENCE_TYPE, '1');
    assert.equal(s.ENABLE_IPOFFICE, '1');
    assert.equal(s.DATESEPARATOR, '/');
  });

  test('an H.323 J179 jumps to the 96x1 block', async () => {
    const s = await run({ MODEL4: 'J179', SIG_IN_USE: 'H323', SIG: '1' });
    assert.equal(s.BRURI, 'https://10.8.61.20:443/user/backuprestore/');
    assert.equal(s.SIPDOMAIN, undefined);
    assert.equal(s.SIMULTANEOUS_REGISTRATIONS, undefined, 'SETTINGSJ1X9 is skipped for H323');
  });

  test('a 9608 on SIG 2 (SIP) skips the 96x1 H.323 block but keeps its certificates', async () => {
    const s = await run({ MODEL4: '9608', SIG: '2', SIG_IN_USE: 'SIP' });
    assert.equal(s.TRUSTCERTS, 'Root-CA-0214515C.pem');
    assert.equal(s.BRURI, undefined);
    assert.equal(s.TLSSRVRID, '0');
    assert.equal(s.UNNAMEDSTAT, '0');
  });

  test('a K175: the SET whose quoted value sits on the next line sets an empty value, the next line is a comment', async () => {
    const s = await run({ MODEL4: 'K175' });
    assert.equal(s.OBSCURE_PREFERENCES, '');
    assert.equal(s.ENABLE_PPM, '0');
    assert.equal(s.UPGRADE_POLICY, '0');
    assert.equal(s.SETTINGS_CHECK_INTERVAL, undefined, 'K1XX ends with GOTO END');
  });

  test('a 1603 gets the 16xx language files', async () => {
    const s = await run({ MODEL4: '1603' });
    assert.equal(s.LANG1FILE, 'mlf_Sage_v502_spanish_latin.txt');
    assert.equal(s.HTTPPORT, '80');
  });
});

describe('sample 46xxsettings_3rdparty_sip.txt (mlrabbitt/avaya-sip, hand-written for a 96x1)', () => {
  test('every SET applies; "#SET" lines are comments; a quoted value loses its quotes', async () => {
    const r = await runScript(sample('46xxsettings_3rdparty_sip.txt'), { phone: { MODEL4: '9611' }, load: server({}) });
    assert.equal(r.settings.GMTOFFSET, '-5:00');
    assert.equal(r.settings.SIP_CONTROLLER_LIST, 'YOUR_PROXY_IP:YOUR_PROXY_PORT;transport=tcp');
    assert.equal(r.settings.DIALPLAN, '911|[3567]XXX|9999|9Z1XXXXXXXXXX');
    assert.equal(r.settings.CONFIG_SERVER, undefined);
    assert.equal(r.settings.MSGNUM, undefined);
    assert.equal(Object.keys(r.settings).length, 13);
  });
});
