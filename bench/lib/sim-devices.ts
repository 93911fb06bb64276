// The benches' simulated devices, one per adapter, from the adapters' own simulator modules: what the boot
// storm (storm-driver.ts) and the store-scale comparison (store-scale.ts) drive.
import { join } from 'node:path';
import { AudioCodesSimulator } from '../../adapters/audiocodes/simulator.ts';
import { bootPhone } from '../../adapters/avaya/simulator.ts';
import { nthMac } from '../../adapters/innovaphone/simulator-command.ts';
import { runPoll } from '../../adapters/innovaphone/simulator.ts';
import { initialState, runCpeSession, type CpeState } from '../../adapters/tr069/simulator.ts';
import { runVopCycle } from '../../adapters/vop/simulator.ts';

export const SIM_KINDS = ['vop', 'innovaphone', 'avaya', 'tr069', 'audiocodes'] as const;
export type SimKind = (typeof SIM_KINDS)[number];
export const isSimKind = (k: string): k is SimKind => (SIM_KINDS as readonly string[]).includes(k);

/** One check's outcome: `requests` is how many HTTP requests it sent. */
export interface Attempt {
  ok: boolean;
  error?: string;
  requests: number;
  got: string[];
}

/**
 * A device: each call runs its next check. For TR-069 the first calls run (or resume, after a failed one)
 * the first cycle, sessions until the ACS has nothing more to send; after it, a call is one periodic session.
 * The others' firmware starts a check from the top each time, with its state kept in `stateDir/<id>`.
 */
export type SimDevice = () => Promise<Attempt>;

export interface SimDeviceOptions {
  /** The server's base URL (`http://host:port`); TR-069's ACS URL and innovaphone's update URL come from it. */
  url: string;
  /** The first id (VOP user prefix, TR-069 serial prefix) or MAC (12 hex digits) of the series. */
  first: string;
  password: string;
  stateDir: string;
}

/** The i-th device of the series `o.first` of adapter `kind`. */
export function simDevice(kind: SimKind, i: number, o: SimDeviceOptions): SimDevice {
  const state = (id: string): string => join(o.stateDir, id);
  switch (kind) {
    case 'vop': {
      const user = `${o.first}${i + 1}`;
      return async () => {
        const r = await runVopCycle({ server: o.url, user, password: o.password, stateDir: state(user) });
        return { ok: r.ok, error: r.error, requests: 1 + r.installed.length, got: r.installed };
      };
    }
    case 'innovaphone': {
      const mac = nthMac(o.first, i);
      return async () => {
        const r = await runPoll({ url: `${o.url}/innovaphone/up/#m/`, product: 'IP6010', mac, stateDir: state(mac), uptimeMinutes: 30 });
        const got = Object.keys(r.loaded);
        return { ok: r.ok, error: r.error, requests: 1 + got.length, got };
      };
    }
    case 'avaya': {
      const mac = nthMac(o.first, i);
      return async () => {
        const r = await bootPhone({ server: o.url, model: 'J179', mac, stateDir: state(mac) });
        return { ok: r.ok, error: r.error, requests: r.requests.length, got: r.downloaded.map(() => 'firmware') };
      };
    }
    case 'audiocodes': {
      const sim = new AudioCodesSimulator({ iniUrl: `${o.url}/audiocodes/<MAC>.ini`, mac: nthMac(o.first, i) });
      return async () => {
        const r = await sim.check();
        const got = [...(r.cmp === 'installed' ? ['firmware'] : []), ...(r.ini === 'applied' ? ['ini'] : [])];
        return { ok: r.ok, error: r.errors[0], requests: Math.max(1, r.downloads.length), got };
      };
    }
    case 'tr069': {
      const cpe: CpeState = initialState();
      const acs = `${o.url}/tr069`;
      let session = 0;
      return async () => {
        let requests = 0;
        const got: string[] = [];
        do {
          const r = await runCpeSession({ acs, serial: `${o.first}${i}`, password: o.password, state: cpe });
          requests += r.messages;
          got.push(...r.downloads.map((d) => d.fileType));
          if (!r.ok) return { ok: false, error: r.error ?? 'session failed', requests, got };
          // The first cycle ends with a session that brought no Download (after the first).
          if (session < 4) session = r.downloads.length === 0 && session > 0 ? 4 : session + 1;
        } while (session < 4);
        return { ok: true, requests, got };
      };
    }
  }
}
