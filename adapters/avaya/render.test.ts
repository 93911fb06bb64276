// Golden files: fixtures/*.golden.txt. After a deliberate change to the output, regenerate them with
//   APS_UPDATE_GOLDEN=1 npm test -- avaya/render
// and review the diff; normal runs only compare. Each generated file is also run through the interpreter.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { isApsError } from '../../src/adapter-api.ts';
import { claimedName, renderPhoneFile, renderSettings, renderUpgradeScript, setLine, type SettingsInput } from './render.ts';
import { runScript } from './script.ts';
import { templateLines } from './template-lines.ts';

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url);

function golden(name: string, actual: Buffer): void {
  if (process.env.APS_UPDATE_GOLDEN === '1') writeFileSync(fixture(name), actual);
  assert.ok(actual.equals(readFileSync(fixture(name))), `${name} differs from the rendered bytes`);
}

const j100 = renderUpgradeScript({
  scriptName: 'J100Supgrade.txt',
  settingsFile: '46xxsettings.txt',
  models: [
    { model: 'J129', appname: 'FW_S_J129_R4_1_1_0_7.bin', companions: [] },
    { model: 'J179', appname: 'FW_S_J179_R4_1_1_0_7.bin', companions: [{ param: 'JEM24_APPNAME', file: 'FW_JEM24_R1_0_1_0_23.bin' }] },
  ],
});

const site: SettingsInput = {
  profiles: [
    {
      name: 'avaya-j100',
      models: ['J129', 'J179'],
      params: [
        { name: 'SIPDOMAIN', value: 'pbx.example.net', source: 'p' },
        { name: 'SIP_CONTROLLER_LIST', value: '10.0.0.5:5061;transport=tls', source: 'p' },
      ],
    },
    { name: 'avaya-96x1', models: ['9608', '9611'], params: [{ name: 'MEDIAENCRYPTION', value: '1,2,9', source: 'p' }] },
    { name: 'common', models: [], params: [{ name: 'SNTPSRVR', value: '', source: 'p' }] },
  ],
  groups: [
    { number: 2, name: 'sales', params: [{ name: 'GMTOFFSET', value: '-5:00', source: 'g' }] },
    { number: 7, name: 'empty', params: [] },
  ],
};

describe('upgrade script', () => {
  test('one IF per model, SET APPNAME and companions, GOTO GETSET, GET 46xxsettings.txt last: golden', () => {
    golden('J100Supgrade.golden.txt', j100);
    const text = j100.toString('utf8');
    assert.match(text, /^IF \$MODEL4 SEQ J179 GOTO APP_J179$/m);
    assert.ok(text.trimEnd().endsWith('# GETSET\nGET 46xxsettings.txt'));
  });

  test('runs in the interpreter: each model reaches its own APPNAME, others none', async () => {
    const settings = 'SET SIPDOMAIN pbx.example.net';
    const run = (model: string) =>
      runScript(j100.toString('utf8'), { phone: { MODEL4: model }, load: async (n) => (n === '46xxsettings.txt' ? settings : null) });
    const j179 = await run('j179');
    assert.equal(j179.settings.APPNAME, 'FW_S_J179_R4_1_1_0_7.bin');
    assert.equal(j179.settings.JEM24_APPNAME, 'FW_JEM24_R1_0_1_0_23.bin');
    assert.equal(j179.settings.SIPDOMAIN, 'pbx.example.net');
    assert.equal((await run('J129')).settings.JEM24_APPNAME, undefined);
    assert.equal((await run('J169')).settings.APPNAME, undefined);
  });

  test('no firmware target: the script only reads the settings', () => {
    const empty = renderUpgradeScript({ scriptName: '96x1Supgrade.txt', settingsFile: '46xxsettings.txt', models: [] }).toString('utf8');
    assert.equal(
      empty
        .split('\n')
        .filter((l) => !l.startsWith('##') && l)
        .join('|'),
      'GOTO GETSET|# GETSET|GET 46xxsettings.txt',
    );
  });
});

