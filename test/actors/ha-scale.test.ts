/**
 * 10,000 simulated mobile nodes (the load generator's population, src/loadgen) register with one
 * in-process home agent over the in-memory network, ESP on every BU and BA. Every one must be in
 * the binding cache with the care-of address it claimed (and the NAT's address when it sits
 * behind one), every binding must run out exactly at its lifetime on the simulated clock, and
 * nothing may be left afterwards: no binding, no cache entry, no pending timer. Not timed.
 */

import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { espMobilityCrypto } from '../../src/actors/crypto.js';
import { type HaRuntime, startHomeAgent } from '../../src/actors/home-agent-runtime.js';
import { createLoadgen, type Loadgen } from '../../src/loadgen/engine.js';
import { MemoryNetwork } from '../../src/net/memory.js';
import { type DerivedSaRange, derivedSaPairs } from '../../src/security/derived.js';
import { SecurityAssociationDatabase } from '../../src/security/sa.js';
import { TestClock } from '../../src/testgen/clock.js';

const N = 10_000;
const LIFETIME_SECONDS = 400;
const HA6 = '2001:db8:1::1';
const HA4 = '198.51.100.1';
/** Where the nodes' sockets live: 40 public addresses (a node's care-of address is its socket's). */
const PUBLIC = Array.from({ length: 40 }, (_, i) => `203.0.113.${i + 10}`);

const range: DerivedSaRange = {
  firstHomeAddress: '2001:db8:1::1:0',
  count: N,
  seed: new Uint8Array(32).fill(7),
  algorithm: 'aes-gcm-16',
  spiInBase: 0x10000,
  spiOutBase: 0x100000,
};

const running: { close?(): Promise<void>; stop?(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await (r.close ?? r.stop)?.call(r);
});

