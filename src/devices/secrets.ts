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

// One random master key per data folder (data/secret.key, mode 0600). Purpose keys are derived from it
// with HKDF, so the clear device secrets that Digest needs are encrypted at rest (AES-256-GCM), nonces and
// signed URLs are HMACs no client can forge, and a copied database alone reveals no password.
export class Keyring {
  private readonly master: Buffer;
  // Derived keys are memoised: HKDF per call cost ~12 µs on the device hot path (bench/README.md).
  private readonly derived = new Map<string, Buffer>();

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
}

const SCRYPT = { N: 16384, r: 8, p: 1 };

function formatHash(salt: Buffer, hash: Buffer): string {
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (e, key) => (e ? reject(e) : resolve(key))));
}

/** scrypt hash in a self-describing string: `scrypt$N$r$p$salt$hash`. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return formatHash(salt, scryptSync(password, salt, 32, SCRYPT));
}

/** The same, on libuv's thread pool: for batches (apply), hashed in parallel and outside any transaction. */
export async function hashPasswordAsync(password: string): Promise<string> {
  const salt = randomBytes(16);
  return formatHash(salt, await scryptAsync(password, salt, 32, SCRYPT));
}

interface ScryptHash {
  salt: Buffer;
  expected: Buffer;
  options: ScryptOptions;
}

function parseHash(stored: string): ScryptHash | undefined {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return undefined;
  return {
    salt: Buffer.from(salt, 'base64'),
    expected: Buffer.from(hash, 'base64'),
    options: { N: Number(n), r: Number(r), p: Number(p) },
  };
}

/**
 * Checks a password against a stored scrypt hash on libuv's thread pool: a device request never blocks
 * the event loop for the ~35 ms scrypt takes, so other devices keep being served meanwhile.
 */
export async function verifyPasswordHash(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (!h) return false;
  return timingSafeEqual(await scryptAsync(password, h.salt, h.expected.length, h.options), h.expected);
}

/** The same check, blocking: for admin writes (CLI, apply), never on a device request. */
export function verifyPasswordHashSync(password: string, stored: string): boolean {
  const h = parseHash(stored);
  return !!h && timingSafeEqual(scryptSync(password, h.salt, h.expected.length, h.options), h.expected);
}

/** Constant-time equality of two secrets of any length (compares their SHA-256). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
