/**
 * The mobile node's side of the kernel: the TUN device carries the home addresses (IPv6 always,
 * IPv4 once the HA assigned one), and policy routing sends whatever leaves from a home address
 * into the TUN while the node is away: `ip rule from <HoA> lookup <table>`, whose table holds a
 * default route via the TUN only while a registration is in place. At home the table is empty,
 * the rule falls through to the main table, and home-address traffic uses the home link natively.
 *
 * The outer (care-of) packets leave from care-of addresses, so they never match the rules: the
 * tunnel cannot loop into itself.
 */

import type { Logger } from 'pino';
import type { IpCommandRunner } from '../net/ip-commands.js';

/** Routing table and rule priority for home-address traffic (4191: the DSMIPv6 port, easy to spot). */
export const MOBILE_ROUTE_TABLE = 4191;
export const MOBILE_RULE_PRIORITY = 4191;

export interface MobileNetworkOptions {
  readonly tun: string;
  readonly mtu: number;
  readonly homeAddress: string;
  readonly table?: number;
  readonly commands: IpCommandRunner;
  readonly log: Logger;
}

export interface MobileNetwork {
  /** The IPv4 home address the HA assigned, or none (RFC 5555 §4.4.2). */
  setIpv4HomeAddress(address: string | undefined): void;
  /** Away and registered (true): home-address traffic goes into the TUN; at home (false): it does not. */
  setTunnelling(on: boolean): void;
  /**
   * Whether the kernel has every change asked for so far (the `ip` commands run in the
   * background): until then the routes lag the registration by a few milliseconds.
   */
  settled(): boolean;
  teardown(): Promise<void>;
}

export async function setupMobileNetwork(o: MobileNetworkOptions): Promise<MobileNetwork> {
  const c = o.commands;
  const table = String(o.table ?? MOBILE_ROUTE_TABLE);
  const pref = String(MOBILE_RULE_PRIORITY);
  const log = o.log.child({ actor: 'mn/tunnel' });
  await c.run(['link', 'set', 'dev', o.tun, 'addrgenmode', 'none']);
  // A longer queue than TUN's default 500 absorbs the bursts TCP sends into the tunnel.
  await c.run(['link', 'set', 'dev', o.tun, 'mtu', String(o.mtu), 'txqueuelen', '1000', 'up']);
  await c.run(['-6', 'addr', 'replace', `${o.homeAddress}/128`, 'dev', o.tun, 'nodad']);
  // A rule left over from a daemon that was killed would be harmless but duplicated: clear first.
  await c.run(['-6', 'rule', 'del', 'from', o.homeAddress, 'lookup', table]).catch(() => {});
  await c.run(['-6', 'rule', 'add', 'from', o.homeAddress, 'lookup', table, 'pref', pref]);
  // The deregistration BU from home is ESP from the home address (RFC 6275 §11.5.5): it must take
  // the home link even while the tunnel's routes are still in place, or it vanishes into the
  // tunnel and the HA keeps intercepting until the BU is retransmitted.
  await c
    .run(['-6', 'rule', 'del', 'from', o.homeAddress, 'ipproto', 'esp', 'lookup', 'main'])
    .catch(() => {});
  await c.run([
    '-6',
    'rule',
    'add',
    'from',
    o.homeAddress,
    'ipproto',
    'esp',
    'lookup',
    'main',
    'pref',
    String(MOBILE_RULE_PRIORITY - 1),
  ]);
  log.info(
    { event: 'mobile-network', tun: o.tun, mtu: o.mtu, table },
    `home address ${o.homeAddress} on ${o.tun}`,
  );

  let ipv4: string | undefined;
  let tunnelling = false;
  let asked = 0;
  let applied = 0;
  /** Marks a change: settled() is false until the commands queued for it have run. */
  const changed = (): void => {
    const generation = ++asked;
    c.settled().then(() => {
      applied = Math.max(applied, generation);
    });
  };
  const routes = (verb: 'replace' | 'del', family: '-4' | '-6') => [
    family,
    'route',
    verb,
    'default',
    'dev',
    o.tun,
    'table',
    table,
  ];
  return {
    setIpv4HomeAddress(address) {
      if (address === ipv4) return;
      if (ipv4) {
        c.enqueue(['-4', 'rule', 'del', 'from', ipv4, 'lookup', table], { gone: 'ok' });
        c.enqueue(['-4', 'addr', 'del', `${ipv4}/32`, 'dev', o.tun], { gone: 'ok' });
      }
      ipv4 = address;
      if (address) {
        c.enqueue(['-4', 'addr', 'replace', `${address}/32`, 'dev', o.tun]);
        c.enqueue(['-4', 'rule', 'add', 'from', address, 'lookup', table, 'pref', pref]);
        // Removing a device's last IPv4 address flushed its IPv4 routes, the table's default too.
        if (tunnelling) c.enqueue(routes('replace', '-4'));
      }
      changed();
    },
    setTunnelling(on) {
      if (on === tunnelling) return;
      tunnelling = on;
      for (const family of ['-6', '-4'] as const)
        c.enqueue(routes(on ? 'replace' : 'del', family), { gone: 'ok' });
      changed();
    },
    settled: () => applied === asked,
    async teardown() {
      c.enqueue(['-6', 'rule', 'del', 'from', o.homeAddress, 'lookup', table], { gone: 'ok' });
      c.enqueue(['-6', 'rule', 'del', 'from', o.homeAddress, 'ipproto', 'esp', 'lookup', 'main'], {
        gone: 'ok',
      });
      if (ipv4) c.enqueue(['-4', 'rule', 'del', 'from', ipv4, 'lookup', table], { gone: 'ok' });
      await c.settled();
    },
  };
}
