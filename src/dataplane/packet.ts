/**
 * Per-packet work of the tunnel endpoints, written for the fast path: the outer header is written
 * in place in front of the inner packet (the TUN port leaves TUN_HEADROOM bytes there), addresses
 * are bytes, nothing is allocated. src/wire/tunnel.ts is the general, allocating codec with the
 * same formats; the tests hold the two to each other.
 *
 * RFC 5555 §4.1.1: DSCP and ECN are copied from the inner header to the outer one on
 * encapsulation; on decapsulation ECN follows RFC 6040 (a CE mark on the outer header reaches the
 * inner one; CE on a not-ECN-capable inner packet drops it). The hop limit is decremented once, by
 * the kernel forwarding the packet into or out of the TUN device, as for any IP-in-IP router
 * (RFC 2473 §3.1): the tunnel itself does not touch the inner header's TTL.
 */

import { finish, sumWords } from '../wire/checksum.js';
import { DSMIPV6_UDP_PORT, IpProto } from '../wire/constants.js';

export const IPV4_HEADER = 20;
export const IPV6_HEADER = 40;
export const UDP_HEADER = 8;
/** Outer TTL / hop limit of tunnel packets (RFC 2473 §6.3 suggests the default hop limit). */
export const OUTER_TTL = 64;

/** How a binding's packets travel (RFC 5555 §4.1): the BCE's TunnelMode. */
export type Encapsulation = 'ip6' | 'ip4' | 'udp';

/** Bytes the encapsulation adds in front of the inner packet. */
export function overhead(mode: Encapsulation): number {
  return mode === 'ip6' ? IPV6_HEADER : mode === 'ip4' ? IPV4_HEADER : IPV4_HEADER + UDP_HEADER;
}

/** The worst case of all encapsulations: what the TUN MTU is reduced by. */
export const MAX_OVERHEAD = IPV6_HEADER;

/** The facts about an inner packet the forwarding decision needs, or why it is not one. */
export type InnerCheck =
  | { readonly ok: true; readonly version: 4 | 6 }
  | { readonly ok: false; readonly reason: 'truncated' | 'bad-version' | 'bad-length' };

/**
 * Checks that `p` is one whole IPv4 or IPv6 packet: header present, length fields equal to the
 * bytes there. Total: any bytes give an answer.
 */
export function checkInner(p: Uint8Array): InnerCheck {
  if (p.length < 1) return { ok: false, reason: 'truncated' };
  const v = p[0]! >> 4;
  if (v === 4) {
    if (p.length < IPV4_HEADER) return { ok: false, reason: 'truncated' };
    const ihl = (p[0]! & 0x0f) * 4;
    const total = (p[2]! << 8) | p[3]!;
    if (ihl < IPV4_HEADER || total !== p.length || ihl > total) return { ok: false, reason: 'bad-length' };
    return { ok: true, version: 4 };
  }
  if (v === 6) {
    if (p.length < IPV6_HEADER) return { ok: false, reason: 'truncated' };
    if (((p[4]! << 8) | p[5]!) + IPV6_HEADER !== p.length) return { ok: false, reason: 'bad-length' };
    return { ok: true, version: 6 };
  }
  return { ok: false, reason: 'bad-version' };
}

/** The inner packet's DSCP+ECN octet (IPv4 TOS, IPv6 Traffic Class). */
export function trafficClass(p: Uint8Array): number {
  return p[0]! >> 4 === 4 ? p[1]! : ((p[0]! & 0x0f) << 4) | (p[1]! >> 4);
}

/** The IPv4 Don't Fragment bit (IPv6 packets are never fragmented on the way: always true). */
export function dontFragment(p: Uint8Array): boolean {
  return p[0]! >> 4 === 6 || (p[6]! & 0x40) !== 0;
}

/** Source address bytes of an IPv4 (4) or IPv6 (16) packet, as a view. */
export function sourceOf(p: Uint8Array): Uint8Array {
  return p[0]! >> 4 === 4 ? p.subarray(12, 16) : p.subarray(8, 24);
}

/** Destination address bytes of an IPv4 (4) or IPv6 (16) packet, as a view. */
export function destinationOf(p: Uint8Array): Uint8Array {
  return p[0]! >> 4 === 4 ? p.subarray(16, 20) : p.subarray(24, 40);
}

/** Where a binding's packets go and from where: the outer header's constant part. */
export interface OuterTemplate {
  readonly mode: Encapsulation;
  /** 16 bytes for 'ip6', 4 for 'ip4' and 'udp'. */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** UDP only: our port and the peer's (the NAT's mapped port at the HA, 4191 at the MN). */
  readonly srcPort?: number;
  readonly dstPort?: number;
}

/**
 * Writes the outer header for `inner` (which must be a view into a buffer with at least
 * overhead(mode) bytes before it) and returns the whole outer packet as a view of that buffer.
 */
