/**
 * In-memory twins of the ports (architecture.md, principle 4): a simulated UDP network with
 * per-link latency and seeded loss, NAT44 boxes with real mapping/expiry behaviour, a zone-table
 * DNS and a test-driven link monitor. Everything runs on a Clock, so tests drive it with
 * src/testgen's TestClock; nothing here reads the wall clock.
 *
 * Routing. Every address belongs to one host (or is a NAT's outside address). An IPv4 address
 * inside a NAT's inside prefix is in that NAT's realm; every other address (all IPv6 ones, public
 * IPv4) is in the outer realm. A packet between two addresses of one realm is delivered directly;
 * a packet leaving a NAT's realm gets a mapping and leaves from the NAT's outside address (which
 * may itself be in another NAT's realm: NATs nest); a packet to a NAT's outside address is
 * translated back while the mapping is alive; a packet to a private address of another realm is
 * unroutable. NAT decisions are taken at the instant a packet is sent; latency applies after.
 */

import { isIP } from 'node:net';
import { type IpMonitorRecord, type IpSnapshot, LinkStateTracker } from './link-monitor.js';
import type {
  Clock,
  Datagram,
  DnsAnswer,
  DnsPort,
  DnsRecordType,
  Family,
  LinkEvent,
  LinkMonitor,
  SrvAnswer,
} from './ports.js';
import {
  type CountingUdpPort,
  type CountingUdpPortFactory,
  checkBindArguments,
  UdpBindError,
  UdpSendError,
  type UdpStats,
} from './udp.js';

// ---------------------------------------------------------------------------------------------
// Addresses

/** One canonical spelling per address (IPv6 compressed and lower case), so lookups agree. */
export function canonicalAddress(address: string): string {
  if (isIP(address) === 6) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  return address;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

interface Ipv4Prefix {
  readonly base: number;
  readonly length: number;
  readonly text: string;
}

function parseIpv4Prefix(text: string, what: string): Ipv4Prefix {
  const [address, len] = text.split('/') as [string, string?];
  const length = len === undefined ? 32 : Number(len);
  if (isIP(address) !== 4 || !Number.isInteger(length) || length < 0 || length > 32)
    throw new Error(`memory network: ${what} "${text}": expected an IPv4 prefix like 10.0.0.0/8`);
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return { base: (ipv4ToNumber(address) & mask) >>> 0, length, text };
}

function inPrefix(p: Ipv4Prefix, address: string): boolean {
  if (isIP(address) !== 4) return false;
  const mask = p.length === 0 ? 0 : (0xffffffff << (32 - p.length)) >>> 0;
  return (ipv4ToNumber(address) & mask) >>> 0 === p.base;
}

function prefixesOverlap(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  const length = Math.min(a.length, b.length);
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0;
}

/** A host address, optionally written with its prefix length (`198.51.100.7/24`). */
export interface HostAddress {
  readonly address: string;
  readonly family: Family;
  readonly prefixLength: number;
}

export function parseHostAddress(text: string, what = 'address'): HostAddress {
  const [raw, len] = text.split('/') as [string, string?];
  const family = isIP(raw);
  const max = family === 4 ? 32 : 128;
  const prefixLength = len === undefined ? max : /^\d+$/.test(len) ? Number(len) : -1;
  if ((family !== 4 && family !== 6) || prefixLength < 0 || prefixLength > max)
    throw new Error(
      `memory network: ${what} "${text}": expected an IPv4 or IPv6 address, optionally /length`,
    );
  return { address: canonicalAddress(raw), family, prefixLength };
}

const isWildcard = (address: string) => address === '0.0.0.0' || address === '::';

/** mulberry32: small, fast and deterministic for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Network

export interface LinkOptions {
  /** One-way delay of this host's link in ms; a packet's delay is the sum of both ends' links. */
  readonly latencyMs?: number;
  /** Probability (0-1) that a packet crossing this link is lost. */
  readonly loss?: number;
}

