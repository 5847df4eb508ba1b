/**
 * The data plane as the daemons start it: the TUN device, the raw tunnel sockets, the kernel's
 * routes, and the tunnel endpoint, put together from a config; then the hooks the runtime calls
 * (bindings or registrations, UDP-encapsulated data) and the counters `dsmip6 status` shows.
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { IpCommands } from '../net/ip-commands.js';
import { NeighborAnnouncer } from '../net/neighbor-announce.js';
import { RawTunnelSockets } from '../net/raw-tunnel.js';
import { TunDevice } from '../net/tun.js';
import { ipv4TextToBytes, ipv6TextToBytes } from '../wire/address.js';
import type { TrafficCounters } from './counters.js';
import { setupHomeNetwork } from './home-network.js';
import { HomeTunnel, type HomeTunnelCounters, type TunnelBinding } from './home-tunnel.js';
import { setupMobileNetwork } from './mobile-network.js';
import { type MobileRoute, MobileTunnel } from './mobile-tunnel.js';
import { type Encapsulation, MAX_OVERHEAD } from './packet.js';

/** UDP socket buffers when the socket carries tunnelled data (capped by net.core.rmem_max). */
export const DATAPLANE_SOCKET_BUFFER = 4 * 1024 * 1024;

export interface DataplaneSettings {
  readonly tun: string;
  /** Path MTU; the TUN gets this minus the largest encapsulation overhead. */
  readonly mtu: number;
}

/** The binding cache's view of a binding (the HA runtime's Binding, structurally). */
export interface CachedBinding {
  readonly careOf: { readonly address: string };
  readonly tunnel: string;
  readonly nat?: { readonly address: string; readonly port: number };
  readonly udpEndpoint?: { readonly address: string; readonly port: number };
  readonly ipv4HomeAddress?: string;
}

export interface HomeDataplane {
  onBinding(homeAddress: string, binding: CachedBinding | undefined): void;
  onTunnelData(datagram: {
    readonly data: Uint8Array;
    readonly address: string;
    readonly port: number;
  }): void;
  counters(): HomeTunnelCounters;
  stop(): Promise<void>;
}

const isEncapsulation = (t: string): t is Encapsulation => t === 'ip6' || t === 'ip4' || t === 'udp';

/** The binding cache entry's report → what forwarding needs (RFC 5555 §4.1). */
export function tunnelBindingOf(homeAddress: string, b: CachedBinding): TunnelBinding | undefined {
  if (!isEncapsulation(b.tunnel)) return undefined;
  const udp = b.udpEndpoint ?? b.nat;
  return {
    homeAddress,
    mode: b.tunnel,
    careOf: b.careOf.address,
    ...(b.ipv4HomeAddress ? { ipv4HomeAddress: b.ipv4HomeAddress } : {}),
    ...(b.tunnel === 'udp' && udp ? { udp } : {}),
  };
}

interface DataplaneIo {
  readonly tun: TunDevice;
  readonly sockets: RawTunnelSockets;
  readonly commands: IpCommands;
}

/**
 * Opens what both endpoints need (the TUN device, the raw tunnel sockets, the `ip` queue) and
 * builds on it; if opening or building fails, whatever was opened is closed again.
 */
async function withDataplaneIo<T>(
  tunName: string,
  log: Logger,
  build: (io: DataplaneIo) => Promise<T>,
): Promise<T> {
  const commands = new IpCommands((e) => log.warn({ event: 'ip.failed', error: e.message }, e.message));
  const onError = (e: Error) => log.warn({ event: 'dataplane.error', error: e.message }, e.message);
  const tun = new TunDevice(tunName, onError);
  let sockets: RawTunnelSockets | undefined;
  try {
    sockets = new RawTunnelSockets({ onError });
    return await build({ tun, sockets, commands });
  } catch (e) {
    await sockets?.close();
    await tun.close();
    throw e;
  }
}

export async function startHomeDataplane(o: {
  readonly settings: DataplaneSettings & { readonly homeLink?: string };
  readonly homePrefix: string;
  readonly addresses: { readonly ipv6: string; readonly ipv4?: string };
  readonly udpPort: number;
  readonly ipv4Pool?: { readonly start: string; readonly prefixLength: number };
  readonly log: Logger;
}): Promise<HomeDataplane> {
  return withDataplaneIo(
    o.settings.tun,
    o.log.child({ actor: 'ha/tunnel' }),
    async ({ tun, sockets, commands }) => {
      const pool = o.ipv4Pool
        ? `${networkOf(o.ipv4Pool.start, o.ipv4Pool.prefixLength)}/${o.ipv4Pool.prefixLength}`
        : undefined;
      const poolOnLink =
        pool && o.settings.homeLink ? await onLink(o.settings.homeLink, o.ipv4Pool!.start) : false;
      const network = await setupHomeNetwork({
        tun: tun.name,
        mtu: o.settings.mtu - MAX_OVERHEAD,
        homePrefix: o.homePrefix,
        ...(o.settings.homeLink ? { homeLink: o.settings.homeLink } : {}),
        ...(pool ? { ipv4Pool: pool, ipv4PoolOnLink: poolOnLink } : {}),
        commands,
        log: o.log,
      });
      const tunnel = new HomeTunnel({
        tun,
        sockets,
        addresses: o.addresses,
        udpPort: o.udpPort,
        pathMtu: o.settings.mtu,
        log: o.log,
        interception: network,
      });
      return {
        onBinding(homeAddress, binding) {
          tunnel.setBinding(homeAddress, binding ? tunnelBindingOf(homeAddress, binding) : undefined);
        },
        onTunnelData(d) {
          tunnel.fromUdp(d.data, d.address, d.port);
        },
        counters: () => tunnel.counters(),
        async stop() {
          tunnel.releaseAll();
          await network.teardown();
          await sockets.close();
          await tun.close();
        },
      };
    },
  );
}

