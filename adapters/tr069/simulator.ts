// A TR-069 CPE that follows seed 002's message flow: Inform, 401 Digest challenge, Inform with
// credentials, InformResponse, its own requests (TransferComplete), empty POST, the ACS's Download,
// DownloadResponse, the file fetched with the download's credentials after a 401, TransferComplete in
// the same session (config) or, after a reboot, in the next one (firmware).
//
// Simulated firmware images may start with a line `APSFW <version> [<md5 of the rest>]`: the version
// becomes the SoftwareVersion after the reboot, the MD5 is checked like a real image checksum.
// Configs may carry Thomson's `:env set var=CONF_VERSION value=<v>` (seed 002): that is the reported
// VendorConfigFile version.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { simRequest, writeSimulatorFile as writeFileAtomic } from '../../src/adapter-api.ts';
import { CwmpHttp, getWithAuth, type CpeAuth, type CpeConnection, type HttpOptions } from './simulator-http.ts';
import { buildCwmp, parseCwmp } from './soap.ts';
import type { CwmpMessage, CwmpNamespace, DownloadArgs, EventStruct, FaultStruct } from './soap.ts';

export interface CpeState {
  softwareVersion: string;
  configVersion: string;
  bootstrapped: boolean;
  /** Events for the next Inform (1 BOOT, M Download, …). */
  events: EventStruct[];
  /** TransferCompletes not yet acknowledged by the ACS. */
  pending: Array<{ commandKey: string; fault: FaultStruct; startTime: string; completeTime: string }>;
}

export interface CpeOptions extends HttpOptions {
  acs: string;
  serial: string;
  oui?: string;
  productClass?: string;
  manufacturer?: string;
  /** ManagementServer.Username; default the serial number. */
  username?: string;
  password: string;
  /** 'basic': Basic with every message, no challenge answered (genieacs-sim); default 'digest'. */
  auth?: CpeAuth;
  /** 'session' (default): one keep-alive connection per session (TR-069 §3.4.2); 'message': a new one per message. */
  connection?: CpeConnection;
  /** Fetch Download URLs without credentials, whatever the Download says (genieacs-sim): non-200 is fault 9016. */
  ignoreDownloadCredentials?: boolean;
  ns?: CwmpNamespace;
  /** Data-model root of the parameters the Inform carries. */
  root?: 'InternetGatewayDevice.' | 'Device.';
  gzip?: boolean;
  /** When TransferComplete is sent: 'same' session, or 'next' after a reboot. Default: config same, firmware next. */
  complete?: { firmware?: 'same' | 'next'; config?: 'same' | 'next' };
  /** Every accepted transfer fails after the fetch: its TransferComplete carries this fault, nothing is installed. */
  transferFault?: FaultStruct;
  /** Fetch and apply before answering, then DownloadResponse Status 0 (no TransferComplete). */
  status0?: boolean;
  connectionRequestUrl?: string;
  /** A JSON file holding the state between runs; otherwise `state` (in memory) is used. */
  statePath?: string;
  state?: CpeState;
}

export interface SessionResult {
  ok: boolean;
  error?: string;
  informEvents: string[];
  challenges: number;
  messages: number;
  downloads: Array<{ commandKey: string; fileType: string; status: 0 | 1 | 'fault'; fault?: FaultStruct; fetchChallenged?: boolean }>;
  transferCompletes: Array<{ commandKey: string; faultCode: number }>;
  rebooted: boolean;
}

export function initialState(softwareVersion = '1.0'): CpeState {
  return { softwareVersion, configVersion: '', bootstrapped: false, events: [], pending: [] };
}

export function loadState(o: CpeOptions): CpeState {
  if (o.statePath && existsSync(o.statePath)) return JSON.parse(readFileSync(o.statePath, 'utf8')) as CpeState;
  return (o.state ??= initialState());
}

function saveState(o: CpeOptions, s: CpeState): void {
  o.state = s;
  if (o.statePath) writeFileAtomic(o.statePath, JSON.stringify(s, null, 2) + '\n');
}

const now = (): string => new Date().toISOString();

