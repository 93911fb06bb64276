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

/**
 * The subject a client address is counted as (password guessing, refusal logging): an IPv4 address as
 * itself, an IPv6 address as its /64 (one subscriber's prefix: a client rotating through its own 2^64
 * addresses is one subject, RFC 7707 §2.1). Undefined for no or an unparsable address.
 */
export function addressSubject(ip: string | undefined): string | undefined {
  const a = clientAddress(ip);
  if (a === undefined || isIPv4(a)) return a;
  if (!isIPv6(a)) return undefined;
  const full = expandIPv6(a);
  return full === undefined ? undefined : `${full.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone dropped), lowercase hex without leading zeros. */
function expandIPv6(a: string): string[] | undefined {
  let canonical: string;
  try {
    // The WHATWG URL parser writes an IPv6 host in RFC 5952 form (embedded IPv4 as hex): one spelling each.
    canonical = new URL(`http://[${a.split('%')[0]!}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', tail] = canonical.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.length === 8 ? groups : undefined;
}

/** Whether a client address is this host (127.0.0.0/8, ::1, or either as an IPv4-mapped address). */
export function isLoopback(ip: string | undefined): boolean {
  const a = clientAddress(ip);
  return a !== undefined && (a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a));
}
