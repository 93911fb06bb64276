// Which peers are reverse proxies (`http.trustedProxies`): only their X-Forwarded-For / X-Forwarded-Proto
// are believed, only requests that came through them are handed over in front-proxy mode, and only their
// transfer reports are read. Anyone else (a phone on the LAN talking to APS's port directly) is a client,
// whatever headers it sends: a private address is where phones live, never a sign of a proxy.
import { isApsError } from '../errors.ts';
import { parseNetworks, type NetworkList } from './networks.ts';

/** The loopback networks: the default proxy in front-proxy mode (nginx on the same host). */
export const LOOPBACK = ['127.0.0.0/8', '::1'] as const;

/** The configured proxies; loopback in front-proxy mode when none are configured; undefined: no proxy at all. */
export function trustedProxies(http: { frontProxy?: unknown; trustedProxies?: readonly string[] }): NetworkList | undefined {
  const entries = http.trustedProxies ?? (http.frontProxy ? LOOPBACK : []);
  return parseNetworks(entries.join(' '), 'http.trustedProxies');
}

/** Whether `entry` is one IP address or CIDR network (the config schema's check). */
export function isNetwork(entry: string): boolean {
  if (/[\s,]/.test(entry)) return false;
  try {
    return parseNetworks(entry, 'http.trustedProxies') !== undefined;
  } catch (e) {
    if (isApsError(e)) return false;
    throw e;
  }
}
