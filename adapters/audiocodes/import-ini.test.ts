import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { compileTemplate, simRequest } from '../../src/adapter-api.ts';
import { startTestServer, tempDir } from '../../test/helpers/server.ts';
import { parseIni, type IniDoc } from './ini-doc.ts';
import { escapeHandlebars, importIni } from './import-ini.ts';
import { APS_BIN as BIN } from '../../test/helpers/cli.ts';

const exec = promisify(execFile);
const SAMPLE = new URL('./fixtures/MP124_6.60A_export.ini', import.meta.url).pathname;
const sample = readFileSync(SAMPLE, 'utf8');

/** Every parameter (name → value) and every table row (table/index → values) of a document. */
function contents(doc: IniDoc): { params: Map<string, string>; rows: Map<string, string> } {
  const params = new Map<string, string>();
  const rows = new Map<string, string>();
  for (const item of doc.items) {
    if (item.kind === 'param') params.set(item.name.toLowerCase(), JSON.stringify(item.value));
    if (item.kind === 'table') {
      rows.set(`${item.name}/format`, JSON.stringify(item.body.filter((l) => l.kind === 'format')));
      for (const l of item.body) if (l.kind === 'row') rows.set(`${item.name}/${l.index}`, JSON.stringify(l.values));
    }
  }
  return { params, rows };
}

describe('importing an existing AudioCodes ini', () => {
  it('escapes Handlebars so any text renders back to itself', () => {
    const alphabet = ['{', '}', '\\', 'a', ' ', '\n', '!', '#'];
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: 1 + rand(14) }, () => alphabet[rand(alphabet.length)]).join('');
      assert.equal(compileTemplate(escapeHandlebars(text), 'fuzz')({}), text, JSON.stringify(text));
    }
    const tricky = "ManipRegex = '^{{x}}\\{{y}}\\\\{{z}}$'\r\n";
    assert.equal(compileTemplate(escapeHandlebars(tricky), 'tricky')({}), tricky);
  });

  it('keeps every parameter, table row and comment of the MP-124 export', () => {
    const imported = importIni(sample);
    assert.equal(imported.board, 'MP-124E FXS');
    // Counted in the file by hand (grep): 13 tables ending in `[ \Name ]`, 41 rows, 42 scalar parameters.
    assert.deepEqual([imported.tables, imported.rows, imported.params], [13, 41, 42]);
    const rendered = compileTemplate(imported.template, 'sample')({});
    assert.equal(rendered, sample, 'the template renders to the original bytes');
    assert.deepEqual(contents(parseIni(rendered)), contents(parseIni(sample)));
  });
});

