// The ACS endpoint, POST /tr069 (TR-069 §3.7 sessions, Annex A; protocols.md §(d) "Session on the wire";
// seed 002 message flow). One HTTP message in, one envelope (or 204) out. Sessions live in the core's
// key-value state behind a cookie, so nothing here depends on the TCP connection or the node.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Request, Response } from 'express';
import { addressSubject, isApsError, type DeviceRequestInfo, type DeviceRecord } from '../../src/adapter-api.ts';
import { authenticate, challenge, claimedUser, worthReading } from './auth.ts';
import {
  NAME,
  downloadRefused,
  downloadResponse,
  downloadUnanswered,
  beforeSession,
  nextDownload,
  transferComplete,
  type AcsDeps,
} from './downloads.ts';
import { candidateIds, cpeId, informReport } from './inform.ts';
import { ClientLeft, CpeFaultError, readBody } from './wire.ts';
import { CwmpParseError, acsFault, buildCwmp, decodeBody, parseCwmp, replyHeader } from './soap.ts';
import type { CwmpMessage, EnvelopeHeader, InformMessage, ParsedCwmp, TransferCompleteMessage } from './soap.ts';
import { keys, type PendingCpe, type SessionState } from './state.ts';

const COOKIE = 'cwmp_session';
const COOKIE_RE = new RegExp(`(?:^|;\\s*)${COOKIE}=([A-Za-z0-9_-]{32})(?:;|$)`);
type Message = ParsedCwmp & { kind: 'Message' };

/**
 * Past this (decoded) size, an Inform answered with a 401 is not kept for its retry (see challengedInform): a
 * real Inform is 2-8 KiB, and what an idle connection holds stays small (node closes it after 5 s idle).
 */
const MAX_KEPT_INFORM = 16 * 1024;

/** TR-069 Table A.6: 9002 Internal error, for a CPE Fault that names no CWMP fault code. */
const INTERNAL_ERROR = 9002;

const acsAuth = (deps: AcsDeps) => ({
  core: deps.core,
  realm: deps.config.realm,
  purpose: 'acs',
  allowBasicOverHttp: deps.config.allowBasicOverHttp,
});

/** The 401 challenge of the ACS; its fresh nonce is known to have no nonce-count yet (auth.ts challenge). */
const acsChallenge = (deps: AcsDeps, req: Request, stale: boolean): Record<string, string> =>
  challenge(req, { ...acsAuth(deps), nonceCounts: deps.kv }, stale);

