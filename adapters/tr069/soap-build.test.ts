import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CWMP_NAMESPACES, CwmpBuildError, acsFault, buildCwmp, parseCwmp, replyHeader } from './soap.ts';
import type { CwmpMessage, DownloadArgs } from './soap.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const NS12 = 'urn:dslforum-org:cwmp-1-2' as const;

const DOWNLOAD: DownloadArgs = {
  commandKey: 'fw-123',
  fileType: '1 Firmware Upgrade Image',
  url: 'http://aps.example/tr069/fw/a.bin?x=1&y=2',
  username: 'dev<1>',
  password: 'p&"\'ss',
  fileSize: 1048576,
  targetFileName: 'a.bin',
  delaySeconds: 0,
  successUrl: '',
  failureUrl: '',
};

const MESSAGES: CwmpMessage[] = [
  {
    kind: 'Inform',
    deviceId: { manufacturer: 'ACME & Co', oui: '001122', productClass: 'Phone<X>', serialNumber: '00AB12' },
    events: [
      { eventCode: '7 TRANSFER COMPLETE', commandKey: '' },
      { eventCode: 'M Download', commandKey: 'fw-123' },
      { eventCode: 'X CT-COM BIND', commandKey: '' },
    ],
    maxEnvelopes: 1,
    currentTime: '2024-01-01T00:00:00Z',
    retryCount: 2,
    parameterList: [
      { name: 'Device.DeviceInfo.SoftwareVersion', value: '1.2.3', type: 'xsd:string' },
      { name: 'Device.B', value: '  spaced\n', type: 'xsd:string' },
      { name: 'Device.A', value: '42', type: 'xsd:unsignedInt' },
    ],
  },
  { kind: 'InformResponse', maxEnvelopes: 1 },
  { kind: 'Download', ...DOWNLOAD },
  { kind: 'DownloadResponse', status: 1, startTime: '0001-01-01T00:00:00Z', completeTime: '0001-01-01T00:00:00Z' },
  {
    kind: 'TransferComplete',
    commandKey: 'fw-123',
    fault: { faultCode: 0, faultString: '' },
    startTime: '2024-01-01T00:00:00Z',
    completeTime: '2024-01-01T00:02:00Z',
  },
  { kind: 'TransferCompleteResponse' },
  { kind: 'GetRPCMethods' },
  { kind: 'GetRPCMethodsResponse', methods: ['Inform', 'GetRPCMethods', 'TransferComplete'] },
  acsFault(8003),
];

test('build → parse gives back the same message, header and namespace, for every CWMP version', () => {
  for (const ns of CWMP_NAMESPACES) {
    for (const m of MESSAGES) {
      const xml = buildCwmp(m, { ns, id: 'id-1' });
      const p = parseCwmp(xml);
      assert.equal(p.kind, 'Message');
      if (p.kind !== 'Message') continue;
      assert.equal(p.ns, ns);
      assert.deepEqual(p.header, { id: 'id-1', idMustUnderstand: true });
      assert.deepEqual(p.message, m, `${m.kind} in ${ns}`);
    }
  }
});

test('output is deterministic and echoes cwmp:ID with mustUnderstand="1" in the request namespace', () => {
  for (const ns of CWMP_NAMESPACES) {
    const req = parseCwmp(
      `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="${ns}"><soap:Header>` +
        `<cwmp:ID soap:mustUnderstand="1">cpe &amp; 7</cwmp:ID></soap:Header><soap:Body><cwmp:GetRPCMethods/></soap:Body></soap:Envelope>`,
    );
    assert.equal(req.kind, 'Message');
    if (req.kind !== 'Message') continue;
    const a = buildCwmp({ kind: 'InformResponse', maxEnvelopes: 1 }, replyHeader(req));
    assert.equal(a, buildCwmp({ kind: 'InformResponse', maxEnvelopes: 1 }, replyHeader(req)));
    assert.ok(a.includes(`xmlns:cwmp="${ns}"`));
    assert.ok(a.includes('<cwmp:ID soap-env:mustUnderstand="1">cpe &amp; 7</cwmp:ID>'));
    assert.ok(a.includes('<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>'));
  }
});

test('no ID in the request → no Header; HoldRequests carries mustUnderstand', () => {
  const noId = buildCwmp({ kind: 'TransferCompleteResponse' }, { ns: NS12 });
  assert.ok(!noId.includes('Header'));
  const hold = buildCwmp({ kind: 'TransferCompleteResponse' }, { ns: NS12, id: '1', holdRequests: true });
  assert.ok(hold.includes('<cwmp:HoldRequests soap-env:mustUnderstand="1">1</cwmp:HoldRequests>'));
  assert.equal(parseCwmp(hold).header.holdRequests, true);
});

