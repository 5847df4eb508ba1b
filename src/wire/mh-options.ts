/**
 * Mobility options (RFC 6275 §6.2) including RFC 5555's IPv4 Home Address (§3.1.1), IPv4 Care-of
 * Address (§3.1.2), IPv4 Address Acknowledgement (§3.2.1) and NAT Detection (§3.2.2).
 *
 * Records hold meaning, not layout: Pad1/PadN are validated and dropped on parse and regenerated
 * on emit, so parse(emit(r)) equals r. Unknown option types are kept whole (RFC 6275 §6.2: a
 * receiver skips them) and re-emitted unaligned.
 */

import {
  type Ipv4Address,
  type Ipv6Address,
  ipv4FromBytes,
  ipv6FromBytes,
  writeIpv4,
  writeIpv6,
} from './address.js';
import { IPV4_HOA_P_FLAG, LIFETIME_UNIT_SECONDS, NATD_F_FLAG, MobilityOptionType as T } from './constants.js';
import { checkUint, EmitError, fail, ok, type Parsed } from './error.js';
import type { LaidOption } from './padding.js';

export type MobilityOption =
  | {
      readonly kind: 'bindingRefreshAdvice' /** seconds, a multiple of 4 */;
      readonly refreshInterval: number;
    }
  | { readonly kind: 'alternateCareOfAddress'; readonly address: Ipv6Address }
  | { readonly kind: 'nonceIndices'; readonly homeNonceIndex: number; readonly careOfNonceIndex: number }
  | { readonly kind: 'bindingAuthorizationData'; readonly authenticator: Uint8Array }
  | {
      readonly kind: 'ipv4HomeAddress';
      readonly prefixLength: number;
      /** Request a mobile network prefix (RFC 5555 §3.1.1). */
      readonly p: boolean;
      /** 0.0.0.0 asks the HA to assign one (RFC 5555 §2.5). */
      readonly address: Ipv4Address;
    }
  | {
      readonly kind: 'ipv4AddressAcknowledgement';
      /** Ipv4AckStatus: < 128 success. */
      readonly status: number;
      readonly prefixLength: number;
      readonly address: Ipv4Address;
    }
  | {
      readonly kind: 'natDetection';
      /** The MN must use UDP encapsulation even without a NAT (RFC 5555 §3.2.2). */
      readonly f: boolean;
      /** Seconds; 0 = ignore, 0xFFFFFFFF = no keepalives needed. */
      readonly refreshTime: number;
    }
  | { readonly kind: 'ipv4CareOfAddress'; readonly address: Ipv4Address }
  | { readonly kind: 'unknown'; readonly optionType: number; readonly data: Uint8Array };

export type MobilityOptionKind = MobilityOption['kind'];

/** Fixed data length and alignment (x, y meaning xn+y from the MH start) per known option type. */
const SHAPE: Record<
  Exclude<MobilityOptionKind, 'unknown'>,
  { type: number; len?: number; align: [number, number] }
> = {
  bindingRefreshAdvice: { type: T.BindingRefreshAdvice, len: 2, align: [2, 0] },
  alternateCareOfAddress: { type: T.AlternateCareOfAddress, len: 16, align: [8, 6] },
  nonceIndices: { type: T.NonceIndices, len: 4, align: [2, 0] },
  bindingAuthorizationData: { type: T.BindingAuthorizationData, align: [8, 2] },
  ipv4HomeAddress: { type: T.Ipv4HomeAddress, len: 6, align: [4, 0] },
  ipv4AddressAcknowledgement: { type: T.Ipv4AddressAcknowledgement, len: 6, align: [4, 0] },
  natDetection: { type: T.NatDetection, len: 6, align: [4, 0] },
  ipv4CareOfAddress: { type: T.Ipv4CareOfAddress, len: 6, align: [4, 0] },
};

const KIND_BY_TYPE = new Map<number, Exclude<MobilityOptionKind, 'unknown'>>(
  Object.entries(SHAPE).map(([kind, s]) => [s.type, kind as Exclude<MobilityOptionKind, 'unknown'>]),
);

