/**
 * DSMIPv6 encapsulations (RFC 5555 §4.1): IPv6-in-IPv6 and IPv4-in-IPv6 (RFC 2473), IPv6-in-IPv4
 * (protocol 41) and IPv4-in-IPv4 (protocol 4), and UDP encapsulation on port 4191 where the
 * receiver tells an inner IPv4 from an inner IPv6 packet by the version nibble after the UDP
 * header. On encapsulation DSCP and ECN are copied from the inner header (RFC 5555 §4.1.1).
 */

import { type Ipv4Address, type Ipv6Address, ipv4TextToBytes, ipv6TextToBytes } from './address.js';
import type { PseudoHeader } from './checksum.js';
import { DSMIPV6_UDP_PORT, IpProto } from './constants.js';
import { EmitError, fail, ok, type Parsed, shifted } from './error.js';
import { emitIpv4, type Ipv4Packet, parseIpv4 } from './ipv4.js';
import { emitIpv6, type Ipv6Packet, parseIpv6 } from './ipv6.js';
import { emitUdp, parseUdp, type UdpDatagram } from './udp.js';

/** Where and how to send an encapsulated packet. */
export type OuterHeader =
  | {
      readonly family: 4;
      readonly src: Ipv4Address;
      readonly dst: Ipv4Address;
      readonly ttl?: number;
      readonly udp?: UdpPorts;
    }
  | {
      readonly family: 6;
      readonly src: Ipv6Address;
      readonly dst: Ipv6Address;
      readonly hopLimit?: number;
      readonly udp?: UdpPorts;
    };

