import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestServer, tempDir } from './helpers/server.ts';

const PROFILES = new URL('../profiles/', import.meta.url).pathname;

// A profile file removed while devices still use it: those devices are refused like unknown ones on the
// device routes (nothing tells a client they exist), and stay listed so an operator can move them.
describe('a device whose profile file was removed', () => {
  it('is refused with 401 on device routes and still listed by the admin API', async () => {
    const profilesDir = tempDir('aps-profiles-');
    cpSync(PROFILES, profilesDir, { recursive: true });
    cpSync(join(profilesDir, 'vop.yaml'), join(profilesDir, 'vop-lab.yaml'));
    const data = tempDir();
    const first = await startTestServer({ profilesDir }, data);
    first.core.devices.upsert({ id: 'lab1', profile: 'vop-lab', password: 'pw-lab' });
    await first.close();

    rmSync(join(profilesDir, 'vop-lab.yaml'));
    const s = await startTestServer({ profilesDir }, data);
    try {
      for (const p of ['pw-lab', 'wrong']) {
        const r = await fetch(`${s.http}/vop/i?u=lab1&p=${p}`);
        assert.equal(r.status, 401);
        assert.equal(await r.text(), 'Unauthorized\n', 'no profile names in the answer');
      }
      const list = await fetch(`${s.http}/api/v1/devices`, { headers: { authorization: s.auth } });
      assert.equal(list.status, 200);
      const {
        items: [d],
      } = (await list.json()) as { items: { id: string; adapter: string; setup: { hints: string[] } }[] };
      assert.equal(d?.id, 'lab1');
      assert.equal(d?.adapter, '(profile missing)');
      assert.match(d!.setup.hints[0]!, /Profile "vop-lab" does not exist any more/);
    } finally {
      await s.stop();
    }
  });
});
