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
const LEAVES: Array<[keyof InformReport, RegExp]> = [
  ['firmware', /^DeviceInfo\.SoftwareVersion$/],
  ['hardwareVersion', /^DeviceInfo\.HardwareVersion$/],
  ['provisioningCode', /^DeviceInfo\.ProvisioningCode$/],
  ['connectionRequestUrl', /^ManagementServer\.ConnectionRequestURL$/],
  ['configVersion', /^DeviceInfo\.VendorConfigFile\.\d+\.Version$/],
];

export function informReport(inform: InformMessage): InformReport {
  const out: InformReport = { deviceId: inform.deviceId, events: inform.events.map((e) => e.eventCode) };
  for (const p of inform.parameterList) {
    const root = ROOTS.find((r) => p.name.startsWith(r));
    if (!root) continue;
    const leaf = p.name.slice(root.length);
    for (const [key, re] of LEAVES) {
      // The first VendorConfigFile instance wins: Thomson CPEs keep one (seed 002).
      if (re.test(leaf) && out[key] === undefined) (out as unknown as Record<string, string>)[key] = p.value.trim();
    }
  }
  return out;
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
