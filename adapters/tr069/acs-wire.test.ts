import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { deflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { simRequest, type SimResponse, digestAuthorization } from '../../src/adapter-api.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { CwmpHttp } from './simulator-http.ts';
import { buildCwmp, parseCwmp, type CwmpMessage, type CwmpNamespace, type ParsedCwmp } from './soap.ts';

// The ACS endpoint on the wire: namespaces, cwmp:ID, cookies, encodings, Basic vs Digest, and bad input
// that must end a session cleanly without ever taking the server down (issue #4).
const NS12: CwmpNamespace = 'urn:dslforum-org:cwmp-1-2';

function inform(serial: string, oui = '00147F'): CwmpMessage {
  return {
    kind: 'Inform',
    deviceId: { manufacturer: 'THOMSON', oui, productClass: 'TG784', serialNumber: serial },
    events: [
      { eventCode: '1 BOOT', commandKey: '' },
      { eventCode: '4 VALUE CHANGE', commandKey: '' },
    ],
    maxEnvelopes: 2,
    currentTime: '2024-01-01T00:00:00Z',
    retryCount: 0,
    parameterList: [{ name: 'InternetGatewayDevice.DeviceInfo.SoftwareVersion', value: '1.0', type: 'xsd:string' }],
  };
}

const parsed = (r: SimResponse): ParsedCwmp & { kind: 'Message' } => {
  const p = parseCwmp(r.body);
  assert.equal(p.kind, 'Message');
  return p as ParsedCwmp & { kind: 'Message' };
};

describe('TR-069 ACS on the wire', () => {
  let s: TestServer;
  let acs: string;
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  // Over HTTPS the ACS takes Basic, which lets a test write raw bodies without a Digest round trip.
  const post = (body: string | Buffer, headers: Record<string, string> = {}, auth = true): Promise<SimResponse> =>
    simRequest({
      url: `${s.https}/tr069`,
      method: 'POST',
      body,
      insecure: true,
      headers: { 'Content-Type': 'text/xml', ...(auth ? { Authorization: basic('W1', 'w1-pw') } : {}), ...headers },
    });
  const cookieOf = (r: SimResponse): string => r.headers['set-cookie']![0]!.split(';')[0]!;

  before(async () => {
    s = await startTestServer();
    acs = `${s.http}/tr069`;
    s.core.devices.upsert({ id: 'W1', profile: 'thomson-tr069', password: 'w1-pw' });
    s.core.devices.upsert({ id: '001122-TG784-W2', profile: 'thomson-tr069', password: 'w2-pw' });
    await s.core.catalog.addBuffer(Buffer.alloc(64, 1), { kind: 'firmware', profile: 'thomson-tr069', version: '2.0', filename: 'fw.bin' });
  });
  after(async () => {
    await s.stop();
  });

  it("answers in the CPE's namespace with its cwmp:ID echoed, after a Digest retry on a new connection", async () => {
    for (const ns of ['urn:dslforum-org:cwmp-1-0', NS12, 'urn:dslforum-org:cwmp-1-4'] as const) {
      const http = new CwmpHttp(acs, 'W1', 'w1-pw', { connection: 'message' }); // the Digest retry on a new connection
      const r = await http.post(buildCwmp(inform('W1'), { ns, id: `id-${ns.slice(-3)}` }));
      assert.equal(http.challenges, 1);
      const p = parsed(r);
      assert.equal(p.ns, ns);
      assert.equal(p.header.id, `id-${ns.slice(-3)}`);
      assert.deepEqual(p.message, { kind: 'InformResponse', maxEnvelopes: 1 }, 'one envelope per message');
    }
  });

  it("a CPE authenticated as itself cannot Inform with another CPE's DeviceId (Digest or Basic)", async () => {
    s.core.events.flush();
    const before = JSON.stringify(s.core.devices.state('001122-TG784-W2')?.reported ?? null);
    const asW1 = new CwmpHttp(acs, 'W1', 'w1-pw', {});
    const spoof = {
      ...inform('W2', '001122'),
      parameterList: [
        { name: 'InternetGatewayDevice.ManagementServer.ConnectionRequestURL', value: 'http://evil.example/', type: 'xsd:string' },
      ],
    } as CwmpMessage;
    assert.equal((await asW1.post(buildCwmp(spoof, { ns: NS12 }))).status, 401);
    assert.equal((await post(buildCwmp(spoof, { ns: NS12 }))).status, 401, "W1's Basic credentials over HTTPS");
    s.core.events.flush();
    assert.equal(JSON.stringify(s.core.devices.state('001122-TG784-W2')?.reported ?? null), before, 'W2 untouched');
  });

  it('a captured Digest header cannot be replayed, even with another body; the next nonce-count can', async () => {
    const first = await simRequest({ url: acs, method: 'POST', body: buildCwmp(inform('W1'), { ns: NS12 }) });
    assert.equal(first.status, 401);
    const authAt = (nc: number): string =>
      digestAuthorization({
        challenge: String(first.headers['www-authenticate']),
        username: 'W1',
        password: 'w1-pw',
        method: 'POST',
        uri: '/tr069',
        nc,
      });
    const send = (auth: string, softwareVersion: string): Promise<SimResponse> => {
      const m = {
        ...inform('W1'),
        parameterList: [{ name: 'InternetGatewayDevice.DeviceInfo.SoftwareVersion', value: softwareVersion, type: 'xsd:string' }],
      } as CwmpMessage;
      return simRequest({ url: acs, method: 'POST', body: buildCwmp(m, { ns: NS12 }), headers: { Authorization: auth } });
    };
    const captured = authAt(1);
    assert.equal((await send(captured, '1.0')).status, 200);
    const replay = await send(captured, '2.0');
    assert.equal(replay.status, 401);
    assert.match(String(replay.headers['www-authenticate']), /stale=true/, 'the real CPE retries silently with a fresh nonce');
    s.core.events.flush();
    assert.equal(s.core.devices.state('W1')!.reported.firmware, '1.0', 'the replayed body was not recorded');
    assert.equal((await send(authAt(2), '1.0')).status, 200, 'a CPE reusing the nonce with nc+1 is fine');
  });

  it('parses the Inform retried after a 401 on the same connection, unless its bytes are those challenged', async () => {
    // The ACS keeps a challenged Inform's parse for the connection's next request (issue 15): a retry with
    // other bytes must be read as what it says, and the retry with the same bytes as the same message.
    let connections = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const open = agent.createConnection.bind(agent);
    agent.createConnection = (o, cb): Socket => (connections++, open(o, cb) as Socket);
    const body = (version: string): string =>
      buildCwmp(
        {
          ...inform('W1'),
          parameterList: [{ name: 'InternetGatewayDevice.DeviceInfo.SoftwareVersion', value: version, type: 'xsd:string' }],
        } as CwmpMessage,
        { ns: NS12 },
      );
    const session = async (first: string, retry: string): Promise<void> => {
      const challenged = await simRequest({ url: acs, method: 'POST', body: first, agent });
      assert.equal(challenged.status, 401);
      const auth = digestAuthorization({
        challenge: String(challenged.headers['www-authenticate']),
        username: 'W1',
        password: 'w1-pw',
        method: 'POST',
        uri: '/tr069',
        nc: 1,
      });
      assert.equal(
        parsed(await simRequest({ url: acs, method: 'POST', body: retry, agent, headers: { Authorization: auth } })).message.kind,
        'InformResponse',
      );
    };
    try {
      await session(body('1.0'), body('4.4'));
      s.core.events.flush();
      assert.equal(s.core.devices.state('W1')!.reported.firmware, '4.4', 'the retry was read, not the challenged body');
      await session(body('5.5'), body('5.5'));
      s.core.events.flush();
      assert.equal(s.core.devices.state('W1')!.reported.firmware, '5.5');
      assert.equal(connections, 1, 'all four messages on one connection');
    } finally {
      agent.destroy();
    }
  });

  it("keeps an OUI's leading zeros and stores the Inform as reported state", async () => {
    const http = new CwmpHttp(acs, '001122-TG784-W2', 'w2-pw', {});
    assert.equal(parsed(await http.post(buildCwmp(inform('W2', '001122'), { ns: NS12 }))).message.kind, 'InformResponse');
    s.core.events.flush();
    const rep = s.core.devices.state('001122-TG784-W2')!.reported as { cwmpDeviceId: { oui: string }; lastInform: { events: string[] } };
    assert.equal(rep.cwmpDeviceId.oui, '001122');
    assert.deepEqual(rep.lastInform.events, ['1 BOOT', '4 VALUE CHANGE']);
  });

  it('takes Basic only over HTTPS, and gzip or deflate bodies', async () => {
    const xml = buildCwmp(inform('W1'), { ns: NS12 });
    const plain = await simRequest({ url: acs, method: 'POST', body: xml, headers: { Authorization: basic('W1', 'w1-pw') } });
    assert.equal(plain.status, 401, 'Basic over plain HTTP is refused');
    assert.match(String(plain.headers['www-authenticate']), /^Digest /);
    const r = await post(deflateSync(Buffer.from(xml)), { 'Content-Encoding': 'deflate' });
    assert.equal(parsed(r).message.kind, 'InformResponse');
    assert.equal((await post(xml, { Authorization: basic('W1', 'nope') })).status, 401);
  });

  it('ignores a stale cookie: a new Inform opens a new session; an empty POST without a session gets 204', async () => {
    const stale = 'cwmp_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'.slice(0, 'cwmp_session='.length + 32);
    const r = await post(buildCwmp(inform('W1'), { ns: NS12 }), { Cookie: stale });
    assert.equal(parsed(r).message.kind, 'InformResponse');
    assert.notEqual(cookieOf(r), stale);
    assert.equal((await post('', { Cookie: stale }, false)).status, 204);
    const tc = buildCwmp(
      { kind: 'TransferComplete', commandKey: 'x', fault: { faultCode: 0, faultString: '' }, startTime: '', completeTime: '' },
      { ns: NS12 },
    );
    const late = await post(tc, { Cookie: stale }, false);
    assert.equal(late.status, 401, "a TransferComplete outside a session needs the device's credentials");
    assert.match(String(late.headers['www-authenticate']), /^Digest /);
    const dlr = buildCwmp({ kind: 'DownloadResponse', status: 0, startTime: '', completeTime: '' }, { ns: NS12 });
    assert.equal((await post(dlr, { Cookie: stale }, false)).status, 403, 'any other CPE request outside a session is refused');
  });

  it('sends Download children in schema order; a CPE Fault is stored as the last fault and ends the session', async () => {
    const cookie = cookieOf(await post(buildCwmp(inform('W1'), { ns: NS12 })));
    const dl = await post('', { Cookie: cookie }, false);
    assert.match(
      dl.body.toString(),
      /<CommandKey>.*<FileType>1 Firmware Upgrade Image<\/FileType><URL>.*<Username>.*<Password>.*<FileSize>64<\/FileSize><TargetFileName\/?>.*<DelaySeconds>0<\/DelaySeconds><SuccessURL\/><FailureURL\/>/,
    );
    const fault: CwmpMessage = {
      kind: 'Fault',
      faultcode: 'Client',
      faultstring: 'CWMP fault',
      cwmp: { faultCode: 9010, faultString: 'Download failure' },
    };
    const r = await post(buildCwmp(fault, { ns: NS12, id: parsed(dl).header.id }), { Cookie: cookie }, false);
    assert.equal(r.status, 204);
    s.core.events.flush();
    assert.equal((s.core.devices.state('W1')!.reported as { lastFault: { faultCode: number } }).lastFault.faultCode, 9010);
  });

  it('answers an unknown method with Fault 8000 and keeps the session', async () => {
    const cookie = cookieOf(await post(buildCwmp(inform('W1'), { ns: NS12 })));
    const body = `<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="${NS12}"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">q1</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:RequestDownload><FileType>1</FileType></cwmp:RequestDownload></soap-env:Body></soap-env:Envelope>`;
    const p = parsed(await post(body, { Cookie: cookie }, false));
    assert.equal(p.ns, NS12);
    assert.equal(p.header.id, 'q1');
    assert.equal(p.message.kind === 'Fault' && p.message.cwmp?.faultCode, 8000);
    // The session goes on: its empty POST gets the next RPC (the config; the firmware is backing off).
    assert.equal(parsed(await post('', { Cookie: cookie }, false)).message.kind, 'Download');
  });

  it('bad XML: 400 outside a session, a clean 204 end inside one, and the server keeps serving', async () => {
    for (const junk of [
      '<soap:Envelope',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
      '<a><b></a>',
      Buffer.from([0x1f, 0x8b, 0, 1, 2]),
    ]) {
      const r = await post(junk);
      assert.equal(r.status, 400);
      assert.equal(r.body.toString(), 'Bad Request\n');
    }
    assert.equal((await post('not gzip', { 'Content-Encoding': 'gzip' })).status, 400);
    const cookie = cookieOf(await post(buildCwmp(inform('W1'), { ns: NS12 })));
    assert.equal((await post('<soap-env:Envelope><oops', { Cookie: cookie }, false)).status, 204);
    const tc = buildCwmp(
      { kind: 'TransferComplete', commandKey: 'x', fault: { faultCode: 0, faultString: '' }, startTime: '', completeTime: '' },
      { ns: NS12 },
    );
    assert.equal((await post(tc, { Cookie: cookie }, false)).status, 401, 'that session is over');
    assert.equal((await fetch(`${s.http}/healthz`)).status, 200);
  });
});
