import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';
import { profilesWith } from './helpers/windows.ts';

// Where windows are defined and how `aps` shows them: a profile's `window:`, a group's in an apply file
// (which wins), `aps device show` (text and --json), and errors that name the file and the key.
describe('maintenance windows in profiles, groups and device show', () => {
  const data = tempDir('aps-win-cli-');
  const site = join(data, 'site');
  mkdirSync(site);
  const profiles = profilesWith({ vop: { window: { days: ['sat', 'sun'], from: '22:00', to: '06:00', tz: 'Europe/Berlin' } } });
  const { aps, fails } = apsCli({ ...process.env, APS_DATA: data, APS_PROFILES: profiles, APS_LOG_LEVEL: 'silent' });
  const write = (name: string, yaml: string): string => {
    const p = join(site, name);
    writeFileSync(p, yaml);
    return p;
  };
  type Shown = { window: { source: string; description: string; open: boolean; nextStart: string | null; closesAt: string | null } | null };
  const show = async (id: string): Promise<Shown> => JSON.parse((await aps('device', 'show', id, '--json')).stdout) as Shown;

  it("a device gets its profile's window; device show says open or not and when it next opens", async () => {
    await aps('device', 'add', 'w1', '--profile', 'vop', '--password', 'pw');
    const v = await show('w1');
    assert.equal(v.window?.source, 'profile');
    assert.equal(v.window?.description, 'sat,sun 22:00-06:00 (Europe/Berlin)');
    assert.ok(v.window!.open ? v.window!.closesAt : v.window!.nextStart, 'either when it closes or when it next opens');
    const text = (await aps('device', 'show', 'w1')).stdout;
    assert.match(text, /^window: sat,sun 22:00-06:00 \(Europe\/Berlin\) from its profile: (open until|closed, opens) \d{4}-/m);
  });

  it("a group's window (aps apply) overrides the profile's; removing it from the file removes it", async () => {
    const file = write(
      'site.yaml',
      `groups:
  - name: night
    window: { cron: "0 2 * * 1-5", duration: 3h, tz: UTC, push: true }
devices:
  - { id: w1, profile: vop, group: night }
`,
    );
    await aps('apply', file);
    const v = await show('w1');
    assert.equal(v.window?.source, 'group');
    assert.equal(v.window?.description, 'cron "0 2 * * 1-5" for 3h (UTC)');
    const again = JSON.parse((await aps('apply', file, '--json')).stdout) as { groups: Array<{ result: string }> };
    assert.equal(again.groups[0]!.result, 'unchanged');
    await aps('apply', write('plain.yaml', 'groups:\n  - name: night\n'));
    assert.equal((await show('w1')).window?.source, 'profile');
  });

  it('a bad group window is refused naming the file, the group and the key; nothing is written', async () => {
    const file = write('bad.yaml', 'groups:\n  - name: late\n    window: { from: "25:00", to: "05:00", tz: UTC }\n');
    await fails(['apply', file], /bad\.yaml: groups\[0\] \(late\): window\.from: must be 'hh:mm'/);
  });

  it('a bad profile window stops the CLI naming the profile file and the key', async () => {
    const broken = profilesWith({ vop: { window: { from: '02:00', to: '05:00', tz: 'Europe/Nowhere' } } });
    const cli = apsCli({ ...process.env, APS_DATA: tempDir('aps-win-bad-'), APS_PROFILES: broken, APS_LOG_LEVEL: 'silent' });
    await cli.fails(['device', 'list'], /vop\.yaml: window\.tz: not an IANA time zone/);
  });
});
