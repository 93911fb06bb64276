import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStore } from '../store/index.ts';
import { RenderedFiles } from './rendered-files.ts';
import { RevisionStore } from './revisions.ts';

describe('RevisionStore', () => {
  it('keeps serial and Last-Modified for the same bytes, moves both for new bytes, across reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aps-rev-'));
    try {
      let clock = Date.parse('2026-01-01T00:00:00.700Z');
      let store = openStore(dir);
      let revs = new RevisionStore(store, () => clock);
      const r1 = revs.stamp('dev', 'cfg', Buffer.from('a=1'));
      assert.equal(r1.serial, 1);
      assert.equal(r1.lastModified.toISOString(), '2026-01-01T00:00:00.000Z', 'whole seconds');
      clock += 5000;
      assert.deepEqual(revs.stamp('dev', 'cfg', Buffer.from('a=1')), r1, 'same bytes: same revision');
      // A change within the same second still gets a strictly later Last-Modified.
      clock = Date.parse('2026-01-01T00:00:00.900Z');
      const r2 = revs.stamp('dev', 'cfg', Buffer.from('a=2'));
      assert.equal(r2.serial, 2);
      assert.ok(r2.lastModified > r1.lastModified);
      assert.notEqual(r2.etag, r1.etag);
      store.close();

      store = openStore(dir);
      revs = new RevisionStore(store, () => clock + 60_000);
      assert.deepEqual(revs.stamp('dev', 'cfg', Buffer.from('a=2')), r2, 'survives a restart');
      const r3 = revs.stamp('dev', 'cfg', Buffer.from('a=1'));
      assert.equal(r3.serial, 3, 'going back to old bytes is still a new revision');
      assert.equal(revs.stamp('other', 'cfg', Buffer.from('a=1')).serial, 1, 'per device and file');
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dates a change after any second in which the previous bytes could have been fetched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aps-rev-'));
    try {
      const store = openStore(dir);
      let clock = Date.parse('2026-01-01T00:00:00.100Z');
      const revs = new RevisionStore(store, () => clock);
      const r1 = revs.stamp('dev', 'ini', Buffer.from('a=1'));
      // A device downloads r1 at 00:00:07.2 and will send If-Modified-Since 00:00:07; the admin changes
      // the file at 00:00:07.8. Dated 00:00:07, the change would be "not modified" for that device forever.
      clock = Date.parse('2026-01-01T00:00:07.800Z');
      const fetchedAt = Date.parse('2026-01-01T00:00:07.000Z');
      const r2 = revs.stamp('dev', 'ini', Buffer.from('a=2'));
      assert.ok(r2.lastModified.getTime() > fetchedAt);
      assert.ok(r2.lastModified > r1.lastModified);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('peeks (previews) without writing: the served serial and date do not move', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aps-rev-'));
    try {
      const store = openStore(dir);
      let clock = Date.parse('2026-01-01T00:00:00.000Z');
      const revs = new RevisionStore(store, () => clock);
      const r1 = revs.stamp('dev', 'ini', Buffer.from('url=http://a'));
      clock += 10_000;
      const rendered = new RenderedFiles(store, revs).readOnly();
      const seen = rendered.get('dev', 'ini', 'k', () => Buffer.from('url=http://b'));
      assert.equal(seen.revision.serial, 2, 'shows the revision other bytes would get');
      assert.equal(seen.bytes.toString(), 'url=http://b');
      assert.deepEqual(store.state.revision('dev', 'ini')?.serial, 1, 'nothing written');
      assert.deepEqual(revs.stamp('dev', 'ini', Buffer.from('url=http://a')), r1, 'the served revision stands');
      assert.deepEqual(revs.peek('dev', 'ini', Buffer.from('url=http://a')), r1);
      assert.equal(revs.peek('new', 'ini', Buffer.from('x')).serial, 1);
      assert.equal(store.state.revision('new', 'ini'), undefined);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RenderedFiles cache', () => {
  it('renders once per change, and holds at most a bounded number of bytes (least recently used go first)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aps-rendered-'));
    const store = openStore(dir);
    try {
      const files = new RenderedFiles(store, new RevisionStore(store));
      const renders = new Map<string, number>();
      const get = (id: string, size: number): Buffer =>
        files.get(id, 'cfg', 'k', () => {
          renders.set(id, (renders.get(id) ?? 0) + 1);
          return Buffer.alloc(size, id.length);
        }).bytes;
      get('small', 100);
      get('small', 100);
      assert.equal(renders.get('small'), 1, 'a poll of unchanged input is served from memory');
      // 12 devices of 1 MiB each: more than the cache holds (8 MiB); 'small' is used again in between.
      for (let i = 0; i < 12; i++) {
        get(`big${i}`, 1 << 20);
        get('small', 100);
      }
      assert.equal(renders.get('small'), 1, 'a recently used entry stays');
      get('big0', 1 << 20);
      assert.equal(renders.get('big0'), 2, 'the least recently used went and is rendered again');
      get('big11', 1 << 20);
      assert.equal(renders.get('big11'), 1, 'a recent one is still held');
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
