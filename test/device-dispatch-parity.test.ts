import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawRequest, startTestServer, type RawAnswer, type TestServer } from './helpers/server.ts';

// Review 15a: the fast device dispatch (src/transport/app.ts deviceDispatch) must answer every request as the
// express app does. A prefix in another case (`/AudioCodes/…`) is not taken by the fast way (the Map lookup is
// exact) but by the app (express mounts are case-insensitive): the same request both ways is a differential test.
describe('device dispatch answers as the express app does', () => {
  let s: TestServer;
  const MAC = '00908f0d0a77';
  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: 'gw-dispatch', profile: 'audiocodes-mp124', mac: MAC });
  });
  after(() => s.stop());

  const raw = (method: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> =>
    rawRequest(s.http, method, path, headers);

  const cases: Array<[string, string, Record<string, string>?]> = [
    ['GET', `/audiocodes/${MAC}.ini`],
    ['HEAD', `/audiocodes/${MAC}.ini`],
    ['GET', `/audiocodes/${MAC}.ini?x=1&y=/z`],
    ['GET', '/audiocodes/%zz'],
    ['GET', '/audiocodes/../api/v1/devices'],
    ['GET', '/audiocodes/..%2fapi%2fv1%2fdevices'],
    ['GET', '/audiocodes/'],
    ['GET', '/audiocodes//x'],
    ['GET', '/vop/'],
    ['GET', '/vop/i?mac=x'],
    ['OPTIONS', `/audiocodes/${MAC}.ini`],
    ['POST', `/audiocodes/${MAC}.ini`],
    ['DELETE', '/vop/x'],
  ];
  for (const [method, path, headers] of cases) {
    it(`${method} ${path}`, async () => {
      const fast = await raw(method, path, headers);
      const app = await raw(
        method,
        path.replace(/^\/([a-z]+)/, (_m, n: string) => `/${n[0]!.toUpperCase()}${n.slice(1)}`),
        headers,
      );
      assert.equal(fast.status, app.status, 'status');
      assert.equal(fast.body.toLowerCase(), app.body.toLowerCase(), 'body');
      assert.equal(fast.h['content-type'], app.h['content-type'], 'content-type');
      assert.equal(fast.h['allow'], app.h['allow'], 'allow');
    });
  }

  it('the admin API and the console still answer (not an adapter router in front of them)', async () => {
    const r = await raw('GET', '/api/v1/devices', { authorization: s.auth });
    assert.equal(r.status, 200);
    const n = await raw('GET', '/api/v1/devices');
    assert.equal(n.status, 401);
    assert.match(String(n.h['content-type']), /json/);
  });
});
