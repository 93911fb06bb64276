import type { NotifyResult } from '../adapter.ts';
import type { Core } from '../core.ts';
import { ApsError } from '../errors.ts';

/**
 * `aps notify` and `POST /devices/:id/notify`: asks the device's adapter to make it check now. Nothing in APS
 * changes, but an operator poked a device: recorded in the audit log (`device.notify`) by `who`, with the result.
 */
export async function notifyDevice(
  core: Pick<Core, 'devices' | 'adapterOf' | 'servicesFor' | 'adapterConfig' | 'audit'>,
  id: string,
  who: string,
): Promise<NotifyResult> {
  const d = core.devices.require(id);
  const a = core.adapterOf(d.profile);
  if (!a.notify) throw new ApsError('bad_request', `adapter ${a.name} has no push trigger`);
  const r = await a.notify(d, core.servicesFor(a.name), core.adapterConfig(a.name));
  core.audit.record({ who, action: 'device.notify', target: d.id, after: r });
  return r;
}
