/**
 * The mobile node's tunnel endpoint (architecture.md, actor tree: mn/tunnel): packets from the
 * home addresses that the kernel routes into the MN's TUN device go to the home agent,
 * encapsulated as the current registration calls for (RFC 5555 §4.1: IPv6-in-IPv6 / IPv4-in-IPv6
 * from an IPv6 care-of address, protocol 41 / 4 from a public IPv4 one, UDP 4191 behind a NAT or
 * with F); packets from the home agent are decapsulated and handed to the kernel as if they had
 * arrived on the home link. The route changes only when the BA for the new care-of address has
 * arrived (the MN runtime calls setRoute then), never before.
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
} from '../wire/icmp.js';
import { countDrop, newTrafficCounters, snapshotCounters, type TrafficCounters } from './counters.js';
import {
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

/** Where the MN's packets go now: the registration the last BA confirmed. */
export interface MobileRoute {
  readonly mode: Encapsulation;
  /** The care-of address (IPv6 for 'ip6', IPv4 otherwise). */
  readonly careOf: string;
  /** The home agent's address of the same family. */
  readonly homeAgent: string;
  /** 'udp': our UDP port (the one the BUs leave from, so the NAT maps both alike) and the HA's. */
  readonly udp?: { readonly localPort: number; readonly remotePort: number };
}

export interface MobileTunnelOptions {
  readonly tun: TunPort;
  readonly sockets: TunnelSocketPort;
  readonly homeAddress: string;
  /** The home agent's addresses: the only outer sources accepted. */
  readonly homeAgent: { readonly ipv6?: string; readonly ipv4?: string };
  readonly pathMtu: number;
  readonly log: Logger;
}

export class MobileTunnel {
  private readonly hoa6: Uint8Array;
  private hoa4: Uint8Array | undefined;
  private ha6: Uint8Array | undefined;
  private ha4: Uint8Array | undefined;
  private ha4Text: string | undefined;
  private outer: OuterTemplate | undefined;
  private route: MobileRoute | undefined;
  private readonly traffic = newTrafficCounters();
  private readonly log: Logger;

  constructor(private readonly o: MobileTunnelOptions) {
    this.log = o.log.child({ actor: 'mn/tunnel' });
    const hoa6 = ipv6TextToBytes(o.homeAddress);
    if (!hoa6)
      throw new TypeError(`mobile tunnel: home address ${JSON.stringify(o.homeAddress)} is not IPv6`);
    this.hoa6 = hoa6;
    this.setHomeAgent(o.homeAgent);
    o.tun.onPacket((p) => this.fromHost(p));
    o.sockets.onPacket((p) => this.fromIpInIp(p));
  }

  /** The home agent in use (after discovery); its addresses are the accepted outer sources. */
  setHomeAgent(ha: { readonly ipv6?: string; readonly ipv4?: string }): void {
    this.ha6 = ha.ipv6 ? ipv6TextToBytes(ha.ipv6) : undefined;
    this.ha4 = ha.ipv4 ? ipv4TextToBytes(ha.ipv4) : undefined;
    this.ha4Text = this.ha4 ? ha.ipv4 : undefined;
  }

  /** The IPv4 home address the HA assigned (RFC 5555 §4.4.2), or none. */
  setIpv4HomeAddress(address: string | undefined): void {
    this.hoa4 = address ? ipv4TextToBytes(address) : undefined;
  }

  /** The confirmed registration's route, or undefined (at home, or no binding): nothing is tunnelled. */
  setRoute(route: MobileRoute | undefined): void {
    const same =
      route?.mode === this.route?.mode &&
      route?.careOf === this.route?.careOf &&
      route?.homeAgent === this.route?.homeAgent &&
      route?.udp?.localPort === this.route?.udp?.localPort &&
      route?.udp?.remotePort === this.route?.udp?.remotePort;
    if (same) return;
    this.route = route;
    this.outer = route ? templateFor(route) : undefined;
    this.log.info(
      { event: 'route', mode: route?.mode ?? null, coa: route?.careOf ?? null, ha: route?.homeAgent ?? null },
      route ? `tunnel ${route.mode} ${route.careOf} -> ${route.homeAgent}` : 'tunnel off',
    );
  }

  currentRoute(): MobileRoute | undefined {
    return this.route;
  }

