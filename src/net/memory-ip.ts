/**
 * The in-memory twin of the raw IP port (src/net/raw-ipv6.ts): whole IP packets delivered by
 * their Destination Address between hosts, on a Clock, so in-memory tests can exercise native
 * IPv6 signalling (a BU with a Home Address option to the HA, a BA with a Type 2 Routing Header
 * to the MN) exactly as the daemons will send and receive it over raw sockets.
 *
 * Fidelity to the real port. A packet is sent as it is (no header is touched, the source is not
 * checked: IPPROTO_RAW sockets do not check it either). A port receives the packets addressed to
 * its host whose FIRST Next Header (IPv6 byte 6; IPv4 Protocol, byte 9) is one of its `receive`
 * protocols, as a raw socket per protocol does; each port gets its own copy. There is no NAT and
 * no routing here: IPv6 signalling crosses none, and IPv4 signalling is UDP (MemoryNetwork).
 *
 * Hosts and addresses: either this network's own (addHost/setAddresses), or, given an address
 * book such as a MemoryNetwork, that network's hosts, looked up at every send and delivery, so a
 * host that moves there (MemoryNetwork.setAddresses) moves here too.
 */

import { canonicalAddress, parseHostAddress } from './memory.js';
import type { Clock, IpPacketPort } from './ports.js';

/** Where hosts' addresses come from (MemoryNetwork has this shape). */
export interface AddressBook {
  addresses(host: string): string[];
}

export interface MemoryIpNetworkOptions {
  readonly clock: Clock;
  /** Take hosts' addresses from here (e.g. the MemoryNetwork of the same test). Default: own. */
  readonly addresses?: AddressBook;
  /** One-way delay of every packet in ms. Default 0 (delivered on a microtask). */
  readonly latencyMs?: number;
  /** Called for every packet sent, with what became of it. */
  readonly trace?: (entry: MemoryIpTraceEntry) => void;
}

export type MemoryIpDropReason = 'unroutable' | 'no-socket' | 'no-receiver';

export interface MemoryIpTraceEntry {
  readonly time: number;
  readonly from: string;
  readonly src: string;
  readonly dst: string;
  readonly bytes: number;
  readonly outcome:
    | { readonly delivered: true; readonly host: string; readonly ports: number }
    | { readonly delivered: false; readonly reason: MemoryIpDropReason };
}

export interface MemoryIpNetworkStats {
  readonly sent: number;
  readonly delivered: number;
  readonly dropped: Readonly<Record<MemoryIpDropReason, number>>;
}

export interface MemoryIpPortOptions {
  /** First Next Header / Protocol values to receive, or 'all'. Default none: send only. */
  readonly receive?: readonly number[] | 'all';
  /** A receiver that threw (counted in `errors` as well), as the real port reports it. */
  readonly onError?: (error: Error) => void;
}

export interface MemoryIpPortStats {
  readonly sent: number;
  readonly received: number;
  readonly droppedNoReceiver: number;
  readonly errors: number;
}

interface IpHost {
  readonly name: string;
  /** Own addresses (canonical); unused with an address book. */
  addresses: string[];
  readonly ports: Set<MemoryIpPort>;
}

/** Version, addresses and first protocol of an IPv4 or IPv6 packet; undefined if it is neither. */
export function ipPacketAddresses(
  packet: Uint8Array,
): { family: 4 | 6; src: string; dst: string; protocol: number } | undefined {
  const version = packet[0] === undefined ? 0 : packet[0] >> 4;
  if (version === 6 && packet.length >= 40)
    return { family: 6, src: ipv6Text(packet, 8), dst: ipv6Text(packet, 24), protocol: packet[6]! };
  if (version === 4 && packet.length >= 20)
    return {
      family: 4,
      src: packet.subarray(12, 16).join('.'),
      dst: packet.subarray(16, 20).join('.'),
      protocol: packet[9]!,
    };
  return undefined;
}

function ipv6Text(buf: Uint8Array, offset: number): string {
  const words: string[] = [];
  for (let i = offset; i < offset + 16; i += 2) words.push(((buf[i]! << 8) | buf[i + 1]!).toString(16));
  return canonicalAddress(words.join(':'));
}

export class MemoryIpNetwork {
  readonly clock: Clock;
  private readonly hosts = new Map<string, IpHost>();
  private readonly book: AddressBook | undefined;
  private readonly latencyMs: number;
  private readonly trace: ((entry: MemoryIpTraceEntry) => void) | undefined;
  private counters = { sent: 0, delivered: 0, dropped: { unroutable: 0, 'no-socket': 0, 'no-receiver': 0 } };

  constructor(options: MemoryIpNetworkOptions) {
    this.clock = options.clock;
    this.book = options.addresses;
    this.latencyMs = options.latencyMs ?? 0;
    if (!(this.latencyMs >= 0))
      throw new Error(`memory ip network: latencyMs ${this.latencyMs}: must be >= 0`);
    this.trace = options.trace;
  }

  /** Adds a host with its own addresses (not with an address book: its hosts come from there). */
  addHost(name: string, addresses: readonly string[] = []): void {
    if (this.book) throw new Error(`memory ip network: host "${name}": hosts come from the address book`);
    if (this.hosts.has(name)) throw new Error(`memory ip network: host "${name}" exists already`);
    this.hosts.set(name, { name, addresses: [], ports: new Set() });
    this.setAddresses(name, addresses);
  }

