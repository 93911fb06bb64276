import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { createLogger } from '../log.ts';
import { FrontProxy, type TransferEnd } from './front-proxy.ts';
import { parseNetworks } from './networks.ts';
import { until } from '../../test/helpers/until.ts';

const config = {
  mode: 'x-accel' as const,
  prefix: '/_blobs/',
  completionHost: '127.0.0.1',
  completionPort: 0,
  completionTimeoutSeconds: 1,
  maxPending: 100,
};
/** For tests where a report is to arrive: the transfer never times out first, however slow the machine. */
const patient = { ...config, completionTimeoutSeconds: 3600 };
// nginx on 127.0.0.1; 127.0.0.2 (any loopback address works on Linux) stands for a host that is not the proxy.
const proxies = parseNetworks('127.0.0.1', 'test');
const line = (id: string, status: number, bytes: number, ok = true): string =>
  `<190>Nov 30 16:00:00 aps: ${id} ${status} ${bytes} ${ok ? 'OK' : ''}`;
function send(port: number, text: string, from: string): Promise<void> {
  const udp = createSocket('udp4');
  return new Promise<void>((res, rej) => {
    udp.once('error', rej);
    udp.bind(0, from, () => udp.send(text, port, '127.0.0.1', () => udp.close(() => res())));
  });
}

describe('FrontProxy transfer reports', () => {
  it('takes only the report of a pending transfer, once; anything else is ignored', () => {
    const fp = new FrontProxy(config, createLogger('silent'), proxies);
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
    // No report timeout where a report is expected: a test process stalled for a second on a loaded machine
    // would otherwise see the timer win over the datagram.
    const fp = new FrontProxy(patient, createLogger('silent'), proxies);
    const port = await fp.listen();
    const ends: TransferEnd[] = [];
    const reported = fp.begin((e) => ends.push(e), 206);
    const udp = createSocket('udp4');
    await new Promise<void>((res) => udp.send(`<190>Nov 30 16:00:00 aps: ${reported} 206 100 OK`, port, '127.0.0.1', () => res()));
    udp.close();
    await until('the reported transfer ended', () => ends.length > 0);
    assert.deepEqual(ends, [{ status: 206, bytes: 100, complete: true, confirmed: true }]);
    fp.begin((e) => ends.push(e), 200);
    await fp.close();
    assert.equal(ends.length, 2, 'close ends what is pending');
    assert.deepEqual(ends[1], { status: 200, bytes: 0, complete: false, confirmed: false }, 'at close');
    assert.deepEqual(fp.stats(), { handedOver: 2, confirmed: 1, unconfirmed: 1, overflowed: 0, pending: 0 });
    // The report timeout (1 s), on a proxy nothing is ever reported to.
    const quick = new FrontProxy(config, createLogger('silent'), proxies);
    const late: TransferEnd[] = [];
    quick.begin((e) => late.push(e), 200);
    await until('the unreported transfer ended', () => late.length > 0);
    assert.deepEqual(late, [{ status: 200, bytes: 0, complete: false, confirmed: false }], 'the timeout');
    assert.deepEqual(quick.stats(), { handedOver: 1, confirmed: 0, unconfirmed: 1, overflowed: 0, pending: 0 });
    await quick.close();
  });

  it('hands over only to a trusted proxy, and reads reports only from its address (a forged "complete" is dropped)', async () => {
    const fp = new FrontProxy(patient, createLogger('silent'), proxies);
    assert.equal(fp.fronts('127.0.0.1'), true);
    assert.equal(fp.fronts('::ffff:127.0.0.1'), true, 'an IPv4 peer of a dual-stack socket');
    assert.equal(fp.fronts('127.0.0.2'), false);
    assert.equal(fp.fronts('10.20.1.1'), false, 'a private address is a phone, not a proxy');
    assert.equal(fp.fronts(undefined), false);
    assert.equal(new FrontProxy(config, createLogger('silent'), undefined).fronts('127.0.0.1'), false, 'no proxy configured');
    const port = await fp.listen();
    const ends: TransferEnd[] = [];
    const id = fp.begin((e) => ends.push(e), 200);
    // A forged report first (other bytes), from a host that is not the proxy, then the proxy's own: only the
    // proxy's may end the transfer, so the first end recorded must be its 4096 bytes, never the forged 999.
    await send(port, line(id, 200, 999), '127.0.0.2');
    await send(port, line(id, 200, 4096), '127.0.0.1');
    await until('the transfer ended', () => ends.length > 0);
    assert.deepEqual(ends, [{ status: 200, bytes: 4096, complete: true, confirmed: true }], 'the forged report was dropped');
    await fp.close();
  });

  it('caps the transfers awaiting a report: past maxPending the oldest is recorded as unconfirmed and counted', () => {
    const fp = new FrontProxy({ ...config, maxPending: 2, completionTimeoutSeconds: 3600 }, createLogger('silent'), proxies);
    const ends: Array<[string, TransferEnd]> = [];
    const ids = ['a', 'b', 'c', 'd'].map((name) => fp.begin((e) => ends.push([name, e]), 200));
    assert.deepEqual(
      ends.map(([name, e]) => [name, e.confirmed]),
      [
        ['a', false],
        ['b', false],
      ],
      'the two oldest given up on',
    );
    assert.deepEqual(fp.stats(), { handedOver: 4, confirmed: 0, unconfirmed: 2, overflowed: 2, pending: 2 });
    assert.equal(fp.receive(line(ids[0]!, 200, 1)), false, 'a report of one given up on is ignored');
    assert.equal(fp.receive(line(ids[3]!, 200, 1)), true);
    assert.equal(fp.stats().pending, 1);
  });

  it('on close, waits up to the deadline for the reports of transfers nginx is still sending', async () => {
    const fp = new FrontProxy(patient, createLogger('silent'), proxies);
    const port = await fp.listen();
    const ends: TransferEnd[] = [];
    const id = fp.begin((e) => ends.push(e), 200);
    setTimeout(() => void send(port, line(id, 200, 777), '127.0.0.1'), 200);
    await fp.close(5000);
    assert.deepEqual(ends, [{ status: 200, bytes: 777, complete: true, confirmed: true }], 'reported during the wait');

    const fp2 = new FrontProxy(patient, createLogger('silent'), proxies);
    await fp2.listen();
    fp2.begin((e) => ends.push(e), 206);
    await fp2.close(150);
    assert.deepEqual(ends[1], { status: 206, bytes: 0, complete: false, confirmed: false }, 'never reported: unconfirmed at the deadline');
  });
});
