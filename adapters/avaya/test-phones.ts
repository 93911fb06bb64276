// Set-up shared by the IF $MACADDR branch tests (branches-held, branches-attribution, script-cache, rollout): the
// 96x1 images they move between, catalog entries, a phone in a group with a window of its own, and a phone's own
// file fetched as the phone does. Not a *.test.ts file, so it may not import test/helpers/ (eslint/boundaries.js):
// each test passes its server and window in.

type Day = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';

export const EVERY_DAY: Day[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
export const P96 = 'avaya-96x1';
export const M96 = '9608';
export const OLD96 = 'S96x1_SIP_R7_1_2_0_14.tar';
export const NEW96 = 'S96x1_SIP_R7_1_15_0_4.tar';

/** What these helpers call on test/helpers/server.ts TestServer (structurally: a TestServer is one). */
export interface PhoneServer {
  core: {
    catalog: {
      addBuffer(
        bytes: Buffer,
        input: { kind: 'firmware' | 'aux'; role?: string; profile: string; models: string[]; version: string; filename: string },
      ): Promise<{ id: number }>;
    };
    devices: {
      upsertGroup(g: { name: string; vars: Record<string, string>; pins: Record<string, number> }): void;
      upsert(d: { id: string; mac: string; profile: string; model: string; group: string; password: string }): unknown;
    };
    windows: {
      setGroupWindow(
        name: string,
        def: { from: string; to: string; tz: string; days: Day[]; newDevices: 'serve' | 'wait'; push: boolean },
      ): void;
    };
  };
}

/** A firmware image of `model` in the catalog, `fill` making its bytes (and so its hash) its own. */
export const firmware = (
  s: PhoneServer,
  profile: string,
  model: string,
  filename: string,
  fill: number,
  version = filename,
): Promise<{ id: number }> =>
  s.core.catalog.addBuffer(Buffer.alloc(2000, fill), { kind: 'firmware', profile, models: [model], version, filename });

/** A JEM24 module image (an aux artifact of role jem24) of `model` in the catalog. */
export const jem24 = (s: PhoneServer, profile: string, model: string, name: string, fill: number): Promise<{ id: number }> =>
  s.core.catalog.addBuffer(Buffer.alloc(1500, fill), {
    kind: 'aux',
    role: 'jem24',
    profile,
    models: [model],
    version: name,
    filename: name,
  });

/** A 9608 phone in group `group`, whose window (`hours`, every day, no push) treats new devices as `newDevices`. */
export function windowedPhone(
  s: PhoneServer,
  hours: { from: string; to: string; tz: string },
  phone: { id: string; mac: string; password: string },
  o: { group?: string; newDevices?: 'serve' | 'wait' } = {},
): void {
  const group = o.group ?? 'night';
  s.core.devices.upsertGroup({ name: group, vars: {}, pins: {} });
  s.core.windows.setGroupWindow(group, { ...hours, days: EVERY_DAY, newDevices: o.newDevices ?? 'serve', push: false });
  s.core.devices.upsert({ ...phone, profile: P96, model: M96, group });
}

/** A windowedPhone whose model's image in the catalog is OLD96 (where the branch tests start). */
export async function phoneOnOld96(
  s: PhoneServer,
  hours: { from: string; to: string; tz: string },
  phone: { id: string; mac: string; password: string },
  o: { group?: string; newDevices?: 'serve' | 'wait' } = {},
): Promise<void> {
  windowedPhone(s, hours, phone, o);
  await firmware(s, P96, M96, OLD96, 1);
}

/**
 * A phone's own `<mac>.txt` fetched as the phone does (its User-Agent, its credentials): what makes its address
 * known to APS and records the release `agent` names. Answers the status, the body read.
 */
export async function fetchOwnFile(server: string, phone: { id: string; mac: string; password: string }, agent: string): Promise<number> {
  const res = await fetch(`${server}/avaya/${phone.mac}.txt`, {
    headers: { 'User-Agent': agent, Authorization: `Basic ${Buffer.from(`${phone.id}:${phone.password}`).toString('base64')}` },
  });
  await res.text();
  return res.status;
}
