/**
 * Unsolicited neighbour announcements on the home link. When the home agent starts intercepting a
 * home address, the home link's router may still hold the mobile node's own link-layer address
 * (it was at home a moment ago); RFC 6275 §10.4.1 has the HA multicast a Neighbor Advertisement
 * with the Override flag for the home address, so the router sends to the HA at once instead of
 * after neighbour unreachability detection gives up (seconds). For an IPv4 home address on the
 * link the same job is a gratuitous ARP (RFC 5944 §4.6; RFC 5555 §4.5 points there).
 *
 * ICMPv6 through a raw IPPROTO_ICMPV6 socket (the kernel fills in the checksum and the link-local
 * source); ARP through an AF_PACKET datagram socket to the broadcast address.
 */

import { readFileSync } from 'node:fs';
import { AF_INET6, int32, libc, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_RAW, SOL_IPV6 } from './libc.js';

const AF_PACKET = 17;
const IPPROTO_ICMPV6 = 58;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const ETH_P_ARP = 0x0806;
const ND_NEIGHBOR_ADVERT = 136;
/** NA flags: Router (the HA is one), Override (replace the cached address); not Solicited. */
const NA_FLAGS_ROUTER_OVERRIDE = 0xa0;
const NA_FLAG_OVERRIDE = 0x20;
const ND_OPT_TARGET_LINKADDR = 2;
const ALL_NODES = Uint8Array.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/** An interface's index and MAC from sysfs. */
export function linkInfo(ifname: string): { index: number; mac: Uint8Array } {
  const index = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8').trim());
  const text = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim();
  return { index, mac: Uint8Array.from(text.split(':').map((h) => Number.parseInt(h, 16))) };
}

/**
 * The ICMPv6 part of an unsolicited NA for `target` (checksum left 0 for the kernel): Override set,
 * Solicited clear, Router set when the sender is a router (the HA; not the MN at home).
 */
export function unsolicitedNeighborAdvertisement(
  target: Uint8Array,
  mac: Uint8Array,
  router = true,
): Uint8Array {
  const m = new Uint8Array(32);
  m[0] = ND_NEIGHBOR_ADVERT;
  m[4] = router ? NA_FLAGS_ROUTER_OVERRIDE : NA_FLAG_OVERRIDE;
  m.set(target.subarray(0, 16), 8);
  m[24] = ND_OPT_TARGET_LINKADDR;
  m[25] = 1; // length in units of 8 octets
  m.set(mac.subarray(0, 6), 26);
  return m;
}

/** A gratuitous ARP request: sender and target protocol address both `address` (RFC 5227 §3). */
export function gratuitousArp(address: Uint8Array, mac: Uint8Array): Uint8Array {
  const a = new Uint8Array(28);
  a.set([0, 1, 0x08, 0x00, 6, 4, 0, 1]); // Ethernet, IPv4, hlen 6, plen 4, request
  a.set(mac.subarray(0, 6), 8);
  a.set(address.subarray(0, 4), 14);
  a.set(address.subarray(0, 4), 24);
  return a;
}

/** Sends the announcements on one link; failures are thrown as Errors naming the call. */
export class NeighborAnnouncer {
  private readonly index: number;
  private readonly mac: Uint8Array;

  constructor(readonly ifname: string) {
    ({ index: this.index, mac: this.mac } = linkInfo(ifname));
  }

  /** RFC 6275 §10.4.1, §11.5.5: an unsolicited NA (O=1) for `target` to all nodes on the link. */
  announceIpv6(target: Uint8Array, router = true): void {
    const c = libc();
    const fd = c.socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) throw new Error(`neighbor advertisement on ${this.ifname}: socket: ${c.errno()}`);
    try {
      // RFC 4861 §7.1.2: ND messages are accepted only with a hop limit of 255.
      c.setsockopt(fd, SOL_IPV6, IPV6_MULTICAST_HOPS, int32(255), 4);
      c.setsockopt(fd, SOL_IPV6, IPV6_MULTICAST_IF, int32(this.index), 4);
      const addr = Buffer.alloc(28);
      addr.writeUInt16LE(AF_INET6, 0);
      addr.set(ALL_NODES, 8);
      addr.writeUInt32LE(this.index, 24);
      const na = unsolicitedNeighborAdvertisement(target, this.mac, router);
      if (c.sendto(fd, na, na.length, 0, addr, addr.length) < 0)
        throw new Error(`neighbor advertisement on ${this.ifname}: sendto: ${c.errno()}`);
    } finally {
      c.close(fd);
    }
  }

  /** A gratuitous ARP for `address` (4 bytes) with the link's own MAC, broadcast. */
  announceIpv4(address: Uint8Array): void {
    const c = libc();
    const fd = c.socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) throw new Error(`gratuitous ARP on ${this.ifname}: socket: ${c.errno()}`);
    try {
      // struct sockaddr_ll: family(2) protocol(2, network order) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
      const ll = Buffer.alloc(20);
      ll.writeUInt16LE(AF_PACKET, 0);
      ll.writeUInt16BE(ETH_P_ARP, 2);
      ll.writeInt32LE(this.index, 4);
      ll[11] = 6;
      ll.fill(0xff, 12, 18);
      const arp = gratuitousArp(address, this.mac);
      if (c.sendto(fd, arp, arp.length, 0, ll, ll.length) < 0)
        throw new Error(`gratuitous ARP on ${this.ifname}: sendto: ${c.errno()}`);
    } finally {
      c.close(fd);
    }
  }
}

const htons = (v: number): number => ((v & 0xff) << 8) | (v >> 8);
