import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CwmpParseError, parseCwmp } from './soap.ts';
import type { CwmpMessage, ParsedCwmp } from './soap.ts';
import { parseXmlTree } from './xml-tree.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

function message(p: ParsedCwmp): CwmpMessage {
  assert.equal(p.kind, 'Message');
  if (p.kind !== 'Message') throw new Error('unreachable');
  return p.message;
}

function parseError(body: string | Buffer, opts = {}): CwmpParseError {
  try {
    parseCwmp(body, opts);
  } catch (e) {
    assert.ok(e instanceof CwmpParseError, `expected CwmpParseError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a CwmpParseError');
}

const env = (ns: string, body: string, header = '<s:Header><c:ID s:mustUnderstand="1">7</c:ID></s:Header>'): string =>
  `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="${ns}">${header}<s:Body>${body}</s:Body></s:Envelope>`;
const NS12 = 'urn:dslforum-org:cwmp-1-2';

test('real catawampus Inform: device id, events in order, parameters in order, header', () => {
  const p = parseCwmp(fixture('inform_gfiber_cpe.xml'));
  assert.equal(p.kind, 'Message');
  assert.equal(p.ns, NS12);
  assert.deepEqual(p.header, { id: 'catawampus.1370208445.785391', idMustUnderstand: true });
  const m = message(p);
  assert.equal(m.kind, 'Inform');
  if (m.kind !== 'Inform') return;
  assert.deepEqual(m.deviceId, {
    manufacturer: 'Google Fiber',
    oui: 'F88FCA',
    productClass: 'GFHD100',
    serialNumber: 'G00223301811',
  });
  // The non-standard "M TRANSFERCOMPLETE" is accepted as-is.
  assert.deepEqual(m.events, [
    { eventCode: '0 BOOTSTRAP', commandKey: '' },
    { eventCode: 'M TRANSFERCOMPLETE', commandKey: '' },
  ]);
  assert.equal(m.maxEnvelopes, 1);
  assert.equal(m.retryCount, 0);
  assert.equal(m.currentTime, '2013-06-02T21:27:26.080821Z');
  assert.deepEqual(
    m.parameterList.map((x) => x.name),
    [
      'InternetGatewayDevice.ManagementServer.ConnectionRequestURL',
      'InternetGatewayDevice.ManagementServer.ParameterKey',
      'InternetGatewayDevice.DeviceInfo.HardwareVersion',
      'InternetGatewayDevice.DeviceInfo.SoftwareVersion',
      'InternetGatewayDevice.DeviceInfo.SpecVersion',
    ],
  );
  assert.deepEqual(m.parameterList[3], {
    name: 'InternetGatewayDevice.DeviceInfo.SoftwareVersion',
    value: 'gfibertv-32-pre0-14-g8ed95de-dg',
    type: 'xsd:string',
  });
  assert.equal(m.parameterList[1]?.value, '');
});

test('real Google ACS InformResponse with HoldRequests header', () => {
  const p = parseCwmp(fixture('informresponse_google_acs.xml'));
  assert.deepEqual(p.header, { id: 'catawampus.1370208445.785391', idMustUnderstand: true, holdRequests: true });
  assert.deepEqual(message(p), { kind: 'InformResponse', maxEnvelopes: 1 });
});

test('catawampus Download fixture', () => {
  const p = parseCwmp(fixture('download_firmware_catawampus_test.xml'));
  assert.equal(p.header.holdRequests, false);
  assert.deepEqual(message(p), {
    kind: 'Download',
    commandKey: 'CommandKey',
    fileType: '1 Firmware Upgrade Image',
    url: 'http://example.com/image',
    username: 'Username',
    password: 'Password',
    fileSize: 123456,
    targetFileName: 'TargetFileName',
    delaySeconds: 321,
    successUrl: '',
    failureUrl: '',
  });
});

test('OUI keeps its leading zeros; whitespace-only and entity values survive', () => {
  const body = env(
    NS12,
    `<c:Inform><DeviceId><Manufacturer>A&amp;B</Manufacturer><OUI>001122</OUI><ProductClass>P</ProductClass>
     <SerialNumber> 0042 </SerialNumber></DeviceId><ParameterList><ParameterValueStruct><Name>X.Y</Name>
     <Value xsi:type="xsd:int" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"> </Value></ParameterValueStruct>
     <ParameterValueStruct><Name>X.Z</Name><Value><![CDATA[<a>]]>&lt;b&gt;</Value></ParameterValueStruct></ParameterList></c:Inform>`,
  );
  const m = message(parseCwmp(body));
  assert.equal(m.kind, 'Inform');
  if (m.kind !== 'Inform') return;
  assert.equal(m.deviceId.oui, '001122');
  assert.equal(m.deviceId.serialNumber, '0042');
  assert.equal(m.deviceId.manufacturer, 'A&B');
  assert.deepEqual(m.parameterList, [
    { name: 'X.Y', value: ' ', type: 'xsd:int' },
    { name: 'X.Z', value: '<a><b>', type: 'xsd:string' },
  ]);
  assert.deepEqual(m.events, []);
  assert.equal(m.maxEnvelopes, 1);
});

test("a CPE's stray control character becomes U+FFFD instead of failing the message; line ends read as XML 1.0 says", () => {
  const values = (decl: string, v: string): string[] => {
    const m = message(
      parseCwmp(
        decl +
          env(
            NS12,
            `<c:Inform><DeviceId><Manufacturer>A</Manufacturer><OUI>001122</OUI><ProductClass>P</ProductClass><SerialNumber>S</SerialNumber></DeviceId>` +
              `<ParameterList><ParameterValueStruct><Name>X.Y</Name><Value>${v}</Value></ParameterValueStruct></ParameterList></c:Inform>`,
          ),
      ),
    );
    return m.kind === 'Inform' ? m.parameterList.map((p) => p.value) : [];
  };
  assert.deepEqual(values('', 'a\u0001b\u0000c\uFFFFd\uD800e'), ['a\uFFFDb\uFFFDc\uFFFDd\uFFFDe']);
  assert.deepEqual(values('', '\uD83D\uDE00\t\u0085'), ['\uD83D\uDE00\t\u0085'], 'a surrogate pair, a tab and a C1 control stay');
  // Declared 1.1 or not, the envelope is read as 1.0 (1.1 would refuse a literal C1 control).
  assert.deepEqual(values('<?xml version="1.1"?>', 'v\u0090'), ['v\u0090']);
  // XML 1.0 §2.11: CR LF and a lone CR are read as LF.
  assert.deepEqual(values('', 'a\r\nb\rc'), ['a\nb\nc']);
});

test('namespace detected for every CWMP version, whatever the prefixes', () => {
  for (const v of ['1-0', '1-1', '1-2', '1-3', '1-4']) {
    const ns = `urn:dslforum-org:cwmp-${v}`;
    const body =
      `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x${v[2]}="${ns}">` +
      `<SOAP-ENV:Header><x${v[2]}:ID SOAP-ENV:mustUnderstand="0">abc</x${v[2]}:ID><x${v[2]}:NoMoreRequests>1</x${v[2]}:NoMoreRequests>` +
      `<x${v[2]}:sessionTimeout>30</x${v[2]}:sessionTimeout></SOAP-ENV:Header>` +
      `<SOAP-ENV:Body><x${v[2]}:GetRPCMethods/></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
    const p = parseCwmp(body);
    assert.equal(p.ns, ns);
    assert.deepEqual(p.header, { id: 'abc', idMustUnderstand: false, noMoreRequests: true, sessionTimeout: 30 });
    assert.deepEqual(message(p), { kind: 'GetRPCMethods' });
  }
});