export function encapsulateInPlace(t: OuterTemplate, inner: Uint8Array): Uint8Array {
  const head = overhead(t.mode);
  if (inner.byteOffset < head) throw new RangeError(`encapsulateInPlace: needs ${head} bytes of headroom`);
  const out = new Uint8Array(inner.buffer, inner.byteOffset - head, inner.length + head);
  const tc = trafficClass(inner);
  const innerProto = inner[0]! >> 4 === 4 ? IpProto.IPv4 : IpProto.IPv6;
  if (t.mode === 'ip6') {
    writeIpv6Header(out, tc, inner.length, innerProto, t.src, t.dst);
  } else if (t.mode === 'ip4') {
    writeIpv4Header(out, tc, out.length, innerProto, t.src, t.dst);
  } else {
    writeIpv4Header(out, tc, out.length, IpProto.UDP, t.src, t.dst);
    const u = IPV4_HEADER;
    const length = UDP_HEADER + inner.length;
    const sp = t.srcPort ?? DSMIPV6_UDP_PORT;
    const dp = t.dstPort ?? DSMIPV6_UDP_PORT;
    out[u] = sp >> 8;
    out[u + 1] = sp & 0xff;
    out[u + 2] = dp >> 8;
    out[u + 3] = dp & 0xff;
    out[u + 4] = length >> 8;
    out[u + 5] = length & 0xff;
    // RFC 768: zero means "no checksum" over IPv4; the inner packet carries its own checks.
    out[u + 6] = 0;
    out[u + 7] = 0;
  }
  return out;
}

function writeIpv4Header(
  out: Uint8Array,
  tos: number,
  total: number,
  protocol: number,
  src: Uint8Array,
  dst: Uint8Array,
): void {
  out[0] = 0x45;
  out[1] = tos;
  out[2] = total >> 8;
  out[3] = total & 0xff;
  // Identification 0: the kernel fills one in for IP_HDRINCL; DF set: the tunnel never fragments.
  out[4] = 0;
  out[5] = 0;
  out[6] = 0x40;
  out[7] = 0;
  out[8] = OUTER_TTL;
  out[9] = protocol;
  out[10] = 0;
  out[11] = 0;
  out[12] = src[0]!;
  out[13] = src[1]!;
  out[14] = src[2]!;
  out[15] = src[3]!;
  out[16] = dst[0]!;
  out[17] = dst[1]!;
  out[18] = dst[2]!;
  out[19] = dst[3]!;
  const c = finish(sumWords(out, 0, IPV4_HEADER));
  out[10] = c >> 8;
  out[11] = c & 0xff;
}

function writeIpv6Header(
  out: Uint8Array,
  tc: number,
  payloadLength: number,
  nextHeader: number,
  src: Uint8Array,
  dst: Uint8Array,
): void {
  out[0] = 0x60 | (tc >> 4);
  out[1] = (tc & 0x0f) << 4;
  out[2] = 0;
  out[3] = 0;
  out[4] = payloadLength >> 8;
  out[5] = payloadLength & 0xff;
  out[6] = nextHeader;
  out[7] = OUTER_TTL;
  out.set(src, 8);
  out.set(dst, 24);
}

const ECN_CE = 3;

/**
 * RFC 6040 §4.2 decapsulation (normal mode): an outer CE mark is copied to an ECN-capable inner
 * packet (IPv4 header checksum updated); a CE-marked packet whose inner header is Not-ECT is
 * dropped (false). Any other combination leaves the inner packet as it is.
 */
export function applyOuterEcn(outerTrafficClass: number, inner: Uint8Array): boolean {
  if ((outerTrafficClass & 3) !== ECN_CE) return true;
  const tc = trafficClass(inner);
  if ((tc & 3) === 0) return false;
  if ((tc & 3) === ECN_CE) return true;
  if (inner[0]! >> 4 === 4) {
    inner[1] = tc | ECN_CE;
    inner[10] = 0;
    inner[11] = 0;
    const ihl = (inner[0]! & 0x0f) * 4;
    const c = finish(sumWords(inner, 0, ihl));
    inner[10] = c >> 8;
    inner[11] = c & 0xff;
  } else {
    inner[1] = inner[1]! | (ECN_CE << 4);
  }
  return true;
}

/** Equality of two address byte views (4 or 16 bytes). */
export function sameAddress(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A map key for an address: one latin1 character per byte (cheap, no hex formatting). */
export function addressKey(a: Uint8Array): string {
  return String.fromCharCode.apply(null, a as unknown as number[]);
}

/**
 * RFC 5555 §4.1: UDP port 4191 carries both signalling and tunnelled data, told apart by what is
 * inside. Signalling is an IPv6 packet to or from the home agent's address whose first header is
 * ESP (our BU/BA in ESP transport mode) or the Mobility Header; everything else is data.
 */
export function isSignalling(inner: Uint8Array, homeAgentIpv6: Uint8Array): boolean {
  if (inner.length < IPV6_HEADER || inner[0]! >> 4 !== 6) return false;
  const next = inner[6];
  if (next !== IpProto.ESP && next !== IpProto.Mobility) return false;
  return (
    sameAddress(inner.subarray(24, 40), homeAgentIpv6) || sameAddress(inner.subarray(8, 24), homeAgentIpv6)
  );
}
