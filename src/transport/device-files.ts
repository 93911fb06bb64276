import type { Request, Response } from 'express';
import type { Catalog } from '../catalog/catalog.ts';
import { nowIso } from '../clock.ts';
import type { EventSink } from '../events/event-sink.ts';
import { safePath, type Logger } from '../log.ts';
import type { RenderedFile } from '../render/rendered-files.ts';
import type { RevisionStore } from '../render/revisions.ts';
import type { ArtifactRecord } from '../store/index.ts';
import { serveFile, type ServeResult } from './file-responder.ts';
import type { SendRateLimit } from './send-rate.ts';
import type { RefusalLog } from './refusal-log.ts';
import type { FrontProxy, TransferEnd } from './front-proxy.ts';
import type { InFlight } from './in-flight.ts';

/** What an event needs of the request, kept when the outcome is known only later (a front proxy's report). */
interface Requester {
  ip: string | null;
  ua: string | null;
  method: string;
}

function requester(req: Request): Requester {
  return { ip: req.ip ?? null, ua: req.get('user-agent') ?? null, method: req.method };
}

export interface DeviceRequestInfo {
  adapter: string;
  deviceId: string | null;
  /** The logical file name for the event log and `fetched` state (e.g. "firmware", "config.ini"). */
  file: string;
  /** The path to log instead of the request's, where the URL itself is a credential (a download token). */
  logPath?: string;
}

const REFUSAL_BODY = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' } as const;
const REFUSAL_BYTES = Object.fromEntries(Object.entries(REFUSAL_BODY).map(([k, v]) => [k, Buffer.from(`${v}\n`)])) as Record<
  keyof typeof REFUSAL_BODY,
  Buffer
>;

/**
 * Device-facing answers with their bookkeeping: every file served or refused becomes an event, and a
 * complete download updates what the device last fetched. Adapters call these, never res.send directly.
 */
export class DeviceFiles {
  private readonly catalog: Catalog;
  private readonly events: EventSink;
  private readonly log: Logger;
  private readonly revisions: RevisionStore;
  private readonly refusals: RefusalLog;
  private readonly sendRate: SendRateLimit | undefined;
  private readonly onFetched: (deviceId: string, a: ArtifactRecord) => void;
  /** Set in front-proxy mode (`http.frontProxy`): artifacts are handed to nginx instead of streamed. */
  readonly frontProxy: FrontProxy | undefined;
  private readonly inFlight: InFlight;
  /**
   * @param inFlight where sends are tracked until they have recorded their event (shutdown waits for them)
   * @param onFetched told of every artifact a device fetched completely (what it now holds: src/windows/gate.ts)
   * @param frontProxy set in front-proxy mode
   */
  constructor(
    catalog: Catalog,
    events: EventSink,
    log: Logger,
    revisions: RevisionStore,
    refusals: RefusalLog,
    inFlight: InFlight,
    sendRate?: SendRateLimit,
    onFetched: (deviceId: string, a: ArtifactRecord) => void = () => {},
    frontProxy?: FrontProxy,
  ) {
    this.catalog = catalog;
    this.events = events;
    this.log = log;
    this.revisions = revisions;
    this.refusals = refusals;
    this.inFlight = inFlight;
    this.sendRate = sendRate;
    this.onFetched = onFetched;
    this.frontProxy = frontProxy;
  }

  /**
   * An artifact's Last-Modified as one device sees it: when it became that device's file in that slot,
   * not when it was added. A device moved back to an older firmware (a pin) must see a date later than
   * the newer one it fetched, or its If-Modified-Since would get a 304 for different bytes.
   */
  artifactDate(deviceId: string | null, file: string, a: ArtifactRecord): Date {
    if (deviceId === null) return new Date(Math.floor(Date.parse(a.addedAt) / 1000) * 1000);
    return this.revisions.stampDigests(deviceId, `artifact:${file}`, { sha256: a.sha256, md5: a.md5 }).lastModified;
  }

  sendArtifact(
    req: Request,
    res: Response,
    a: ArtifactRecord,
    info: DeviceRequestInfo,
    contentType = 'application/octet-stream',
  ): Promise<ServeResult> {
    return this.inFlight.track(this.streamArtifact(req, res, a, info, contentType));
  }