describe('upgrade script with phones of their own (IF $MACADDR)', () => {
  const next = { appname: 'FW_S_J179_R4_2_0_0_3.bin', companions: [{ param: 'JEM24_APPNAME', file: 'FW_JEM24_R1_0_1_0_23.bin' }] };
  const input = {
    scriptName: 'J100Supgrade.txt',
    settingsFile: '46xxsettings.txt',
    models: [
      { model: 'J129', appname: 'FW_S_J129_R4_1_1_0_7.bin', companions: [] },
      { model: 'J179', appname: 'FW_S_J179_R4_1_1_0_7.bin', companions: [{ param: 'JEM24_APPNAME', file: 'FW_JEM24_R1_0_1_0_23.bin' }] },
    ],
    // Two J179s in a rollout stage share one section; a J129 pinned back to an older image has its own.
    phones: [
      { mac: 'c81fea9b650d', ...next },
      { mac: '00e0bb0096a1', appname: 'FW_S_J129_R4_0_0_0_1.bin', companions: [] },
      { mac: '00e0bb0096a0', ...next },
    ],
  };
  const script = renderUpgradeScript(input);
  const run = (mac: string, model: string): ReturnType<typeof runScript> =>
    runScript(script.toString('utf8'), { phone: { MODEL4: model, MACADDR: mac }, load: async () => null });

  test('one IF per phone before the $MODEL4 branches, one section per binary set: golden', () => {
    golden('J100Supgrade-phones.golden.txt', script);
    const lines = script.toString('utf8').split('\n');
    const ifs = lines.filter((l) => l.startsWith('IF '));
    assert.deepEqual(ifs.slice(0, 3), [
      'IF $MACADDR SEQ 00e0bb0096a0 GOTO PHONES_1',
      'IF $MACADDR SEQ 00e0bb0096a1 GOTO PHONES_2',
      'IF $MACADDR SEQ c81fea9b650d GOTO PHONES_1',
    ]);
    assert.ok(ifs.slice(3).every((l) => l.startsWith('IF $MODEL4 SEQ ')));
    assert.equal(lines.filter((l) => l.startsWith('# PHONES_')).length, 2);
  });

  test("in the interpreter a named phone takes its own binaries, every other phone its model's", async () => {
    assert.equal((await run('c81fea9b650d', 'J179')).settings.APPNAME, next.appname);
    assert.equal((await run('00e0bb0096a0', 'J179')).settings.JEM24_APPNAME, 'FW_JEM24_R1_0_1_0_23.bin');
    assert.equal((await run('00e0bb0096a1', 'J129')).settings.APPNAME, 'FW_S_J129_R4_0_0_0_1.bin');
    assert.equal((await run('00e0bb0096ff', 'J179')).settings.APPNAME, 'FW_S_J179_R4_1_1_0_7.bin');
    assert.equal((await run('00e0bb0096ff', 'J129')).settings.APPNAME, 'FW_S_J129_R4_1_1_0_7.bin');
  });

  test('without phones the script is the one of the models alone; a MAC that is not 12 lower-case hex digits is refused', () => {
    assert.ok(renderUpgradeScript({ ...input, phones: [] }).equals(j100));
    assert.throws(
      () => renderUpgradeScript({ ...input, phones: [{ mac: 'C8:1F:EA:9B:65:0D', ...next }] }),
      (e: unknown) => isApsError(e) && /not a \$MACADDR value/.test(e.message),
    );
  });
});

