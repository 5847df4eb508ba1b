/**
 * Hand-written wire vectors. Every byte below was typed from the packet figures of RFC 6275
 * (Mobile IPv6), RFC 5555 (DSMIPv6 options and flags), RFC 8200 (IPv6), RFC 791 (IPv4),
 * RFC 768 (UDP) and RFC 4303 (ESP); nothing here is produced by the codec under test. The Mobility
 * Header checksums are either worked out by hand (shown in comments) or computed by the small
 * RFC 1071 helper in this file, which builds a real RFC 8200 §8.1 pseudo-header and shares no code
 * with src/wire.
 *
 * For each positive vector: decode, compare with the full expected record, re-emit, compare bytes.
 * For each negative vector: the parser returns (never throws) `ok: false` with the code, field and
 * byte offset of the fault.
 */

import { describe, expect, it } from 'vitest';
import {
  appendEspTrailer,
  emitEsp,
  emitIpv4,
  emitIpv6,
  emitMobilityHeader,
  emitUdp,
  type Ipv6Fields,
  type MobilityMessage,
  type Parsed,
  type PseudoHeader,
  parseEsp,
  parseEspTrailer,
  parseIpv4,
  parseIpv6,
  parseMobilityHeader,
  parseUdp,
  upperLayerPseudoHeader,
  type WireErrorCode,
} from '../../src/wire/index.js';

// ------------------------------------------------------------------------------------------------
// Independent helpers (no src/wire code)

