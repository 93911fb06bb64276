// The site the boot storm and the store-scale comparison run against: five firmwares and a series of devices
// per adapter, mixed 30/20/20/20/10, written as one `aps apply` file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nthMac } from '../../adapters/innovaphone/simulator-command.ts';
import { randomFile } from './harness.ts';
import { SIM_KINDS, type SimKind } from './sim-devices.ts';

export const STORM_SHARES: Record<SimKind, number> = { vop: 0.3, tr069: 0.2, innovaphone: 0.2, avaya: 0.2, audiocodes: 0.1 };
export const STORM_PASSWORD = 'storm-pw-0123456789';
/** The first id or MAC of each adapter's series, as simDevice takes it. */
export const STORM_FIRST: Record<SimKind, string> = {
  vop: 'storm-vop',
  tr069: 'ST',
  audiocodes: '00908f100000',
  innovaphone: '009033800000',
  avaya: '00e0bb800000',
};
/** Devices that never call, registered so the store holds more (another id series or MAC range per adapter). */
const IDLE_FIRST: Record<SimKind, string> = {
  vop: 'idle-vop',
  tr069: 'IT',
  audiocodes: '00908f200000',
  innovaphone: '009033900000',
  avaya: '00e0bb900000',
};

/** `total` devices split by share, at least one of each adapter. */
export function stormCounts(total: number): Record<SimKind, number> {
  return Object.fromEntries(SIM_KINDS.map((k) => [k, Math.max(1, Math.round(total * STORM_SHARES[k]))])) as Record<SimKind, number>;
}

/** One device line of `aps apply`'s YAML: the i-th of a series (ids, MACs and models as the simulators send them). */
function deviceLine(kind: SimKind, first: string, prefix: string, i: number): string {
  switch (kind) {
    case 'vop':
      return `  - { id: ${first}${i + 1}, profile: vop, model: VOP, password: ${STORM_PASSWORD} }`;
    case 'tr069':
      return `  - { id: ${first}${i}, profile: thomson-tr069, password: ${STORM_PASSWORD} }`;
    case 'audiocodes':
      return `  - { id: ${prefix}-gw${i}, profile: audiocodes-mp124, mac: '${nthMac(first, i)}' }`;
    case 'innovaphone':
      return `  - { id: ${prefix}-ip${i}, profile: innovaphone-ip6010, mac: '${nthMac(first, i)}' }`;
    case 'avaya':
      return `  - { id: ${prefix}-av${i}, profile: avaya-j100, model: J179, mac: '${nthMac(first, i)}' }`;
  }
}

export interface StormSite {
  /** The `aps apply` file. */
  file: string;
  /** Idle devices per adapter. */
  idle: Record<SimKind, number>;
}

/**
 * Writes the five firmwares of `firmwareBytes` random bytes and `site.yaml` into `dir`: `counts` devices per
 * adapter that the simulators drive (the series of STORM_FIRST), then `idle` more that never call, split by
 * share. The phones are known before (a site's devices were provisioned): an unknown innovaphone or Avaya
 * would register as pending, and innovaphone caps those at maxPending.
 */
export function writeStormSite(dir: string, counts: Record<SimKind, number>, idle: number, firmwareBytes: number): StormSite {
  const files = {
    vop: 'fw-vop.bin',
    avaya: 'FW_S_J179_R4_1_1_0_7.bin',
    innovaphone: 'ip6010.bin',
    audiocodes: 'MP124_SIP_F6.60A.360.002.cmp',
    tr069: 'tg784-2.0.bin',
  };
  for (const f of Object.values(files)) randomFile(join(dir, f), firmwareBytes);
  const lines = [
    'artifacts:',
    `  - { file: ${files.vop}, profile: vop, kind: firmware, serial: 2 }`,
    `  - { file: ${files.avaya}, profile: avaya-j100, kind: firmware, models: [J179] }`,
    `  - { file: ${files.innovaphone}, profile: innovaphone-ip6010, kind: firmware, version: 13r3-6010 }`,
    `  - { file: ${files.audiocodes}, profile: audiocodes-mp124, kind: firmware, version: 6.60A.360.002 }`,
    `  - { file: ${files.tr069}, profile: thomson-tr069, kind: firmware, version: '2.0' }`,
    'devices:',
  ];
  const idleCounts = Object.fromEntries(SIM_KINDS.map((k) => [k, Math.round(idle * STORM_SHARES[k])])) as Record<SimKind, number>;
  idleCounts.vop += idle - SIM_KINDS.reduce((s, k) => s + idleCounts[k], 0); // the rounding rest
  for (const k of SIM_KINDS) {
    for (let i = 0; i < counts[k]; i++) lines.push(deviceLine(k, STORM_FIRST[k], 'storm', i));
    for (let i = 0; i < idleCounts[k]; i++) lines.push(deviceLine(k, IDLE_FIRST[k], 'idle', i));
  }
  const file = join(dir, 'site.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, idle: idleCounts };
}
