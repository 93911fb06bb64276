import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADAPTERS } from '../adapters/index.ts';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { capturingLogger } from './helpers/log-capture.ts';
import { tempDir } from './helpers/server.ts';

describe('secrets never reach the log', () => {
  const { log, raw: lines } = capturingLogger('debug');
  let server: RunningServer;
  let base: string;

  before(async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: tempDir(),
        adminToken: 'admin-token-abcdefghijkl',
        http: { host: '127.0.0.1', port: 0 },
        https: { enabled: false },
        ftp: { enabled: false },
      },
    });
    server = await startServer(config, ADAPTERS, log);
    base = `http://127.0.0.1:${server.httpPort}`;
    server.core.devices.upsert({ id: 'logop', profile: 'vop', password: 'device-pass-123', vars: { sip_password: 'sip-secret-456' } });
  });
  after(async () => {
    await server.close();
  });

  it('keeps device passwords, SIP secrets and Authorization headers out of every line', async () => {
    await fetch(`${base}/vop/i?u=logop&p=wrong-pass-789`);
    await fetch(`${base}/vop/c?u=logop&p=device-pass-123`);
    await fetch(`${base}/vop/i`, { headers: { authorization: `Basic ${Buffer.from('logop:basic-pass-000').toString('base64')}` } });
    await fetch(`${base}/api/v1/devices`, { headers: { authorization: 'Bearer admin-token-abcdefghijkl' } });
    await fetch(`${base}/api/v1/devices`, { headers: { authorization: 'Bearer guessed-token-xyz' } });
    server.core.log.info({ device: { password: 'device-pass-123' }, authorization: 'Bearer admin-token-abcdefghijkl' }, 'explicit attempt');
    const all = lines.join('');
    assert.ok(all.includes('device request refused'), 'refusals are logged');
    assert.ok(all.includes('[redacted]'), 'redaction is active');
    for (const secret of [
      'device-pass-123',
      'wrong-pass-789',
      'sip-secret-456',
      'basic-pass-000',
      'admin-token-abcdefghijkl',
      'guessed-token-xyz',
    ]) {
      assert.ok(!all.includes(secret), `"${secret}" appeared in the log`);
    }
  });
});
