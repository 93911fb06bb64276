import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { createLogger } from '../log.ts';
import { FrontProxy, type TransferEnd } from './front-proxy.ts';

const config = {
  mode: 'x-accel' as const,
  prefix: '/_blobs/',
  completionHost: '127.0.0.1',
  completionPort: 0,
  completionTimeoutSeconds: 1,
};

describe('FrontProxy transfer reports', () => {
  it('takes only the report of a pending transfer, once; anything else is ignored', () => {
    const fp = new FrontProxy(config, createLogger('silent'));
    const ends: TransferEnd[] = [];
    const id = fp.begin((e) => ends.push(e), 200);
    assert.equal(fp.uriOf('ab'.padEnd(64, '0')), `/_blobs/ab/${'ab'.padEnd(64, '0')}`);
    assert.equal(fp.receive(`<190>Nov 30 16:00:00 aps: ${'x'.repeat(22)} 200 5 OK`), false, 'an unknown id');
    assert.equal(fp.receive('<190>Nov 30 16:00:00 aps: garbage'), false);
    assert.equal(fp.receive(`<190>Nov 30 16:00:00 aps: ${id} 200 1234 `), true);
    assert.equal(fp.receive(`<190>Nov 30 16:00:00 aps: ${id} 200 1234 OK`), false, 'a second report of the same transfer');
    assert.deepEqual(ends, [{ status: 200, bytes: 1234, complete: false, confirmed: true }]);
  });

  it('reads reports from UDP, and records a transfer never reported as unconfirmed at the timeout or at close', async () => {
    const fp = new FrontProxy(config, createLogger('silent'));
    const port = await fp.listen();
    const ends: TransferEnd[] = [];
    const reported = fp.begin((e) => ends.push(e), 206);
    const udp = createSocket('udp4');
    await new Promise<void>((res) => udp.send(`<190>Nov 30 16:00:00 aps: ${reported} 206 100 OK`, port, '127.0.0.1', () => res()));
    udp.close();
    for (let i = 0; i < 100 && ends.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(ends, [{ status: 206, bytes: 100, complete: true, confirmed: true }]);
    fp.begin((e) => ends.push(e), 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(ends[1], { status: 200, bytes: 0, complete: false, confirmed: false }, 'the timeout');
    fp.begin((e) => ends.push(e), 200);
    await fp.close();
    assert.equal(ends.length, 3, 'close ends what is pending');
    assert.deepEqual(fp.stats(), { handedOver: 3, confirmed: 1, unconfirmed: 2, pending: 0 });
  });
});
