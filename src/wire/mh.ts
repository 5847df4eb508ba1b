/**
 * The Mobility Header (RFC 6275 §6.1): common header, checksum (§6.1.1) and messages 0-7. Types
 * above 7 are kept as `unknown` records so a receiver can answer them with a Binding Error
 * status 2 (§9.2). Lifetimes are exposed in seconds; the wire carries 4-second units.
 */

import { type Ipv6Address, ipv6FromBytes, writeIpv6 } from './address.js';
import { finish, type PseudoHeader, pseudoSum, sumWords } from './checksum.js';
import { BaFlag, BuFlag, IpProto, LIFETIME_UNIT_SECONDS, MhType } from './constants.js';
import { checkUint, EmitError, fail, ok, type Parsed, shifted } from './error.js';
import { laidMobilityOption, type MobilityOption, parseMobilityOptions, toUnits } from './mh-options.js';
import { layoutOptions } from './padding.js';

export interface BuFlags {
  readonly A: boolean;
  readonly H: boolean;
  readonly L: boolean;
  readonly K: boolean;
  readonly M: boolean;
  readonly R: boolean;
  readonly P: boolean;
  readonly F: boolean;
  readonly T: boolean;
}

export interface BaFlags {
  readonly K: boolean;
  readonly R: boolean;
  readonly P: boolean;
  readonly T: boolean;
}

/** All flags clear, then those given set: `buFlags({ A: true, H: true })`. */
export const buFlags = (set: Partial<BuFlags> = {}): BuFlags => ({
  A: false,
  H: false,
  L: false,
  K: false,
  M: false,
  R: false,
  P: false,
  F: false,
  T: false,
  ...set,
});

export const baFlags = (set: Partial<BaFlags> = {}): BaFlags => ({
  K: false,
  R: false,
  P: false,
  T: false,
  ...set,
});

type WithOptions = { readonly options: readonly MobilityOption[] };

export type MobilityMessage =
  | ({ readonly kind: 'bindingRefreshRequest' } & WithOptions)
  | ({ readonly kind: 'homeTestInit'; readonly cookie: Uint8Array } & WithOptions)
  | ({ readonly kind: 'careOfTestInit'; readonly cookie: Uint8Array } & WithOptions)
  | ({
      readonly kind: 'homeTest';
      readonly nonceIndex: number;
      readonly cookie: Uint8Array;
      readonly keygenToken: Uint8Array;
    } & WithOptions)
  | ({
      readonly kind: 'careOfTest';
      readonly nonceIndex: number;
      readonly cookie: Uint8Array;
      readonly keygenToken: Uint8Array;
    } & WithOptions)
  | ({
      readonly kind: 'bindingUpdate';
      readonly sequence: number;
      readonly flags: BuFlags;
      /** Seconds (a multiple of 4); 0 deletes the binding (§6.1.7). */
      readonly lifetime: number;
    } & WithOptions)
  | ({
      readonly kind: 'bindingAcknowledgement';
      /** BaStatus: < 128 accepted. */
      readonly status: number;
      readonly flags: BaFlags;
      readonly sequence: number;
      readonly lifetime: number;
    } & WithOptions)
  | ({
      readonly kind: 'bindingError';
      /** BeStatus. */
      readonly status: number;
      readonly homeAddress: Ipv6Address;
    } & WithOptions)
  | {
      readonly kind: 'unknown';
      readonly mhType: number;
      /** Message data after the checksum field, as received. */
      readonly data: Uint8Array;
    };

export type MobilityMessageKind = MobilityMessage['kind'];

/** MH Type and size of the fixed part (common header included) of each known message. */
const FIXED: Record<Exclude<MobilityMessageKind, 'unknown'>, { type: MhType; size: number }> = {
  bindingRefreshRequest: { type: MhType.BindingRefreshRequest, size: 8 },
  homeTestInit: { type: MhType.HomeTestInit, size: 16 },
  careOfTestInit: { type: MhType.CareOfTestInit, size: 16 },
  homeTest: { type: MhType.HomeTest, size: 24 },
  careOfTest: { type: MhType.CareOfTest, size: 24 },
  bindingUpdate: { type: MhType.BindingUpdate, size: 12 },
  bindingAcknowledgement: { type: MhType.BindingAcknowledgement, size: 12 },
  bindingError: { type: MhType.BindingError, size: 24 },
};

const KIND_BY_TYPE: readonly Exclude<MobilityMessageKind, 'unknown'>[] = [
  'bindingRefreshRequest',
  'homeTestInit',
  'careOfTestInit',
  'homeTest',
  'careOfTest',
  'bindingUpdate',
  'bindingAcknowledgement',
  'bindingError',
];

