/**
 * The Internet checksum (RFC 1071) and the pseudo-headers that IPv4 (RFC 768) and IPv6
 * (RFC 8200 §8.1) upper layers fold into it. UDP and the Mobility Header both use it.
 */

/** Adds the 16-bit big-endian words of buf[start, end) to `sum` (no folding). */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let s = sum;
  let i = start;
  for (; i + 1 < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) s += buf[i]! << 8; // odd trailing byte is padded with zero
  return s;
}

/** Folds carries and takes the one's complement. */
export function finish(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** One's-complement sum of an IPv6 pseudo-header (RFC 8200 §8.1). */
export function ipv6PseudoSum(src: Uint8Array, dst: Uint8Array, length: number, nextHeader: number): number {
  let s = sumWords(src, 0, 16);
  s = sumWords(dst, 0, 16, s);
  return s + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader;
}

/** One's-complement sum of an IPv4 pseudo-header (RFC 768). */
export function ipv4PseudoSum(src: Uint8Array, dst: Uint8Array, length: number, protocol: number): number {
  let s = sumWords(src, 0, 4);
  s = sumWords(dst, 0, 4, s);
  return s + protocol + length;
}

/** Source and destination addresses (4 or 16 bytes each) for an upper-layer checksum. */
export interface PseudoHeader {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

export function pseudoSum(ph: PseudoHeader, length: number, protocol: number): number {
  return ph.src.length === 4
    ? ipv4PseudoSum(ph.src, ph.dst, length, protocol)
    : ipv6PseudoSum(ph.src, ph.dst, length, protocol);
}
