/**
 * The validated shape of `dsmip6 ha --config ha.json` and `dsmip6 mn --config mn.json`
 * (docs/configuration.md). A value of these types only comes out of `parseHaConfig` /
 * `parseMnConfig`: addresses are canonical text under the src/wire brands, keys are bytes,
 * defaults are filled in, so the daemons never re-check a field.
 */

import type { Ipv4Address, Ipv6Address } from '../wire/address.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * ESP transforms for the BU/BA protection (RFC 4877 §4): AES-GCM with a 16-byte ICV (RFC 4106)
 * and AES-CBC with HMAC-SHA-256-128 (RFC 3602, RFC 4868).
 */
export type EspAlgorithm = 'aes-gcm-16' | 'aes-cbc-hmac-sha256';
export const ESP_ALGORITHMS: readonly EspAlgorithm[] = ['aes-gcm-16', 'aes-cbc-hmac-sha256'];

/** A checked IPv6 prefix: network address (host bits zero) and length; `text` is `addr/len`. */
export interface Ipv6PrefixConfig {
  readonly address: Ipv6Address;
  readonly length: number;
  /** Canonical `address/length`, the form the machines take (e.g. '2001:db8:1::/64'). */
  readonly text: string;
}

/** One pair of ESP SAs, named from this node's side: `spiIn` on packets it receives. */
export interface SecurityAssociationConfig {
  readonly spiIn: number;
  readonly spiOut: number;
  readonly algorithm: EspAlgorithm;
  /** AES key; for aes-gcm-16 followed by the 4-byte salt (RFC 4106 §8.1). */
  readonly encryptionKey: Uint8Array;
  /** HMAC-SHA-256 key, 32 bytes; present exactly when algorithm is aes-cbc-hmac-sha256. */
  readonly authenticationKey?: Uint8Array;
}

/** At the HA an SA pair belongs to one mobile node, named by its home address (RFC 4877 §4.2). */
export interface HaSecurityAssociationConfig extends SecurityAssociationConfig {
  readonly homeAddress: Ipv6Address;
}

export interface ControlConfig {
  /** Unix socket of the control interface. */
  readonly socket: string;
}

export interface LogConfig {
  readonly level: LogLevel;
}

export interface HaIpv4PoolConfig {
  /** First and last address handed out, inclusive, in one /prefixLength network. */
  readonly start: Ipv4Address;
  readonly end: Ipv4Address;
  /** Sent in the IPv4 Address Acknowledgement (RFC 5555 §3.2.1). */
  readonly prefixLength: number;
  readonly leaseSeconds: number;
}

/**
 * A range of mobile nodes whose SA pairs are derived from one seed (src/security/derived.ts): a
 * benchmarking and bulk-provisioning aid; whoever holds the seed holds every key of the range.
 */
export interface HaDerivedSaConfig {
  readonly firstHomeAddress: Ipv6Address;
  readonly count: number;
  readonly seed: Uint8Array;
  readonly algorithm: EspAlgorithm;
  readonly spiInBase: number;
  readonly spiOutBase: number;
}

/**
 * The data plane (src/dataplane): a TUN device and the tunnels to the other end. Absent: the daemon
 * does signalling only (no TUN, no root needed for it).
 */
export interface DataplaneConfig {
  /** TUN device name (created by the daemon, gone when it exits). */
  readonly tun: string;
  /** MTU of the path the tunnel packets take (the outer link's MTU); the TUN gets it minus 40. */
  readonly mtu: number;
}

export interface HaDataplaneConfig extends DataplaneConfig {
  /**
   * The real home link (e.g. eth0), where a mobile node can be at home: bound home addresses are
   * intercepted there by proxy ND / proxy ARP. Absent: a virtual home network (prefix and pool
   * routed into the TUN; RFC 6275 allows a home link without nodes).
   */
  readonly homeLink?: string;
}

export interface HaConfig {
  readonly homePrefix: Ipv6PrefixConfig;
  /** The HA's own addresses; the IPv6 one may lie in the home prefix (virtual home network). */
  readonly addresses: { readonly ipv6: Ipv6Address; readonly ipv4?: Ipv4Address };
  /** UDP port for IPv4 / NAT traversal (RFC 5555 §4.1). */
  readonly udpPort: number;
  /** Dynamic IPv4 home addresses (RFC 5555 §2.5); without it a request for one is refused. */
  readonly ipv4Pool?: HaIpv4PoolConfig;
  readonly maxLifetimeSeconds: number;
  /** Refresh time sent in NAT Detection (RFC 5555 §3.2.2, §6). */
  readonly natKeepaliveSeconds: number;
  readonly allowForceUdp: boolean;
  /** Empty when every mobile node comes from `derivedSecurityAssociations`. */
  readonly securityAssociations: readonly HaSecurityAssociationConfig[];
  readonly derivedSecurityAssociations?: HaDerivedSaConfig;
  readonly dataplane?: HaDataplaneConfig;
  readonly control: ControlConfig;
  readonly pcap?: string;
  readonly log: LogConfig;
}

/** A configured home agent; at least one field is set. A name alone is resolved (AAAA + A). */
export interface HaAddressConfig {
  readonly ipv6?: Ipv6Address;
  readonly ipv4?: Ipv4Address;
  readonly name?: string;
}

/** How the MN finds its home agent: exactly one of the three (RFC 5026 §5.1, RFC 5555 §2.1). */
export type MnHomeAgentConfig =
  | { readonly addresses: readonly HaAddressConfig[] }
  | { readonly name: string }
  | { readonly domain: string };

export interface MnConfig {
  readonly homeAddress: Ipv6Address;
  readonly homePrefix: Ipv6PrefixConfig;
  /** Requested in each BU (RFC 6275 §11.7.1). */
  readonly lifetimeSeconds: number;
  /** A static IPv4 home address, or '0.0.0.0' (config "dynamic") to ask for one (RFC 5555 §2.5). */
  readonly ipv4HomeAddress?: Ipv4Address;
  readonly forceUdp: boolean;
  readonly homeAgent: MnHomeAgentConfig;
  /** Resolvers for HA discovery, as node:dns takes them ('192.0.2.53', '[2001:db8::53]:5353'). */
  readonly dns?: { readonly servers: readonly string[] };
  /** Local UDP port; 0 = ephemeral. */
  readonly udpPort: number;
  /** Links to watch; absent = every link except loopback. */
  readonly interfaces?: readonly string[];
  /** The MN's own SA pair; its home address is `homeAddress`. */
  readonly securityAssociation: SecurityAssociationConfig;
  /** Movement detection debounce (src/machines/movement.ts). */
  readonly settleMs: number;
  readonly dataplane?: DataplaneConfig;
  readonly control: ControlConfig;
  readonly pcap?: string;
  readonly log: LogConfig;
}

/**
 * One problem in a config file: `path` like 'ha.ipv4Pool.start' and a `message` that starts with
 * the value found and ends with what was expected. A JSON syntax error has no path but a
 * `position`; a file that cannot be read has neither.
 */
export interface ConfigError {
  readonly path: string;
  readonly message: string;
  /** 1-based line and column (UTF-16 code units) of a JSON syntax error. */
  readonly position?: { readonly line: number; readonly column: number };
}

export type ConfigResult<T> =
  | { readonly ok: true; readonly config: T }
  | { readonly ok: false; readonly errors: ConfigError[] };

export type ConfigRole = 'ha' | 'mn';