const L = 'mh';
const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

/** The MH checksum value that `mh` should carry (its own checksum field is treated as zero). */
export function mobilityChecksum(mh: Uint8Array, ph: PseudoHeader): number {
  let sum = pseudoSum(ph, mh.length, IpProto.Mobility);
  sum = sumWords(mh, 0, 4, sum);
  sum = sumWords(mh, 6, mh.length, sum);
  return finish(sum);
}

/**
 * Parses a Mobility Header that fills `buf` exactly (it is the last header: Payload Proto 59,
 * §6.1.1) and verifies its checksum against `ph` (see `upperLayerPseudoHeader` for which
 * addresses; RFC 6275 §6.1.1). Offsets in errors are into `buf`.
 */
export function parseMobilityHeader(buf: Uint8Array, ph: PseudoHeader): Parsed<MobilityMessage> {
  if (buf.length < 8) return fail(L, 'truncated', 'header', 0, buf.length, 'at least 8 bytes');
  const hlen = buf[1]!;
  const total = (hlen + 1) * 8;
  if (total !== buf.length) {
    return fail(
      L,
      'length-mismatch',
      'headerLength',
      1,
      hlen,
      `${(buf.length >> 3) - 1} (${buf.length} bytes present)`,
    );
  }
  const mhType = buf[2]!;
  const checksum = u16(buf, 4);
  const want = mobilityChecksum(buf, ph);
  if (checksum !== want) return fail(L, 'bad-checksum', 'checksum', 4, checksum, `0x${want.toString(16)}`);
  // §9.2: the checksum is verified first (bad -> silent discard), so a corrupted packet is never
  // reported as a Payload Proto problem (which would draw an ICMPv6 Parameter Problem).
  const payloadProto = buf[0]!;
  if (payloadProto !== IpProto.NoNextHeader)
    return fail(L, 'bad-value', 'payloadProto', 0, payloadProto, '59 (§9.2)');
  const kind = KIND_BY_TYPE[mhType];
  if (kind === undefined) return ok({ kind: 'unknown', mhType, data: buf.slice(6) });
  const fixed = FIXED[kind].size;
  if (fixed > total) {
    return fail(
      L,
      'bad-value',
      'headerLength',
      1,
      hlen,
      `at least ${Math.ceil(fixed / 8) - 1} for ${kind} (§9.2)`,
    );
  }
  const opts = parseMobilityOptions(buf, fixed, total);
  if (!opts.ok) return opts;
  const options = opts.value;
  const b = buf;
  switch (kind) {
    case 'bindingRefreshRequest':
      return ok({ kind, options });
    case 'homeTestInit':
    case 'careOfTestInit':
      return ok({ kind, cookie: b.slice(8, 16), options });
    case 'homeTest':
    case 'careOfTest':
      return ok({
        kind,
        nonceIndex: u16(b, 6),
        cookie: b.slice(8, 16),
        keygenToken: b.slice(16, 24),
        options,
      });
    case 'bindingUpdate': {
      const f = u16(b, 8);
      return ok({
        kind,
        sequence: u16(b, 6),
        flags: {
          A: (f & BuFlag.A) !== 0,
          H: (f & BuFlag.H) !== 0,
          L: (f & BuFlag.L) !== 0,
          K: (f & BuFlag.K) !== 0,
          M: (f & BuFlag.M) !== 0,
          R: (f & BuFlag.R) !== 0,
          P: (f & BuFlag.P) !== 0,
          F: (f & BuFlag.F) !== 0,
          T: (f & BuFlag.T) !== 0,
        },
        lifetime: u16(b, 10) * LIFETIME_UNIT_SECONDS,
        options,
      });
    }
    case 'bindingAcknowledgement': {
      const f = b[7]!;
      return ok({
        kind,
        status: b[6]!,
        flags: {
          K: (f & BaFlag.K) !== 0,
          R: (f & BaFlag.R) !== 0,
          P: (f & BaFlag.P) !== 0,
          T: (f & BaFlag.T) !== 0,
        },
        sequence: u16(b, 8),
        lifetime: u16(b, 10) * LIFETIME_UNIT_SECONDS,
        options,
      });
    }
    case 'bindingError':
      return ok({ kind, status: b[6]!, homeAddress: ipv6FromBytes(b, 8), options });
  }
}

