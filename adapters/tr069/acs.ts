// The ACS endpoint, POST /tr069 (TR-069 §3.7 sessions, Annex A; protocols.md §(d) "Session on the wire";
// seed 002 message flow). One HTTP message in, one envelope (or 204) out. Sessions live in the core's
// key-value state behind a cookie, so nothing here depends on the TCP connection or the node.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { DeviceRequestInfo } from '../../src/transport/device-files.ts';
import { authenticate, challenge } from './auth.ts';
import { NAME, downloadRefused, downloadResponse, beforeSession, nextDownload, transferComplete, type AcsDeps } from './downloads.ts';
import { candidateIds, cpeId, informReport } from './inform.ts';
import { CpeFaultError, readBody } from './wire.ts';
import { CwmpParseError, acsFault, buildCwmp, decodeBody, parseCwmp, replyHeader } from './soap.ts';
import type { CwmpMessage, EnvelopeHeader, InformMessage, ParsedCwmp } from './soap.ts';
import { keys, type SessionState } from './state.ts';

const COOKIE = 'cwmp_session';
type Message = ParsedCwmp & { kind: 'Message' };

export function acsHandler(deps: AcsDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const session = loadSession(deps, req);
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: session?.deviceId ?? null, file: 'cwmp' };
    let parsed: ParsedCwmp;
    try {
      const max = { maxBytes: deps.config.maxBodyBytes };
      const body = await decodeBody(await readBody(req, max.maxBytes), req.get('content-encoding'), max);
      parsed = parseCwmp(body, max);
    } catch (e) {
      if (!(e instanceof CwmpParseError)) throw e;
      return parseFailure(deps, req, res, e, session, info);
    }
    if (parsed.kind === 'Message' && parsed.message.kind === 'Inform') return inform(deps, req, res, parsed, parsed.message);
    // A stale cookie (session over or expired) is no error: without a session there is nothing to do.
    if (!session) {
      if (parsed.kind === 'Empty') return void res.status(204).end();
      return deps.core.files.deny(req, res, 403, `${parsed.message.kind} outside a CWMP session`, info);
    }
    return inSession(deps, req, res, session, parsed);
  };
}

function loadSession(deps: AcsDeps, req: Request): SessionState | undefined {
  const m = new RegExp(`(?:^|;\\s*)${COOKIE}=([A-Za-z0-9_-]{32})(?:;|$)`).exec(req.get('cookie') ?? '');
  return m ? deps.kv.get<SessionState>(keys.session(m[1]!)) : undefined;
}

function saveSession(deps: AcsDeps, s: SessionState): void {
  deps.kv.set(keys.session(s.token), s, deps.config.sessionTimeoutSeconds * 1000);
}

function send(res: Response, m: CwmpMessage, header: EnvelopeHeader): void {
  const xml = buildCwmp(m, header);
  res.status(200).setHeader('Content-Type', 'text/xml; charset="utf-8"');
  res.setHeader('Content-Length', String(Buffer.byteLength(xml)));
  res.end(xml);
}

function parseFailure(deps: AcsDeps, req: Request, res: Response, e: CwmpParseError, session: SessionState | undefined, info: DeviceRequestInfo): void {
  deps.log.warn({ err: e, code: e.code, device: info.deviceId, ip: req.ip }, 'CWMP message not understood');
  deps.core.events.record({ ...info, status: 400, ip: req.ip, ua: req.get('user-agent') ?? null, detail: `cwmp ${e.code}` });
  // A method we do not implement is answered with a Fault 8000 and the session goes on (TR-069 §A.5).
  if (session && e.code === 'unknown-method' && e.ns) {
    return send(res, acsFault(8000), e.id !== undefined ? { ns: e.ns, id: e.id } : { ns: e.ns });
  }
  // Anything else ends the session cleanly: inside one, the ACS's "no more" (204); outside, a plain 400.
  if (session) {
    deps.kv.delete(keys.session(session.token));
    return void res.status(204).end();
  }
  res.status(400).type('text/plain').send('Bad Request\n');
}

/** Inform always opens a new session, whatever cookie came with it (TR-069 §3.7.1.1). */
function inform(deps: AcsDeps, req: Request, res: Response, msg: Message, m: InformMessage): void {
  const { core, config } = deps;
  const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'inform' };
  const acs = { core, realm: config.realm, purpose: 'tr069-acs' };
  const ours = (id: string) => {
    const d = core.devices.get(id);
    return d && core.profiles.get(d.profile)?.adapter === NAME ? d : undefined;
  };
  let device = candidateIds(m.deviceId).map(ours).find((d) => d !== undefined);
  if (!device && config.unknownCpe === 'pending') device = registerPending(deps, m);
  if (!device) return core.files.deny(req, res, 401, `unknown CPE ${cpeId(m.deviceId)}`, info, challenge(req, acs, false));
  info.deviceId = device.id;
  const passive = device.status === 'pending';
  if (!passive) {
    const d = device;
    const aliases = new Set([d.id, m.deviceId.serialNumber, cpeId(m.deviceId)]);
    const auth = authenticate(req, { ...acs, nonceCounts: deps.kv, lookupPassword: (u) => (aliases.has(u) ? core.devices.secretOf(d) : undefined) });
    if (!auth.ok) return core.files.deny(req, res, 401, auth.reason, info, challenge(req, acs, auth.stale));
  }
  const report = informReport(m);
  const token = randomBytes(24).toString('base64url');
  const session: SessionState = { token, deviceId: device.id, ns: msg.ns, passive, secure: req.secure, softwareVersion: report.firmware, cpeDone: false, sent: [], sentKeys: [] };
  saveSession(deps, session);
  // Path=/: a reverse proxy may publish the ACS under another path; the cookie must still come back.
  res.setHeader('Set-Cookie', `${COOKIE}=${token}; Path=/; HttpOnly${req.secure ? '; Secure' : ''}`);
  const ua = req.get('user-agent') ?? null;
  core.events.record({ ...info, status: 200, ip: req.ip, ua, detail: `Inform: ${report.events.join(', ') || '(no event)'}` });
  const { events, deviceId, ...values } = report;
  core.events.report({ deviceId: device.id, ip: req.ip, ua, reported: { ...values, cwmpDeviceId: deviceId, lastInform: { at: new Date().toISOString(), events } } });
  if (!passive) beforeSession(deps, device.id, token, report.firmware, Date.now());
  send(res, { kind: 'InformResponse', maxEnvelopes: 1 }, replyHeader(msg));
}

