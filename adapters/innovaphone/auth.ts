// Optional HTTP credentials per device. The update client runs unauthenticated by default (seed 003:
// "all HTTP requests are executed unauthenticated"); a site may set credentials in the device's
// HTTP-Client settings, and then every request of that device (script, firmware, config, backup PUT)
// must carry them: HTTP Digest, or Basic over HTTPS only. A device without a password in APS is served
// unauthenticated, as the devices expect, and that is logged for backups.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { digestChallenge, normalizeMac, parseBasic, verifyDigest, type DeviceRecord } from '../../src/adapter-api.ts';
import type { Services } from './files.ts';

export type AuthResult = { ok: true; mode: 'none' | 'basic' | 'digest' } | { ok: false; reason: string; stale: boolean };

type AuthServices = Pick<Services, 'devices' | 'state' | 'config'>;

const NONCE_TTL_MS = 5 * 60_000;

/** The nonce key, made once and kept in the adapter's state so every node and restart accepts the same nonces. */
function digestKey(s: AuthServices): Buffer {
  const known = s.state.get<string>('digest-key');
  if (known) return Buffer.from(known, 'base64');
  const key = randomBytes(32);
  s.state.set('digest-key', key.toString('base64'));
  return key;
}

/** The device's id or its MAC (in any spelling) as the user name. */
function namesDevice(device: DeviceRecord, username: string): boolean {
  return username === device.id || (device.mac !== null && normalizeMac(username) === device.mac);
}

export function needsAuth(device: DeviceRecord): boolean {
  return device.passwordHash !== null;
}

export async function authenticate(s: AuthServices, req: Request, device: DeviceRecord): Promise<AuthResult> {
  if (!needsAuth(device)) return { ok: true, mode: 'none' };
  const header = req.get('authorization');
  if (header === undefined) return { ok: false, reason: 'no credentials', stale: false };
  if (/^\s*basic\s/i.test(header)) {
    // A clear password never crosses plain HTTP.
    if (!req.secure) return { ok: false, reason: 'Basic refused over plain HTTP', stale: false };
    const b = parseBasic(header);
    if (!b || !namesDevice(device, b.username)) return { ok: false, reason: 'wrong user name', stale: false };
    return (await s.devices.verifyPassword(device, b.password))
      ? { ok: true, mode: 'basic' }
      : { ok: false, reason: 'wrong password', stale: false };
  }
  const r = verifyDigest({
    header,
    method: req.method,
    realm: s.config.realm,
    secretKey: digestKey(s),
    now: Date.now(),
    uri: req.originalUrl,
    lookupPassword: (u) => (namesDevice(device, u) ? s.devices.secretOf(device) : undefined),
    acceptNonceCount: (nonce, nc) => {
      // Each (nonce, count) once, counts only growing (RFC 7616 §3.3): a captured header does not work twice.
      const key = `nonce:${nonce}`;
      const count = nc ?? 1;
      if (count <= (s.state.get<number>(key) ?? 0)) return false;
      s.state.set(key, count, NONCE_TTL_MS * 2);
      return true;
    },
  });
  if (r.kind === 'ok') return { ok: true, mode: 'digest' };
  return { ok: false, reason: `digest ${r.kind}`, stale: r.kind === 'stale' || r.kind === 'replay' };
}

/** WWW-Authenticate for a 401: Digest always, Basic too on HTTPS. */
export function challenge(s: AuthServices, req: Request, stale = false): Record<string, string> {
  const digest = digestChallenge({ realm: s.config.realm, secretKey: digestKey(s), now: Date.now(), stale });
  return { 'WWW-Authenticate': req.secure ? `${digest}, Basic realm="${s.config.realm.replace(/["\\]/g, '')}"` : digest };
}

/** Constant-time string comparison (backup tokens). */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
