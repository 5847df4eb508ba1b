/**
 * Property tests for src/wire.
 *
 * (1) Round trips: parse(emit(record)) equals the record for every message, option, header and
 *     framing the codec knows, emit(parse(bytes)) equals bytes for emitted bytes, and emitted
 *     Mobility Headers respect the RFC 6275 §6.2 alignment rules (checked by walking the bytes).
 * (2) Totality: every parser is fed FUZZ_RUNS inputs (default 100,000 each): random byte strings
 *     and mutated valid packets (bit flips, byte overwrites, truncation, extension, chunk
 *     insert/delete and length-field rewrites, then usually lengths and checksums recomputed so
 *     the damage reaches the inner layers). A parser must not throw, must return a well-formed
 *     Parsed (or Dissection), and must not read out of bounds: a quarter of the inputs go through a
 *     Proxy that throws on any index outside the buffer, and every decoded value is scanned for
 *     `undefined`/NaN. Inputs come from a seeded PRNG keyed by a fast-check integer, so a failure
 *     prints the fast-check seed, the run's key and the input in hex.
 *
 * Env: FUZZ_RUNS (per parser, default 100000), PROP_RUNS (per round-trip property, default 200),
 *      FUZZ_SEED (fast-check seed, default fixed so CI is deterministic).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendEspTrailer,
  DSMIPV6_UDP_PORT,
  decapsulate,
  dissect,
  type EspPacket,
  emitEsp,
  emitIpv4,
  emitIpv6,
  emitMobilityHeader,
  emitMobilityPacket,
  emitPcap,
  emitUdp,
  encapsulate,
  finish,
  homeAddressOption,
  IpProto,
  ipv6TextToBytes,
  isWalkedExtension,
  LINKTYPE_RAW,
  type MobilityMessage,
  type MobilityOption,
  mobilityChecksum,
  type OuterHeader,
  type Parsed,
  PCAP_SNAPLEN,
  type PseudoHeader,
  parseEsp,
  parseEspTrailer,
  parseIpv4,
  parseIpv6,
  parseMobilityHeader,
  parseMobilityOptions,
  parseMobilityPacket,
  parsePcap,
  parseUdp,
  pseudoSum,
  routingHomeAddress,
  sumWords,
  upperLayerPseudoHeader,
  type WireErrorCode,
} from '../../src/wire/index.js';
import * as A from '../support/arbitraries.js';

const envInt = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number.parseInt(v, 10);
};

const SEED = envInt('FUZZ_SEED', 0x6d697036);
const FUZZ_RUNS = envInt('FUZZ_RUNS', 100_000);
const PROP_RUNS = envInt('PROP_RUNS', 200);
const rt = { numRuns: PROP_RUNS, seed: SEED };

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Size of the fixed part of MH types 0-7 (RFC 6275 §6.1.2-§6.1.9). */
const MH_FIXED = [8, 16, 16, 24, 24, 12, 12, 24] as const;

const OPTION_TYPE: Record<Exclude<MobilityOption['kind'], 'unknown'>, number> = {
  bindingRefreshAdvice: 2,
  alternateCareOfAddress: 3,
  nonceIndices: 4,
  bindingAuthorizationData: 5,
  ipv4HomeAddress: 29,
  ipv4AddressAcknowledgement: 30,
  natDetection: 31,
  ipv4CareOfAddress: 32,
};
const optionType = (o: MobilityOption): number => (o.kind === 'unknown' ? o.optionType : OPTION_TYPE[o.kind]);

/**
 * Walks an emitted Mobility Header and checks its layout: 8-octet length and Header Len, padding
 * made only of Pad1/PadN with zero bytes, the options in record order, and their alignment
 * (RFC 6275 §6.2: AltCoA 8n+6, BRA and Nonce Indices 2n, BAD 8n+2 and last; RFC 5555: the IPv4
 * options 4n).
 */
function checkMhLayout(b: Uint8Array, msg: MobilityMessage): void {
  expect(b.length % 8).toBe(0);
  expect(b.length).toBeLessThanOrEqual(2048);
  expect(b[0]).toBe(IpProto.NoNextHeader);
  expect(b[1]).toBe(b.length / 8 - 1);
  expect(b[3]).toBe(0);
  if (msg.kind === 'unknown') {
    expect(b[2]).toBe(msg.mhType);
    return;
  }
  const mhType = b[2]!;
  expect(mhType).toBeLessThan(8);
  let off = MH_FIXED[mhType as 0]!;
  const types: number[] = [];
  while (off < b.length) {
    const t = b[off]!;
    if (t === 0) {
      off += 1;
      continue;
    }
    const len = b[off + 1]!;
    expect(off + 2 + len).toBeLessThanOrEqual(b.length);
    if (t === 1) {
      expect(b.subarray(off + 2, off + 2 + len).every((x) => x === 0)).toBe(true);
      off += 2 + len;
      continue;
    }
    const where = `option type ${t} at ${off} in ${hex(b)}`;
    if (t === 3) expect(off % 8, where).toBe(6);
    if (t === 2 || t === 4) expect(off % 2, where).toBe(0);
    if (t >= 29 && t <= 32) expect(off % 4, where).toBe(0);
    if (t === 5) {
      expect(off % 8, where).toBe(2);
      expect(off + 2 + len, where).toBe(b.length);
    }
    types.push(t);
    off += 2 + len;
  }
  expect(off).toBe(b.length);
  expect(types).toEqual(msg.options.map(optionType));
}

const ipBytesOf = (outer: OuterHeader): PseudoHeader =>
  outer.family === 4
    ? {
        src: Uint8Array.from(outer.src.split('.').map(Number)),
        dst: Uint8Array.from(outer.dst.split('.').map(Number)),
      }
    : { src: ipv6TextToBytes(outer.src)!, dst: ipv6TextToBytes(outer.dst)! };

