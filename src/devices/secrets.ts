import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
  scryptSync,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.ts';

/** The most opened boxes a keyring remembers (one per device secret in use); past it the memo starts over. */
const MAX_OPENED = 20_000;

// One random master key per data folder (data/secret.key, mode 0600). Purpose keys are derived from it
// with HKDF, so the clear device secrets that Digest needs are encrypted at rest (AES-256-GCM), nonces and
// signed URLs are HMACs no client can forge, and a copied database alone reveals no password.
export class Keyring {
  private readonly master: Buffer;
  // Derived keys are memoised: HKDF per call cost ~12 µs on the device hot path (bench/README.md).
  private readonly derived = new Map<string, Buffer>();
  // Opened boxes by their text: a Digest check needs the device's clear secret at every message of a session, and an
  // AES-GCM open (a cipher object, base64 decoding, the tag check) cost more than the Digest itself (issue 15).
  // The same box always opens to the same text under this keyring; the clear secret is held in memory as the
  // request that needs it holds it anyway, never written anywhere. Bounded: it starts over when full.
  private readonly opened = new Map<string, string>();

  constructor(master: Buffer) {
    this.master = master;
  }

  static load(dataDir: string): Keyring {
    const file = join(dataDir, 'secret.key');
    if (!existsSync(file)) writeFileAtomic(file, randomBytes(32).toString('base64') + '\n', 0o600);
    return new Keyring(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  }

  key(purpose: string): Buffer {
    let k = this.derived.get(purpose);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', this.master, Buffer.alloc(0), `aps:${purpose}`, 32));
      this.derived.set(purpose, k);
    }
    return k;
  }

  hmac(purpose: string, data: string): Buffer {
    return createHmac('sha256', this.key(purpose)).update(data).digest();
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key('secret-box'), iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  decrypt(box: string): string | undefined {
    const known = this.opened.get(box);
    if (known !== undefined) return known;
    const plain = this.open(box);
    if (plain !== undefined) {
      if (this.opened.size >= MAX_OPENED) this.opened.clear();
      this.opened.set(box, plain);
    }
    return plain;
  }

  private open(box: string): string | undefined {
    const [v, iv, tag, body] = box.split('.');
    if (v !== 'v1' || !iv || !tag || body === undefined) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key('secret-box'), Buffer.from(iv, 'base64'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64')), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** encrypt() for bytes (a rendered file may be binary): version byte 1, iv (12), tag (16), body. */
  sealBytes(plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key('secret-box'), iv);
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([Buffer.of(1), iv, c.getAuthTag(), body]);
  }

  /** The bytes sealBytes() sealed; undefined when the box is not one, or was sealed under another key. */
  openBytes(box: Buffer): Buffer | undefined {
    if (box.length < 29 || box[0] !== 1) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key('secret-box'), box.subarray(1, 13));
      d.setAuthTag(box.subarray(13, 29));
      return Buffer.concat([d.update(box.subarray(29)), d.final()]);
    } catch {
      return undefined;
    }
  }
}

// Device passwords are machine credentials (long, random, set by the site), so a slow hash buys little
// against guessing while making a 100,000-device apply take half an hour. They are stored as a keyed hash:
// HMAC-SHA256 under a key derived from data/secret.key, with a per-device salt. A copied database alone
// reveals nothing (the key is not in it); with the key file too, a weak password could be guessed, which
// is also true of the AES-sealed secrets Digest needs. Format: `hmac$salt$mac`.
const KEYED = 'hmac';
const PASSWORD_KEY = 'device-password';

function keyedMac(keys: Keyring, salt: Buffer, password: string): Buffer {
  return createHmac('sha256', keys.key(PASSWORD_KEY)).update(salt).update(password, 'utf8').digest();
}

/** A device password's keyed hash: `hmac$salt$mac` (about a microsecond). */
export function hashPassword(keys: Keyring, password: string): string {
  const salt = randomBytes(16);
  return [KEYED, salt.toString('base64'), keyedMac(keys, salt, password).toString('base64')].join('$');
}

/** Which scheme a stored hash uses: keyed (current), scrypt (written before, verified and then rewritten). */
export function passwordHashScheme(stored: string): 'keyed' | 'scrypt' | undefined {
  const alg = stored.slice(0, stored.indexOf('$'));
  return alg === KEYED ? 'keyed' : alg === 'scrypt' ? 'scrypt' : undefined;
}

/** Checks a password against a keyed hash (constant time); false for any other format. */
export function verifyKeyedHash(keys: Keyring, password: string, stored: string): boolean {
  const [alg, salt, mac] = stored.split('$');
  if (alg !== KEYED || !salt || !mac) return false;
  const expected = Buffer.from(mac, 'base64');
  const got = keyedMac(keys, Buffer.from(salt, 'base64'), password);
  return expected.length === got.length && timingSafeEqual(got, expected);
}

// scrypt hashes (`scrypt$N$r$p$salt$hash`) were written before keyed hashes: still verified, so existing
// devices keep working, and each is rewritten as a keyed hash after its first successful check.
function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (e, key) => (e ? reject(e) : resolve(key))));
}

interface ScryptHash {
  salt: Buffer;
  expected: Buffer;
  options: ScryptOptions;
}

function parseScrypt(stored: string): ScryptHash | undefined {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return undefined;
  return {
    salt: Buffer.from(salt, 'base64'),
    expected: Buffer.from(hash, 'base64'),
    options: { N: Number(n), r: Number(r), p: Number(p) },
  };
}

/** Checks a password against a legacy scrypt hash on libuv's thread pool (~35 ms, never on the event loop). */
export async function verifyScryptHash(password: string, stored: string): Promise<boolean> {
  const h = parseScrypt(stored);
  if (!h) return false;
  return timingSafeEqual(await scryptAsync(password, h.salt, h.expected.length, h.options), h.expected);
}

/** The same check, blocking: for admin writes (CLI), never on a device request. */
export function verifyScryptHashSync(password: string, stored: string): boolean {
  const h = parseScrypt(stored);
  return !!h && timingSafeEqual(scryptSync(password, h.salt, h.expected.length, h.options), h.expected);
}

/** Constant-time equality of two secrets of any length (compares their SHA-256). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
