/**
 * IPv4 and IPv6 addresses. Records carry addresses as canonical text (RFC 5952 for IPv6, dotted
 * quad for IPv4) under a brand, so a record can only hold an address that was checked once: either
 * decoded from 4/16 bytes, or parsed from text by `ipv4()` / `ipv6()`.
 */

export type Ipv4Address = string & { readonly __brand: 'Ipv4Address' };
export type Ipv6Address = string & { readonly __brand: 'Ipv6Address' };

export const IPV6_UNSPECIFIED = '::' as Ipv6Address;
export const IPV4_UNSPECIFIED = '0.0.0.0' as Ipv4Address;

const hex = (n: number): string => n.toString(16);

/** Formats 4 bytes at `offset` as dotted-quad text. Caller guarantees the bytes exist. */
export function ipv4FromBytes(buf: Uint8Array, offset = 0): Ipv4Address {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}` as Ipv4Address;
}

/** Formats 16 bytes at `offset` per RFC 5952 (lower case, longest zero run as "::"). */
export function ipv6FromBytes(buf: Uint8Array, offset = 0): Ipv6Address {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((buf[offset + 2 * i]! << 8) | buf[offset + 2 * i + 1]!);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ipv4FromBytes(buf, offset + 12)}` as Ipv6Address;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map(hex).join(':') as Ipv6Address;
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${head}::${tail}` as Ipv6Address;
}

/** Parses dotted-quad text into 4 bytes, or undefined when it is not exactly that. */
export function ipv4TextToBytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Value of a hex digit's char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2 forms, including an embedded IPv4 tail) into 16 bytes. The
 * common form without an IPv4 tail is scanned once, char by char: a home agent parses several
 * addresses per Binding Update, and the split/regex version cost it about a tenth of its CPU.
 */
export function ipv6TextToBytes(text: string): Uint8Array | undefined {
  const n = text.length;
  if (n === 0 || n > 45) return undefined;
  if (text.includes('.')) return ipv6WithIpv4TailToBytes(text);
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let compressed = false;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    // Only "::" may start an address.
    if (n < 2 || text.charCodeAt(1) !== 58) return undefined;
    compressed = true;
    groups = tail;
    i = 2;
  }
  while (i < n) {
    let value = 0;
    let digits = 0;
    for (; i < n; i++) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      if (++digits > 4) return undefined;
      value = value * 16 + d;
    }
    if (digits === 0) return undefined;
    groups.push(value);
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (compressed) return undefined;
      compressed = true;
      groups = tail;
      i++;
    } else if (i === n) return undefined;
  }
  const out = new Uint8Array(16);
  if (compressed ? head.length + tail.length > 7 : head.length !== 8) return undefined;
  for (let g = 0; g < head.length; g++) {
    out[2 * g] = head[g]! >> 8;
    out[2 * g + 1] = head[g]! & 0xff;
  }
  for (let g = 0, at = 8 - tail.length; g < tail.length; g++, at++) {
    out[2 * at] = tail[g]! >> 8;
    out[2 * at + 1] = tail[g]! & 0xff;
  }
  return out;
}

/** The rarer forms with a dotted-quad tail (`::ffff:192.0.2.1`, RFC 4291 §2.2 form 3). */
function ipv6WithIpv4TailToBytes(text: string): Uint8Array | undefined {
  let tail4: Uint8Array | undefined;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    tail4 = ipv4TextToBytes(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    body = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail4) out.set(tail4, 12);
  return out;
}

/** Checks and canonicalises IPv4 text; throws TypeError naming the text when it is not an address. */
export function ipv4(text: string): Ipv4Address {
  const b = ipv4TextToBytes(text);
  if (!b) throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)} (expected a.b.c.d)`);
  return ipv4FromBytes(b);
}

/** Checks and canonicalises IPv6 text; throws TypeError naming the text when it is not an address. */
export function ipv6(text: string): Ipv6Address {
  const b = ipv6TextToBytes(text);
  if (!b) throw new TypeError(`not an IPv6 address: ${JSON.stringify(text)} (expected RFC 4291 text form)`);
  return ipv6FromBytes(b);
}

/** Writes a branded address into `buf` at `offset`. Brands guarantee the text parses. */
export function writeIpv4(buf: Uint8Array, offset: number, addr: Ipv4Address): void {
  buf.set(ipv4TextToBytes(addr)!, offset);
}

export function writeIpv6(buf: Uint8Array, offset: number, addr: Ipv6Address): void {
  buf.set(ipv6TextToBytes(addr)!, offset);
}