/** DSCP and ECN of a whole IPv4 or IPv6 packet, read through the parsers. */
function trafficClass(packet: Uint8Array): { dscp: number; ecn: number } {
  const p = packet[0]! >> 4 === 4 ? parseIpv4(packet) : parseIpv6(packet);
  if (!p.ok) throw new Error(`inner packet does not parse: ${p.error.message}`);
  return { dscp: p.value.dscp, ecn: p.value.ecn };
}

// =============================================================================================
// (1) Round trips

describe('Mobility Header round trips', () => {
  const byKind = A.mobilityMessageByKind();

  it.each(A.MOBILITY_MESSAGE_KINDS)('message %s: parse(emit(m)) = m, emit(parse(b)) = b, layout', (kind) => {
    fc.assert(
      fc.property(byKind[kind] as fc.Arbitrary<MobilityMessage>, A.ipv6PseudoHeader, (msg, ph) => {
        const b = emitMobilityHeader(msg, ph);
        const r = parseMobilityHeader(b, ph);
        expect(r).toEqual({ ok: true, value: msg });
        if (!r.ok) return;
        expect(emitMobilityHeader(r.value, ph)).toEqual(b);
        checkMhLayout(b, msg);
      }),
      rt,
    );
  });

  it.each(A.MOBILITY_OPTION_KINDS)('option %s: round trip inside every known message type', (kind) => {
    const withOpt = A.mobilityMessageByKind(A.mobilityOptionsWith(kind));
    const known = A.MOBILITY_MESSAGE_KINDS.filter((k) => k !== 'unknown').map(
      (k) => withOpt[k] as fc.Arbitrary<MobilityMessage>,
    );
    fc.assert(
      fc.property(fc.oneof(...known), A.ipv6PseudoHeader, (msg, ph) => {
        const b = emitMobilityHeader(msg, ph);
        expect(parseMobilityHeader(b, ph)).toEqual({ ok: true, value: msg });
        checkMhLayout(b, msg);
        // The options alone, from the end of the fixed part.
        if (msg.kind !== 'unknown') {
          expect(parseMobilityOptions(b, MH_FIXED[b[2] as 0], b.length)).toEqual({
            ok: true,
            value: msg.options,
          });
        }
      }),
      rt,
    );
  });

  it('regression: a Binding Authorization Data option off 8n+2 is refused (emit could not re-encode it)', () => {
    // BU (12-byte fixed part), then BAD at offset 12 with a 10-byte authenticator, ending the MH at 24.
    const ph = { src: new Uint8Array(16), dst: new Uint8Array(16) };
    const b = Uint8Array.of(
      59,
      2,
      5,
      0,
      0,
      0,
      0,
      1,
      0x80,
      0,
      0,
      1,
      5,
      10,
      ...new Array<number>(10).fill(0xaa),
    );
    const sum = mobilityChecksum(b, ph);
    b[4] = sum >> 8;
    b[5] = sum & 0xff;
    const r = parseMobilityHeader(b, ph);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toMatchObject({ code: 'misaligned', field: 'bindingAuthorizationData', offset: 12 });
  });

  it('any single corrupted byte is detected (checksum, length or value)', () => {
    fc.assert(
      fc.property(
        A.mobilityMessage,
        A.ipv6PseudoHeader,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (msg, ph, at, x) => {
          const b = emitMobilityHeader(msg, ph);
          const i = at % b.length;
          fc.pre(i !== 4 && i !== 5 && i !== 3);
          b[i]! ^= x;
          expect(parseMobilityHeader(b, ph).ok).toBe(false);
        },
      ),
      rt,
    );
  });
});

describe('IP and UDP round trips', () => {
  it('IPv4: parse(emit(f, p)) = f + p and emit(parse(b)) = b', () => {
    fc.assert(
      fc.property(A.ipv4Fields, A.payload(), (fields, payload) => {
        const b = emitIpv4(fields, payload);
        const r = parseIpv4(b);
        expect(r).toEqual({ ok: true, value: { ...fields, payload } });
        if (!r.ok) return;
        const { payload: p, ...f } = r.value;
        expect(emitIpv4(f, p)).toEqual(b);
      }),
      rt,
    );
  });

  it('IPv6 with extension chains: parse(emit(f, p)) = f + p and emit(parse(b)) = b', () => {
    fc.assert(
      fc.property(A.ipv6Fields, A.payload(), (fields, payload) => {
        const b = emitIpv6(fields, payload);
        const r = parseIpv6(b);
        expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
        if (!r.ok) return;
        const { payloadOffset, payload: p, ...f } = r.value;
        expect(f).toEqual(fields);
        expect(p).toEqual(payload);
        expect(payloadOffset).toBe(b.length - payload.length);
        expect(emitIpv6(f, p)).toEqual(b);
      }),
      rt,
    );
  });

  it.each([
    ['IPv4', A.ipv4PseudoHeader],
    ['IPv6', A.ipv6PseudoHeader],
  ] as const)('UDP over an %s pseudo-header', (_, phArb) => {
    fc.assert(
      fc.property(A.udpPorts, A.payload(), phArb, (ports, payload, ph) => {
        const b = emitUdp(ports, payload, ph);
        const r = parseUdp(b, ph);
        expect(r).toEqual({ ok: true, value: { ...ports, payload } });
        expect(b[6]! | b[7]!).not.toBe(0);
        if (r.ok) expect(emitUdp(r.value, r.value.payload, ph)).toEqual(b);
      }),
      rt,
    );
  });
});

