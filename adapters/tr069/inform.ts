// What an Inform tells the ACS about the CPE (TR-069 §A.3.3.1, protocols.md §(d)). Pure: no I/O.
// The same leaf names are read under both data-model roots, TR-098 `InternetGatewayDevice.` and
// TR-181 `Device.`, so one CPE family may move between models without a code change.
import type { DeviceIdStruct, InformMessage } from './soap.ts';

/** Reported state stored on the device; `firmware` feeds the fleet view. */
export interface InformReport {
  firmware?: string;
  hardwareVersion?: string;
  provisioningCode?: string;
  connectionRequestUrl?: string;
  /** DeviceInfo.VendorConfigFile.{i}.Version: the config version the CPE says it applied (seed 002). */
  configVersion?: string;
  deviceId: DeviceIdStruct;
  events: string[];
}

const ROOTS = ['InternetGatewayDevice.', 'Device.'];
// Exact leaf names by a Map lookup, the numbered VendorConfigFile by its regex: an Inform has tens of
// parameters, each tested once instead of against every pattern (issue 15, a TR-069 session's Inform).
const LEAVES = new Map<string, keyof InformReport>([
  ['DeviceInfo.SoftwareVersion', 'firmware'],
  ['DeviceInfo.HardwareVersion', 'hardwareVersion'],
  ['DeviceInfo.ProvisioningCode', 'provisioningCode'],
  ['ManagementServer.ConnectionRequestURL', 'connectionRequestUrl'],
]);
const CONFIG_VERSION = /^DeviceInfo\.VendorConfigFile\.\d+\.Version$/;

export function informReport(inform: InformMessage): InformReport {
  const out: InformReport = { deviceId: inform.deviceId, events: inform.events.map((e) => e.eventCode) };
  const set = out as unknown as Record<string, string>;
  for (const p of inform.parameterList) {
    const leaf = leafOf(p.name);
    if (leaf === undefined) continue;
    // The first VendorConfigFile instance wins: Thomson CPEs keep one (seed 002).
    const key = LEAVES.get(leaf) ?? (CONFIG_VERSION.test(leaf) ? 'configVersion' : undefined);
    if (key !== undefined && out[key] === undefined) set[key] = p.value.trim();
  }
  return out;
}

/** The name below its data-model root, undefined under any other root. */
function leafOf(name: string): string | undefined {
  for (const root of ROOTS) if (name.startsWith(root)) return name.slice(root.length);
  return undefined;
}

/** `OUI-ProductClass-SerialNumber`, the id TR-069 §3.4.4 suggests for a CPE; "-" and spaces are kept as sent. */
export function cpeId(d: DeviceIdStruct): string {
  return `${d.oui}-${d.productClass}-${d.serialNumber}`;
}

/**
 * Device ids an Inform may match, in order: `OUI-ProductClass-SerialNumber`, then the bare serial number
 * (the admin's choice, see README). Characters a device id cannot hold make a candidate unusable.
 */
export function candidateIds(d: DeviceIdStruct): string[] {
  const ids = [cpeId(d), d.serialNumber].filter((id) => /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/.test(id));
  return [...new Set(ids)];
}