export function acsHandler(deps: AcsDeps): (req: Request, res: Response) => Promise<void> {
  // Large bodies being read per client address (IPv6 per /64) whose credentials could not be checked before
  // the body (a fresh nonce, a user name that is not a device id): one at a time (review 13, finding 7).
  const unverifiedLarge = new Map<string, number>();
  // The Inform of one of our CPEs that a connection's last request sent and got the Digest challenge for,
  // parsed: the CPE sends the same bytes again with its credentials, on the same connection (TR-069 §3.4.2),
  // so that body is parsed once a session, not twice (issue 15). Only for the next request of that connection,
  // and only for byte-equal bodies: the same bytes under the same parser give the same message (limits
  // included; the second body is read and decoded under its own caps as before).
  const challengedInform = new WeakMap<Socket, { body: Buffer; parsed: ParsedCwmp }>();
  return async (req, res) => {
    // express computes req.ip anew at each read (the trust-proxy function over X-Forwarded-For and the socket),
    // and a CWMP message reads it up to ten times (guard, session, refusal, events): pinned once (issue 15).
    Object.defineProperty(req, 'ip', { value: req.ip, configurable: true, enumerable: true });
    const kept = challengedInform.get(req.socket);
    if (kept) challengedInform.delete(req.socket);
    const session = loadSession(deps, req);
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: session?.deviceId ?? null, file: 'cwmp' };
    // An address that is backing off or locked is refused before its body is read.
    let checked: string | undefined;
    if (!session) {
      const early = deps.core.access.attempt(null, req.ip);
      early.done(null);
      if (early.held) return deps.core.files.deny(req, res, 401, early.held, info, acsChallenge(deps, req, false));
      const pre = credentialsFirst(deps, req, res, info);
      if (pre === 'refused') return;
      checked = pre?.deviceId;
    }
    // Before anything is parsed: a request is held to a small body unless it continues a session or its
    // credentials were verified above. Parsing is linear and bounded (xml-tree.ts), but an anonymous client
    // gets little of it; a real CPE whose first, unauthenticated Inform is larger gets the challenge unread and
    // retries with credentials. Credentials that cannot be checked before the body (a user name that is an
    // alias of the device id, a pending CPE) but answer our challenge (a nonce we issued; any client gets
    // one with a 401) get the full limit for one body at a time per address.
    const verified = session !== undefined || checked !== undefined;
    const slot = verified ? undefined : addressSubject(req.ip);
    const claimsLarge =
      !verified && slot !== undefined && !unverifiedLarge.has(slot) && worthReading(req, acsAuth(deps), (u) => ours(deps, u) !== undefined);
    if (claimsLarge) unverifiedLarge.set(slot, 1);
    const trusted = verified || claimsLarge;
    const maxBytes = trusted ? deps.config.maxBodyBytes : Math.min(deps.config.maxUnauthenticatedBodyBytes, deps.config.maxBodyBytes);
    let parsed: ParsedCwmp;
    let body: Buffer;
    try {
      body = await decodeBody(await readBody(req, maxBytes), req.get('content-encoding'), { maxBytes });
      parsed = kept?.body.equals(body) ? kept.parsed : parseCwmp(body, { maxBytes });
    } catch (e) {
      if (e instanceof ClientLeft) {
        deps.log.debug({ ip: req.ip, device: info.deviceId, reason: e.message }, 'CWMP client left mid-body');
        return void res.destroy();
      }
      if (!(e instanceof CwmpParseError)) throw e;
      if (!trusted && e.reason === 'too-large')
        return deps.core.files.deny(req, res, 401, `${e.message}, without verified credentials`, info, acsChallenge(deps, req, false));
      return parseFailure(deps, req, res, e, session, info);
    } finally {
      if (claimsLarge) unverifiedLarge.delete(slot);
    }
    if (parsed.kind === 'Message' && parsed.message.kind === 'Inform') {
      const challenged = inform(deps, req, res, parsed, parsed.message, checked);
      if (challenged && body.length <= MAX_KEPT_INFORM) challengedInform.set(req.socket, { body, parsed });
      return;
    }
    // A stale cookie (session over or expired) is no error: without a session there is nothing to do.
    if (!session) {
      if (parsed.kind === 'Empty') return void res.status(204).end();
      if (parsed.message.kind === 'TransferComplete') return lateTransferComplete(deps, req, res, parsed, parsed.message, info, checked);
      return deps.core.files.deny(req, res, 403, `${parsed.message.kind} outside a CWMP session`, info);
    }
    return inSession(deps, req, res, session, parsed);
  };
}

/**
 * Credentials checked before the body is read, where the protocol allows it (issue 13, defect 3): an
 * Authorization header whose user name is one of our active devices' ids is checked against that device
 * now, and a wrong one is refused unread. Returns that device when the credentials are right, undefined
 * when the header names no such device (the Inform's DeviceId decides then), 'refused' when answered.
 */
function credentialsFirst(
  deps: AcsDeps,
  req: Request,
  res: Response,
  info: DeviceRequestInfo,
): { deviceId: string } | 'refused' | undefined {
  const user = claimedUser(req);
  const d = user !== undefined ? ours(deps, user) : undefined;
  if (!d || d.status !== 'active') return undefined;
  const acs = acsAuth(deps);
  const attempt = deps.core.access.attempt(d.id, req.ip);
  if (attempt.held) {
    deps.core.files.deny(req, res, 401, `${attempt.held} (credentials of ${d.id})`, info, acsChallenge(deps, req, false));
    return 'refused';
  }
  const auth = authenticate(req, {
    ...acs,
    nonceCounts: deps.kv,
    lookupPassword: (u) => (u === d.id ? deps.core.devices.secretOf(d) : undefined),
  });
  attempt.done(auth.ok ? true : auth.checked ? false : null, auth.ok ? undefined : auth.reason);
  if (auth.ok) return { deviceId: d.id };
  deps.core.files.deny(req, res, 401, `${auth.reason} (credentials of ${d.id}, body not read)`, info, acsChallenge(deps, req, auth.stale));
  return 'refused';
}

/**
 * The session of the cookie, honoured only from the address that opened it, and only when an
 * Authorization header, if the message has one, proves the password of that session's device (a cookie
 * is no credential: CPE B with its own Digest header must not act in CPE A's session). Anything else is
 * treated as no session.
 */