export interface UdpPorts {
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface TunnelPacket {
  readonly encapsulation: 'ip-in-ip' | 'udp';
  /** The outer IP header; its payload is the UDP datagram or the inner packet. */
  readonly outer: Ipv4Packet | Ipv6Packet;
  readonly udp?: Omit<UdpDatagram, 'payload'>;
  readonly innerVersion: 4 | 6;
  /** The inner packet (a view into the parsed buffer), to be parsed by its own family's parser. */
  readonly inner: Uint8Array;
  /** Offset of `inner` in the parsed buffer. */
  readonly innerOffset: number;
}

const L = 'tunnel';
const DEFAULT_TTL = 64;

/** Inner version nibble: 4 or 6, else undefined. */
function versionOf(inner: Uint8Array): 4 | 6 | undefined {
  if (inner.length === 0) return undefined;
  const v = inner[0]! >> 4;
  return v === 4 || v === 6 ? v : undefined;
}

/** DSCP and ECN of an IPv4 or IPv6 packet (RFC 5555 §4.1.1 copies both to the outer header). */
function trafficClassOf(inner: Uint8Array, version: 4 | 6): { dscp: number; ecn: number } {
  const tc = version === 4 ? inner[1]! : ((inner[0]! & 0x0f) << 4) | (inner[1]! >> 4);
  return { dscp: tc >> 2, ecn: tc & 0x03 };
}

/**
 * Encapsulates a whole IPv4 or IPv6 packet. Without `udp` the outer protocol is 4 or 41 from the
 * inner version; with `udp` the packet goes in UDP (normally to or from port 4191).
 */
export function encapsulate(outer: OuterHeader, inner: Uint8Array): Uint8Array {
  const version = versionOf(inner);
  if (version === undefined || inner.length < (version === 4 ? 20 : 40)) {
    throw new EmitError(L, 'inner', inner.length ? inner[0]! >> 4 : 'empty', 'a whole IPv4 or IPv6 packet');
  }
  const { dscp, ecn } = trafficClassOf(inner, version);
  const innerProto = version === 4 ? IpProto.IPv4 : IpProto.IPv6;
  if (outer.family === 4) {
    const src = ipv4TextToBytes(outer.src)!;
    const dst = ipv4TextToBytes(outer.dst)!;
    const payload = outer.udp ? emitUdp(outer.udp, inner, { src, dst }) : inner;
    return emitIpv4(
      {
        dscp,
        ecn,
        identification: 0,
        // The tunnel never fragments silently: oversize packets are for the data plane to refuse.
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: outer.ttl ?? DEFAULT_TTL,
        protocol: outer.udp ? IpProto.UDP : innerProto,
        src: outer.src,
        dst: outer.dst,
      },
      payload,
    );
  }
  const ph: PseudoHeader = { src: ipv6TextToBytes(outer.src)!, dst: ipv6TextToBytes(outer.dst)! };
  const payload = outer.udp ? emitUdp(outer.udp, inner, ph) : inner;
  return emitIpv6(
    {
      dscp,
      ecn,
      flowLabel: 0,
      hopLimit: outer.hopLimit ?? DEFAULT_TTL,
      src: outer.src,
      dst: outer.dst,
      extensions: [],
      protocol: outer.udp ? IpProto.UDP : innerProto,
    },
    payload,
  );
}

/**
 * Takes apart a tunnelled packet. UDP counts as DSMIPv6 encapsulation when either port is
 * `udpPort` (4191 by default: the HA listens there, the MN receives from there).
 */
export function decapsulate(buf: Uint8Array, udpPort = DSMIPV6_UDP_PORT): Parsed<TunnelPacket> {
  if (buf.length === 0) return fail(L, 'truncated', 'outer', 0, 0, 'an IP packet');
  const outerVersion = buf[0]! >> 4;
  let outer: Ipv4Packet | Ipv6Packet;
  let payloadOffset: number;
  let ph: PseudoHeader;
  if (outerVersion === 4) {
    const p = parseIpv4(buf);
    if (!p.ok) return p;
    outer = p.value;
    payloadOffset = buf.length - p.value.payload.length;
    ph = { src: buf.subarray(12, 16), dst: buf.subarray(16, 20) };
  } else if (outerVersion === 6) {
    const p = parseIpv6(buf);
    if (!p.ok) return p;
    outer = p.value;
    payloadOffset = p.value.payloadOffset;
    ph = { src: buf.subarray(8, 24), dst: buf.subarray(24, 40) };
  } else {
    return fail(L, 'bad-value', 'outer.version', 0, outerVersion, '4 or 6');
  }
  const proto = outer.protocol;
  if (proto === IpProto.IPv4 || proto === IpProto.IPv6) {
    const want = proto === IpProto.IPv4 ? 4 : 6;
    const got = versionOf(outer.payload);
    if (got !== want) {
      return fail(
        L,
        'bad-value',
        'inner.version',
        payloadOffset,
        outer.payload.length ? outer.payload[0]! >> 4 : 'none',
        `${want} (protocol ${proto})`,
      );
    }
    return ok({
      encapsulation: 'ip-in-ip',
      outer,
      innerVersion: want,
      inner: outer.payload,
      innerOffset: payloadOffset,
    });
  }
  if (proto !== IpProto.UDP)
    return fail(L, 'unsupported', 'protocol', payloadOffset, proto, '4, 41 or 17 (UDP)');
  const u = parseUdp(outer.payload, ph);
  if (!u.ok) return shifted(u, payloadOffset);
  const { srcPort, dstPort, payload } = u.value;
  if (srcPort !== udpPort && dstPort !== udpPort) {
    return fail(
      L,
      'unsupported',
      'udp.port',
      payloadOffset,
      `${srcPort}->${dstPort}`,
      `${udpPort} at one end`,
    );
  }
  const innerOffset = payloadOffset + 8;
  const v = versionOf(payload);
  if (v === undefined) {
    return fail(
      L,
      'bad-value',
      'inner.version',
      innerOffset,
      payload.length ? payload[0]! >> 4 : 'none',
      '4 or 6',
    );
  }
  return ok({
    encapsulation: 'udp',
    outer,
    udp: { srcPort, dstPort },
    innerVersion: v,
    inner: payload,
    innerOffset,
  });
}
