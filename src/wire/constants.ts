/**
 * Protocol numbers, type codes, flag masks and status codes for Mobile IPv6 (RFC 6275) and
 * Dual-Stack Mobile IPv6 (RFC 5555), each with where it is defined. Timers and protocol constants
 * that drive behaviour (RFC 6275 §12) live beside the statechart that uses them, not here.
 */

/** IP protocol / IPv6 Next Header values (IANA "Assigned Internet Protocol Numbers"). */
export const IpProto = {
  HopByHop: 0,
  ICMP: 1,
  IPv4: 4, // IPv4-in-IP encapsulation (RFC 5555 §4.1, RFC 2003)
  UDP: 17,
  IPv6: 41, // IPv6-in-IP encapsulation (RFC 5555 §4.1, RFC 2473)
  Routing: 43,
  Fragment: 44,
  ESP: 50, // RFC 4303 §2
  AH: 51,
  ICMPv6: 58,
  NoNextHeader: 59, // MH Payload Proto MUST be this (RFC 6275 §6.1.1)
  DestinationOptions: 60,
  Mobility: 135, // Mobility Header (RFC 6275 §6.1.1, §14)
} as const;

/** UDP port of the DSMIPv6 home agent, IANA name "dsmipv6" (RFC 5555 §2.3.2.2, §8). */
export const DSMIPV6_UDP_PORT = 4191;

/** Mobility Header types (RFC 6275 §6.1.2–§6.1.9, §14; later types from the IANA registry). */
export enum MhType {
  BindingRefreshRequest = 0, // §6.1.2
  HomeTestInit = 1, // §6.1.3
  CareOfTestInit = 2, // §6.1.4
  HomeTest = 3, // §6.1.5
  CareOfTest = 4, // §6.1.6
  BindingUpdate = 5, // §6.1.7
  BindingAcknowledgement = 6, // §6.1.8
  BindingError = 7, // §6.1.9
  FastBindingUpdate = 8, // RFC 5568
  FastBindingAck = 9, // RFC 5568
  FastNeighborAdvertisement = 10, // RFC 5568
  Experimental = 11, // RFC 5096
  HomeAgentSwitch = 12, // RFC 5142
  Heartbeat = 13, // RFC 5847
  HandoverInitiate = 14, // RFC 5568
  HandoverAcknowledge = 15, // RFC 5568
  BindingRevocation = 16, // RFC 5846
  LocalizedRoutingInitiation = 17, // RFC 6705
  LocalizedRoutingAcknowledgement = 18, // RFC 6705
}

/** Mobility option types (RFC 6275 §6.2; RFC 5555 §3.1.1, §3.1.2, §3.2.1, §3.2.2). */
export enum MobilityOptionType {
  Pad1 = 0, // RFC 6275 §6.2.2
  PadN = 1, // §6.2.3
  BindingRefreshAdvice = 2, // §6.2.4
  AlternateCareOfAddress = 3, // §6.2.5
  NonceIndices = 4, // §6.2.6
  BindingAuthorizationData = 5, // §6.2.7
  MobileNetworkPrefix = 6, // RFC 3963
  Ipv4HomeAddress = 29, // RFC 5555 §3.1.1
  Ipv4AddressAcknowledgement = 30, // RFC 5555 §3.2.1 (§8's "29" is a typo; IANA and Wireshark use 30)
  NatDetection = 31, // RFC 5555 §3.2.2
  Ipv4CareOfAddress = 32, // RFC 5555 §3.1.2
  GreKey = 33, // RFC 5845
}

/** Binding Update flags: masks on the 16-bit word at MH offset 8 (RFC 6275 §6.1.7, IANA). */
export const BuFlag = {
  A: 0x8000, // Acknowledge (RFC 6275)
  H: 0x4000, // Home registration (RFC 6275)
  L: 0x2000, // Link-local address compatibility (RFC 6275)
  K: 0x1000, // Key management mobility capability (RFC 6275)
  M: 0x0800, // MAP registration (RFC 4140)
  R: 0x0400, // Mobile router (RFC 3963)
  P: 0x0200, // Proxy registration (RFC 5213)
  F: 0x0100, // Force UDP encapsulation (RFC 5555 §3.1.3)
  T: 0x0080, // TLV-header format (RFC 5845)
} as const;

/** Binding Acknowledgement flags: masks on the byte at MH offset 7 (RFC 6275 §6.1.8, IANA). */
export const BaFlag = {
  K: 0x80, // Key management mobility capability (RFC 6275)
  R: 0x40, // Mobile router (RFC 3963)
  P: 0x20, // Proxy registration (RFC 5213)
  T: 0x10, // TLV-header format (RFC 5845)
} as const;