describe('signalling packets (IPv6 [+ RH2] [+ HAO] + MH)', () => {
  it('parseMobilityPacket(emitMobilityPacket(f, m)) gives back f and m', () => {
    fc.assert(
      fc.property(A.mobilityPacketFields, A.mobilityMessage, (f, msg) => {
        const b = emitMobilityPacket(f, msg);
        const r = parseMobilityPacket(b);
        expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
        if (!r.ok) return;
        const { ipv6, message } = r.value;
        expect(message).toEqual(msg);
        expect(ipv6.src).toBe(f.src);
        expect(ipv6.dst).toBe(f.dst);
        expect(ipv6.hopLimit).toBe(f.hopLimit ?? 64);
        expect(ipv6.protocol).toBe(IpProto.Mobility);
        expect(homeAddressOption(ipv6)).toBe(f.homeAddress);
        expect(routingHomeAddress(ipv6)).toBe(f.routingHomeAddress);
        // RFC 8200 §4.1 order: Routing before Destination Options.
        expect(ipv6.extensions.map((e) => e.kind)).toEqual([
          ...(f.routingHomeAddress ? ['routingType2'] : []),
          ...(f.homeAddress ? ['destinationOptions'] : []),
        ]);
        const again = emitMobilityPacket(
          {
            src: ipv6.src,
            dst: ipv6.dst,
            hopLimit: ipv6.hopLimit,
            homeAddress: homeAddressOption(ipv6),
            routingHomeAddress: routingHomeAddress(ipv6),
          },
          message,
        );
        expect(again).toEqual(b);
        const d = dissect(b);
        expect(d.error).toBeUndefined();
        expect(d.layers.map((l) => l.layer)).toEqual(['ipv6', 'mh']);
      }),
      rt,
    );
  });
});

describe('tunnels (RFC 5555 §4.1)', () => {
  const forms = [
    ['IPv6-in-IPv6', A.outerV6(false), A.ipv6Packet, 6, false],
    ['IPv4-in-IPv6', A.outerV6(false), A.ipv4Packet, 4, false],
    ['IPv6-in-IPv4', A.outerV4(false), A.ipv6Packet, 6, false],
    ['IPv4-in-IPv4', A.outerV4(false), A.ipv4Packet, 4, false],
    ['UDP over IPv4, inner IPv4', A.outerV4(true), A.ipv4Packet, 4, true],
    ['UDP over IPv4, inner IPv6', A.outerV4(true), A.ipv6Packet, 6, true],
    ['UDP over IPv6, inner IPv4', A.outerV6(true), A.ipv4Packet, 4, true],
    ['UDP over IPv6, inner IPv6', A.outerV6(true), A.ipv6Packet, 6, true],
  ] as const;

  it.each(forms)(
    '%s: decapsulate(encapsulate(o, i)) gives i back, DSCP/ECN copied',
    (_, outerArb, innerArb, v, udp) => {
      fc.assert(
        fc.property(outerArb as fc.Arbitrary<OuterHeader>, innerArb, (outer, inner) => {
          const b = encapsulate(outer, inner);
          const r = decapsulate(b);
          expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
          if (!r.ok) return;
          const t = r.value;
          expect(t.encapsulation).toBe(udp ? 'udp' : 'ip-in-ip');
          expect(t.innerVersion).toBe(v);
          expect(t.inner).toEqual(inner);
          expect(b.subarray(t.innerOffset)).toEqual(inner);
          expect(t.outer.src).toBe(outer.src);
          expect(t.outer.dst).toBe(outer.dst);
          const tc = trafficClass(inner);
          expect(t.outer.dscp).toBe(tc.dscp);
          expect(t.outer.ecn).toBe(tc.ecn);
          const proto = udp ? IpProto.UDP : v === 4 ? IpProto.IPv4 : IpProto.IPv6;
          expect(t.outer.protocol).toBe(proto);
          if (outer.family === 4) {
            expect(b[0]! >> 4).toBe(4);
            expect('ttl' in t.outer && t.outer.ttl).toBe(outer.ttl ?? 64);
          } else {
            expect(b[0]! >> 4).toBe(6);
            expect('hopLimit' in t.outer && t.outer.hopLimit).toBe(outer.hopLimit ?? 64);
          }
          expect(t.udp).toEqual(outer.udp);
          // Byte-level idempotence: the parsed outer header re-encapsulates to the same bytes.
          const again: OuterHeader =
            t.outer.src.includes(':') && 'hopLimit' in t.outer
              ? { family: 6, src: t.outer.src, dst: t.outer.dst, hopLimit: t.outer.hopLimit, udp: t.udp }
              : 'ttl' in t.outer
                ? { family: 4, src: t.outer.src, dst: t.outer.dst, ttl: t.outer.ttl, udp: t.udp }
                : outer;
          expect(encapsulate(again, t.inner)).toEqual(b);
          // The UDP checksum covers the outer addresses.
          if (udp) expect(parseUdp(b.subarray(t.innerOffset - 8), ipBytesOf(outer)).ok).toBe(true);
          const d = dissect(b);
          const layers = d.layers.map((l) => l.layer);
          expect(layers.slice(0, udp ? 3 : 2)).toEqual([
            outer.family === 4 ? 'ipv4' : 'ipv6',
            ...(udp ? ['udp'] : []),
            v === 4 ? 'ipv4' : 'ipv6',
          ]);
        }),
        rt,
      );
    },
  );

  it('signalling over UDP over IPv4 (the DSMIPv6 NAT case) dissects to ipv4 | udp | ipv6 | mh', () => {
    fc.assert(
      fc.property(A.outerV4(true), A.mobilityPacketFields, A.mobilityMessage, (outer, f, msg) => {
        const inner = emitMobilityPacket(f, msg);
        const d = dissect(encapsulate(outer, inner));
        expect(d.error).toBeUndefined();
        expect(d.layers.map((l) => l.layer)).toEqual(['ipv4', 'udp', 'ipv6', 'mh']);
        const mh = d.layers[3];
        expect(mh?.layer === 'mh' && mh.message).toEqual(msg);
      }),
      rt,
    );
  });
});

