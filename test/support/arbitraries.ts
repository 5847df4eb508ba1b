/**
 * fast-check arbitraries for every record type of src/wire. Addresses are generated as bytes and
 * formatted by the codec's own formatters, so branded values are always valid and canonical; zero
 * runs are frequent so RFC 5952 "::" compression (and the IPv4-mapped form) is exercised.
 * Everything stays small enough that a Mobility Header is well under 2048 bytes.
 */

import fc from 'fast-check';
import {
  type BaFlags,
  type BuFlags,
  DSMIPV6_UDP_PORT,
  emitIpv4,
  emitIpv6,
  IpProto,
  type Ipv4Address,
  type Ipv4Fields,
  type Ipv6Address,
  type Ipv6Extension,
  type Ipv6Fields,
  type Ipv6Option,
  ipv4FromBytes,
  ipv6FromBytes,
  type MobilityMessage,
  type MobilityMessageKind,
  type MobilityOption,
  type MobilityOptionKind,
  type MobilityPacketFields,
  type OuterHeader,
  type PseudoHeader,
  type UdpPorts,
} from '../../src/wire/index.js';

// ---------------------------------------------------------------------------------------------
// Bytes and numbers

export const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength, maxLength });

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
  fc.tuple(u16, u16).map(([hi, lo]) => hi * 0x10000 + lo),
);

/** Seconds in 4-second units, 0 to 262140 (RFC 6275 §6.1.7), biased to the ends. */
export const lifetimeSeconds: fc.Arbitrary<number> = fc
  .oneof(fc.constantFrom(0, 1, 0xfffe, 0xffff), u16)
  .map((units) => units * 4);

/** A byte string whose length is x*n + y for n in [0, maxN]. */
export const bytesOfShape = (x: number, y: number, maxN: number): fc.Arbitrary<Uint8Array> =>
  fc.integer({ min: 0, max: maxN }).chain((n) => bytes(x * n + y, x * n + y));

// ---------------------------------------------------------------------------------------------
// Addresses

/** 16-bit groups: zero is frequent so runs of zeros (and ties between runs) happen often. */
const group = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(1, 0xffff, 0xfe80, 0x2001, 0xdb8) },
  { weight: 3, arbitrary: u16 },
);

const groupsToBytes = (groups: readonly number[]): Uint8Array => {
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
};

export const ipv6Bytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.array(group, { minLength: 8, maxLength: 8 }).map(groupsToBytes) },
  { weight: 2, arbitrary: bytes(16, 16) },
  // IPv4-mapped (RFC 5952 §5 keeps the dotted quad), the unspecified and loopback addresses.
  {
    weight: 1,
    arbitrary: bytes(4, 4).map((v4) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4)),
  },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(16), Uint8Array.of(...new Array(15).fill(0), 1)) },
);

export const ipv6Address: fc.Arbitrary<Ipv6Address> = ipv6Bytes.map((b) => ipv6FromBytes(b));

export const ipv4Bytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: bytes(4, 4) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(4), Uint8Array.of(255, 255, 255, 255)) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom(0, 1, 10, 127, 192, 255), { minLength: 4, maxLength: 4 })
      .map((a) => Uint8Array.from(a)),
  },
);

export const ipv4Address: fc.Arbitrary<Ipv4Address> = ipv4Bytes.map((b) => ipv4FromBytes(b));

export const ipv4PseudoHeader: fc.Arbitrary<PseudoHeader> = fc.record({ src: ipv4Bytes, dst: ipv4Bytes });
export const ipv6PseudoHeader: fc.Arbitrary<PseudoHeader> = fc.record({ src: ipv6Bytes, dst: ipv6Bytes });

// ---------------------------------------------------------------------------------------------
// Mobility options (RFC 6275 §6.2, RFC 5555 §3.1-§3.2)

/** Option types the codec decodes to a named kind (plus Pad1/PadN); everything else is 'unknown'. */
export const MODELED_OPTION_TYPES: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 29, 30, 31, 32, 33]);

const unknownOptionType = fc.oneof(
  fc.constantFrom(6, 7, 8, 28, 34, 35, 200, 255),
  u8.filter((t) => !MODELED_OPTION_TYPES.has(t)),
);

export const prefixLength = fc.integer({ min: 0, max: 63 });

