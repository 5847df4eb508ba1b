/**
 * The walk over the in-memory network: the same actor layer and machines as the daemons, on
 * in-memory ports with a NAT and DNS, driven by a test clock so it runs in milliseconds and needs
 * no root. Addresses follow the lab's plan.
 */

import pino from 'pino';
import type { InspectionEvent } from 'xstate';
import { espMobilityCrypto } from '../actors/crypto.js';
import { startHomeAgent } from '../actors/home-agent-runtime.js';
import { startMobileNode } from '../actors/mobile-node-runtime.js';
import { LAB_ADDRESSES as A, type LabLocation } from '../lab/addresses.js';
import { MemoryDns, MemoryNetwork } from '../net/memory.js';
import { MemoryIpNetwork } from '../net/memory-ip.js';
import { SecurityAssociationDatabase } from '../security/sa.js';
import { TestClock } from '../testgen/clock.js';
import type { WalkWorld } from './walk.js';

const key = new Uint8Array(20).fill(0x5a);

/** Optional live inspection of both daemons' actors and packets (the collector of src/inspect). */
export interface MemoryWorldOptions {
  readonly inspect?: {
    readonly observer: (event: InspectionEvent) => void;
    readonly packetBytes: (direction: 'in' | 'out', bytes: Uint8Array) => void;
  };
}

export async function memoryWorld(options: MemoryWorldOptions = {}): Promise<WalkWorld> {
  const live = options.inspect;
  const inspection = live
    ? { inspect: live.observer, onPacket: (d: 'in' | 'out', p: Uint8Array) => live.packetBytes(d, p) }
    : {};
  const clock = new TestClock();
  const net = new MemoryNetwork({ clock });
  // Native IPv6 signalling: whole packets by destination, hosts and addresses shared with `net`.
  const v6 = new MemoryIpNetwork({ clock, addresses: net });
  net.addHost('ha', [A.ha.ipv6, A.ha.ipv4]);
  net.addHost('mn', []);
  net.addNat({ inside: A.networks.natInside.ipv4, outside: A.nat.outsideIpv4, udpTimeoutMs: 30_000 });
  const log = pino({ level: 'silent' });
  const sa = { algorithm: 'aes-gcm-16' as const, encryptionKey: key, homeAddress: A.mn.home.ipv6 };
  const ha = await startHomeAgent({
    input: {
      homePrefix: A.networks.home.ipv6,
      ipv4Pool: { start: '198.51.100.129', end: '198.51.100.254', prefixLength: 25, leaseSeconds: 3600 },
      maxLifetimeSeconds: 400,
      natKeepaliveSeconds: 20,
    },
    addresses: { ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 },
    udpPort: 4191,
    crypto: espMobilityCrypto(
      SecurityAssociationDatabase.from([
        { ...sa, spi: 0x1001, direction: 'in' },
        { ...sa, spi: 0x2001, direction: 'out' },
      ]),
    ),
    udp: net.udp('ha'),
    // BUs with a Home Address option (60) and, from home, plain ESP (50).
    ip: v6.port('ha', { receive: [60, 50] }),
    clock,
    log,
    ...inspection,
  });
  const mn = await startMobileNode({
    input: {
      homeAddress: A.mn.home.ipv6,
      homePrefix: A.networks.home.ipv6,
      lifetimeSeconds: 400,
      ipv4HomeAddress: '0.0.0.0',
      discovery: { domain: A.dns.zone },
      initialSequence: 4242,
      settleMs: 200,
    },
    crypto: espMobilityCrypto(
      SecurityAssociationDatabase.from([
        { ...sa, spi: 0x1001, direction: 'out' },
        { ...sa, spi: 0x2001, direction: 'in' },
      ]),
    ),
    udp: net.udp('mn'),
    // BAs with a Type 2 routing header (43) and, at home, plain ESP (50).
    ip: v6.port('mn', { receive: [43, 50] }),
    dns: new MemoryDns({
      [A.dns.haSrv]: { SRV: [{ priority: 10, weight: 10, port: 0, target: A.dns.haName }] },
      [A.dns.haName]: { AAAA: [A.ha.ipv6], A: [A.ha.ipv4] },
    }),
    links: net.linkMonitor('mn'),
    clock,
    log,
    ...inspection,
  });
  const placeMn = (where: LabLocation): void => {
    const at: Record<LabLocation, string[]> = {
      home: [`${A.mn.home.ipv6}/64`, `${A.mn.home.ipv4}/25`],
      ipv6: [`${A.mn.ipv6.ipv6}/64`],
      ipv4: [`${A.mn.ipv4.ipv4}/25`],
      nat: [`${A.mn.nat.ipv4}/24`],
    };
    net.setAddresses('mn', at[where]);
  };
  return {
    name: 'in-memory network (same actors, in-memory ports; no root needed)',
    async move(where) {
      placeMn(where);
    },
    async mn() {
      const s = mn.status();
      if (!s) return undefined;
      return {
        registration: s.registration,
        careOf: s.careOf,
        natDetected: s.natDetected,
        ...(s.ipv4?.address ? { ipv4: s.ipv4.address } : {}),
      };
    },
    async binding() {
      const b = ha.bindings().find((x) => x.homeAddress === A.mn.home.ipv6);
      if (!b) return undefined;
      return {
        careOf: b.careOf.address,
        tunnel: b.tunnel,
        sequence: b.sequence,
        ...(b.nat ? { nat: `${b.nat.address}:${b.nat.port}` } : {}),
      };
    },
    async wait(ms) {
      for (let t = 0; t < ms; t += 10) {
        clock.advance(10);
        for (let i = 0; i < 20; i++) await Promise.resolve();
      }
    },
    now: () => clock.now(),
    async close() {
      await mn.stop();
      await ha.stop();
    },
  };
}