describe('ESP framing (RFC 4303 §2)', () => {
  it('parseEsp(emitEsp(p), icv length) = p and emit(parse(b)) = b', () => {
    fc.assert(
      fc.property(A.espPacket, (p: EspPacket) => {
        const b = emitEsp(p);
        const r = parseEsp(b, p.icv.length);
        expect(r).toEqual({ ok: true, value: p });
        if (r.ok) expect(emitEsp(r.value)).toEqual(b);
      }),
      rt,
    );
  });

  it('appendEspTrailer: whole units of max(4, block), padding 1, 2, 3, ..., and parseEspTrailer inverts it', () => {
    fc.assert(
      fc.property(A.espTrailerInput, ({ payload, nextHeader, blockSize }) => {
        const b = appendEspTrailer(payload, nextHeader, blockSize);
        const unit = Math.max(4, blockSize);
        expect(b.length % unit).toBe(0);
        const padLength = b[b.length - 2]!;
        expect(padLength).toBeLessThan(unit);
        expect(b.length).toBe(payload.length + padLength + 2);
        expect(b[b.length - 1]).toBe(nextHeader);
        expect(b.subarray(0, payload.length)).toEqual(payload);
        expect(Array.from(b.subarray(payload.length, payload.length + padLength))).toEqual(
          Array.from({ length: padLength }, (_, i) => i + 1),
        );
        const r = parseEspTrailer(b);
        expect(r).toEqual({ ok: true, value: { payload, nextHeader, padLength } });
        if (r.ok) expect(appendEspTrailer(r.value.payload, r.value.nextHeader, blockSize)).toEqual(b);
      }),
      rt,
    );
  });
});

describe('pcap', () => {
  it('parsePcap(emitPcap(records)) gives the records back; emitPcap(parse(b)) = b', () => {
    fc.assert(
      fc.property(A.pcapRecords, (records) => {
        const b = emitPcap(records);
        const r = parsePcap(b);
        expect(r).toEqual({
          ok: true,
          value: {
            linkType: LINKTYPE_RAW,
            snaplen: PCAP_SNAPLEN,
            records: records.map((x) => ({ ...x, originalLength: x.data.length })),
          },
        });
        if (r.ok) expect(emitPcap(r.value.records)).toEqual(b);
      }),
      rt,
    );
  });
});

// =============================================================================================
// (2) Totality

const CODES: Record<WireErrorCode, true> = {
  truncated: true,
  'length-mismatch': true,
  'bad-checksum': true,
  'bad-value': true,
  misaligned: true,
  overrun: true,
  unsupported: true,
};

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}
type Rng = () => number;
const below = (rng: Rng, n: number): number => (n <= 0 ? 0 : rng() % n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[below(rng, xs.length)]!;

const INTERESTING_LENGTHS = [
  0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 15, 16, 17, 19, 20, 21, 23, 24, 25, 27, 28, 32, 36, 39, 40, 41, 47, 48,
  49, 56, 60, 63, 64, 72, 80, 88, 96, 104, 128, 200,
];
const INTERESTING_BYTES = [0, 1, 2, 3, 4, 5, 6, 0x3b, 0x40, 0x45, 0x60, 0x7f, 0x80, 0x87, 0xc9, 0xfe, 0xff];

function randomBytes(rng: Rng, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const r = rng();
    b[i] = r;
    if (i + 1 < length) b[i + 1] = r >>> 8;
    if (i + 2 < length) b[i + 2] = r >>> 16;
    if (i + 3 < length) b[i + 3] = r >>> 24;
  }
  return b;
}

const randomLength = (rng: Rng): number =>
  below(rng, 3) === 0 ? pick(rng, INTERESTING_LENGTHS) : below(rng, 201);

/** A length/type field of a sample: [offset, size in bytes]. */
type Field = readonly [number, 1 | 2 | 4];

interface Sample {
  readonly bytes: Uint8Array;
  readonly ph?: PseudoHeader;
  /** Where the options start (parseMobilityOptions). */
  readonly start?: number;
  readonly fields: readonly Field[];
}

function writeField(b: Uint8Array, [off, size]: Field, v: number): void {
  for (let i = size - 1, x = v; i >= 0; i--, x = Math.floor(x / 256))
    if (off + i < b.length) b[off + i] = x & 0xff;
}
function readField(b: Uint8Array, [off, size]: Field): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + (b[off + i] ?? 0);
  return v;
}

function mutate(base: Sample, rng: Rng): Uint8Array {
  let b = base.bytes.slice();
  const n = 1 + below(rng, 4);
  for (let k = 0; k < n; k++) {
    switch (below(rng, 9)) {
      case 0:
        if (b.length) b[below(rng, b.length)]! ^= 1 << below(rng, 8);
        break;
      case 1:
        if (b.length) b[below(rng, b.length)] = rng() & 0xff;
        break;
      case 2:
        if (b.length) b[below(rng, b.length)] = pick(rng, INTERESTING_BYTES);
        break;
      case 3:
        b = b.slice(0, below(rng, b.length + 1));
        break;
      case 4: {
        const ext = new Uint8Array(b.length + 1 + below(rng, 16));
        ext.set(b);
        ext.set(randomBytes(rng, ext.length - b.length), b.length);
        b = ext;
        break;
      }
      case 5:
      case 6: {
        if (base.fields.length === 0) break;
        const f = pick(rng, base.fields);
        const cur = readField(b, f);
        const max = 2 ** (8 * f[1]) - 1;
        const choices = [0, 1, max, cur + 1, cur - 1, cur + 8, cur - 8, cur ^ 0x80, rng() % (max + 1)];
        writeField(b, f, Math.min(max, Math.max(0, pick(rng, choices))));
        break;
      }
      case 7: {
        // Insert or delete a chunk.
        const at = below(rng, b.length + 1);
        const len = 1 + below(rng, 8);
        if (rng() & 1) {
          const out = new Uint8Array(b.length + len);
          out.set(b.subarray(0, at));
          out.set(randomBytes(rng, len), at);
          out.set(b.subarray(at), at + len);
          b = out;
        } else {
          const out = new Uint8Array(Math.max(0, b.length - len));
          const cut = Math.min(at, out.length);
          out.set(b.subarray(0, cut));
          out.set(b.subarray(cut + len), cut);
          b = out;
        }
        break;
      }
      case 8: {
        if (!b.length) break;
        const at = below(rng, b.length);
        b.set(randomBytes(rng, Math.min(b.length - at, 1 + below(rng, 8))), at);
        break;
      }
    }
  }
  return b;
}

