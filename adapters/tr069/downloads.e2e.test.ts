import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { CwmpHttp } from './simulator-http.ts';
import { initialState, runCpeSession, type CpeOptions } from './simulator.ts';
import { buildCwmp, parseCwmp, type CwmpMessage } from './soap.ts';
import { keys, type AppliedState, type PendingDownload, type RetryState } from './state.ts';

// Downloads that fail without the CPE saying so: they must end as faults with back-off, never as a
// Download sent again every session, and never as a pending state nobody resolves (issue #4).
function image(version: string, size: number): Buffer {
  const payload = Buffer.alloc(size, 9);
  return Buffer.concat([Buffer.from(`APSFW ${version} ${createHash('md5').update(payload).digest('hex')}\n`), payload]);
}

describe('TR-069 downloads that fail silently', () => {
  let s: TestServer;
  const kv = () => s.core.stateOf('tr069');
  const state = (id: string) => {
    s.core.events.flush();
    return s.core.devices.state(id);
  };
  const events = (id: string) => {
    s.core.events.flush();
    return s.core.store.state.events({ deviceId: id, limit: 100 });
  };
  const cpe = (serial: string, extra: Partial<CpeOptions> = {}): CpeOptions => ({
    acs: `${s.http}/tr069`,
    serial,
    password: `${serial}-pw`,
    state: initialState('1.0'),
    ...extra,
  });

  before(async () => {
    // A fast sweep so the test sees it run; retries back off for a minute.
    s = await startTestServer({ adapters: { tr069: { sweepIntervalSeconds: 0.05, retryBaseSeconds: 60 } } });
    for (const id of ['FV1', 'SW1', 'NA1']) s.core.devices.upsert({ id, profile: 'thomson-tr069', password: `${id}-pw` });
  });
  after(async () => {
    await s.stop();
  });

  it('a firmware "installed" with Status 0 that the next Inform does not show is a fault, not a Download every session', async () => {
    // The image makes the CPE report 4.0.1 while the artifact says 4.0: an exact-string mismatch.
    await s.core.catalog.addBuffer(image('4.0.1', 500), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '4.0',
      filename: 'fw-4.0.bin',
    });
    const o = cpe('FV1', { status0: true });
    const r1 = await runCpeSession(o);
    assert.equal(r1.error, undefined);
    const fw1 = r1.downloads.filter((d) => d.fileType.startsWith('1 '));
    assert.equal(fw1.length, 1);
    assert.equal(fw1[0]!.status, 0);
    assert.equal(o.state!.softwareVersion, '4.0.1');
    assert.equal(kv().get<AppliedState>(keys.applied('FV1'))?.firmware?.verified, false, 'to be checked at the next Inform');

    const r2 = await runCpeSession(o);
    assert.equal(r2.error, undefined);
    assert.deepEqual(
      r2.downloads.filter((d) => d.fileType.startsWith('1 ')),
      [],
      'no second firmware Download right away',
    );
    const lastFault = state('FV1')!.reported.lastFault as { kind: string; faultCode: number; faultString: string };
    assert.equal(lastFault.kind, 'firmware');
    assert.equal(lastFault.faultCode, 9010);
    assert.match(lastFault.faultString, /runs 4\.0\.1, not 4\.0/);
    assert.equal(kv().get<RetryState>(keys.retry('FV1', 'firmware'))?.failures, 1);
    assert.deepEqual((await runCpeSession(o)).downloads, [], 'still backing off');
  });

  it('an accepted download whose CPE never comes back becomes a fault at its deadline, without a session', async () => {
    s.core.devices.upsert({ id: 'SW1', vars: { conf_version: '7' } });
    const o = cpe('SW1', { state: initialState('4.0'), complete: { config: 'next' } });
    const r1 = await runCpeSession(o);
    const cfg = r1.downloads.find((d) => d.fileType.startsWith('3 '))!;
    const key = keys.download('SW1', cfg.commandKey);
    const d = kv().get<PendingDownload>(key)!;
    assert.equal(d.state, 'accepted');
    const seen = state('SW1')!.lastSeen;
    kv().set(key, { ...d, deadline: Date.now() - 1 });
    for (let i = 0; i < 100 && kv().get(key) !== undefined; i++) await sleep(20);
    assert.equal(kv().get(key), undefined, 'the sweep resolved it');
    const retry = kv().get<RetryState>(keys.retry('SW1', 'config'))!;
    assert.equal(retry.lastFault.faultCode, 9010);
    assert.match(retry.lastFault.faultString, /no TransferComplete within/);
    assert.ok(
      events('SW1').some((e) => e.fault?.code === '9010' && e.status < 500 && e.detail?.includes(`fault 9010 for ${cfg.commandKey}`)),
      'in the event log at once',
    );
    assert.equal(state('SW1')!.lastSeen, seen, 'the CPE was not seen: its last-seen time stays');
    assert.equal((state('SW1')!.reported.lastFault as { faultCode: number }).faultCode, 9010, 'on the device at once');

    // When it does come back, the fault is on the device, and its late TransferComplete is only logged.
    const r2 = await runCpeSession(o);
    assert.equal(r2.error, undefined);
    assert.equal((state('SW1')!.reported.lastFault as { commandKey: string }).commandKey, cfg.commandKey);
    assert.deepEqual(
      r2.downloads.filter((x) => x.fileType.startsWith('3 ')),
      [],
      'config backing off',
    );
  });

  it('a Download the CPE never answers counts as a failure: the next session backs off instead of resending it', async () => {
    const http = new CwmpHttp(`${s.http}/tr069`, 'NA1', 'NA1-pw', {});
    const inform: CwmpMessage = {
      kind: 'Inform',
      deviceId: { manufacturer: 'THOMSON', oui: '00147F', productClass: 'TG784', serialNumber: 'NA1' },
      events: [{ eventCode: '2 PERIODIC', commandKey: '' }],
      maxEnvelopes: 1,
      currentTime: '2024-01-01T00:00:00Z',
      retryCount: 0,
      parameterList: [{ name: 'InternetGatewayDevice.DeviceInfo.SoftwareVersion', value: '1.0', type: 'xsd:string' }],
    };
    // Each session takes the next Download and drops the session without answering it.
    const session = async (): Promise<string[]> => {
      assert.equal((await http.post(buildCwmp(inform, { ns: 'urn:dslforum-org:cwmp-1-0' }))).status, 200);
      const r = await http.post('');
      if (r.status !== 200) return [];
      const p = parseCwmp(r.body);
      assert.ok(p.kind === 'Message' && p.message.kind === 'Download');
      return [p.message.fileType];
    };
    assert.deepEqual(await session(), ['1 Firmware Upgrade Image']);
    assert.deepEqual(await session(), ['3 Vendor Configuration File'], 'the firmware backs off');
    assert.equal(kv().get<RetryState>(keys.retry('NA1', 'firmware'))?.failures, 1);
    assert.match(
      (state('NA1')!.reported.lastFault as { faultString: string }).faultString,
      /session ended before the Download was answered/,
    );
    assert.deepEqual(await session(), [], 'both back off');
    assert.equal(kv().get<RetryState>(keys.retry('NA1', 'config'))?.failures, 1);
  });
});
