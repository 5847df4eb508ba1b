/**
 * Pure classification of interface addresses for movement detection: which IPv6 and IPv4
 * addresses can serve as a care-of address, which IPv4 addresses suggest a NAT, and prefix
 * matching on address text. No I/O; the text parsers come from src/wire.
 */

import { ipv4FromBytes, ipv4TextToBytes, ipv6FromBytes, ipv6TextToBytes } from '../wire/address.js';

export interface Prefix {
  readonly bytes: Uint8Array;
  readonly length: number;
}

/** True when the first `length` bits of `addr` equal those of `prefix` (same family only). */
export function matchesPrefix(addr: Uint8Array, prefix: Prefix): boolean {
  if (addr.length !== prefix.bytes.length || prefix.length > addr.length * 8) return false;
  const full = prefix.length >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== prefix.bytes[i]) return false;
  const rest = prefix.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full]! & mask) === (prefix.bytes[full]! & mask);
}

/** Parses `addr/len` text for either family, or undefined when it is not exactly that. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const bytes = addr.includes(':') ? ipv6TextToBytes(addr) : ipv4TextToBytes(addr);
  if (!bytes || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > bytes.length * 8) return undefined;
  return { bytes, length };
}

const prefix = (text: string): Prefix => parsePrefix(text)!;

/**
 * IPv6 space that yields a usable care-of address: 2000::/3, the part of the global unicast space
 * IANA allocates (RFC 4291 §2.4, RFC 3587). This leaves out link-local fe80::/10, loopback,
 * multicast, IPv4-mapped addresses and unique local addresses fc00::/7 (RFC 4193): a ULA is not
 * routable to a home agent on the Internet, and many IPv4-only home routers hand one out, so
 * counting it would pick an unreachable CoA instead of the IPv4 one.
 */
const IPV6_GLOBAL_UNICAST = prefix('2000::/3');

/** IPv4 addresses that can never be a care-of address. */
const IPV4_UNUSABLE: readonly Prefix[] = [
  prefix('0.0.0.0/8'), // "this network", RFC 1122 §3.2.1.3
  prefix('127.0.0.0/8'), // loopback, RFC 1122 §3.2.1.3
  prefix('169.254.0.0/16'), // link-local, RFC 3927
  prefix('224.0.0.0/4'), // multicast, RFC 5771
  prefix('240.0.0.0/4'), // reserved and limited broadcast, RFC 1112 §4, RFC 919
];

/** IPv4 addresses that are translated on the way out, so a NAT is likely between MN and HA. */
const IPV4_PRIVATE: readonly Prefix[] = [
  prefix('10.0.0.0/8'), // RFC 1918 §3
  prefix('172.16.0.0/12'), // RFC 1918 §3
  prefix('192.168.0.0/16'), // RFC 1918 §3
  prefix('100.64.0.0/10'), // shared address space for carrier-grade NAT, RFC 6598
];

export type AddressClass = 'ipv6.global' | 'ipv6.other' | 'ipv4.public' | 'ipv4.private' | 'ipv4.other';

export interface ClassifiedAddress {
  /** Canonical text (RFC 5952 for IPv6, dotted quad for IPv4), so equal addresses compare equal. */
  readonly canonical: string;
  readonly bytes: Uint8Array;
  readonly cls: AddressClass;
}

/** Classifies address text of the given family; undefined when the text is not such an address. */
export function classifyAddress(family: 4 | 6, text: string): ClassifiedAddress | undefined {
  if (family === 6) {
    const bytes = ipv6TextToBytes(text);
    if (!bytes) return undefined;
    const cls = matchesPrefix(bytes, IPV6_GLOBAL_UNICAST) ? 'ipv6.global' : 'ipv6.other';
    return { canonical: ipv6FromBytes(bytes), bytes, cls };
  }
  const bytes = ipv4TextToBytes(text);
  if (!bytes) return undefined;
  const cls = IPV4_UNUSABLE.some((p) => matchesPrefix(bytes, p))
    ? 'ipv4.other'
    : IPV4_PRIVATE.some((p) => matchesPrefix(bytes, p))
      ? 'ipv4.private'
      : 'ipv4.public';
  return { canonical: ipv4FromBytes(bytes), bytes, cls };
}

/** Canonical text of an address of either family, or undefined when it does not parse. */
export function canonicalAddress(family: 4 | 6, text: string): string | undefined {
  return classifyAddress(family, text)?.canonical;
}