/** Hex text (spaces allowed) to bytes. */
function hex(...parts: string[]): Uint8Array {
  const s = parts.join('').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new Error(`bad hex vector: ${s}`);
  return Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** RFC 1071: one's complement of the one's-complement sum of 16-bit big-endian words. */
function rfc1071(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * RFC 6275 §6.1.1 checksum: RFC 8200 §8.1 pseudo-header (source 16, destination 16, 32-bit
 * upper-layer length, 3 zero octets, Next Header 135) followed by the MH with its checksum zeroed.
 */
function mhChecksum(mh: Uint8Array, ph: PseudoHeader): number {
  const buf = new Uint8Array(40 + mh.length);
  buf.set(ph.src, 0);
  buf.set(ph.dst, 16);
  buf[32] = (mh.length >>> 24) & 0xff;
  buf[33] = (mh.length >>> 16) & 0xff;
  buf[34] = (mh.length >>> 8) & 0xff;
  buf[35] = mh.length & 0xff;
  buf[39] = 135;
  buf.set(mh, 40);
  buf[44] = 0;
  buf[45] = 0;
  return rfc1071(buf);
}

/** A hand-written MH whose checksum field (octets 4-5, written as 0000) gets patched. */
function mh(ph: PseudoHeader, ...parts: string[]): Uint8Array {
  const b = hex(...parts);
  const sum = mhChecksum(b, ph);
  b[4] = sum >> 8;
  b[5] = sum & 0xff;
  return b;
}

/** Same bytes with one octet replaced (for negative vectors). */
function poke(b: Uint8Array, offset: number, value: number): Uint8Array {
  const c = b.slice();
  c[offset] = value;
  return c;
}

function must<T>(r: Parsed<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.message}`);
  return r.value;
}

function expectFail(r: Parsed<unknown>, code: WireErrorCode, field: string, offset: number): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe(code);
  expect(r.error.field).toContain(field);
  expect(r.error.offset).toBe(offset);
}

/** RFC 6275 §6.1.7 BU flag word, bit by bit (independent of src/wire constants). */
const buF = (set: string) => ({
  A: set.includes('A'),
  H: set.includes('H'),
  L: set.includes('L'),
  K: set.includes('K'),
  M: set.includes('M'),
  R: set.includes('R'),
  P: set.includes('P'),
  F: set.includes('F'),
  T: set.includes('T'),
});
/** RFC 6275 §6.1.8 BA flag byte. */
const baF = (set: string) => ({
  K: set.includes('K'),
  R: set.includes('R'),
  P: set.includes('P'),
  T: set.includes('T'),
});

// ------------------------------------------------------------------------------------------------
// Addresses (RFC 3849 documentation prefix 2001:db8::/32, RFC 5737 IPv4 documentation ranges)

const HOA = '2001 0db8 0001 0000 0000 0000 0000 0100'; // 2001:db8:1::100  mobile node home address
const HA = '2001 0db8 0001 0000 0000 0000 0000 0001'; // 2001:db8:1::1    home agent
const COA = '2001 0db8 0002 0000 0000 0000 0000 0010'; // 2001:db8:2::10   IPv6 care-of address

/** MN -> HA messages: pseudo-header source = HoA (§6.1.1 with HAO), destination = HA. */
const UP: PseudoHeader = { src: hex(HOA), dst: hex(HA) };
/** HA -> MN messages: source = HA, destination = HoA (final destination of the type 2 RH). */
const DOWN: PseudoHeader = { src: hex(HA), dst: hex(HOA) };

// ------------------------------------------------------------------------------------------------
// Mobility Header messages (RFC 6275 §6.1), one per MH Type

/*
 * Binding Refresh Request, checksum by hand over UP:
 *   source 2001:db8:1::100  2001 + 0db8 + 0001 + 0100           = 0x2eba
 *   dest   2001:db8:1::1    2001 + 0db8 + 0001 + 0001           = 0x2dbb
 *   upper-layer length 8 -> 0x0008, next header 135             = 0x0087
 *   MH words 3b00 0000 [0000] 0000                              = 0x3b00
 *   sum 2eba + 2dbb + 0008 + 0087 + 3b00 = 0x9804 (no carry); ~0x9804 = 0x67fb
 */
const BRR = hex(
  '3b', // Payload Proto 59 = IPPROTO_NONE (RFC 6275 §6.1.1)
  '00', // Header Len 0: (0 + 1) * 8 = 8 octets (§6.1.1)
  '00', // MH Type 0 = Binding Refresh Request (§6.1.2)
  '00', // Reserved
  '67fb', // Checksum (worked out above)
  '0000', // Reserved (§6.1.2)
);

const HOTI = mh(
  UP,
  '3b', // Payload Proto 59
  '01', // Header Len 1 -> 16 octets
  '01', // MH Type 1 = Home Test Init (§6.1.3)
  '00', // Reserved
  '0000', // Checksum (patched)
  '0000', // Reserved (§6.1.3)
  '0102030405060708', // Home Init Cookie, 64 bits
);

const COTI = mh(
  UP,
  '3b', // Payload Proto 59
  '01', // Header Len 1 -> 16 octets
  '02', // MH Type 2 = Care-of Test Init (§6.1.4)
  '00', // Reserved
  '0000', // Checksum (patched)
  '0000', // Reserved (§6.1.4)
  'a1a2a3a4a5a6a7a8', // Care-of Init Cookie, 64 bits
);

const HOT = mh(
  DOWN,
  '3b', // Payload Proto 59
  '02', // Header Len 2 -> 24 octets
  '03', // MH Type 3 = Home Test (§6.1.5)
  '00', // Reserved
  '0000', // Checksum (patched)
  '1234', // Home Nonce Index
  '0102030405060708', // Home Init Cookie (echoed)
  '1112131415161718', // Home Keygen Token, 64 bits
);

const COT = mh(
  DOWN,
  '3b', // Payload Proto 59
  '02', // Header Len 2 -> 24 octets
  '04', // MH Type 4 = Care-of Test (§6.1.6)
  '00', // Reserved
  '0000', // Checksum (patched)
  'abcd', // Care-of Nonce Index
  'a1a2a3a4a5a6a7a8', // Care-of Init Cookie (echoed)
  'b1b2b3b4b5b6b7b8', // Care-of Keygen Token, 64 bits
);

/** Home registration from a foreign IPv6 link: Alternate CoA at 8n+6 after PadN(0). */
const BU_ACOA = mh(
  UP,
  '3b', // Payload Proto 59
  '03', // Header Len 3 -> 32 octets
  '05', // MH Type 5 = Binding Update (§6.1.7)
  '00', // Reserved
  '0000', // Checksum (patched)
  '0007', // Sequence # 7
  'c000', // A (0x8000) = 1, H (0x4000) = 1, L K M R P F T = 0, reserved 0
  '0096', // Lifetime 150 units of 4 s = 600 s
  '0100', // offset 12: PadN, Opt Data Len 0 -> 2 octets of padding (§6.2.3)
  '0310', // offset 14 = 8n+6: Alternate Care-of Address, type 3, length 16 (§6.2.5)
  COA, // 2001:db8:2::10
);

/** Same record, padding written as two Pad1 (§6.2.2) instead of PadN(0): still legal. */
const BU_ACOA_PAD1 = mh(
  UP,
  '3b 03 05 00 0000', // common header, as BU_ACOA
  '0007 c000 0096', // sequence, flags, lifetime, as BU_ACOA
  '00', // offset 12: Pad1 (§6.2.2)
  '00', // offset 13: Pad1
  '0310', // offset 14: Alternate CoA, type 3, length 16
  COA,
);

/** DSMIPv6 home registration from an IPv4-only network (RFC 5555 §3.1.1, §3.1.2, §3.1.3). */
const BU_V4 = mh(
  UP,
  '3b', // Payload Proto 59
  '03', // Header Len 3 -> 32 octets
  '05', // MH Type 5 = Binding Update
  '00', // Reserved
  '0000', // Checksum (patched)
  '0008', // Sequence # 8
  'c100', // A = 1, H = 1, F (0x0100, RFC 5555 §3.1.3 force UDP encapsulation) = 1
  '0e10', // Lifetime 3600 units = 14400 s
  '1d06', // offset 12 (4n): IPv4 Home Address option, type 29, length 6 (RFC 5555 §3.1.1)
  '8000', // Prefix-len 32 = 100000b in the top 6 bits, P = 0, Reserved 0
  'c0000264', // IPv4 home address 192.0.2.100
  '2006', // offset 20 (4n): IPv4 Care-of Address option, type 32, length 6 (RFC 5555 §3.1.2)
  '0000', // Reserved
  'cb007105', // IPv4 care-of address 203.0.113.5
  '01020000', // offset 28: PadN, Opt Data Len 2 -> 4 octets, total 32
);

/** Same record, the final 4 octets of padding written as four Pad1. */
const BU_V4_PAD1 = mh(
  UP,
  '3b 03 05 00 0000 0008 c100 0e10', // as BU_V4
  '1d06 8000 c0000264', // IPv4 HoA as BU_V4
  '2006 0000 cb007105', // IPv4 CoA as BU_V4
  '00 00 00 00', // offsets 28-31: Pad1 x 4
);

/** Prefix request (P set, address 0.0.0.0) plus a dynamic address request (RFC 5555 §3.1.1). */
const BU_PREFIX = mh(
  UP,
  '3b', // Payload Proto 59
  '04', // Header Len 4 -> 40 octets
  '05', // MH Type 5 = Binding Update
  '00', // Reserved
  '0000', // Checksum (patched)
  '0009', // Sequence # 9
  'c000', // A = 1, H = 1
  '0e10', // Lifetime 3600 units = 14400 s
  '1d06', // offset 12: IPv4 Home Address, type 29, length 6
  '6200', // Prefix-len 24 = 011000b, P = 1: 0110 0010 0000 0000
  '00000000', // 0.0.0.0 with P: request a mobile network prefix
  '1d06', // offset 20: IPv4 Home Address, type 29, length 6
  '8000', // Prefix-len 32, P = 0
  '00000000', // 0.0.0.0: request a dynamically assigned IPv4 home address (RFC 5555 §2.5)
  '2006', // offset 28: IPv4 Care-of Address, type 32, length 6
  '0000', // Reserved
  'cb007105', // 203.0.113.5
  '01020000', // offset 36: PadN, 4 octets, total 40
);

/** Correspondent registration: Nonce Indices (2n) and Binding Authorization Data (8n+2, last). */
const BU_CN = mh(
  UP,
  '3b', // Payload Proto 59
  '03', // Header Len 3 -> 32 octets
  '05', // MH Type 5 = Binding Update
  '00', // Reserved
  '0000', // Checksum (patched)
  '000a', // Sequence # 10
  '8000', // A = 1 only
  '0007', // Lifetime 7 units = 28 s
  '0404', // offset 12 (2n): Nonce Indices, type 4, length 4 (§6.2.6)
  '0102', // Home Nonce Index 0x0102
  '0304', // Care-of Nonce Index 0x0304
  '050c', // offset 18 = 8n+2: Binding Authorization Data, type 5, length 12 (§6.2.7)
  '00112233445566778899aabb', // Authenticator (96 bits of HMAC_SHA1), ends the MH at 32
);

/** Every modelled BU flag set, lifetime 0 = delete the binding (§6.1.7). */
const BU_FLAGS = mh(
  UP,
  '3b', // Payload Proto 59
  '01', // Header Len 1 -> 16 octets
  '05', // MH Type 5 = Binding Update
  '00', // Reserved
  '0000', // Checksum (patched)
  'ffff', // Sequence # 65535
  'ff80', // A H L K M R P F T = 1111 1111 1, remaining 7 reserved bits 0
  '0000', // Lifetime 0: deregistration
  '01020000', // offset 12: PadN, 4 octets (no options, fixed part ends at 12)
);

/** DSMIPv6 BA: IPv4 Address Acknowledgement and NAT Detection (RFC 5555 §3.2.1, §3.2.2). */
const BA_V4 = mh(
  DOWN,
  '3b', // Payload Proto 59
  '03', // Header Len 3 -> 32 octets
  '06', // MH Type 6 = Binding Acknowledgement (§6.1.8)
  '00', // Reserved
  '0000', // Checksum (patched)
  '00', // Status 0 = Binding Update accepted
  '80', // K = 1, reserved 0
  '0008', // Sequence # 8
  '0e10', // Lifetime 3600 units = 14400 s
  '1e06', // offset 12 (4n): IPv4 Address Acknowledgement, type 30, length 6 (RFC 5555 §3.2.1)
  '00', // Status 0 = Success
  '80', // Pref-len 32 = 100000b, Reserved 00
  'c0000264', // IPv4 home address 192.0.2.100
  '1f06', // offset 20 (4n): NAT Detection, type 31, length 6 (RFC 5555 §3.2.2)
  '8000', // F = 1 (0x8000), Reserved 0
  '0000006e', // Refresh time 110 s (NATKATIMEOUT, RFC 5555 §6)
  '01020000', // offset 28: PadN, 4 octets
);

/** Failed IPv4 HoA assignment, no NAT (refresh 0xFFFFFFFF), F = 0. */
const BA_NONAT = mh(
  DOWN,
  '3b', // Payload Proto 59
  '03', // Header Len 3 -> 32 octets
  '06', // MH Type 6 = Binding Acknowledgement
  '00', // Reserved
  '0000', // Checksum (patched)
  '00', // Status 0
  '00', // no flags
  '000b', // Sequence # 11
  '0e10', // Lifetime 3600 units
  '1e06', // offset 12: IPv4 Address Acknowledgement, type 30, length 6
  '84', // Status 132 = dynamic IPv4 home address assignment not available
  '00', // Pref-len 0 (only valid on success)
  '00000000', // 0.0.0.0
  '1f06', // offset 20: NAT Detection, type 31, length 6
  '0000', // F = 0
  'ffffffff', // Refresh time 0xFFFFFFFF: no NAT, keepalives not needed (RFC 5555 §3.2.2)
  '01020000', // offset 28: PadN, 4 octets
);

/** Binding Refresh Advice, an unknown option type that must be kept, and a trailing Pad1. */
const BA_BRA = mh(
  DOWN,
  '3b', // Payload Proto 59
  '02', // Header Len 2 -> 24 octets
  '06', // MH Type 6 = Binding Acknowledgement
  '00', // Reserved
  '0000', // Checksum (patched)
  '00', // Status 0
  '00', // no flags
  '0007', // Sequence # 7
  '0096', // Lifetime 150 units = 600 s
  '0202', // offset 12 (2n): Binding Refresh Advice, type 2, length 2 (§6.2.4)
  '0064', // Refresh Interval 100 units of 4 s = 400 s
  '6405', // offset 16: option type 100 (unassigned), length 5: skipped by receivers (§6.2.1)
  '0102030405', // its data
  '00', // offset 23: Pad1 (§6.2.2), total 24
);

/** Rejected BU, every modelled BA flag set, no options. */
const BA_REJECT = mh(
  DOWN,
  '3b', // Payload Proto 59
  '01', // Header Len 1 -> 16 octets
  '06', // MH Type 6 = Binding Acknowledgement
  '00', // Reserved
  '0000', // Checksum (patched)
  '81', // Status 129 = Administratively prohibited
  'f0', // K (0x80) R (0x40, RFC 3963) P (0x20, RFC 5213) T (0x10, RFC 5845), reserved 0
  '0009', // Sequence # 9
  '0000', // Lifetime 0
  '01020000', // offset 12: PadN, 4 octets
);

const BE = mh(
  DOWN,
  '3b', // Payload Proto 59
  '02', // Header Len 2 -> 24 octets
  '07', // MH Type 7 = Binding Error (§6.1.9)
  '00', // Reserved
  '0000', // Checksum (patched)
  '01', // Status 1 = unknown binding for Home Address destination option
  '00', // Reserved
  HOA, // Home Address 2001:db8:1::100
);

const BE_UNKNOWN_TYPE = mh(
  DOWN,
  '3b 02 07 00 0000', // Payload Proto 59, Header Len 2, MH Type 7, Reserved, Checksum
  '02', // Status 2 = unrecognized MH Type value
  '00', // Reserved
  '0000 0000 0000 0000 0000 0000 0000 0000', // Home Address :: (no HAO in the offending packet)
);

/** MH Type 8 (Fast Binding Update, RFC 5568): not modelled, so kept whole as 'unknown'. */
const MH_TYPE8 = mh(
  UP,
  '3b', // Payload Proto 59
  '01', // Header Len 1 -> 16 octets
  '08', // MH Type 8
  '00', // Reserved
  '0000', // Checksum (patched)
  '0000 1122 3344 5566 7788', // message data, 10 octets
);

/** BU_V4 with every reserved bit set: receivers MUST ignore them (§6.1.1, §6.1.7, RFC 5555 §3.1). */
const BU_V4_RESERVED = mh(
  UP,
  '3b', // Payload Proto 59
  '03', // Header Len 3
  '05', // MH Type 5
  'ff', // Reserved, all ones (§6.1.1: ignored by the receiver)
  '0000', // Checksum (patched)
  '0008', // Sequence # 8
  'c17f', // A H F, and the 7 low reserved bits set
  '0e10', // Lifetime 3600 units
  '1d06', // IPv4 Home Address, type 29, length 6
  '81ff', // Prefix-len 32, P = 0, the 9 reserved bits set
  'c0000264', // 192.0.2.100
  '2006', // IPv4 Care-of Address, type 32, length 6
  'ffff', // Reserved, all ones
  'cb007105', // 203.0.113.5
  '01020000', // PadN, 4 octets
);

/** BA_V4 with every reserved bit set. */
const BA_V4_RESERVED = mh(
  DOWN,
  '3b 03 06', // Payload Proto 59, Header Len 3, MH Type 6
  'ff', // Reserved
  '0000', // Checksum (patched)
  '00', // Status 0
  'bf', // K = 1, R = 0 (0x40 clear), P T and the 4 low reserved bits set: 1011 1111
  '0008 0e10', // Sequence # 8, Lifetime 3600 units
  '1e06 00', // IPv4 Address Acknowledgement, Status 0
  '83', // Pref-len 32, Res = 11
  'c0000264', // 192.0.2.100
  '1f06', // NAT Detection
  'ffff', // F = 1, the 15 reserved bits set
  '0000006e', // Refresh time 110 s
  '01020000', // PadN, 4 octets
);

/** Binding Errors whose Home Address exercises RFC 5952 text forms. */
const BE_5952 = (addr: string) => mh(DOWN, '3b 02 07 00 0000', '01 00', addr);

describe('RFC 1071 helper', () => {
  it('agrees with the checksum worked out by hand for the BRR vector', () => {
    expect(mhChecksum(BRR, UP)).toBe(0x67fb);
  });
});

describe('Mobility Header messages (RFC 6275 §6.1.2-§6.1.9)', () => {
  const cases: readonly {
    name: string;
    bytes: Uint8Array;
    ph: PseudoHeader;
    record: MobilityMessage | Record<string, unknown>;
  }[] = [
    { name: 'BRR (type 0)', bytes: BRR, ph: UP, record: { kind: 'bindingRefreshRequest', options: [] } },
    {
      name: 'HoTI (type 1)',
      bytes: HOTI,
      ph: UP,
      record: { kind: 'homeTestInit', cookie: hex('0102030405060708'), options: [] },
    },
    {
      name: 'CoTI (type 2)',
      bytes: COTI,
      ph: UP,
      record: { kind: 'careOfTestInit', cookie: hex('a1a2a3a4a5a6a7a8'), options: [] },
    },
    {
      name: 'HoT (type 3)',
      bytes: HOT,
      ph: DOWN,
      record: {
        kind: 'homeTest',
        nonceIndex: 0x1234,
        cookie: hex('0102030405060708'),
        keygenToken: hex('1112131415161718'),
        options: [],
      },
    },
    {
      name: 'CoT (type 4)',
      bytes: COT,
      ph: DOWN,
      record: {
        kind: 'careOfTest',
        nonceIndex: 0xabcd,
        cookie: hex('a1a2a3a4a5a6a7a8'),
        keygenToken: hex('b1b2b3b4b5b6b7b8'),
        options: [],
      },
    },
    {
      name: 'BU (type 5) with PadN + Alternate CoA',
      bytes: BU_ACOA,
      ph: UP,
      record: {
        kind: 'bindingUpdate',
        sequence: 7,
        flags: buF('AH'),
        lifetime: 600,
        options: [{ kind: 'alternateCareOfAddress', address: '2001:db8:2::10' }],
      },
    },
    {
      name: 'BU (type 5) with IPv4 HoA + IPv4 CoA, F flag',
      bytes: BU_V4,
      ph: UP,
      record: {
        kind: 'bindingUpdate',
        sequence: 8,
        flags: buF('AHF'),
        lifetime: 14400,
        options: [
          { kind: 'ipv4HomeAddress', prefixLength: 32, p: false, address: '192.0.2.100' },
          { kind: 'ipv4CareOfAddress', address: '203.0.113.5' },
        ],
      },
    },
    {
      name: 'BU (type 5) with a prefix request (P, /24) and a dynamic address request',
      bytes: BU_PREFIX,
      ph: UP,
      record: {
        kind: 'bindingUpdate',
        sequence: 9,
        flags: buF('AH'),
        lifetime: 14400,
        options: [
          { kind: 'ipv4HomeAddress', prefixLength: 24, p: true, address: '0.0.0.0' },
          { kind: 'ipv4HomeAddress', prefixLength: 32, p: false, address: '0.0.0.0' },
          { kind: 'ipv4CareOfAddress', address: '203.0.113.5' },
        ],
      },
    },
    {
      name: 'BU (type 5) to a CN with Nonce Indices + Binding Authorization Data',
      bytes: BU_CN,
      ph: UP,
      record: {
        kind: 'bindingUpdate',
        sequence: 10,
        flags: buF('A'),
        lifetime: 28,
        options: [
          { kind: 'nonceIndices', homeNonceIndex: 0x0102, careOfNonceIndex: 0x0304 },
          { kind: 'bindingAuthorizationData', authenticator: hex('00112233445566778899aabb') },
        ],
      },
    },
    {
      name: 'BU (type 5) with every flag, lifetime 0',
      bytes: BU_FLAGS,
      ph: UP,
      record: { kind: 'bindingUpdate', sequence: 0xffff, flags: buF('AHLKMRPFT'), lifetime: 0, options: [] },
    },
    {
      name: 'BA (type 6) with IPv4 Address Ack + NAT Detection (F, 110 s)',
      bytes: BA_V4,
      ph: DOWN,
      record: {
        kind: 'bindingAcknowledgement',
        status: 0,
        flags: baF('K'),
        sequence: 8,
        lifetime: 14400,
        options: [
          { kind: 'ipv4AddressAcknowledgement', status: 0, prefixLength: 32, address: '192.0.2.100' },
          { kind: 'natDetection', f: true, refreshTime: 110 },
        ],
      },
    },
    {
      name: 'BA (type 6) with a failed IPv4 Address Ack + NAT Detection 0xFFFFFFFF',
      bytes: BA_NONAT,
      ph: DOWN,
      record: {
        kind: 'bindingAcknowledgement',
        status: 0,
        flags: baF(''),
        sequence: 11,
        lifetime: 14400,
        options: [
          { kind: 'ipv4AddressAcknowledgement', status: 132, prefixLength: 0, address: '0.0.0.0' },
          { kind: 'natDetection', f: false, refreshTime: 0xffffffff },
        ],
      },
    },
    {
      name: 'BA (type 6) with Binding Refresh Advice, an unknown option and Pad1',
      bytes: BA_BRA,
      ph: DOWN,
      record: {
        kind: 'bindingAcknowledgement',
        status: 0,
        flags: baF(''),
        sequence: 7,
        lifetime: 600,
        options: [
          { kind: 'bindingRefreshAdvice', refreshInterval: 400 },
          { kind: 'unknown', optionType: 100, data: hex('0102030405') },
        ],
      },
    },
    {
      name: 'BA (type 6) rejected, every flag',
      bytes: BA_REJECT,
      ph: DOWN,
      record: {
        kind: 'bindingAcknowledgement',
        status: 129,
        flags: baF('KRPT'),
        sequence: 9,
        lifetime: 0,
        options: [],
      },
    },
    {
      name: 'BE (type 7) status 1',
      bytes: BE,
      ph: DOWN,
      record: { kind: 'bindingError', status: 1, homeAddress: '2001:db8:1::100', options: [] },
    },
    {
      name: 'BE (type 7) status 2, home address ::',
      bytes: BE_UNKNOWN_TYPE,
      ph: DOWN,
      record: { kind: 'bindingError', status: 2, homeAddress: '::', options: [] },
    },
    {
      name: 'BE (type 7), RFC 5952 §4.2.2: a single zero group is not shortened',
      bytes: BE_5952('2001 0db8 0000 0001 0001 0001 0001 0001'),
      ph: DOWN,
      record: { kind: 'bindingError', status: 1, homeAddress: '2001:db8:0:1:1:1:1:1', options: [] },
    },
    {
      name: 'BE (type 7), RFC 5952 §4.2.3: first of two equal zero runs is shortened',
      bytes: BE_5952('2001 0db8 0000 0000 0001 0000 0000 0001'),
      ph: DOWN,
      record: { kind: 'bindingError', status: 1, homeAddress: '2001:db8::1:0:0:1', options: [] },
    },
    {
      name: 'BE (type 7), RFC 5952 §4.2.3: the longest zero run is shortened',
      bytes: BE_5952('2001 0000 0000 0001 0000 0000 0000 0001'),
      ph: DOWN,
      record: { kind: 'bindingError', status: 1, homeAddress: '2001:0:0:1::1', options: [] },
    },
    {
      name: 'BE (type 7), RFC 5952 §5: IPv4-mapped address in mixed notation',
      bytes: BE_5952('0000 0000 0000 0000 0000 ffff c000 0201'),
      ph: DOWN,
      record: { kind: 'bindingError', status: 1, homeAddress: '::ffff:192.0.2.1', options: [] },
    },
    {
      name: 'unknown MH Type 8',
      bytes: MH_TYPE8,
      ph: UP,
      record: { kind: 'unknown', mhType: 8, data: hex('0000 1122 3344 5566 7788') },
    },
  ];

  for (const c of cases) {
    it(`${c.name}: decodes field by field and re-emits the same bytes`, () => {
      const msg = must(parseMobilityHeader(c.bytes, c.ph));
      expect(msg).toEqual(c.record);
      expect(emitMobilityHeader(msg, c.ph)).toEqual(c.bytes);
    });
  }

  it('a different legal padding layout decodes to the same record (Pad1 Pad1 before Alternate CoA)', () => {
    const canonical = must(parseMobilityHeader(BU_ACOA, UP));
    const other = must(parseMobilityHeader(BU_ACOA_PAD1, UP));
    expect(other).toEqual(canonical);
    // The emitter regenerates its own padding (PadN(0)), so it gives the canonical bytes back.
    expect(emitMobilityHeader(other, UP)).toEqual(BU_ACOA);
  });

  it('a different legal padding layout decodes to the same record (Pad1 x 4 at the end)', () => {
    const other = must(parseMobilityHeader(BU_V4_PAD1, UP));
    expect(other).toEqual(must(parseMobilityHeader(BU_V4, UP)));
    expect(emitMobilityHeader(other, UP)).toEqual(BU_V4);
  });

  it('reserved bits set in a BU are ignored (same record as BU_V4; the emitter writes zeros)', () => {
    const other = must(parseMobilityHeader(BU_V4_RESERVED, UP));
    expect(other).toEqual(must(parseMobilityHeader(BU_V4, UP)));
    expect(emitMobilityHeader(other, UP)).toEqual(BU_V4);
  });

  it('reserved bits set in a BA are ignored (same record as BA_V4 but with P and T)', () => {
    const other = must(parseMobilityHeader(BA_V4_RESERVED, DOWN));
    expect(other).toEqual({
      ...must(parseMobilityHeader(BA_V4, DOWN)),
      flags: baF('KPT'),
    });
  });
});

describe('Mobility Header negative vectors (RFC 6275 §6.1.1, §6.2, §9.2)', () => {
  it('truncated: fewer than 8 octets', () => {
    expectFail(parseMobilityHeader(hex('3b 00 00 00 67fb 00'), UP), 'truncated', 'header', 0);
  });

  it('Header Len disagrees with the buffer (says 16 octets, 8 present)', () => {
    expectFail(parseMobilityHeader(poke(BRR, 1, 1), UP), 'length-mismatch', 'headerLength', 1);
  });

  it('Header Len disagrees with the buffer (says 8 octets, 16 present)', () => {
    expectFail(parseMobilityHeader(poke(HOTI, 1, 0), UP), 'length-mismatch', 'headerLength', 1);
  });

  it('Header Len below the minimum for the type: BU with Header Len 0 (§9.2)', () => {
    const bu = mh(
      UP,
      '3b', // Payload Proto 59
      '00', // Header Len 0 -> 8 octets, but a BU needs at least 12 (Header Len 1)
      '05', // MH Type 5 = Binding Update
      '00', // Reserved
      '0000', // Checksum (patched, so that only the length is wrong)
      '0001', // Sequence # 1, then the message ends
    );
    expectFail(parseMobilityHeader(bu, UP), 'bad-value', 'headerLength', 1);
  });

  it('Payload Proto not 59 (§9.2)', () => {
    const bad = mh(UP, '06', '00 00 00 0000 0000'); // Payload Proto 6, otherwise a valid BRR
    expectFail(parseMobilityHeader(bad, UP), 'bad-value', 'payloadProto', 0);
  });

  it('Payload Proto not 59 and a bad checksum: the checksum is checked first, silent discard (§9.2)', () => {
    // BRR with byte 0 changed to 6 and the checksum left as computed for 0x3b: both fields wrong.
    expectFail(parseMobilityHeader(poke(BRR, 0, 6), UP), 'bad-checksum', 'checksum', 4);
  });

  it('bad checksum (§6.1.1)', () => {
    expectFail(parseMobilityHeader(poke(BRR, 5, 0xfc), UP), 'bad-checksum', 'checksum', 4);
  });

  it('checksum computed over other addresses (CoA instead of HoA) is rejected', () => {
    expectFail(parseMobilityHeader(BU_ACOA, { src: hex(COA), dst: hex(HA) }), 'bad-checksum', 'checksum', 4);
  });

  it('option overrunning the MH', () => {
    const bu = mh(
      UP,
      '3b 01 05 00 0000', // Header Len 1 -> 16 octets, BU
      '0001 8000 0001', // sequence, flags A, lifetime
      '0310', // offset 12: Alternate CoA, length 16: would end at 30 > 16
      '0000',
    );
    expectFail(parseMobilityHeader(bu, UP), 'overrun', 'length', 13);
  });

  it('option type in the last octet with no room for its length byte', () => {
    const bu = mh(
      UP,
      '3b 01 05 00 0000 0001 8000 0001',
      '00 00 00', // offsets 12-14: Pad1 x 3
      '03', // offset 15: type 3, but the MH ends here
    );
    expectFail(parseMobilityHeader(bu, UP), 'overrun', 'length', 16);
  });

  it('wrong fixed option length: NAT Detection with length 4 (RFC 5555 §3.2.2 says 6)', () => {
    const ba = mh(
      DOWN,
      '3b 02 06 00 0000', // Header Len 2 -> 24 octets, BA
      '00 00 0001 0001', // status, flags, sequence, lifetime
      '1f04', // offset 12: NAT Detection, length 4
      '8000 0000',
      '0104 00000000', // offset 18: PadN, 6 octets
    );
    expectFail(parseMobilityHeader(ba, DOWN), 'bad-value', 'natDetection.length', 13);
  });

  it('Binding Authorization Data not last: followed by Nonce Indices (§6.2.7)', () => {
    const bu = mh(
      UP,
      '3b 03 05 00 0000 000a 8000 0007',
      '050c 00112233445566778899aabb', // offset 12: BAD, ends at 26
      '0404 0102 0304', // offset 26: Nonce Indices after it
    );
    expectFail(parseMobilityHeader(bu, UP), 'bad-value', 'bindingAuthorizationData', 12);
  });

  it('Binding Authorization Data not last: followed by padding', () => {
    const bu = mh(
      UP,
      '3b 03 05 00 0000 000a 8000 0007',
      '050c 00112233445566778899aabb', // offset 12: BAD, ends at 26
      '0104 00000000', // offset 26: PadN, 6 octets
    );
    expectFail(parseMobilityHeader(bu, UP), 'bad-value', 'bindingAuthorizationData', 12);
  });
});

// ------------------------------------------------------------------------------------------------
// IPv6 extension headers (RFC 6275 §6.3, §6.4) inside whole IPv6 packets (RFC 8200 §3)

/** MH of the BU that travels behind the HAO: the checksum uses the HoA as source (§6.1.1). */
const BU_IN_PACKET = BU_ACOA;

const PKT_BU_HAO = cat(
  hex(
    '60000000', // Version 6, Traffic Class 0, Flow Label 0 (RFC 8200 §3)
    '0038', // Payload Length 56 = 24 (Destination Options) + 32 (MH)
    '3c', // Next Header 60 = Destination Options
    '40', // Hop Limit 64
    COA, // Source 2001:db8:2::10 (care-of address)
    HA, // Destination 2001:db8:1::1 (home agent)
    // Destination Options header, 24 octets (digest §8.1 example)
    '87', // Next Header 135 = Mobility Header
    '02', // Hdr Ext Len 2 -> (2 + 1) * 8 = 24 octets
    '01', // offset 2: PadN (RFC 8200 §4.2)
    '02', // Opt Data Len 2 -> 4 octets of padding
    '0000', // PadN data
    'c9', // offset 6 = 8n+6: Home Address option type 201 (RFC 6275 §6.3)
    '10', // Option Length 16
    HOA, // Home Address 2001:db8:1::100
  ),
  BU_IN_PACKET,
);

const PKT_BA_RH2 = cat(
  hex(
    '60000000', // Version 6
    '0028', // Payload Length 40 = 24 (type 2 RH) + 16 (MH)
    '2b', // Next Header 43 = Routing
    '40', // Hop Limit 64
    HA, // Source 2001:db8:1::1
    COA, // Destination 2001:db8:2::10 (care-of address)
    // Type 2 Routing Header, 24 octets (RFC 6275 §6.4.1)
    '87', // Next Header 135 = Mobility Header
    '02', // Hdr Ext Len 2
    '02', // Routing Type 2
    '01', // Segments Left 1
    '00000000', // Reserved
    HOA, // Home Address 2001:db8:1::100
  ),
  // BA accepted, sequence 7, 600 s; checksum over HA -> HoA (final destination from the RH)
  mh(DOWN, '3b 01 06 00 0000', '00 00 0007 0096', '01020000'),
);

/** An IPv6 header announcing `nh` with `ext` as the whole payload (Next Header 59 inside). */
function ipv6With(nh: string, ext: string): Uint8Array {
  const body = hex(ext);
  const len = body.length.toString(16).padStart(4, '0');
  return cat(hex('60000000', len, nh, '40', COA, HA), body);
}

describe('IPv6 Destination Options with the Home Address option (RFC 6275 §6.3)', () => {
  it('decodes PadN + HAO, checks the MH against the HoA, and re-emits the same bytes', () => {
    const pkt = must(parseIpv6(PKT_BU_HAO));
    expect(pkt).toEqual({
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 64,
      src: '2001:db8:2::10',
      dst: '2001:db8:1::1',
      extensions: [
        { kind: 'destinationOptions', options: [{ kind: 'homeAddress', address: '2001:db8:1::100' }] },
      ],
      protocol: 135,
      payload: BU_IN_PACKET,
      payloadOffset: 64,
    });
    const ph = upperLayerPseudoHeader(pkt);
    expect(ph).toEqual(UP);
    const msg = must(parseMobilityHeader(pkt.payload, ph));
    expect(msg.kind).toBe('bindingUpdate');
    const { payload: _p, payloadOffset: _o, ...fields } = pkt;
    const f: Ipv6Fields = fields;
    expect(emitIpv6(f, emitMobilityHeader(msg, ph))).toEqual(PKT_BU_HAO);
  });

  it('a different legal layout (Pad1 x 4 before the HAO) decodes to the same extension', () => {
    // Destination Options octets 2-5 (packet offsets 42-45): Pad1 x 4 instead of PadN(2).
    const other = poke(poke(PKT_BU_HAO, 42, 0), 43, 0);
    const pkt = must(parseIpv6(other));
    expect(pkt).toEqual(must(parseIpv6(PKT_BU_HAO)));
    const { payload, payloadOffset: _o, ...fields } = pkt;
    expect(emitIpv6(fields, payload)).toEqual(PKT_BU_HAO);
  });

  it('a second HAO in the same header is rejected (§6.3: MUST NOT appear more than once)', () => {
    const pkt = ipv6With(
      '3c',
      [
        '3b 05', // Next Header 59, Hdr Ext Len 5 -> 48 octets
        '0102 0000', // offset 2: PadN, 4 octets
        'c9 10', // offset 6: Home Address option
        HOA,
        '0104 00000000', // offset 24: PadN, 6 octets
        'c9 10', // offset 30 = 8n+6: a second Home Address option
        HOA,
      ].join(''),
    );
    expectFail(parseIpv6(pkt), 'bad-value', 'homeAddress', 40 + 30);
  });

  it('HAO at 8n+4 is misaligned', () => {
    const pkt = ipv6With(
      '3c',
      [
        '3b 02', // Next Header 59, Hdr Ext Len 2 -> 24 octets
        '0100', // offset 2: PadN, 2 octets
        'c9 10', // offset 4 = 8n+4: Home Address option (must be 8n+6)
        HOA,
        '0100', // offset 22: PadN, 2 octets
      ].join(''),
    );
    expectFail(parseIpv6(pkt), 'misaligned', 'homeAddress', 40 + 4);
  });

  it('HAO with Option Length 14 is rejected (§6.3: MUST be 16)', () => {
    const pkt = ipv6With(
      '3c',
      [
        '3b 02', // Next Header 59, Hdr Ext Len 2
        '0102 0000', // offset 2: PadN, 4 octets
        'c9 0e', // offset 6: Home Address option, length 14
        '2001 0db8 0001 0000 0000 0000 0000', // 14 octets
        '0100', // offset 22: PadN, 2 octets
      ].join(''),
    );
    expectFail(parseIpv6(pkt), 'bad-value', 'homeAddress.length', 40 + 7);
  });
});

describe('Type 2 Routing Header (RFC 6275 §6.4)', () => {
  it('decodes the 24-octet header, checks the MH against the HoA, and re-emits the same bytes', () => {
    const pkt = must(parseIpv6(PKT_BA_RH2));
    expect(pkt.extensions).toEqual([{ kind: 'routingType2', homeAddress: '2001:db8:1::100' }]);
    expect(pkt.protocol).toBe(135);
    expect(pkt.payloadOffset).toBe(64);
    const ph = upperLayerPseudoHeader(pkt);
    expect(ph).toEqual(DOWN);
    const msg = must(parseMobilityHeader(pkt.payload, ph));
    expect(msg).toEqual({
      kind: 'bindingAcknowledgement',
      status: 0,
      flags: baF(''),
      sequence: 7,
      lifetime: 600,
      options: [],
    });
    const { payload: _p, payloadOffset: _o, ...fields } = pkt;
    expect(emitIpv6(fields, emitMobilityHeader(msg, ph))).toEqual(PKT_BA_RH2);
  });

  it('a non-zero Reserved field is ignored (§6.4.1) and re-emitted as zero', () => {
    let other = PKT_BA_RH2;
    for (let i = 44; i < 48; i++) other = poke(other, i, 0xff);
    const pkt = must(parseIpv6(other));
    expect(pkt.extensions).toEqual([{ kind: 'routingType2', homeAddress: '2001:db8:1::100' }]);
    const { payload, payloadOffset: _o, ...fields } = pkt;
    expect(emitIpv6(fields, payload)).toEqual(PKT_BA_RH2);
  });

  it('Segments Left 0 is rejected (§6.4.1: MUST be 1)', () => {
    expectFail(parseIpv6(poke(PKT_BA_RH2, 43, 0)), 'bad-value', 'segmentsLeft', 43);
  });

  it('Segments Left 2 is rejected', () => {
    expectFail(parseIpv6(poke(PKT_BA_RH2, 43, 2)), 'bad-value', 'segmentsLeft', 43);
  });

  it('Hdr Ext Len 4 (two addresses) is rejected (§6.4.1: MUST be 2)', () => {
    const pkt = ipv6With(
      '2b',
      [
        '3b', // Next Header 59
        '04', // Hdr Ext Len 4 -> 40 octets
        '02', // Routing Type 2
        '01', // Segments Left 1
        '00000000', // Reserved
        HOA,
        HOA, // a second address, which a type 2 header cannot carry
      ].join(''),
    );
    expectFail(parseIpv6(pkt), 'bad-value', 'hdrExtLen', 41);
  });
});

// ------------------------------------------------------------------------------------------------
// IPv4 (RFC 791) and UDP (RFC 768) as used by DSMIPv6 (RFC 5555 §4.1: IPv4/UDP to port 4191)

/*
 * IPv4 header checksum by hand (RFC 791 §3.1, RFC 1071), words with the checksum as 0000:
 *   4500 + 0020 + 1c46 + 4000 + 4011 + 0000 + c000 + 0201 + c633 + 6401
 *   4500 + 0020 = 4520; + 1c46 = 6166; + 4000 = a166; + 4011 = e177; + c000 = 1a177;
 *   + 0201 = 1a378; + c633 = 269ab; + 6401 = 2cdac; fold: cdac + 2 = cdae; ~cdae = 3251
 *
 * UDP checksum by hand (RFC 768 pseudo-header: src, dst, zero, protocol 17, UDP length 12):
 *   c000 + 0201 + c633 + 6401 + 0011 + 000c              = 1ec52
 *   header c000 + 105f + 000c + [0000]                   = 0d06b
 *   data   dead + beef                                   = 19d9c
 *   1ec52 + 0d06b + 19d9c = 45a59; fold: 5a59 + 4 = 5a5d; ~5a5d = a5a2
 */
const IPV4_SRC = 'c0000201'; // 192.0.2.1     MN IPv4 care-of address
const IPV4_DST = 'c6336401'; // 198.51.100.1  HA IPv4 address
const UDP4 = hex(
  'c000', // Source Port 49152 (the MN's, free choice: RFC 5555 §5.2.1)
  '105f', // Destination Port 4191 = dsmipv6 (RFC 5555 §8)
  '000c', // Length 12 = 8 + 4
  'a5a2', // Checksum (worked out above)
  'deadbeef', // data
);
const IPV4_PKT = cat(
  hex(
    '45', // Version 4, IHL 5 (20 octets)
    '00', // DSCP 0, ECN 0
    '0020', // Total Length 32 = 20 + 12
    '1c46', // Identification
    '4000', // Flags: DF = 1, MF = 0; Fragment Offset 0
    '40', // TTL 64
    '11', // Protocol 17 = UDP
    '3251', // Header Checksum (worked out above)
    IPV4_SRC, // Source 192.0.2.1
    IPV4_DST, // Destination 198.51.100.1
  ),
  UDP4,
);
const PH4: PseudoHeader = { src: hex(IPV4_SRC), dst: hex(IPV4_DST) };

/*
 * UDP over IPv6 (RFC 8200 §8.1), 2001:db8::1 -> 2001:db8::2, checksum by hand:
 *   src 2001 + 0db8 + 0001 = 2dba; dst 2001 + 0db8 + 0002 = 2dbb; length 000c; next header 0011
 *   pseudo 2dba + 2dbb + 000c + 0011 = 5b92; header 105f + 105f + 000c = 20ca; data 19d9c
 *   5b92 + 20ca = 7c5c; + 19d9c = 219f8; fold: 19f8 + 2 = 19fa; ~19fa = e605
 */
const PH6: PseudoHeader = {
  src: hex('2001 0db8 0000 0000 0000 0000 0000 0001'),
  dst: hex('2001 0db8 0000 0000 0000 0000 0000 0002'),
};
const UDP6 = hex(
  '105f', // Source Port 4191
  '105f', // Destination Port 4191
  '000c', // Length 12
  'e605', // Checksum (worked out above)
  'deadbeef', // data
);

/*
 * RFC 768: a computed checksum of zero is transmitted as all ones. Over PH4 with length 10:
 *   pseudo c000 + 0201 + c633 + 6401 + 0011 + 000a = 1ec50; header c000 + 105f + 000a = 0d069
 *   1ec50 + 0d069 = 2bcb9; fold: bcb9 + 2 = bcbb; data 4344: bcbb + 4344 = ffff; ~ffff = 0000 -> ffff
 */
const UDP4_ONES = hex(
  'c000', // Source Port 49152
  '105f', // Destination Port 4191
  '000a', // Length 10
  'ffff', // Checksum: computed 0000, sent as ffff
  '4344', // data
);

describe('IPv4 header (RFC 791)', () => {
  it('the helper agrees with the hand-computed header and UDP checksums', () => {
    const header = IPV4_PKT.slice(0, 20);
    header[10] = 0;
    header[11] = 0;
    expect(rfc1071(header)).toBe(0x3251);
    const pseudo = cat(PH4.src, PH4.dst, hex('00 11 000c'), UDP4);
    pseudo[12 + 6] = 0;
    pseudo[12 + 7] = 0;
    expect(rfc1071(pseudo)).toBe(0xa5a2);
    const pseudo6 = cat(PH6.src, PH6.dst, hex('0000000c 000000 11'), UDP6);
    pseudo6[40 + 6] = 0;
    pseudo6[40 + 7] = 0;
    expect(rfc1071(pseudo6)).toBe(0xe605);
  });

  it('decodes field by field and re-emits the same bytes', () => {
    const pkt = must(parseIpv4(IPV4_PKT));
    expect(pkt).toEqual({
      dscp: 0,
      ecn: 0,
      identification: 0x1c46,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 17,
      src: '192.0.2.1',
      dst: '198.51.100.1',
      options: new Uint8Array(0),
      payload: UDP4,
    });
    const { payload, ...fields } = pkt;
    expect(emitIpv4(fields, payload)).toEqual(IPV4_PKT);
  });

  it('bad header checksum', () => {
    expectFail(parseIpv4(poke(IPV4_PKT, 11, 0x50)), 'bad-checksum', 'checksum', 10);
  });

  it('IHL below 5', () => {
    expectFail(parseIpv4(poke(IPV4_PKT, 0, 0x44)), 'bad-value', 'ihl', 0);
  });

  it('Total Length differs from the bytes present', () => {
    expectFail(parseIpv4(poke(IPV4_PKT, 3, 0x21)), 'length-mismatch', 'totalLength', 2);
  });
});

describe('UDP (RFC 768)', () => {
  it('over IPv4: decodes and re-emits the same bytes', () => {
    const d = must(parseUdp(UDP4, PH4));
    expect(d).toEqual({ srcPort: 49152, dstPort: 4191, payload: hex('deadbeef') });
    expect(emitUdp({ srcPort: d.srcPort, dstPort: d.dstPort }, d.payload, PH4)).toEqual(UDP4);
  });

  it('over IPv6: decodes and re-emits the same bytes', () => {
    const d = must(parseUdp(UDP6, PH6));
    expect(d).toEqual({ srcPort: 4191, dstPort: 4191, payload: hex('deadbeef') });
    expect(emitUdp({ srcPort: d.srcPort, dstPort: d.dstPort }, d.payload, PH6)).toEqual(UDP6);
  });

  it('over IPv4: a computed zero checksum travels as 0xffff (RFC 768) and round-trips', () => {
    const d = must(parseUdp(UDP4_ONES, PH4));
    expect(d).toEqual({ srcPort: 49152, dstPort: 4191, payload: hex('4344') });
    expect(emitUdp({ srcPort: d.srcPort, dstPort: d.dstPort }, d.payload, PH4)).toEqual(UDP4_ONES);
  });

  it('inside the IPv4 packet, with the pseudo-header taken from it', () => {
    const pkt = must(parseIpv4(IPV4_PKT));
    expect(must(parseUdp(pkt.payload, PH4)).dstPort).toBe(4191);
  });

  it('bad checksum', () => {
    expectFail(parseUdp(poke(UDP4, 7, 0xa3), PH4), 'bad-checksum', 'checksum', 6);
  });

  it('zero checksum over IPv6 is invalid (RFC 8200 §8.1)', () => {
    const zero = poke(poke(UDP6, 6, 0), 7, 0);
    expectFail(parseUdp(zero, PH6), 'bad-checksum', 'checksum', 6);
  });

  it('zero checksum over IPv4 means "no checksum" and passes (RFC 768)', () => {
    const zero = poke(poke(UDP4, 6, 0), 7, 0);
    expect(parseUdp(zero, PH4)).toEqual({
      ok: true,
      value: { srcPort: 49152, dstPort: 4191, payload: hex('deadbeef') },
    });
  });
});

// ------------------------------------------------------------------------------------------------
// ESP framing (RFC 4303 §2)

/** ESP with NULL encryption (block size 1, 4-octet alignment) and a 12-octet ICV. */
const ESP_PLAIN = hex(
  '3b00000067fb0000', // Payload: the BRR Mobility Header above (transport mode)
  '0102', // Padding 1, 2 (§2.4 default content): 8 + 2 + 2 = 12, a multiple of 4
  '02', // Pad Length 2
  '87', // Next Header 135 = Mobility Header
);
const ESP_PKT = cat(
  hex(
    'c0ffee01', // SPI 0xc0ffee01 (> 255, §2.1)
    '00000001', // Sequence Number 1: the first packet of the SA (§2.2)
  ),
  ESP_PLAIN,
  hex('000102030405060708090a0b'), // ICV, 12 octets (HMAC-SHA1-96)
);
/** The same payload padded for a 16-octet block cipher (AES-CBC). */
const ESP_PLAIN_16 = hex(
  '3b00000067fb0000', // Payload: BRR
  '010203040506', // Padding 1..6: 8 + 6 + 2 = 16
  '06', // Pad Length 6
  '87', // Next Header 135
);

describe('ESP (RFC 4303 §2)', () => {
  it('header: SPI, sequence, protected part and ICV; re-emits the same bytes', () => {
    const esp = must(parseEsp(ESP_PKT, 12));
    expect(esp).toEqual({
      spi: 0xc0ffee01,
      sequence: 1,
      protectedData: ESP_PLAIN,
      icv: hex('000102030405060708090a0b'),
    });
    expect(emitEsp(esp)).toEqual(ESP_PKT);
  });

  it('trailer: padding 1, 2, Pad Length, Next Header; appendEspTrailer gives the same bytes', () => {
    expect(must(parseEspTrailer(ESP_PLAIN))).toEqual({ payload: BRR, nextHeader: 135, padLength: 2 });
    expect(appendEspTrailer(BRR, 135, 1)).toEqual(ESP_PLAIN);
    expect(appendEspTrailer(BRR, 135, 4)).toEqual(ESP_PLAIN);
  });

  it('trailer for a 16-octet block: padding 1..6', () => {
    expect(must(parseEspTrailer(ESP_PLAIN_16))).toEqual({ payload: BRR, nextHeader: 135, padLength: 6 });
    expect(appendEspTrailer(BRR, 135, 16)).toEqual(ESP_PLAIN_16);
  });

  it('SPI 0 is rejected (never sent, §2.1)', () => {
    expectFail(parseEsp(hex('00000000 00000001 0087'), 0), 'bad-value', 'spi', 0);
  });

  it('SPI 200 is rejected (1-255 reserved, §2.1)', () => {
    expectFail(parseEsp(hex('000000c8 00000001 0087'), 0), 'bad-value', 'spi', 0);
  });

  it('trailer with wrong padding bytes (1, 3 instead of 1, 2)', () => {
    const plain = hex('3b00000067fb0000', '0103', '02', '87');
    expectFail(parseEspTrailer(plain), 'bad-value', 'padding', 9);
  });

  it('trailer whose Pad Length overruns the protected part', () => {
    expectFail(parseEspTrailer(hex('0102', '09', '87')), 'overrun', 'padLength', 2);
  });
});

describe('every parser returns a result on empty input', () => {
  it('never throws', () => {
    const empty = new Uint8Array(0);
    expectFail(parseMobilityHeader(empty, UP), 'truncated', 'header', 0);
    expectFail(parseIpv6(empty), 'truncated', 'header', 0);
    expectFail(parseIpv4(empty), 'truncated', 'header', 0);
    expectFail(parseUdp(empty, PH4), 'truncated', 'header', 0);
    expectFail(parseEsp(empty, 12), 'truncated', 'packet', 0);
    expectFail(parseEspTrailer(empty), 'truncated', 'trailer', 0);
  });
});
