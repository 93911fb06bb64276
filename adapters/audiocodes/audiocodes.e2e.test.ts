import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { audiocodesAdapter } from './index.ts';
import { startSipListener, type SipListener } from '../../src/adapter-api.ts';
import { AudioCodesSimulator, type CheckResult } from './simulator.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import type { Scheme } from './settings.ts';

// The "Done when", driven by the simulator (seed 001 §32) over each transport: first boot fetches
// ini, cmp and CPT; an unchanged cycle gets 304s and downloads nothing; a changed variable gives a new ini
// only; a new cmp is fetched and installed once; a new CPT gets a new URL; a NOTIFY triggers a check.
const PROFILE = 'audiocodes-mp124';

interface Case {
  scheme: Scheme;
  mac: string;
  id: string;
  password?: string;
}

const CASES: Case[] = [
  { scheme: 'http', mac: '00908F1DD0D3', id: 'gw-http' },
  // Digest: the simulator starts with AUPDDigestUsername/-Password, then takes them from the ini.
  { scheme: 'https', mac: '00908F1DD0D4', id: 'gw-https', password: 'https-secret' },
  { scheme: 'ftp', mac: '00908F1DD0D5', id: 'gw-ftp', password: 'ftp-secret' },
];

describe('AudioCodes end to end over HTTP, HTTPS and FTP', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ adapters: { audiocodes: { sipTimers: { t1Ms: 20, t2Ms: 80, timerFMs: 600 } } } });
  });
  after(async () => {
    await s.stop();
  });

  for (const c of CASES) {
    describe(`over ${c.scheme}`, () => {
      let sim: AudioCodesSimulator;
      let sip: SipListener;
      let notified: Promise<CheckResult> | null = null;
      const artifact = (kind: 'firmware' | 'aux', version: string, bytes: Buffer, filename: string) =>
        s.core.catalog.addBuffer(bytes, {
          kind,
          role: kind === 'aux' ? 'cpt' : undefined,
          profile: PROFILE,
          deviceId: c.id,
          version,
          filename,
        });

      before(async () => {
        s.core.devices.upsert({
          id: c.id,
          profile: PROFILE,
          mac: c.mac,
          model: 'MP-124',
          password: c.password ?? null,
          vars: { update_scheme: c.scheme, update_frequency_minutes: '5' },
        });
        await artifact('firmware', '6.60A.360.002', Buffer.alloc(20_000, 1), 'MP124_SIP.cmp');
        await artifact('aux', '1', Buffer.from('CPT uk v1'), 'uk.dat');
        const login = c.password ? `${c.id}:${c.password}@` : '';
        const base =
          c.scheme === 'http'
            ? `${s.http}/audiocodes/`
            : c.scheme === 'https'
              ? `${s.https}/audiocodes/`
              : `ftp://${login}127.0.0.1:${s.ftpPort}/`;
        sim = new AudioCodesSimulator({
          iniUrl: `${base}<MAC>.ini`,
          mac: c.mac.toLowerCase(),
          firmware: '6.60A.349.001',
          insecure: true,
          digest: c.password && c.scheme !== 'ftp' ? { username: c.id, password: c.password } : undefined,
        });
        sip = await startSipListener({ onCheckSync: () => void (notified = sim.check()) });
      });
      after(async () => {
        await sip.close();
      });

      it('first boot fetches ini, cmp and CPT, installs the newer cmp and resets once', async () => {
        const r = await sim.check();
        assert.deepEqual(r.errors, []);
        assert.equal(r.ini, 'applied');
        assert.equal(r.cmp, 'installed');
        assert.deepEqual(r.aux, ['cpt']);
        assert.equal(r.downloads.length, 3);
        assert.ok(r.reset);
        assert.equal(sim.firmware, '6.60A.360.002');
        assert.ok(
          r.downloads.every((u) => u.startsWith(`${c.scheme}://`)),
          'every URL in the ini uses the configured transport',
        );
      });

      it('an unchanged second cycle gets 304s and downloads nothing', async () => {
        const r = await sim.check();
        assert.deepEqual(r.errors, []);
        assert.equal(r.ini, 'not-modified');
        assert.equal(r.cmp, 'not-modified');
        assert.deepEqual(r.downloads, []);
        assert.equal(r.reset, false);
      });

      it('a changed device variable gives a new ini only', async () => {
        s.core.devices.upsert({ id: c.id, vars: { first_number: '555' } });
        const r = await sim.check();
        assert.deepEqual(r.errors, []);
        assert.equal(r.ini, 'applied');
        assert.equal(r.cmp, 'not-modified');
        assert.equal(r.downloads.length, 1);
        assert.match(r.downloads[0]!, /\.ini$/);
        assert.equal((await sim.check()).downloads.length, 0);
      });

      it('a new cmp is fetched and installed once', async () => {
        await artifact('firmware', '6.60A.361.001', Buffer.alloc(20_000, 2), 'MP124_SIP.cmp');
        const r = await sim.check();
        assert.deepEqual(r.errors, []);
        assert.equal(r.cmp, 'installed');
        assert.equal(sim.firmware, '6.60A.361.001');
        assert.ok(r.downloads.some((u) => u.includes('6.60A.361.001')));
        const again = await sim.check();
        assert.deepEqual(again.downloads, []);
        assert.equal(again.reset, false);
        s.core.events.flush();
        if (c.scheme !== 'ftp')
          assert.equal(s.core.devices.state(c.id)?.reported.firmware, '6.60A.361.001', 'the User-Agent version is recorded');
      });

      it('a new CPT gets a new URL, fetched once', async () => {
        const before = sim.auxFetched.get('cpt');
        await artifact('aux', '2', Buffer.from('CPT uk v2'), 'uk.dat');
        const r = await sim.check();
        assert.deepEqual(r.aux, ['cpt']);
        assert.notEqual(sim.auxFetched.get('cpt'), before);
        assert.deepEqual((await sim.check()).downloads, []);
      });

      it('aps notify sends check-sync to the SIP address, and the gateway runs a check', async () => {
        s.core.devices.upsert({ id: c.id, vars: { sip_host: '127.0.0.1', sip_port: String(sip.port) } });
        const device = s.core.devices.get(c.id)!;
        const checks = sim.checks;
        const res = await audiocodesAdapter.notify!(device, s.core.servicesFor('audiocodes'), s.core.adapterConfig('audiocodes'));
        assert.deepEqual(res, { ok: true, summary: '200 OK' });
        assert.ok(notified, 'the NOTIFY started a check');
        const r = await notified!;
        assert.equal(sim.checks, checks + 1);
        assert.deepEqual(r.errors, []);
        assert.deepEqual(r.downloads, [], 'SIP variables are not in the ini: nothing changed');
      });
    });
  }
});
