import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { AudioCodesSimulator } from '../adapters/audiocodes/simulator.ts';
import { bootPhone } from '../adapters/avaya/simulator.ts';
import { runPoll } from '../adapters/innovaphone/simulator.ts';
import { initialState, runCpeSession } from '../adapters/tr069/simulator.ts';
import { runVopCycle } from '../adapters/vop/simulator.ts';
import { logIn, openConsoleBrowser } from './helpers/console-browser.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

// The console in real headless Chromium against a real server with a device of every adapter, each driven
// by its own simulator. Screenshots of each page go to test-results/console/ (test/helpers/console-browser.ts).
const MIB = 1024 * 1024;

describe('the web console in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let vop7: number;
  const vopState = tempDir('aps-console-vop-');
  const vop = (): ReturnType<typeof runVopCycle> => runVopCycle({ server: s.http, user: 'panel1', password: 'vop-pw', stateDir: vopState });
  let problems: string[];
  let shot: (name: string) => Promise<Buffer>;

  before(async () => {
    // An upstream folder the Sources page syncs (at the end, so the fleet counts above see none of it).
    const upstream = tempDir('aps-console-source-');
    writeFileSync(join(upstream, 'vop-9.1.bin'), 'vop firmware 9.1');
    s = await startTestServer({
      sources: [
        {
          name: 'vendor-drop',
          type: 'folder',
          path: upstream,
          map: [{ pattern: 'vop-(?<version>[\\d.]+)\\.bin', profile: 'vop', kind: 'firmware' }],
        },
      ],
    });
    const c = s.core;
    c.devices.upsert({ id: 'panel1', profile: 'vop', password: 'vop-pw', vars: { sip_password: 'very-secret-sip' } });
    c.devices.upsert({ id: 'gw1', profile: 'audiocodes-mp124', mac: '00908F000001', model: 'MP-124' });
    c.devices.upsert({ id: 'CPE1', profile: 'thomson-tr069', password: 'cpe-pw' });
    c.devices.upsert({ id: 'dect1', profile: 'innovaphone-ip1200', mac: '00-90-33-01-02-03' });
    c.devices.upsert({ id: 'desk-9608', profile: 'avaya-96x1', model: '9608', mac: '00e0bb009608', password: 'desk-pw' });
    c.devices.upsert({ id: 'new-vop', profile: 'vop', status: 'pending' });
    vop7 = (
      await c.catalog.addBuffer(Buffer.from('vop firmware 7'), {
        kind: 'firmware',
        profile: 'vop',
        version: '7.0',
        serial: 70,
        filename: 'vop-7.0.bin',
      })
    ).id;
    await c.catalog.addBuffer(Buffer.from('vop firmware 8'), {
      kind: 'firmware',
      profile: 'vop',
      version: '8.0',
      serial: 80,
      filename: 'vop-8.0.bin',
    });
    await c.catalog.addBuffer(Buffer.alloc(4096, 5), {
      kind: 'firmware',
      profile: 'audiocodes-mp124',
      version: '6.60A.400.001',
      filename: 'MP124_SIP.cmp',
    });
    const payload = Buffer.alloc(2048, 6);
    const image = Buffer.concat([Buffer.from(`APSFW 2.0 ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
    await c.catalog.addBuffer(image, { kind: 'firmware', profile: 'thomson-tr069', version: '2.0', filename: 'tg784-2.0.bin' });

    // Every family polls once, so the fleet has versions reported (and, for the VOP, only fetched).
    assert.equal((await vop()).error, undefined);
    const gw = new AudioCodesSimulator({ iniUrl: `${s.http}/audiocodes/<MAC>.ini`, mac: '00908f000001', firmware: '6.60A.349.001' });
    assert.deepEqual((await gw.check()).errors, []);
    await gw.check();
    const cpe = { acs: `${s.http}/tr069`, serial: 'CPE1', password: 'cpe-pw', state: initialState('1.0') };
    assert.equal((await runCpeSession(cpe)).error, undefined);
    assert.equal((await runCpeSession(cpe)).error, undefined);
    const dect = (await (await fetch(`${s.http}/api/v1/devices/dect1`, { headers: { authorization: s.auth } })).json()) as {
      setup: { url: string };
    };
    const dectPoll = { url: dect.setup.url, product: 'IP1200', mac: '00-90-33-01-02-03', stateDir: tempDir(), hour: 12, uptimeMinutes: 60 };
    assert.equal((await runPoll(dectPoll)).backup?.status, 201);
    // A changed setting: the next poll loads the new config and uploads a second backup to compare.
    c.devices.upsert({ id: 'dect1', vars: { timezone: 'ZONE7' } }, 'update');
    assert.equal((await runPoll(dectPoll)).backup?.status, 201);
    const phone = await bootPhone({
      server: s.http,
      model: '9608',
      mac: '00e0bb009608',
      user: 'desk-9608',
      password: 'desk-pw',
      stateDir: tempDir(),
    });
    assert.ok(phone.ok, phone.error);
    s.core.events.flush();

    ({ browser, page, problems, shot } = await openConsoleBrowser());
  });
  after(async () => {
    await browser?.close();
    await s?.stop();
  });

  it('keeps everything out without a session: a wrong token gets the login page again', async () => {
    await page.goto(`${s.http}/ui/`);
    assert.equal(new URL(page.url()).pathname, '/ui/login');
    await logIn(page, s, 'not-the-token-at-all');
    await page.getByRole('alert').filter({ hasText: 'not an admin token' }).waitFor();
    await shot('login-refused');
    const api = await page.evaluate(async () => (await fetch('/api/v1/devices')).status);
    assert.equal(api, 401);
    // The app's own files are not served either, only the login page.
    const asset = await fetch(`${s.http}/ui/assets/anything.js`, { redirect: 'manual' });
    assert.equal(asset.status, 303);
    assert.equal(asset.headers.get('location'), '/ui/login');
  });

  it('logs in; the fleet chart and table show the right counts', async () => {
    await logIn(page, s);
    await page.waitForURL(`${s.http}/ui/`);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'aps_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(!(await page.content()).includes(s.adminToken), 'no token in the page');
    assert.equal(await page.evaluate(() => JSON.stringify(localStorage)), '{}');

    await page.locator('#fleet-summary').filter({ hasText: '6 devices' }).waitFor();
    // 4 families said what they run; the VOP only fetched its firmware; the pending VOP has nothing.
    assert.equal(await page.locator('#fleet-summary').innerText(), '6 devices: 4 reported their version, 1 only fetched it, 1 unknown.');
    const rows = await page.locator('#versions tbody tr').allInnerTexts();
    const has = (re: RegExp): void =>
      assert.ok(
        rows.some((r) => re.test(r)),
        `${re} in\n${rows.join('\n')}`,
      );
    has(/^vop\t8\.0 \(fetched\)\tfetched\t1\t/);
    has(/^vop\tunknown\tnot known\t1\tnever$/);
    has(/^audiocodes-mp124\t6\.60A\.400\.001\treported\t1\t/);
    has(/^thomson-tr069\t2\.0\treported\t1\t/);
    has(/^innovaphone-ip1200\t.+\treported\t1\t/);
    has(/^avaya-96x1\t.+\treported\t1\t/);
    assert.equal(rows.length, 6);
    assert.match((await page.locator('canvas').getAttribute('aria-label')) ?? '', /6 devices per profile/);
    assert.ok(((await page.locator('canvas').boundingBox())?.height ?? 0) > 100, 'the chart is drawn');
    // The pending device waits for approval, with the button.
    await page.getByRole('button', { name: 'Approve new-vop' }).waitFor();
    await page.locator('#device-count').filter({ hasText: '6 devices' }).waitFor();
    await shot('fleet');
  });

  it('search finds a device by its MAC, typed with separators', async () => {
    await page.getByLabel('Search').fill('00:90:8f:00:00:01');
    await page.locator('#device-count').filter({ hasText: '1 device on' }).waitFor();
    const ids = await page.locator('section:has(#devices-h) tbody th').allInnerTexts();
    assert.deepEqual(ids, ['gw1']);
    await shot('fleet-search');
  });

  it('a device page shows its setup and preview, secrets masked until revealed', async () => {
    await page.getByRole('link', { name: 'gw1' }).click();
    await page.getByRole('heading', { name: 'Device gw1' }).waitFor();
    await page.goto(`${s.http}/ui/devices/panel1`);
    await page.getByRole('heading', { name: 'Setup' }).waitFor();
    assert.match(await page.locator('section:has(#setup-h) code').first().innerText(), /\/vop\/\$t\?u=\$u&p=\$p&v=\$v$/);
    await page.getByRole('button', { name: 'Copy provisioning URL' }).waitFor();
    const preview = page.locator('pre.preview').first();
    await preview.waitFor();
    assert.ok(!(await page.locator('section:has(#preview-h)').innerText()).includes('very-secret-sip'));
    await page.getByRole('button', { name: 'Reveal secrets' }).click();
    await page.locator('pre.preview', { hasText: 'very-secret-sip' }).first().waitFor();
    await shot('device');
  });

  it('compares two backups side by side', async () => {
    await page.goto(`${s.http}/ui/devices/dect1`);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.locator('.d2h-file-side-diff').first().waitFor();
    assert.match(await page.locator('.diff').innerText(), /ZONE7/);
    await shot('device-backups');
    await page.goto(`${s.http}/ui/devices/panel1`);
  });

  it("shows a device's event live when its simulator polls", async () => {
    const rows = page.locator('section:has(#events-h) tbody tr');
    const before = await rows.count();
    assert.equal((await vop()).error, undefined);
    await page.waitForFunction((n) => document.querySelectorAll('section:has(#events-h) tbody tr').length > n, before, { timeout: 10_000 });
  });

  it('a pin set on the device page is what the next simulator cycle installs', async () => {
    const pins = page.getByRole('form', { name: 'Pins' });
    await pins.getByRole('button', { name: 'Add' }).click();
    await pins.getByLabel('Pins 1 name').fill('firmware');
    await pins.getByLabel('Pins firmware value').fill(String(vop7));
    await pins.getByRole('button', { name: 'Save pins' }).click();
    await pins.getByText('Saved.').waitFor();
    assert.deepEqual(s.core.devices.get('panel1')!.pins, { firmware: vop7 });
    const cycle = await vop();
    assert.ok(cycle.installed.includes('firmware'), JSON.stringify(cycle));
    s.core.events.flush();
    assert.equal(s.core.devices.state('panel1')!.fetched.firmware?.version, '7.0');
    await shot('device-pinned');
  });

  it('uploads a 200 MiB firmware with a moving progress bar; the artifact appears', async () => {
    const file = join(tempDir('aps-console-upload-'), 'MP124_big.cmp');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 200 * MIB); // sparse: no 200 MiB written to disk by the test itself
    closeSync(fd);
    await page.getByRole('link', { name: 'Artifacts' }).click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    await page.getByLabel('File', { exact: true }).setInputFiles(file);
    await page.getByLabel('Profile').first().selectOption('audiocodes-mp124');
    await page.getByLabel('Kind').selectOption('firmware');
    await page.getByLabel('Version').fill('7.20A.999.001');
    // Sample the bar while the bytes go: it must show values between the start and the end.
    const seen = page.evaluate(
      () =>
        new Promise<number[]>((resolve) => {
          const values: number[] = [];
          const t = setInterval(() => {
            const p = document.querySelector<HTMLProgressElement>('#upload-progress');
            if (p) values.push(p.value);
            if (document.querySelector('#upload-result')?.textContent) {
              clearInterval(t);
              resolve(values);
            }
          }, 5);
        }),
    );
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const values = await seen;
    assert.match((await page.locator('#upload-result').innerText()) ?? '', /^Added: artifact \d+ MP124_big\.cmp 7\.20A\.999\.001/);
    assert.ok(
      values.some((v) => v > 0 && v < 100),
      `progress values seen: ${[...new Set(values)].join(',')}`,
    );
    await page.locator('#artifacts tbody tr', { hasText: 'MP124_big.cmp' }).waitFor();
    const added = s.core.catalog.list('audiocodes-mp124').find((a) => a.filename === 'MP124_big.cmp');
    assert.equal(added?.size, 200 * MIB);
    await shot('artifacts');
  });

  it('refuses to delete an artifact that is a target, with the reason', async () => {
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Delete artifact ${vop7}` }).click();
    await page.locator('#artifact-message', { hasText: 'Not deleted' }).waitFor();
    assert.ok(s.core.catalog.get(vop7), 'still there');
  });

  it('syncs a source now and shows its run', async () => {
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByRole('cell', { name: 'never run' }).waitFor();
    await page.getByRole('button', { name: 'Sync vendor-drop now' }).click();
    await page.locator('#source-message', { hasText: /^Sync of vendor-drop: ok .*1 added, .* 0 pruned/ }).waitFor();
    await page.getByRole('button', { name: 'Runs of vendor-drop' }).click();
    await page.locator('#sources tr.sub', { hasText: 'api' }).waitFor();
    assert.ok(s.core.catalog.list('vop').some((a) => a.filename === 'vop-9.1.bin' && a.origin === 'folder:vendor-drop'));
    await shot('sources');
  });

  it('shows the event log, then logs out: the old session opens nothing', async () => {
    await page.getByRole('link', { name: 'Events' }).click();
    await page.locator('table.events tbody tr').first().waitFor();
    await shot('events');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.locator('#fleet-summary').waitFor();
    await shot('fleet-phone');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'aps_session')!;
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${s.http}/ui/login`);
    await page.goto(`${s.http}/ui/artifacts`);
    assert.equal(new URL(page.url()).pathname, '/ui/login');
    const replay = await fetch(`${s.http}/api/v1/devices`, { headers: { cookie: `aps_session=${cookie.value}` } });
    assert.equal(replay.status, 401, 'the cookie of a logged-out session is worthless');
    assert.deepEqual(problems, [], 'no script error, nothing blocked by the CSP');
  });
});
