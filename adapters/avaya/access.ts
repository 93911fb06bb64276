// Who may receive a phone's secret lines (SIP password…) and its backups. A MAC is guessable, so knowing
// one is not enough: the request must come over HTTPS (unless the phone's group allows plain HTTP, for
// old phones and closed labs) AND either from a network the group lists or with the phone's credentials.
import type { Request } from 'express';
import { deviceVars, isApsError, parseNetworks, type AdapterContext, type DeviceRecord } from '../../src/adapter-api.ts';
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

/** Whether this request may have the phone's secrets, by the variables of its profile, group and device. */
export function secretAccess(vars: Readonly<Record<string, string>>, req: AccessRequest): AccessDecision {
  if (!req.secure && !truthy(vars[VARS.secretsOverHttp])) {
    return { allowed: false, reason: `plain HTTP (set ${VARS.secretsOverHttp} on the group to allow it)` };
  }
  if (req.credentialed) return { allowed: true };
  if (parseNetworks(vars[VARS.secretNetworks], VARS.secretNetworks)?.contains(req.ip)) return { allowed: true };
  return { allowed: false, reason: `client outside ${VARS.secretNetworks} and sent no credentials` };
}

/** Whether this request may have the phone's secrets; a bad network list refuses (and is logged). */
export function mayHaveSecrets(ctx: Ctx, req: Request, device: DeviceRecord, credentialed: boolean): { allowed: boolean; reason?: string } {
  try {
    return secretAccess(deviceVars(ctx, device), { secure: req.secure, ip: req.ip, credentialed });
  } catch (e) {
    if (!isApsError(e)) throw e;
    ctx.log.error({ device: device.id, err: e.message }, 'cannot read the secret access rule');
    return { allowed: false, reason: e.message };
  }
}