// ---- Fix-ups: recompute lengths and checksums so mutations reach the layers behind them.

function fixIpv4Header(b: Uint8Array): number | undefined {
  if (b.length < 20 || b.length > 0xffff) return undefined;
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  let ihl = b[0]! & 0x0f;
  if (ihl < 5 || ihl * 4 > b.length) {
    b[0] = 0x45;
    ihl = 5;
  }
  b[10] = 0;
  b[11] = 0;
  const s = finish(sumWords(b, 0, ihl * 4));
  b[10] = s >> 8;
  b[11] = s & 0xff;
  return ihl * 4;
}

function fixUdp(b: Uint8Array, ph: PseudoHeader): void {
  if (b.length < 8 || b.length > 0xffff) return;
  b[4] = b.length >> 8;
  b[5] = b.length & 0xff;
  b[6] = 0;
  b[7] = 0;
  let s = finish(sumWords(b, 0, b.length, pseudoSum(ph, b.length, IpProto.UDP)));
  if (s === 0) s = 0xffff;
  b[6] = s >> 8;
  b[7] = s & 0xff;
}

function fixMh(b: Uint8Array, ph: PseudoHeader): void {
  if (b.length < 8 || b.length % 8 !== 0 || b.length > 2048) return;
  b[1] = b.length / 8 - 1;
  const s = mobilityChecksum(b, ph);
  b[4] = s >> 8;
  b[5] = s & 0xff;
}

/** Recomputes lengths and checksums of an IP packet, inside out through tunnels, UDP and MH. */
function fixPacket(b: Uint8Array, depth = 0): void {
  if (depth > 4 || b.length === 0) return;
  const version = b[0]! >> 4;
  let proto: number;
  let payload: Uint8Array;
  let ph: PseudoHeader;
  let mhPh: PseudoHeader | undefined;
  if (version === 4) {
    const hl = fixIpv4Header(b);
    if (hl === undefined) return;
    proto = b[9]!;
    payload = b.subarray(hl);
    ph = { src: b.subarray(12, 16), dst: b.subarray(16, 20) };
  } else if (version === 6) {
    if (b.length < 40 || b.length - 40 > 0xffff) return;
    b[4] = (b.length - 40) >> 8;
    b[5] = (b.length - 40) & 0xff;
    const p = parseIpv6(b);
    if (!p.ok) return;
    proto = p.value.protocol;
    payload = b.subarray(p.value.payloadOffset);
    ph = { src: b.subarray(8, 24), dst: b.subarray(24, 40) };
    mhPh = upperLayerPseudoHeader(p.value);
  } else {
    return;
  }
  if (proto === IpProto.IPv4 || proto === IpProto.IPv6) fixPacket(payload, depth + 1);
  else if (proto === IpProto.UDP && payload.length >= 8) {
    fixPacket(payload.subarray(8), depth + 1);
    fixUdp(payload, ph);
  } else if (proto === IpProto.Mobility && mhPh) fixMh(payload, mhPh);
}

// ---- Length/type fields of valid samples, for targeted overwrites.

function mhFields(b: Uint8Array, base: number, out: Field[]): void {
  out.push([base + 1, 1], [base + 2, 1]);
  const t = b[base + 2]!;
  let off = base + (t < 8 ? MH_FIXED[t as 0] : b.length - base);
  while (off < b.length) {
    if (b[off] === 0) {
      off++;
      continue;
    }
    out.push([off, 1], [off + 1, 1]);
    off += 2 + (b[off + 1] ?? 0);
  }
}

function packetFields(b: Uint8Array, base: number, out: Field[], depth = 0): void {
  if (depth > 4 || base >= b.length) return;
  const v = b[base]! >> 4;
  let proto: number;
  let off: number;
  if (v === 4) {
    out.push([base, 1], [base + 2, 2], [base + 9, 1]);
    proto = b[base + 9]!;
    off = base + (b[base]! & 0x0f) * 4;
  } else if (v === 6) {
    out.push([base, 1], [base + 4, 2], [base + 6, 1]);
    proto = b[base + 6]!;
    off = base + 40;
    while (isWalkedExtension(proto) && off + 8 <= b.length) {
      out.push([off, 1], [off + 1, 1]);
      if (proto === IpProto.Routing) out.push([off + 2, 1], [off + 3, 1]);
      else {
        const end = off + (b[off + 1]! + 1) * 8;
        for (let o = off + 2; o < end && o + 1 < b.length; ) {
          if (b[o] === 0) {
            o++;
            continue;
          }
          out.push([o, 1], [o + 1, 1]);
          o += 2 + b[o + 1]!;
        }
      }
      proto = b[off]!;
      off += (b[off + 1]! + 1) * 8;
    }
  } else return;
  if (proto === IpProto.IPv4 || proto === IpProto.IPv6) packetFields(b, off, out, depth + 1);
  else if (proto === IpProto.UDP) {
    out.push([off + 4, 2], [off + 6, 2]);
    packetFields(b, off + 8, out, depth + 1);
  } else if (proto === IpProto.Mobility && v === 6) mhFields(b, off, out);
}

const ipSample = (bytes: Uint8Array): Sample => {
  const fields: Field[] = [];
  packetFields(bytes, 0, fields);
  return { bytes, fields };
};

// ---- Result checks (plain throws: they run over a million times).