describe('aps audiocodes import-ini', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const aps = (...args: string[]) => exec(process.execPath, [BIN, ...args], { env });

  before(() => {
    dir = tempDir('aps-ac-import-');
    cpSync(new URL('../../profiles', import.meta.url).pathname, join(dir, 'profiles'), { recursive: true });
    env = { ...process.env, APS_DATA: join(dir, 'data'), APS_PROFILES: join(dir, 'profiles'), APS_LOG_LEVEL: 'silent' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a profile from the export, refuses to overwrite it, and the served ini keeps every row', async () => {
    const { stdout } = await aps('audiocodes', 'import-ini', SAMPLE, '--profile', 'site-mp124', '--model', 'MP-124');
    assert.match(stdout, /profile site-mp124: .* tables, .* table rows/);
    assert.ok(existsSync(join(dir, 'profiles', 'templates', 'site-mp124.ini.hbs')));
    await assert.rejects(aps('audiocodes', 'import-ini', SAMPLE, '--profile', 'site-mp124'), /exists; add --force/);
    await aps('audiocodes', 'import-ini', SAMPLE, '--profile', 'site-mp124', '--model', 'MP-124', '--force');

    await aps('device', 'add', '00908fe00001', '--profile', 'site-mp124', '--mac', '00908FE00001');
    const files = JSON.parse((await aps('preview', '00908fe00001', '--json')).stdout) as Array<{ name: string; text?: string }>;
    const ini = parseIni(files.find((f) => f.name === '00908FE00001.ini')!.text!);
    const want = contents(parseIni(sample));
    const got = contents(ini);
    for (const [k, v] of want.rows) assert.equal(got.rows.get(k), v, `table row ${k}`);
    // APS owns the Automatic Update parameters; every other parameter is the export's.
    for (const [k, v] of want.params) if (!/fileurl|autoupdate/i.test(k)) assert.equal(got.params.get(k), v, `parameter ${k}`);
    assert.match(got.params.get('inifileurl')!, /00908FE00001\.ini/);
  });

  it("adds the export as one device's own config", async () => {
    await aps('device', 'add', 'gw-own', '--profile', 'audiocodes-mp124', '--mac', '00908FE00002');
    const { stdout } = await aps('audiocodes', 'import-ini', SAMPLE, '--device', 'gw-own');
    assert.match(stdout, /device gw-own: config artifact \d+/);
    // An adapter command's catalog write is an admin change like any other: in the audit log.
    const [added] = JSON.parse((await aps('audit', '--json', '--action', 'artifact.add')).stdout) as Array<{
      target: string;
      after: { deviceId: string };
    }>;
    assert.deepEqual([added?.target, added?.after.deviceId], [/config artifact (\d+)/.exec(stdout)![1], 'gw-own']);
    const files = JSON.parse((await aps('preview', 'gw-own', '--json')).stdout) as Array<{ name: string; text?: string }>;
    const got = contents(parseIni(files[0]!.text!));
    for (const [k, v] of contents(parseIni(sample)).rows) assert.equal(got.rows.get(k), v, `table row ${k}`);
  });

  it('refuses a broken ini naming the line', async () => {
    const bad = join(dir, 'bad.ini');
    (await import('node:fs')).writeFileSync(bad, '[ ProxyIp ]\nFORMAT ProxyIp_Index = ProxyIp_IpAddress;\nProxyIp 0 = "a";\n');
    await assert.rejects(
      aps('audiocodes', 'import-ini', bad, '--profile', 'broken'),
      /bad\.ini: ini line \d+: table ProxyIp .* never closed/,
    );
  });

  it('reads a latin-1 export as latin-1 (no U+FFFD) and serves it back byte for byte', async () => {
    const lines = [
      ';Board: MP-124E FXS',
      ';Exporté par la passerelle',
      '[SYSTEM Params]',
      "VoiceMenuPassword = 'pässwörd'",
      '',
      '[ PREFIX ]',
      'FORMAT PREFIX_Index = PREFIX_DestinationPrefix, PREFIX_DestAddress;',
      'PREFIX 0 = "*", "Zürich";',
      '[ \\PREFIX ]',
      '',
    ];
    const original = Buffer.from(lines.join('\r\n'), 'latin1');
    assert.ok(!original.toString('utf8').includes('é'), 'the file is not valid UTF-8');
    const file = join(dir, 'latin1.ini');
    writeFileSync(file, original);

    const { stdout } = await aps('audiocodes', 'import-ini', file, '--profile', 'site-latin');
    assert.match(stdout, /read as latin-1/);
    const template = readFileSync(join(dir, 'profiles', 'templates', 'site-latin.ini.hbs'), 'utf8');
    assert.ok(template.includes(';Exporté par la passerelle') && template.includes('"Zürich"'), 'the template holds the characters');
    assert.ok(!template.includes('\uFFFD'));
    assert.match(readFileSync(join(dir, 'profiles', 'site-latin.yaml'), 'utf8'), /^ {2}iniEncoding: latin1$/m);
    await aps('device', 'add', 'gw-latin', '--profile', 'audiocodes-mp124', '--mac', '00908FE00003');
    assert.match((await aps('audiocodes', 'import-ini', file, '--device', 'gw-latin')).stdout, /read as latin-1/);

    // Served by a real server: the lines APS does not own are the export's bytes, in latin-1.
    // The CLI's data folder: gw-latin and its imported config are there.
    const s = await startTestServer({ profilesDir: join(dir, 'profiles') }, join(dir, 'data'));
    try {
      s.core.devices.upsert({ id: 'gw-tpl', profile: 'site-latin', mac: '00908FE00004' });
      for (const mac of ['00908FE00004', '00908FE00003']) {
        const r = await simRequest({ url: `${s.http}/audiocodes/${mac}.ini` });
        assert.equal(r.status, 200);
        assert.equal(r.headers['content-type'], 'text/plain; charset=iso-8859-1');
        for (const l of lines.filter((x) => x)) assert.ok(r.body.includes(Buffer.from(`${l}\r\n`, 'latin1')), `${mac}: ${l}`);
      }
      const preview = s.core
        .adapterOf('site-latin')
        .preview(s.core.devices.get('gw-tpl')!, s.core.servicesFor('audiocodes', { readOnly: true }), s.core.adapterConfig('audiocodes'));
      assert.ok(preview[0]!.text!.includes("VoiceMenuPassword = 'pässwörd'"), 'the preview shows the characters');
    } finally {
      await s.stop();
    }
  });
});
