// Issue 9 points 1, 2, 3 and 12 as an admin meets them: the CLI (a separate process), the admin API of a
// real server, a real VOP simulator, and the fleet view.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runVopCycle, parseInfo } from '../adapters/vop/simulator.ts';
import { importFolder } from '../src/catalog/folder-import.ts';
import { apsCli } from './helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

describe('catalog through the CLI: order, warnings, duplicates, slots, rm --force', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const { aps, fails } = apsCli(() => env);
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  before(() => {
    dir = tempDir('aps-catalog-cli-');
    env = { ...process.env, APS_DATA: join(dir, 'data'), APS_LOG_LEVEL: 'silent' };
  });

  it('orders by version, warns about an artifact nobody will get, and returns the one already holding the bytes', async () => {
    await aps('device', 'add', 'op1', '--profile', 'vop', '--password', 'pw');
    const fw = (name: string, version: string, ...extra: string[]): Promise<{ stdout: string }> =>
      aps('artifact', 'add', file(name, `firmware ${version}`), '--profile', 'vop', '--kind', 'firmware', '--version', version, ...extra);
    assert.match((await fw('fw22.bin', '2.2', '--serial', '21')).stdout, /^added artifact 1:/);
    const synced = await fw('fw50.bin', '5.0');
    assert.match(synced.stdout, /^added artifact 2:/);
    assert.doesNotMatch(synced.stdout, /will not become/, 'the newest version becomes the target, serial or not');
    const older = await fw('fw30.bin', '3.0');
    assert.match(older.stdout, /added artifact 3:/);
    assert.match(older.stdout, /warning: artifact 3 will not become anyone's firmware target: artifact 2 \(5\.0\) ranks higher by version/);
    const show = JSON.parse((await aps('device', 'show', 'op1', '--json')).stdout) as { targets: Record<string, { id: number }> };
    assert.equal(show.targets.firmware?.id, 2);

    const again = await aps('artifact', 'add', join(dir, 'fw50.bin'), '--profile', 'vop', '--kind', 'firmware', '--version', '5.0');
    assert.match(again.stdout, /already in the catalog as #2/);
    const list = JSON.parse((await aps('artifact', 'list', '--json')).stdout) as unknown[];
    assert.equal(list.length, 3, 'no duplicate entry');
  });

  it('refuses a kind or role the profile’s adapter never serves, naming what it accepts', async () => {
    await fails(
      ['artifact', 'add', file('x.bin', 'x'), '--profile', 'vop', '--kind', 'aux', '--role', 'x'],
      /profile vop accepts bootstrap, firmware, config; not aux:x/,
    );
    const apply = file('aux.yaml', ['artifacts:', '  - { file: x.bin, profile: vop, kind: aux, role: x }'].join('\n'));
    await fails(['apply', apply], /artifacts\[0\] \(x\.bin\): profile vop accepts bootstrap, firmware, config; not aux:x/);
  });

  it('device show says why the latest artifact of a slot is not the target', async () => {
    await aps('device', 'set', 'op1', '--pin', 'firmware=1');
    const { stdout } = await aps('device', 'show', 'op1');
    assert.match(stdout, /note: firmware: artifact 3 \(3\.0\), added last, is not the target: pinned to artifact 1/);
    await aps('device', 'set', 'op1', '--pin', 'firmware=');
  });

  it('rm --force moves the devices of a target to the previous artifact, says which, and records it', async () => {
    await aps('device', 'add', 'op2', '--profile', 'vop', '--password', 'pw', '--pin', 'firmware=3');
    await fails(['artifact', 'rm', '2'], /current firmware target of op1.*--force/);
    const { stdout } = await aps('artifact', 'rm', '2', '--force');
    assert.match(stdout, /removed artifact 2 \(fw50\.bin\)/);
    assert.match(stdout, /op1: firmware artifact 2 → 3/);
    const out = await aps('artifact', 'rm', '3', '--force', '--json');
    const r = JSON.parse(out.stdout) as { id: number; moved: Array<{ subject: string; from: number; to: number | null }> };
    assert.equal(r.id, 3);
    assert.deepEqual(r.moved, [
      { subject: 'op1', from: 3, to: 1 },
      { subject: 'op2', from: 3, to: 1 },
    ]);
    const op2 = JSON.parse((await aps('device', 'show', 'op2', '--json')).stdout) as { pins: Record<string, number> };
    assert.equal(op2.pins.firmware, 1, 'a pinned device stays pinned, to the previous artifact');
    const { items: events } = JSON.parse((await aps('events', '--device', 'op1', '--json')).stdout) as {
      items: Array<{ adapter: string; detail: string }>;
    };
    assert.ok(
      events.some((e) => e.adapter === 'catalog' && /artifact 2 removed with --force: firmware target moved to artifact 3/.test(e.detail)),
    );
  });
});

describe('catalog and fleet through the admin API, and a real VOP', () => {
  let s: TestServer;
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${s.http}/api/v1${path}`, { ...init, headers: { authorization: s.auth, ...(init.headers ?? {}) } });
  const upload = (bytes: string, fields: Record<string, string>): Promise<Response> => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    form.set('file', new Blob([bytes]), 'upload.bin');
    return api('/artifacts', { method: 'POST', body: form });
  };

  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.stop();
  });

  it('answers 200 existing:true for bytes already in the slot, and warns about an artifact nobody will get', async () => {
    s.core.devices.upsert({ id: 'api1', profile: 'vop', password: 'pw' });
    const first = await upload('api fw 2', { profile: 'vop', kind: 'firmware', version: '2.0' });
    assert.equal(first.status, 201);
    const a = (await first.json()) as { id: number; existing: boolean; warning?: string };
    assert.equal(a.existing, false);
    const second = await upload('api fw 2', { profile: 'vop', kind: 'firmware', version: '2.0' });
    assert.equal(second.status, 200);
    const b = (await second.json()) as { id: number; existing: boolean };
    assert.deepEqual([b.id, b.existing], [a.id, true]);
    const low = await upload('api fw 1', { profile: 'vop', kind: 'firmware', version: '1.0' });
    assert.equal(low.status, 201);
    assert.match(((await low.json()) as { warning: string }).warning, new RegExp(`artifact ${a.id} \\(2\\.0\\) ranks higher by version`));
    const aux = await upload('aux', { profile: 'vop', kind: 'aux', role: 'x' });
    assert.equal(aux.status, 400);
    assert.match(((await aux.json()) as { message: string }).message, /profile vop accepts bootstrap, firmware, config/);
    // Each adapter declares what it serves: AudioCodes its auxiliary roles, TR-069 firmware and config only.
    assert.equal((await upload('tones', { profile: 'audiocodes-mp124', kind: 'aux', role: 'cpt' })).status, 201);
    const acAux = await upload('other', { profile: 'audiocodes-mp124', kind: 'aux', role: 'x' });
    assert.match(((await acAux.json()) as { message: string }).message, /accepts config, firmware, aux:cpt, aux:prt.*; not aux:x/);
    const cpeBoot = await upload('boot', { profile: 'thomson-tr069', kind: 'bootstrap' });
    assert.equal(cpeBoot.status, 400);
    assert.match(((await cpeBoot.json()) as { message: string }).message, /profile thomson-tr069 accepts firmware, config; not bootstrap/);
    const del = await api(`/artifacts/${a.id}`, { method: 'DELETE' });
    assert.equal(del.status, 409);
    const forced = await api(`/artifacts/${a.id}?force=1`, { method: 'DELETE' });
    assert.equal(forced.status, 200);
    const moved = ((await forced.json()) as { moved: Array<{ subject: string; to: number }> }).moved;
    assert.deepEqual(
      moved.map((m) => m.subject),
      ['api1'],
    );
  });

  it('a synced firmware without a serial becomes the target, and every change announces a greater serial', async () => {
    s.core.devices.upsert({ id: 'vop1', profile: 'vop', password: 'pw-v', vars: { sip_password: 's' } });
    s.core.devices.upsert({ id: 'api1', pins: {} });
    await s.core.catalog.addBuffer(Buffer.from('BOOT'), { kind: 'bootstrap', profile: 'vop', version: '1', filename: 'boot.bin' });
    const hand = await s.core.catalog.addBuffer(Buffer.from('hand 2.2'), {
      kind: 'firmware',
      profile: 'vop',
      version: '2.2',
      serial: 21,
      filename: 'fw22.bin',
    });
    const sim = { server: s.http, user: 'vop1', password: 'pw-v', stateDir: tempDir('aps-vop-order-') };
    assert.ok((await runVopCycle(sim)).installed.includes('firmware'));
    const serialNow = async (): Promise<number> => (await parseInfo(readFileSync(join(sim.stateDir, 'info.xml'), 'utf8'))).firmware!.serial;
    const s1 = await serialNow();
    assert.equal(s1, hand.serial);
    // What `aps sync` of a folder source does: versions from file names, no serial.
    const folder = tempDir('aps-sync-');
    mkdirSync(join(folder, 'fw'));
    for (const v of ['3.0', '3.1', '4.0', '5.0']) writeFileSync(join(folder, 'fw', `vop-${v}.bin`), `synced ${v}`);
    const r = await importFolder(s.core.catalog, join(folder, 'fw'), { profile: 'vop', kind: 'firmware', origin: 'folder:sync' });
    assert.equal(r.added.length, 4);
    assert.deepEqual((await runVopCycle(sim)).installed, ['firmware']);
    assert.equal(readFileSync(join(sim.stateDir, 'firmware'), 'utf8'), 'synced 5.0');
    const s2 = await serialNow();
    assert.ok(s2 > s1, `${s2} > ${s1}`);
    const v30 = r.added.find((a) => a.version === '3.0')!;
    s.core.devices.upsert({ id: 'vop1', pins: { firmware: v30.id } });
    assert.deepEqual((await runVopCycle(sim)).installed, ['firmware'], 'a pin to an older firmware is installed too');
    assert.equal(readFileSync(join(sim.stateDir, 'firmware'), 'utf8'), 'synced 3.0');
    assert.ok((await serialNow()) > s2);
  });

  it('GET /fleet: target vs reported per device, behind per profile, pending apart, paging over device ids', async () => {
    s.core.devices.upsert({ id: 'vop2', profile: 'vop', password: 'pw-2' });
    s.core.devices.upsert({ id: 'cand', profile: 'vop', status: 'pending' });
    s.core.events.report({ deviceId: 'vop2', reported: { firmware: '4.0' } });
    const body = (await (await api('/fleet')).json()) as {
      versions: Array<{ profile: string; version: string; basis: string | null; devices: number; lastSeen: string | null }>;
      profiles: Array<{ profile: string; active: number; pending: number; behind: number; onTarget: number; unknown: number }>;
      devices: Array<{
        id: string;
        profile: string;
        status: string;
        target: string | null;
        version: string | null;
        basis: string | null;
        behind: boolean;
      }>;
      pending: Array<{ id: string }>;
      next: string | null;
    };
    const vopRow = body.versions.find((v) => v.profile === 'vop' && v.version === '3.0');
    assert.deepEqual([vopRow?.basis, vopRow?.devices], ['fetched', 1], 'the per-version counts are still there');
    const vop = body.profiles.find((p) => p.profile === 'vop')!;
    assert.deepEqual(
      { active: vop.active, pending: vop.pending, behind: vop.behind, onTarget: vop.onTarget },
      { active: 3, pending: 1, behind: 1, onTarget: 1 },
    );
    const byId = new Map(body.devices.map((d) => [d.id, d]));
    assert.deepEqual(
      { target: byId.get('vop1')?.target, version: byId.get('vop1')?.version, behind: byId.get('vop1')?.behind },
      { target: '3.0', version: '3.0', behind: false },
    );
    assert.deepEqual(
      { target: byId.get('vop2')?.target, version: byId.get('vop2')?.version, behind: byId.get('vop2')?.behind },
      { target: '5.0', version: '4.0', behind: true },
    );
    assert.ok(!byId.has('cand'), 'pending devices are listed apart');
    assert.deepEqual(
      body.pending.map((p) => p.id),
      ['cand'],
    );
    // Paging over device ids: every device exactly once, in id order.
    const seen: string[] = [];
    let after = '';
    for (let i = 0; i < 10; i++) {
      const page = (await (await api(`/fleet?limit=1${after ? `&after=${after}` : ''}`)).json()) as typeof body;
      seen.push(...page.devices.map((d) => d.id));
      if (!page.next) break;
      after = page.next;
    }
    assert.deepEqual(seen, ['api1', 'vop1', 'vop2']);
    assert.equal((await api('/fleet?limit=0')).status, 400);
  });
});