test('Download children are in schema order and values are escaped', () => {
  const xml = buildCwmp({ kind: 'Download', ...DOWNLOAD }, { ns: NS12, id: '9' });
  const order = [
    'CommandKey',
    'FileType',
    'URL',
    'Username',
    'Password',
    'FileSize',
    'TargetFileName',
    'DelaySeconds',
    'SuccessURL',
    'FailureURL',
  ];
  const body = xml.slice(xml.indexOf('<cwmp:Download>'));
  const found = [...body.matchAll(/<([A-Za-z]+)[ />]/g)].map((m) => m[1]);
  assert.deepEqual(found, order);
  assert.ok(xml.includes('<URL>http://aps.example/tr069/fw/a.bin?x=1&amp;y=2</URL>'));
  assert.ok(xml.includes('<Username>dev&lt;1&gt;</Username>'));
});

test('Download limits: 32-char CommandKey, 256-char URL/credentials, unsignedInt sizes; errors name the field only', () => {
  const bad: [Partial<DownloadArgs>, string, string][] = [
    [{ commandKey: 'k'.repeat(33) }, 'Download.CommandKey', 'too-long'],
    [{ url: `http://x/${'u'.repeat(250)}` }, 'Download.URL', 'too-long'],
    [{ password: 'secret-'.repeat(40) }, 'Download.Password', 'too-long'],
    [{ fileType: 'f'.repeat(65) }, 'Download.FileType', 'too-long'],
    [{ fileSize: -1 }, 'Download.FileSize', 'invalid-value'],
    [{ delaySeconds: 1.5 }, 'Download.DelaySeconds', 'invalid-value'],
    [{ url: '' }, 'Download.URL', 'invalid-value'],
    [{ password: 'secret\u0000' }, 'Download.Password', 'invalid-char'],
  ];
  for (const [patch, field, code] of bad) {
    assert.throws(
      () => buildCwmp({ kind: 'Download', ...DOWNLOAD, ...patch }, { ns: NS12 }),
      (e: unknown) => e instanceof CwmpBuildError && e.field === field && e.reason === code && !e.message.includes('secret'),
    );
  }
  // Exactly at the limits is fine.
  const ok = buildCwmp({ kind: 'Download', ...DOWNLOAD, commandKey: 'k'.repeat(32), username: 'u'.repeat(256) }, { ns: NS12 });
  assert.ok(ok.includes(`<CommandKey>${'k'.repeat(32)}</CommandKey>`));
});

test('ACS fault to the CPE: 8003 is a Client fault, 8000 a Server fault', () => {
  const xml = buildCwmp(acsFault(8003), { ns: NS12, id: '5' });
  assert.ok(xml.includes('<soap-env:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring>'));
  assert.ok(
    xml.includes('<detail><cwmp:Fault><FaultCode>8003</FaultCode><FaultString>Invalid arguments</FaultString></cwmp:Fault></detail>'),
  );
  assert.deepEqual(acsFault(8000, 'Method not supported: Foo'), {
    kind: 'Fault',
    faultcode: 'Server',
    faultstring: 'CWMP fault',
    cwmp: { faultCode: 8000, faultString: 'Method not supported: Foo' },
  });
});

test('real samples survive parse → build → parse unchanged', () => {
  for (const f of ['inform_gfiber_cpe.xml', 'informresponse_google_acs.xml', 'download_firmware_catawampus_test.xml']) {
    const first = parseCwmp(fixture(f));
    assert.equal(first.kind, 'Message');
    if (first.kind !== 'Message') continue;
    const { id, holdRequests } = first.header;
    const rebuilt = buildCwmp(first.message, {
      ns: first.ns,
      ...(id !== undefined ? { id } : {}),
      ...(holdRequests !== undefined ? { holdRequests } : {}),
    });
    assert.deepEqual(parseCwmp(rebuilt), first, f);
  }
});

test('the fixed answers (InformResponse, TransferCompleteResponse) are byte for byte what the builder writes', async () => {
  const { buildEnvelopeForTest } = await import('./soap-build.ts');
  const ids = ['cpe-1', '1', 'a & b <c> d\r\ne', '&amp;', 'ünï', 'aps-id-slot-0', 'x'.repeat(100)];
  for (const ns of CWMP_NAMESPACES)
    for (const id of ids)
      for (const m of [{ kind: 'InformResponse', maxEnvelopes: 1 }, { kind: 'TransferCompleteResponse' }] as CwmpMessage[]) {
        const fast = buildCwmp(m, { ns, id });
        assert.equal(fast, buildEnvelopeForTest(m, { ns, id }), `${m.kind} ${ns} ${JSON.stringify(id)}`);
        const back = parseCwmp(Buffer.from(fast));
        assert.ok(back.kind === 'Message' && back.header.id === id && back.message.kind === m.kind);
      }
  // What the builder refuses is refused the same way.
  assert.throws(() => buildCwmp({ kind: 'InformResponse', maxEnvelopes: 1 }, { ns: NS12, id: 'a\u0001b' }), CwmpBuildError);
});
