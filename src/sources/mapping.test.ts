import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type ApsConfig, type ConfigInput } from '../config.ts';
import { checksumMismatch, parseSidecar, sidecarOf } from './checksums.ts';
import { manifestChecksums, manifestTargets, parseManifest } from './manifest.ts';
import { applyRule, mappingRuleSchema, type MappingRule } from './mapping.ts';

const folder = { name: 'm', type: 'folder', path: '/srv/mirror' };
const load = (sources: unknown[]): ApsConfig['sources'] => loadConfig({ env: {}, overrides: { sources } as ConfigInput }).sources;
const rule = (r: Record<string, unknown>): MappingRule => mappingRuleSchema.parse(r);

describe('source mapping rules', () => {
  it('fills every field from named groups, and anchors the pattern to the whole name', () => {
    const r = rule({
      pattern: '(?<profile>audiocodes-mp1(?:1x|24))_(?<kind>firmware|aux)_(?<model>MP-\\d+)_(?<version>[\\dA-Z.]+)_(?<serial>\\d+)\\.cmp',
    });
    assert.deepEqual(applyRule(r, {}, 'audiocodes-mp124_firmware_MP-124_7.20A.256_720.cmp'), {
      match: true,
      target: { profile: 'audiocodes-mp124', kind: 'firmware', models: ['MP-124'], version: '7.20A.256', serial: 720 },
    });
    assert.deepEqual(applyRule(r, {}, 'x-audiocodes-mp124_firmware_MP-124_7.20A.256_720.cmp'), { match: false });
    assert.deepEqual(applyRule(rule({ pattern: 'vop-.*\\.bin', profile: 'vop', kind: 'firmware' }), {}, 'vop-1.bin.sha256'), {
      match: false,
    });
  });

  it('takes what a rule does not say from the source, and leaves the version to the file name when nothing gives one', () => {
    const r = rule({ pattern: 'tones-(?<role>[a-z]+)\\.dat' });
    assert.deepEqual(applyRule(r, { profile: 'audiocodes-mp124', kind: 'aux', models: ['MP-124'] }, 'tones-cpt.dat'), {
      match: true,
      target: { profile: 'audiocodes-mp124', kind: 'aux', role: 'cpt', models: ['MP-124'] },
    });
  });

  it('fails a file whose captured values are unusable, rather than guessing', () => {
    const r = rule({ pattern: '(?<kind>[a-z]+)-(?<serial>[0-9a-f]+)\\.bin', profile: 'vop' });
    assert.deepEqual(applyRule(r, {}, 'firmwar-12.bin'), {
      match: true,
      problem: 'kind "firmwar" is not one of bootstrap, firmware, config, aux',
    });
    assert.deepEqual(applyRule(r, {}, 'firmware-1f.bin'), { match: true, problem: 'serial "1f" is not a number' });
  });

  it('validates rules in aps.yaml with errors naming the rule and the key', () => {
    const src = (map: unknown[], extra: object = {}): unknown[] => [{ ...folder, map, ...extra }];
    assert.throws(
      () => load(src([{ pattern: 'vop-(?<ver>.+)', profile: 'vop', kind: 'firmware' }])),
      /sources\.0\.map\.0\.pattern: named group "ver" is not one of profile, model, kind, role, version, serial/,
    );
    assert.throws(
      () => load(src([{ pattern: 'vop-(.+', profile: 'vop', kind: 'firmware' }])),
      /sources\.0\.map\.0\.pattern: not a valid regular expression/,
    );
    assert.throws(
      () => load(src([{ pattern: 'vop-(?<version>.+)', profile: 'vop', kind: 'firmware', version: '1' }])),
      /sources\.0\.map\.0\.version: version is given both here and by the pattern's \(\?<version>…\) group; keep one/,
    );
    assert.throws(
      () => load(src([{ pattern: 'vop-(?<version>.+)', kind: 'firmware' }])),
      /sources\.0\.map\.0: no profile: give the rule a profile key or a \(\?<profile>…\) group, or the source a profile/,
    );
    assert.throws(
      () => load(src([{ pattern: 'x', profile: 'vop', kind: 'firmware', versoin: '1' }])),
      /sources\.0\.map\.0: Unrecognized key: "versoin"/,
    );
    assert.throws(() => load([{ ...folder }]), /sources\.0\.profile: a source needs a profile, or mapping rules \(map\) or a manifest/);
    assert.throws(
      () => load([{ ...folder, manifest: '../manifest.yaml' }]),
      /sources\.0\.manifest: a file name in the source folder, without a path/,
    );
    assert.throws(
      () => load(src([{ pattern: 'x', profile: 'vop', kind: 'firmware' }], { rollout: { stages: [50, 10] } })),
      /sources\.0\.rollout\.stages: stages must be strictly increasing/,
    );
    assert.throws(
      () => load(src([{ pattern: 'x', profile: 'vop', kind: 'firmware' }], { rollout: { stages: [10], timeout: '6 hours' } })),
      /sources\.0\.rollout\.timeout/,
    );
    // The source's own profile and kind make a rule without them complete; defaults fill in.
    const [ok] = load(src([{ pattern: 'vop-(?<version>.+)\\.bin' }], { profile: 'vop', kind: 'firmware', prune: true }));
    assert.deepEqual([ok?.checksums, ok?.prune, ok?.maxBytes], ['verify', true, 1024 ** 3]);
  });
});

