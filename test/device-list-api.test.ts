import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runVopCycle } from '../adapters/vop/simulator.ts';
import { apsCli } from './helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

interface Page<T> {
  items: T[];
  next: string | null;
}
type Device = { id: string; firmware: { version: string; basis: string } | null; stale: boolean; lastEvent: { status: number } | null };

// GET /devices and GET /events as pages ({items, next}, limit, after) with the fleet filters, and the CLI
// verbs on top of them.
describe('paged device and event lists', () => {
  let s: TestServer;
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${s.http}/api/v1${path}`, { headers: { authorization: s.auth } });
    assert.equal(r.status, 200, `${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  const ids = async (q: string): Promise<string[]> => (await api<Page<Device>>(`/devices?${q}`)).items.map((d) => d.id);

  before(async () => {
    s = await startTestServer();
    const c = s.core;
    c.devices.upsert({ id: 'op1', profile: 'vop', password: 'pw1', group: 'lab' });
    c.devices.upsert({ id: 'op2', profile: 'vop', password: 'pw2', vars: { sip_password: 'sip-secret-42' } });
    c.devices.upsert({ id: 'gw1', profile: 'audiocodes-mp124', mac: '00-90-8F-00-00-01' });
    c.devices.upsert({ id: 'wait1', profile: 'vop', status: 'pending' });
    await c.catalog.addBuffer(Buffer.from('fw 7'), { kind: 'firmware', profile: 'vop', version: '7.0', serial: 70, filename: 'v7.bin' });
    assert.equal((await runVopCycle({ server: s.http, user: 'op1', password: 'pw1', stateDir: tempDir() })).error, undefined);
    assert.equal((await fetch(`${s.http}/vop/i?u=op2&p=wrong`)).status, 401);
    c.events.flush();
  });
  after(async () => {
    await s.stop();
  });

  it('pages devices in id order with limit and after', async () => {
    const first = await api<Page<Device>>('/devices?limit=2');
    assert.deepEqual(
      first.items.map((d) => d.id),
      ['gw1', 'op1'],
    );
    assert.equal(first.next, 'op1');
    const second = await api<Page<Device>>(`/devices?limit=2&after=${first.next}`);
    assert.deepEqual(
      second.items.map((d) => d.id),
      ['op2', 'wait1'],
    );
    assert.equal(second.next, null);
    assert.deepEqual(await ids(''), ['gw1', 'op1', 'op2', 'wait1'], 'default page holds them all');
  });

  it('filters by adapter, profile, group, version and status; searches id, MAC and IP', async () => {
    assert.deepEqual(await ids('adapter=audiocodes'), ['gw1']);
    assert.deepEqual(await ids('profile=vop'), ['op1', 'op2', 'wait1']);
    assert.deepEqual(await ids('group=lab'), ['op1']);
    assert.deepEqual(await ids('version=7.0'), ['op1']);
    assert.deepEqual(await ids('status=pending'), ['wait1']);
    assert.deepEqual(await ids('status=active'), ['gw1', 'op1', 'op2']);
    assert.deepEqual(await ids('status=refused'), ['op2'], 'its last request was refused');
    assert.deepEqual(await ids('status=stale'), ['gw1', 'op2', 'wait1'], 'never seen');
    assert.deepEqual(await ids('q=00:90:8f:00:00:01'), ['gw1']);
    assert.deepEqual(await ids('q=00908F'), ['gw1']);
    assert.deepEqual(await ids('q=127.0.0.1'), ['op1'], 'the last IP of a device seen');
    assert.deepEqual(await ids('q=OP'), ['op1', 'op2'], 'ids, any case');
    const [op1] = (await api<Page<Device>>('/devices?q=op1')).items;
    assert.deepEqual(op1!.firmware, { version: '7.0', basis: 'fetched' });
    assert.equal(op1!.stale, false);
    assert.equal(op1!.lastEvent?.status, 200);
  });

  it('answers a bad limit or status with a 400 naming it', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'status=broken']) {
      const r = await fetch(`${s.http}/api/v1/devices?${q}`, { headers: { authorization: s.auth } });
      assert.equal(r.status, 400, q);
      assert.match(((await r.json()) as { message: string }).message, new RegExp(`^${q.split('=')[0]} must be`));
    }
  });

  it('pages events newest first: next is the cursor of the older page, since catches up', async () => {
    const all = await api<Page<{ id: number }>>('/events?limit=1000');
    assert.ok(all.items.length >= 3);
    assert.equal(all.next, null);
    const first = await api<Page<{ id: number }>>('/events?limit=2');
    assert.deepEqual(
      first.items.map((e) => e.id),
      all.items.slice(0, 2).map((e) => e.id),
    );
    assert.equal(first.next, String(all.items[1]!.id));
    const second = await api<Page<{ id: number }>>(`/events?limit=2&after=${first.next}`);
    assert.deepEqual(
      second.items.map((e) => e.id),
      all.items.slice(2, 4).map((e) => e.id),
    );
    const newer = await api<Page<{ id: number }>>(`/events?since=${all.items[1]!.id}`);
    assert.deepEqual(
      newer.items.map((e) => e.id),
      [all.items[0]!.id],
    );
  });

  it('masks the secrets in a preview when asked (the console until the admin reveals them)', async () => {
    const text = (files: Array<{ text?: string }>): string => files.map((f) => f.text ?? '').join('\n');
    const clear = text(await api<Array<{ text?: string }>>('/devices/op2/preview'));
    assert.match(clear, /sip-secret-42/);
    const masked = text(await api<Array<{ text?: string }>>('/devices/op2/preview?mask=1'));
    assert.ok(!masked.includes('sip-secret-42'));
    assert.equal(masked, clear.replaceAll('sip-secret-42', '********'));
    const { aps } = apsCli({ ...process.env, APS_DATA: s.dataDir });
    const cli = (await aps('preview', 'op2', '--mask')).stdout;
    assert.match(cli, /sip_password=\*{8}/);
  });

  it('the CLI lists the same pages: device list and events with --limit/--after and --json', async () => {
    const { aps } = apsCli({ ...process.env, APS_DATA: s.dataDir });
    const page = JSON.parse((await aps('device', 'list', '--limit', '1', '--after', 'gw1', '--json')).stdout) as Page<Device>;
    assert.deepEqual(
      page.items.map((d) => d.id),
      ['op1'],
    );
    assert.equal(page.next, 'op1');
    const found = JSON.parse((await aps('device', 'list', '--search', '00908f000001', '--json')).stdout) as Page<Device>;
    assert.deepEqual(
      found.items.map((d) => d.id),
      ['gw1'],
    );
    const table = (await aps('device', 'list', '--limit', '1')).stdout;
    assert.match(table, /^more: --after gw1$/m);
    const events = JSON.parse((await aps('events', '--limit', '1', '--json')).stdout) as Page<{ id: number }>;
    assert.equal(events.items.length, 1);
    const older = JSON.parse((await aps('events', '--limit', '1', '--after', events.next!, '--json')).stdout) as Page<{ id: number }>;
    assert.ok(older.items[0]!.id < events.items[0]!.id);
  });
});
