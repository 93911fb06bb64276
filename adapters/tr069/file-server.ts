// The file server of the Download RPC (seed 002 steps 9–12: GET, 401 challenge, GET with credentials,
// 200). URL: /tr069/files/<deviceId>/<commandKey>/<name>. The credentials are the download's own
// (user = CommandKey, password derived from it), so a CPE can fetch only what it was told to fetch,
// and only until that download completes.
import type { Request, Response } from 'express';
import type { DeviceRequestInfo } from '../../src/adapter-api.ts';
import { authenticate, challenge } from './auth.ts';
import { NAME, announcedConfig, downloadPassword, settingsOf, type AcsDeps } from './downloads.ts';
import { keys, type PendingDownload } from './state.ts';

export function fileHandler(deps: AcsDeps): (req: Request, res: Response) => Promise<void> {
  const { core } = deps;
  const files = { core, realm: deps.config.realm, purpose: 'files' };
  return async (req, res) => {
    const info: DeviceRequestInfo = { adapter: NAME, deviceId: null, file: 'download' };
    const deviceId = String(req.params.device);
    const commandKey = String(req.params.key);
    const d = /^[a-z]{2}-[a-z0-9]+-[0-9a-f]{12}$/.test(commandKey)
      ? deps.kv.get<PendingDownload>(keys.download(deviceId, commandKey))
      : undefined;
    const lookupPassword = (u: string): string | undefined =>
      d && u === d.commandKey ? downloadPassword(core, d.deviceId, d.commandKey) : undefined;
    // Each Digest nonce-count once, as on the ACS URL: a captured header fetches nothing again.
    const auth = authenticate(req, { ...files, lookupPassword, nonceCounts: deps.kv });
    // One answer for every refusal: whether the download exists is not the client's business.
    if (!auth.ok || !d) {
      const reason = !d ? 'no such download' : !auth.ok ? auth.reason : '';
      return core.files.deny(req, res, 401, reason, info, challenge(req, files, !auth.ok && auth.stale));
    }
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
  };
}
