/**
 * The home agent's tunnel endpoint (architecture.md, actor tree: ha/tunnel): packets the kernel
 * routes into the home-network TUN device go to the binding of their destination home address,
 * encapsulated as that binding says (RFC 5555 §4.1); packets coming out of a tunnel are
 * decapsulated and handed to the kernel only if their inner source is the home address bound to
 * the care-of address they came from (reverse tunnelling with ingress filtering, RFC 6275 §10.4.5).
 *
 * Bindings come from the binding cache (the HA runtime's onBinding); this module keeps only what
 * forwarding needs, keyed by address bytes, and counts everything per binding.
 */

import type { Logger } from 'pino';
import type { ReceivedTunnelPacket, TunnelSocketPort } from '../net/raw-tunnel.js';
import type { TunPort } from '../net/tun.js';
import { ipv4TextToBytes, ipv6TextToBytes } from '../wire/address.js';
import {
  emitIcmpv4Error,
  emitIcmpv6Error,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  Icmpv6Error,
  Icmpv6UnreachableCode,
  icmpErrorAllowed,
} from '../wire/icmp.js';
import {
  countDrop,
  newTrafficCounters,
  snapshotCounters,
  TokenBucket,
  type TrafficCounters,
} from './counters.js';
import {
  addressKey,
  applyOuterEcn,
  checkInner,
  destinationOf,
  dontFragment,
  type Encapsulation,
  encapsulateInPlace,
  type OuterTemplate,
  overhead,
  sameAddress,
  sourceOf,
} from './packet.js';

/** What forwarding needs of one binding (from the binding cache entry's report). */
export interface TunnelBinding {
  readonly homeAddress: string;
  readonly ipv4HomeAddress?: string;
  readonly mode: Encapsulation;
  /** The care-of address (IPv6 for 'ip6', IPv4 for 'ip4'). */
  readonly careOf: string;
  /** 'udp': where the packets go and come from (the NAT's mapped address and port, RFC 5555 §4.2). */
  readonly udp?: { readonly address: string; readonly port: number };
}

/** Where the kernel must send a home address's packets: into the TUN (intercept) or not. */
export interface HomeInterception {
  intercept(homeAddress: string, ipv4HomeAddress: string | undefined): void;
  release(homeAddress: string, ipv4HomeAddress: string | undefined): void;
}

export interface HomeTunnelOptions {
  readonly tun: TunPort;
  readonly sockets: TunnelSocketPort;
  /** The HA's own addresses: outer sources of tunnel packets and of ICMP errors. */
  readonly addresses: { readonly ipv6: string; readonly ipv4?: string };
  readonly udpPort: number;
  /** MTU of the path to the care-of addresses (the HA's link MTU by default). */
  readonly pathMtu: number;
  readonly log: Logger;
  readonly interception?: HomeInterception;
  readonly now?: () => number;
}

interface Entry {
  readonly binding: TunnelBinding;
  /** Its keys in byAddress (IPv6 HoA, IPv4 HoA). */
  readonly keys: string[];
  readonly outer: OuterTemplate;
  readonly counters: TrafficCounters;
}

export interface HomeTunnelCounters {
  /** Drops that belong to no binding (no binding for the destination, malformed packets, ...). */
  readonly dropped: Record<string, number>;
  readonly icmpSent: number;
  readonly bindings: Record<string, TrafficCounters>;
}

export class HomeTunnel {
  private readonly byHomeAddress = new Map<string, Entry>();
  /** Destination/source address bytes (IPv6 HoA and IPv4 HoA) → entry. */
  private readonly byAddress = new Map<string, Entry>();
  private readonly dropped: Record<string, number> = {};
  private icmpSent = 0;
  private readonly ha6: Uint8Array;
  private readonly ha4: Uint8Array | undefined;
  private readonly icmpBudget: TokenBucket;
  private readonly log: Logger;

  constructor(private readonly o: HomeTunnelOptions) {
    this.log = o.log.child({ actor: 'ha/tunnel' });
    this.ha6 = ipv6TextToBytes(o.addresses.ipv6) ?? new Uint8Array(16);
    this.ha4 = o.addresses.ipv4 ? ipv4TextToBytes(o.addresses.ipv4) : undefined;
    this.icmpBudget = new TokenBucket(100, 100, o.now ?? Date.now);
    o.tun.onPacket((p) => this.fromHomeNetwork(p));
    o.sockets.onPacket((p) => this.fromIpInIp(p));
  }

