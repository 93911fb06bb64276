import { conformanceSuite } from '../../test/conformance/suite.ts';
import type { TestServer } from '../../test/helpers/server.ts';
import { CwmpHttp } from './simulator-http.ts';
import { buildCwmp } from './soap-build.ts';
import { parseCwmp } from './soap-parse.ts';
import type { CwmpMessage, DownloadArgs } from './soap.ts';

// The file server of the Download RPC under the shared suite, driven through the wire: a CPE informs the
// ACS over HTTPS, takes each Download it is sent and answers Status 1 (transfer later), so the files stay
// announced while the suite fetches them with each Download's own credentials (Basic over HTTPS, as the
// ACS allows; the suite's HEAD and Range checks replay one header).
async function announced(s: TestServer, serial: string, password: string): Promise<DownloadArgs[]> {
  const http = new CwmpHttp(`${s.https}/tr069`, serial, password, { insecure: true });
  const ns = 'urn:dslforum-org:cwmp-1-0';
  let id = 0;
  const post = async (m: CwmpMessage | null): Promise<CwmpMessage | null> => {
    const r = await http.post(m ? buildCwmp(m, { ns, id: `c-${++id}` }) : '');
    if (r.status < 200 || r.status > 299) throw new Error(`ACS answered ${r.status}`);
    if (r.body.length === 0) return null;
    const p = parseCwmp(r.body);
    return p.kind === 'Empty' ? null : p.message;
  };
  const now = new Date().toISOString();
  const ir = await post({
    kind: 'Inform',
    deviceId: { manufacturer: 'THOMSON', oui: '00147F', productClass: 'TG784', serialNumber: serial },
    events: [{ eventCode: '2 PERIODIC', commandKey: '' }],
    maxEnvelopes: 1,
    currentTime: now,
    retryCount: 0,
    parameterList: [{ name: 'InternetGatewayDevice.DeviceInfo.SoftwareVersion', value: '1.0', type: 'xsd:string' }],
  });
  if (ir?.kind !== 'InformResponse') throw new Error(`expected InformResponse, got ${ir?.kind ?? 'nothing'}`);
  const out: DownloadArgs[] = [];
  for (let m = await post(null); m !== null;) {
    if (m.kind !== 'Download') throw new Error(`unexpected ${m.kind}`);
    out.push(m);
    m = await post({ kind: 'DownloadResponse', status: 1, startTime: '0001-01-01T00:00:00Z', completeTime: '0001-01-01T00:00:00Z' });
  }
  return out;
}

const basic = (user: string, password: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

conformanceSuite({
  adapter: 'tr069',
  async prepare(s) {
    s.core.devices.upsert({ id: 'CPA1', profile: 'thomson-tr069', password: 'cpe-a-pw', vars: { sip_user: 'sip-secret-a' } });
    s.core.devices.upsert({ id: 'CPB1', profile: 'thomson-tr069', password: 'cpe-b-pw' });
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 7), {
      kind: 'firmware',
      profile: 'thomson-tr069',
      version: '2.0',
      filename: 'tg-fw.bin',
    });
    const [fwA, cfgA] = await announced(s, 'CPA1', 'cpe-a-pw');
    const [, cfgB] = await announced(s, 'CPB1', 'cpe-b-pw');
    return {
      own: { url: cfgA!.url, headers: basic(cfgA!.username, cfgA!.password) },
      ownArtifact: { url: fwA!.url, headers: basic(fwA!.username, fwA!.password) },
      otherOwn: { url: cfgB!.url, headers: basic(cfgB!.username, cfgB!.password) },
      // A's valid download credentials aimed at B's config URL.
      crossDevice: { url: cfgB!.url, headers: basic(cfgA!.username, cfgA!.password) },
      badCredentials: { url: cfgA!.url, headers: basic(cfgA!.username, 'wrong') },
      unknownDevice: { url: cfgA!.url.replace('/CPA1/', '/GHOST1/'), headers: basic(cfgA!.username, cfgA!.password) },
      secrets: ['CPA1', 'GHOST1', 'cpe-a-pw', cfgA!.password, 'sip-secret-a', 'password', s.dataDir],
    };
  },
});
