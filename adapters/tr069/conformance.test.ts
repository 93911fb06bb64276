import { conformanceSuite } from '../../test/conformance/suite.ts';
import type { TestServer } from '../../test/helpers/server.ts';
import { nextDownload, type AcsDeps } from './downloads.ts';
import { configSchema } from './settings.ts';
import type { DownloadArgs } from './soap.ts';
import type { SessionState } from './state.ts';

// The file server of the Download RPC under the shared suite. Downloads are planned the way a session
// plans them; the requests use each download's own credentials (Basic, since the suite's HEAD and Range
// checks replay one header: over HTTPS, as the ACS allows Basic only there).
function plan(s: TestServer, deviceId: string): DownloadArgs[] {
  const core = s.core.servicesFor('tr069');
  const deps: AcsDeps = { core, config: configSchema.parse({}), log: core.log, kv: core.state };
  const session: SessionState = {
    token: `t-${deviceId}`,
    deviceId,
    ns: 'urn:dslforum-org:cwmp-1-0',
    passive: false,
    secure: true,
    ip: '127.0.0.1',
    usernames: [deviceId],
    softwareVersion: '1.0',
    cpeDone: true,
    sent: [],
    sentKeys: [],
  };
  const out: DownloadArgs[] = [];
  for (
    let d = nextDownload(deps, s.core.devices.get(deviceId)!, session, s.https, Date.now());
    d;
    d = nextDownload(deps, s.core.devices.get(deviceId)!, session, s.https, Date.now())
  )
    out.push(d);
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
    const [fwA, cfgA] = plan(s, 'CPA1');
    const [, cfgB] = plan(s, 'CPB1');
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
