import { createCipheriv, createDecipheriv, createHash, randomBytes, type CipherGCM } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ApsError } from '../errors.ts';

// Backups hold a device's secrets (SIP and admin passwords, certificates), so they are sealed at rest like
// secret variables: AES-256-GCM under a key derived from data/secret.key, bound to the device id (a file
// moved into another device's folder does not open). Layout: "APSB" 0x01, 12-byte IV, ciphertext, 16-byte tag.
const MAGIC = Buffer.from([0x41, 0x50, 0x53, 0x42, 0x01]);
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Counts, hashes and encrypts what flows through; fails with ApsError('too_large') as soon as more than
 * `limit` bytes have arrived, before writing them.
 */
export class SealStream extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');
  private readonly cipher: CipherGCM;
  private readonly header: Buffer;
  private started = false;
  private readonly limit: number;

  constructor(key: Buffer, deviceId: string, limit: number) {
    super();
    const iv = randomBytes(IV_BYTES);
    this.cipher = createCipheriv('aes-256-gcm', key, iv);
    this.cipher.setAAD(Buffer.from(deviceId, 'utf8'));
    this.header = Buffer.concat([MAGIC, iv]);
    this.limit = limit;
  }

  /** The sha256 of the clear bytes; call once the stream has finished. */
  sha256(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.size += bytes.length;
    if (this.size > this.limit) return cb(new ApsError('too_large', `a backup may be at most ${this.limit} bytes`));
    this.hash.update(bytes);
    const out = this.cipher.update(bytes);
    cb(null, this.start(out));
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.start(Buffer.concat([this.cipher.final(), this.cipher.getAuthTag()])));
  }

  private start(out: Buffer): Buffer {
    if (this.started) return out;
    this.started = true;
    return Buffer.concat([this.header, out]);
  }
}

/** The clear bytes of a sealed backup file; undefined when it is not one or does not open with this key. */
export function openSealed(file: Buffer, key: Buffer, deviceId: string): Buffer | undefined {
  if (file.length < MAGIC.length + IV_BYTES + TAG_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const iv = file.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(Buffer.from(deviceId, 'utf8'));
    d.setAuthTag(file.subarray(file.length - TAG_BYTES));
    return Buffer.concat([d.update(file.subarray(MAGIC.length + IV_BYTES, file.length - TAG_BYTES)), d.final()]);
  } catch {
    return undefined;
  }
}