export const mobilityOptionByKind: {
  readonly [K in MobilityOptionKind]: fc.Arbitrary<Extract<MobilityOption, { kind: K }>>;
} = {
  bindingRefreshAdvice: fc.record({
    kind: fc.constant('bindingRefreshAdvice' as const),
    refreshInterval: lifetimeSeconds,
  }),
  alternateCareOfAddress: fc.record({
    kind: fc.constant('alternateCareOfAddress' as const),
    address: ipv6Address,
  }),
  nonceIndices: fc.record({
    kind: fc.constant('nonceIndices' as const),
    homeNonceIndex: u16,
    careOfNonceIndex: u16,
  }),
  // It ends the MH at 8n+2, so its length is 8n+4 (12 for HMAC-SHA1-96), at most 252.
  bindingAuthorizationData: fc.record({
    kind: fc.constant('bindingAuthorizationData' as const),
    authenticator: fc.oneof(bytes(12, 12), bytesOfShape(8, 4, 31)),
  }),
  ipv4HomeAddress: fc.record({
    kind: fc.constant('ipv4HomeAddress' as const),
    prefixLength,
    p: fc.boolean(),
    address: ipv4Address,
  }),
  ipv4AddressAcknowledgement: fc.record({
    kind: fc.constant('ipv4AddressAcknowledgement' as const),
    status: u8,
    prefixLength,
    address: ipv4Address,
  }),
  natDetection: fc.record({
    kind: fc.constant('natDetection' as const),
    f: fc.boolean(),
    refreshTime: u32,
  }),
  ipv4CareOfAddress: fc.record({
    kind: fc.constant('ipv4CareOfAddress' as const),
    address: ipv4Address,
  }),
  unknown: fc.record({
    kind: fc.constant('unknown' as const),
    optionType: unknownOptionType,
    data: bytes(0, 40),
  }),
};

export const MOBILITY_OPTION_KINDS = Object.keys(mobilityOptionByKind) as MobilityOptionKind[];

/** Any option that may appear anywhere (everything except Binding Authorization Data). */
export const mobilityOptionNotLast: fc.Arbitrary<MobilityOption> = fc.oneof(
  ...MOBILITY_OPTION_KINDS.filter((k) => k !== 'bindingAuthorizationData').map(
    (k) => mobilityOptionByKind[k] as fc.Arbitrary<MobilityOption>,
  ),
);

/** A short option list; Binding Authorization Data, when present, is last (RFC 6275 §6.2.7). */
export const mobilityOptions = (maxLength = 6): fc.Arbitrary<MobilityOption[]> =>
  fc
    .tuple(
      fc.array(mobilityOptionNotLast, { maxLength }),
      fc.option(mobilityOptionByKind.bindingAuthorizationData, { freq: 4, nil: undefined }),
    )
    .map(([opts, bad]) => (bad ? [...opts, bad] : opts));

/** An option list guaranteed to contain at least one option of `kind`. */
export const mobilityOptionsWith = (kind: MobilityOptionKind): fc.Arbitrary<MobilityOption[]> => {
  const one = mobilityOptionByKind[kind] as fc.Arbitrary<MobilityOption>;
  if (kind === 'bindingAuthorizationData') {
    return fc.tuple(fc.array(mobilityOptionNotLast, { maxLength: 4 }), one).map(([o, b]) => [...o, b]);
  }
  return fc
    .tuple(
      fc.array(mobilityOptionNotLast, { maxLength: 2 }),
      one,
      fc.array(mobilityOptionNotLast, { maxLength: 2 }),
    )
    .map(([a, x, b]) => [...a, x, ...b]);
};

// ---------------------------------------------------------------------------------------------
// Mobility messages (RFC 6275 §6.1)

export const buFlags: fc.Arbitrary<BuFlags> = fc.record({
  A: fc.boolean(),
  H: fc.boolean(),
  L: fc.boolean(),
  K: fc.boolean(),
  M: fc.boolean(),
  R: fc.boolean(),
  P: fc.boolean(),
  F: fc.boolean(),
  T: fc.boolean(),
});

export const baFlags: fc.Arbitrary<BaFlags> = fc.record({
  K: fc.boolean(),
  R: fc.boolean(),
  P: fc.boolean(),
  T: fc.boolean(),
});

const cookie = bytes(8, 8);