function loadSession(deps: AcsDeps, req: Request): SessionState | undefined {
  const m = COOKIE_RE.exec(req.get('cookie') ?? '');
  const s = m ? deps.kv.get<SessionState>(keys.session(m[1]!)) : undefined;
  if (!s) return undefined;
  if (s.ip !== req.ip) {
    deps.log.warn({ device: s.deviceId, ip: req.ip, sessionIp: s.ip }, 'CWMP session cookie from another address: ignored');
    return undefined;
  }
  if (req.get('authorization') !== undefined) {
    const device = deps.core.devices.get(s.deviceId);
    const secret = device ? deps.core.devices.secretOf(device) : undefined;
    // No nonce-count check here: whoever can use this session (cookie and address) could as well leave
    // the header out; the header only has to be the session device's. An expired nonce with the right
    // password is fine for the same reason.
    const auth = authenticate(req, {
      ...acsAuth(deps),
      acceptStale: true,
      lookupPassword: (u) => (s.usernames.includes(u) ? secret : undefined),
    });
    if (!auth.ok) {
      deps.log.warn(
        { device: s.deviceId, ip: req.ip, reason: auth.reason },
        "Authorization header not of the session's device: session ignored",
      );
      return undefined;
    }
  }
  return s;
}

function saveSession(deps: AcsDeps, s: SessionState): void {
  // While a Download waits for its DownloadResponse (a CPE may install a firmware before answering
  // Status 0), the session lives as long as the download may take.
  const seconds = s.awaiting
    ? Math.max(deps.config.sessionTimeoutSeconds, deps.config.downloadTimeoutSeconds)
    : deps.config.sessionTimeoutSeconds;
  deps.kv.set(keys.session(s.token), s, seconds * 1000);
}

function send(res: Response, m: CwmpMessage, header: EnvelopeHeader): void {
  const xml = buildCwmp(m, header);
  res.status(200).setHeader('Content-Type', 'text/xml; charset="utf-8"');
  res.setHeader('Content-Length', String(Buffer.byteLength(xml)));
  res.end(xml);
}

function parseFailure(
  deps: AcsDeps,
  req: Request,
  res: Response,
  e: CwmpParseError,
  session: SessionState | undefined,
  info: DeviceRequestInfo,
): void {
  deps.log.warn({ err: e, code: e.reason, device: info.deviceId, ip: req.ip }, 'CWMP message not understood');
  // The event carries the status the CPE really got.
  const record = (status: number, answer: string): void =>
    deps.core.events.record({ ...info, status, ip: req.ip, ua: req.get('user-agent') ?? null, detail: `cwmp ${e.reason}: ${answer}` });
  // A method we do not implement is answered with a Fault 8000 and the session goes on (TR-069 §A.5).
  if (session && e.reason === 'unknown-method' && e.ns) {
    record(200, 'answered Fault 8000');
    return send(res, acsFault(8000), e.id !== undefined ? { ns: e.ns, id: e.id } : { ns: e.ns });
  }
  // Anything else ends the session cleanly: inside one, the ACS's "no more" (204); outside, a plain 400.
  if (session) {
    record(204, 'session ended');
    deps.kv.delete(keys.session(session.token));
    return void res.status(204).end();
  }
  record(400, 'refused');
  res.status(400).type('text/plain').send('Bad Request\n');
}

/** A device of this adapter, by id. */
function ours(deps: AcsDeps, id: string): DeviceRecord | undefined {
  const d = deps.core.devices.get(id);
  return d && deps.core.profiles.get(d.profile)?.adapter === NAME ? d : undefined;
}

/**
 * Inform always opens a new session, whatever cookie came with it (TR-069 §3.7.1.1). True when it answered an
 * active device's Inform with the Digest challenge: the CPE will send the same Inform again with credentials.
 */