export interface MemoryNetworkOptions {
  readonly clock: Clock;
  /** Seed of the loss PRNG. Default 1. */
  readonly seed?: number;
  /** Defaults for every host's link. Default no latency, no loss. */
  readonly link?: LinkOptions;
  /** Called for every packet sent, with what became of it (for logs and pcaps in tests). */
  readonly trace?: (entry: MemoryTraceEntry) => void;
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export type MemoryDropReason = 'lost' | 'unroutable' | 'nat-unmapped' | 'no-socket' | 'no-receiver';

export interface MemoryTraceEntry {
  readonly time: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly bytes: number;
  /** Where the packet went, with the addresses as the receiver sees them; or why it was dropped. */
  readonly outcome:
    | { readonly delivered: true; readonly host: string; readonly from: Endpoint; readonly to: Endpoint }
    | { readonly delivered: false; readonly reason: MemoryDropReason };
}

export interface MemoryNetworkStats {
  readonly sent: number;
  readonly delivered: number;
  readonly dropped: Readonly<Record<MemoryDropReason, number>>;
}

interface Host {
  readonly name: string;
  addresses: HostAddress[];
  link: Required<LinkOptions>;
  readonly sockets: Set<MemoryUdpPort>;
  nextEphemeral: number;
  readonly monitors: { monitor: MemoryLinkMonitor; ifname: string }[];
}

type Route =
  | { readonly ok: true; readonly host: Host; readonly from: Endpoint; readonly to: Endpoint }
  | { readonly ok: false; readonly reason: MemoryDropReason };

const EPHEMERAL_FIRST = 49152;

export class MemoryNetwork {
  readonly clock: Clock;
  private readonly hosts = new Map<string, Host>();
  /** Canonical address → owning host. */
  private readonly owners = new Map<string, Host>();
  private readonly nats: MemoryNat[] = [];
  private readonly random: () => number;
  private readonly defaultLink: Required<LinkOptions>;
  private readonly trace: ((entry: MemoryTraceEntry) => void) | undefined;
  private counters = {
    sent: 0,
    delivered: 0,
    dropped: { lost: 0, unroutable: 0, 'nat-unmapped': 0, 'no-socket': 0, 'no-receiver': 0 },
  };

  constructor(options: MemoryNetworkOptions) {
    this.clock = options.clock;
    this.random = seededRandom(options.seed ?? 1);
    this.defaultLink = { latencyMs: options.link?.latencyMs ?? 0, loss: options.link?.loss ?? 0 };
    this.trace = options.trace;
  }

  /** Adds a host with its addresses (`'2001:db8:1::100'`, `'10.1.0.5/24'`). */
  addHost(name: string, addresses: readonly string[] = [], link: LinkOptions = {}): void {
    if (this.hosts.has(name)) throw new Error(`memory network: host "${name}" exists already`);
    const host: Host = {
      name,
      addresses: [],
      link: { ...this.defaultLink },
      sockets: new Set(),
      nextEphemeral: EPHEMERAL_FIRST,
      monitors: [],
    };
    this.hosts.set(name, host);
    this.setLink(name, link);
    this.setAddresses(name, addresses);
  }

  /**
   * Replaces a host's addresses: the host moved. Sockets bound to an address it lost stay open
   * but can no longer send (EADDRNOTAVAIL), and packets to that address no longer reach it. Link
   * monitors of the host see the change.
   */
  setAddresses(name: string, addresses: readonly string[]): void {
    const host = this.host(name);
    const next = addresses.map((a) => parseHostAddress(a, `host "${name}" address`));
    for (const a of next) {
      const owner = this.owners.get(a.address);
      if (owner && owner !== host)
        throw new Error(`memory network: address ${a.address} of host "${name}" belongs to "${owner.name}"`);
      const nat = this.nats.find((n) => n.outside === a.address);
      if (nat) throw new Error(`memory network: address ${a.address} is the outside address of a NAT`);
    }
    const previous = host.addresses;
    for (const a of previous) this.owners.delete(a.address);
    for (const a of next) this.owners.set(a.address, host);
    host.addresses = next;
    for (const { monitor, ifname } of host.monitors) {
      for (const a of previous)
        if (!next.some((n) => n.address === a.address)) monitor.removeAddress(ifname, a.address);
      for (const a of next) monitor.addAddress(ifname, `${a.address}/${a.prefixLength}`);
    }
  }

  addresses(name: string): string[] {
    return this.host(name).addresses.map((a) => a.address);
  }

  setLink(name: string, link: LinkOptions): void {
    const host = this.host(name);
    const latencyMs = link.latencyMs ?? host.link.latencyMs;
    const loss = link.loss ?? host.link.loss;
    if (!(latencyMs >= 0))
      throw new Error(`memory network: host "${name}" latencyMs ${latencyMs}: must be >= 0`);
    if (!(loss >= 0 && loss <= 1))
      throw new Error(`memory network: host "${name}" loss ${loss}: must be 0-1`);
    host.link = { latencyMs, loss };
  }