describe('source manifests', () => {
  const defaults = { profile: 'vop', kind: 'firmware' as const };

  it('reads the list form and the {files: […]} form, in YAML or JSON, with the source as default', () => {
    const yaml = parseManifest(
      'm.yaml',
      Buffer.from('files:\n  - file: a.bin\n    version: 1.0\n    md5: D41D8CD98F00B204E9800998ECF8427E\n'),
      defaults,
    );
    assert.deepEqual(manifestTargets(yaml.entries.get('a.bin')!, defaults), [{ profile: 'vop', kind: 'firmware', version: '1' }]);
    assert.deepEqual(manifestChecksums(yaml.entries.get('a.bin')!), { md5: 'd41d8cd98f00b204e9800998ecf8427e' });
    const json = parseManifest(
      'm.json',
      Buffer.from(JSON.stringify([{ file: 'b.bin', profile: 'vop', kind: 'config', version: '2.0' }])),
      {},
    );
    assert.deepEqual(manifestTargets(json.entries.get('b.bin')!, {}), [{ profile: 'vop', kind: 'config', version: '2.0' }]);
  });

  it('refuses a broken manifest naming the entry and the problem', () => {
    assert.throws(
      () => parseManifest('m.yaml', Buffer.from('files:\n  - file: a.bin\n    sha256: abc\n'), defaults),
      /^ApsError: manifest m\.yaml: files\.0\.sha256: 64 hex digits$/,
    );
    assert.throws(
      () => parseManifest('m.yaml', Buffer.from('files:\n  - file: a.bin\n    colour: red\n'), defaults),
      /manifest m\.yaml: files\.0: Unrecognized key: "colour"/,
    );
    assert.throws(() => parseManifest('m.yaml', Buffer.from('files: [\n'), defaults), /manifest m\.yaml: not valid YAML or JSON/);
    assert.throws(
      () => parseManifest('m.yaml', Buffer.from('- file: a.bin\n'), {}),
      /manifest m\.yaml: files\.0: no profile \(and the source has none\)/,
    );
    assert.throws(
      () =>
        parseManifest(
          'm.yaml',
          Buffer.from(`- {file: a.bin, md5: ${'a'.repeat(32)}}\n- {file: a.bin, md5: ${'b'.repeat(32)}}\n`),
          defaults,
        ),
      /files\.1: a\.bin is listed twice with different checksums/,
    );
  });
});

describe('published checksums', () => {
  const hex = 'ab'.repeat(32);

  it('reads GNU, BSD and bare sidecars, and only the line for the file', () => {
    assert.equal(parseSidecar(`${hex}  fw.bin\n`, 'fw.bin', 'sha256'), hex);
    assert.equal(parseSidecar(`${hex.toUpperCase()} *fw.bin\n`, 'fw.bin', 'sha256'), hex);
    assert.equal(parseSidecar(`${hex}\n`, 'fw.bin', 'sha256'), hex);
    assert.equal(parseSidecar(`SHA256 (fw.bin) = ${hex}\n`, 'fw.bin', 'sha256'), hex);
    assert.equal(parseSidecar(`${'cd'.repeat(32)}  other.bin\n${hex}  fw.bin\n`, 'fw.bin', 'sha256'), hex);
    assert.throws(() => parseSidecar(`${'cd'.repeat(16)}  other.bin\n`, 'fw.bin', 'md5'), /no md5 digest for fw\.bin in its \.md5 file/);
    assert.deepEqual(sidecarOf('fw.bin.SHA256'), { file: 'fw.bin', algorithm: 'sha256' });
    assert.equal(sidecarOf('.md5'), undefined);
  });

  it('names the first checksum the bytes do not match', () => {
    const got = { sha256: hex, md5: 'cd'.repeat(16) };
    assert.equal(checksumMismatch({ sha256: hex, md5: 'cd'.repeat(16) }, got), undefined);
    assert.equal(
      checksumMismatch({ md5: 'ef'.repeat(16) }, got),
      `md5 mismatch: published ${'ef'.repeat(16)}, received ${'cd'.repeat(16)}`,
    );
  });
});
