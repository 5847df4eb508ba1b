/**
 * The seams between dsmip6 and the operating system (architecture.md, principle 4). Each port has
 * a real implementation (dgram, raw IP through koffi, node:dns, the kernel's address list, the
 * wall clock) and an in-memory twin, so the same daemon code runs over real sockets, in network
 * namespaces, and fully in memory in tests. Ports carry bytes and facts, never decisions.
 */

export type Family = 4 | 6;

/** A UDP datagram as sent or received. `address`/`port` are the peer's. */
export interface Datagram {
  readonly data: Uint8Array;
  readonly address: string;
  readonly port: number;
}

/** A bound UDP socket (the DSMIPv6 port 4191 at the HA; an ephemeral port at the MN). */
export interface UdpPort {
  readonly family: Family;
  /** The local address and port actually bound. */
  local(): { address: string; port: number };
  send(datagram: Datagram): Promise<void>;
  /** Registers the receiver; datagrams that arrive before it is set are dropped and counted. */
  onMessage(receiver: (datagram: Datagram) => void): void;
  close(): Promise<void>;
}

export interface UdpPortFactory {
  bind(family: Family, address: string, port: number): Promise<UdpPort>;
}

/** Whole IP packets in and out (raw sockets, or TUN later). */
export interface IpPacketPort {
  /** Sends a complete IPv4 or IPv6 packet (headers built by src/wire). */
  send(packet: Uint8Array): Promise<void>;
  onPacket(receiver: (packet: Uint8Array) => void): void;
  close(): Promise<void>;
}

export type DnsRecordType = 'AAAA' | 'A' | 'SRV';

export type DnsAnswer =
  | {
      readonly ok: true;
      readonly ttlSeconds: number;
      readonly addresses?: string[];
      readonly srv?: SrvAnswer[];
    }
  | { readonly ok: false; readonly reason: string };

export interface SrvAnswer {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

export interface DnsPort {
  /** Never rejects: a failure is an answer with `ok: false` and a reason (NXDOMAIN, timeout, ...). */
  resolve(name: string, type: DnsRecordType): Promise<DnsAnswer>;
}

/** An address appearing on or leaving an interface (what `ip monitor address` reports). */
export type LinkEvent =
  | {
      readonly type: 'ADDRESS.ADDED';
      readonly ifname: string;
      readonly family: Family;
      readonly address: string;
      readonly prefixLength: number;
    }
  | {
      readonly type: 'ADDRESS.REMOVED';
      readonly ifname: string;
      readonly family: Family;
      readonly address: string;
    }
  | { readonly type: 'LINK.DOWN'; readonly ifname: string };

export interface LinkMonitor {
  /** Reports the current addresses as ADDRESS.ADDED first, then changes as they happen. */
  start(listener: (event: LinkEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

/** Time for the actor layer (xstate's clock interface plus `now`). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};