  /** The UdpPortFactory of one host. */
  udp(name: string): CountingUdpPortFactory {
    const host = this.host(name);
    return { bind: (family, address, port) => this.bind(host, family, address, port) };
  }

  /**
   * A link monitor that follows the host's addresses on one interface: `setAddresses` shows up
   * as ADDRESS.REMOVED/ADDED. Tests can still drive it directly (linkDown, ...).
   */
  linkMonitor(name: string, ifname = 'eth0'): MemoryLinkMonitor {
    const host = this.host(name);
    const monitor = new MemoryLinkMonitor();
    for (const a of host.addresses) monitor.addAddress(ifname, `${a.address}/${a.prefixLength}`);
    host.monitors.push({ monitor, ifname });
    return monitor;
  }

  /** Adds a NAT44 box. Inside prefixes of different NATs must not overlap. */
  addNat(options: MemoryNatOptions): MemoryNat {
    const nat = new MemoryNat(this.clock, options);
    for (const other of this.nats) {
      if (prefixesOverlap(other.insidePrefix, nat.insidePrefix))
        throw new Error(
          `memory network: NAT inside ${nat.insidePrefix.text} overlaps ${other.insidePrefix.text}`,
        );
      if (other.outside === nat.outside)
        throw new Error(`memory network: NAT outside ${nat.outside} is used by another NAT`);
    }
    if (this.owners.has(nat.outside))
      throw new Error(
        `memory network: NAT outside ${nat.outside} belongs to host "${this.owners.get(nat.outside)?.name}"`,
      );
    if (inPrefix(nat.insidePrefix, nat.outside))
      throw new Error(`memory network: NAT outside ${nat.outside} is inside its own prefix`);
    this.nats.push(nat);
    return nat;
  }

  stats(): MemoryNetworkStats {
    return {
      sent: this.counters.sent,
      delivered: this.counters.delivered,
      dropped: { ...this.counters.dropped },
    };
  }

  private host(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`memory network: no host "${name}"`);
    return host;
  }

  private bind(host: Host, family: Family, address: string, port: number): Promise<MemoryUdpPort> {
    const bad = checkBindArguments(family, address, port);
    if (bad) return Promise.reject(bad);
    const local = canonicalAddress(address);
    if (!isWildcard(local) && !host.addresses.some((a) => a.address === local))
      return Promise.reject(new UdpBindError(address, port, 'EADDRNOTAVAIL'));
    const clash = (p: number) =>
      [...host.sockets].some((s) => {
        const l = s.local();
        return (
          s.family === family &&
          l.port === p &&
          (l.address === local || isWildcard(l.address) || isWildcard(local))
        );
      });
    let bound = port;
    if (port === 0) {
      for (let i = 0; i <= 65535 - EPHEMERAL_FIRST; i++) {
        const candidate = host.nextEphemeral;
        host.nextEphemeral = candidate === 65535 ? EPHEMERAL_FIRST : candidate + 1;
        if (!clash(candidate)) {
          bound = candidate;
          break;
        }
      }
      if (bound === 0) return Promise.reject(new UdpBindError(address, port, 'EADDRINUSE'));
    } else if (clash(port)) return Promise.reject(new UdpBindError(address, port, 'EADDRINUSE'));
    const socket = new MemoryUdpPort(
      family,
      { address: local, port: bound },
      (s, d) => this.transmit(host, s, d),
      (s) => host.sockets.delete(s),
    );
    host.sockets.add(socket);
    return Promise.resolve(socket);
  }

