/**
 * Option layout shared by IPv6 Destination Options (RFC 8200 §4.2) and mobility options
 * (RFC 6275 §6.2): both use Pad1 = a single zero byte and PadN = type 1, length, zero bytes, and
 * both state alignment as "xn+y" from the start of their header.
 */

/** Bytes of padding that move `offset` to the next offset of the form x*n + y. */
export function padNeeded(offset: number, x: number, y: number): number {
  return (((y - offset) % x) + x) % x;
}

/** Writes `n` bytes of padding at `offset` (Pad1 for one byte, PadN otherwise). */
export function writePadding(buf: Uint8Array, offset: number, n: number): void {
  if (n === 0) return;
  if (n === 1) {
    buf[offset] = 0;
    return;
  }
  buf[offset] = 1;
  buf[offset + 1] = n - 2;
  buf.fill(0, offset + 2, offset + n);
}

/** An option to lay out: alignment x*n+y, and its encoded size including type and length. */
export interface LaidOption {
  readonly align: readonly [x: number, y: number];
  readonly size: number;
  readonly write: (buf: Uint8Array, offset: number) => void;
}

/**
 * Places options from `start`, padding each to its alignment and the whole to a multiple of 8;
 * returns the total length (from 0) and writes into a buffer the caller allocates of that size.
 */
export function layoutOptions(
  start: number,
  options: readonly LaidOption[],
): { length: number; write: (buf: Uint8Array) => void } {
  const places: number[] = [];
  let off = start;
  for (const o of options) {
    off += padNeeded(off, o.align[0], o.align[1]);
    places.push(off);
    off += o.size;
  }
  const end = off;
  const length = end + padNeeded(end, 8, 0);
  return {
    length,
    write(buf) {
      let cur = start;
      options.forEach((o, i) => {
        const at = places[i]!;
        writePadding(buf, cur, at - cur);
        o.write(buf, at);
        cur = at + o.size;
      });
      writePadding(buf, end, length - end);
    },
  };
}
