// The device's tree over FTP (seed 001 §32: "stored on any standard Web, FTP, or NFS server"): the same
// paths as under /audiocodes/ on HTTP, the same bytes, and each file's mtime equal to its HTTP
// Last-Modified. Login: the device id or MAC with the device password. Anonymous only when configured,
// and then only devices without a password, found by MAC; the root lists nothing, so no MAC leaks.
import { type AdapterContext, normalizeMac, type DeviceRecord, type FtpEntry, type FtpLogin, type FtpView } from '../../src/adapter-api.ts';
import { deviceTree } from './files.ts';
import { macFromFileName } from './identify.ts';
import type { AudioCodesConfig } from './settings.ts';

type Ctx = AdapterContext<AudioCodesConfig>;
const NAME = 'audiocodes';

interface FileNode {
  path: string;
  size: number;
  mtime: Date;
  body: { bytes: Buffer } | { path: string };
  file: string;
}

function filesOf(ctx: Ctx, device: DeviceRecord): FileNode[] | undefined {
  let tree;
  try {
    tree = deviceTree(ctx, ctx.config, device);
  } catch (e) {
    ctx.log.error({ device: device.id, err: (e as Error).message }, 'cannot render the ini (FTP)');
    return undefined;
  }
  const out: FileNode[] = [
    {
      path: `/${tree.iniPath}`,
      size: tree.ini.bytes.length,
      mtime: tree.ini.revision.lastModified,
      body: { bytes: tree.ini.bytes },
      file: 'ini',
    },
  ];
  const arts = [...(tree.cmp ? [{ ...tree.cmp, file: 'cmp' }] : []), ...tree.aux.map((x) => ({ ...x, file: `aux:${x.role}` }))];
  for (const a of arts) {
    out.push({
      path: `/${a.path}`,
      size: a.artifact.size,
      mtime: ctx.files.artifactDate(device.id, a.file, a.artifact),
      body: { path: ctx.catalog.blobPath(a.artifact) },
      file: a.file,
    });
  }
  return out;
}

function dirEntry(name: string, mtime: Date): FtpEntry {
  return { name, size: 0, mtime, isDirectory: true };
}

/** Folders are the prefixes of file paths; a folder's mtime is its newest file's. */
function listOf(files: FileNode[], dir: string): FtpEntry[] | undefined {
  const prefix = dir === '/' ? '/' : `${dir}/`;
  const out = new Map<string, FtpEntry>();
  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) out.set(rest, { name: rest, size: f.size, mtime: f.mtime, isDirectory: false, body: f.body });
    else {
      const name = rest.slice(0, slash);
      const prev = out.get(name);
      if (!prev || prev.mtime < f.mtime) out.set(name, dirEntry(name, f.mtime));
    }
  }
  if (out.size === 0 && dir !== '/') return undefined;
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function statOf(files: FileNode[], path: string): FtpEntry | undefined {
  const f = files.find((x) => x.path === path);
  if (f) return { name: path.slice(path.lastIndexOf('/') + 1), size: f.size, mtime: f.mtime, isDirectory: false, body: f.body };
  return listOf(files, path) ? dirEntry(path.slice(path.lastIndexOf('/') + 1), new Date(0)) : undefined;
}

/**
 * The MAC a first path segment names, as on HTTP: an ini name holding one MAC in any case and spelling
 * (`<MAC>.ini`, `cfg_00-90-8f-….ini`), or the `<MAC>` folder of the cmp and auxiliary files.
 */
function segmentMac(seg: string): { mac: string; ini: boolean } | null {
  if (/\.ini$/i.test(seg)) {
    const mac = macFromFileName(seg);
    return mac ? { mac, ini: true } : null;
  }
  const mac = normalizeMac(seg);
  return mac ? { mac, ini: false } : null;
}

/**
 * The path as the device's tree spells it (`/<MAC>.ini`, `/<MAC>/…`, MAC in upper case): the case the
 * gateway writes `<MAC>` in is not documented (protocols.md §(a) step 1). Other paths are left as they
 * are, so they stay absent from the view.
 */
function canonicalPath(path: string, device: DeviceRecord): string {
  const parts = path.split('/');
  const seg = segmentMac(parts[1] ?? '');
  if (!seg || seg.mac !== device.mac) return path;
  const mac = device.mac.toUpperCase();
  if (seg.ini) return parts.length === 2 ? `/${mac}.ini` : path;
  parts[1] = mac;
  return parts.join('/');
}

/** A view over one device, re-read on every call so a change made by the CLI shows at once. */
function viewOf(ctx: Ctx, login: FtpLogin, deviceFor: (path: string) => DeviceRecord | undefined, listRoot: boolean): FtpView {
  const at = (path: string): { files: FileNode[]; path: string; device: DeviceRecord } | undefined => {
    const d = deviceFor(path);
    const files = d && filesOf(ctx, d);
    return files && { files, path: canonicalPath(path, d), device: d };
  };
  return {
    list(dir) {
      if (dir === '/' && !listRoot) return [];
      const a = at(dir);
      return a && listOf(a.files, a.path);
    },
    stat(path) {
      const a = at(path);
      return a && statOf(a.files, a.path);
    },
    onDownload(path, bytes) {
      const a = at(path);
      const node = a?.files.find((x) => x.path === a.path);
      ctx.events.record({
        adapter: NAME,
        deviceId: a?.device.id ?? null,
        file: node?.file ?? 'ftp',
        status: 200,
        bytes,
        ip: login.ip,
        detail: 'ftp',
      });
    },
  };
}

function usable(ctx: Ctx, d: DeviceRecord | undefined): d is DeviceRecord {
  // ctx.devices holds only AudioCodes devices.
  return !!d && d.status === 'active' && d.mac !== null;
}

/** The resolver offered to the core's FTP server. */
export function ftpResolver(ctx: Ctx): (login: FtpLogin) => Promise<FtpView | undefined> {
  return async (login) => {
    if (login.username === 'anonymous') {
      if (!ctx.config.ftpAnonymous) return undefined;
      // The first path segment names the device: /<MAC>.ini or /<MAC>/... (any case and spelling).
      const byPath = (path: string): DeviceRecord | undefined => {
        const seg = segmentMac(path.split('/')[1] ?? '');
        const d = seg ? ctx.devices.getByMac(seg.mac) : undefined;
        return usable(ctx, d) && !d.passwordHash ? d : undefined;
      };
      return viewOf(ctx, login, byPath, false);
    }
    const named = ctx.devices.get(login.username) ?? ctx.devices.getByMac(login.username);
    // Every refusal goes through ctx.access.login: failures counted per device and address, an unknown
    // name as costly as a wrong password.
    const found = await ctx.access.login(usable(ctx, named) ? named : undefined, login);
    if (!found) return undefined;
    const id = found.id;
    return viewOf(
      ctx,
      login,
      () => {
        const d = ctx.devices.get(id);
        return usable(ctx, d) ? d : undefined;
      },
      true,
    );
  };
}