function fail(msg: string): never {
  throw new Error(msg);
}

function checkWireError(e: unknown, length: number, where: string): void {
  if (typeof e !== 'object' || e === null) fail(`${where}: error is not an object`);
  const x = e as Record<string, unknown>;
  if (typeof x.offset !== 'number' || !Number.isInteger(x.offset) || x.offset < 0 || x.offset > length) {
    fail(`${where}: error offset ${String(x.offset)} outside [0, ${length}] (${String(x.message)})`);
  }
  if (typeof x.field !== 'string' || x.field === '') fail(`${where}: empty error field`);
  if (typeof x.code !== 'string' || !(x.code in CODES)) fail(`${where}: error code ${String(x.code)}`);
  if (typeof x.message !== 'string' || x.message === '') fail(`${where}: no error message`);
  if (typeof x.layer !== 'string' || x.layer === '') fail(`${where}: no error layer`);
  if (x.message.includes('undefined') || x.message.includes('NaN')) fail(`${where}: message ${x.message}`);
}

/** Every decoded value is defined: no undefined property, NaN or "undefined" text (an OOB read). */
function checkDefined(v: unknown, path: string): void {
  if (v === undefined) fail(`${path} is undefined`);
  if (typeof v === 'number') {
    if (Number.isNaN(v)) fail(`${path} is NaN`);
    return;
  }
  if (typeof v === 'string') {
    if (v.includes('undefined') || v.includes('NaN')) fail(`${path} is ${v}`);
    return;
  }
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkDefined(v[i], `${path}[${i}]`);
    return;
  }
  for (const [k, x] of Object.entries(v)) checkDefined(x, `${path}.${k}`);
}

function checkParsed(r: Parsed<unknown>, length: number, where: string): void {
  if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') fail(`${where}: not a Parsed`);
  note(r);
  if (r.ok) checkDefined(r.value, `${where}: value`);
  else checkWireError(r.error, length, where);
}

