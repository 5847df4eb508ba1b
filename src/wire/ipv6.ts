/** IPv6 header (RFC 8200 §3) and the chain of extension headers that Mobile IPv6 uses. */

import { type Ipv6Address, ipv6FromBytes, ipv6TextToBytes, writeIpv6 } from './address.js';
import type { PseudoHeader } from './checksum.js';
import { checkUint, EmitError, fail, ok, type Parsed, truncated } from './error.js';
import {
  emitExtension,
  extensionProtocol,
  type Ipv6Extension,
  isWalkedExtension,
  parseExtension,
} from './ipv6-ext.js';

export const IPV6_HEADER = 40;

export interface Ipv6Packet {
  readonly dscp: number;
  readonly ecn: number;
  readonly flowLabel: number;
  readonly hopLimit: number;
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address;
  /** Hop-by-hop, routing and destination options headers, in wire order. */
  readonly extensions: readonly Ipv6Extension[];
  /** The upper-layer protocol after the last extension header (135 MH, 50 ESP, 17 UDP, 41, 4, ...). */
  readonly protocol: number;
  /** A view into the parsed buffer, not a copy. */
  readonly payload: Uint8Array;
  /** Offset of `payload` in the parsed buffer (so errors inside it can be reported in place). */
  readonly payloadOffset: number;
}

const L = 'ipv6';

/** Parses a whole IPv6 packet; the Payload Length must account for every byte after the header. */
export function parseIpv6(buf: Uint8Array): Parsed<Ipv6Packet> {
  const t = truncated(buf, 0, IPV6_HEADER, L, 'header');
  if (t) return t;
  const version = buf[0]! >> 4;
  if (version !== 6) return fail(L, 'bad-value', 'version', 0, version, '6');
  const payloadLength = (buf[4]! << 8) | buf[5]!;
  if (payloadLength !== buf.length - IPV6_HEADER) {
    return fail(L, 'length-mismatch', 'payloadLength', 4, payloadLength, `${buf.length - IPV6_HEADER}`);
  }
  const trafficClass = ((buf[0]! & 0x0f) << 4) | (buf[1]! >> 4);
  const extensions: Ipv6Extension[] = [];
  let nh = buf[6]!;
  let off = IPV6_HEADER;
  while (isWalkedExtension(nh)) {
    const hdr = truncated(buf, off, 8, L, 'extension header');
    if (hdr) return hdr;
    const length = (buf[off + 1]! + 1) * 8;
    if (off + length > buf.length) {
      return fail(
        L,
        'overrun',
        'hdrExtLen',
        off + 1,
        buf[off + 1]!,
        `at most ${((buf.length - off) >> 3) - 1}`,
      );
    }
    // RFC 8200 §4.3: a Hop-by-Hop header is only valid right after the IPv6 header.
    if (nh === 0 && off !== IPV6_HEADER)
      return fail(L, 'bad-value', 'nextHeader', off, 0, 'hop-by-hop first');
    const ext = parseExtension(buf, nh, off, length);
    if (!ext.ok) return ext;
    extensions.push(ext.value);
    nh = buf[off]!;
    off += length;
  }
  return ok({
    dscp: trafficClass >> 2,
    ecn: trafficClass & 0x03,
    flowLabel: ((buf[1]! & 0x0f) << 16) | (buf[2]! << 8) | buf[3]!,
    hopLimit: buf[7]!,
    src: ipv6FromBytes(buf, 8),
    dst: ipv6FromBytes(buf, 24),
    extensions,
    protocol: nh,
    payload: buf.subarray(off),
    payloadOffset: off,
  });
}

export type Ipv6Fields = Omit<Ipv6Packet, 'payload' | 'payloadOffset'>;

/** Writes the header, the extension chain and `payload` (already encoded upper layer). */
export function emitIpv6(fields: Ipv6Fields, payload: Uint8Array): Uint8Array {
  checkUint(L, 'dscp', fields.dscp, 0x3f);
  checkUint(L, 'ecn', fields.ecn, 0x3);
  checkUint(L, 'flowLabel', fields.flowLabel, 0xfffff);
  checkUint(L, 'hopLimit', fields.hopLimit, 0xff);
  checkUint(L, 'protocol', fields.protocol, 0xff);
  const exts = fields.extensions.map((ext, i) => {
    const next = fields.extensions[i + 1];
    return emitExtension(ext, next ? extensionProtocol(next) : fields.protocol);
  });
  const extLength = exts.reduce((n, e) => n + e.length, 0);
  const payloadLength = extLength + payload.length;
  if (payloadLength > 0xffff) throw new EmitError(L, 'payloadLength', payloadLength, 'at most 65535');
  const buf = new Uint8Array(IPV6_HEADER + payloadLength);
  const tc = (fields.dscp << 2) | fields.ecn;
  buf[0] = 0x60 | (tc >> 4);
  buf[1] = ((tc & 0x0f) << 4) | (fields.flowLabel >> 16);
  buf[2] = (fields.flowLabel >> 8) & 0xff;
  buf[3] = fields.flowLabel & 0xff;
  buf[4] = payloadLength >> 8;
  buf[5] = payloadLength & 0xff;
  const first = fields.extensions[0];
  buf[6] = first ? extensionProtocol(first) : fields.protocol;
  buf[7] = fields.hopLimit;
  writeIpv6(buf, 8, fields.src);
  writeIpv6(buf, 24, fields.dst);
  let off = IPV6_HEADER;
  for (const e of exts) {
    buf.set(e, off);
    off += e.length;
  }
  buf.set(payload, off);
  return buf;
}

/** The Home Address option's address, if the packet carries one (RFC 6275 §6.3). */
export function homeAddressOption(pkt: Pick<Ipv6Packet, 'extensions'>): Ipv6Address | undefined {
  for (const ext of pkt.extensions) {
    if (ext.kind !== 'destinationOptions') continue;
    for (const o of ext.options) if (o.kind === 'homeAddress') return o.address;
  }
  return undefined;
}

/** The Type 2 Routing Header's home address, if present (RFC 6275 §6.4). */
export function routingHomeAddress(pkt: Pick<Ipv6Packet, 'extensions'>): Ipv6Address | undefined {
  for (const ext of pkt.extensions) if (ext.kind === 'routingType2') return ext.homeAddress;
  return undefined;
}

/**
 * Addresses for an upper-layer checksum (RFC 8200 §8.1 as applied by RFC 6275 §6.1.1): the home
 * address from a Home Address option replaces the source, and the home address in a Type 2
 * Routing Header (the final destination) replaces the destination.
 */
export function upperLayerPseudoHeader(pkt: Pick<Ipv6Packet, 'extensions' | 'src' | 'dst'>): PseudoHeader {
  return {
    src: ipv6TextToBytes(homeAddressOption(pkt) ?? pkt.src)!,
    dst: ipv6TextToBytes(routingHomeAddress(pkt) ?? pkt.dst)!,
  };
}
