import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { candidateIds, cpeId, informReport } from './inform.ts';
import { parseCwmp, type InformMessage } from './soap.ts';
import { checkFile } from './simulator.ts';
import { backoffMs } from './state.ts';

const base: InformMessage = {
  kind: 'Inform',
  deviceId: { manufacturer: 'THOMSON', oui: '001122', productClass: 'TG784', serialNumber: 'CP0915' },
  events: [
    { eventCode: '0 BOOTSTRAP', commandKey: '' },
    { eventCode: 'M Download', commandKey: 'fw-1' },
  ],
  maxEnvelopes: 1,
  currentTime: '',
  retryCount: 0,
  parameterList: [],
};

test('reads the reported values under both data-model roots', () => {
  for (const root of ['InternetGatewayDevice.', 'Device.']) {
    const r = informReport({
      ...base,
      parameterList: [
        { name: `${root}DeviceInfo.SoftwareVersion`, value: ' 8.2.3 ', type: 'xsd:string' },
        { name: `${root}DeviceInfo.HardwareVersion`, value: 'R1', type: 'xsd:string' },
        { name: `${root}DeviceInfo.ProvisioningCode`, value: 'ABC', type: 'xsd:string' },
        { name: `${root}DeviceInfo.VendorConfigFile.1.Version`, value: '1.1.1', type: 'xsd:string' },
        { name: `${root}DeviceInfo.VendorConfigFile.2.Version`, value: '9', type: 'xsd:string' },
        { name: `${root}ManagementServer.ConnectionRequestURL`, value: 'http://10.0.0.1:7547/cr', type: 'xsd:string' },
        { name: 'Other.DeviceInfo.SoftwareVersion', value: 'no', type: 'xsd:string' },
      ],
    });
    assert.deepEqual(r, {
      deviceId: base.deviceId,
      events: ['0 BOOTSTRAP', 'M Download'],
      firmware: '8.2.3',
      hardwareVersion: 'R1',
      provisioningCode: 'ABC',
      configVersion: '1.1.1',
      connectionRequestUrl: 'http://10.0.0.1:7547/cr',
    });
  }
});

test('a real Inform (catawampus fixture) gives its versions and URL', () => {
  const p = parseCwmp(readFileSync(new URL('./fixtures/inform_gfiber_cpe.xml', import.meta.url)));
  assert.ok(p.kind === 'Message' && p.message.kind === 'Inform');
  const r = informReport(p.message);
  assert.equal(r.firmware, 'gfibertv-32-pre0-14-g8ed95de-dg');
  assert.match(r.connectionRequestUrl!, /^http:\/\/\[2605:/);
  assert.deepEqual(r.events, ['0 BOOTSTRAP', 'M TRANSFERCOMPLETE']);
});

test('device ids: OUI-ProductClass-SerialNumber first, then the serial; unusable characters drop a candidate', () => {
  assert.equal(cpeId(base.deviceId), '001122-TG784-CP0915');
  assert.deepEqual(candidateIds(base.deviceId), ['001122-TG784-CP0915', 'CP0915']);
  assert.deepEqual(candidateIds({ ...base.deviceId, productClass: 'TG 784' }), ['CP0915']);
});

test('back-off doubles from the base and stops at the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 10, 100].map((n) => backoffMs(n, 60, 600) / 1000),
    [60, 120, 240, 480, 600, 600],
  );
});

test('the simulated CPE checks size and image MD5 like a real one', () => {
  const dl = {
    commandKey: 'k',
    fileType: '1 Firmware Upgrade Image',
    url: 'http://x/fw.bin',
    username: '',
    password: '',
    fileSize: 0,
    targetFileName: '',
    delaySeconds: 0,
    successUrl: '',
    failureUrl: '',
  };
  const img = Buffer.from('APSFW 2.0 5d41402abc4b2a76b9719d911017c592\nhello');
  assert.deepEqual(checkFile(dl, img), { softwareVersion: '2.0' });
  assert.equal(
    (checkFile(dl, Buffer.from('APSFW 2.0 5d41402abc4b2a76b9719d911017c592\nhellO')) as { fault: { faultCode: number } }).fault.faultCode,
    9018,
  );
  assert.equal((checkFile({ ...dl, fileSize: 3 }, img) as { fault: { faultCode: number } }).fault.faultCode, 9018);
  assert.deepEqual(checkFile({ ...dl, fileType: '3 Vendor Configuration File' }, Buffer.from(':env set var=CONF_VERSION value=1.1.1\n')), {
    configVersion: '1.1.1',
  });
});
