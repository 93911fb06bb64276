// A device's backup upload (an HTTP PUT of the device's configuration) answered one way for every adapter:
// 201 for a new backup, 200 for an identical retry, 413 past the size limit (with Connection: close, since
// the rest of the body is not read into the store), 400 for an empty or broken body, and nothing for a
// client that cut the upload off. Each outcome is an event; the store keeps nothing but complete bodies.
import type { Request, Response } from 'express';
import type { BackupPutInput, BackupRecord } from './backup-store.ts';
import type { EventService } from '../adapter.ts';
import { ApsError, isApsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { DeviceRequestInfo } from '../transport/device-files.ts';

export interface ReceiveDeps {
  put(body: NodeJS.ReadableStream, input: BackupPutInput): Promise<{ backup: BackupRecord; created: boolean }>;
  events: EventService;
  log: Logger;
}

export async function receiveBackup(
  deps: ReceiveDeps,
  req: Request,
  res: Response,
  info: DeviceRequestInfo,
  input: BackupPutInput,
): Promise<{ backup: BackupRecord; created: boolean } | undefined> {
  const base = { ...info, deviceId: input.deviceId, ip: req.ip ?? null, ua: req.get('user-agent') ?? null };
  try {
    // A declared length over the limit is refused before a byte of the body is read.
    const declared = Number(req.get('content-length') ?? NaN);
    if (input.maxBytes !== undefined && declared > input.maxBytes) {
      throw new ApsError('too_large', `backup of ${declared} bytes exceeds ${input.maxBytes}`);
    }
    const r = await deps.put(req, input);
    const status = r.created ? 201 : 200;
    deps.events.record({
      ...base,
      status,
      bytes: r.backup.size,
      detail: `backup ${r.backup.seq}${r.backup.slot !== null ? ` slot ${r.backup.slot}` : ''}`,
    });
    res
      .status(status)
      .type('text/plain')
      .send(r.created ? 'Created\n' : 'OK\n');
    return r;
  } catch (e) {
    // A body over the limit is refused while the store drains the rest, so the client still reads the 413.
    const tooLarge = isApsError(e) && e.code === 'too_large';
    if (!tooLarge && (req.destroyed || req.readableAborted)) {
      // A cut-off upload: the store kept nothing, and there is nobody left to answer.
      deps.log.warn({ device: input.deviceId, ip: req.ip }, 'backup upload cut off: nothing stored');
      deps.events.record({ ...base, status: 499, detail: 'backup upload cut off' });
      if (!res.headersSent) res.destroy();
      return undefined;
    }
    if (!isApsError(e)) throw e;
    const status = e.code === 'too_large' ? 413 : e.code === 'not_found' ? 404 : 400;
    deps.log.warn({ device: input.deviceId, status, reason: e.message }, 'backup refused');
    deps.events.record({ ...base, status, detail: e.message });
    if (!res.headersSent) {
      if (status === 413) res.setHeader('Connection', 'close');
      res
        .status(status)
        .type('text/plain')
        .send(status === 413 ? 'Payload Too Large\n' : status === 404 ? 'Not Found\n' : 'Bad Request\n');
    }
    return undefined;
  }
}
