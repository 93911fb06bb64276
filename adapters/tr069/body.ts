// HTTP body decoding for CWMP POSTs. Some CPEs gzip their Informs (RFC 9110 §8.4 Content-Encoding); the
// decoded size is bounded by zlib's maxOutputLength, so a small compression bomb cannot expand past the
// limit in memory: zlib stops and errors as soon as the output would exceed it.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CwmpParseError } from './cwmp-types.ts';
import { DEFAULT_MAX_BODY_BYTES } from './soap-parse.ts';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

export interface DecodeOptions {
  /** Largest accepted body, before and after decoding. */
  maxBytes?: number;
}

/**
 * Undo Content-Encoding (identity, gzip, x-gzip, deflate; a comma list is undone right to left).
 * Throws CwmpParseError 'too-large' or 'unsupported-encoding'; a corrupt stream is 'malformed-xml'.
 */
export async function decodeBody(body: Uint8Array, contentEncoding: string | undefined, options: DecodeOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  let buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buf.byteLength > maxBytes) throw new CwmpParseError('too-large', `body exceeds ${maxBytes} bytes`);
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length > 2) throw new CwmpParseError('unsupported-encoding', 'too many content codings');
  for (const coding of codings.reverse()) {
    buf = await decodeOne(buf, coding, maxBytes);
  }
  return buf;
}

async function decodeOne(buf: Buffer, coding: string, maxBytes: number): Promise<Buffer> {
  const opts = { maxOutputLength: maxBytes };
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return await gunzip(buf, opts);
      case 'deflate':
        // "deflate" means zlib-wrapped (RFC 9110 §8.4.1.2), but some senders emit raw deflate.
        return await inflate(buf, opts).catch(async (e: unknown) => {
          if (isTooLarge(e)) throw e;
          return inflateRaw(buf, opts);
        });
      default:
        throw new CwmpParseError('unsupported-encoding', `unsupported Content-Encoding ${coding.slice(0, 32)}`);
    }
  } catch (e) {
    if (e instanceof CwmpParseError) throw e;
    if (isTooLarge(e)) throw new CwmpParseError('too-large', `decoded body exceeds ${maxBytes} bytes`);
    throw new CwmpParseError('malformed-xml', `corrupt ${coding} stream`);
  }
}

function isTooLarge(e: unknown): boolean {
  return e instanceof RangeError || (e as { code?: string } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
}