  /** A binding was registered or refreshed (`binding`) or removed (`undefined`). */
  setBinding(homeAddress: string, binding: TunnelBinding | undefined): void {
    const old = this.byHomeAddress.get(homeAddress);
    if (old) {
      this.byHomeAddress.delete(homeAddress);
      this.unindex(old);
    }
    if (!binding) {
      if (old) this.o.interception?.release(homeAddress, old.binding.ipv4HomeAddress);
      return;
    }
    const outer = this.templateFor(binding);
    if (!outer) {
      if (old) this.o.interception?.release(homeAddress, old.binding.ipv4HomeAddress);
      this.count('unusable-binding');
      const why =
        binding.mode !== 'ip6' && !this.ha4
          ? 'the home agent has no IPv4 address (config addresses.ipv4)'
          : binding.mode === 'udp' && !binding.udp
            ? 'no UDP endpoint in the binding'
            : `care-of address ${binding.careOf} is not an IPv${binding.mode === 'ip6' ? 6 : 4} address`;
      this.log.warn(
        { event: 'binding.unusable', hoa: homeAddress, mode: binding.mode, coa: binding.careOf },
        `binding ${homeAddress} (${binding.mode}) cannot be tunnelled: ${why}`,
      );
      return;
    }
    // A refresh keeps the counters; a new care-of address is the same binding moving.
    const hoa6 = ipv6TextToBytes(homeAddress);
    const hoa4 = binding.ipv4HomeAddress ? ipv4TextToBytes(binding.ipv4HomeAddress) : undefined;
    const keys = [hoa6, hoa4].flatMap((a) => (a ? [addressKey(a)] : []));
    const entry: Entry = { binding, keys, outer, counters: old?.counters ?? newTrafficCounters() };
    this.byHomeAddress.set(homeAddress, entry);
    for (const k of keys) this.byAddress.set(k, entry);
    if (!old || old.binding.ipv4HomeAddress !== binding.ipv4HomeAddress) {
      if (old) this.o.interception?.release(homeAddress, old.binding.ipv4HomeAddress);
      this.o.interception?.intercept(homeAddress, binding.ipv4HomeAddress);
    }
  }

  /** UDP-encapsulated data from port 4191 (the HA runtime tells it from signalling). */
  fromUdp(inner: Uint8Array, address: string, port: number): void {
    const entry = this.ingress(inner);
    if (!entry) return;
    const u = entry.binding.udp;
    if (entry.binding.mode !== 'udp' || !u || u.address !== address || u.port !== port) {
      countDrop(entry.counters, 'ingress-wrong-care-of');
      return;
    }
    this.deliver(entry, inner);
  }

  counters(): HomeTunnelCounters {
    const bindings: Record<string, TrafficCounters> = {};
    for (const [hoa, e] of this.byHomeAddress) bindings[hoa] = snapshotCounters(e.counters);
    return { dropped: { ...this.dropped }, icmpSent: this.icmpSent, bindings };
  }

  /** Counters of one binding (undefined when there is none). */
  bindingCounters(homeAddress: string): TrafficCounters | undefined {
    const e = this.byHomeAddress.get(homeAddress);
    return e ? snapshotCounters(e.counters) : undefined;
  }

  get size(): number {
    return this.byHomeAddress.size;
  }

  /** Stops intercepting for every binding (the daemon is going away). */
  releaseAll(): void {
    for (const [hoa, e] of this.byHomeAddress) this.o.interception?.release(hoa, e.binding.ipv4HomeAddress);
    this.byHomeAddress.clear();
    this.byAddress.clear();
  }

  private templateFor(b: TunnelBinding): OuterTemplate | undefined {
    if (b.mode === 'ip6') {
      const dst = ipv6TextToBytes(b.careOf);
      return dst ? { mode: 'ip6', src: this.ha6, dst } : undefined;
    }
    if (!this.ha4) return undefined;
    if (b.mode === 'ip4') {
      const dst = ipv4TextToBytes(b.careOf);
      return dst ? { mode: 'ip4', src: this.ha4, dst } : undefined;
    }
    const dst = b.udp ? ipv4TextToBytes(b.udp.address) : undefined;
    return dst && b.udp
      ? { mode: 'udp', src: this.ha4, dst, srcPort: this.o.udpPort, dstPort: b.udp.port }
      : undefined;
  }

