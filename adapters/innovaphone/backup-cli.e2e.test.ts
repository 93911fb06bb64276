import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apsCli } from '../../test/helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { runPoll, type SimOptions } from './simulator.ts';

// The operator's side of innovaphone backups: `aps backup list | diff | restore` on the data folder of a
// running server, while a simulated IP6010 uploads its config by scfg and loads the restored one by cfg.
describe('innovaphone backups through aps backup (CLI)', () => {
  let s: TestServer;
  let o: SimOptions;
  const { aps } = apsCli(() => ({ ...process.env, APS_LOG_LEVEL: 'silent', APS_DATA: s.dataDir }));

  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'pbx1', profile: 'innovaphone-ip6010', mac: '00-90-33-60-60-60', vars: { timezone: 'UTC' } });
    o = { url: `${s.http}/innovaphone/up/#m/`, product: 'IP6010', mac: '00-90-33-60-60-60', stateDir: tempDir(), uptimeMinutes: 60 };
    assert.equal((await runPoll(o)).backup?.status, 201);
    s.core.devices.upsert({ id: 'pbx1', vars: { timezone: 'CET-1CEST' } }, 'update');
    assert.equal((await runPoll(o)).backup?.status, 201);
  });
  after(async () => {
    await s.stop();
  });

  it('lists the uploads with their rolling index', async () => {
    const list = JSON.parse((await aps('backup', 'list', 'pbx1', '--json')).stdout) as Array<{ seq: number; slot: number }>;
    assert.deepEqual(
      list.map((b) => [b.seq, b.slot]),
      [
        [2, 1],
        [1, 0],
      ],
    );
  });

  it('diffs the two without the volatile lines the official server ignores', async () => {
    const diff = (await aps('backup', 'diff', 'pbx1', '1', '2')).stdout;
    assert.match(diff, /^-config change TIME0 \/tz UTC /m);
    assert.match(diff, /^\+config change TIME0 \/tz CET-1CEST /m);
    assert.ok(!/^[+-](vars create UPDATE\/|config change UP1 )/m.test(diff), diff);
  });

  it('restores backup 1: the next poll loads it as the config', async () => {
    assert.match((await aps('backup', 'restore', 'pbx1', '1')).stdout, /backup 1 of pbx1 is now its config/);
    const r = await runPoll(o);
    assert.equal(r.ok, true, r.error);
    assert.ok(r.loaded.config, 'a new cfg serial');
    const cfg = await fetch(`${s.http}/innovaphone/cfg/009033606060/config.txt`);
    assert.match(await cfg.text(), /^config change TIME0 \/tz UTC /m);
  });
});
