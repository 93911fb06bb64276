// identify → authenticate → refuse, written once for every adapter (issue 8). An adapter's own identify step
// says which of its devices a request names and what it claimed; admit() then checks the credentials the
// policy asks for, the device's status, and answers every refusal through the one file responder: the
// same status and body whether a device exists or the password was wrong, the reason in the log only.
import type { Request, Response } from 'express';
import type { DeviceDirectory, FileResponder } from '../adapter.ts';
import { normalizeMac } from '../devices/mac.ts';
import type { DeviceRecord } from '../store/index.ts';
import type { DeviceRequestInfo } from './device-files.ts';
import type { AccessAttempt, AccessGuard } from './access-guard.ts';
import { digestChallenge, nonceCountCheck, parseBasic, verifyDigest, type NonceCountStore } from './digest.ts';

/** What an adapter's identify step found in a request. */
export interface Identified {
  /** The device the request names, among the adapter's own devices; undefined when none matches. */
  device: DeviceRecord | undefined;
  /** What the request claimed, for the log ("user bob", "MAC 00908f…"); never a secret. */
  claim: string;
  /** Credentials the protocol carries outside the Authorization header (e.g. a `u`/`p` query). */
  password?: { user: string; password: string };
  /** A refusal the identify step decided itself (e.g. two MACs in one request disagree). */
  refuse?: { status: 401 | 403 | 404; reason: string };
}

export interface AccessPolicy {
  realm: string;
  /** Authorization schemes accepted; a 401 carries their challenges in this order. */
  schemes: ReadonlyArray<'basic' | 'digest'>;
  /**
   * 'required': a device without a password is refused; 'if-set': checked only when it has one;
   * 'when-sent': checked only when the request carries credentials (they unlock more, e.g. a
   * device's secret lines; without them the adapter serves less).
   */
  password: 'required' | 'if-set' | 'when-sent';
  /** An unknown device asked without credentials: 404 where the URL names a file, 401 where it names a user. */
  unknownStatus: 401 | 404;
  /** Pending devices are admitted (the adapter serves them only a product-wide part). Default: 403. */
  allowPending?: boolean;
  /** Whether a login name means this device; default: its id or its MAC. */
  login?: (device: DeviceRecord, username: string) => boolean;
}

/** The name a device may log in with by default: its id or its MAC. */
export function loginMatches(device: DeviceRecord, username: string): boolean {
  return username === device.id || (device.mac !== null && normalizeMac(username) === device.mac);
}

export interface DeviceAccess {
  /** The device when every check passed; otherwise undefined, and the refusal has been answered. */
  admit(
    req: Request,
    res: Response,
    info: DeviceRequestInfo,
    identified: Identified,
    policy: AccessPolicy,
  ): Promise<DeviceRecord | undefined>;
  /** The WWW-Authenticate header of a 401 under this policy (fresh Digest nonce). */
  challenge(policy: AccessPolicy, stale?: boolean): Record<string, string>;
  /**
   * A login outside HTTP (an FTP USER/PASS) for the device the name means, or undefined for none: the
   * device when its password is right, under the same failure tracking as admit(). An unknown name costs
   * what a wrong password costs.
   */
  login(device: DeviceRecord | undefined, login: { username: string; password: string; ip: string }): Promise<DeviceRecord | undefined>;
  /**
   * The failure tracking admit() applies, for a protocol that checks credentials itself (a management session's
   * Digest): `held` when the device or the address is backing off or locked (refuse without checking),
   * else report the outcome with done().
   */
  attempt(deviceId: string | null, ip: string | undefined): AccessAttempt;
}

export interface DeviceAccessDeps {
  devices: DeviceDirectory;
  files: FileResponder;
  /** The adapter's Digest nonce key. */
  digestKey: Buffer;
  /** Where Digest nonce-counts are kept (the adapter's kv state): a captured header is accepted once. */
  nonceCounts: NonceCountStore;
  /** The adapter's name, for the failure records. */
  adapter: string;
  guard: Pick<AccessGuard, 'attempt'>;
}