export const mobilityMessageByKind = (
  options: fc.Arbitrary<MobilityOption[]> = mobilityOptions(),
): { readonly [K in MobilityMessageKind]: fc.Arbitrary<Extract<MobilityMessage, { kind: K }>> } => ({
  bindingRefreshRequest: fc.record({ kind: fc.constant('bindingRefreshRequest' as const), options }),
  homeTestInit: fc.record({ kind: fc.constant('homeTestInit' as const), cookie, options }),
  careOfTestInit: fc.record({ kind: fc.constant('careOfTestInit' as const), cookie, options }),
  homeTest: fc.record({
    kind: fc.constant('homeTest' as const),
    nonceIndex: u16,
    cookie,
    keygenToken: cookie,
    options,
  }),
  careOfTest: fc.record({
    kind: fc.constant('careOfTest' as const),
    nonceIndex: u16,
    cookie,
    keygenToken: cookie,
    options,
  }),
  bindingUpdate: fc.record({
    kind: fc.constant('bindingUpdate' as const),
    sequence: u16,
    flags: buFlags,
    lifetime: lifetimeSeconds,
    options,
  }),
  bindingAcknowledgement: fc.record({
    kind: fc.constant('bindingAcknowledgement' as const),
    status: u8,
    flags: baFlags,
    sequence: u16,
    lifetime: lifetimeSeconds,
    options,
  }),
  bindingError: fc.record({
    kind: fc.constant('bindingError' as const),
    status: u8,
    homeAddress: ipv6Address,
    options,
  }),
  // Types above 7 are not modelled; the data after the checksum is 8n+2 bytes.
  unknown: fc.record({
    kind: fc.constant('unknown' as const),
    mhType: fc.oneof(fc.constantFrom(8, 11, 16, 255), fc.integer({ min: 8, max: 255 })),
    data: bytesOfShape(8, 2, 24),
  }),
});

export const MOBILITY_MESSAGE_KINDS = Object.keys(mobilityMessageByKind()) as MobilityMessageKind[];

export const mobilityMessage: fc.Arbitrary<MobilityMessage> = fc.oneof(
  ...Object.values(mobilityMessageByKind()).map((a) => a as fc.Arbitrary<MobilityMessage>),
);

// ---------------------------------------------------------------------------------------------
// IPv6 extension headers (RFC 8200 §4, RFC 6275 §6.3-§6.4)

/** Unknown IPv6 option types: not Pad1 (0), PadN (1) or, in Destination Options, HAO (201). */
const ipv6UnknownOption = (inDestOpts: boolean): fc.Arbitrary<Ipv6Option> =>
  fc.record({
    kind: fc.constant('unknown' as const),
    optionType: fc.oneof(fc.constantFrom(5, 194, 201), u8).filter((t) => t > 1 && !(inDestOpts && t === 201)),
    data: bytes(0, 24),
  });

export const homeAddressOption: fc.Arbitrary<Ipv6Option> = fc.record({
  kind: fc.constant('homeAddress' as const),
  address: ipv6Address,
});

export const hopByHop: fc.Arbitrary<Ipv6Extension> = fc.record({
  kind: fc.constant('hopByHop' as const),
  options: fc.array(ipv6UnknownOption(false), { maxLength: 4 }),
});

/** Unknown options with at most one Home Address option (a second one is refused), anywhere. */
export const destinationOptions: fc.Arbitrary<Ipv6Extension> = fc
  .tuple(
    fc.array(ipv6UnknownOption(true), { maxLength: 3 }),
    fc.option(homeAddressOption, { nil: undefined }),
    fc.nat(),
  )
  .map(([unknown, hao, at]) => {
    const options = [...unknown];
    if (hao) options.splice(at % (options.length + 1), 0, hao);
    return { kind: 'destinationOptions' as const, options };
  });

export const routingType2: fc.Arbitrary<Ipv6Extension> = fc.record({
  kind: fc.constant('routingType2' as const),
  homeAddress: ipv6Address,
});

export const genericRouting: fc.Arbitrary<Ipv6Extension> = fc.record({
  kind: fc.constant('routing' as const),
  routingType: u8.filter((t) => t !== 2),
  segmentsLeft: u8,
  data: bytesOfShape(8, 4, 6),
});

export const ipv6Extension: fc.Arbitrary<Ipv6Extension> = fc.oneof(
  hopByHop,
  destinationOptions,
  routingType2,
  genericRouting,
);

/** A chain: an optional Hop-by-Hop header first (RFC 8200 §4.3), then up to three others. */
export const extensionChain: fc.Arbitrary<Ipv6Extension[]> = fc
  .tuple(
    fc.option(hopByHop, { nil: undefined }),
    fc.array(fc.oneof(destinationOptions, routingType2, genericRouting), { maxLength: 3 }),
  )
  .map(([hbh, rest]) => (hbh ? [hbh, ...rest] : rest));

// ---------------------------------------------------------------------------------------------
// IP, UDP, ESP, tunnels, pcap

/** Upper-layer protocols: anything the IPv6 parser does not walk as an extension header. */
export const upperProtocol = fc.oneof(
  fc.constantFrom(
    IpProto.UDP,
    IpProto.ESP,
    IpProto.Mobility,
    IpProto.NoNextHeader,
    IpProto.IPv4,
    IpProto.IPv6,
  ),
  u8.filter((p) => p !== IpProto.HopByHop && p !== IpProto.Routing && p !== IpProto.DestinationOptions),
);

