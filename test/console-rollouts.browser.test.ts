import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { AudioCodesSimulator } from '../adapters/audiocodes/simulator.ts';
import { runVopCycle } from '../adapters/vop/simulator.ts';
import { logIn, openConsoleBrowser } from './helpers/console-browser.ts';
import { api, hashSelected, rolloutOf, type Rollout } from './helpers/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { profilesWith } from './helpers/windows.ts';
import { until } from './helpers/until.ts';

// Rollouts and maintenance windows in the console, in Chromium against a real server: six VOPs under
// `release: manual` get a candidate through a rollout started, watched, promoted and aborted from the
// console; a gateway in a group with a closed window shows it on its device page.
const IDS = Array.from({ length: 6 }, (_, i) => `op${i}`);

describe('the console: rollouts and windows', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let shot: (name: string) => Promise<Buffer>;
  let candidate: number;
  let rolloutId: number;
  let selected: string[];
  const dirs = new Map(IDS.map((id) => [id, tempDir('aps-console-rollout-')]));
  const vop = async (id: string): Promise<void> => {
    const r = await runVopCycle({ server: s.http, user: id, password: `${id}-pw`, stateDir: dirs.get(id)! });
    assert.equal(r.error, undefined, `${id}: ${r.error}`);
  };

  before(async () => {
    s = await startTestServer({
      profilesDir: profilesWith({ vop: { release: 'manual' } }),
      rollouts: { tickSeconds: 0.2 },
    });
    for (const id of IDS) s.core.devices.upsert({ id, profile: 'vop', password: `${id}-pw` });
    candidate = (
      await s.core.catalog.addBuffer(Buffer.alloc(20_000, 4), {
        kind: 'firmware',
        profile: 'vop',
        version: '4.0',
        serial: 40,
        filename: 'fw40.bin',
      })
    ).id;
    // A window that opens in two hours every day: closed now, whatever the hour the test runs at.
    const hour = (new Date().getUTCHours() + 2) % 24;
    const hhmm = (h: number): string => `${String(h % 24).padStart(2, '0')}:00`;
    s.core.devices.upsertGroup({ name: 'night', vars: {}, pins: {} });
    s.core.windows.setGroupWindow('night', {
      days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
      from: hhmm(hour),
      to: hhmm(hour + 1),
      tz: 'UTC',
      newDevices: 'serve',
      push: false,
    });
    s.core.devices.upsert({ id: 'gw1', profile: 'audiocodes-mp124', mac: '00908F000001', model: 'MP-124', group: 'night' });
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 5), {
      kind: 'firmware',
      profile: 'audiocodes-mp124',
      version: '6.60A.400.001',
      filename: 'MP124_SIP.cmp',
    });
    const gw = new AudioCodesSimulator({ iniUrl: `${s.http}/audiocodes/<MAC>.ini`, mac: '00908f000001', firmware: '6.60A.349.001' });
    assert.deepEqual((await gw.check()).errors, []);
    // A newer firmware after the gateway's visit: it waits for the window.
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 6), {
      kind: 'firmware',
      profile: 'audiocodes-mp124',
      version: '6.60A.500.001',
      filename: 'MP124_SIP5.cmp',
    });
    ({ browser, page, problems, shot } = await openConsoleBrowser());
    await logIn(page, s);
    await page.waitForURL(`${s.http}/ui/`);
  });
  after(async () => {
    await browser?.close();
    await s?.stop();
  });

  it('the artifact list says candidate; its form starts a rollout and opens its page at stage 1', async () => {
    await page.getByRole('link', { name: 'Artifacts' }).click();
    const row = page.locator('#artifacts tbody tr', { hasText: 'fw40.bin' });
    await row.waitFor();
    assert.match(await row.innerText(), /\tcandidate\t/);
    // The gateway's newer firmware is its target (held back by its window), the older one retired.
    assert.match(await page.locator('#artifacts tbody tr', { hasText: 'MP124_SIP5.cmp' }).innerText(), /\ttarget\t/);
    assert.match(await page.locator('#artifacts tbody tr', { hasText: 'MP124_SIP.cmp' }).innerText(), /\tretired\t/);
    await page.getByRole('button', { name: `Start rollout of artifact ${candidate}` }).click();
    const form = page.getByRole('form', { name: /Start rollout of artifact/ });
    await form.getByLabel('Stages (%)').fill('50,100');
    await form.getByLabel('Max failures').fill('1');
    await form.getByLabel('Timeout').fill('1h');
    await shot('rollout-start');
    await form.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/\/ui\/rollouts\/\d+$/);
    rolloutId = Number(/(\d+)$/.exec(page.url())![1]);
    selected = hashSelected(rolloutId, IDS, 50);
    assert.ok(selected.length > 0 && selected.length < IDS.length, `stage 1 selects some: ${selected.join(',')}`);
    const stage = page.locator('#rollout-stage');
    await stage.filter({ hasText: `${selected.length} devices` }).waitFor();
    assert.equal(await stage.innerText(), `1 of 2 (50 %): ${selected.length} devices, 0 succeeded, 0 failed, ${selected.length} pending`);
    assert.deepEqual(await page.locator('#rollout-devices tbody th').allInnerTexts(), selected);
    assert.equal(await page.locator('#rollout-state').innerText(), 'running');
    const r = await rolloutOf(s, rolloutId);
    assert.deepEqual([r.maxFailures, r.timeoutSeconds, r.stages], ['1', 3600, [50, 100]]);
    assert.match(await page.locator('#rollout-facts').innerText(), /stages 50, 100 %, max failures 1, timeout 1h/);
    await shot('rollout');
  });

  it('a selected VOP fetching the firmware turns succeeded on the open page, live', async () => {
    const first = selected[0]!;
    await vop(first);
    const row = page.locator('#rollout-devices tbody tr', { hasText: first });
    await row.filter({ hasText: 'succeeded' }).waitFor({ timeout: 15_000 });
    await page.locator('#rollout-stage').filter({ hasText: '1 succeeded' }).waitFor();
    assert.equal(
      await page.locator('#rollout-stage').innerText(),
      `1 of 2 (50 %): ${selected.length} devices, 1 succeeded, 0 failed, ${selected.length - 1} pending`,
    );
    await shot('rollout-live');
  });

  it('the rollouts page lists it with each stage; promote adds stage 2, pause and resume, abort returns the devices', async () => {
    await page.getByRole('link', { name: 'Rollouts' }).click();
    const row = page.locator('#rollouts tbody tr', { hasText: 'fw40.bin' });
    await row.waitFor();
    assert.match(
      await row.innerText(),
      new RegExp(`running\\t1 of 2 \\(50 %\\)\\s+50 %: ${selected.length} devices, 1 succeeded, 0 failed`),
    );
    await shot('rollouts');
    await row.getByRole('link', { name: String(rolloutId) }).click();
    await page.getByRole('button', { name: 'Promote' }).click();
    await page.locator('#rollout-stage').filter({ hasText: '2 of 2 (100 %)' }).waitFor();
    assert.equal(await page.locator('#rollout-devices tbody tr').count(), IDS.length);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#rollout-state', { hasText: 'paused' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Pause' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#rollout-state', { hasText: 'running' }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Abort' }).click();
    await page.locator('#rollout-state', { hasText: 'aborted' }).waitFor();
    assert.match(await page.locator('#rollout-reason').innerText(), /aborted by admin/);
    assert.equal(await page.getByRole('button', { name: 'Promote' }).isDisabled(), true);
    const done = await until(
      'aborted',
      () => rolloutOf(s, rolloutId),
      (r) => r.state === 'aborted',
    );
    assert.equal(done.devices.length, IDS.length);
    // Back to what they had before: nothing, in this catalog (the candidate was never released).
    for (const id of IDS) assert.equal(s.core.catalog.target(s.core.devices.get(id)!, 'firmware')?.id, undefined, id);
    await shot('rollout-aborted');
  });

  it('a rollout that halts shows why on both pages: the devices and their faults', async () => {
    // Nobody polls within the 1 s timeout: every device fails, more than the 0 failures allowed.
    const r = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: candidate, stages: '100', timeout: 1, maxFailures: 0 });
    await page.getByRole('link', { name: 'Rollouts' }).click();
    const row = page.locator('#rollouts tbody tr', { has: page.getByRole('link', { name: String(r.id), exact: true }) });
    await row.filter({ hasText: 'halted' }).waitFor({ timeout: 15_000 });
    assert.match(await row.innerText(), /halted: \d of 6 devices failed, more than max 0: op\d \([^)]+\)/);
    await shot('rollouts-halted');
    await row.getByRole('link', { name: String(r.id), exact: true }).click();
    await page.locator('#rollout-state', { hasText: 'halted' }).waitFor();
    assert.match(await page.locator('#rollout-reason').innerText(), /^halted: .*op\d/);
    const failed = await page.locator('#rollout-devices tbody tr', { hasText: 'failed' }).count();
    assert.ok(failed >= 1, `${failed} failed rows`);
    assert.equal(await page.getByRole('button', { name: 'Resume' }).isDisabled(), true, 'a halted rollout is promoted or aborted');
    assert.equal(await page.getByRole('button', { name: 'Promote' }).isDisabled(), false);
    await shot('rollout-halted');
    // While it is active, another rollout of the same slot is refused, and the form says why.
    await page.getByRole('link', { name: 'Artifacts' }).click();
    await page.getByRole('button', { name: `Start rollout of artifact ${candidate}` }).click();
    await page
      .getByRole('form', { name: /Start rollout of artifact/ })
      .getByRole('button', { name: 'Start rollout' })
      .click();
    await page
      .locator('#start-message', { hasText: `Not started: rollout ${r.id} (halted) already changes firmware of profile vop` })
      .waitFor();
  });

  it('a device page shows its maintenance window: closed, the next start, the change it waits for', async () => {
    await page.goto(`${s.http}/ui/devices/gw1`);
    const w = page.locator('#window');
    await w.waitFor();
    const text = await w.innerText();
    assert.match(text, /Now\s+closed/);
    assert.match(text, /Next start\s+.+\(in (\d+ min|[12] h)\)/);
    assert.match(text, /from its group/);
    assert.match(text, /Pending change\s+firmware: a new target, given when the window opens/);
    await shot('device-window');
    assert.deepEqual(problems, [], 'no script error, nothing blocked by the CSP');
  });
});