function inform(deps: AcsDeps, req: Request, res: Response, msg: Message, m: InformMessage, checked?: string): boolean {
  const { core, config } = deps;
  const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'inform' };
  const acs = acsAuth(deps);
  let device = candidateIds(m.deviceId)
    .map((id) => ours(deps, id))
    .find((d) => d !== undefined);
  if (!device && config.unknownCpe === 'pending') device = registerPending(deps, m);
  if (!device) {
    core.files.deny(req, res, 401, `unknown CPE ${cpeId(m.deviceId)}`, info, acsChallenge(deps, req, false));
    return false;
  }
  const passive = device.status === 'pending';
  // A CPE registered as pending by an older APS has no model yet: its Inform names it.
  if (passive && device.model === null && device.id === cpeId(m.deviceId)) {
    const model = modelOf(deps, device.profile, m, { quiet: true });
    if (model) device = core.devices.upsert({ id: device.id, model });
  }
  const aliases = [...new Set([device.id, m.deviceId.serialNumber, cpeId(m.deviceId)])];
  if (!passive && checked !== undefined && checked !== device.id) {
    core.files.deny(req, res, 401, `credentials of ${checked}, Inform claims ${device.id}`, info, acsChallenge(deps, req, false));
    return false;
  }
  if (!passive && checked === undefined) {
    const d = device;
    // Failures counted per device and address; while either backs off or is locked, nothing is checked.
    const attempt = core.access.attempt(d.id, req.ip);
    if (attempt.held) {
      core.files.deny(req, res, 401, `${attempt.held} (Inform claims ${d.id})`, info, acsChallenge(deps, req, false));
      return false;
    }
    const auth = authenticate(req, {
      ...acs,
      nonceCounts: deps.kv,
      lookupPassword: (u) => (aliases.includes(u) ? core.devices.secretOf(d) : undefined),
    });
    attempt.done(auth.ok ? true : auth.checked ? false : null, auth.ok ? undefined : auth.reason);
    // Until it authenticates, the request is nobody's: the event is not filed under the id the body claims.
    if (!auth.ok) {
      core.files.deny(req, res, 401, `${auth.reason} (Inform claims ${d.id})`, info, acsChallenge(deps, req, auth.stale));
      return true;
    }
  }
  info.deviceId = device.id;
  const report = informReport(m);
  // 122 random bits from node's pooled generator (randomBytes per session was ~1 % of the server's CPU, issue
  // 15), written as the 32 characters the cookie takes.
  const token = randomUUID().replaceAll('-', '');
  // A fresh random token: no row can hold it yet, so the session's first write need not read SQLite for the
  // value it goes over (the group commit's compare-and-set base; one statement per session, issue 15).
  deps.kv.knownAbsent(keys.session(token));
  const session: SessionState = {
    token,
    deviceId: device.id,
    ns: msg.ns,
    passive,
    secure: req.secure,
    ip: req.ip ?? '',
    usernames: passive ? [] : aliases,
    softwareVersion: report.firmware,
    cpeDone: false,
    sent: [],
    sentKeys: [],
  };
  saveSession(deps, session);
  // Path=/: a reverse proxy may publish the ACS under another path; the cookie must still come back.
  res.setHeader('Set-Cookie', `${COOKIE}=${token}; Path=/; HttpOnly${req.secure ? '; Secure' : ''}`);
  const ua = req.get('user-agent') ?? null;
  core.events.record({ ...info, status: 200, ip: req.ip, ua, detail: `Inform: ${report.events.join(', ') || '(no event)'}` });
  const { events, deviceId, ...values } = report;
  if (passive) {
    // Anybody can send a pending CPE's Inform: the first ConnectionRequestURL stays, so a later
    // unauthenticated Inform cannot point `aps notify` somewhere else once the CPE is approved.
    const first = pendingCrUrl(deps, device.id, values.connectionRequestUrl);
    if (first !== undefined) values.connectionRequestUrl = first;
  } else if (deps.kv.get(keys.pendingCpe(device.id)) !== undefined) {
    deps.kv.delete(keys.pendingCpe(device.id)); // approved, and now authenticated: its own reports count
  }
  core.events.report({
    deviceId: device.id,
    ip: req.ip,
    ua,
    reported: { ...values, cwmpDeviceId: deviceId, lastInform: { at: new Date().toISOString(), events } },
  });
  if (!passive)
    beforeSession(deps, device.id, token, { softwareVersion: report.firmware, bootstrap: events.includes('0 BOOTSTRAP') }, Date.now());
  send(res, { kind: 'InformResponse', maxEnvelopes: 1 }, replyHeader(msg));
  return false;
}

/** The ConnectionRequestURL a pending CPE reported first (this one, if it is the first). */
function pendingCrUrl(deps: AcsDeps, deviceId: string, reported: string | undefined): string | undefined {
  const key = keys.pendingCpe(deviceId);
  const known = deps.kv.get<PendingCpe>(key);
  if (known?.connectionRequestUrl !== undefined) return known.connectionRequestUrl;
  // A device made pending before this record existed: what it reported so far counts as the first.
  const before = deps.core.devices.state(deviceId)?.reported.connectionRequestUrl;
  const first = typeof before === 'string' ? before : reported;
  if (first !== undefined || known === undefined)
    deps.kv.set(key, (first !== undefined ? { connectionRequestUrl: first } : {}) satisfies PendingCpe);
  return first;
}