export interface MobileDataplane {
  onTunnelState(state: {
    readonly atHome: boolean;
    readonly homeRegistered?: boolean;
    readonly route: MobileRoute | null;
    readonly homeAgent: { readonly ipv6?: string; readonly ipv4?: string } | null;
    readonly ipv4HomeAddress?: string;
  }): void;
  onTunnelData(datagram: {
    readonly data: Uint8Array;
    readonly address: string;
    readonly port: number;
  }): void;
  /** The tunnel's counters, the route in use, and whether the kernel's routes have caught up with it. */
  counters(): TrafficCounters & { route: MobileRoute | null; routesReady: boolean };
  stop(): Promise<void>;
}

export async function startMobileDataplane(o: {
  readonly settings: DataplaneSettings;
  readonly homeAddress: string;
  readonly log: Logger;
}): Promise<MobileDataplane> {
  const log = o.log.child({ actor: 'mn/tunnel' });
  return withDataplaneIo(o.settings.tun, log, async ({ tun, sockets, commands }) => {
    const network = await setupMobileNetwork({
      tun: tun.name,
      mtu: o.settings.mtu - MAX_OVERHEAD,
      homeAddress: o.homeAddress,
      commands,
      log: o.log,
    });
    const tunnel = new MobileTunnel({
      tun,
      sockets,
      homeAddress: o.homeAddress,
      homeAgent: {},
      pathMtu: o.settings.mtu,
      log: o.log,
    });
    let announced = false;
    return {
      onTunnelState(state) {
        if (state.homeAgent) tunnel.setHomeAgent(state.homeAgent);
        tunnel.setIpv4HomeAddress(state.ipv4HomeAddress);
        network.setIpv4HomeAddress(state.ipv4HomeAddress);
        tunnel.setRoute(state.atHome ? undefined : (state.route ?? undefined));
        network.setTunnelling(!state.atHome && state.route !== null);
        // RFC 6275 §11.5.5: back home and deregistered, the MN claims its home addresses on the link
        // (unsolicited NA with Override; gratuitous ARP for the IPv4 one), so neighbours that still
        // hold the HA's proxy entry (the router, the HA itself) send to it at once.
        if (state.homeRegistered && !announced) {
          announced = true;
          announceAtHome(o.homeAddress, state.ipv4HomeAddress, tun.name, log);
        } else if (!state.homeRegistered) announced = false;
      },
      onTunnelData(d) {
        tunnel.fromUdp(d.data, d.address, d.port);
      },
      counters: () => ({
        ...tunnel.counters(),
        route: tunnel.currentRoute() ?? null,
        routesReady: network.settled(),
      }),
      async stop() {
        await network.teardown();
        await sockets.close();
        await tun.close();
      },
    };
  });
}

function networkOf(address: string, prefixLength: number): string {
  const b = ipv4TextToBytes(address) ?? new Uint8Array(4);
  const n = (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) & maskOf(prefixLength);
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

const maskOf = (length: number): number => (length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0);

/** Whether `address` lies in a subnet configured on `ifname` (`ip -j -4 addr show dev`). */
async function onLink(ifname: string, address: string): Promise<boolean> {
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ip', ['-j', '-4', 'addr', 'show', 'dev', ifname], (e, stdout, stderr) =>
      e
        ? reject(new Error(`ip -4 addr show dev ${ifname}: ${String(stderr).trim() || e.message}`))
        : resolve(stdout),
    ),
  );
  const links = JSON.parse(out) as { addr_info?: { local?: string; prefixlen?: number }[] }[];
  return links.some((l) =>
    (l.addr_info ?? []).some(
      (a) =>
        a.local !== undefined &&
        a.prefixlen !== undefined &&
        networkOf(a.local, a.prefixlen) === networkOf(address, a.prefixlen),
    ),
  );
}

/** The interfaces (other than the TUN) that carry `address` now, from /proc/net/if_inet6. */
export function interfacesWithIpv6(table: string, address: Uint8Array, exclude: string): string[] {
  const hex = Buffer.from(address).toString('hex');
  return table
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6 && f[0] === hex && f[5] !== exclude)
    .map((f) => f[5]!);
}

function announceAtHome(
  homeAddress: string,
  ipv4HomeAddress: string | undefined,
  tun: string,
  log: Logger,
): void {
  const hoa = ipv6TextToBytes(homeAddress);
  if (!hoa) return;
  let table = '';
  try {
    table = readFileSync('/proc/net/if_inet6', 'utf8');
  } catch {
    return;
  }
  for (const ifname of interfacesWithIpv6(table, hoa, tun)) {
    try {
      const a = new NeighborAnnouncer(ifname);
      a.announceIpv6(hoa, false);
      const v4 = ipv4HomeAddress ? ipv4TextToBytes(ipv4HomeAddress) : undefined;
      if (v4) a.announceIpv4(v4);
      log.info({ event: 'home.announced', ifname }, `home addresses announced on ${ifname}`);
    } catch (e) {
      log.warn({ event: 'home.announce-failed', ifname, error: (e as Error).message }, (e as Error).message);
    }
  }
}
