/**
 * ICMP and ICMPv6 error messages the data plane originates: Destination Unreachable for a home
 * address without a binding, and Packet Too Big (RFC 4443 §3.2) / Fragmentation Needed (RFC 792,
 * RFC 1191) for a packet that does not fit the tunnel, so the sender's path MTU discovery works
 * instead of the tunnel fragmenting silently. `icmpErrorAllowed` holds the rules on when an error
 * must not be sent (RFC 4443 §2.4(e), RFC 1122 §3.2.2).
 */

import { finish, ipv6PseudoSum, sumWords } from './checksum.js';
import { IpProto } from './constants.js';
import { fail, ok, type Parsed } from './error.js';

export const Icmpv6Error = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
} as const;

/** ICMPv6 Destination Unreachable codes (RFC 4443 §3.1). */
export const Icmpv6UnreachableCode = {
  NoRoute: 0,
  AdministrativelyProhibited: 1,
  AddressUnreachable: 3,
} as const;

export const Icmpv4Type = { DestinationUnreachable: 3, TimeExceeded: 11 } as const;

/** ICMP Destination Unreachable codes (RFC 792, RFC 1191). */
export const Icmpv4UnreachableCode = { HostUnreachable: 1, FragmentationNeeded: 4 } as const;

/** RFC 4443 §2.4(c): an ICMPv6 error must not exceed the minimum IPv6 MTU. */
const IPV6_MIN_MTU = 1280;
/** RFC 1812 §4.3.2.3: an ICMP error carries as much of the datagram as fits in 576 bytes. */
const IPV4_ERROR_MAX = 576;

export interface IcmpError {
  readonly type: number;
  readonly code: number;
  /** The 32-bit field after the checksum: the MTU of Packet Too Big, next-hop MTU (low 16 bits) of Fragmentation Needed. */
  readonly parameter: number;
}

/**
 * Whether an error may be sent about `packet` (an IPv4 or IPv6 packet): not about another ICMP
 * error, a non-first fragment, a multicast or broadcast destination, or an unspecified, multicast
 * or loopback source.
 */
export function icmpErrorAllowed(packet: Uint8Array): boolean {
  const version = packet.length ? packet[0]! >> 4 : 0;
  if (version === 6) {
    if (packet.length < 40) return false;
    if (packet[24] === 0xff || packet[8] === 0xff) return false;
    if (isAllZero(packet, 8, 24)) return false;
    // An ICMPv6 error (types 0-127) directly after the header is never answered with another.
    if (packet[6] === IpProto.ICMPv6 && packet.length > 40 && packet[40]! < 128) return false;
    return true;
  }
  if (version === 4) {
    if (packet.length < 20) return false;
    const ihl = (packet[0]! & 0x0f) * 4;
    const dstFirst = packet[16]!;
    const srcFirst = packet[12]!;
    if (dstFirst >= 224 || srcFirst >= 224 || srcFirst === 0 || srcFirst === 127) return false;
    if (packet[16] === 255 && packet[17] === 255 && packet[18] === 255 && packet[19] === 255) return false;
    const fragmentOffset = ((packet[6]! & 0x1f) << 8) | packet[7]!;
    if (fragmentOffset !== 0) return false;
    if (packet[9] === IpProto.ICMP && packet.length > ihl) {
      const t = packet[ihl]!;
      // Only queries (echo 8/0, timestamp 13/14, ...) may be answered with an error.
      if (t !== 0 && t !== 8 && t !== 13 && t !== 14) return false;
    }
    return true;
  }
  return false;
}

function isAllZero(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * An ICMPv6 error from `src` to the offending packet's source, carrying as much of the offending
 * packet as fits in 1280 bytes. Returns the whole IPv6 packet.
 */
export function emitIcmpv6Error(
  error: IcmpError,
  src: Uint8Array,
  offending: Uint8Array,
  hopLimit = 64,
): Uint8Array {
  const quoted = Math.min(offending.length, IPV6_MIN_MTU - 40 - 8);
  const length = 8 + quoted;
  const out = new Uint8Array(40 + length);
  out[0] = 0x60;
  out[4] = length >> 8;
  out[5] = length & 0xff;
  out[6] = IpProto.ICMPv6;
  out[7] = hopLimit;
  out.set(src.subarray(0, 16), 8);
  out.set(offending.subarray(8, 24), 24);
  out[40] = error.type;
  out[41] = error.code;
  writeU32(out, 44, error.parameter);
  out.set(offending.subarray(0, quoted), 48);
  const sum = ipv6PseudoSum(out.subarray(8, 24), out.subarray(24, 40), length, IpProto.ICMPv6);
  const checksum = finish(sumWords(out, 40, out.length, sum));
  out[42] = checksum >> 8;
  out[43] = checksum & 0xff;
  return out;
}

/** An ICMP error from `src` to the offending packet's source (RFC 792). Returns the whole IPv4 packet. */
export function emitIcmpv4Error(
  error: IcmpError,
  src: Uint8Array,
  offending: Uint8Array,
  ttl = 64,
): Uint8Array {
  const quoted = Math.min(offending.length, IPV4_ERROR_MAX - 20 - 8);
  const total = 20 + 8 + quoted;
  const out = new Uint8Array(total);
  out[0] = 0x45;
  out[2] = total >> 8;
  out[3] = total & 0xff;
  out[8] = ttl;
  out[9] = IpProto.ICMP;
  out.set(src.subarray(0, 4), 12);
  out.set(offending.subarray(12, 16), 16);
  const hc = finish(sumWords(out, 0, 20));
  out[10] = hc >> 8;
  out[11] = hc & 0xff;
  out[20] = error.type;
  out[21] = error.code;
  writeU32(out, 24, error.parameter);
  out.set(offending.subarray(0, quoted), 28);
  const c = finish(sumWords(out, 20, total));
  out[22] = c >> 8;
  out[23] = c & 0xff;
  return out;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** An ICMP/ICMPv6 error message as parsed from its bytes (after the IP header). */
export interface ParsedIcmpError extends IcmpError {
  readonly checksum: number;
  /** The quoted (offending) packet. */
  readonly quoted: Uint8Array;
}

/** Parses an ICMP or ICMPv6 error message body (from the type byte); checks nothing but length. */
export function parseIcmpError(body: Uint8Array): Parsed<ParsedIcmpError> {
  if (body.length < 8) return fail('icmp', 'truncated', 'header', 0, body.length, 'at least 8 bytes');
  return ok({
    type: body[0]!,
    code: body[1]!,
    checksum: (body[2]! << 8) | body[3]!,
    parameter: ((body[4]! << 24) | (body[5]! << 16) | (body[6]! << 8) | body[7]!) >>> 0,
    quoted: body.subarray(8),
  });
}
