/**
 * The home agent's side of the kernel (architecture.md, "Virtual home network"): the TUN device's
 * MTU and routes, and interception of the home addresses that have a binding.
 *
 * Two shapes of home network:
 * - virtual (no `homeLink`): the whole home prefix and the IPv4 home-address pool are routed into
 *   the TUN; a packet for a home address without a binding reaches the daemon, which answers with
 *   ICMP/ICMPv6 Destination Unreachable. RFC 6275 allows such a home link with no nodes on it.
 * - a real home link (`homeLink`, e.g. eth0, where a mobile node can be at home): a bound home
 *   address is intercepted with a host route into the TUN and a proxy neighbour entry on the
 *   home link, so the home link's router hands the HA its packets (proxy Neighbor Discovery, RFC
 *   6275 §10.4.1; proxy ARP for an IPv4 home address on that link, RFC 5555 §4.5). Without a
 *   binding the packets go to the link as usual: to the mobile node when it is at home.
 * The IPv4 pool is routed into the TUN unless it lies on the home link.
 */

import type { Logger } from 'pino';
import { type IpCommandRunner, readSysctl, writeSysctl } from '../net/ip-commands.js';
import { NeighborAnnouncer } from '../net/neighbor-announce.js';
import { ipv4TextToBytes, ipv6TextToBytes } from '../wire/address.js';
import type { HomeInterception } from './home-tunnel.js';

export interface HomeNetworkOptions {
  /** The TUN device (already created by the TUN port). */
  readonly tun: string;
  /** The TUN's MTU: path MTU minus the largest encapsulation overhead. */
  readonly mtu: number;
  readonly homePrefix: string;
  /** The real home link, if any. */
  readonly homeLink?: string;
  /** The IPv4 home-address pool as a prefix (`198.51.100.128/25`). */
  readonly ipv4Pool?: string;
  /** Whether the pool lies on the home link (then its addresses are proxied there, not routed). */
  readonly ipv4PoolOnLink?: boolean;
  readonly commands: IpCommandRunner;
  readonly log: Logger;
}

export interface HomeNetwork extends HomeInterception {
  /** Removes what set-up and interception added outside the TUN (proxy entries); the TUN's own routes go with it. */
  teardown(): Promise<void>;
}

export async function setupHomeNetwork(o: HomeNetworkOptions): Promise<HomeNetwork> {
  const log = o.log.child({ actor: 'ha/tunnel' });
  const c = o.commands;
  // No link-local address and no router solicitations on a point-to-point tunnel device.
  await c.run(['link', 'set', 'dev', o.tun, 'addrgenmode', 'none']);
  // A longer queue than TUN's default 500 absorbs the bursts TCP sends into the tunnel.
  await c.run(['link', 'set', 'dev', o.tun, 'mtu', String(o.mtu), 'txqueuelen', '1000', 'up']);
  for (const key of ['net/ipv6/conf/all/forwarding', 'net/ipv4/ip_forward']) {
    if ((await readSysctl(key)) !== '1') {
      log.warn(
        { event: 'sysctl', key },
        `${key.replaceAll('/', '.')} is not 1: the home agent cannot forward between the tunnel and the network`,
      );
    }
  }
  if (o.homeLink) {
    await writeSysctl(`net/ipv6/conf/${o.homeLink}/proxy_ndp`, 1);
  } else {
    await c.run(['-6', 'route', 'replace', o.homePrefix, 'dev', o.tun]);
  }
  if (o.ipv4Pool && !o.ipv4PoolOnLink) await c.run(['-4', 'route', 'replace', o.ipv4Pool, 'dev', o.tun]);
  log.info(
    {
      event: 'home-network',
      tun: o.tun,
      mtu: o.mtu,
      homeLink: o.homeLink ?? null,
      pool: o.ipv4Pool ?? null,
      poolOnLink: o.ipv4PoolOnLink ?? false,
    },
    o.homeLink
      ? `home network: link ${o.homeLink} (proxy ND for bound home addresses), tunnel ${o.tun} mtu ${o.mtu}`
      : `virtual home network ${o.homePrefix} on ${o.tun} mtu ${o.mtu}`,
  );

  const proxied = new Set<string>();
  const announcer = o.homeLink ? new NeighborAnnouncer(o.homeLink) : undefined;
  const proxy = (family: '-4' | '-6', address: string): void => {
    if (!o.homeLink) return;
    proxied.add(`${family} ${address}`);
    c.run([family, 'neigh', 'replace', 'proxy', address, 'dev', o.homeLink])
      .then(() => {
        // RFC 6275 §10.4.1: tell the link at once, or the router keeps sending to the MN's old MAC.
        if (family === '-6') announcer?.announceIpv6(ipv6TextToBytes(address) ?? new Uint8Array(16));
        else announcer?.announceIpv4(ipv4TextToBytes(address) ?? new Uint8Array(4));
      })
      .catch((e: Error) => log.warn({ event: 'proxy.failed', error: e.message }, e.message));
  };
  const unproxy = (family: '-4' | '-6', address: string): void => {
    if (!o.homeLink || !proxied.delete(`${family} ${address}`)) return;
    c.enqueue([family, 'neigh', 'del', 'proxy', address, 'dev', o.homeLink], { gone: 'ok' });
  };

  return {
    intercept(homeAddress, ipv4HomeAddress) {
      c.enqueue(['-6', 'route', 'replace', `${homeAddress}/128`, 'dev', o.tun]);
      proxy('-6', homeAddress);
      if (ipv4HomeAddress) {
        c.enqueue(['-4', 'route', 'replace', `${ipv4HomeAddress}/32`, 'dev', o.tun]);
        if (o.ipv4PoolOnLink) proxy('-4', ipv4HomeAddress);
      }
    },
    release(homeAddress, ipv4HomeAddress) {
      unproxy('-6', homeAddress);
      c.enqueue(['-6', 'route', 'del', `${homeAddress}/128`, 'dev', o.tun], { gone: 'ok' });
      if (ipv4HomeAddress) {
        unproxy('-4', ipv4HomeAddress);
        c.enqueue(['-4', 'route', 'del', `${ipv4HomeAddress}/32`, 'dev', o.tun], { gone: 'ok' });
      }
    },
    async teardown() {
      for (const entry of [...proxied]) {
        const [family, address] = entry.split(' ') as ['-4' | '-6', string];
        unproxy(family, address);
      }
      await c.settled();
    },
  };
}
