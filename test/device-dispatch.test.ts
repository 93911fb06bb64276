import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers/server.ts';

// A device request goes straight to its adapter's router (src/transport/app.ts deviceDispatch); whatever
// that fast way does not take, or leaves, must get the same answers the express app gives.
describe('device requests straight to the adapter router', () => {
  let s: TestServer;
  const MAC = '00908f0d0a01';
  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'gw-dispatch', profile: 'audiocodes-mp124', mac: MAC });
  });
  after(() => s.stop());

  const get = async (path: string): Promise<{ status: number; body: string; type: string | null }> => {
    const r = await fetch(`${s.http}${path}`);
    return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
  };

  it('serves the device its file, with the request seen as express would mount it', async () => {
    const r = await get(`/audiocodes/${MAC}.ini`);
    assert.equal(r.status, 200);
    assert.match(r.body, new RegExp(`IniFileURL = '${s.http}/audiocodes/${MAC.toUpperCase()}\\.ini'`));
    s.core.events.flush();
    const ev = s.core.store.state.events({ adapter: 'audiocodes', limit: 10 });
    assert.ok(ev.some((e) => e.deviceId === 'gw-dispatch' && e.status === 200 && e.file === 'ini'));
  });

  it('a prefix in another case takes the app (express mounts are case-insensitive) and gets the same bytes', async () => {
    const [fast, app] = await Promise.all([get(`/audiocodes/${MAC}.ini`), get(`/AudioCodes/${MAC}.ini`)]);
    assert.equal(app.status, 200);
    assert.equal(app.body, fast.body);
    assert.equal(app.type, fast.type);
  });

  it("a path the adapter's router does not route is the app's plain 404", async () => {
    for (const path of ['/audiocodes/a/b/c/d/e/f', '/vop/i/extra', '/nosuchadapter/x']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body, 'Not Found\n', path);
    }
  });

  it("the server's own paths still answer", async () => {
    const r = await get('/healthz');
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { status: string }).status, 'ok');
  });
});
