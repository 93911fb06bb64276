// The server's own abort (its artifact removed with --force) says why, and is no admin's audit row.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { evaluateRollouts, rolloutStatus, startRollout } from '../src/rollouts/rollouts.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

describe('a rollout the server aborts because its artifact was removed', () => {
  const dir = tempDir('aps-abort-removed-');
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ rollouts: { tickSeconds: 3600 } });
    s.core.devices.upsertGroup({ name: 'slow', vars: {}, pins: {}, release: 'manual' });
    for (let i = 1; i <= 4; i++) s.core.devices.upsert({ id: `r${i}`, profile: 'vop', password: `r${i}-pw`, group: 'slow' });
  });
  after(async () => {
    await s.stop();
  });

  it('keeps its reason and records no admin audit row under a made-up actor', async () => {
    writeFileSync(join(dir, 'fw.bin'), 'firmware 5 for review 16');
    const { artifact } = await s.core.catalog.add(
      { path: join(dir, 'fw.bin') },
      { profile: 'vop', kind: 'firmware', version: '5', filename: 'fw.bin' },
    );
    const r = startRollout(s.core, { artifactId: artifact.id, groups: ['slow'], stages: [100] }, 'ops');
    const del = await fetch(`${s.http}/api/v1/artifacts/${artifact.id}?force=1`, { method: 'DELETE', headers: { authorization: s.auth } });
    assert.equal(del.status, 200, await del.text());
    evaluateRollouts(s.core); // what the server's ticker does at its next tick
    const after = rolloutStatus(s.core, r.id);
    assert.equal(after.state, 'aborted');
    assert.match(after.reason ?? '', /was removed/, 'the reason says why the server aborted it');
    const whos = s.core.audit.list({ action: 'rollout.abort', target: String(r.id), limit: 10 }).map((e) => e.who);
    assert.deepEqual(whos, [], "the rollout clock's own changes are not audited (ARCHITECTURE.md invariant 11)");
  });
});