/** Lets in-memory deliveries (microtasks) and the HA's sends run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

async function homeAgentWorld(count: number) {
  const clock = new TestClock();
  const net = new MemoryNetwork({ clock });
  net.addHost('ha', [HA6, HA4]);
  net.addHost('mns', PUBLIC);
  const sad = new SecurityAssociationDatabase();
  for (const sa of derivedSaPairs({ ...range, count })) {
    const keys = { algorithm: sa.algorithm, encryptionKey: sa.encryptionKey, homeAddress: sa.homeAddress };
    sad.add({ ...keys, spi: sa.spiIn, direction: 'in' });
    sad.add({ ...keys, spi: sa.spiOut, direction: 'out' });
  }
  const ha: HaRuntime = await startHomeAgent({
    input: { homePrefix: '2001:db8:1::/64', maxLifetimeSeconds: 3600 },
    addresses: { ipv6: HA6, ipv4: HA4 },
    udpPort: 4191,
    crypto: espMobilityCrypto(sad),
    udp: net.udp('ha'),
    clock,
    log: pino({ level: 'silent' }),
  });
  running.push(ha);
  const loadgen = async (): Promise<Loadgen> => {
    const l = await createLoadgen({
      ha: { ipv4: HA4, port: 4191, ipv6: HA6 },
      range: { ...range, count },
      mobileNodes: count,
      rate: 'max',
      window: 512,
      lifetimeSeconds: LIFETIME_SECONDS,
      durationSeconds: 0,
      natRatio: 0.5,
      ipv4HomeRatio: 0,
      moveRatio: 0,
      timeoutMs: 10_000,
      phases: ['register'],
      sockets: Math.min(count, 1000),
      bindAddresses: PUBLIC,
      udp: net.udp('mns'),
    });
    running.push(l);
    return l;
  };
  return { clock, ha, loadgen };
}

describe('home agent at scale (in memory)', () => {
  it('a second load generator run resynchronises on 135 (RFC 6275 §11.7.3) and deregisters', async () => {
    const w = await homeAgentWorld(20);
    expect((await (await w.loadgen()).run('register')).status).toEqual({ 0: 20 });
    // ESP sequence numbers start from the clock, 64 a second: let it move on.
    await new Promise((r) => setTimeout(r, 50));
    const again = await w.loadgen();
    // Same seed, same first sequence numbers: not newer than what the HA accepted.
    const register = await again.run('register');
    expect({ status: register.status, lost: register.lost, stray: register.stray }).toEqual({
      status: { 135: 20 },
      lost: 0,
      stray: 0,
    });
    expect((await again.run('deregister')).status).toEqual({ 0: 20 });
    expect(w.ha.bindings()).toEqual([]);
  });

  it(`holds ${N} bindings with the right care-of addresses, expires each on time, leaves nothing`, async () => {
    const clock = new TestClock();
    const net = new MemoryNetwork({ clock });
    net.addHost('ha', [HA6, HA4]);
    net.addHost('mns', PUBLIC);
    const sad = new SecurityAssociationDatabase();
    for (const sa of derivedSaPairs(range)) {
      const keys = { algorithm: sa.algorithm, encryptionKey: sa.encryptionKey, homeAddress: sa.homeAddress };
      sad.add({ ...keys, spi: sa.spiIn, direction: 'in' });
      sad.add({ ...keys, spi: sa.spiOut, direction: 'out' });
    }
    const ha: HaRuntime = await startHomeAgent({
      input: { homePrefix: '2001:db8:1::/64', maxLifetimeSeconds: 3600 },
      addresses: { ipv6: HA6, ipv4: HA4 },
      udpPort: 4191,
      crypto: espMobilityCrypto(sad),
      udp: net.udp('ha'),
      clock,
      log: pino({ level: 'silent' }),
    });
    running.push(ha);
    const loadgen: Loadgen = await createLoadgen({
      ha: { ipv4: HA4, port: 4191, ipv6: HA6 },
      range,
      mobileNodes: N,
      rate: 'max',
      window: 512,
      lifetimeSeconds: LIFETIME_SECONDS,
      durationSeconds: 0,
      natRatio: 0.5,
      ipv4HomeRatio: 0,
      moveRatio: 0,
      timeoutMs: 10_000,
      phases: ['register'],
      sockets: 1000,
      bindAddresses: PUBLIC,
      udp: net.udp('mns'),
    });
    running.push(loadgen);

    const report = await loadgen.run('register');
    expect({ answered: report.answered, lost: report.lost, status: report.status }).toEqual({
      answered: N,
      lost: 0,
      status: { 0: N },
    });
    // NAT Detection told each node what its path is: keepalives exactly behind a NAT (RFC 5555 §4.2).
    expect(report.natUnexpected).toBe(0);
    expect(report.natAsExpected).toBe(N);

    const expected = loadgen.expectedBindings();
    const bound = new Map(ha.bindings().map((b) => [b.homeAddress, b]));
    expect(bound.size).toBe(N);
    let natted = 0;
    for (const e of expected) {
      const b = bound.get(e.homeAddress);
      expect(b?.careOf, e.homeAddress).toEqual({ family: 4, address: e.careOf });
      expect(b?.nat, e.homeAddress).toEqual(e.nat);
      expect(b?.tunnel).toBe(e.nat ? 'udp' : 'ip4');
      expect(b?.expiresAt).toBe(LIFETIME_SECONDS * 1000);
      if (e.nat) natted++;
    }
    expect(natted).toBeGreaterThan(N * 0.4);
    expect(natted).toBeLessThan(N * 0.6);
    expect(ha.bindingCache()).toEqual({ entries: N, timers: N });

    // RFC 6275 §10.3.1: the binding lives exactly its granted lifetime, not a millisecond more.
    clock.advanceTo(LIFETIME_SECONDS * 1000 - 1);
    await settle();
    expect(ha.bindings()).toHaveLength(N);
    clock.advanceTo(LIFETIME_SECONDS * 1000);
    await settle();
    expect(ha.bindings()).toEqual([]);
    expect(ha.bindingCache()).toEqual({ entries: 0, timers: 0 });
    expect(clock.pending()).toEqual([]);
    expect(ha.counters().dropped).toEqual({});
  }, 120_000);
});