  /** Source address selection, routing, NAT, loss, then delivery after the links' latency. */
  private transmit(host: Host, socket: MemoryUdpPort, datagram: Datagram): Promise<void> {
    const local = socket.local();
    const to = { address: datagram.address, port: datagram.port };
    if (isIP(to.address) !== socket.family || !Number.isInteger(to.port) || to.port < 1 || to.port > 65535)
      return Promise.reject(new UdpSendError(to.address, to.port, 'EINVAL'));
    let source = local.address;
    if (isWildcard(source)) {
      const a = host.addresses.find((x) => x.family === socket.family);
      if (!a) return Promise.reject(new UdpSendError(to.address, to.port, 'ENETUNREACH'));
      source = a.address;
    } else if (!host.addresses.some((a) => a.address === source))
      return Promise.reject(new UdpSendError(to.address, to.port, 'EADDRNOTAVAIL'));

    const from = { address: source, port: local.port };
    const dest = { address: canonicalAddress(to.address), port: to.port };
    const data = datagram.data.slice();
    this.counters.sent++;
    const drop = (reason: MemoryDropReason) => {
      this.counters.dropped[reason]++;
      this.trace?.({
        time: this.clock.now(),
        from,
        to: dest,
        bytes: data.length,
        outcome: { delivered: false, reason },
      });
    };
    const route = this.route(this.realmOf(from.address), from, dest, 0);
    if (!route.ok) {
      drop(route.reason);
      return Promise.resolve();
    }
    const target = route.host;
    // Draw for both links every time, so one packet's fate does not shift the next one's draws.
    const lostHere = this.random() < host.link.loss;
    const lostThere = this.random() < target.link.loss;
    if (lostHere || lostThere) {
      drop('lost');
      return Promise.resolve();
    }
    const deliver = () => {
      // The receiver may have moved or closed the socket while the packet was in flight.
      if (!target.addresses.some((a) => a.address === route.to.address)) return drop('unroutable');
      const receiver = this.socketFor(target, socket.family, route.to);
      if (!receiver) return drop('no-socket');
      if (!receiver.deliver({ data, address: route.from.address, port: route.from.port }))
        return drop('no-receiver');
      this.counters.delivered++;
      this.trace?.({
        time: this.clock.now(),
        from,
        to: dest,
        bytes: data.length,
        outcome: { delivered: true, host: target.name, from: route.from, to: route.to },
      });
    };
    const delay = host.link.latencyMs + target.link.latencyMs;
    if (delay === 0) queueMicrotask(deliver);
    else this.clock.setTimeout(deliver, delay);
    return Promise.resolve();
  }

  private socketFor(host: Host, family: Family, to: Endpoint): MemoryUdpPort | undefined {
    let wildcard: MemoryUdpPort | undefined;
    for (const s of host.sockets) {
      const l = s.local();
      if (s.family !== family || l.port !== to.port) continue;
      if (l.address === to.address) return s;
      if (isWildcard(l.address)) wildcard = s;
    }
    return wildcard;
  }

  /** The NAT whose inside prefix holds the address, or undefined for the outer realm. */
  private realmOf(address: string): MemoryNat | undefined {
    return this.nats.find((n) => inPrefix(n.insidePrefix, address));
  }

  private route(realm: MemoryNat | undefined, from: Endpoint, to: Endpoint, depth: number): Route {
    if (depth > 16) return { ok: false, reason: 'unroutable' };
    // To the outside address of a NAT that sits in this realm: back through its mapping.
    const nat = this.nats.find((n) => n.outside === to.address);
    if (nat && this.realmOf(nat.outside) === realm) {
      const inside = nat.inbound(from, to.port);
      if (!inside) return { ok: false, reason: 'nat-unmapped' };
      return this.route(nat, from, inside, depth + 1);
    }
    const targetRealm = this.realmOf(to.address);
    if (targetRealm === realm) {
      const host = this.owners.get(to.address);
      return host ? { ok: true, host, from, to } : { ok: false, reason: 'unroutable' };
    }
    // Leaving this realm: out through its NAT.
    if (realm) return this.route(this.realmOf(realm.outside), realm.outbound(from, to), to, depth + 1);
    return { ok: false, reason: 'unroutable' };
  }
}

class MemoryUdpPort implements CountingUdpPort {
  private receiver: ((datagram: Datagram) => void) | undefined;
  private closed = false;
  private counters = { received: 0, sent: 0, droppedNoReceiver: 0, errors: 0 };

  constructor(
    readonly family: Family,
    private readonly bound: Endpoint,
    private readonly transmit: (socket: MemoryUdpPort, datagram: Datagram) => Promise<void>,
    private readonly release: (socket: MemoryUdpPort) => void,
  ) {}

  local(): { address: string; port: number } {
    return { address: this.bound.address, port: this.bound.port };
  }

