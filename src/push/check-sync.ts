// The SIP push trigger as adapters use it: a device's SIP address from its variables, one check-sync
// NOTIFY (sip-notify.ts), and the outcome as the one-line NotifyResult `aps notify` prints.
// Vendor-neutral: any adapter whose devices accept `Event: check-sync` (protocols.md "Generic SIP NOTIFY
// check-sync") calls sipCheckSync with the variable names it documents.
import { z } from 'zod';
import type { NotifyResult } from '../adapter.ts';
import { sendSipNotify, type SipNotifyOptions, type SipNotifyResult, type SipNotifyTarget } from './sip-notify.ts';

/** Which device variables hold the SIP address; the adapter documents them. */
export interface SipVarNames {
  host: string;
  port: string;
  user: string;
}

export const DEFAULT_SIP_VARS: SipVarNames = { host: 'sip_host', port: 'sip_port', user: 'sip_user' };

/** The NOTIFY target from variables; a message naming the missing or bad variable otherwise. */
export function sipTargetFromVars(vars: Readonly<Record<string, string>>, names: SipVarNames = DEFAULT_SIP_VARS): SipNotifyTarget | string {
  const host = vars[names.host]?.trim();
  if (!host) return `no SIP address: set the device variable ${names.host}`;
  const rawPort = vars[names.port]?.trim();
  const port = rawPort ? Number(rawPort) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) return `${names.port} is not a port number`;
  const user = vars[names.user]?.trim() || undefined;
  return { host, ...(port !== undefined ? { port } : {}), ...(user ? { user } : {}) };
}

/** One line for the operator, from a transaction result. Only a 2xx counts as success. */
export function summarizeNotify(r: SipNotifyResult): NotifyResult {
  switch (r.outcome) {
    case 'final':
      if (r.status >= 200 && r.status < 300) return { ok: true, summary: `${r.status} ${r.reason}` };
      if (r.status === 401 || r.status === 407)
        return { ok: false, summary: `${r.status} ${r.reason}: the device wants authentication (challenge received)` };
      return { ok: false, summary: `${r.status} ${r.reason}` };
    case 'timeout':
      return {
        ok: false,
        summary: `timeout after ${r.transmissions} transmissions${r.provisional ? ' (a provisional response arrived)' : ''}`,
      };
    case 'error':
      // A NOTIFY that left and was answered with an ICMP error was sent: its message says what came back.
      return { ok: false, summary: r.sent ? r.message : `not sent: ${r.message}` };
  }
}

/** Sends `Event: check-sync;reboot=false` (unless options say otherwise) to the address in the variables. */
export async function sipCheckSync(
  vars: Readonly<Record<string, string>>,
  options: SipNotifyOptions = {},
  names?: SipVarNames,
): Promise<NotifyResult> {
  const target = sipTargetFromVars(vars, names);
  if (typeof target === 'string') return { ok: false, summary: target };
  return summarizeNotify(await sendSipNotify(target, options));
}

/** The push triggers the core offers adapters (AdapterServices.push). */
export interface PushServices {
  sipCheckSync: typeof sipCheckSync;
}

/**
 * The config keys of an adapter that pushes SIP NOTIFY, spread into its configSchema's object:
 * `sipTimers` (RFC 3261 timers in ms; tests shrink them) and `sipAdvertisedHost` (the host written into
 * Via/From, the address the device can answer, e.g. behind NAT).
 */
export const sipPushConfig = {
  sipTimers: z
    .object({ t1Ms: z.number().int().positive(), t2Ms: z.number().int().positive(), timerFMs: z.number().int().positive() })
    .partial()
    .strict()
    .default({}),
  sipAdvertisedHost: z.string().optional(),
};
