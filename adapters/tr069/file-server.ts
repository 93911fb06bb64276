// The file server of the Download RPC (seed 002 steps 9–12: GET, 401 challenge, GET with credentials,
// 200). URL: /tr069/files/<deviceId>/<commandKey>/<name>. The credentials are the download's own
// (user = CommandKey, password derived from it), so a CPE can fetch only what it was told to fetch,
// and only until that download completes.
// With adapters.tr069.fileAuth: token, the URL is /tr069/files/<deviceId>/<commandKey>/<token>/<name>
// instead and needs no credentials: for CPEs that ignore the Download's (genieacs-sim, many CPE stacks).
import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { DeviceRequestInfo } from '../../src/adapter-api.ts';
import { authenticate, challenge } from './auth.ts';
import { NAME, announcedConfig, downloadPassword, downloadToken, settingsOf, type AcsDeps } from './downloads.ts';
import { keys, type PendingDownload } from './state.ts';

const COMMAND_KEY = /^[a-z]{2}-[a-z0-9]+-[0-9a-f]{12}$/;

/**
 * The pending download a URL names, if it is still open. Also the device the URL names when it is one of
 * ours, so a refusal is on that device's record (an admin debugging a fault 9016 looks there) — the
 * event says the request was refused, so a forged URL only adds a refusal to it.
 */
function lookup(deps: AcsDeps, req: Request): { d?: PendingDownload; info: DeviceRequestInfo } {
  const deviceId = String(req.params.device);
  const commandKey = String(req.params.key);
  const named = deps.core.devices.get(deviceId);
  const ours = named !== undefined && deps.core.profiles.get(named.profile)?.adapter === NAME;
  // In token mode a path segment is the credential: logged as "…", never in clear.
  const logPath = req.params.token !== undefined ? `${req.baseUrl}${req.path}`.replace(`/${String(req.params.token)}/`, '/…/') : undefined;
  const info: DeviceRequestInfo = { adapter: NAME, deviceId: ours ? named.id : null, file: 'download', ...(logPath ? { logPath } : {}) };
  const d = COMMAND_KEY.test(commandKey) ? deps.kv.get<PendingDownload>(keys.download(deviceId, commandKey)) : undefined;
  if (d) info.file = d.kind;
  // Past its deadline a download is over, whether or not the sweep has turned it into a fault yet.
  return { d: d && d.deadline > Date.now() ? d : undefined, info };
}

/** GET /files/:device/:key/:name — with the Download's own credentials (Digest, or Basic where accepted). */
export function fileHandler(deps: AcsDeps): (req: Request, res: Response) => Promise<void> {
  const { core } = deps;
  const files = { core, realm: deps.config.realm, purpose: 'files', allowBasicOverHttp: deps.config.allowBasicOverHttp };
  return async (req, res) => {
    const found = lookup(deps, req);
    const { info } = found;
    // A token download opens only through its token URL.
    const d = found.d?.fileAuth === 'token' ? undefined : found.d;
    const lookupPassword = (u: string): string | undefined =>
      d && u === d.commandKey ? downloadPassword(core, d.deviceId, d.commandKey) : undefined;
    const attempt = core.access.attempt(d?.deviceId ?? null, req.ip);
    if (attempt.held) return core.files.deny(req, res, 401, attempt.held, info, challenge(req, files, false));
    // Each Digest nonce-count once, as on the ACS URL: a captured header fetches nothing again.
    const auth = authenticate(req, { ...files, lookupPassword, nonceCounts: deps.kv });
    attempt.done(auth.ok && d ? true : !auth.ok && auth.checked ? false : null, auth.ok ? undefined : auth.reason);
    // One answer for every refusal: whether the download exists is not the client's business.
    if (!auth.ok || !d) {
      const reason = !d ? 'no such download' : !auth.ok ? auth.reason : '';
      return core.files.deny(req, res, 401, reason, info, challenge(req, files, !auth.ok && auth.stale));
    }
    await serve(deps, req, res, d, info);
  };
}

/** GET /files/:device/:key/:token/:name — adapters.tr069.fileAuth: token; the token is the credential. */
export function tokenFileHandler(deps: AcsDeps): (req: Request, res: Response) => Promise<void> {
  const { core } = deps;
  return async (req, res) => {
    const { d, info } = lookup(deps, req);
    const attempt = core.access.attempt(null, req.ip);
    if (attempt.held) return core.files.deny(req, res, 404, attempt.held, info);
    const given = String(req.params.token);
    // Compared through HMACs of equal length: constant time whatever the given length.
    const right =
      d?.fileAuth === 'token' &&
      timingSafeEqual(
        core.secrets.hmac('token-compare', given),
        core.secrets.hmac('token-compare', downloadToken(core, d.deviceId, d.commandKey)),
      );
    attempt.done(right ? true : false, 'wrong download token');
    // 404 for all: there is no challenge to answer, and a wrong token is no different from no download.
    if (!d || !right) return core.files.deny(req, res, 404, d ? 'wrong download token' : 'no such download', info);
    await serve(deps, req, res, d, info);
  };
}

async function serve(deps: AcsDeps, req: Request, res: Response, d: PendingDownload, info: DeviceRequestInfo): Promise<void> {
  const { core } = deps;
  info.deviceId = d.deviceId;
  info.file = d.kind;
  const device = core.devices.get(d.deviceId);
  if (!device || String(req.params.name) !== d.fileName) return core.files.deny(req, res, 404, 'no such file in this download', info);
  if (d.kind === 'firmware') {
    const a = d.artifactId !== undefined ? core.catalog.get(d.artifactId) : undefined;
    if (!a) return core.files.deny(req, res, 404, `artifact ${d.artifactId} is gone`, info);
    await core.files.sendArtifact(req, res, a, info);
    return;
  }
  // The bytes the Download announced (its FileSize and revision), not a render of now: a variable changed
  // since is the next Download's business.
  const config = announcedConfig(deps, d);
  if (!config) return core.files.deny(req, res, 404, 'the announced config is gone', info);
  await core.files.sendRendered(req, res, config, info, settingsOf(core, device).configContentType);
}