function registerPending(deps: AcsDeps, m: InformMessage): DeviceRecord | undefined {
  const id = cpeId(m.deviceId);
  const profile = deps.config.pendingProfile ?? deps.core.profiles.list().find((p) => p.adapter === NAME)?.name;
  // Never take over an id another adapter's device already uses.
  if (!profile || !candidateIds(m.deviceId).includes(id) || deps.core.devices.get(id)) return undefined;
  const waiting = deps.core.devices.countPending();
  if (waiting >= deps.config.maxPending) {
    deps.log.warn(
      { device: id, pending: waiting, maxPending: deps.config.maxPending },
      'unknown CPE not registered: maxPending CPEs already wait for approval',
    );
    return undefined;
  }
  const model = modelOf(deps, profile, m);
  let device: DeviceRecord;
  try {
    device = deps.core.devices.upsert({ id, profile, status: 'pending', model });
  } catch (e) {
    // The id is another family's device (the scoped directory cannot see it): never taken over, and
    // refused like any unknown CPE, so the answer tells nothing about ids other families use.
    if (!isApsError(e)) throw e;
    deps.log.warn({ device: id, reason: e.message }, 'unknown CPE not registered');
    return undefined;
  }
  deps.log.info({ device: id, profile, model }, 'unknown CPE registered as pending');
  forgetStalePending(deps);
  deps.kv.set(keys.pendingCpe(id), {} satisfies PendingCpe);
  return device;
}

/**
 * The Inform's ProductClass as the device model when the profile lists it (in the profile's spelling), so
 * an approved CPE gets its model's firmware without an extra `device set --model`. The id of a pending CPE
 * is OUI-ProductClass-SerialNumber, so a later Inform cannot claim another class for the same device.
 */
function modelOf(deps: AcsDeps, profile: string, m: InformMessage, o: { quiet?: boolean } = {}): string | null {
  const pc = m.deviceId.productClass.trim().toLowerCase();
  const model = deps.core.profiles.get(profile)?.models.find((x) => x.toLowerCase() === pc);
  if (!model && !o.quiet)
    deps.log.info(
      { device: cpeId(m.deviceId), productClass: m.deviceId.productClass, profile },
      'ProductClass is not a model of the profile: no model set',
    );
  return model ?? null;
}

/**
 * Drops the pending-CPE records of devices approved or removed since (the cap itself is counted in the store,
 * ctx.devices.countPending): done when a CPE registers, not on every unknown CPE's request.
 */
function forgetStalePending(deps: AcsDeps): void {
  for (const { key } of deps.kv.entries<PendingCpe>(keys.allPendingCpes)) {
    if (deps.core.devices.get(key.slice(keys.allPendingCpes.length))?.status !== 'pending') deps.kv.delete(key);
  }
}

/**
 * A TransferComplete without a session (its session expired during a long transfer, or the CPE posts it
 * on its own): accepted with the device's own credentials, Digest (or Basic over HTTPS) with the device
 * id as user name, and matched by CommandKey among that device's downloads.
 */
function lateTransferComplete(
  deps: AcsDeps,
  req: Request,
  res: Response,
  msg: Message,
  m: TransferCompleteMessage,
  info: DeviceRequestInfo,
  checked?: string,
): void {
  const acs = acsAuth(deps);
  const pre = checked !== undefined ? ours(deps, checked) : undefined;
  if (pre) return acceptLateTransferComplete(deps, req, res, msg, m, info, pre.id);
  // The device the header names is looked up before anything is checked, so a wrong password counts
  // against that device (review 13, finding 1), not only against the address.
  const user = claimedUser(req);
  const named = user !== undefined ? ours(deps, user) : undefined;
  const device = named?.status === 'active' ? named : undefined;
  const attempt = deps.core.access.attempt(device?.id ?? null, req.ip);
  if (attempt.held)
    return deps.core.files.deny(
      req,
      res,
      401,
      `TransferComplete outside a CWMP session: ${attempt.held}`,
      info,
      acsChallenge(deps, req, false),
    );
  const lookupPassword = (u: string): string | undefined => (device && u === device.id ? deps.core.devices.secretOf(device) : undefined);
  const auth = authenticate(req, { ...acs, nonceCounts: deps.kv, lookupPassword });
  attempt.done(auth.ok ? true : auth.checked ? false : null, auth.ok ? undefined : auth.reason);
  if (!auth.ok || !device) {
    return deps.core.files.deny(
      req,
      res,
      401,
      `TransferComplete outside a CWMP session: ${auth.ok ? 'no device' : auth.reason}`,
      info,
      acsChallenge(deps, req, !auth.ok && auth.stale),
    );
  }
  acceptLateTransferComplete(deps, req, res, msg, m, info, device.id);
}