test('unqualified RPC element falls back to the declared cwmp namespace; default namespace works', () => {
  const a = `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><GetRPCMethods xmlns="urn:dslforum-org:cwmp-1-1"/></Body></Envelope>`;
  assert.equal(parseCwmp(a).ns, 'urn:dslforum-org:cwmp-1-1');
  const b = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><s:Body><GetRPCMethods/></s:Body></s:Envelope>`;
  assert.equal(parseCwmp(b).ns, 'urn:dslforum-org:cwmp-1-0');
});

test('DownloadResponse and TransferComplete (fault as a value)', () => {
  const dr = message(
    parseCwmp(
      env(
        NS12,
        '<c:DownloadResponse><Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime></c:DownloadResponse>',
      ),
    ),
  );
  assert.deepEqual(dr, { kind: 'DownloadResponse', status: 1, startTime: '0001-01-01T00:00:00Z', completeTime: '0001-01-01T00:00:00Z' });
  const tc = message(
    parseCwmp(
      env(
        NS12,
        '<c:TransferComplete><CommandKey>fw-123</CommandKey><FaultStruct><FaultCode>9010</FaultCode><FaultString>Download failed</FaultString></FaultStruct><StartTime>2024-01-01T00:00:00Z</StartTime><CompleteTime>2024-01-01T00:01:00Z</CompleteTime></c:TransferComplete>',
      ),
    ),
  );
  assert.deepEqual(tc, {
    kind: 'TransferComplete',
    commandKey: 'fw-123',
    fault: { faultCode: 9010, faultString: 'Download failed' },
    startTime: '2024-01-01T00:00:00Z',
    completeTime: '2024-01-01T00:01:00Z',
  });
});

test('SOAP Fault carrying a CWMP Fault, with SetParameterValuesFault entries', () => {
  const body = env(
    NS12,
    `<s:Fault><faultcode>s:Client</faultcode><faultstring>CWMP fault</faultstring><detail><c:Fault><FaultCode>9003</FaultCode>
     <FaultString>Invalid arguments</FaultString><SetParameterValuesFault><ParameterName>A.B</ParameterName><FaultCode>9007</FaultCode>
     <FaultString>bad</FaultString></SetParameterValuesFault></c:Fault></detail></s:Fault>`,
  );
  assert.deepEqual(message(parseCwmp(body)), {
    kind: 'Fault',
    faultcode: 'Client',
    faultstring: 'CWMP fault',
    cwmp: {
      faultCode: 9003,
      faultString: 'Invalid arguments',
      setParameterValuesFaults: [{ parameterName: 'A.B', faultCode: 9007, faultString: 'bad' }],
    },
  });
});

test('empty POST and empty Body are kind Empty', () => {
  assert.deepEqual(parseCwmp(''), { kind: 'Empty', ns: null, header: {} });
  assert.deepEqual(parseCwmp(Buffer.from('  \r\n')), { kind: 'Empty', ns: null, header: {} });
  assert.equal(parseCwmp(env(NS12, '')).kind, 'Empty');
});

test('typed errors: malformed, not SOAP, DTD, unknown method/namespace, too large, too deep, bad values', () => {
  assert.equal(parseError('<a><b></a>').reason, 'malformed-xml');
  assert.equal(parseError('not xml at all').reason, 'malformed-xml');
  assert.equal(parseError('<x:Envelope xmlns:x="urn:other"><x:Body/></x:Envelope>').reason, 'not-soap');
  assert.equal(parseError('<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"/>').reason, 'not-soap');
  assert.equal(parseError('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>').reason, 'forbidden-dtd');
  assert.equal(parseError(`<?xml version="1.0"?><!-- c --><!doctype x>${env(NS12, '<c:GetRPCMethods/>')}`).reason, 'forbidden-dtd');
  const unknown = parseError(env(NS12, '<c:RequestDownload/>'));
  assert.equal(unknown.reason, 'unknown-method');
  assert.equal(unknown.method, 'RequestDownload');
  assert.equal(unknown.ns, NS12);
  assert.equal(unknown.id, '7');
  assert.equal(parseError(env('urn:dslforum-org:cwmp-1-9', '<c:Inform/>')).reason, 'unknown-namespace');
  assert.equal(parseError(env('urn:example:other', '<c:Inform/>', '')).reason, 'unknown-namespace');
  assert.equal(parseError(env(NS12, '<c:GetRPCMethods/><c:GetRPCMethods/>')).reason, 'invalid-message');
  assert.equal(parseError(env(NS12, '<c:Inform/>')).reason, 'invalid-message'); // no DeviceId
  assert.equal(parseError(env(NS12, '<c:DownloadResponse><Status>2</Status></c:DownloadResponse>')).reason, 'invalid-message');
  assert.equal(parseError(env(NS12, '<c:InformResponse><MaxEnvelopes>x</MaxEnvelopes></c:InformResponse>')).reason, 'invalid-message');
  const big = env(NS12, `<c:GetRPCMethods>${'x'.repeat(2000)}</c:GetRPCMethods>`);
  assert.equal(parseError(big, { maxBytes: 1000 }).reason, 'too-large');
  const deep = env(NS12, `<c:GetRPCMethods>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</c:GetRPCMethods>`);
  assert.equal(parseError(deep).reason, 'too-deep');
});

test('namespaces are resolved like Namespaces in XML: scopes, default namespace, xmlns="", prefixed attributes', () => {
  const t = parseXmlTree(
    '<a xmlns="urn:a" xmlns:p="urn:p"><b xmlns="" p:x="1" y="2" xml:lang="en"><c/></b><p:d xmlns:p="urn:q"/><e/><p:f/></a>',
  );
  assert.equal(t.uri, 'urn:a');
  const [b, d, e, f] = t.children;
  assert.deepEqual([b!.uri, b!.children[0]!.uri, d!.uri, e!.uri, f!.uri], ['', '', 'urn:q', 'urn:a', 'urn:p']);
  assert.deepEqual(b!.attrs, [
    { uri: 'http://www.w3.org/2000/xmlns/', local: '', value: '' },
    { uri: 'urn:p', local: 'x', value: '1' },
    { uri: '', local: 'y', value: '2' },
    { uri: 'http://www.w3.org/XML/1998/namespace', local: 'lang', value: 'en' },
  ]);
  assert.deepEqual(
    t.attrs.map((a) => [a.uri, a.local]),
    [
      ['http://www.w3.org/2000/xmlns/', ''],
      ['http://www.w3.org/2000/xmlns/', 'p'],
    ],
  );
  assert.equal(parseError('<x:Envelope/>').reason, 'malformed-xml', 'unbound element prefix');
  assert.equal(parseError(env(NS12, '<c:GetRPCMethods q:a="1"/>')).reason, 'malformed-xml', 'unbound attribute prefix');
  assert.equal(parseError('<r><a xmlns:p="urn:p"/><p:c/></r>').reason, 'malformed-xml', 'a declaration does not reach a sibling');
  assert.equal(parseError('<a xmlns:xml="urn:other"/>').reason, 'malformed-xml', 'xml prefix rebound');
  assert.equal(parseError('<a xmlns:p="http://www.w3.org/2000/xmlns/"/>').reason, 'malformed-xml');
});

test('bounded parser work: elements, attributes per element and namespace declarations are capped (too-complex); their speed is in bench/tr069-sessions.ts', () => {
  assert.equal(parseError(`<a>${'<b/>'.repeat(20_001)}</a>`).reason, 'too-complex');
  assert.equal(parseXmlTree(`<a>${'<b/>'.repeat(10)}</a>`, { maxElements: 11 }).children.length, 10);
  const attrs = (n: number): string => Array.from({ length: n }, (_, i) => `a${i}="1"`).join(' ');
  assert.equal(parseXmlTree(`<a ${attrs(64)}/>`).attrs.length, 64);
  assert.equal(parseError(`<a ${attrs(65)}/>`).reason, 'too-complex');
  const decls = (n: number, from = 0): string => Array.from({ length: n }, (_, i) => `xmlns:p${from + i}="urn:x${i}"`).join(' ');
  assert.equal(
    parseError(`<a ${decls(60)}><b ${decls(60, 60)}/><c ${decls(9, 120)}/></a>`).reason,
    'too-complex',
    'counted over the document',
  );
  // The audit's bombs (4000 declarations × 20000 elements took 17 s; 80000 attributes 2.8 s).
  const nsBomb = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ${decls(4000)}><soap:Body>${'<b/>'.repeat(20_000)}</soap:Body></soap:Envelope>`;
  assert.equal(parseError(nsBomb).reason, 'too-complex');
  assert.equal(
    parseError(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ${attrs(80_000)}/>`).reason,
    'too-complex',
  );
});

test('error messages never quote values', () => {
  const e = parseError(env(NS12, '<c:InformResponse><MaxEnvelopes>s3cret-value</MaxEnvelopes></c:InformResponse>'));
  assert.ok(!e.message.includes('s3cret'));
});

test('__proto__ and constructor element/attribute names are inert', () => {
  const body = env(
    NS12,
    `<c:Inform __proto__="x" constructor="y"><__proto__><polluted>1</polluted></__proto__><constructor><prototype>2</prototype></constructor>
     <DeviceId><__proto__>z</__proto__><OUI>001122</OUI></DeviceId><__text__>t</__text__>
     <ParameterList><ParameterValueStruct><Name>__proto__</Name><Value>polluted</Value></ParameterValueStruct></ParameterList></c:Inform>`,
  );
  const m = message(parseCwmp(body));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  assert.equal(m.kind, 'Inform');
  if (m.kind !== 'Inform') return;
  assert.equal(Object.getPrototypeOf(m.deviceId), Object.prototype);
  assert.deepEqual(m.deviceId, { manufacturer: '', oui: '001122', productClass: '', serialNumber: '' });
  assert.deepEqual(m.parameterList, [{ name: '__proto__', value: 'polluted', type: 'xsd:string' }]);
  // A root element named __proto__ is just "not SOAP".
  assert.equal(parseError('<__proto__><a>1</a></__proto__>').reason, 'not-soap');
});

test('mutated real Informs only ever yield a message or a CwmpParseError (seeded, deterministic)', () => {
  const src = fixture('inform_gfiber_cpe.xml').toString('utf8');
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = '<>/&;"\'=:!?[]-x \n\u0000\uD800';
  const outcomes = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    let s = src;
    for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
      const pos = Math.floor(rnd() * s.length);
      const op = rnd();
      if (op < 0.33) s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(rnd() * 20));
      else if (op < 0.66) s = s.slice(0, pos) + (alphabet[Math.floor(rnd() * alphabet.length)] ?? '') + s.slice(pos);
      else s = s.slice(0, pos);
    }
    try {
      const p = parseCwmp(s);
      outcomes.add(p.kind === 'Message' ? p.message.kind : p.kind);
    } catch (e) {
      assert.ok(e instanceof CwmpParseError, `untyped failure: ${String(e)}`);
      outcomes.add(e.reason);
    }
  }
  assert.ok(outcomes.has('Inform') && outcomes.has('malformed-xml'), [...outcomes].join(','));
});
