import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArtifactRecord, EventRecord } from '../store/index.ts';
import { judgeHealth, type HealthInput } from './health.ts';
import { failuresExceed, parseMaxFailures, parseStages, parseTimeout } from './options.ts';
import { rolloutFraction, selectedAt } from './select.ts';

const FW: ArtifactRecord = {
  id: 7,
  kind: 'firmware',
  profile: 'p',
  models: [],
  role: '',
  deviceId: null,
  version: '2.0',
  serial: null,
  filename: 'fw.bin',
  size: 1000,
  md5: '',
  sha256: '',
  origin: 'test',
  addedAt: '2026-01-01T00:00:00.000Z',
};
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
let nextId = 1;
const ev = (e: Partial<EventRecord>): EventRecord => ({
  id: nextId++,
  at: new Date(T0 + 1000).toISOString(),
  deviceId: 'd1',
  adapter: 'x',
  file: 'firmware',
  artifactId: null,
  revision: null,
  bytes: 0,
  status: 200,
  ip: null,
  ua: null,
  detail: null,
  fault: null,
  ...e,
});
const judge = (over: Partial<HealthInput>): ReturnType<typeof judgeHealth> =>
  judgeHealth({
    artifact: FW,
    health: undefined,
    events: [],
    reported: {},
    assignedAt: new Date(T0).toISOString(),
    timeoutSeconds: 60,
    now: T0 + 5000,
    ...over,
  });

describe('rollout health (vendor-blind rules)', () => {
  it('version: succeeded when the device reports the artifact version (or the adapter’s versionOf)', () => {
    assert.deepEqual(judge({ reported: { firmware: '2.0' } }), { status: 'succeeded', detail: 'reports 2.0' });
    assert.equal(judge({ reported: { firmware: '1.0' } }).status, 'pending');
    const health = { reports: 'version' as const, versionOf: (a: ArtifactRecord) => `R${a.version}` };
    assert.equal(judge({ health, reported: { firmware: 'R2.0' } }).status, 'succeeded');
  });

  it('a fault about the artifact fails it, with the device’s code and message; faults about other files do not', () => {
    const fault = { code: '9010', message: 'Download failure' };
    assert.deepEqual(judge({ events: [ev({ artifactId: 7, fault })] }), { status: 'failed', detail: 'fault 9010: Download failure' });
    assert.equal(judge({ events: [ev({ artifactId: 3, fault })] }).status, 'pending');
    const concerns = (e: EventRecord): boolean => e.file === 'download:firmware';
    assert.equal(judge({ health: { reports: 'version', concerns }, events: [ev({ file: 'download:firmware', fault })] }).status, 'failed');
  });

  it('a download cut off fails it', () => {
    const v = judge({ events: [ev({ artifactId: 7, status: 499, bytes: 400 })] });
    assert.deepEqual(v, { status: 'failed', detail: 'download of artifact 7 cut off after 400 of 1000 bytes' });
  });

  it('fetched twice completely but still the old version: failed (it is not sent again and again)', () => {
    const full = ev({ artifactId: 7, status: 200, bytes: 1000 });
    assert.equal(judge({ events: [full], reported: { firmware: '1.0' } }).status, 'pending');
    const v = judge({ events: [full, { ...full, id: nextId++ }], reported: { firmware: '1.0' } });
    assert.equal(v.status, 'failed');
    assert.match((v as { detail: string }).detail, /fetched artifact 7 2 times but still reports 1\.0, not 2\.0/);
  });

  it('fetch: a complete download is the success; a partial 206 or HEAD is not', () => {
    const health = { reports: 'fetch' as const };
    assert.equal(
      judge({ health, events: [ev({ artifactId: 7, status: 206, bytes: 500 }), ev({ artifactId: 7, bytes: 0 })] }).status,
      'pending',
    );
    assert.equal(judge({ health, events: [ev({ artifactId: 7, bytes: 1000 })] }).status, 'succeeded');
  });

  it('not back within the timeout: failed, saying when it was last heard', () => {
    const v = judge({ now: T0 + 61_000, events: [ev({})] });
    assert.equal(v.status, 'failed');
    assert.match((v as { detail: string }).detail, /not back within 1m \(last heard 2026-01-01T00:00:01\.000Z\)/);
  });
});

describe('rollout options and selection', () => {
  it('parses stages, failures and timeouts, refusing nonsense', () => {
    assert.deepEqual(parseStages('1,10,50,100'), [1, 10, 50, 100]);
    assert.deepEqual(parseStages('10%,50'), [10, 50, 100]);
    assert.throws(() => parseStages('50,10'), /increasing/);
    assert.throws(() => parseStages('0,100'), /above 0/);
    assert.equal(parseMaxFailures('5%'), '5%');
    assert.equal(parseMaxFailures(3), '3');
    assert.throws(() => parseMaxFailures('1.5'), /whole count/);
    assert.throws(() => parseMaxFailures('150%'), /percentage/);
    assert.equal(parseTimeout('6h'), 21_600);
    assert.equal(parseTimeout('90'), 90);
    assert.equal(parseTimeout('2d'), 172_800);
    assert.throws(() => parseTimeout('soon'), /duration/);
    // Digits past a double's range would be stored as an infinite timeout.
    assert.throws(() => parseTimeout('1' + '0'.repeat(400)), /too long/);
    assert.throws(() => parseTimeout('1' + '0'.repeat(400) + 'd'), /too long/);
    assert.ok(failuresExceed('5%', 1, 10));
    assert.ok(!failuresExceed('10%', 1, 10));
    assert.ok(failuresExceed('1', 2, 100) && !failuresExceed('1', 1, 100));
  });

  it('selection is stable, nested across stages, and close to the stage share', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `dev-${i}`);
    assert.equal(rolloutFraction(3, 'dev-1'), rolloutFraction(3, 'dev-1'));
    const at10 = ids.filter((id) => selectedAt(3, id, 10));
    const at50 = new Set(ids.filter((id) => selectedAt(3, id, 50)));
    assert.ok(
      at10.every((id) => at50.has(id)),
      'a later stage keeps the earlier stage’s devices',
    );
    assert.ok(at10.length > 140 && at10.length < 260, `about 10 % of 2000, got ${at10.length}`);
    assert.notDeepEqual(
      at10,
      ids.filter((id) => selectedAt(4, id, 10)),
      'another rollout selects others',
    );
  });
});