  /** UDP-encapsulated data from the MN's UDP socket (the runtime tells it from signalling). */
  fromUdp(inner: Uint8Array, address: string, port: number): void {
    if (address !== this.ha4Text || (this.route?.udp && port !== this.route.udp.remotePort)) {
      countDrop(this.traffic, 'not-from-home-agent');
      return;
    }
    this.deliver(inner);
  }

  counters(): TrafficCounters {
    return snapshotCounters(this.traffic);
  }

  /** A packet the host sent from a home address: into the tunnel, or a counted drop. */
  private fromHost(packet: Uint8Array): void {
    const check = checkInner(packet);
    if (!check.ok) {
      countDrop(this.traffic, `host-${check.reason}`);
      return;
    }
    const src = sourceOf(packet);
    if (!sameAddress(src, this.hoa6) && !(this.hoa4 && sameAddress(src, this.hoa4))) {
      // Link-local chatter (MLD, router solicitations) the kernel sends on every interface.
      countDrop(this.traffic, 'not-from-home-address');
      return;
    }
    const outer = this.outer;
    if (!outer) {
      countDrop(this.traffic, 'no-binding');
      return;
    }
    const mtu = this.o.pathMtu - overhead(outer.mode);
    if (packet.length > mtu) {
      countDrop(this.traffic, 'too-big');
      if (dontFragment(packet)) this.tooBig(packet, mtu);
      return;
    }
    const out = encapsulateInPlace(outer, packet);
    if (!(outer.mode === 'ip6' ? this.o.sockets.send6(out) : this.o.sockets.send4(out))) {
      countDrop(this.traffic, 'send-failed');
      return;
    }
    this.traffic.packetsOut++;
    this.traffic.bytesOut += packet.length;
  }

  private fromIpInIp(p: ReceivedTunnelPacket): void {
    const ha = p.outerFamily === 6 ? this.ha6 : this.ha4;
    if (!ha || !sameAddress(p.src, ha)) {
      countDrop(this.traffic, 'not-from-home-agent');
      return;
    }
    this.deliver(p.inner, p.trafficClass);
  }

  /** A decapsulated packet into the host, checked first; `outerTrafficClass` for RFC 6040 (UDP: none). */
  private deliver(inner: Uint8Array, outerTrafficClass = 0): void {
    const check = checkInner(inner);
    if (!check.ok) {
      countDrop(this.traffic, `tunnel-${check.reason}`);
      return;
    }
    const dst = destinationOf(inner);
    if (!sameAddress(dst, this.hoa6) && !(this.hoa4 && sameAddress(dst, this.hoa4))) {
      countDrop(this.traffic, 'not-for-home-address');
      return;
    }
    if (!applyOuterEcn(outerTrafficClass, inner)) {
      countDrop(this.traffic, 'ecn-ce-not-ect');
      return;
    }
    if (!this.o.tun.write(inner)) {
      countDrop(this.traffic, 'tun-write-failed');
      return;
    }
    this.traffic.packetsIn++;
    this.traffic.bytesIn += inner.length;
  }

  /**
   * Packet Too Big / Fragmentation Needed to our own stack, as from the home agent (the far end of
   * the tunnel link), so the host's TCP lowers its MSS instead of the tunnel fragmenting.
   */
  private tooBig(packet: Uint8Array, mtu: number): void {
    if (packet[0]! >> 4 === 6) {
      if (!this.ha6) return;
      this.o.tun.write(
        emitIcmpv6Error({ type: Icmpv6Error.PacketTooBig, code: 0, parameter: mtu }, this.ha6, packet),
      );
    } else if (this.ha4) {
      const error = {
        type: Icmpv4Type.DestinationUnreachable,
        code: Icmpv4UnreachableCode.FragmentationNeeded,
        parameter: mtu,
      };
      this.o.tun.write(emitIcmpv4Error(error, this.ha4, packet));
    }
  }
}

function templateFor(r: MobileRoute): OuterTemplate | undefined {
  if (r.mode === 'ip6') {
    const src = ipv6TextToBytes(r.careOf);
    const dst = ipv6TextToBytes(r.homeAgent);
    return src && dst ? { mode: 'ip6', src, dst } : undefined;
  }
  const src = ipv4TextToBytes(r.careOf);
  const dst = ipv4TextToBytes(r.homeAgent);
  if (!src || !dst) return undefined;
  return r.mode === 'udp' && r.udp
    ? { mode: 'udp', src, dst, srcPort: r.udp.localPort, dstPort: r.udp.remotePort }
    : { mode: 'ip4', src, dst };
}