const L = 'mh.option';

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Decodes the data of a known option whose length has been checked. */
function decode(
  kind: Exclude<MobilityOptionKind, 'unknown'>,
  b: Uint8Array,
  d: number,
  len: number,
): MobilityOption {
  switch (kind) {
    case 'bindingRefreshAdvice':
      return { kind, refreshInterval: u16(b, d) * LIFETIME_UNIT_SECONDS };
    case 'alternateCareOfAddress':
      return { kind, address: ipv6FromBytes(b, d) };
    case 'nonceIndices':
      return { kind, homeNonceIndex: u16(b, d), careOfNonceIndex: u16(b, d + 2) };
    case 'bindingAuthorizationData':
      return { kind, authenticator: b.slice(d, d + len) };
    case 'ipv4HomeAddress':
      return {
        kind,
        prefixLength: b[d]! >> 2,
        p: (u16(b, d) & IPV4_HOA_P_FLAG) !== 0,
        address: ipv4FromBytes(b, d + 2),
      };
    case 'ipv4AddressAcknowledgement':
      return { kind, status: b[d]!, prefixLength: b[d + 1]! >> 2, address: ipv4FromBytes(b, d + 2) };
    case 'natDetection':
      return { kind, f: (u16(b, d) & NATD_F_FLAG) !== 0, refreshTime: u32(b, d + 2) };
    case 'ipv4CareOfAddress':
      return { kind, address: ipv4FromBytes(b, d + 2) };
  }
}

/**
 * Parses the options in buf[start, end). Offsets in errors are into `buf`. Binding Authorization
 * Data must be the last option with nothing after it (RFC 6275 §6.2.7).
 */
export function parseMobilityOptions(buf: Uint8Array, start: number, end: number): Parsed<MobilityOption[]> {
  const out: MobilityOption[] = [];
  let off = start;
  while (off < end) {
    const type = buf[off]!;
    if (type === T.Pad1) {
      off += 1;
      continue;
    }
    if (off + 2 > end) return fail(L, 'overrun', 'length', off + 1, end - off, 'a length byte inside the MH');
    const len = buf[off + 1]!;
    if (off + 2 + len > end) {
      return fail(L, 'overrun', `type ${type} length`, off + 1, len, `at most ${end - off - 2} (end of MH)`);
    }
    const d = off + 2;
    off = d + len;
    if (type === T.PadN) continue;
    const kind = KIND_BY_TYPE.get(type);
    if (kind === undefined) {
      out.push({ kind: 'unknown', optionType: type, data: buf.slice(d, d + len) });
      continue;
    }
    const want = SHAPE[kind].len;
    if (want !== undefined && len !== want)
      return fail(L, 'bad-value', `${kind}.length`, d - 1, len, `${want}`);
    if (kind === 'bindingAuthorizationData' && off !== end) {
      return fail(
        L,
        'bad-value',
        'bindingAuthorizationData',
        d - 2,
        end - off,
        '0 bytes after it (must be last)',
      );
    }
    // RFC 6275 §6.2.7: implicit alignment 8n+2 (so, ending the MH, its length is 8n+4, as emitted).
    if (kind === 'bindingAuthorizationData' && (d - 2) % 8 !== 2) {
      return fail(L, 'misaligned', 'bindingAuthorizationData', d - 2, (d - 2) % 8, 'offset 8n+2 in the MH');
    }
    out.push(decode(kind, buf, d, len));
  }
  return ok(out);
}

