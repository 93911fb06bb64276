import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { CwmpParseError, decodeBody, parseCwmp } from './soap.ts';

const XML =
  '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0"><s:Body><c:GetRPCMethods/></s:Body></s:Envelope>';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof CwmpParseError && e.reason === code);
}

test('identity, gzip, x-gzip, deflate (zlib and raw) all decode to the same bytes', async () => {
  const raw = Buffer.from(XML);
  assert.equal((await decodeBody(raw, undefined)).toString(), XML);
  assert.equal((await decodeBody(raw, 'identity')).toString(), XML);
  assert.equal((await decodeBody(gzipSync(raw), 'gzip')).toString(), XML);
  assert.equal((await decodeBody(gzipSync(raw), ' X-GZIP ')).toString(), XML);
  assert.equal((await decodeBody(deflateSync(raw), 'deflate')).toString(), XML);
  assert.equal((await decodeBody(deflateRawSync(raw), 'deflate')).toString(), XML);
  assert.equal((await decodeBody(gzipSync(gzipSync(raw)), 'gzip, gzip')).toString(), XML);
  assert.equal(parseCwmp(await decodeBody(gzipSync(raw), 'gzip')).kind, 'Message');
});

test('a compression bomb stops at the limit instead of expanding', async () => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros, ~64 KiB compressed
  assert.ok(bomb.byteLength < 1024 * 1024);
  await rejectsWith(decodeBody(bomb, 'gzip', { maxBytes: 1024 * 1024 }), 'too-large');
  await rejectsWith(decodeBody(deflateSync(Buffer.alloc(4 * 1024 * 1024)), 'deflate', { maxBytes: 1024 }), 'too-large');
});

test('oversized input, unknown coding and corrupt streams are typed errors', async () => {
  await rejectsWith(decodeBody(Buffer.alloc(2048), undefined, { maxBytes: 1024 }), 'too-large');
  await rejectsWith(decodeBody(Buffer.from(XML), 'br'), 'unsupported-encoding');
  await rejectsWith(decodeBody(Buffer.from(XML), 'gzip, gzip, gzip'), 'unsupported-encoding');
  await rejectsWith(decodeBody(Buffer.from('not gzip'), 'gzip'), 'malformed-xml');
  await rejectsWith(decodeBody(Buffer.from([1, 2, 3, 4]), 'deflate'), 'malformed-xml');
});
