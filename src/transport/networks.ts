// Address lists an operator writes in a variable ("10.1.0.0/16, 192.168.5.7 2001:db8::/32"): which clients
// may receive secret lines, or upload a backup. One parser and one matcher for every adapter.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ApsError } from '../errors.ts';

export interface NetworkList {
  /** Whether the client address is in the list (an IPv4 client of a dual-stack socket, ::ffff:a.b.c.d, counts as IPv4). */
  contains(ip: string | undefined): boolean;
}

/**
 * Parses addresses and CIDR networks of both families, separated by commas or blanks. Undefined when the
 * text is empty or absent; an entry that is not a network is an ApsError naming `what` (the variable).
 */
export function parseNetworks(text: string | undefined, what: string): NetworkList | undefined {
  const entries = (text ?? '').split(/[\s,]+/).filter(Boolean);
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : null;
    const max = type === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!type || !(prefix >= 0 && prefix <= max)) {
      throw new ApsError('bad_request', `variable ${what}: "${entry}" is not an IP address or CIDR network`);
    }
    list.addSubnet(addr, prefix, type);
  }
  return {
    contains(ip): boolean {
      if (!ip) return false;
      const v4 = clientAddress(ip) ?? ip;
      return isIPv4(v4) ? list.check(v4, 'ipv4') : isIPv6(ip) ? list.check(ip, 'ipv6') : false;
    },
  };
}

/** A client address as one subject: an IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is its IPv4 address. */
export function clientAddress(ip: string | undefined): string | undefined {
  return ip?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** Whether a client address is this host (127.0.0.0/8, ::1, or either as an IPv4-mapped address). */
export function isLoopback(ip: string | undefined): boolean {
  const a = clientAddress(ip);
  return a !== undefined && (a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a));
}
