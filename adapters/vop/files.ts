import {
  type AdapterServices,
  type RenderedFile,
  renderDeviceConfig,
  type ArtifactRecord,
  type DeviceRecord,
} from '../../src/adapter-api.ts';
import { renderInfo, requestUrlTemplate } from './render.ts';

export interface VopFiles {
  info: RenderedFile;
  bootstrap?: ArtifactRecord;
  firmware?: ArtifactRecord;
  config?: RenderedFile;
}

/**
 * The VOP installs a firmware whose serial is greater than its own: the core's per-device counter, which
 * grows whenever the target changes (a newer artifact, or a pin to an older one), never the artifact's rank.
 */
export function firmwareSerial(core: AdapterServices, device: DeviceRecord, a: ArtifactRecord): number {
  return core.rendered.artifactSerial(device.id, 'firmware', a);
}

/** A bootstrap is compared by version ("different from his"); without one, the catalog id stands in. */
export function bootstrapVersion(a: ArtifactRecord): string {
  return a.version || String(a.id);
}

/**
 * Everything one user gets, from the catalog and its revisions (cached per change, so a poll renders
 * nothing). The config is the device's own config artifact when it has one, else the profile template;
 * either way its serial is the stable revision of those bytes, so it only grows.
 */
export function vopFiles(core: AdapterServices, device: DeviceRecord, secure: boolean): VopFiles {
  const profile = core.profiles.require(device.profile);
  const bootstrap = core.catalog.target(device, 'bootstrap');
  const firmware = core.catalog.target(device, 'firmware');
  const config = renderDeviceConfig(core, device);
  const base = secure && core.urls.https ? core.urls.https : core.urls.http;
  const url = requestUrlTemplate(base);
  // HTTP and HTTPS info files differ only in their URLs; separate names keep each revision stable.
  const infoName = secure ? 'info-https' : 'info';
  const info = core.rendered.get(device.id, infoName, `${profile.hash}|${url}|${config?.revision.serial ?? 0}`, () =>
    renderInfo({
      bootstrap: bootstrap && { version: bootstrapVersion(bootstrap), url, md5: bootstrap.md5 },
      firmware: firmware && { serial: firmwareSerial(core, device, firmware), url, md5: firmware.md5 },
      config: config && { serial: config.revision.serial, url, md5: config.revision.md5 },
    }),
  );
  return { info, bootstrap, firmware, config };
}
