import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import type { CpeState, SessionResult } from './simulator.ts';
import { APS_BIN as BIN } from '../../test/helpers/cli.ts';

const run = promisify(execFile);

describe('aps simulate tr069: state kept in a file between runs', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    s.core.devices.upsert({ id: '00147F-TG784-CLI1', profile: 'thomson-tr069', password: 'cli-pw' });
    await s.core.catalog.addBuffer(Buffer.from('APSFW 5.0\nimage'), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '5.0',
      filename: 'fw5.bin',
    });
  });
  after(async () => {
    await s.stop();
  });

  it('downloads firmware and config in one run, completes both in the next, and reports the new SoftwareVersion', async () => {
    const state = join(tempDir('aps-tr069-cli-'), 'cpe.json');
    const args = [
      'simulate',
      'tr069',
      '--acs',
      `${s.http}/tr069`,
      '--serial',
      'CLI1',
      '--username',
      '00147F-TG784-CLI1',
      '--password',
      'cli-pw',
      '--state',
      state,
      '--json',
    ];
    const first = JSON.parse((await run(process.execPath, [BIN, ...args])).stdout) as SessionResult;
    assert.equal(first.error, undefined);
    assert.deepEqual(
      first.downloads.map((d) => [d.fileType, d.status]),
      [
        ['1 Firmware Upgrade Image', 1],
        ['3 Vendor Configuration File', 1],
      ],
    );
    assert.equal(first.rebooted, true);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as CpeState;
    assert.equal(saved.pending.length, 2, 'both TransferCompletes wait for the next session');

    const second = JSON.parse((await run(process.execPath, [BIN, ...args])).stdout) as SessionResult;
    assert.equal(second.error, undefined);
    assert.deepEqual(
      second.transferCompletes.map((t) => t.faultCode),
      [0, 0],
    );
    assert.deepEqual(second.downloads, []);
    assert.equal((JSON.parse(readFileSync(state, 'utf8')) as CpeState).softwareVersion, '5.0');
    s.core.events.flush();
    assert.equal(s.core.devices.state('00147F-TG784-CLI1')?.reported.firmware, '5.0');
  });
});

describe('aps simulate tr069 --auth basic --ignore-download-credentials: like genieacs-sim', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ adapters: { tr069: { fileAuth: 'token', allowBasicOverHttp: true } } });
    s.core.devices.upsert({ id: '00147F-TG784-GCLI', profile: 'thomson-tr069', password: 'g-pw' });
    await s.core.catalog.addBuffer(Buffer.from('APSFW 6.0\nimage'), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '6.0',
      filename: 'fw6.bin',
    });
  });
  after(async () => {
    await s.stop();
  });

  it('completes a firmware cycle over plain HTTP with Basic and token URLs, without a fault', async () => {
    const state = join(tempDir('aps-tr069-cli-'), 'cpe.json');
    const args = ['simulate', 'tr069', '--acs', `${s.http}/tr069`, '--serial', 'GCLI', '--username', '00147F-TG784-GCLI'];
    args.push('--password', 'g-pw', '--auth', 'basic', '--ignore-download-credentials', '--state', state, '--json');
    const first = JSON.parse((await run(process.execPath, [BIN, ...args])).stdout) as SessionResult;
    assert.equal(first.error, undefined);
    assert.equal(first.challenges, 0);
    const second = JSON.parse((await run(process.execPath, [BIN, ...args])).stdout) as SessionResult;
    assert.deepEqual(
      second.transferCompletes.map((t) => t.faultCode),
      [0, 0],
    );
    s.core.events.flush();
    assert.equal(s.core.devices.state('00147F-TG784-GCLI')?.reported.firmware, '6.0');
    assert.equal(s.core.devices.state('00147F-TG784-GCLI')?.reported.lastFault, undefined);
  });

  it('refuses an unknown --auth mode', async () => {
    await assert.rejects(
      run(process.execPath, [BIN, 'simulate', 'tr069', '--acs', `${s.http}/tr069`, '--serial', 'X', '--auth', 'ntlm']),
      (e: { stderr: string }) => /--auth "ntlm" must be digest or basic/.test(e.stderr),
    );
  });
});