/** Structural equality for records (typed arrays by content); fast enough for the fuzz loops. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => k in rb && same(ra[k], rb[k]));
}

function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (!same(actual, expected)) expect(actual, what).toEqual(expected); // for the diff
  if (!same(actual, expected)) fail(`${what}: records differ`);
}

/** A view of `b` whose every index access outside [0, length) throws. */
function guarded(b: Uint8Array): Uint8Array {
  return new Proxy(b, {
    get(target, p) {
      if (typeof p === 'string') {
        const c = p.charCodeAt(0);
        if ((c >= 48 && c <= 57) || c === 45 || p === 'NaN' || p === 'Infinity') {
          const i = Number(p);
          if (!(Number.isInteger(i) && i >= 0 && i < target.length)) {
            throw new RangeError(`out-of-bounds read [${p}] of a ${target.length}-byte buffer`);
          }
          return target[i];
        }
      }
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const randomPh = (rng: Rng, family: 4 | 6): PseudoHeader => {
  const n = family === 4 ? 4 : 16;
  return { src: randomBytes(rng, n), dst: randomBytes(rng, n) };
};

interface FuzzInput {
  readonly bytes: Uint8Array;
  readonly sample?: Sample;
  readonly rng: Rng;
}

interface Target {
  readonly name: string;
  readonly pool: readonly Sample[];
  /** Recompute lengths/checksums after mutation (applied to 3/4 of mutated inputs, 1/2 of random). */
  readonly fix?: (b: Uint8Array, s: Sample | undefined) => void;
  /** Optional structure to put on purely random bytes (a magic number, a version nibble). */
  readonly shape?: (b: Uint8Array, rng: Rng) => void;
  /** Calls the parser on `input` (possibly the guarded view) and checks the result. */
  readonly run: (input: Uint8Array, f: FuzzInput) => void;
}

const sampleOf = <T>(arb: fc.Arbitrary<T>, n = 300): T[] => fc.sample(arb, { numRuns: n, seed: SEED });

/** What the last parser call returned ('ok' or an error code), for the coverage summary. */
let outcome = 'ok';
const note = (r: { ok: boolean; error?: { code: string } }): void => {
  outcome = r.ok ? 'ok' : (r.error?.code ?? '?');
};

function fuzz(t: Target): Map<string, number> {
  const stats = new Map<string, number>();
  fc.assert(
    fc.property(fc.noShrink(fc.integer()), (key) => {
      const rng = prng(key ^ 0x2545f491);
      let bytes: Uint8Array;
      let sample: Sample | undefined;
      const mode = below(rng, 10);
      if (mode < 3 || t.pool.length === 0) {
        bytes = randomBytes(rng, randomLength(rng));
        if (t.shape && rng() & 1) t.shape(bytes, rng);
        if (t.fix && rng() & 1) t.fix(bytes, undefined);
      } else {
        sample = pick(rng, t.pool);
        bytes = mutate(sample, rng);
        if (t.fix && below(rng, 4) !== 0) t.fix(bytes, sample);
      }
      const input = below(rng, 4) === 0 ? guarded(bytes) : bytes;
      try {
        outcome = 'ok';
        t.run(input, { bytes, sample, rng });
        stats.set(outcome, (stats.get(outcome) ?? 0) + 1);
      } catch (e) {
        const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
        throw new Error(`${t.name} on input ${hex(bytes)} (key ${key}): ${msg}`);
      }
    }),
    { numRuns: FUZZ_RUNS, seed: SEED },
  );
  return stats;
}

/** Mutated MH that parses must re-emit and re-parse to the same record (over the same ph). */
function checkMhReemit(msg: MobilityMessage, ph: PseudoHeader): void {
  const again = emitMobilityHeader(msg, ph);
  const r = parseMobilityHeader(again, ph);
  expectSame(r, { ok: true, value: msg }, 'MH parse(emit(parse(x)))');
}

// ---- Pools of valid packets.

const ipv4Pool = () => sampleOf(A.ipv4Packet).map(ipSample);
const ipv6Pool = () => sampleOf(A.ipv6Packet).map(ipSample);
const signallingPool = () =>
  sampleOf(fc.tuple(A.mobilityPacketFields, A.mobilityMessage)).map(([f, m]) =>
    ipSample(emitMobilityPacket(f, m)),
  );
const tunnelPool = () =>
  sampleOf(
    fc.tuple(
      A.outerHeader,
      fc.oneof(
        A.ipv4Packet,
        A.ipv6Packet,
        fc.tuple(A.mobilityPacketFields, A.mobilityMessage).map(([f, m]) => emitMobilityPacket(f, m)),
      ),
    ),
    400,
  ).map(([o, i]) => ipSample(encapsulate(o, i)));

const udpPool = (phArb: fc.Arbitrary<PseudoHeader>): Sample[] =>
  sampleOf(fc.tuple(A.udpPorts, A.payload(), phArb)).map(([ports, payload, ph]) => ({
    bytes: emitUdp(ports, payload, ph),
    ph,
    fields: [
      [4, 2],
      [6, 2],
    ],
  }));

const mhPool = (): Sample[] =>
  sampleOf(fc.tuple(A.mobilityMessage, A.ipv6PseudoHeader), 600).map(([m, ph]) => {
    const bytes = emitMobilityHeader(m, ph);
    const fields: Field[] = [];
    mhFields(bytes, 0, fields);
    return { bytes, ph, start: m.kind === 'unknown' ? bytes.length : MH_FIXED[bytes[2] as 0], fields };
  });

const phOf = (f: FuzzInput, family: 4 | 6): PseudoHeader => f.sample?.ph ?? randomPh(f.rng, family);

const versionShape =
  (...versions: number[]) =>
  (b: Uint8Array, rng: Rng): void => {
    if (b.length) b[0] = (pick(rng, versions) << 4) | (b[0]! & 0x0f);
  };

const checkIpv6Reparse = (r: ReturnType<typeof parseIpv6>): void => {
  if (!r.ok) return;
  const { payload, payloadOffset: _, ...fields } = r.value;
  const again = parseIpv6(emitIpv6(fields, payload));
  if (!again.ok) fail(`IPv6 re-emission does not parse: ${again.error.message}`);
  const { payloadOffset: __, ...rest } = again.value;
  expectSame(rest, { ...fields, payload }, 'IPv6 parse(emit(parse(x)))');
};

describe(`totality: ${FUZZ_RUNS} random and mutated inputs per parser (seed ${SEED})`, () => {
  const pcapShape = (b: Uint8Array, rng: Rng): void => {
    if (b.length < 4) return;
    const magic = pick(rng, [0xa1b2c3d4, 0xa1b23c4d]);
    new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(0, magic, (rng() & 1) === 1);
  };

  const targets: Target[] = [
    {
      name: 'parseIpv4',
      pool: [...ipv4Pool(), ...tunnelPool().filter((s) => s.bytes[0]! >> 4 === 4)],
      fix: (b) => void fixIpv4Header(b),
      shape: versionShape(4),
      run: (input) => {
        const r = parseIpv4(input);
        checkParsed(r, input.length, 'parseIpv4');
        if (r.ok) {
          const { payload, ...f } = r.value;
          expectSame(parseIpv4(emitIpv4(f, payload)), r, 'IPv4 parse(emit(parse(x)))');
        }
      },
    },
    {
      name: 'parseIpv6',
      pool: [...ipv6Pool(), ...signallingPool()],
      fix: (b) => fixPacket(b),
      shape: versionShape(6),
      run: (input) => {
        const r = parseIpv6(input);
        checkParsed(r, input.length, 'parseIpv6');
        checkIpv6Reparse(r);
      },
    },
    {
      // parseExtension, reached through parseIpv6: long chains, payload length always fixed up.
      name: 'parseIpv6 (extension chains)',
      pool: sampleOf(
        fc.record({
          f: A.ipv6Fields,
          extra: fc.array(fc.oneof(A.destinationOptions, A.routingType2, A.genericRouting), {
            minLength: 1,
            maxLength: 4,
          }),
        }),
      ).map(({ f, extra }) =>
        ipSample(emitIpv6({ ...f, extensions: [...f.extensions, ...extra] }, new Uint8Array(0))),
      ),
      fix: (b) => {
        if (b.length >= 40 && b.length - 40 <= 0xffff) {
          b[4] = (b.length - 40) >> 8;
          b[5] = (b.length - 40) & 0xff;
        }
      },
      shape: (b, rng) => {
        if (b.length < 41) return;
        b[0] = 0x60;
        b[6] = pick(rng, [0, 43, 60]);
      },
      run: (input) => {
        const r = parseIpv6(input);
        checkParsed(r, input.length, 'parseIpv6');
        checkIpv6Reparse(r);
      },
    },
    {
      name: 'parseUdp over IPv4',
      pool: udpPool(A.ipv4PseudoHeader),
      fix: (b, s) => fixUdp(b, s?.ph ?? { src: new Uint8Array(4), dst: new Uint8Array(4) }),
      run: (input, f) => checkParsed(parseUdp(input, phOf(f, 4)), input.length, 'parseUdp/4'),
    },
    {
      name: 'parseUdp over IPv6',
      pool: udpPool(A.ipv6PseudoHeader),
      fix: (b, s) => fixUdp(b, s?.ph ?? { src: new Uint8Array(16), dst: new Uint8Array(16) }),
      run: (input, f) => {
        // Random inputs get an all-zero pseudo-header so the fix-up's checksum holds.
        const ph = f.sample?.ph ?? { src: new Uint8Array(16), dst: new Uint8Array(16) };
        checkParsed(parseUdp(input, ph), input.length, 'parseUdp/6');
      },
    },
    {
      name: 'parseMobilityHeader',
      pool: mhPool(),
      fix: (b, s) => fixMh(b, s?.ph ?? { src: new Uint8Array(16), dst: new Uint8Array(16) }),
      shape: (b) => {
        if (b.length >= 8) b[0] = IpProto.NoNextHeader;
      },
      run: (input, f) => {
        const ph = f.sample?.ph ?? { src: new Uint8Array(16), dst: new Uint8Array(16) };
        const r = parseMobilityHeader(input, ph);
        checkParsed(r, input.length, 'parseMobilityHeader');
        if (r.ok) checkMhReemit(r.value, ph);
      },
    },
    {
      name: 'parseMobilityOptions',
      pool: mhPool(),
      run: (input, f) => {
        let start: number;
        let end = input.length;
        if (f.sample?.start !== undefined) start = Math.min(f.sample.start, end);
        else {
          start = below(f.rng, end + 1);
          end = start + below(f.rng, end - start + 1);
        }
        const r = parseMobilityOptions(input, start, end);
        checkParsed(r, input.length, 'parseMobilityOptions');
      },
    },
    {
      name: 'parseMobilityPacket',
      pool: signallingPool(),
      fix: (b) => fixPacket(b),
      shape: (b) => {
        if (b.length < 41) return;
        b[0] = 0x60;
        b[6] = IpProto.Mobility;
        b[40] = IpProto.NoNextHeader;
      },
      run: (input) => {
        const r = parseMobilityPacket(input);
        checkParsed(r, input.length, 'parseMobilityPacket');
        if (r.ok) checkMhReemit(r.value.message, upperLayerPseudoHeader(r.value.ipv6));
      },
    },
    {
      name: 'parseEsp',
      pool: sampleOf(A.espPacket).map((p) => ({
        bytes: emitEsp(p),
        fields: [
          [0, 4],
          [4, 4],
        ],
      })),
      run: (input, f) => {
        const icv = pick(f.rng, [0, 8, 12, 16, below(f.rng, 48)]);
        checkParsed(parseEsp(input, icv), input.length, 'parseEsp');
      },
    },
    {
      name: 'parseEspTrailer',
      pool: sampleOf(A.espTrailerInput).map(({ payload, nextHeader, blockSize }) => {
        const bytes = appendEspTrailer(payload, nextHeader, blockSize);
        return { bytes, fields: [[bytes.length - 2, 1]] };
      }),
      run: (input) => checkParsed(parseEspTrailer(input), input.length, 'parseEspTrailer'),
    },
    {
      name: 'decapsulate',
      pool: tunnelPool(),
      fix: (b) => fixPacket(b),
      shape: versionShape(4, 6),
      run: (input, f) => {
        const port = below(f.rng, 8) === 0 ? f.rng() & 0xffff : DSMIPV6_UDP_PORT;
        const r = decapsulate(input, port);
        checkParsed(r, input.length, 'decapsulate');
        if (r.ok) {
          const { inner, innerOffset } = r.value;
          if (innerOffset + inner.length !== input.length) fail('inner does not end the packet');
          if (inner[0]! >> 4 !== r.value.innerVersion) fail('innerVersion disagrees with the inner bytes');
        }
      },
    },
    {
      name: 'dissect',
      pool: [...tunnelPool(), ...signallingPool(), ...ipv4Pool(), ...ipv6Pool()],
      fix: (b) => fixPacket(b),
      shape: versionShape(4, 6),
      run: (input) => {
        const d = dissect(input);
        if (typeof d !== 'object' || d === null || !Array.isArray(d.layers))
          fail('dissect: not a Dissection');
        checkDefined(d.layers, 'dissect: layers');
        if ('error' in d) checkWireError(d.error, input.length, 'dissect');
        note(d.error ? { ok: false, error: d.error } : { ok: true });
      },
    },
    {
      name: 'parsePcap',
      pool: sampleOf(A.pcapRecords).map((records) => {
        const bytes = emitPcap(records);
        const fields: Field[] = [
          [0, 4],
          [16, 4],
          [20, 4],
        ];
        const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let off = 24; off + 16 <= bytes.length; off += 16 + v.getUint32(off + 8, true)) {
          fields.push([off + 8, 4], [off + 12, 4]);
        }
        return { bytes, fields };
      }),
      shape: pcapShape,
      run: (input) => checkParsed(parsePcap(input), input.length, 'parsePcap'),
    },
  ];

  it('harness self-check: the guard throws on out-of-bounds reads and passes everything else', () => {
    const g = guarded(Uint8Array.of(1, 2, 3));
    expect(g[2]).toBe(3);
    expect(g.length).toBe(3);
    expect(g.subarray(1)).toEqual(Uint8Array.of(2, 3));
    expect(() => g[3]).toThrow(RangeError);
    expect(() => g[-1]).toThrow(RangeError);
    expect(parseEspTrailer(guarded(Uint8Array.of(7, 1, 1, 4)))).toEqual({
      ok: true,
      value: { payload: Uint8Array.of(7), nextHeader: 4, padLength: 1 },
    });
    expect(() => checkDefined({ a: [1, { b: undefined }] }, 'v')).toThrow(/v\.a\[1\]\.b is undefined/);
    expect(() => checkDefined({ s: 'undefined.1.2.3' }, 'v')).toThrow();
  });

  it.each(targets.map((t) => [t.name, t] as const))('%s', (_, t) => {
    const started = performance.now();
    const stats = fuzz(t);
    const ms = performance.now() - started;
    // Printed so the time budget and how deep the inputs reach stay visible.
    const outcomes = [...stats].map(([k, n]) => `${k} ${n}`).join(', ');
    console.info(`[fuzz] ${t.name}: ${FUZZ_RUNS} inputs in ${ms.toFixed(0)} ms (${outcomes})`);
    expect(stats.get('ok') ?? 0, 'some mutated inputs must still parse').toBeGreaterThan(0);
  });
});
