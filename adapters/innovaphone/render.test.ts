import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ArtifactRecord } from '../../src/adapter-api.ts';
import { buildSerial } from './files.ts';
import { FINAL_COMMANDS, assertIpUrl, renderScript, scriptLines, type ScriptInput } from './render.ts';

// Golden files in fixtures/ follow seed 003 ("Reference:Update Server"): every command it documents and
// every final-command form. They are reviewed by eye: a deliberate change rewrites them and shows in the diff.
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'latin1');

const B = 'http://192.0.2.10:8080/innovaphone';
const full: ScriptInput = {
  times: { allow: [23, 0, 1, 2, 3, 4], initialMinutes: 6 },
  boot: { url: `${B}/fw/009033030df0/7/`, final: 'ireboot', serial: '205' },
  prot: { url: `${B}/fw/009033030df0/8/`, final: 'ireset', serial: '04-5656' },
  bmc: { url: `${B}/fw/009033030df0/9/`, final: 'ireset', serial: 'PCS04fd' },
  cfg: { url: `${B}/cfg/009033030df0/config.txt`, final: 'ser', serial: '3' },
  scfg: { url: `${B}/backup/#m/k3y/#b5/#d`, final: 'no-op', serial: '3', forceHours: 168 },
  check: { final: 'iresetn', serial: '12' },
};

describe('innovaphone update script renderer (seed 003)', () => {
  it('renders every command in the documented order with CRLF line ends (golden file)', () => {
    const out = renderScript(full).toString('latin1');
    assert.equal(out, fixture('script-full.txt'));
    assert.ok(out.endsWith('\r\n') && !/[^\r]\n/.test(out), 'every line ends in CRLF');
    const cmds = out
      .trimEnd()
      .split('\r\n')
      .map((l) => l.split(' ').slice(0, 4).join(' '));
    assert.deepEqual(cmds, [
      'mod cmd UP1 times',
      'mod cmd UP0 boot',
      'mod cmd UP0 prot',
      'mod cmd UP0 bmc',
      'mod cmd UP0 cfg',
      'mod cmd UP0 scfg',
      'mod cmd UP1 check',
    ]);
  });

  it('the seed IP1200 example: times /allow /initial, scfg with /force, prot (golden file)', () => {
    const out = renderScript({
      times: { allow: [23, 0, 1, 2, 3, 4], initialMinutes: 6 },
      prot: { url: 'http://1.2.3.4/configs/', final: 'ireset', serial: '04-5679' },
      scfg: { url: 'http://1.2.3.4/configs/backup-#m-#b5.txt', final: 'no-op', serial: 'WEEKLY', forceHours: 168 },
    });
    assert.equal(out.toString('latin1'), fixture('script-seed-ip1200.txt'));
  });

  it('the seed IP3000 example: times with /allow only, no /initial', () => {
    const lines = scriptLines({
      times: { allow: [23, 0, 1, 2, 3, 4] },
      prot: { url: 'http://1.2.3.4/configs/', final: 'ser', serial: '04-5679' },
    });
    assert.deepEqual(lines, ['mod cmd UP1 times /allow 23,0,1,2,3,4', 'mod cmd UP0 prot http://1.2.3.4/configs/ ser 04-5679']);
  });

  it('times with /initial only, and no times line when neither is set', () => {
    assert.deepEqual(scriptLines({ times: { initialMinutes: 10 } }), ['mod cmd UP1 times /initial 10']);
    assert.deepEqual(scriptLines({ times: {} }), []);
  });

  it('wraps each firmware and boot code download of an IP72 in WLANMGR0 activate-pwr / deactivate-pwr (golden file)', () => {
    const out = renderScript({ ...full, bmc: undefined, wlan: true }).toString('latin1');
    assert.equal(out, fixture('script-ip72.txt'));
    assert.equal(out.match(/activate-pwr/g)?.length, 4);
    assert.ok(out.includes('mod cmd WLANMGR0 activate-pwr\r\nmod cmd UP0 prot '));
    assert.ok(/mod cmd UP0 prot [^\r]*\r\nmod cmd WLANMGR0 deactivate-pwr\r\n/.test(out));
  });

  it('every final-command form of the seed in every command that takes one (golden file)', () => {
    const lines: string[] = [];
    for (const f of FINAL_COMMANDS) {
      lines.push(
        ...scriptLines({
          boot: { url: `${B}/b/`, final: f, serial: '205' },
          prot: { url: `${B}/p/`, final: f, serial: '04-5656' },
          bmc: { url: `${B}/m/`, final: f, serial: 'PCS04fd' },
          cfg: { url: `${B}/c.txt`, final: f, serial: '1' },
          scfg: { url: `${B}/s/#m`, final: f, serial: 'WEEKLY' },
          check: { final: f, serial: '9' },
        }),
      );
    }
    assert.equal(lines.map((l) => `${l}\r\n`).join(''), fixture('script-finals.txt'));
    assert.equal(lines.length, FINAL_COMMANDS.length * 6);
  });

  it('a product-wide script (pending device): no cfg, no scfg, still a check last', () => {
    const out = renderScript({ times: full.times, prot: full.prot, check: { final: 'iresetn', serial: '1' } }).toString('latin1');
    assert.equal(out, fixture('script-pending.txt'));
  });

  it('is deterministic', () => {
    assert.deepEqual(renderScript(full), renderScript(full));
  });

  it('refuses host names, non-HTTP schemes, spaces and line breaks, and unknown final commands', () => {
    assert.throws(() => renderScript({ prot: { ...full.prot!, url: 'http://aps.example:8080/fw/' } }), /names the host "aps.example"/);
    assert.throws(() => assertIpUrl('cfg', 'ftp://192.0.2.1/x'), /http or https/);
    assert.doesNotThrow(() => assertIpUrl('cfg', 'https://[2001:db8::1]:8443/x'));
    assert.throws(() => renderScript({ cfg: { ...full.cfg!, serial: '1\r\nconfig write' } }), /printable ASCII/);
    assert.throws(() => renderScript({ cfg: { ...full.cfg!, url: `${B}/a b` } }), /printable ASCII/);
    assert.throws(() => renderScript({ check: { final: 'shutdown' as never, serial: '1' } }), /final command "shutdown"/);
    assert.throws(() => renderScript({ times: { allow: [24] } }), /0\.\.23/);
  });
});

describe('innovaphone build serials from catalog versions', () => {
  it('a version with spaces or other characters a script token cannot hold still makes a working script', () => {
    const a = { id: 7, version: '13r2 sr5', kind: 'firmware' } as ArtifactRecord;
    assert.equal(buildSerial(a), '13r2-sr5');
    assert.equal(buildSerial({ ...a, version: '' }), '7', 'no version: the catalog id');
    const lines = scriptLines({ ...full, prot: { ...full.prot!, serial: buildSerial(a) } });
    assert.ok(lines.some((l) => l.includes(' 13r2-sr5')));
  });
});