/** Parses a Mobility Header found at `offset` of a larger buffer, reporting offsets in that buffer. */
export function parseMobilityHeaderAt(
  buf: Uint8Array,
  offset: number,
  ph: PseudoHeader,
): Parsed<MobilityMessage> {
  return shifted(parseMobilityHeader(buf.subarray(offset), ph), offset);
}

/** Encodes a message with its options aligned, padded to 8 octets and checksummed over `ph`. */
export function emitMobilityHeader(msg: MobilityMessage, ph: PseudoHeader): Uint8Array {
  let buf: Uint8Array;
  let type: number;
  if (msg.kind === 'unknown') {
    checkUint(L, 'mhType', msg.mhType, 0xff);
    if (msg.mhType < KIND_BY_TYPE.length) {
      throw new EmitError(L, 'mhType', msg.mhType, `above 7 (use kind '${KIND_BY_TYPE[msg.mhType]}')`);
    }
    const total = 6 + msg.data.length;
    if (total % 8 !== 0 || total > 2048)
      throw new EmitError(L, 'data.length', msg.data.length, '8n+2, at most 2042');
    buf = new Uint8Array(total);
    buf.set(msg.data, 6);
    type = msg.mhType;
  } else {
    const { size, type: t } = FIXED[msg.kind];
    type = t;
    const laid = msg.options.map(laidMobilityOption);
    const badAt = msg.options.findIndex((o) => o.kind === 'bindingAuthorizationData');
    if (badAt >= 0 && badAt !== msg.options.length - 1) {
      throw new EmitError(L, 'options', 'bindingAuthorizationData not last', 'it last (RFC 6275 §6.2.7)');
    }
    const layout = layoutOptions(size, laid);
    if (layout.length > 2048) throw new EmitError(L, 'length', layout.length, 'at most 2048 bytes');
    buf = new Uint8Array(layout.length);
    writeFixed(msg, buf);
    layout.write(buf);
  }
  buf[0] = IpProto.NoNextHeader;
  buf[1] = buf.length / 8 - 1;
  buf[2] = type;
  const sum = mobilityChecksum(buf, ph);
  buf[4] = sum >> 8;
  buf[5] = sum & 0xff;
  return buf;
}

function writeFixed(msg: Exclude<MobilityMessage, { kind: 'unknown' }>, b: Uint8Array): void {
  const put16 = (o: number, v: number, field: string): void => {
    checkUint(L, field, v, 0xffff);
    b[o] = v >> 8;
    b[o + 1] = v & 0xff;
  };
  const putBytes = (o: number, v: Uint8Array, field: string): void => {
    if (v.length !== 8) throw new EmitError(L, field, v.length, '8 bytes');
    b.set(v, o);
  };
  switch (msg.kind) {
    case 'bindingRefreshRequest':
      return;
    case 'homeTestInit':
    case 'careOfTestInit':
      putBytes(8, msg.cookie, 'cookie');
      return;
    case 'homeTest':
    case 'careOfTest':
      put16(6, msg.nonceIndex, 'nonceIndex');
      putBytes(8, msg.cookie, 'cookie');
      putBytes(16, msg.keygenToken, 'keygenToken');
      return;
    case 'bindingUpdate': {
      put16(6, msg.sequence, 'sequence');
      const f = msg.flags;
      const word =
        (f.A ? BuFlag.A : 0) |
        (f.H ? BuFlag.H : 0) |
        (f.L ? BuFlag.L : 0) |
        (f.K ? BuFlag.K : 0) |
        (f.M ? BuFlag.M : 0) |
        (f.R ? BuFlag.R : 0) |
        (f.P ? BuFlag.P : 0) |
        (f.F ? BuFlag.F : 0) |
        (f.T ? BuFlag.T : 0);
      put16(8, word, 'flags');
      put16(10, toUnits(msg.lifetime, 'bindingUpdate.lifetime'), 'lifetime');
      return;
    }
    case 'bindingAcknowledgement': {
      checkUint(L, 'status', msg.status, 0xff);
      b[6] = msg.status;
      const f = msg.flags;
      b[7] = (f.K ? BaFlag.K : 0) | (f.R ? BaFlag.R : 0) | (f.P ? BaFlag.P : 0) | (f.T ? BaFlag.T : 0);
      put16(8, msg.sequence, 'sequence');
      put16(10, toUnits(msg.lifetime, 'bindingAcknowledgement.lifetime'), 'lifetime');
      return;
    }
    case 'bindingError':
      checkUint(L, 'status', msg.status, 0xff);
      b[6] = msg.status;
      writeIpv6(b, 8, msg.homeAddress);
      return;
  }
}