  private unindex(e: Entry): void {
    for (const k of e.keys) if (this.byAddress.get(k) === e) this.byAddress.delete(k);
  }

  /** A packet the kernel routed into the home network: to its binding, or an ICMP error. */
  private fromHomeNetwork(packet: Uint8Array): void {
    const check = checkInner(packet);
    if (!check.ok) {
      this.count(`home-network-${check.reason}`);
      return;
    }
    const entry = this.byAddress.get(addressKey(destinationOf(packet)));
    if (!entry) {
      this.count('no-binding');
      this.icmpError(packet, 'unreachable');
      return;
    }
    const mtu = this.o.pathMtu - overhead(entry.outer.mode);
    if (packet.length > mtu) {
      countDrop(entry.counters, 'too-big');
      // Never fragment: tell the sender (RFC 4443 §3.2, RFC 1191); an IPv4 packet without DF
      // cannot do path MTU discovery and is dropped (counted) rather than fragmented.
      if (dontFragment(packet)) this.icmpError(packet, 'too-big', mtu);
      return;
    }
    const out = encapsulateInPlace(entry.outer, packet);
    const sent = entry.outer.mode === 'ip6' ? this.o.sockets.send6(out) : this.o.sockets.send4(out);
    if (!sent) {
      countDrop(entry.counters, 'send-failed');
      return;
    }
    entry.counters.packetsOut++;
    entry.counters.bytesOut += packet.length;
  }

  private fromIpInIp(p: ReceivedTunnelPacket): void {
    const entry = this.ingress(p.inner);
    if (!entry) return;
    const want = entry.outer.mode === 'ip6' ? 6 : entry.outer.mode === 'ip4' ? 4 : 0;
    if (p.outerFamily !== want || !sameAddress(p.src, entry.outer.dst)) {
      countDrop(entry.counters, 'ingress-wrong-care-of');
      return;
    }
    if (!applyOuterEcn(p.trafficClass, p.inner)) {
      countDrop(entry.counters, 'ecn-ce-not-ect');
      return;
    }
    this.deliver(entry, p.inner);
  }

  /** RFC 6275 §10.4.5 ingress filtering: the binding of the inner source, or a counted drop. */
  private ingress(inner: Uint8Array): Entry | undefined {
    const check = checkInner(inner);
    if (!check.ok) {
      this.count(`tunnel-${check.reason}`);
      return undefined;
    }
    const entry = this.byAddress.get(addressKey(sourceOf(inner)));
    if (!entry) this.count('ingress-no-binding');
    return entry;
  }

  private deliver(entry: Entry, inner: Uint8Array): void {
    if (!this.o.tun.write(inner)) {
      countDrop(entry.counters, 'tun-write-failed');
      return;
    }
    entry.counters.packetsIn++;
    entry.counters.bytesIn += inner.length;
  }

  private icmpError(packet: Uint8Array, kind: 'unreachable' | 'too-big', mtu = 0): void {
    if (!icmpErrorAllowed(packet) || !this.icmpBudget.take()) return;
    let sent = false;
    if (packet[0]! >> 4 === 6) {
      const error =
        kind === 'too-big'
          ? { type: Icmpv6Error.PacketTooBig, code: 0, parameter: mtu }
          : {
              type: Icmpv6Error.DestinationUnreachable,
              code: Icmpv6UnreachableCode.AddressUnreachable,
              parameter: 0,
            };
      sent = this.o.sockets.send6(emitIcmpv6Error(error, this.ha6, packet));
    } else if (this.ha4) {
      const error =
        kind === 'too-big'
          ? {
              type: Icmpv4Type.DestinationUnreachable,
              code: Icmpv4UnreachableCode.FragmentationNeeded,
              parameter: mtu,
            }
          : {
              type: Icmpv4Type.DestinationUnreachable,
              code: Icmpv4UnreachableCode.HostUnreachable,
              parameter: 0,
            };
      sent = this.o.sockets.send4(emitIcmpv4Error(error, this.ha4, packet));
    }
    if (sent) this.icmpSent++;
  }

  private count(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }
}
