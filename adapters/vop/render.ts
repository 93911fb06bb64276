import { Builder } from 'xml2js';

// Seed 000 ("Voice Operator Panel Provisioning Server"), "The structure of the information file":
// <info> with <bootstrap> version/url/md5, <firmware> serial/url/md5, <config> serial/url/md5; the XML
// header must be present. A section the user has no target for is left out (the VOP ignores a section
// without version/serial and url anyway). The URLs keep the $u $p $v $t variables the VOP substitutes.

export interface InfoSection {
  /** Bootstrap: <version>; firmware and config: <serial>. */
  version?: string;
  serial?: number;
  url: string;
  md5: string;
}

export interface InfoInput {
  bootstrap?: InfoSection & { version: string };
  firmware?: InfoSection & { serial: number };
  config?: InfoSection & { serial: number };
}

const builder = new Builder({
  rootName: 'info',
  xmldec: { version: '1.0', encoding: 'UTF-8' },
  renderOpts: { pretty: true, indent: '  ', newline: '\n' },
});

/** The information file of one user: pure, deterministic (same input, same bytes). */
export function renderInfo(input: InfoInput): Buffer {
  const info: Record<string, unknown> = {};
  if (input.bootstrap) info.bootstrap = { version: input.bootstrap.version, url: input.bootstrap.url, md5: input.bootstrap.md5 };
  if (input.firmware) info.firmware = { serial: String(input.firmware.serial), url: input.firmware.url, md5: input.firmware.md5 };
  if (input.config) info.config = { serial: String(input.config.serial), url: input.config.url, md5: input.config.md5 };
  return Buffer.from(builder.buildObject(info) + '\n', 'utf8');
}

/**
 * The request URL template the VOP is given and that the info file repeats: one route for every request
 * type, distinguished by $t (i, b, f, c). $u and $p carry the credentials; $v the bootstrap version it runs.
 */
export function requestUrlTemplate(baseUrl: string): string {
  return `${baseUrl}/vop/$t?u=$u&p=$p&v=$v`;
}

export type RequestType = 'i' | 'b' | 'f' | 'c';

/** What the VOP does with a template: each variable replaced (URL-encoded, so any password survives). */
export function substituteUrl(template: string, vars: { u: string; p: string; v: string; t: RequestType }): string {
  return template.replace(/\$([upvt])/g, (_m, k: 'u' | 'p' | 'v' | 't') => encodeURIComponent(vars[k]));
}