function registerPending(deps: AcsDeps, m: InformMessage): ReturnType<AcsDeps['core']['devices']['get']> {
  const id = cpeId(m.deviceId);
  const profile = deps.config.pendingProfile ?? deps.core.profiles.list().find((p) => p.adapter === NAME)?.name;
  // Never take over an id another adapter's device already uses.
  if (!profile || !candidateIds(m.deviceId).includes(id) || deps.core.devices.get(id)) return undefined;
  deps.log.info({ device: id, profile }, 'unknown CPE registered as pending');
  return deps.core.devices.upsert({ id, profile, status: 'pending' });
}

function inSession(deps: AcsDeps, req: Request, res: Response, s: SessionState, parsed: ParsedCwmp): void {
  if (parsed.kind === 'Empty') {
    s.cpeDone = true;
    return next(deps, req, res, s);
  }
  const m = parsed.message;
  const header = replyHeader(parsed);
  switch (m.kind) {
    case 'TransferComplete': {
      const r = transferComplete(deps, s, m.commandKey, m.fault);
      if (r === 'unknown') {
        deps.log.warn({ device: s.deviceId, commandKey: m.commandKey, faultCode: m.fault.faultCode }, 'TransferComplete for an unknown CommandKey');
        deps.core.events.record({ deviceId: s.deviceId, adapter: NAME, file: 'transfer-complete', status: 404, detail: `unknown CommandKey ${m.commandKey.slice(0, 32)}` });
      }
      saveSession(deps, s);
      return send(res, { kind: 'TransferCompleteResponse' }, header);
    }
    case 'GetRPCMethods':
      saveSession(deps, s);
      return send(res, { kind: 'GetRPCMethodsResponse', methods: ['Inform', 'GetRPCMethods', 'TransferComplete'] }, header);
    case 'DownloadResponse':
      if (s.awaiting) downloadResponse(deps, s, s.awaiting, m.status);
      s.awaiting = undefined;
      return next(deps, req, res, s);
    case 'Fault': {
      const err = new CpeFaultError(m.cwmp?.faultCode ?? 0, m.cwmp?.faultString ?? m.faultstring, s.awaiting);
      deps.log.warn({ err, device: s.deviceId, faultCode: err.faultCode, commandKey: err.commandKey }, 'CWMP fault from the CPE');
      deps.core.events.record({ deviceId: s.deviceId, adapter: NAME, file: 'cwmp', status: 500, detail: `CPE fault ${err.faultCode}` });
      if (s.awaiting) downloadRefused(deps, s, s.awaiting, { faultCode: err.faultCode, faultString: err.faultString });
      s.awaiting = undefined;
      saveSession(deps, s);
      // The session ends here (issue #4): no further requests after a fault.
      return void res.status(204).end();
    }
    case 'Download':
    case 'Inform':
      // Requests only an ACS sends (Inform is handled before): refuse the method, keep the session.
      return send(res, acsFault(8000), header);
    default:
      // A response to nothing we asked: drop it and end politely.
      deps.log.warn({ device: s.deviceId, kind: m.kind }, 'unexpected CWMP message');
      saveSession(deps, s);
      return void res.status(204).end();
  }
}

/** After the CPE's empty POST or a response: the next Download, or 204 (TR-069 §3.7.2.4). */
function next(deps: AcsDeps, _req: Request, res: Response, s: SessionState): void {
  const device = deps.core.devices.get(s.deviceId);
  if (s.cpeDone && !s.passive && device?.status === 'active') {
    const base = s.secure && deps.core.urls.https ? deps.core.urls.https : deps.core.urls.http;
    const dl = nextDownload(deps, device, s, base, Date.now());
    if (dl) {
      s.awaiting = dl.commandKey;
      saveSession(deps, s);
      return send(res, { kind: 'Download', ...dl }, { ns: s.ns, id: `aps-${randomBytes(4).toString('hex')}` });
    }
  }
  // The session stays in the store until it expires: a CPE that finishes a transfer now may still send
  // its TransferComplete in this session (issue #4 "TransferComplete in the same session").
  saveSession(deps, s);
  res.status(204).end();
}
