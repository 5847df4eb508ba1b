/** IPv4 header (RFC 791), with header checksum (RFC 1071). */

import { type Ipv4Address, ipv4FromBytes, writeIpv4 } from './address.js';
import { finish, sumWords } from './checksum.js';
import { checkUint, EmitError, fail, ok, type Parsed, truncated } from './error.js';

export const IPV4_MIN_HEADER = 20;

export interface Ipv4Packet {
  /** Differentiated Services code point (RFC 2474), 6 bits. */
  readonly dscp: number;
  /** Explicit Congestion Notification (RFC 3168), 2 bits. */
  readonly ecn: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In 8-octet units, as on the wire. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  /** Raw options (a multiple of 4 bytes, at most 40). */
  readonly options: Uint8Array;
  /** A view into the parsed buffer, not a copy. */
  readonly payload: Uint8Array;
}

const L = 'ipv4';

/**
 * Parses a whole IPv4 packet. The Total Length must equal the buffer length: dsmip6 receives
 * whole packets from raw sockets, TUN and UDP payloads, so any difference means damage.
 */
export function parseIpv4(buf: Uint8Array): Parsed<Ipv4Packet> {
  const t = truncated(buf, 0, IPV4_MIN_HEADER, L, 'header');
  if (t) return t;
  const version = buf[0]! >> 4;
  if (version !== 4) return fail(L, 'bad-value', 'version', 0, version, '4');
  const ihl = buf[0]! & 0x0f;
  if (ihl < 5) return fail(L, 'bad-value', 'ihl', 0, ihl, 'at least 5 (20 bytes)');
  const headerLength = ihl * 4;
  const totalLength = (buf[2]! << 8) | buf[3]!;
  if (totalLength !== buf.length) {
    return fail(L, 'length-mismatch', 'totalLength', 2, totalLength, `${buf.length} (the bytes present)`);
  }
  if (headerLength > totalLength) {
    return fail(L, 'length-mismatch', 'ihl', 0, ihl, `at most ${totalLength >> 2} (totalLength / 4)`);
  }
  const checksum = finish(sumWords(buf, 0, headerLength));
  if (checksum !== 0) {
    return fail(L, 'bad-checksum', 'checksum', 10, (buf[10]! << 8) | buf[11]!, 'a valid header checksum');
  }
  const flagsFrag = (buf[6]! << 8) | buf[7]!;
  return ok({
    dscp: buf[1]! >> 2,
    ecn: buf[1]! & 0x03,
    identification: (buf[4]! << 8) | buf[5]!,
    dontFragment: (flagsFrag & 0x4000) !== 0,
    moreFragments: (flagsFrag & 0x2000) !== 0,
    fragmentOffset: flagsFrag & 0x1fff,
    ttl: buf[8]!,
    protocol: buf[9]!,
    src: ipv4FromBytes(buf, 12),
    dst: ipv4FromBytes(buf, 16),
    options: buf.subarray(IPV4_MIN_HEADER, headerLength),
    payload: buf.subarray(headerLength, totalLength),
  });
}

export type Ipv4Fields = Omit<Ipv4Packet, 'payload' | 'options'> & { readonly options?: Uint8Array };

/** Writes an IPv4 header (checksum filled in) followed by `payload`. */
export function emitIpv4(fields: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const options = fields.options ?? new Uint8Array(0);
  if (options.length % 4 !== 0 || options.length > 40) {
    throw new EmitError(L, 'options.length', options.length, 'a multiple of 4, at most 40');
  }
  const headerLength = IPV4_MIN_HEADER + options.length;
  const total = headerLength + payload.length;
  if (total > 0xffff) throw new EmitError(L, 'totalLength', total, 'at most 65535');
  checkUint(L, 'dscp', fields.dscp, 0x3f);
  checkUint(L, 'ecn', fields.ecn, 0x3);
  checkUint(L, 'identification', fields.identification, 0xffff);
  checkUint(L, 'fragmentOffset', fields.fragmentOffset, 0x1fff);
  checkUint(L, 'ttl', fields.ttl, 0xff);
  checkUint(L, 'protocol', fields.protocol, 0xff);
  const buf = new Uint8Array(total);
  buf[0] = 0x40 | (headerLength >> 2);
  buf[1] = (fields.dscp << 2) | fields.ecn;
  buf[2] = total >> 8;
  buf[3] = total & 0xff;
  buf[4] = fields.identification >> 8;
  buf[5] = fields.identification & 0xff;
  const flagsFrag =
    (fields.dontFragment ? 0x4000 : 0) | (fields.moreFragments ? 0x2000 : 0) | fields.fragmentOffset;
  buf[6] = flagsFrag >> 8;
  buf[7] = flagsFrag & 0xff;
  buf[8] = fields.ttl;
  buf[9] = fields.protocol;
  writeIpv4(buf, 12, fields.src);
  writeIpv4(buf, 16, fields.dst);
  buf.set(options, IPV4_MIN_HEADER);
  const sum = finish(sumWords(buf, 0, headerLength));
  buf[10] = sum >> 8;
  buf[11] = sum & 0xff;
  buf.set(payload, headerLength);
  return buf;
}