describe('46xxsettings.txt', () => {
  const out = renderSettings(site);
  test('profiles by $MODEL4, groups by $GROUP, GET $MACADDR.txt last; quoting: golden', () => {
    golden('46xxsettings.golden.txt', out);
    const text = out.toString('utf8');
    assert.match(text, /^SET SIP_CONTROLLER_LIST "10\.0\.0\.5:5061;transport=tls"$/m);
    assert.match(text, /^SET MEDIAENCRYPTION "1,2,9"$/m);
    assert.match(text, /^SET SNTPSRVR ""$/m);
    assert.ok(!text.includes('GROUP_7'), 'a group without parameters gets no section');
    assert.ok(text.trimEnd().endsWith('GET $MACADDR.txt'));
  });

  test('runs in the interpreter: a J179 in group 2 gets its profile and group settings, then its own file', async () => {
    const r = await runScript(out.toString('utf8'), {
      phone: { MODEL4: 'J179', GROUP: '2', MACADDR: '0011223344aa' },
      load: async (n) => (n === '0011223344aa.txt' ? 'SET SIPUSERNAME 201' : null),
    });
    assert.deepEqual(r.settings, {
      SNTPSRVR: '',
      SIPDOMAIN: 'pbx.example.net',
      SIP_CONTROLLER_LIST: '10.0.0.5:5061;transport=tls',
      GMTOFFSET: '-5:00',
      SIPUSERNAME: '201',
    });
    const other = await runScript(out.toString('utf8'), { phone: { MODEL4: '9608', GROUP: '0' }, load: async () => null });
    assert.deepEqual(other.settings, { SNTPSRVR: '', MEDIAENCRYPTION: '1,2,9' });
  });

  test('a value with a line break or a quote is refused naming the variable, never the value', () => {
    for (const value of ['a\nSET ADMIN_PASSWORD 0000', 'say "hi"', 'x\ry']) {
      assert.throws(
        () =>
          renderSettings({
            profiles: [],
            groups: [{ number: 1, name: 'g', params: [{ name: 'X', value, source: 'group g variable PHNLD' }] }],
          }),
        (e: unknown) => isApsError(e) && e.message.includes('group g variable PHNLD') && !e.message.includes(value),
      );
    }
  });
});

describe('per-phone file', () => {
  test('secret lines are held back unless allowed: golden', () => {
    const lines = [
      { text: setLine({ name: 'SIPUSERNAME', value: '201', source: 'd' }), secret: false },
      { text: setLine({ name: 'SIPPASSWORD', value: 's3cret', source: 'd' }), secret: true },
    ];
    golden('phone-full.golden.txt', renderPhoneFile(lines, true));
    golden('phone-public.golden.txt', renderPhoneFile(lines, false));
    assert.ok(!renderPhoneFile(lines, false).toString('utf8').includes('s3cret'));
  });

  test('template lines: a line using a secret variable is secret; a bad value used by the template is refused by name', () => {
    const render = (c: object): string => {
      const v = (c as { vars: Record<string, string> }).vars;
      return `SET SIPUSERNAME ${v.ext}\nSET SIPPASSWORD "${v.sip_password}"\n${v.note ? `## ${v.note}` : '## no note'}\n`;
    };
    const lines = templateLines(render, { vars: { ext: '201', sip_password: 'pw', note: '' } }, (n) => n.includes('pass'), 'device a');
    assert.deepEqual(lines, [
      { text: 'SET SIPUSERNAME 201', secret: false },
      { text: 'SET SIPPASSWORD "pw"', secret: true },
      { text: '## no note', secret: false },
    ]);
    assert.throws(
      () => templateLines(render, { vars: { ext: '201', sip_password: 'p"w', note: '' } }, () => false, 'device a'),
      (e: unknown) => isApsError(e) && e.message.includes('variable sip_password') && !e.message.includes('p"w'),
    );
  });
});

test('binary names: the first bytes under a name keep it; other bytes under it get their hash, so APPNAME changes', () => {
  const owner = 'aa'.repeat(32);
  assert.equal(claimedName({ filename: 'FW_S_J179.bin', sha256: owner }, owner), 'FW_S_J179.bin');
  assert.equal(claimedName({ filename: 'FW_S_J179.bin', sha256: 'bb'.repeat(32) }, owner), 'FW_S_J179_bbbbbbbb.bin');
  assert.equal(claimedName({ filename: 'image', sha256: 'cc'.repeat(32) }, owner), 'image_cccccccc');
});
