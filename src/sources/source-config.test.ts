import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/server.ts';
import { loadConfig, type ApsConfig, type ConfigInput } from '../config.ts';
import { applyRule } from './mapping.ts';

const sftp = {
  name: 'up',
  type: 'sftp',
  host: 'repo.example',
  username: 'aps',
  password: 'pw',
  path: '/fw',
  profile: 'vop',
  kind: 'firmware',
};
const load = (sources: unknown[]): ApsConfig['sources'] => loadConfig({ env: {}, overrides: { sources } as ConfigInput }).sources;

describe('sources configuration', () => {
  it('has no sources by default, and fills sftp defaults', () => {
    assert.deepEqual(loadConfig({ env: {} }).sources, []);
    const [s] = load([sftp]);
    assert.equal(s?.type === 'sftp' && s.port, 22);
    assert.equal(s?.type === 'sftp' && s.maxBytes, 1024 * 1024 * 1024);
  });

  it('fails naming an unknown or misplaced key', () => {
    assert.throws(() => load([{ ...sftp, hots: 'x' }]), /sources\.0: Unrecognized key: "hots"/);
    assert.throws(
      () => load([{ name: 'f', type: 'folder', path: '/x', profile: 'vop', kind: 'firmware', host: 'h' }]),
      /sources\.0: Unrecognized key: "host"/,
    );
  });

  it('validates the schedule with node-cron, the kind, credentials and unique names', () => {
    assert.equal(load([{ ...sftp, schedule: '*/15 * * * *' }])[0]?.schedule, '*/15 * * * *');
    assert.throws(() => load([{ ...sftp, schedule: 'every night' }]), /sources\.0\.schedule: not a valid cron expression/);
    assert.throws(() => load([{ ...sftp, kind: 'firmwar' }]), /sources\.0\.kind/);
    assert.throws(() => load([{ ...sftp, password: undefined }]), /sources\.0\.password: an sftp source needs password or privateKeyFile/);
    assert.throws(() => load([{ ...sftp, hostKeySha256: 'ab:cd' }]), /sources\.0\.hostKeySha256/);
    assert.throws(() => load([sftp, { ...sftp }]), /sources\.1\.name: duplicate source name "up"/);
  });

  it('never echoes a password in a config error', () => {
    assert.throws(
      () => load([{ ...sftp, password: 'hunter2-secret', port: 'x' }]),
      (e: Error) => !e.message.includes('hunter2-secret'),
    );
  });

  it('reads the README example from aps.yaml', () => {
    const dir = tempDir('aps-srccfg-');
    const file = join(dir, 'aps.yaml');
    writeFileSync(
      file,
      [
        'sources:',
        '  - name: vendor-mirror',
        '    type: sftp',
        '    host: sftp.example.net',
        '    username: aps',
        '    privateKeyFile: /etc/aps/sftp_ed25519',
        '    hostKeySha256: "SHA256:0ScxiLouYbZplKtx3MYrT6hiLcIaj7hsty2akInNELg"',
        '    path: /firmware/vop',
        '    profile: vop',
        '    kind: firmware',
        '    maxBytes: 268435456',
        '    schedule: "30 2 * * *"',
        '  - name: lab-drop',
        '    type: folder',
        '    path: /srv/aps/incoming',
        '    profile: vop',
        '    kind: aux',
        '    role: cpt',
      ].join('\n'),
    );
    const c = loadConfig({ env: {}, file });
    assert.deepEqual(
      c.sources.map((s) => [s.name, s.type, s.schedule ?? null]),
      [
        ['vendor-mirror', 'sftp', '30 2 * * *'],
        ['lab-drop', 'folder', null],
      ],
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('the README mirror example loads, and its rules map the names it shows', () => {
    const md = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = md.slice(md.indexOf('## Sources and mirrors'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const dir = tempDir('aps-srccfg-');
    writeFileSync(join(dir, 'aps.yaml'), yaml);
    const [mirror, drop] = loadConfig({ env: {}, file: join(dir, 'aps.yaml') }).sources;
    assert.deepEqual(
      [mirror?.manifest, mirror?.prune, mirror?.checksums, mirror?.rollout?.stages],
      ['manifest.yaml', true, 'verify', [10, 50, 100]],
    );
    assert.deepEqual(applyRule(mirror!.map![0]!, {}, 'vop-5.1.bin'), {
      match: true,
      target: { profile: 'vop', kind: 'firmware', version: '5.1' },
    });
    assert.deepEqual(applyRule(mirror!.map![1]!, {}, 'audiocodes-mp124_7.20A.256.cmp'), {
      match: true,
      target: { profile: 'audiocodes-mp124', kind: 'firmware', version: '7.20A.256' },
    });
    assert.deepEqual([drop?.profile, drop?.kind, drop?.role], ['audiocodes-mp124', 'aux', 'cpt']);
    rmSync(dir, { recursive: true, force: true });
  });
});
