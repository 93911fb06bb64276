import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIni } from './ini-doc.ts';
import { nextCheck } from './sim-schedule.ts';

const ini = (...lines: string[]) => parseIni(lines.join('\r\n') + '\r\n');
const at = (iso: string) => new Date(iso);

describe('simulator: when the next check is', () => {
  it('every AutoUpdateFrequency minutes, or --every', () => {
    assert.equal(nextCheck(ini('AutoUpdateFrequency = 60'), at('2025-03-01T10:00:00Z'))?.at.toISOString(), '2025-03-01T11:00:00.000Z');
    assert.equal(
      nextCheck(ini('AutoUpdateFrequency = 60'), at('2025-03-01T10:00:00Z'), { everyMs: 5000 })?.at.toISOString(),
      '2025-03-01T10:00:05.000Z',
    );
  });

  it('daily at AutoUpdatePredefinedTime: later today, else tomorrow, plus the random delay', () => {
    const daily = ini('AutoUpdateFrequency = 0', "AutoUpdatePredefinedTime = '02:30'", 'AutoUpdatePredefinedRandomTime = 900');
    const noDelay = { random: () => 0 };
    assert.equal(nextCheck(daily, at('2025-03-01T01:00:00Z'), noDelay)?.at.toISOString(), '2025-03-01T02:30:00.000Z');
    assert.equal(
      nextCheck(daily, at('2025-03-01T02:30:00Z'), noDelay)?.at.toISOString(),
      '2025-03-02T02:30:00.000Z',
      'at the time itself: the next day',
    );
    assert.equal(nextCheck(daily, at('2025-03-01T12:00:00Z'), noDelay)?.at.toISOString(), '2025-03-02T02:30:00.000Z');
    // The delay is uniform in 0..AutoUpdatePredefinedRandomTime seconds.
    assert.equal(nextCheck(daily, at('2025-03-01T12:00:00Z'), { random: () => 0.5 })?.at.toISOString(), '2025-03-02T02:37:30.000Z');
    assert.equal(nextCheck(daily, at('2025-03-01T12:00:00Z'), { random: () => 0.999999 })?.at.toISOString(), '2025-03-02T02:45:00.000Z');
    assert.match(nextCheck(daily, at('2025-03-01T12:00:00Z'), { random: () => 0.5 })!.why, /daily at 02:30 UTC \+ 450 s random delay/);
  });

  it('reads the time on the gateway clock (UTC + NTPServerUTCOffset)', () => {
    const daily = ini("AutoUpdatePredefinedTime = '02:30'", 'AutoUpdatePredefinedRandomTime = 0', 'NTPServerUTCOffset = 36000');
    // 02:30 at UTC+10 is 16:30 UTC the day before.
    assert.equal(nextCheck(daily, at('2025-03-01T12:00:00Z'))?.at.toISOString(), '2025-03-01T16:30:00.000Z');
    assert.equal(nextCheck(daily, at('2025-03-01T17:00:00Z'))?.at.toISOString(), '2025-03-02T16:30:00.000Z');
  });

  it('none when the ini schedules nothing', () => {
    assert.equal(nextCheck(null, at('2025-03-01T00:00:00Z')), null);
    assert.equal(nextCheck(ini('AutoUpdateFrequency = 0'), at('2025-03-01T00:00:00Z')), null);
    assert.equal(nextCheck(ini("AutoUpdatePredefinedTime = '25:00'"), at('2025-03-01T00:00:00Z')), null);
  });
});
