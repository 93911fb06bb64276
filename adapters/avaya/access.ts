// Who may receive a phone's secret lines (SIP password…) and its backups. A MAC is guessable, so knowing
// one is not enough: the request must come over HTTPS (unless the phone's group allows plain HTTP, for
// old phones and closed labs) AND either from a network the group lists or with the phone's credentials.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Request } from 'express';
import { deviceVars, ApsError, isApsError, type AdapterContext, type DeviceRecord } from '../../src/adapter-api.ts';
import { truthy, VARS, type AvayaConfig } from './settings.ts';

/** The Basic realm of per-phone files and backups. */
export const REALM = 'APS Avaya';

type Ctx = Pick<AdapterContext<AvayaConfig>, 'profiles' | 'devices' | 'log'>;

export interface AccessRequest {
  secure: boolean;
  ip: string | undefined;
  credentialed: boolean;
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

/** Parses the CIDR list variable ("10.1.0.0/16, 192.168.5.7"); an entry that is not a network is an error naming the variable. */
export function parseNetworks(list: string | undefined): BlockList {
  const b = new BlockList();
  for (const entry of (list ?? '').split(/[\s,]+/).filter(Boolean)) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : null;
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    if (!type || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) {
      throw new ApsError('bad_request', `variable ${VARS.secretNetworks}: "${entry}" is not an address or CIDR network`);
    }
    b.addSubnet(addr, prefix, type);
  }
  return b;
}

function inNetworks(b: BlockList, ip: string | undefined): boolean {
  if (!ip) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return b.check(mapped[1]!, 'ipv4');
  return isIPv4(ip) ? b.check(ip, 'ipv4') : isIPv6(ip) ? b.check(ip, 'ipv6') : false;
}

/** Whether this request may have the phone's secrets, by the variables of its profile, group and device. */
export function secretAccess(vars: Readonly<Record<string, string>>, req: AccessRequest): AccessDecision {
  if (!req.secure && !truthy(vars[VARS.secretsOverHttp])) {
    return { allowed: false, reason: `plain HTTP (set ${VARS.secretsOverHttp} on the group to allow it)` };
  }
  if (req.credentialed) return { allowed: true };
  if (inNetworks(parseNetworks(vars[VARS.secretNetworks]), req.ip)) return { allowed: true };
  return { allowed: false, reason: `client outside ${VARS.secretNetworks} and sent no credentials` };
}

function varsOf(ctx: Ctx, device: DeviceRecord): Record<string, string> {
  return deviceVars(ctx, device);
}

/** Whether this request may have the phone's secrets; a bad network list refuses (and is logged). */
export function mayHaveSecrets(ctx: Ctx, req: Request, device: DeviceRecord, credentialed: boolean): { allowed: boolean; reason?: string } {
  try {
    return secretAccess(varsOf(ctx, device), { secure: req.secure, ip: req.ip, credentialed });
  } catch (e) {
    if (!isApsError(e)) throw e;
    ctx.log.error({ device: device.id, err: e.message }, 'cannot read the secret access rule');
    return { allowed: false, reason: e.message };
  }
}
