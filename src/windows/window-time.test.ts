import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApsError } from '../errors.ts';
import { parseWindow } from './window-def.ts';
import { instantOf, startsBetween, windowHours, windowTimes } from './window-time.ts';

const at = (iso: string): number => Date.parse(iso);

describe('window times', () => {
  const berlin = parseWindow({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '02:00', to: '05:00', tz: 'Europe/Berlin' }, 'test');

  it('is open on the zone wall clock, winter and summer alike', () => {
    // 2026-01-13 is a Tuesday: CET (+1), 02:00 local = 01:00Z.
    assert.equal(windowTimes(berlin, at('2026-01-13T00:59:00Z')).open, false);
    const t = windowTimes(berlin, at('2026-01-13T01:00:00Z'));
    assert.equal(t.open, true);
    assert.equal(t.closesAt?.toISOString(), '2026-01-13T04:00:00.000Z');
    assert.equal(t.nextStart?.toISOString(), '2026-01-14T01:00:00.000Z');
    // 2026-07-14 is a Tuesday: CEST (+2), 02:00 local = 00:00Z.
    assert.equal(windowTimes(berlin, at('2026-07-14T00:30:00Z')).open, true);
    assert.equal(windowTimes(berlin, at('2026-07-14T03:00:00Z')).open, false);
  });

  it('skips the weekend and says when it next opens and when it last closed', () => {
    // Saturday 2026-01-17 noon: next is Monday 02:00 CET, last close was Friday 05:00 CET.
    const t = windowTimes(berlin, at('2026-01-17T12:00:00Z'));
    assert.equal(t.open, false);
    assert.equal(t.nextStart?.toISOString(), '2026-01-19T01:00:00.000Z');
    assert.equal(t.lastClose?.toISOString(), '2026-01-16T04:00:00.000Z');
    // Monday 01:30 local, before its window (2026-01-19): the last close is still Friday's, three days back.
    assert.equal(windowTimes(berlin, at('2026-01-19T00:30:00Z')).lastClose?.toISOString(), '2026-01-16T04:00:00.000Z');
    const fridays = parseWindow({ days: ['fri'], from: '02:00', to: '05:00', tz: 'UTC' }, 'test');
    assert.equal(windowTimes(fridays, at('2026-01-22T12:00:00Z')).lastClose?.toISOString(), '2026-01-16T05:00:00.000Z');
  });

  it('crosses midnight and belongs to the day it starts on', () => {
    const w = parseWindow({ days: ['fri'], from: '23:00', to: '02:00', tz: 'UTC' }, 'test');
    assert.equal(windowTimes(w, at('2026-01-17T01:30:00Z')).open, true, 'Saturday 01:30 is inside Friday night');
    assert.equal(windowTimes(w, at('2026-01-16T01:30:00Z')).open, false, 'Friday 01:30 belongs to Thursday, not in the window');
    assert.equal(windowTimes(w, at('2026-01-17T01:30:00Z')).closesAt?.toISOString(), '2026-01-17T02:00:00.000Z');
  });

  it('handles the DST change: the skipped hour starts late, the repeated hour once', () => {
    // Berlin springs forward on 2026-03-29 at 02:00 local (01:00Z): 02:30 does not exist; it maps after the gap.
    assert.equal(new Date(instantOf(2026, 3, 29, 150, 'Europe/Berlin')).toISOString(), '2026-03-29T01:30:00.000Z');
    // It falls back on 2026-10-25 at 03:00 CEST (01:00Z): 02:30 happens twice, the first is taken.
    assert.equal(new Date(instantOf(2026, 10, 25, 150, 'Europe/Berlin')).toISOString(), '2026-10-25T00:30:00.000Z');
    const sunday = parseWindow({ days: ['sun'], from: '01:00', to: '04:00', tz: 'Europe/Berlin' }, 'test');
    const t = windowTimes(sunday, at('2026-03-29T00:30:00Z'));
    assert.equal(t.open, true);
    assert.equal(t.closesAt?.toISOString(), '2026-03-29T02:00:00.000Z', '04:00 CEST: two hours of wall clock, not three');
  });

  it('a window the spring-forward night skips whole opens when the clock resumes, for its length', () => {
    // Berlin springs forward on Sunday 2027-03-28 at 02:00 local (01:00Z): 02:00-03:00 never shows on the clock.
    const weekly = parseWindow({ days: ['sun'], from: '02:00', to: '03:00', tz: 'Europe/Berlin' }, 'test');
    const sat = windowTimes(weekly, at('2027-03-27T12:00:00Z'));
    assert.equal(sat.nextStart?.toISOString(), '2027-03-28T01:00:00.000Z', '03:00 CEST that Sunday, not a week later');
    const t = windowTimes(weekly, at('2027-03-28T01:30:00Z'));
    assert.equal(t.open, true);
    assert.equal(t.closesAt?.toISOString(), '2027-03-28T02:00:00.000Z');
    assert.deepEqual(
      startsBetween(weekly, at('2027-03-27T12:00:00Z'), at('2027-03-28T12:00:00Z')).map((d) => d.toISOString()),
      ['2027-03-28T01:00:00.000Z'],
    );
    // The same window as cron starts at the same instant (croner runs a skipped time when the clock resumes).
    const cron = parseWindow({ cron: '0 2 * * 0', duration: '1h', tz: 'Europe/Berlin' }, 'test');
    assert.equal(windowTimes(cron, at('2027-03-27T12:00:00Z')).nextStart?.toISOString(), sat.nextStart?.toISOString());
  });

  it('a cron window may last up to seven days, 7d included', () => {
    const week = parseWindow({ cron: '0 0 * * 1', duration: '7d', tz: 'UTC' }, 'test');
    assert.equal(windowTimes(week, at('2026-01-18T23:59:00Z')).open, true, 'Sunday night, the end of the week from Monday');
    assert.throws(() => parseWindow({ cron: '0 0 * * 1', duration: '8d', tz: 'UTC' }, 'test'), /window\.duration: .*at most 7 days/);
  });

  it('cron windows: open for their duration after each occurrence, in their zone', () => {
    const w = parseWindow({ cron: '0 2 * * 1-5', duration: '3h', tz: 'Europe/Berlin' }, 'test');
    assert.equal(windowTimes(w, at('2026-01-13T02:00:00Z')).open, true);
    assert.equal(windowTimes(w, at('2026-01-13T04:00:00Z')).open, false);
    const sat = windowTimes(w, at('2026-01-17T12:00:00Z'));
    assert.equal(sat.nextStart?.toISOString(), '2026-01-19T01:00:00.000Z');
    assert.equal(sat.lastClose?.toISOString(), '2026-01-16T04:00:00.000Z');
    assert.deepEqual(windowHours(w, at('2026-01-17T12:00:00Z')), [2, 3, 4]);
    assert.deepEqual(
      startsBetween(w, at('2026-01-18T00:00:00Z'), at('2026-01-20T12:00:00Z')).map((d) => d.toISOString()),
      ['2026-01-19T01:00:00.000Z', '2026-01-20T01:00:00.000Z'],
    );
  });

  it('hours a device may check in, and starts between two instants', () => {
    assert.deepEqual(windowHours(parseWindow({ from: '22:30', to: '01:00', tz: 'UTC' }, 't'), 0), [22, 23, 0]);
    const every = parseWindow({ from: '02:00', to: '03:00', tz: 'UTC' }, 't');
    assert.deepEqual(
      startsBetween(every, at('2026-01-13T01:00:00Z'), at('2026-01-14T02:00:00Z')).map((d) => d.toISOString()),
      ['2026-01-13T02:00:00.000Z', '2026-01-14T02:00:00.000Z'],
    );
  });

  it('refuses a bad window naming where and which key', () => {
    const bad = (raw: unknown, re: RegExp): void =>
      assert.throws(
        () => parseWindow(raw, 'profile p.yaml'),
        (e: unknown) => e instanceof ApsError && re.test(e.message),
      );
    bad({ from: '02:00', to: '05:00', tz: 'Mars/Olympus' }, /^profile p\.yaml: window\.tz: not an IANA time zone/);
    bad({ from: '2am', to: '05:00', tz: 'UTC' }, /window\.from: must be 'hh:mm'/);
    bad({ days: ['monday'], from: '02:00', to: '05:00', tz: 'UTC' }, /window\.days\.0/);
    bad({ cron: 'every night', duration: '3h', tz: 'UTC' }, /window\.cron: not a cron expression/);
    bad({ cron: '0 2 * * *', duration: '3 hours', tz: 'UTC' }, /window\.duration/);
    bad({ cron: '0 2 * * *', duration: '3h', tz: 'UTC', from: '02:00' }, /window: Unrecognized key/);
  });
});