  /** Replaces a host's own addresses: the host moved. Packets in flight to an old one are dropped. */
  setAddresses(name: string, addresses: readonly string[]): void {
    if (this.book) throw new Error(`memory ip network: host "${name}": addresses come from the address book`);
    const host = this.hosts.get(name);
    if (!host) throw new Error(`memory ip network: no host "${name}"`);
    const next = addresses.map((a) => parseHostAddress(a, `host "${name}" address`).address);
    for (const a of next) {
      const owner = this.ownerOf(a);
      if (owner && owner !== host)
        throw new Error(`memory ip network: address ${a} of host "${name}" belongs to "${owner.name}"`);
    }
    host.addresses = next;
  }

  addresses(name: string): string[] {
    const host = this.hosts.get(name);
    if (this.book) return this.book.addresses(name);
    if (!host) throw new Error(`memory ip network: no host "${name}"`);
    return [...host.addresses];
  }

  /**
   * The IpPacketPort of one host (what the real port is: a send socket and one per receive
   * protocol). With an address book, only hosts that opened a port are known here: a packet to
   * another host's address is dropped as unroutable.
   */
  port(name: string, options: MemoryIpPortOptions = {}): MemoryIpPort {
    let host = this.hosts.get(name);
    if (!host) {
      if (!this.book) throw new Error(`memory ip network: no host "${name}"`);
      this.book.addresses(name); // throws for a host the book does not know
      host = { name, addresses: [], ports: new Set() };
      this.hosts.set(name, host);
    }
    const target = host;
    const port = new MemoryIpPort(
      options.receive ?? [],
      options.onError,
      (p, packet) => this.transmit(target, p, packet),
      (p) => target.ports.delete(p),
    );
    target.ports.add(port);
    return port;
  }

  stats(): MemoryIpNetworkStats {
    return {
      sent: this.counters.sent,
      delivered: this.counters.delivered,
      dropped: { ...this.counters.dropped },
    };
  }

  private owns(host: IpHost, address: string): boolean {
    return (this.book ? this.book.addresses(host.name).map(canonicalAddress) : host.addresses).includes(
      address,
    );
  }

  private ownerOf(address: string): IpHost | undefined {
    for (const host of this.hosts.values()) if (this.owns(host, address)) return host;
    return undefined;
  }

  private transmit(from: IpHost, port: MemoryIpPort, packet: Uint8Array): Promise<void> {
    const header = ipPacketAddresses(packet);
    if (!header)
      return Promise.reject(
        new Error(`memory ip network: send from "${from.name}": a ${packet.length}-byte packet: EINVAL`),
      );
    const data = packet.slice();
    const { src, dst, protocol } = header;
    this.counters.sent++;
    port.counted('sent');
    const record = (outcome: MemoryIpTraceEntry['outcome']) =>
      this.trace?.({ time: this.clock.now(), from: from.name, src, dst, bytes: data.length, outcome });
    const drop = (reason: MemoryIpDropReason) => {
      this.counters.dropped[reason]++;
      record({ delivered: false, reason });
    };
    const target = this.ownerOf(dst);
    if (!target) {
      drop('unroutable');
      return Promise.resolve();
    }
    const deliver = () => {
      // The receiver may have moved or closed its ports while the packet was in flight.
      if (!this.owns(target, dst)) return drop('unroutable');
      const ports = [...target.ports].filter((p) => p.wants(protocol));
      if (!ports.length) return drop('no-socket');
      let delivered = 0;
      for (const p of ports) if (p.deliver(data.slice())) delivered++;
      if (!delivered) return drop('no-receiver');
      this.counters.delivered++;
      record({ delivered: true, host: target.name, ports: delivered });
    };
    if (this.latencyMs === 0) queueMicrotask(deliver);
    else this.clock.setTimeout(deliver, this.latencyMs);
    return Promise.resolve();
  }
}

export class MemoryIpPort implements IpPacketPort {
  private receiver: ((packet: Uint8Array) => void) | undefined;
  private closed = false;
  private counters = { sent: 0, received: 0, droppedNoReceiver: 0, errors: 0 };

  /** Use MemoryIpNetwork.port. */
  constructor(
    private readonly receive: readonly number[] | 'all',
    private readonly onError: ((error: Error) => void) | undefined,
    private readonly transmit: (port: MemoryIpPort, packet: Uint8Array) => Promise<void>,
    private readonly release: (port: MemoryIpPort) => void,
  ) {}

  send(packet: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error('memory ip network: send on a closed port: EBADF'));
    return this.transmit(this, packet);
  }

  onPacket(receiver: (packet: Uint8Array) => void): void {
    this.receiver = receiver;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release(this);
  }

  stats(): MemoryIpPortStats {
    return { ...this.counters };
  }

  /** @internal */
  counted(what: 'sent'): void {
    this.counters[what]++;
  }

  /** @internal Whether a raw socket for this port's protocols would see the packet. */
  wants(protocol: number): boolean {
    return !this.closed && (this.receive === 'all' || this.receive.includes(protocol));
  }

  /** @internal False when there is no receiver (the packet is dropped and counted). */
  deliver(packet: Uint8Array): boolean {
    this.counters.received++;
    if (!this.receiver || this.closed) {
      this.counters.droppedNoReceiver++;
      return false;
    }
    try {
      this.receiver(packet);
    } catch (e) {
      // As the real port: a throwing receiver is reported, never thrown into the network.
      this.counters.errors++;
      this.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
    return true;
  }
}