/** Check a fetched file as the CPE would; returns the fault, or what applying it changes. */
export function checkFile(dl: DownloadArgs, body: Buffer): { fault: FaultStruct } | { softwareVersion?: string; configVersion?: string } {
  if (dl.fileSize > 0 && body.length !== dl.fileSize)
    return { fault: { faultCode: 9018, faultString: `file corrupted: ${body.length} bytes, expected ${dl.fileSize}` } };
  if (dl.fileType.startsWith('1 ')) {
    const nl = body.indexOf(10);
    const m = /^APSFW (\S+)(?: ([0-9a-f]{32}))?$/.exec(body.subarray(0, nl < 0 ? 0 : nl).toString('latin1'));
    if (
      m?.[2] &&
      createHash('md5')
        .update(body.subarray(nl + 1))
        .digest('hex') !== m[2]
    )
      return { fault: { faultCode: 9018, faultString: 'file corrupted: image MD5 mismatch' } };
    return { softwareVersion: m?.[1] ?? dl.url.replace(/^.*\//, '').replace(/\.[^.]*$/, '') };
  }
  const v = /^:env set var=CONF_VERSION value=(\S+)/m.exec(body.toString('utf8'));
  return { configVersion: v?.[1] ?? createHash('md5').update(body).digest('hex').slice(0, 8) };
}

/** One CWMP session. Never throws: failures come back in the result, the state is kept consistent. */
export async function runCpeSession(o: CpeOptions, extraEvents: string[] = []): Promise<SessionResult> {
  const st = loadState(o);
  const res: SessionResult = {
    ok: false,
    informEvents: [],
    challenges: 0,
    messages: 0,
    downloads: [],
    transferCompletes: [],
    rebooted: false,
  };
  const http = new CwmpHttp(o.acs, o.username ?? o.serial, o.password, {
    insecure: o.insecure,
    ca: o.ca,
    gzip: o.gzip,
    auth: o.auth,
    connection: o.connection,
  });
  const ns = o.ns ?? 'urn:dslforum-org:cwmp-1-0';
  let id = 0;
  const post = async (m: CwmpMessage | null): Promise<CwmpMessage | null> => {
    const r = await http.post(m ? buildCwmp(m, { ns, id: `cpe-${++id}` }) : '');
    // Any answer but 2xx ends the session, as in genieacs-sim (after the one retry a 401 challenge gets).
    if (r.status < 200 || r.status > 299) throw new Error(`ACS answered ${r.status}`);
    if (r.body.length === 0) return null;
    const p = parseCwmp(r.body);
    return p.kind === 'Empty' ? null : p.message;
  };
  try {
    const events: EventStruct[] = [
      ...(st.bootstrapped ? [] : [{ eventCode: '0 BOOTSTRAP', commandKey: '' }]),
      ...st.events,
      ...extraEvents.map((e) => ({ eventCode: e, commandKey: '' })),
    ];
    if (st.pending.length > 0 && !events.some((e) => e.eventCode === '7 TRANSFER COMPLETE'))
      events.push({ eventCode: '7 TRANSFER COMPLETE', commandKey: '' });
    if (events.length === 0) events.push({ eventCode: '2 PERIODIC', commandKey: '' });
    res.informEvents = events.map((e) => e.eventCode);
    const root = o.root ?? 'InternetGatewayDevice.';
    const params = [
      [`${root}DeviceInfo.HardwareVersion`, 'SIM-1'],
      [`${root}DeviceInfo.SoftwareVersion`, st.softwareVersion],
      [`${root}DeviceInfo.ProvisioningCode`, ''],
      [`${root}DeviceInfo.VendorConfigFile.1.Version`, st.configVersion],
      [`${root}ManagementServer.ConnectionRequestURL`, o.connectionRequestUrl ?? ''],
    ].map(([name, value]) => ({ name: name!, value: value!, type: 'xsd:string' }));
    const deviceId = {
      manufacturer: o.manufacturer ?? 'THOMSON',
      oui: o.oui ?? '00147F',
      productClass: o.productClass ?? 'TG784',
      serialNumber: o.serial,
    };
    const ir = await post({ kind: 'Inform', deviceId, events, maxEnvelopes: 1, currentTime: now(), retryCount: 0, parameterList: params });
    if (ir?.kind !== 'InformResponse') throw new Error(`expected InformResponse, got ${ir?.kind ?? 'an empty answer'}`);
    st.bootstrapped = true;
    st.events = [];
    saveState(o, st);
    await sendTransferCompletes(o, st, res, post);
    let msg = await post(null);
    const later: Array<{ dl: DownloadArgs; when: 'same' | 'next' }> = [];
    for (;;) {
      if (msg?.kind === 'Download') {
        msg = await post(await onDownload(o, st, res, msg, later));
        continue;
      }
      if (msg !== null) {
        msg = await post({
          kind: 'Fault',
          faultcode: 'Client',
          faultstring: 'CWMP fault',
          cwmp: { faultCode: 9000, faultString: 'Method not supported' },
        });
        continue;
      }
      // The ACS has no more requests. Transfers accepted with Status 1 happen now (seed 002 steps 9–13).
      const jobs = later.splice(0);
      if (jobs.length === 0) break;
      for (const j of jobs) await transfer(o, st, res, j.dl, j.when);
      if (res.rebooted) break;
      if (st.pending.length === 0) break;
      await sendTransferCompletes(o, st, res, post);
      msg = await post(null);
    }
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).message;
  } finally {
    http.close();
  }
  res.challenges = http.challenges;
  res.messages = http.messages;
  saveState(o, st);
  return res;
}

async function sendTransferCompletes(
  o: CpeOptions,
  st: CpeState,
  res: SessionResult,
  post: (m: CwmpMessage | null) => Promise<CwmpMessage | null>,
): Promise<void> {
  while (st.pending.length > 0) {
    const tc = st.pending[0]!;
    const r = await post({ kind: 'TransferComplete', ...tc });
    if (r?.kind !== 'TransferCompleteResponse') throw new Error(`expected TransferCompleteResponse, got ${r?.kind ?? 'an empty answer'}`);
    res.transferCompletes.push({ commandKey: tc.commandKey, faultCode: tc.fault.faultCode });
    st.pending.shift();
    saveState(o, st);
  }
}

async function onDownload(
  o: CpeOptions,
  st: CpeState,
  res: SessionResult,
  dl: DownloadArgs,
  later: Array<{ dl: DownloadArgs; when: 'same' | 'next' }>,
): Promise<CwmpMessage> {
  const firmware = dl.fileType.startsWith('1 ');
  if (o.status0) {
    const entry: SessionResult['downloads'][number] = { commandKey: dl.commandKey, fileType: dl.fileType, status: 0 };
    res.downloads.push(entry);
    const t = await fetchAndCheck(o, dl, res);
    if ('fault' in t) {
      Object.assign(entry, { status: 'fault', fault: t.fault });
      return { kind: 'Fault', faultcode: 'Client', faultstring: 'CWMP fault', cwmp: t.fault };
    }
    Object.assign(st, t);
    saveState(o, st);
    return { kind: 'DownloadResponse', status: 0, startTime: now(), completeTime: now() };
  }
  later.push({ dl, when: (firmware ? o.complete?.firmware : o.complete?.config) ?? (firmware ? 'next' : 'same') });
  res.downloads.push({ commandKey: dl.commandKey, fileType: dl.fileType, status: 1 });
  return { kind: 'DownloadResponse', status: 1, startTime: '0001-01-01T00:00:00Z', completeTime: '0001-01-01T00:00:00Z' };
}

async function fetchAndCheck(o: CpeOptions, dl: DownloadArgs, res: SessionResult): Promise<ReturnType<typeof checkFile>> {
  const tls = { insecure: o.insecure, ca: o.ca };
  if (o.ignoreDownloadCredentials) {
    // One plain GET, as genieacs-sim does: a challenge is not answered, anything but 200 is fault 9016.
    const r = await simRequest({ url: dl.url, ...tls });
    const entry = res.downloads.find((d) => d.commandKey === dl.commandKey);
    if (entry) entry.fetchChallenged = r.status === 401;
    if (r.status !== 200) return { fault: { faultCode: 9016, faultString: `Unexpected response ${r.status}` } };
    return checkFile(dl, r.body);
  }
  const r = await getWithAuth(dl.url, dl.username, dl.password, tls);
  const entry = res.downloads.find((d) => d.commandKey === dl.commandKey);
  if (entry) entry.fetchChallenged = r.challenged;
  if (r.status !== 200) return { fault: { faultCode: r.status === 401 ? 9012 : 9016, faultString: `file server answered ${r.status}` } };
  return checkFile(dl, r.body);
}

/** Fetch, check and apply one accepted download; a successful `next` one reboots before its TransferComplete. */
async function transfer(o: CpeOptions, st: CpeState, res: SessionResult, dl: DownloadArgs, when: 'same' | 'next'): Promise<void> {
  const startTime = now();
  const fetched = await fetchAndCheck(o, dl, res);
  const t = o.transferFault && !('fault' in fetched) ? { fault: o.transferFault } : fetched;
  const fault = 'fault' in t ? t.fault : { faultCode: 0, faultString: '' };
  if (!('fault' in t)) Object.assign(st, t);
  st.pending.push({ commandKey: dl.commandKey, fault, startTime, completeTime: now() });
  if (when === 'next' && fault.faultCode === 0) {
    // The new image boots; the next session reports it (TR-069 §A.3.3.2: "M Download" with the CommandKey).
    // A failed transfer installs nothing, so there is no reboot: its TransferComplete goes in this session.
    st.events.push({ eventCode: '1 BOOT', commandKey: '' }, { eventCode: 'M Download', commandKey: dl.commandKey });
    res.rebooted = true;
  }
  saveState(o, st);
}