/**
 * Binding Acknowledgement status (RFC 6275 §6.1.8 and the IANA registry). Values below 128 mean
 * the BU was accepted. RFC 5555 §4.4.2/§4.5 say a refused F flag gets "144", which IANA lists as
 * MIPV6-ID-MISMATCH (RFC 4285); dsmip6 follows the RFC 5555 text and documents it.
 */
export enum BaStatus {
  Accepted = 0,
  AcceptedPrefixDiscoveryNecessary = 1,
  GreKeyOptionNotRequired = 2, // RFC 5845
  GreTunnelingButTlvHeaderNotSupported = 3, // RFC 5845
  McoaNotComplete = 4, // RFC 5648
  McoaReturnHomeWoNdp = 5, // RFC 5648
  PbuAcceptedTbIgnoredSettingsMismatch = 6, // RFC 6058
  ReasonUnspecified = 128,
  AdministrativelyProhibited = 129,
  InsufficientResources = 130,
  HomeRegistrationNotSupported = 131,
  NotHomeSubnet = 132,
  NotHomeAgentForThisMobileNode = 133,
  DuplicateAddressDetectionFailed = 134,
  SequenceNumberOutOfWindow = 135,
  ExpiredHomeNonceIndex = 136,
  ExpiredCareOfNonceIndex = 137,
  ExpiredNonces = 138,
  RegistrationTypeChangeDisallowed = 139,
  MobileRouterOperationNotPermitted = 140, // RFC 3963
  InvalidPrefix = 141, // RFC 3963
  NotAuthorizedForPrefix = 142, // RFC 3963
  ForwardingSetupFailed = 143, // RFC 3963
  /** IANA: MIPV6-ID-MISMATCH (RFC 4285); RFC 5555 §4.4.2 uses 144 to refuse the F flag. */
  Mipv6IdMismatchOrForceUdpRefused = 144,
  Mipv6MesgIdReqd = 145, // RFC 4285
  Mipv6AuthFail = 146, // RFC 4285
  InvalidCareOfAddress = 174, // RFC 6275 (IANA)
}

/** True when a BA status means the BU was accepted (RFC 6275 §6.1.8: values < 128). */
export const baStatusAccepted = (status: number): boolean => status < 128;

/** IPv4 Address Acknowledgement status (RFC 5555 §3.2.1; IANA DSMIPv6 status codes). */
export enum Ipv4AckStatus {
  Success = 0,
  FailureReasonUnspecified = 128,
  AdministrativelyProhibited = 129,
  IncorrectIpv4HomeAddress = 130,
  InvalidIpv4Address = 131,
  DynamicIpv4HomeAddressAssignmentNotAvailable = 132,
  PrefixAllocationUnauthorized = 133,
}

/** Binding Error status (RFC 6275 §6.1.9). */
export enum BeStatus {
  UnknownBindingForHomeAddressOption = 1,
  UnrecognizedMhType = 2,
}

/** Human name of a status value; unknown numbers print as "unknown (N)". */
export function statusName(table: Record<number, string>, value: number): string {
  return table[value] ?? `unknown (${value})`;
}

/** IPv4 Home Address option: P flag on the 16-bit word after Length (RFC 5555 §3.1.1). */
export const IPV4_HOA_P_FLAG = 0x0200;
/** NAT Detection option: F flag on the 16-bit word after Length (RFC 5555 §3.2.2). */
export const NATD_F_FLAG = 0x8000;
/** NAT Detection refresh time meaning "no NAT, keepalives not needed" (RFC 5555 §3.2.2). */
export const NATD_REFRESH_NOT_NEEDED = 0xffffffff;

/** IPv6 Destination Options: Home Address option type 201, length 16 (RFC 6275 §6.3). */
export const HOME_ADDRESS_OPTION = 201;
export const HOME_ADDRESS_OPTION_LENGTH = 16;
/** IPv6 option padding (RFC 8200 §4.2). */
export const IPV6_OPT_PAD1 = 0;
export const IPV6_OPT_PADN = 1;
/** Type 2 Routing Header: routing type 2, Hdr Ext Len 2, Segments Left 1 (RFC 6275 §6.4). */
export const ROUTING_TYPE_2 = 2;

/** ICMPv6 types for home agent discovery and mobile prefix (RFC 6275 §6.5–§6.8). */
export const Icmpv6Type = {
  HomeAgentAddressDiscoveryRequest: 144,
  HomeAgentAddressDiscoveryReply: 145,
  MobilePrefixSolicitation: 146,
  MobilePrefixAdvertisement: 147,
} as const;

/** Mobile IPv6 Home-Agents anycast ID (RFC 2526). */
export const HOME_AGENTS_ANYCAST_ID = 0x7e;

/** Lifetimes in BU/BA and the Binding Refresh Advice are in units of 4 seconds (RFC 6275 §6.1.7). */
export const LIFETIME_UNIT_SECONDS = 4;
export const MAX_LIFETIME_SECONDS = 0xffff * LIFETIME_UNIT_SECONDS;