export function deviceAccess(deps: DeviceAccessDeps): DeviceAccess {
  const challenge = (policy: AccessPolicy, stale = false): Record<string, string> => {
    const values = policy.schemes.map((s) =>
      s === 'digest'
        ? digestChallenge({ realm: policy.realm, secretKey: deps.digestKey, now: Date.now(), stale })
        : `Basic realm="${policy.realm}"`,
    );
    // Node writes an array as separate WWW-Authenticate headers.
    return { 'WWW-Authenticate': (values.length === 1 ? values[0] : values) as string };
  };

  /**
   * Null when the credentials are good; otherwise the reason, whether a credential was really compared
   * (`checked`: only that counts as a guess), and whether the Digest nonce was only stale or replayed.
   */
  const checkCredentials = async (
    req: Request,
    device: DeviceRecord,
    identified: Identified,
    policy: AccessPolicy,
  ): Promise<{ reason: string; checked: boolean; stale?: boolean } | null> => {
    const login = policy.login ?? loginMatches;
    if (!device.passwordHash) {
      // No password to check against: refused at the cost of a real check, like an unknown device.
      const sent = identified.password ?? parseBasic(req.get('authorization'));
      if (sent) await deps.devices.rejectUnknown('user' in sent ? sent.user : sent.username, sent.password);
      return { reason: 'device has no password', checked: sent !== null };
    }
    // A login naming someone else costs the check a wrong password costs: the timing tells nothing.
    const check = async (user: string, password: string): Promise<boolean> =>
      login(device, user) ? deps.devices.verifyPassword(device, password) : deps.devices.rejectUnknown(user, password);
    if (identified.password) {
      const { user, password } = identified.password;
      return (await check(user, password)) ? null : { reason: 'wrong password', checked: true };
    }
    const header = req.get('authorization');
    if (!header) return { reason: 'no credentials', checked: false };
    const basic = parseBasic(header);
    if (basic && policy.schemes.includes('basic')) {
      return (await check(basic.username, basic.password)) ? null : { reason: 'wrong Basic credentials', checked: true };
    }
    if (!basic && policy.schemes.includes('digest')) {
      const r = verifyDigest({
        header,
        method: req.method,
        realm: policy.realm,
        secretKey: deps.digestKey,
        now: Date.now(),
        uri: req.originalUrl,
        lookupPassword: (u) => (login(device, u) ? deps.devices.secretOf(device) : undefined),
        acceptNonceCount: nonceCountCheck(deps.nonceCounts),
      });
      if (r.kind === 'ok') return null;
      // A replay is answered like an expired nonce: the real device retries with a fresh one, silently.
      // Only a response computed with a password (or a name that is not the device's) is a guess.
      return {
        reason: `Digest ${r.kind}`,
        checked: r.kind === 'bad-response' || r.kind === 'unknown-user',
        stale: r.kind === 'stale' || r.kind === 'replay',
      };
    }
    return { reason: 'unsupported authorization scheme', checked: false };
  };

  const attempt = (deviceId: string | null, ip: string | undefined): AccessAttempt =>
    deps.guard.attempt({ adapter: deps.adapter, deviceId, ip });

  return {
    challenge,
    attempt,
    async login(device, l): Promise<DeviceRecord | undefined> {
      // `once: l`: the FTP server offers one login object to every FTP adapter; a wrong one counts once.
      const a = deps.guard.attempt({ adapter: deps.adapter, deviceId: device?.id ?? null, ip: l.ip, once: l });
      // Held back: refused at the cost of a check, so a device under attack answers no faster than a name that does not exist.
      if (a.held) return deps.devices.rejectUnknown(l.username, l.password).then(() => undefined);
      const ok = await (
        device?.passwordHash && loginMatches(device, l.username)
          ? deps.devices.verifyPassword(device, l.password)
          : deps.devices.rejectUnknown(l.username, l.password)
      ).catch((e: unknown) => {
        a.done(null);
        throw e;
      });
      a.done(ok, ok ? undefined : 'wrong login');
      return ok ? device : undefined;
    },
    async admit(req, res, info, identified, policy): Promise<DeviceRecord | undefined> {
      const deny = (status: 401 | 403 | 404, reason: string, stale = false): undefined => {
        deps.files.deny(req, res, status, reason, info, status === 401 ? challenge(policy, stale) : {});
        return undefined;
      };
      if (identified.refuse) return deny(identified.refuse.status, identified.refuse.reason);
      const { device } = identified;
      if (!device) {
        const sent = identified.password ?? parseBasic(req.get('authorization'));
        const status = sent || req.get('authorization') ? 401 : policy.unknownStatus;
        if (sent) {
          // A credential check is paid for an unknown name too: refusing it is no faster than a wrong password.
          const a = attempt(null, req.ip);
          await deps.devices.rejectUnknown('user' in sent ? sent.user : sent.username, sent.password);
          if (a.held) return deny(401, `unknown ${identified.claim}: ${a.held}`);
          a.done(false, `unknown ${identified.claim}`);
        }
        return deny(status, `unknown ${identified.claim}`);
      }
      info.deviceId = device.id;
      const sent = identified.password !== undefined || req.get('authorization') !== undefined;
      const check = policy.password === 'required' || (policy.password === 'if-set' ? device.passwordHash !== null : sent);
      if (check) {
        // While the device or the address backs off or is locked, nothing is checked: even the right password is refused.
        const a = attempt(device.id, req.ip);
        if (a.held) {
          // Refused at the cost of a check: a device that backs off answers no faster than an unknown name.
          const sent = identified.password ?? parseBasic(req.get('authorization'));
          if (sent) await deps.devices.rejectUnknown('user' in sent ? sent.user : sent.username, sent.password);
          return deny(401, a.held);
        }
        const failed = await checkCredentials(req, device, identified, policy).catch((e: unknown) => {
          a.done(null);
          throw e;
        });
        a.done(failed === null ? true : failed.checked ? false : null, failed?.reason);
        if (failed) return deny(401, failed.reason, failed.stale);
      }
      if (device.status !== 'active' && !policy.allowPending) return deny(403, 'device is pending approval');
      return device;
    },
  };
}
