import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { rawRequest, startTestServer, type TestServer } from './helpers/server.ts';

// Issue 13, defect 6: a bad percent-escape in a device route's path was answered with express's own
// message ("Failed to decode param '%zz'"), echoing the input, and left no event. Every adapter's prefix
// now answers it with the device path's fixed refusal and records it.

const FIXED = new Set(['Bad Request\n', 'Unauthorized\n', 'Forbidden\n', 'Not Found\n']);

describe('bad percent-encoding on device routes', () => {
  let s: TestServer;
  const events = (adapter: string): Array<{ status: number; detail: string | null }> => {
    s.core.events.flush();
    return s.core.store.state.events({ adapter, limit: 1000 });
  };
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.stop();
  });

  it('/vop/%zz is a fixed 400 with an event', async () => {
    const r = await rawRequest(s.http, 'GET', '/vop/%zz');
    assert.equal(r.status, 400);
    assert.equal(r.body, 'Bad Request\n');
    const e = events('vop')[0];
    assert.equal(e?.status, 400);
    assert.match(String(e?.detail), /malformed request/);
  });

  it("no adapter's route echoes a bad escape; every 400 is recorded", async () => {
    const paths = [
      '%zz',
      '%zz.ini',
      'a/%zz',
      '%zz/cmp/x.cmp',
      'files/%zz/k/n',
      'files/d/%zz/n',
      'fw/%zz/1/x',
      'cfg/%E0%A4%A/x',
      'backup/%zz/x',
      'up/%zz',
    ];
    for (const a of ADAPTERS) {
      for (const p of paths) {
        for (const method of ['GET', 'PUT', 'POST']) {
          const before = events(a.name).length;
          const r = await rawRequest(s.http, method, `/${a.name}/${p}`);
          const where = `${method} /${a.name}/${p}`;
          assert.ok(r.status < 500, where);
          assert.ok(!/zz|%|decode/i.test(r.body), `${where}: ${r.body}`);
          if (r.status === 400) {
            assert.ok(FIXED.has(r.body), `${where}: ${r.body}`);
            assert.equal(events(a.name).length, before + 1, `${where}: an event`);
          }
        }
      }
    }
  });
});