export const ipv4Fields: fc.Arbitrary<Ipv4Fields & { readonly options: Uint8Array }> = fc.record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  identification: u16,
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: u8,
  protocol: u8,
  src: ipv4Address,
  dst: ipv4Address,
  options: bytesOfShape(4, 0, 10),
});

export const ipv6Fields: fc.Arbitrary<Ipv6Fields> = fc.record({
  dscp: fc.integer({ min: 0, max: 63 }),
  ecn: fc.integer({ min: 0, max: 3 }),
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
  hopLimit: u8,
  src: ipv6Address,
  dst: ipv6Address,
  extensions: extensionChain,
  protocol: upperProtocol,
});

export const payload = (maxLength = 120): fc.Arbitrary<Uint8Array> => bytes(0, maxLength);

export const port = fc.oneof(fc.constantFrom(0, 1, DSMIPV6_UDP_PORT, 0xffff), u16);

export const udpPorts: fc.Arbitrary<UdpPorts> = fc.record({ srcPort: port, dstPort: port });

/** Ports with the DSMIPv6 port (4191) at one end or both, as `decapsulate` requires. */
export const dsmipPorts: fc.Arbitrary<UdpPorts> = fc.oneof(
  fc.record({ srcPort: port, dstPort: fc.constant(DSMIPV6_UDP_PORT) }),
  fc.record({ srcPort: fc.constant(DSMIPV6_UDP_PORT), dstPort: port }),
);

/** A whole, valid IPv4 packet (header checksum included). */
export const ipv4Packet: fc.Arbitrary<Uint8Array> = fc
  .tuple(ipv4Fields, payload(80))
  .map(([f, p]) => emitIpv4(f, p));

/** A whole, valid IPv6 packet with an extension chain. */
export const ipv6Packet: fc.Arbitrary<Uint8Array> = fc
  .tuple(ipv6Fields, payload(80))
  .map(([f, p]) => emitIpv6(f, p));

/** Outer header of a tunnel; `ttl`/`hopLimit` sometimes left to the default (64). */
export const outerV4 = (withUdp: boolean): fc.Arbitrary<Extract<OuterHeader, { family: 4 }>> =>
  fc.record({
    family: fc.constant(4 as const),
    src: ipv4Address,
    dst: ipv4Address,
    ttl: fc.option(u8, { nil: undefined }),
    udp: withUdp ? dsmipPorts : fc.constant(undefined),
  });

export const outerV6 = (withUdp: boolean): fc.Arbitrary<Extract<OuterHeader, { family: 6 }>> =>
  fc.record({
    family: fc.constant(6 as const),
    src: ipv6Address,
    dst: ipv6Address,
    hopLimit: fc.option(u8, { nil: undefined }),
    udp: withUdp ? dsmipPorts : fc.constant(undefined),
  });

export const outerHeader: fc.Arbitrary<OuterHeader> = fc.oneof(
  outerV4(false),
  outerV4(true),
  outerV6(false),
  outerV6(true),
);

export const espSpi = fc.oneof(
  fc.constantFrom(256, 0x1000, 0xffffffff),
  u32.filter((s) => s > 255),
);

export const icvLength = fc.oneof(fc.constantFrom(0, 8, 12, 16, 32), fc.integer({ min: 0, max: 40 }));

export const espPacket = fc.record({
  spi: espSpi,
  sequence: u32,
  protectedData: bytes(2, 96),
  icv: icvLength.chain((n) => bytes(n, n)),
});

export const espBlockSize = fc.oneof(fc.constantFrom(1, 4, 8, 16, 256), fc.integer({ min: 1, max: 256 }));

export const espTrailerInput = fc.record({
  payload: payload(100),
  nextHeader: u8,
  blockSize: espBlockSize,
});

/** Microseconds since the epoch that fit pcap's 32-bit seconds field. */
export const pcapTimestamp = fc
  .tuple(u16, u16, fc.integer({ min: 0, max: 999_999 }))
  .map(([hi, lo, us]) => (hi * 0x10000 + lo) * 1e6 + us);

export const pcapRecordInput = fc.record({ timestampMicros: pcapTimestamp, data: payload(160) });

export const pcapRecords = fc.array(pcapRecordInput, { maxLength: 6 });

export const mobilityPacketFields: fc.Arbitrary<MobilityPacketFields> = fc.record(
  {
    src: ipv6Address,
    dst: ipv6Address,
    hopLimit: u8,
    homeAddress: ipv6Address,
    routingHomeAddress: ipv6Address,
  },
  { requiredKeys: ['src', 'dst'] },
);
