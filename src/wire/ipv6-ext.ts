/**
 * IPv6 extension headers that Mobile IPv6 uses: the Destination Options header carrying the Home
 * Address option (RFC 6275 §6.3) and the Type 2 Routing Header (RFC 6275 §6.4). Other options and
 * routing types are kept as raw records so that a packet survives a parse/emit round trip.
 */

import { type Ipv6Address, ipv6FromBytes, writeIpv6 } from './address.js';
import {
  HOME_ADDRESS_OPTION,
  HOME_ADDRESS_OPTION_LENGTH,
  IPV6_OPT_PAD1,
  IPV6_OPT_PADN,
  IpProto,
  ROUTING_TYPE_2,
} from './constants.js';
import { checkUint, EmitError, fail, ok, type Parsed } from './error.js';
import { type LaidOption, layoutOptions } from './padding.js';

export type Ipv6Option =
  | { readonly kind: 'homeAddress'; readonly address: Ipv6Address }
  | { readonly kind: 'unknown'; readonly optionType: number; readonly data: Uint8Array };

export type Ipv6Extension =
  | { readonly kind: 'hopByHop'; readonly options: readonly Ipv6Option[] }
  | { readonly kind: 'destinationOptions'; readonly options: readonly Ipv6Option[] }
  | { readonly kind: 'routingType2'; readonly homeAddress: Ipv6Address }
  | {
      readonly kind: 'routing';
      readonly routingType: number;
      readonly segmentsLeft: number;
      /** Type-specific data after the first 4 octets. */
      readonly data: Uint8Array;
    };

/** Next Header value that announces each extension kind. */
export function extensionProtocol(ext: Ipv6Extension): number {
  switch (ext.kind) {
    case 'hopByHop':
      return IpProto.HopByHop;
    case 'destinationOptions':
      return IpProto.DestinationOptions;
    case 'routingType2':
    case 'routing':
      return IpProto.Routing;
  }
}

/** Next Header values this codec walks through as extension headers. */
export const isWalkedExtension = (nh: number): boolean =>
  nh === IpProto.HopByHop || nh === IpProto.DestinationOptions || nh === IpProto.Routing;

/**
 * Parses one extension header occupying buf[start, start + length), where `length` has already
 * been read from Hdr Ext Len and checked against the buffer. Offsets in errors are into `buf`.
 */
export function parseExtension(
  buf: Uint8Array,
  nextHeader: number,
  start: number,
  length: number,
): Parsed<Ipv6Extension> {
  if (nextHeader === IpProto.Routing) return parseRouting(buf, start, length);
  const inDestOpts = nextHeader === IpProto.DestinationOptions;
  const layer = inDestOpts ? 'ipv6.destopts' : 'ipv6.hopbyhop';
  const options: Ipv6Option[] = [];
  let off = start + 2;
  const end = start + length;
  let sawHomeAddress = false;
  while (off < end) {
    const type = buf[off]!;
    if (type === IPV6_OPT_PAD1) {
      off += 1;
      continue;
    }
    if (off + 2 > end) return fail(layer, 'overrun', 'option.length', off + 1, end - off, 'a length byte');
    const len = buf[off + 1]!;
    if (off + 2 + len > end) {
      return fail(layer, 'overrun', 'option.length', off + 1, len, `at most ${end - off - 2}`);
    }
    if (type === IPV6_OPT_PADN) {
      off += 2 + len;
      continue;
    }
    if (type === HOME_ADDRESS_OPTION && inDestOpts) {
      if (len !== HOME_ADDRESS_OPTION_LENGTH) {
        return fail(layer, 'bad-value', 'homeAddress.length', off + 1, len, '16');
      }
      if ((off - start) % 8 !== 6) {
        return fail(layer, 'misaligned', 'homeAddress', off, (off - start) % 8, 'offset 8n+6 in the header');
      }
      if (sawHomeAddress) return fail(layer, 'bad-value', 'homeAddress', off, 'second copy', 'at most one');
      sawHomeAddress = true;
      options.push({ kind: 'homeAddress', address: ipv6FromBytes(buf, off + 2) });
    } else {
      options.push({ kind: 'unknown', optionType: type, data: buf.slice(off + 2, off + 2 + len) });
    }
    off += 2 + len;
  }
  return ok(inDestOpts ? { kind: 'destinationOptions', options } : { kind: 'hopByHop', options });
}

