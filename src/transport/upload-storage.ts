import { randomBytes } from 'node:crypto';
import { createWriteStream, rm } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import type { Request } from 'express';
import type multer from 'multer';

/**
 * multer's disk storage with owner-only files (multer's own opens them with the umask's mode, 0644 by
 * default), named `<pid>-…` so one a killed server leaves is removed by sweepLeftovers (src/data-folder.ts).
 */
export function ownerOnlyStorage(dir: string): multer.StorageEngine {
  return {
    _handleFile(_req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
      const filename = `${process.pid}-${randomBytes(8).toString('hex')}`;
      const path = join(dir, filename);
      const out = createWriteStream(path, { mode: 0o600 });
      pipeline(file.stream, out, (err) => {
        if (err) rm(path, { force: true }, () => cb(err));
        else cb(null, { destination: dir, filename, path, size: out.bytesWritten });
      });
    },
    _removeFile(_req: Request, file: Express.Multer.File, cb: (error: Error | null) => void): void {
      rm(file.path, { force: true }, (err) => cb(err ?? null));
    },
  };
}
