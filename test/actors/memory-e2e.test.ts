/**
 * The mobile node and home agent processes' actor layers, end to end over the in-memory network:
 * real ESP, a real NAT with mapping expiry, a test clock. What a user would see: the MN registers
 * from a public IPv4 network and from behind a NAT, the HA detects the NAT only behind the NAT,
 * the IPv4 home address comes from the pool, keepalives keep the NAT mapping alive, and a BU
 * protected by another MN's SA changes nothing.
 */

import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { espMobilityCrypto } from '../../src/actors/crypto.js';
import { type HaRuntime, startHomeAgent } from '../../src/actors/home-agent-runtime.js';
import { bindingUpdateFor } from '../../src/actors/messages.js';
import { type MnRuntime, startMobileNode } from '../../src/actors/mobile-node-runtime.js';
import { createInspectCollector } from '../../src/inspect/collector.js';
import { MemoryDns, MemoryNetwork } from '../../src/net/memory.js';
import { seal } from '../../src/security/esp.js';
import { SecurityAssociationDatabase } from '../../src/security/sa.js';
import { TestClock } from '../../src/testgen/clock.js';
import { emitIpv6, emitMobilityHeader, IpProto, ipv6, upperLayerPseudoHeader } from '../../src/wire/index.js';

const HOA = '2001:db8:1::100';
const HOA2 = '2001:db8:1::200';
const HA6 = '2001:db8:1::1';
const HA4 = '198.51.100.1';
const key = (b: number, n: number) => new Uint8Array(n).fill(b);

function sas(hoa: string, spiToHa: number, spiToMn: number, k: number) {
  const common = { algorithm: 'aes-gcm-16' as const, encryptionKey: key(k, 20), homeAddress: hoa };
  return {
    ha: [
      { ...common, spi: spiToHa, direction: 'in' as const },
      { ...common, spi: spiToMn, direction: 'out' as const },
    ],
    mn: [
      { ...common, spi: spiToHa, direction: 'out' as const },
      { ...common, spi: spiToMn, direction: 'in' as const },
    ],
  };
}

const log = pino({ level: process.env.E2E_LOG ?? 'silent' });
const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function world(
  opts: {
    natUdpTimeoutMs?: number;
    natKeepaliveSeconds?: number;
    inspect?: (e: InspectionEvent) => void;
  } = {},
) {
  const clock = new TestClock();
  const net = new MemoryNetwork({ clock });
  net.addHost('ha', [HA6, HA4]);
  net.addHost('mn', []);
  const nat = net.addNat({
    inside: '10.0.0.0/24',
    outside: '203.0.113.200',
    udpTimeoutMs: opts.natUdpTimeoutMs ?? 30_000,
  });
  const one = sas(HOA, 0x1001, 0x2001, 1);
  const two = sas(HOA2, 0x1002, 0x2002, 2);
  const ha = await startHomeAgent({
    input: {
      homePrefix: '2001:db8:1::/64',
      ipv4Pool: { start: '192.0.2.100', end: '192.0.2.101', prefixLength: 24, leaseSeconds: 3600 },
      maxLifetimeSeconds: 400,
      natKeepaliveSeconds: opts.natKeepaliveSeconds ?? 20,
    },
    addresses: { ipv6: HA6, ipv4: HA4 },
    udpPort: 4191,
    crypto: espMobilityCrypto(SecurityAssociationDatabase.from([...one.ha, ...two.ha])),
    udp: net.udp('ha'),
    clock,
    log,
  });
  running.push(ha);
  const mn = await startMobileNode({
    input: {
      homeAddress: HOA,
      homePrefix: '2001:db8:1::/64',
      lifetimeSeconds: 400,
      ipv4HomeAddress: '0.0.0.0',
      discovery: { haName: 'ha.example.net' },
      initialSequence: 1000,
    },
    crypto: espMobilityCrypto(SecurityAssociationDatabase.from(one.mn)),
    udp: net.udp('mn'),
    dns: new MemoryDns({ 'ha.example.net': { AAAA: [HA6], A: [HA4] } }),
    links: net.linkMonitor('mn'),
    clock,
    log,
    ...(opts.inspect ? { inspect: opts.inspect } : {}),
  });
  running.push(mn);
  /** Moves time on in small steps, letting in-memory deliveries (microtasks) run in between. */
  const run = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
  };
  return { clock, net, nat, ha, mn, run, two };
}

const binding = (ha: HaRuntime) => ha.bindings().find((b) => b.homeAddress === HOA);
const status = (mn: MnRuntime) => mn.status();