  private async streamArtifact(
    req: Request,
    res: Response,
    a: ArtifactRecord,
    info: DeviceRequestInfo,
    contentType: string,
  ): Promise<ServeResult> {
    // Handed over only to a request that came through a trusted proxy (its peer, not req.ip): a client
    // talking to APS's port directly gets the bytes from APS, never a transfer id or a pending entry.
    const proxy = this.frontProxy?.fronts(req.socket.remoteAddress) ? this.frontProxy : undefined;
    // Read now (requester): once a cut connection is destroyed, req.ip is gone.
    const who = requester(req);
    // The event waits for nginx's report of the transfer: recorded as if APS had sent the bytes itself.
    const handOver = proxy
      ? (status: 200 | 206): Record<string, string> => ({
          'X-Accel-Redirect': proxy.uriOf(a.sha256),
          'X-Aps-Transfer': proxy.begin((end) => this.recordTransfer(who, info, end, a), status),
        })
      : undefined;
    const r = await serveFile(
      req,
      res,
      {
        body: { path: this.catalog.blobs.pathOf(a.sha256), handOver },
        etag: `"${a.sha256.slice(0, 32)}"`,
        lastModified: this.artifactDate(info.deviceId, info.file, a),
        contentType,
      },
      this.sendRate,
    );
    if (r.detail)
      this.log.info({ adapter: info.adapter, device: info.deviceId, ip: who.ip, reason: r.detail }, 'download cut: client too slow');
    if (!r.handedOver) this.artifactSent(who, info, r, a);
    return r;
  }

  /** Tracked like an artifact: an answer held for its Last-Modified second records its event after a cut connection closed. */
  sendRendered(req: Request, res: Response, f: RenderedFile, info: DeviceRequestInfo, contentType: string): Promise<ServeResult> {
    return this.inFlight.track(this.sendRenderedNow(req, res, f, info, contentType));
  }

  private async sendRenderedNow(
    req: Request,
    res: Response,
    f: RenderedFile,
    info: DeviceRequestInfo,
    contentType: string,
  ): Promise<ServeResult> {
    const r = await serveFile(req, res, {
      body: { bytes: f.bytes },
      etag: f.revision.etag,
      lastModified: f.revision.lastModified,
      contentType,
    });
    this.record(requester(req), info, r, { revision: f.revision.serial });
    return r;
  }

  /**
   * A refusal that tells the client nothing about why (which part of a credential was wrong, whether a
   * device exists); the reason goes to the log and the event.
   */
  deny(
    req: Request,
    res: Response,
    status: 400 | 401 | 403 | 404,
    reason: string,
    info: DeviceRequestInfo,
    headers: Record<string, string> = {},
  ): void {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    // Written directly, not through express's res.send (a charset parse and an ETag hash per refusal): the
    // 401 challenge is the first answer of every Digest-authenticated session (issue 15).
    const body = REFUSAL_BYTES[status];
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.end(body);
    // A refusal is normal traffic (a device without its password yet, a probe): info, and past a few per
    // minute from one address only counted, then summed up in one line and one event (refusal-log.ts).
    if (!this.refusals.note({ adapter: info.adapter, ip: req.ip, status, reason })) return;
    this.log.info(
      { adapter: info.adapter, device: info.deviceId, path: info.logPath ?? safePath(req.originalUrl), ip: req.ip, status, reason },
      'device request refused',
    );
    this.events.record({ ...info, status, ip: req.ip, ua: req.get('user-agent') ?? null, detail: reason });
  }

  // An artifact APS sent (or nginx did, as it reported): the event, and what the device now holds.
  private artifactSent(who: Requester, info: DeviceRequestInfo, r: ServeResult, a: ArtifactRecord): void {
    this.record(who, info, r, { artifactId: a.id, version: a.version || undefined });
    if (info.deviceId && r.status === 200 && who.method === 'GET') this.onFetched(info.deviceId, a);
  }

  // A transfer nginx sent: its status and bytes as nginx reports them; fetched only when it completed.
  private recordTransfer(who: Requester, info: DeviceRequestInfo, end: TransferEnd, a: ArtifactRecord): void {
    if (!end.confirmed) {
      this.events.record({
        ...info,
        status: end.status,
        artifactId: a.id,
        ip: who.ip,
        ua: who.ua,
        detail: 'handed to the front proxy; it never reported the transfer',
      });
      return;
    }
    this.artifactSent(who, info, { status: end.complete ? end.status : 499, bytes: end.bytes }, a);
  }

  private record(
    who: Requester,
    info: DeviceRequestInfo,
    r: ServeResult,
    what: { artifactId?: number; revision?: number; version?: string },
  ): void {
    this.events.record({
      ...info,
      status: r.status,
      bytes: r.bytes,
      artifactId: what.artifactId ?? null,
      revision: what.revision ?? null,
      ip: who.ip,
      ua: who.ua,
      ...(r.detail ? { detail: r.detail } : {}),
    });
    if (info.deviceId && r.status === 200 && who.method === 'GET') {
      this.events.report({
        deviceId: info.deviceId,
        fetched: {
          [info.file]: { at: nowIso(), artifactId: what.artifactId, revision: what.revision, version: what.version },
        },
      });
    }
  }
}