function parseRouting(buf: Uint8Array, start: number, length: number): Parsed<Ipv6Extension> {
  const L = 'ipv6.routing';
  const routingType = buf[start + 2]!;
  const segmentsLeft = buf[start + 3]!;
  if (routingType !== ROUTING_TYPE_2) {
    return ok({ kind: 'routing', routingType, segmentsLeft, data: buf.slice(start + 4, start + length) });
  }
  const hdrExtLen = buf[start + 1]!;
  if (hdrExtLen !== 2)
    return fail(L, 'bad-value', 'hdrExtLen', start + 1, hdrExtLen, '2 for a type 2 header');
  if (segmentsLeft !== 1) {
    return fail(L, 'bad-value', 'segmentsLeft', start + 3, segmentsLeft, '1 for a type 2 header');
  }
  return ok({ kind: 'routingType2', homeAddress: ipv6FromBytes(buf, start + 8) });
}

/** Encodes one extension header, announcing `nextHeader` as what follows it. */
export function emitExtension(ext: Ipv6Extension, nextHeader: number): Uint8Array {
  switch (ext.kind) {
    case 'hopByHop':
    case 'destinationOptions':
      return emitOptionsHeader(ext.options, nextHeader, ext.kind === 'destinationOptions');
    case 'routingType2': {
      const buf = new Uint8Array(24);
      buf[0] = nextHeader;
      buf[1] = 2;
      buf[2] = ROUTING_TYPE_2;
      buf[3] = 1;
      writeIpv6(buf, 8, ext.homeAddress);
      return buf;
    }
    case 'routing': {
      checkUint('ipv6.routing', 'routingType', ext.routingType, 0xff);
      checkUint('ipv6.routing', 'segmentsLeft', ext.segmentsLeft, 0xff);
      const length = 4 + ext.data.length;
      if (length % 8 !== 0 || length > 2048) {
        throw new EmitError('ipv6.routing', 'data.length', ext.data.length, '4 less than a multiple of 8');
      }
      if (ext.routingType === ROUTING_TYPE_2) {
        throw new EmitError('ipv6.routing', 'routingType', 2, "kind 'routingType2' for type 2 headers");
      }
      const buf = new Uint8Array(length);
      buf[0] = nextHeader;
      buf[1] = length / 8 - 1;
      buf[2] = ext.routingType;
      buf[3] = ext.segmentsLeft;
      buf.set(ext.data, 4);
      return buf;
    }
  }
}

function emitOptionsHeader(
  options: readonly Ipv6Option[],
  nextHeader: number,
  destOpts: boolean,
): Uint8Array {
  const laid: LaidOption[] = options.map((o) => {
    if (o.kind === 'homeAddress') {
      if (!destOpts)
        throw new EmitError('ipv6.hopbyhop', 'option', 'homeAddress', 'a Destination Options header');
      return {
        align: [8, 6], // RFC 6275 §6.3
        size: 18,
        write: (buf, at) => {
          buf[at] = HOME_ADDRESS_OPTION;
          buf[at + 1] = HOME_ADDRESS_OPTION_LENGTH;
          writeIpv6(buf, at + 2, o.address);
        },
      };
    }
    checkUint('ipv6.options', 'optionType', o.optionType, 0xff);
    if (o.optionType <= IPV6_OPT_PADN) {
      throw new EmitError('ipv6.options', 'optionType', o.optionType, 'not Pad1/PadN (padding is generated)');
    }
    checkUint('ipv6.options', 'data.length', o.data.length, 0xff);
    return {
      align: [1, 0],
      size: 2 + o.data.length,
      write: (buf, at) => {
        buf[at] = o.optionType;
        buf[at + 1] = o.data.length;
        buf.set(o.data, at + 2);
      },
    };
  });
  // Starting at offset 2 (after Next Header and Hdr Ext Len), the layout is always >= 8 bytes.
  const layout = layoutOptions(2, laid);
  const length = layout.length;
  if (length > 2048) throw new EmitError('ipv6.options', 'length', length, 'at most 2048 bytes');
  const buf = new Uint8Array(length);
  layout.write(buf);
  buf[0] = nextHeader;
  buf[1] = length / 8 - 1;
  return buf;
}