/** Layout of one option for `layoutOptions`: alignment, size and a writer. Throws EmitError. */
export function laidMobilityOption(o: MobilityOption): LaidOption {
  if (o.kind === 'unknown') {
    checkUint(L, 'optionType', o.optionType, 0xff);
    if (o.optionType <= T.PadN || KIND_BY_TYPE.has(o.optionType)) {
      throw new EmitError(L, 'optionType', o.optionType, 'a type this codec does not model (use its kind)');
    }
    checkUint(L, 'data.length', o.data.length, 0xff);
    return {
      align: [1, 0],
      size: 2 + o.data.length,
      write: (b, at) => writeTlv(b, at, o.optionType, o.data),
    };
  }
  const shape = SHAPE[o.kind];
  const data = encode(o);
  return { align: shape.align, size: 2 + data.length, write: (b, at) => writeTlv(b, at, shape.type, data) };
}

function writeTlv(b: Uint8Array, at: number, type: number, data: Uint8Array): void {
  b[at] = type;
  b[at + 1] = data.length;
  b.set(data, at + 2);
}

function encode(o: Exclude<MobilityOption, { kind: 'unknown' }>): Uint8Array {
  switch (o.kind) {
    case 'bindingRefreshAdvice': {
      const units = toUnits(o.refreshInterval, 'bindingRefreshAdvice.refreshInterval');
      return Uint8Array.of(units >> 8, units & 0xff);
    }
    case 'alternateCareOfAddress': {
      const d = new Uint8Array(16);
      writeIpv6(d, 0, o.address);
      return d;
    }
    case 'nonceIndices':
      checkUint(L, 'nonceIndices.homeNonceIndex', o.homeNonceIndex, 0xffff);
      checkUint(L, 'nonceIndices.careOfNonceIndex', o.careOfNonceIndex, 0xffff);
      return Uint8Array.of(
        o.homeNonceIndex >> 8,
        o.homeNonceIndex & 0xff,
        o.careOfNonceIndex >> 8,
        o.careOfNonceIndex & 0xff,
      );
    case 'bindingAuthorizationData':
      // It sits at 8n+2 and ends the MH with no padding after it, so 2 + length must be 8n+6.
      if (o.authenticator.length % 8 !== 4 || o.authenticator.length > 252) {
        throw new EmitError(
          L,
          'bindingAuthorizationData.authenticator.length',
          o.authenticator.length,
          '8n+4 (12 for HMAC-SHA1-96)',
        );
      }
      return o.authenticator.slice();
    case 'ipv4HomeAddress': {
      checkUint(L, 'ipv4HomeAddress.prefixLength', o.prefixLength, 63);
      const d = new Uint8Array(6);
      d[0] = (o.prefixLength << 2) | (o.p ? IPV4_HOA_P_FLAG >> 8 : 0);
      writeIpv4(d, 2, o.address);
      return d;
    }
    case 'ipv4AddressAcknowledgement': {
      checkUint(L, 'ipv4AddressAcknowledgement.status', o.status, 0xff);
      checkUint(L, 'ipv4AddressAcknowledgement.prefixLength', o.prefixLength, 63);
      const d = new Uint8Array(6);
      d[0] = o.status;
      d[1] = o.prefixLength << 2;
      writeIpv4(d, 2, o.address);
      return d;
    }
    case 'natDetection': {
      checkUint(L, 'natDetection.refreshTime', o.refreshTime, 0xffffffff);
      const t = o.refreshTime;
      return Uint8Array.of(
        o.f ? NATD_F_FLAG >> 8 : 0,
        0,
        t >>> 24,
        (t >>> 16) & 0xff,
        (t >>> 8) & 0xff,
        t & 0xff,
      );
    }
    case 'ipv4CareOfAddress': {
      const d = new Uint8Array(6);
      writeIpv4(d, 2, o.address);
      return d;
    }
  }
}

/** Seconds to the 4-second wire units of lifetimes (RFC 6275 §6.1.7). */
export function toUnits(seconds: number, field: string): number {
  if (
    !Number.isInteger(seconds) ||
    seconds < 0 ||
    seconds % LIFETIME_UNIT_SECONDS !== 0 ||
    seconds > 0xffff * 4
  ) {
    throw new EmitError('mh', field, seconds, 'seconds, a multiple of 4 from 0 to 262140');
  }
  return seconds / LIFETIME_UNIT_SECONDS;
}