  async send(datagram: Datagram): Promise<void> {
    if (this.closed) throw new UdpSendError(datagram.address, datagram.port, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
    await this.transmit(this, datagram);
    this.counters.sent++;
  }

  onMessage(receiver: (datagram: Datagram) => void): void {
    this.receiver = receiver;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release(this);
  }

  stats(): UdpStats {
    return { ...this.counters };
  }

  /** False when there is no receiver (the datagram is dropped and counted). */
  deliver(datagram: Datagram): boolean {
    this.counters.received++;
    if (!this.receiver || this.closed) {
      this.counters.droppedNoReceiver++;
      return false;
    }
    this.receiver(datagram);
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// NAT

export interface MemoryNatOptions {
  /** Inside prefix, e.g. `10.1.0.0/16`. IPv4 only (NAT44). */
  readonly inside: string;
  /** The outside (public) address every mapping uses. */
  readonly outside: string;
  /**
   * Mapping lifetime in ms after the last OUTBOUND packet (inbound packets do not refresh it, as
   * with many home routers). Default 120000, RFC 4787 REQ-5's minimum.
   */
  readonly udpTimeoutMs?: number;
  /** First outside port handed out; mappings take ports in order from here. Default 40000. */
  readonly firstPort?: number;
  /**
   * Inbound filtering (RFC 4787 §5): `endpoint-independent` lets anyone reach a live mapping;
   * `address-and-port-dependent` (Linux conntrack) only the endpoints the inside host sent to.
   * Mapping is endpoint-independent either way. Default `endpoint-independent`.
   */
  readonly filtering?: 'endpoint-independent' | 'address-and-port-dependent';
}

export interface NatMapping {
  readonly inside: Endpoint;
  readonly outside: Endpoint;
  /** Clock time of the last outbound packet. */
  readonly lastOutbound: number;
  /** Clock time from which inbound packets are dropped (lastOutbound + udpTimeoutMs). */
  readonly expiresAt: number;
}

export interface NatStats {
  readonly outbound: number;
  readonly inbound: number;
  /** Inbound packets to a port with no live mapping (or filtered): dropped. */
  readonly droppedInbound: number;
  readonly mappingsCreated: number;
}

interface Mapping {
  readonly insideAddress: string;
  readonly insidePort: number;
  readonly outsidePort: number;
  lastOutbound: number;
  readonly peers: Set<string>;
}

export class MemoryNat {
  readonly insidePrefix: Ipv4Prefix;
  readonly outside: string;
  readonly udpTimeoutMs: number;
  private readonly firstPort: number;
  private readonly filtering: 'endpoint-independent' | 'address-and-port-dependent';
  private nextPort: number;
  private readonly byInside = new Map<string, Mapping>();
  private readonly byOutsidePort = new Map<number, Mapping>();
  private counters = { outbound: 0, inbound: 0, droppedInbound: 0, mappingsCreated: 0 };

  /** Use MemoryNetwork.addNat. */
  constructor(
    private readonly clock: Clock,
    options: MemoryNatOptions,
  ) {
    this.insidePrefix = parseIpv4Prefix(options.inside, 'NAT inside');
    if (isIP(options.outside) !== 4)
      throw new Error(`memory network: NAT outside "${options.outside}": expected an IPv4 address`);
    this.outside = options.outside;
    this.udpTimeoutMs = options.udpTimeoutMs ?? 120_000;
    if (!(this.udpTimeoutMs > 0))
      throw new Error(`memory network: NAT udpTimeoutMs ${this.udpTimeoutMs}: must be > 0`);
    this.firstPort = options.firstPort ?? 40000;
    if (!Number.isInteger(this.firstPort) || this.firstPort < 1 || this.firstPort > 65535)
      throw new Error(`memory network: NAT firstPort ${this.firstPort}: must be 1-65535`);
    this.nextPort = this.firstPort;
    this.filtering = options.filtering ?? 'endpoint-independent';
  }

  /** The live mappings, oldest first. */
  mappings(): NatMapping[] {
    this.purge();
    return [...this.byInside.values()].map((m) => ({
      inside: { address: m.insideAddress, port: m.insidePort },
      outside: { address: this.outside, port: m.outsidePort },
      lastOutbound: m.lastOutbound,
      expiresAt: m.lastOutbound + this.udpTimeoutMs,
    }));
  }

  stats(): NatStats {
    return { ...this.counters };
  }

  /** Drops every mapping (a NAT reboot). */
  reset(): void {
    this.byInside.clear();
    this.byOutsidePort.clear();
  }

  private alive(m: Mapping): boolean {
    return this.clock.now() < m.lastOutbound + this.udpTimeoutMs;
  }

  private purge(): void {
    for (const [key, m] of this.byInside)
      if (!this.alive(m)) {
        this.byInside.delete(key);
        this.byOutsidePort.delete(m.outsidePort);
      }
  }

  /** @internal An outbound packet: the source as it leaves the outside address. */
  outbound(from: Endpoint, to: Endpoint): Endpoint {
    this.purge();
    this.counters.outbound++;
    const key = `${from.address}|${from.port}`;
    let m = this.byInside.get(key);
    if (!m) {
      m = {
        insideAddress: from.address,
        insidePort: from.port,
        outsidePort: this.allocate(),
        lastOutbound: 0,
        peers: new Set(),
      };
      this.byInside.set(key, m);
      this.byOutsidePort.set(m.outsidePort, m);
      this.counters.mappingsCreated++;
    }
    m.lastOutbound = this.clock.now();
    m.peers.add(`${to.address}|${to.port}`);
    return { address: this.outside, port: m.outsidePort };
  }

  /** @internal An inbound packet to the outside address: the inside endpoint, or undefined (dropped). */
  inbound(from: Endpoint, port: number): Endpoint | undefined {
    const m = this.byOutsidePort.get(port);
    if (
      !m ||
      !this.alive(m) ||
      (this.filtering === 'address-and-port-dependent' && !m.peers.has(`${from.address}|${from.port}`))
    ) {
      this.counters.droppedInbound++;
      return undefined;
    }
    this.counters.inbound++;
    return { address: m.insideAddress, port: m.insidePort };
  }

  private allocate(): number {
    for (let i = 0; i <= 65535 - this.firstPort; i++) {
      const port = this.nextPort;
      this.nextPort = port === 65535 ? this.firstPort : port + 1;
      if (!this.byOutsidePort.has(port)) return port;
    }
    throw new Error(`memory network: NAT ${this.outside} has no free port`);
  }
}

// ---------------------------------------------------------------------------------------------
// DNS

/** An A or AAAA record: the address, or the address with its own TTL. */
export type ZoneAddress = string | { readonly address: string; readonly ttl?: number };

export type ZoneSrv = SrvAnswer & { readonly ttl?: number };

export interface ZoneEntry {
  readonly A?: readonly ZoneAddress[];
  readonly AAAA?: readonly ZoneAddress[];
  readonly SRV?: readonly ZoneSrv[];
  /** TTL (seconds) of the entry's records that name none. Default: the MemoryDns default. */
  readonly ttl?: number;
}

export type Zone = Readonly<Record<string, ZoneEntry>>;

export interface MemoryDnsOptions {
  /** TTL (seconds) of records that name none. Default 300. */
  readonly defaultTtl?: number;
  /** With a clock and a latency, answers come after that many ms of the clock; else on a microtask. */
  readonly clock?: Clock;
  readonly latencyMs?: number;
}

const dnsName = (name: string) => name.toLowerCase().replace(/\.$/, '');

/**
 * A DnsPort from a zone table. A name missing from the table is NXDOMAIN; a name without records
 * of the asked type is NODATA; a name given a failure (`fail`) answers that reason instead.
 */
export class MemoryDns implements DnsPort {
  private readonly zone = new Map<string, ZoneEntry>();
  private readonly failures = new Map<string, string>();
  private readonly defaultTtl: number;
  /** Every query, in order. */
  readonly queries: { name: string; type: DnsRecordType }[] = [];

  constructor(
    zone: Zone = {},
    private readonly options: MemoryDnsOptions = {},
  ) {
    this.defaultTtl = options.defaultTtl ?? 300;
    for (const [name, entry] of Object.entries(zone)) this.set(name, entry);
  }

  /** Adds or replaces a name. Throws on an address of the wrong family. */
  set(name: string, entry: ZoneEntry): void {
    for (const [type, family] of [
      ['A', 4],
      ['AAAA', 6],
    ] as const)
      for (const r of entry[type] ?? []) {
        const address = typeof r === 'string' ? r : r.address;
        if (isIP(address) !== family)
          throw new Error(`dns zone: ${name} ${type} "${address}": expected an IPv${family} address`);
      }
    this.zone.set(dnsName(name), entry);
  }

  delete(name: string): void {
    this.zone.delete(dnsName(name));
  }

  /** Makes queries for a name fail with a reason (`timeout`, `SERVFAIL`, ...); undefined clears it. */
  fail(name: string, reason: string | undefined): void {
    if (reason === undefined) this.failures.delete(dnsName(name));
    else this.failures.set(dnsName(name), reason);
  }

  resolve(name: string, type: DnsRecordType): Promise<DnsAnswer> {
    this.queries.push({ name, type });
    const answer = this.answer(dnsName(name), type);
    const { clock, latencyMs } = this.options;
    if (clock && latencyMs)
      return new Promise((resolve) => clock.setTimeout(() => resolve(answer), latencyMs));
    return Promise.resolve(answer);
  }

  private answer(name: string, type: DnsRecordType): DnsAnswer {
    const failure = this.failures.get(name);
    if (failure) return { ok: false, reason: failure };
    const entry = this.zone.get(name);
    if (!entry) return { ok: false, reason: 'NXDOMAIN' };
    const ttlOf = (r: { ttl?: number } | string) =>
      (typeof r === 'string' ? undefined : r.ttl) ?? entry.ttl ?? this.defaultTtl;
    if (type === 'SRV') {
      const records = entry.SRV ?? [];
      if (!records.length) return { ok: false, reason: 'NODATA' };
      return {
        ok: true,
        ttlSeconds: Math.min(...records.map(ttlOf)),
        srv: records.map((r) => ({ priority: r.priority, weight: r.weight, port: r.port, target: r.target })),
      };
    }
    const records = entry[type] ?? [];
    if (!records.length) return { ok: false, reason: 'NODATA' };
    return {
      ok: true,
      ttlSeconds: Math.min(...records.map(ttlOf)),
      addresses: records.map((r) => (typeof r === 'string' ? r : r.address)),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Link monitor

/**
 * A LinkMonitor that tests drive. It runs the real monitor's LinkStateTracker on the changes it
 * is given, so it reports exactly what the real one would for the same kernel changes (no event
 * for a known address, LINK.DOWN only for a link that was up, addresses re-reported on link up).
 * Events are delivered synchronously, inside the driving call.
 */
export class MemoryLinkMonitor implements LinkMonitor {
  private tracker = new LinkStateTracker(() => true);
  private listener: ((event: LinkEvent) => void) | undefined;
  private readonly links = new Map<string, boolean>();
  private readonly present = new Map<string, HostAddress[]>();

  async start(listener: (event: LinkEvent) => void): Promise<void> {
    const snapshot: IpSnapshot = {
      links: [...this.links].map(([ifname, up]) => ({ ifname, up })),
      addresses: [...this.present].flatMap(([ifname, list]) =>
        list.map((a) => ({ ifname, ...a, tentative: false })),
      ),
      errors: 0,
    };
    // A fresh tracker: start reports the current state as ADDRESS.ADDED, as the real monitor does.
    this.tracker = new LinkStateTracker(() => true);
    this.listener = listener;
    this.emit(this.tracker.reconcile(snapshot));
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  /** An address appears (`'198.51.100.7/24'`; without a length, /32 or /128). */
  addAddress(ifname: string, address: string): void {
    const a = parseHostAddress(address, `link monitor ${ifname} address`);
    const list = (this.present.get(ifname) ?? []).filter((x) => x.address !== a.address);
    this.present.set(ifname, [...list, a]);
    if (!this.links.has(ifname)) this.links.set(ifname, true);
    this.apply({ kind: 'address', deleted: false, ifname, ...a, tentative: false });
  }

  removeAddress(ifname: string, address: string): void {
    const a = parseHostAddress(address, `link monitor ${ifname} address`);
    this.present.set(
      ifname,
      (this.present.get(ifname) ?? []).filter((x) => x.address !== a.address),
    );
    this.apply({ kind: 'address', deleted: true, ifname, ...a, tentative: false });
  }

  linkDown(ifname: string): void {
    this.links.set(ifname, false);
    this.apply({ kind: 'link', deleted: false, ifname, up: false });
  }

  linkUp(ifname: string): void {
    this.links.set(ifname, true);
    this.apply({ kind: 'link', deleted: false, ifname, up: true });
  }

  private apply(record: IpMonitorRecord): void {
    // Before start the state is only recorded; start reports it.
    if (this.listener) this.emit(this.tracker.apply(record));
  }

  private emit(events: LinkEvent[]): void {
    const listener = this.listener;
    if (listener) for (const e of events) listener(e);
  }
}
