import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface BlobInfo {
  sha256: string;
  md5: string;
  size: number;
}

/** Where artifact bytes live, content-addressed by sha256. A shared/S3 store would implement the same. */
export interface BlobStore {
  putFile(path: string): Promise<BlobInfo>;
  putBuffer(bytes: Buffer): Promise<BlobInfo>;
  /** A local path the file responder can stream from. */
  pathOf(sha256: string): string;
  has(sha256: string): boolean;
  remove(sha256: string): Promise<void>;
}

const SHA_RE = /^[0-9a-f]{64}$/;

export class FsBlobStore implements BlobStore {
  private readonly root: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'blobs');
    this.tmp = join(this.root, 'tmp');
    // A write killed mid-way (kill -9, power loss) leaves its temp file: openCore's sweepLeftovers removes it.
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
  }

  pathOf(sha256: string): string {
    if (!SHA_RE.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  async putFile(path: string): Promise<BlobInfo> {
    return this.write(createReadStream(path));
  }

  async putBuffer(bytes: Buffer): Promise<BlobInfo> {
    return this.write([bytes]);
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  // Hash while copying into a temp file, fsync, then rename into place: a crash or a bad upload never
  // leaves a partial blob under its final name, and identical bytes are stored once.
  private async write(source: NodeJS.ReadableStream | Iterable<Buffer>): Promise<BlobInfo> {
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    const tmpPath = join(this.tmp, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb): void {
        sha.update(chunk);
        md5.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source as NodeJS.ReadableStream, hasher, createWriteStream(tmpPath, { mode: 0o600 }));
      const fh = await open(tmpPath, 'r');
      await fh.sync();
      await fh.close();
      const info: BlobInfo = { sha256: sha.digest('hex'), md5: md5.digest('hex'), size };
      const final = this.pathOf(info.sha256);
      if (existsSync(final) && (await stat(final)).size === size) {
        await rm(tmpPath, { force: true });
      } else {
        mkdirSync(join(this.root, info.sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
        await rename(tmpPath, final);
      }
      return info;
    } catch (e) {
      await rm(tmpPath, { force: true });
      throw e;
    }
  }
}