describe('mobile node and home agent over the in-memory network', () => {
  it('registers from a public IPv4 network: no NAT, IPv4 HoA from the pool, IP-in-IP tunnel', async () => {
    const w = await world();
    w.net.setAddresses('mn', ['203.0.113.10/24']);
    await w.run(2_000);
    expect(status(w.mn)).toMatchObject({
      registration: 'registered',
      attachment: 'ipv4',
      careOf: '203.0.113.10',
    });
    expect(status(w.mn)?.ipv4).toMatchObject({ status: 'assigned', address: '192.0.2.100' });
    expect(binding(w.ha)).toMatchObject({ careOf: { family: 4, address: '203.0.113.10' }, tunnel: 'ip4' });
    expect(binding(w.ha)?.nat).toBeUndefined();
    expect(status(w.mn)?.natDetected).toBe(false);
  });

  it('behind a NAT the HA detects it, answers the mapped port, and keepalives hold the mapping', async () => {
    const w = await world({ natUdpTimeoutMs: 30_000, natKeepaliveSeconds: 20 });
    w.net.setAddresses('mn', ['10.0.0.10/24']);
    await w.run(2_000);
    expect(status(w.mn)).toMatchObject({
      registration: 'registered',
      careOf: '10.0.0.10',
      natDetected: true,
    });
    const b = binding(w.ha);
    expect(b).toMatchObject({ tunnel: 'udp', nat: { address: '203.0.113.200' } });
    const port = b?.nat?.port;
    // Ten minutes with a 30 s NAT timeout: keepalive BUs every 20 s keep the same mapping alive,
    // so the binding keeps its NAT port and every keepalive is answered.
    const before = w.mn.counters().baReceived;
    await w.run(600_000, 500);
    expect(binding(w.ha)?.nat?.port).toBe(port);
    expect(w.nat.mappings().map((m) => m.outside.port)).toContain(port);
    expect(w.mn.counters().baReceived - before).toBeGreaterThanOrEqual(25);
    expect(status(w.mn)?.registration).toBe('registered');
  });

  it('moving from a public network to behind the NAT re-registers with a larger sequence number', async () => {
    const w = await world();
    w.net.setAddresses('mn', ['203.0.113.10/24']);
    await w.run(2_000);
    const firstSeq = binding(w.ha)?.sequence ?? 0;
    w.net.setAddresses('mn', ['10.0.0.10/24']);
    await w.run(2_000);
    expect(binding(w.ha)).toMatchObject({ careOf: { family: 4, address: '10.0.0.10' }, tunnel: 'udp' });
    expect(binding(w.ha)?.sequence).toBeGreaterThan(firstSeq);
    expect(status(w.mn)?.natDetected).toBe(true);
  });

  it('the live inspector sees the supervisor and its children by systemId', async () => {
    const collector = createInspectCollector();
    const w = await world({ inspect: collector.observer });
    w.net.setAddresses('mn', ['203.0.113.10/24']);
    await w.run(2_000);
    const systemIds = collector.actors().map((a) => a.systemId);
    expect(systemIds).toEqual(
      expect.arrayContaining([
        'mn/discovery',
        'mn/movement',
        'mn/bul/ha.example.net',
        'mn/keepalive/ha.example.net',
      ]),
    );
    const bul = collector.actors().find((a) => a.systemId === 'mn/bul/ha.example.net');
    expect(collector.snapshot(bul?.id ?? '')?.value).toMatchObject({ registration: { bound: 'registered' } });
  });

  it('a stopping mobile node deregisters: the HA removes the binding (RFC 6275 §6.1.7)', async () => {
    const w = await world();
    w.net.setAddresses('mn', ['203.0.113.10/24']);
    await w.run(2_000);
    expect(binding(w.ha)).toBeDefined();
    await w.mn.stop();
    expect(binding(w.ha)).toBeUndefined();
  });

  it("a BU protected by another mobile node's SA is dropped and changes nothing (RFC 4877 §4.2)", async () => {
    const w = await world();
    w.net.setAddresses('mn', ['203.0.113.10/24']);
    await w.run(2_000);
    const before = binding(w.ha);
    // A second MN, holding only the SA of HOA2, claims HOA: a well-formed BU for HOA (inner source
    // and MH checksum over HOA) inside ESP with its own SA. src/security would refuse to seal
    // that, so the attacker assembles it from the lower-level pieces.
    const evilSad = SecurityAssociationDatabase.from(w.two.mn);
    const evilSa = evilSad.outbound(HOA2);
    if (!evilSa) throw new Error('test setup: no SA for HOA2');
    const bu = bindingUpdateFor({
      haName: 'ha',
      ha: { ipv6: HA6, ipv4: HA4 },
      sequence: 60_000,
      lifetimeSeconds: 400,
      attachment: 'ipv4',
      careOf: '203.0.113.66',
      homeAddress: HOA,
      forceUdp: false,
    });
    const fields = {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 64,
      src: ipv6(HOA),
      dst: ipv6(HA6),
      extensions: [],
    };
    const mh = emitMobilityHeader(bu, upperLayerPseudoHeader(fields));
    const forged = emitIpv6({ ...fields, protocol: IpProto.ESP }, seal(evilSa, mh, IpProto.Mobility));
    w.net.addHost('evil', ['203.0.113.66/24']);
    const sock = await w.net.udp('evil').bind(4, '203.0.113.66', 5555);
    await sock.send({ data: forged, address: HA4, port: 4191 });
    await w.run(500);
    expect(binding(w.ha)).toEqual(before);
    expect(w.ha.counters().dropped['sa-mismatch'] ?? 0).toBe(1);
    await sock.close();
  });
});
