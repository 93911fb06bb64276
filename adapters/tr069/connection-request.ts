// Connection Request (TR-069 §3.2.2): an HTTP GET to the CPE's ConnectionRequestURL, Digest-authenticated
// with the ConnectionRequestUsername/Password configured on the CPE, which makes it open a session now.
// The ACS learns the URL from the Inform; the credentials are the device variables cr_username and
// cr_password (README). Every outcome is a result value: this never throws.
import {
  type NotifyResult,
  type AdapterServices,
  templateContext,
  simRequest,
  type SimResponse,
  type DeviceRecord,
  digestAuthorization,
  parseAuthChallenges,
} from '../../src/adapter-api.ts';
import { NAME } from './downloads.ts';
import type { Tr069Config } from './settings.ts';

export async function connectionRequest(device: DeviceRecord, core: AdapterServices, config: Tr069Config): Promise<NotifyResult> {
  const reported = core.devices.state(device.id)?.reported ?? {};
  const url = reported.connectionRequestUrl;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return { ok: false, summary: noUrl(reported.lastInform, url) };
  const vars = templateContext(core, device).vars;
  const username = vars.cr_username;
  const password = vars.cr_password;
  const target = new URL(url);
  const get = (headers: Record<string, string> = {}): Promise<SimResponse> =>
    // CPEs present self-signed certificates, if any; the credential is protected by Digest, not by TLS.
    simRequest({ url, headers, insecure: true, timeoutMs: config.connectionRequestTimeoutSeconds * 1000 });
  const result = (ok: boolean, summary: string, status: number): NotifyResult => {
    core.events.record({ deviceId: device.id, adapter: NAME, file: 'connection-request', status, detail: summary });
    return { ok, summary: `connection request to ${target.host}: ${summary}` };
  };
  try {
    const first = await get();
    if (first.status === 200 || first.status === 204) return result(true, `${first.status} (no authentication asked)`, first.status);
    if (first.status !== 401) return result(false, `answered ${first.status}`, first.status);
    if (!username || password === undefined)
      return result(false, '401 challenge, but cr_username/cr_password are not set on the device', 401);
    const header = String(first.headers['www-authenticate'] ?? '');
    const schemes = parseAuthChallenges(header)?.map((c) => c.scheme.toLowerCase()) ?? [];
    let authorization: string;
    if (schemes.includes('digest')) {
      authorization = digestAuthorization({ challenge: header, username, password, method: 'GET', uri: target.pathname + target.search });
    } else if (schemes.includes('basic') && target.protocol === 'https:') {
      authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    } else {
      return result(false, '401 with no challenge APS can answer', 401);
    }
    const second = await get({ Authorization: authorization });
    const ok = second.status === 200 || second.status === 204;
    return result(ok, ok ? `${second.status} after Digest authentication` : `answered ${second.status} to the credentials`, second.status);
  } catch (e) {
    return result(false, `failed: ${(e as Error).message}`, 599);
  }
}

/** Why there is no URL to call, as it is: never heard from, an empty URL, or one that is not HTTP. */
function noUrl(lastInform: unknown, url: unknown): string {
  const at = (lastInform as { at?: unknown } | undefined)?.at;
  if (typeof at !== 'string') return 'no ConnectionRequestURL reported yet (no Inform received from this CPE)';
  const fix = 'set ManagementServer.ConnectionRequestURL on the CPE (or let it report one)';
  if (url === undefined) return `the last Inform (${at}) carried no ConnectionRequestURL: ${fix}`;
  if (url === '') return `the CPE reported an empty ConnectionRequestURL in its last Inform (${at}): ${fix}`;
  return `the reported ConnectionRequestURL is not an http(s) URL: ${JSON.stringify((typeof url === 'string' ? url : JSON.stringify(url)).slice(0, 200))}`;
}
