import type { AuditLog } from '../admin/audit.ts';
import type { DeviceRecord, GroupRecord, Store } from '../store/index.ts';
import type { DeviceInput, DeviceRegistry } from './registry.ts';
import { isSecretVar, maskVars } from './secret-vars.ts';

/** A device as the audit log shows it: secret variables masked, the password only as "has one". */
export type DeviceAuditView = Pick<DeviceRecord, 'id' | 'profile' | 'model' | 'mac' | 'group' | 'status' | 'pins'> & {
  hasPassword: boolean;
  vars: Record<string, string>;
};

export function deviceAuditView(d: DeviceRecord): DeviceAuditView {
  return {
    id: d.id,
    profile: d.profile,
    model: d.model,
    mac: d.mac,
    group: d.group,
    status: d.status,
    hasPassword: d.passwordHash !== null,
    vars: maskVars(d.vars),
    pins: d.pins,
  };
}

/**
 * Records a device's change (`device.create` / `device.update`) when there is one: a set that changed nothing
 * is no change. A new password is `passwordChanged: true` and a secret variable given a new value is named
 * in `secretsChanged` (both sides are masked alike); no hash or secret is ever written.
 */
export function recordDeviceChange(audit: AuditLog, who: string, before: DeviceRecord | undefined, after: DeviceRecord): void {
  const a: Record<string, unknown> = deviceAuditView(after);
  const b = before && deviceAuditView(before);
  if (before) {
    if (before.passwordHash !== null && after.passwordHash !== null && before.passwordHash !== after.passwordHash) a.passwordChanged = true;
    const secrets = Object.keys(after.vars).filter(
      (k) => isSecretVar(k) && before.vars[k] && after.vars[k] && before.vars[k] !== after.vars[k],
    );
    if (secrets.length > 0) a.secretsChanged = secrets;
  }
  if (b && JSON.stringify(b) === JSON.stringify(a)) return;
  audit.record({ who, action: before ? 'device.update' : 'device.create', target: after.id, before: b, after: a });
}

/** Records a group's change (`group.create` / `group.update`), secret variables masked. */
export function recordGroupChange(
  audit: AuditLog,
  who: string,
  before: (GroupRecord & { window?: unknown }) | undefined,
  after: GroupRecord & { window?: unknown },
): void {
  if (before && JSON.stringify(before) === JSON.stringify(after)) return;
  const view = (g: GroupRecord & { window?: unknown }): Record<string, unknown> => ({
    name: g.name,
    vars: maskVars(g.vars),
    pins: g.pins,
    ...(g.window !== undefined ? { window: g.window } : {}),
  });
  audit.record({
    who,
    action: before ? 'group.update' : 'group.create',
    target: after.name,
    before: before && view(before),
    after: view(after),
  });
}

/**
 * `device add/set` and `POST/PUT/PATCH /devices`: writes the device and records the change in one
 * transaction (both or neither), so the CLI and the API record alike. A password is hashed first, on the
 * thread pool: the write lock is never held across scrypt.
 */
export async function saveDevice(
  core: { devices: DeviceRegistry; audit: AuditLog; store: Store },
  input: DeviceInput,
  mode: 'create' | 'update' | 'upsert',
  who: string,
): Promise<DeviceRecord> {
  const prepared = await core.devices.prepareCredentials(input);
  return core.store.transaction(() => {
    const before = core.devices.get(input.id);
    const after = core.devices.upsert(prepared, mode);
    recordDeviceChange(core.audit, who, before, after);
    return after;
  }, 'immediate');
}
