import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { tempDir } from './helpers/server.ts';
import { APS_BIN as BIN } from './helpers/cli.ts';
import { spawnServe } from './helpers/spawn-server.ts';

const run = promisify(execFile);

/** `aps serve` as an operator runs it: a child process, stopped with SIGTERM. */
const serve = spawnServe;

describe('aps serve: flags and APS_* environment', () => {
  const data = tempDir('aps-serve-');
  after(() => rmSync(data, { recursive: true, force: true }));

  it('takes the data folder, ports, public URL and admin token as flags', async () => {
    const s = await serve(
      [
        '--data',
        data,
        '--host',
        '127.0.0.1',
        '--http-port',
        '0',
        '--https-port',
        '0',
        '--ftp-port',
        '0',
        '--public-url',
        'http://prov.test:8080',
        '--admin-token',
        'flag-token-0123456789',
      ],
      { APS_DATA: '', APS_ADMIN_TOKEN: '' },
    );
    try {
      assert.equal(s.listening.data, data);
      assert.equal(s.listening.publicUrl, 'http://prov.test:8080');
      assert.ok(s.listening.http > 0 && s.listening.https! > 0);
      const api = await fetch(`http://127.0.0.1:${s.listening.http}/api/v1/devices`, {
        headers: { authorization: 'Bearer flag-token-0123456789' },
      });
      assert.equal(api.status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${s.listening.http}/healthz`)).status, 200);
      assert.ok(!s.stdout.includes('flag-token'), 'a configured token is never printed');
      assert.ok(!existsSync(join(data, 'admin.token')));
      // A CLI command beside the server, given no public URL, shows the URL that server announces.
      await run(process.execPath, [BIN, 'device', 'add', 'beside', '--profile', 'vop'], {
        env: { ...process.env, APS_DATA: data, APS_PUBLIC_URL: '' },
      });
      const shown = await run(process.execPath, [BIN, 'device', 'show', 'beside', '--json'], {
        env: { ...process.env, APS_DATA: data, APS_PUBLIC_URL: '' },
      });
      assert.equal((JSON.parse(shown.stdout) as { setup: { url: string } }).setup.url, 'http://prov.test:8080/vop/$t?u=$u&p=$p&v=$v');
    } finally {
      assert.equal(await s.stop(), 0, 'SIGTERM shuts down cleanly');
    }
    // Once that server is gone, its URLs are not the truth any more: the CLI's own settings are.
    const after = await run(process.execPath, [BIN, 'device', 'show', 'beside', '--json'], {
      env: { ...process.env, APS_DATA: data, APS_PUBLIC_URL: '', APS_HTTP_PORT: '9999' },
    });
    assert.match((JSON.parse(after.stdout) as { setup: { url: string } }).setup.url, /^http:\/\/[^/]+:9999\/vop\//);
  });

  it('takes the same from APS_* and generates, saves and prints a token once when none is set', async () => {
    const env = {
      APS_DATA: data,
      APS_HTTP_PORT: '0',
      APS_HTTPS_PORT: '0',
      APS_FTP_PORT: '0',
      APS_PUBLIC_URL: 'http://env.test:9',
      APS_ADMIN_TOKEN: '',
    };
    const first = await serve(['--host', '127.0.0.1'], env);
    await first.stop();
    assert.equal(first.listening.publicUrl, 'http://env.test:9');
    const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    assert.ok(first.stdout.includes(`APS admin token (saved in ${join(data, 'admin.token')}): ${token}`));
    const second = await serve(['--host', '127.0.0.1'], env);
    try {
      assert.ok(!second.stdout.includes(token), 'printed only on the start that generated it');
      const api = await fetch(`http://127.0.0.1:${second.listening.http}/api/v1/fleet`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(api.status, 200);
    } finally {
      await second.stop();
    }
    // An emptied token file does not lock the API: a new token is generated and printed.
    writeFileSync(join(data, 'admin.token'), '\n');
    const third = await serve(['--host', '127.0.0.1'], env);
    await third.stop();
    const renewed = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    assert.ok(renewed.length >= 16 && renewed !== token);
    assert.ok(third.stdout.includes(renewed));
  });
});
