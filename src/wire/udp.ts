/** UDP (RFC 768) with its checksum over the IPv4 or IPv6 pseudo-header (RFC 8200 §8.1). */

import { finish, type PseudoHeader, pseudoSum, sumWords } from './checksum.js';
import { IpProto } from './constants.js';
import { checkUint, EmitError, fail, ok, type Parsed, truncated } from './error.js';

export const UDP_HEADER = 8;

export interface UdpDatagram {
  readonly srcPort: number;
  readonly dstPort: number;
  /** A view into the parsed buffer, not a copy. */
  readonly payload: Uint8Array;
}

const L = 'udp';

/**
 * Parses a UDP datagram that fills `buf` exactly. The checksum is verified against `ph`; a zero
 * checksum means "none" over IPv4 but is invalid over IPv6 (RFC 8200 §8.1).
 */
export function parseUdp(buf: Uint8Array, ph: PseudoHeader): Parsed<UdpDatagram> {
  const t = truncated(buf, 0, UDP_HEADER, L, 'header');
  if (t) return t;
  const length = (buf[4]! << 8) | buf[5]!;
  if (length !== buf.length) return fail(L, 'length-mismatch', 'length', 4, length, `${buf.length}`);
  const checksum = (buf[6]! << 8) | buf[7]!;
  const overIpv6 = ph.src.length === 16;
  if (checksum === 0) {
    if (overIpv6) return fail(L, 'bad-checksum', 'checksum', 6, 0, 'non-zero over IPv6');
  } else if (finish(sumWords(buf, 0, buf.length, pseudoSum(ph, length, IpProto.UDP))) !== 0) {
    return fail(L, 'bad-checksum', 'checksum', 6, checksum, 'a valid checksum');
  }
  return ok({
    srcPort: (buf[0]! << 8) | buf[1]!,
    dstPort: (buf[2]! << 8) | buf[3]!,
    payload: buf.subarray(UDP_HEADER),
  });
}

/** Encodes a datagram with its checksum computed over `ph`. */
export function emitUdp(d: Omit<UdpDatagram, 'payload'>, payload: Uint8Array, ph: PseudoHeader): Uint8Array {
  checkUint(L, 'srcPort', d.srcPort, 0xffff);
  checkUint(L, 'dstPort', d.dstPort, 0xffff);
  const length = UDP_HEADER + payload.length;
  if (length > 0xffff) throw new EmitError(L, 'length', length, 'at most 65535');
  const buf = new Uint8Array(length);
  buf[0] = d.srcPort >> 8;
  buf[1] = d.srcPort & 0xff;
  buf[2] = d.dstPort >> 8;
  buf[3] = d.dstPort & 0xff;
  buf[4] = length >> 8;
  buf[5] = length & 0xff;
  buf.set(payload, UDP_HEADER);
  let sum = finish(sumWords(buf, 0, length, pseudoSum(ph, length, IpProto.UDP)));
  if (sum === 0) sum = 0xffff; // RFC 768: a computed zero is sent as all ones
  buf[6] = sum >> 8;
  buf[7] = sum & 0xff;
  return buf;
}