function acceptLateTransferComplete(
  deps: AcsDeps,
  req: Request,
  res: Response,
  msg: Message,
  m: TransferCompleteMessage,
  info: DeviceRequestInfo,
  deviceId: string,
): void {
  const r = transferComplete(deps, deviceId, { softwareVersion: undefined, sentKeys: [m.commandKey] }, m.commandKey, m.fault);
  if (r === 'unknown') unknownTransfer(deps, deviceId, m);
  deps.core.events.record({
    ...info,
    deviceId,
    file: 'transfer-complete',
    status: 200,
    ip: req.ip,
    ua: req.get('user-agent') ?? null,
    detail: `TransferComplete ${m.commandKey.slice(0, 32)} outside a session`,
  });
  send(res, { kind: 'TransferCompleteResponse' }, replyHeader(msg));
}

function unknownTransfer(deps: AcsDeps, deviceId: string, m: TransferCompleteMessage): void {
  deps.log.warn({ device: deviceId, commandKey: m.commandKey, faultCode: m.fault.faultCode }, 'TransferComplete for an unknown CommandKey');
  deps.core.events.record({
    deviceId,
    adapter: NAME,
    file: 'transfer-complete',
    status: 404,
    detail: `unknown CommandKey ${m.commandKey.slice(0, 32)}`,
  });
}

function inSession(deps: AcsDeps, req: Request, res: Response, s: SessionState, parsed: ParsedCwmp): void {
  if (parsed.kind === 'Empty') {
    s.cpeDone = true;
    if (s.awaiting) {
      // An empty POST while our Download is unanswered (TR-069 §3.7.2: a request is answered by its
      // response or a fault): a protocol error. Counted like a Download left unanswered; nothing more
      // is sent in this session.
      deps.log.warn({ device: s.deviceId, commandKey: s.awaiting }, 'empty POST while a Download is unanswered: session ended');
      downloadUnanswered(deps, s.deviceId, s.awaiting);
      s.awaiting = undefined;
      s.ended = true;
    }
    return next(deps, req, res, s);
  }
  const m = parsed.message;
  const header = replyHeader(parsed);
  switch (m.kind) {
    case 'TransferComplete': {
      const r = transferComplete(deps, s.deviceId, s, m.commandKey, m.fault);
      if (r === 'unknown') unknownTransfer(deps, s.deviceId, m);
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
      // A SOAP Fault without a CWMP detail still failed: 9002 "Internal error", never 0 ("success").
      const code = m.cwmp?.faultCode || INTERNAL_ERROR;
      const err = new CpeFaultError(code, m.cwmp?.faultString || m.faultstring, s.awaiting);
      deps.log.warn({ err, device: s.deviceId, faultCode: err.faultCode, commandKey: err.commandKey }, 'CWMP fault from the CPE');
      // Recorded as what it is, the CPE's fault, with the 204 the CPE got.
      deps.core.events.record({
        deviceId: s.deviceId,
        adapter: NAME,
        file: 'cwmp',
        status: 204,
        fault: { code: String(err.faultCode), message: err.faultString },
        detail: `CPE fault ${err.faultCode}${err.commandKey ? ` answering Download ${err.commandKey}` : ''}`,
      });
      if (s.awaiting) downloadRefused(deps, s, s.awaiting, { faultCode: err.faultCode, faultString: err.faultString });
      s.awaiting = undefined;
      // The session ends here (issue #4): no further requests after a fault.
      s.ended = true;
      saveSession(deps, s);
      return void res.status(204).end();
    }
    case 'Download':
    case 'Inform':
      // Requests only an ACS sends (Inform is handled before): refuse the method, keep the session.
      return send(res, acsFault(8000), header);
    default:
      // A response to nothing we asked: drop it and end politely.
      deps.log.warn({ device: s.deviceId, kind: m.kind }, 'unexpected CWMP message');
      s.ended = true;
      saveSession(deps, s);
      return void res.status(204).end();
  }
}

/** After the CPE's empty POST or a response: the next Download, or 204 (TR-069 §3.7.2.4). */
function next(deps: AcsDeps, _req: Request, res: Response, s: SessionState): void {
  const device = deps.core.devices.get(s.deviceId);
  if (s.cpeDone && !s.ended && !s.passive && device?.status === 'active') {
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
