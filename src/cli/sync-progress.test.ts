import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { formatBytes, progressView } from './sync-progress.ts';

/** A stream that says it is a terminal, as cli-progress checks before drawing. */
function terminal(): { out: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const out = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 100,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out: out as unknown as NodeJS.WritableStream, text: () => text };
}

describe('aps sync progress', () => {
  it('draws a bar on a terminal (cli-progress) and clears it when the file is done', () => {
    const t = terminal();
    const v = progressView('bar', 0, t.out);
    v.onProgress({ source: 'm', file: 'f.bin', bytes: 0, total: 2048, done: false });
    v.onProgress({ source: 'm', file: 'f.bin', bytes: 1024, total: 2048, done: false });
    v.onProgress({ source: 'm', file: 'f.bin', bytes: 2048, total: 2048, done: true });
    v.stop();
    // Redraws are rate-limited (fps): the first and the last frame are drawn whatever the speed.
    assert.match(t.text(), /m: f\.bin \[░+\] 0% 0 B of 2\.0 KiB/);
    assert.match(t.text(), /m: f\.bin \[█+\] 100% 2\.0 KiB of 2\.0 KiB/);
    assert.ok(t.text().endsWith('\u001b[2K'), 'the finished bar is cleared');
  });

  it('prints nothing for a transfer shorter than the interval', () => {
    const t = terminal();
    const v = progressView('lines', 60_000, t.out);
    v.onProgress({ source: 'm', file: 'f.bin', bytes: 10, total: 20, done: false });
    v.onProgress({ source: 'm', file: 'f.bin', bytes: 20, total: 20, done: true });
    assert.equal(t.text(), '');
  });

  it('formats sizes for people', () => {
    assert.deepEqual([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)], ['512 B', '1.5 KiB', '5.0 GiB']);
  });
});
