/**
 * What the runtimes tell the data plane, over the in-memory network with real ESP and a NAT: the
 * MN's tunnel route follows confirmed registrations (protocol 4/41 from a public address, UDP
 * behind the NAT or with F, nothing at home), the HA's bindings carry the UDP endpoint, and UDP
 * 4191 data reaches the data plane instead of the signalling path.
 */

import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { espMobilityCrypto } from '../../src/actors/crypto.js';
import { type Binding, startHomeAgent } from '../../src/actors/home-agent-runtime.js';
import { type MnTunnelState, startMobileNode } from '../../src/actors/mobile-node-runtime.js';
import { MemoryDns, MemoryNetwork } from '../../src/net/memory.js';
import type { Datagram } from '../../src/net/ports.js';
import { SecurityAssociationDatabase } from '../../src/security/sa.js';
import { TestClock } from '../../src/testgen/clock.js';
import { emitIpv4, ipv4 } from '../../src/wire/index.js';

const HOA = '2001:db8:1::100';
const HA6 = '2001:db8:1::1';
const HA4 = '198.51.100.1';
const log = pino({ level: 'silent' });
const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const icmp = (src: string, dst: string) =>
  emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      identification: 1,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 1,
      src: ipv4(src),
      dst: ipv4(dst),
    },
    Uint8Array.from([8, 0, 0xf7, 0xff, 0, 0, 0, 0]),
  );

async function world(forceUdp = false) {
  const clock = new TestClock();
  const net = new MemoryNetwork({ clock });
  net.addHost('ha', [HA6, HA4]);
  net.addHost('mn', []);
  net.addNat({ inside: '10.0.0.0/24', outside: '203.0.113.200', udpTimeoutMs: 30_000 });
  const common = {
    algorithm: 'aes-gcm-16' as const,
    encryptionKey: new Uint8Array(20).fill(7),
    homeAddress: HOA,
  };
  const bindings: (Binding | undefined)[] = [];
  const haData: Datagram[] = [];
  const ha = await startHomeAgent({
    input: {
      homePrefix: '2001:db8:1::/64',
      ipv4Pool: { start: '192.0.2.100', end: '192.0.2.101', prefixLength: 24, leaseSeconds: 3600 },
      maxLifetimeSeconds: 400,
      natKeepaliveSeconds: 20,
    },
    addresses: { ipv6: HA6, ipv4: HA4 },
    udpPort: 4191,
    crypto: espMobilityCrypto(
      SecurityAssociationDatabase.from([
        { ...common, spi: 0x1001, direction: 'in' },
        { ...common, spi: 0x2001, direction: 'out' },
      ]),
    ),
    udp: net.udp('ha'),
    clock,
    log,
    onBinding: (_, b) => bindings.push(b),
    onTunnelData: (d) => haData.push(d),
  });
  running.push(ha);
  const states: MnTunnelState[] = [];
  const mnData: Datagram[] = [];
  const mn = await startMobileNode({
    input: {
      homeAddress: HOA,
      homePrefix: '2001:db8:1::/64',
      lifetimeSeconds: 400,
      ipv4HomeAddress: '0.0.0.0',
      forceUdp,
      discovery: { haName: 'ha.example.net' },
      initialSequence: 1000,
    },
    crypto: espMobilityCrypto(
      SecurityAssociationDatabase.from([
        { ...common, spi: 0x1001, direction: 'out' },
        { ...common, spi: 0x2001, direction: 'in' },
      ]),
    ),
    udp: net.udp('mn'),
    dns: new MemoryDns({ 'ha.example.net': { AAAA: [HA6], A: [HA4] } }),
    links: net.linkMonitor('mn'),
    clock,
    log,
    onTunnelState: (s) => states.push(s),
    onTunnelData: (d) => mnData.push(d),
  });
  running.push(mn);
  const run = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
  };
  return { net, ha, mn, run, states, bindings, haData, mnData };
}

it('the route follows confirmed registrations: protocol 4/41 from a public address, UDP behind the NAT, nothing at home', async () => {
  const w = await world();
  w.net.setAddresses('mn', ['203.0.113.10/24']);
  await w.run(2_000);
  expect(w.states.at(-1)).toMatchObject({
    atHome: false,
    route: { mode: 'ip4', careOf: '203.0.113.10', homeAgent: HA4 },
    homeAgent: { ipv6: HA6, ipv4: HA4 },
    ipv4HomeAddress: '192.0.2.100',
  });
  expect(w.bindings.at(-1)).toMatchObject({ tunnel: 'ip4', careOf: { address: '203.0.113.10' } });

  w.net.setAddresses('mn', ['10.0.0.10/24']);
  await w.run(2_000);
  const last = w.states.at(-1)!;
  expect(last.route).toMatchObject({ mode: 'udp', careOf: '10.0.0.10', homeAgent: HA4 });
  expect(last.route?.udp?.remotePort).toBe(4191);
  const b = w.bindings.at(-1)!;
  expect(b).toMatchObject({ tunnel: 'udp', udpEndpoint: { address: '203.0.113.200' } });
  // Every state before the UDP one still had the protocol-4 route: nothing switched before the BA.
  const firstUdp = w.states.findIndex((s) => s.route?.mode === 'udp');
  expect(w.states.slice(0, firstUdp).every((s) => s.route === null || s.route.mode === 'ip4')).toBe(true);

  // Data in UDP 4191 goes to the data planes, not to ESP (no "drop" for a non-BU).
  const udp = await w.net.udp('mn').bind(4, '0.0.0.0', 40_000);
  await udp.send({ data: icmp('192.0.2.100', '192.0.2.5'), address: HA4, port: 4191 });
  await w.run(200);
  expect(w.haData.map((d) => d.data[0]! >> 4)).toEqual([4]);
  expect(w.ha.counters().dropped).toEqual({});
  await udp.close();

  w.net.setAddresses('mn', [`${HOA}/64`]);
  await w.run(3_000);
  // At home nothing is tunnelled (this world has no IPv6 path to carry the deregistration itself).
  expect(w.states.at(-1)).toMatchObject({ atHome: true, route: null });
});

it('with F (forceUdp) from a public address the route is UDP too, as the HA tunnels it', async () => {
  const w = await world(true);
  w.net.setAddresses('mn', ['203.0.113.10/24']);
  await w.run(2_000);
  expect(w.states.at(-1)?.route).toMatchObject({ mode: 'udp', careOf: '203.0.113.10' });
  expect(w.bindings.at(-1)).toMatchObject({ tunnel: 'udp', udpEndpoint: { address: '203.0.113.10' } });
});
