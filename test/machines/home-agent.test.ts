import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { EntryMachine } from '../../src/actors/binding-cache.js';
import { createHomeAgentCore } from '../../src/actors/home-agent-core.js';
import {
  bindingCacheEntryMachine,
  MAX_DELETE_BCE_TIMEOUT_MS,
} from '../../src/machines/binding-cache-entry.js';
import {
  type BuReceived,
  bceId,
  createIpv4Pool,
  decideIpv4,
  freeAddresses,
  type HaSendBindingAckParams,
  type HomeAgentContext,
  type HomeAgentInput,
  type HomeAgentReport,
  homeAgentMachine,
  homeAgentModel,
  ipv4Range,
  leasesOf,
  MAX_RESTARTS,
  RESTART_WINDOW_MS,
  releaseIpv4,
  takeIpv4,
} from '../../src/machines/home-agent.js';
import { coverage } from '../../src/testgen/coverage.js';
import { executePath } from '../../src/testgen/execute.js';
import { generatePaths } from '../../src/testgen/generate.js';
import { NATD_REFRESH_NOT_NEEDED } from '../../src/wire/constants.js';

const HOA = '2001:db8:1::100';
const HOA2 = '2001:db8:1::200';
const HOA3 = '2001:db8:1::300';
const COA = { family: 6, address: '2001:db8:5::10' } as const;
const POOL = { start: '192.0.2.10', end: '192.0.2.11', prefixLength: 24, leaseSeconds: 200 };

const baseInput: HomeAgentInput = {
  homePrefix: '2001:db8:1::/64',
  ipv4Pool: POOL,
  maxLifetimeSeconds: 3600,
};

type Timed<T> = T & { at: number };

type WithPool = { getSnapshot(): { context: HomeAgentContext } };
/** The pool's free addresses in hand-out order, and its leases (address → home address). */
const poolFree = (a: WithPool) => {
  const pool = a.getSnapshot().context.pool;
  return pool ? freeAddresses(pool) : undefined;
};
const poolLeases = (a: WithPool) => {
  const pool = a.getSnapshot().context.pool;
  return pool ? leasesOf(pool) : undefined;
};

/** A BU over IPv6 from `homeAddress`, protected by its own SA, H=1, lifetime 400 s. */
const bu = (homeAddress: string, sequence: number, extra: Partial<BuReceived> = {}): BuReceived => ({
  type: 'BU.RECEIVED',
  sequence,
  homeRegistration: true,
  forceUdp: false,
  lifetimeSeconds: 400,
  careOf: COA,
  homeAddress,
  saHomeAddress: homeAddress,
  ...extra,
});

/** The supervisor with its binding cache (src/actors/home-agent-core.ts) on a simulated clock. */
function start(input: Partial<HomeAgentInput> = {}, entryMachine?: EntryMachine) {
  const clock = new SimulatedClock();
  const acks: Timed<HaSendBindingAckParams>[] = [];
  const reports: Timed<HomeAgentReport>[] = [];
  const core = createHomeAgentCore({
    input: { ...baseInput, ...input },
    clock,
    sendBindingAck: (params) => void acks.push({ ...params, at: clock.now() }),
    report: (params) => void reports.push({ ...params, at: clock.now() }),
    ...(entryMachine ? { entryMachine } : {}),
  });
  const actor = core.actor;
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => void errors.push(e) });
  actor.start();
  const advanceTo = (ms: number) => {
    while (clock.now() < ms) {
      const next = Math.min(ms, (Math.floor(clock.now() / 1000) + 1) * 1000);
      clock.increment(next - clock.now());
    }
  };
  /** The binding cache's entries, by entry id (`bce/<HoA>`). */
  const children = () => [...core.cache.homeAddresses()].map(bceId);
  return { actor, core, clock, acks, reports, errors, advanceTo, children };
}

describe('homeAgent registrar (RFC 6275 §10.3.1, RFC 4877 §4.2)', () => {
  it('drops a BU protected by another home address’s SA: no BA, no entry', () => {
    const { core, acks, reports, children } = start();
    core.send(bu(HOA, 7, { saHomeAddress: HOA2 }));
    expect(acks).toEqual([]);
    expect(children()).toEqual([]);
    expect(reports).toEqual([
      {
        type: 'HA.DROPPED',
        reason: 'sa-mismatch',
        homeAddress: HOA,
        saHomeAddress: HOA2,
        sequence: 7,
        at: 0,
      },
    ]);
  });

  it('compares SA and home address as addresses, not text', () => {
    const { core, acks } = start();
    core.send(bu('2001:DB8:1:0::100', 7, { saHomeAddress: HOA }));
    expect(acks).toMatchObject([{ status: 0, homeAddress: HOA }]);
  });

  it('H clear → BA 131 with the BU’s sequence number, no entry', () => {
    const { core, acks, reports, children } = start();
    core.send(bu(HOA, 7, { homeRegistration: false }));
    expect(acks).toEqual([
      { status: 131, sequence: 7, lifetimeSeconds: 0, homeAddress: HOA, careOf: COA, at: 0 },
    ]);
    expect(reports).toEqual([{ type: 'HA.REJECTED', homeAddress: HOA, status: 131, sequence: 7, at: 0 }]);
    expect(children()).toEqual([]);
  });

  it('home address outside the home prefix → BA 132; over UDP with NAT Detection and a failed IPv4 Ack', () => {
    const { core, acks, children } = start();
    core.send(bu('2001:db8:9::1', 9));
    expect(acks.at(-1)).toEqual({
      status: 132,
      sequence: 9,
      lifetimeSeconds: 0,
      homeAddress: '2001:db8:9::1',
      careOf: COA,
      at: 0,
    });
    // RFC 5555 §4.2: the BA goes back the way the BU came, with NAT Detection; §2.3.1: IPv4 Ack.
    core.send(
      bu('2001:db8:9::1', 10, {
        careOf: { family: 4, address: '10.0.0.5' },
        udp: { sourceAddress: '203.0.113.9', sourcePort: 61_000 },
        ipv4CareOfAddress: '10.0.0.5',
        ipv4HomeAddressRequested: '0.0.0.0',
      }),
    );
    expect(acks.at(-1)).toEqual({
      status: 132,
      sequence: 10,
      lifetimeSeconds: 0,
      ipv4Ack: { status: 128, address: '0.0.0.0', prefixLength: 0 },
      natDetection: { forceUdp: false, refreshSeconds: 110 },
      udp: { address: '203.0.113.9', port: 61_000 },
      homeAddress: '2001:db8:9::1',
      careOf: { family: 4, address: '10.0.0.5' },
      at: 0,
    });
    expect(children()).toEqual([]);
  });

  it('a valid BU creates the entry bce/<HoA>; its BA leaves through sendBindingAck; HA.BINDING reported', () => {
    const { core, acks, reports, children } = start();
    core.send(bu(HOA, 7));
    expect(core.cache.snapshot(HOA)?.value).toEqual({ registered: 'ipv6Only' });
    expect(children()).toEqual(['bce/2001:db8:1::100']);
    expect(acks).toEqual([
      {
        status: 0,
        sequence: 7,
        lifetimeSeconds: 400,
        refreshAdviceSeconds: 200,
        homeAddress: HOA,
        careOf: COA,
        at: 0,
      },
    ]);
    expect(reports).toEqual([
      {
        type: 'HA.BINDING',
        status: 'registered',
        homeAddress: HOA,
        careOf: COA,
        lifetimeSeconds: 400,
        tunnel: 'ip6',
        sequence: 7,
        at: 0,
      },
    ]);
    // The same entry answers the next BU: an old sequence number gets 135 (RFC 6275 §9.5.1).
    core.send(bu(HOA, 7));
    expect(acks.at(-1)).toMatchObject({ status: 135, sequence: 7 });
    expect(reports.at(-1)).toMatchObject({ type: 'HA.REJECTED', status: 135 });
    expect(children()).toEqual(['bce/2001:db8:1::100']);
  });

  it('deregistration: BA 0, binding removed, the entry is deleted after MAX_DELETE_BCE_TIMEOUT', () => {
    const { core, acks, reports, advanceTo, children } = start();
    core.send(bu(HOA, 7));
    advanceTo(5000);
    core.send(bu(HOA, 8, { lifetimeSeconds: 0 }));
    expect(acks.at(-1)).toMatchObject({ status: 0, sequence: 8, lifetimeSeconds: 0 });
    expect(reports.at(-1)).toEqual({
      type: 'HA.BINDING',
      status: 'removed',
      homeAddress: HOA,
      reason: 'deregistered',
      at: 5000,
    });
    advanceTo(5000 + MAX_DELETE_BCE_TIMEOUT_MS - 1000);
    expect(children()).toEqual(['bce/2001:db8:1::100']);
    advanceTo(5000 + MAX_DELETE_BCE_TIMEOUT_MS);
    expect(children()).toEqual([]);
    expect(core.cache.snapshot(HOA)).toBeUndefined();
    expect(core.cache.pendingTimers).toBe(0);
  });
});

describe('homeAgent IPv4 home address pool (RFC 5555 §2.5, §4.5)', () => {
  const ipv4Ack = (acks: HaSendBindingAckParams[]) => acks.at(-1)?.ipv4Ack;

  it('allocates on 0.0.0.0, keeps the address on refresh, and answers 132 when the pool is empty', () => {
    const { actor, core, acks, reports } = start();
    core.send(bu(HOA, 1, { ipv4HomeAddressRequested: '0.0.0.0' }));
    expect(ipv4Ack(acks)).toEqual({ status: 0, address: '192.0.2.10', prefixLength: 24 });
    expect(reports.at(-1)).toMatchObject({ ipv4HomeAddress: '192.0.2.10', ipv4LifetimeSeconds: 200 });
    // The MN keeps asking 0.0.0.0 in its refreshes: same address, nothing new taken.
    core.send(bu(HOA, 2, { ipv4HomeAddressRequested: '0.0.0.0' }));
    expect(ipv4Ack(acks)).toEqual({ status: 0, address: '192.0.2.10', prefixLength: 24 });
    core.send(bu(HOA2, 1, { ipv4HomeAddressRequested: '0.0.0.0' }));
    expect(ipv4Ack(acks)).toEqual({ status: 0, address: '192.0.2.11', prefixLength: 24 });
    expect(actor.getSnapshot().value).toMatchObject({ running: { ipv4Pool: 'exhausted' } });
    core.send(bu(HOA3, 1, { ipv4HomeAddressRequested: '0.0.0.0' }));
    // The IPv6 binding is accepted; the IPv4 part fails with 132.
    expect(acks.at(-1)).toMatchObject({ status: 0, sequence: 1, homeAddress: HOA3 });
    expect(ipv4Ack(acks)).toMatchObject({ status: 132, address: '0.0.0.0' });
    expect(poolLeases(actor)).toEqual({ '192.0.2.10': HOA, '192.0.2.11': HOA2 });
  });

  it('static requests: free or own → granted; held by another MN → 130; not ours → 129; not unicast → 131', () => {
    const { actor, core, acks } = start();
    core.send(bu(HOA2, 1, { ipv4HomeAddressRequested: '192.0.2.11' }));
    expect(ipv4Ack(acks)).toEqual({ status: 0, address: '192.0.2.11', prefixLength: 24 });
    core.send(bu(HOA2, 2, { ipv4HomeAddressRequested: '192.0.2.11' }));
    expect(ipv4Ack(acks)).toEqual({ status: 0, address: '192.0.2.11', prefixLength: 24 });
    core.send(bu(HOA, 1, { ipv4HomeAddressRequested: '192.0.2.11' }));
    expect(ipv4Ack(acks)?.status).toBe(130);
    core.send(bu(HOA, 2, { ipv4HomeAddressRequested: '198.51.100.1' }));
    expect(ipv4Ack(acks)?.status).toBe(129);
    core.send(bu(HOA, 3, { ipv4HomeAddressRequested: '224.0.0.1' }));
    expect(ipv4Ack(acks)?.status).toBe(131);
    // A failed IPv4 part took nothing from the pool.
    expect(poolFree(actor)).toEqual(['192.0.2.10']);
  });

  it('without a pool: 0.0.0.0 → 132, a static address → 129', () => {
    const { actor, core, acks } = start({ ipv4Pool: undefined });
    expect(actor.getSnapshot().value).toMatchObject({ running: { ipv4Pool: 'unconfigured' } });
    core.send(bu(HOA, 1, { ipv4HomeAddressRequested: '0.0.0.0' }));
    expect(ipv4Ack(acks)?.status).toBe(132);
    core.send(bu(HOA, 2, { ipv4HomeAddressRequested: '192.0.2.10' }));
    expect(ipv4Ack(acks)?.status).toBe(129);
  });

  it('an allocation the entry refuses (F refused → 144) goes straight back to the pool', () => {
    const { actor, core, acks, children } = start({ allowForceUdp: false });
    core.send(
      bu(HOA, 1, {
        forceUdp: true,
        careOf: { family: 4, address: '198.51.100.7' },
        udp: { sourceAddress: '198.51.100.7', sourcePort: 4191 },
        ipv4CareOfAddress: '198.51.100.7',
        ipv4HomeAddressRequested: '0.0.0.0',
      }),
    );
    expect(acks.at(-1)).toMatchObject({
      status: 144,
      natDetection: { forceUdp: false, refreshSeconds: NATD_REFRESH_NOT_NEEDED },
    });
    expect(poolFree(actor)).toHaveLength(2);
    expect(poolLeases(actor)).toEqual({});
    expect(children()).toEqual([]);
  });

  it('the lease ends before the binding: address released at 200 s, entry gone at 400 s, pool full', () => {
    const { actor, core, reports, advanceTo, children } = start();
    core.send(bu(HOA, 1, { ipv4HomeAddressRequested: '0.0.0.0' }));
    advanceTo(199_000);
    expect(poolFree(actor)).toEqual(['192.0.2.11']);
    advanceTo(200_000);
    expect(reports.at(-1)).toEqual({
      type: 'HA.IPV4_RELEASED',
      homeAddress: HOA,
      address: '192.0.2.10',
      at: 200_000,
    });
    expect(poolFree(actor)).toEqual(['192.0.2.11', '192.0.2.10']);
    expect(children()).toEqual(['bce/2001:db8:1::100']);
    advanceTo(399_000);
    expect(children()).toHaveLength(1);
    advanceTo(400_000);
    expect(reports.at(-1)).toEqual({
      type: 'HA.BINDING',
      status: 'removed',
      homeAddress: HOA,
      reason: 'expired',
      at: 400_000,
    });
    expect(children()).toEqual([]);
  });

  it('no leak: 1000 home addresses register with a dynamic IPv4 address and expire', () => {
    const { actor, core, acks, advanceTo, children } = start({
      ipv4Pool: { start: '10.1.0.0', end: '10.1.3.255', prefixLength: 22, leaseSeconds: 3600 },
    });
    for (let i = 1; i <= 1000; i++) {
      core.send(bu(`2001:db8:1::${i.toString(16)}:1`, 1, { ipv4HomeAddressRequested: '0.0.0.0' }));
    }
    expect(children()).toHaveLength(1000);
    expect(new Set(acks.map((a) => a.ipv4Ack?.address)).size).toBe(1000);
    expect(acks.every((a) => a.status === 0 && a.ipv4Ack?.status === 0)).toBe(true);
    expect(poolFree(actor)).toHaveLength(24);
    advanceTo(400_000);
    expect(children()).toEqual([]);
    expect(core.cache.pendingTimers).toBe(0);
    expect(poolFree(actor)).toHaveLength(1024);
    expect(poolLeases(actor)).toEqual({});
    expect(Object.keys(actor.getSnapshot().children)).toEqual([]);
  });
});

describe('homeAgent supervision', () => {
  /** An entry whose deregistration guard throws on sequence 666: a bug in a child. */
  const flakyEntry = (): EntryMachine =>
    bindingCacheEntryMachine.provide({
      guards: {
        isDeregistration: ({ event }) => {
          if (event.sequence === 666) throw new Error('entry bug');
          return event.lifetimeSeconds === 0;
        },
      },
    });

  it('a failed entry is removed with its lease returned; the next BU creates it again', () => {
    const { actor, core, acks, reports, children, errors } = start({}, flakyEntry());
    core.send(bu(HOA, 1, { ipv4HomeAddressRequested: '0.0.0.0' }));
    core.send(bu(HOA, 666));
    expect(errors).toEqual([]);
    expect(children()).toEqual([]);
    expect(poolLeases(actor)).toEqual({});
    expect(reports.slice(-3)).toEqual([
      { type: 'HA.IPV4_RELEASED', homeAddress: HOA, address: '192.0.2.10', at: 0 },
      { type: 'HA.BINDING', status: 'removed', homeAddress: HOA, reason: 'failed', at: 0 },
      {
        type: 'HA.CHILD_FAILED',
        child: 'bce/2001:db8:1::100',
        restarts: 1,
        error: expect.stringContaining('entry bug'),
        at: 0,
      },
    ]);
    // State lost: the entry accepts any sequence number again (RFC 6275 §9.5.1, no entry).
    core.send(bu(HOA, 1));
    expect(acks.at(-1)).toMatchObject({ status: 0, sequence: 1 });
    expect(core.cache.snapshot(HOA)?.status).toBe('active');
  });

  it(`${MAX_RESTARTS + 1} entry failures within ${RESTART_WINDOW_MS / 1000} s escalate: HA.FAILED`, () => {
    const { actor, core, reports, advanceTo, errors } = start({}, flakyEntry());
    const fail = (hoa: string) => {
      core.send(bu(hoa, 1));
      core.send(bu(hoa, 666));
    };
    fail(HOA);
    advanceTo(20_000);
    fail(HOA2);
    advanceTo(40_000);
    fail(HOA3);
    expect(reports.some((r) => r.type === 'HA.FAILED')).toBe(false);
    advanceTo(59_000);
    fail(HOA);
    expect(reports.at(-1)).toEqual({
      type: 'HA.FAILED',
      reason: expect.stringMatching(
        /^4 binding cache entry failures within 60 s; last: bce\/2001:db8:1::100: /,
      ),
      at: 59_000,
    });
    expect(actor.getSnapshot().status).toBe('done');
    expect(errors).toEqual([]);
  });

  it('failures further apart than the window never escalate', () => {
    const { actor, core, reports, advanceTo } = start({}, flakyEntry());
    for (let i = 0; i < 6; i++) {
      advanceTo(i * 31_000);
      core.send(bu(HOA, 1));
      core.send(bu(HOA, 666));
    }
    expect(reports.filter((r) => r.type === 'HA.CHILD_FAILED')).toHaveLength(6);
    expect(actor.getSnapshot().status).toBe('active');
  });
});

describe('IPv4 pool helpers', () => {
  it('ipv4Range is inclusive and crosses octets; bad input names the field', () => {
    expect(ipv4Range('10.0.0.254', '10.0.1.1')).toEqual(['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']);
    expect(() => ipv4Range('10.0.0.300', '10.0.1.1')).toThrow(/ipv4Pool.start "10.0.0.300"/);
    expect(() => ipv4Range('10.0.1.1', '10.0.0.1')).toThrow(/end is before start/);
  });

  it('take and release keep free + leased = the whole pool', () => {
    let pool = createIpv4Pool(POOL);
    const d = decideIpv4(pool, HOA, '0.0.0.0');
    expect(d).toEqual({ assigned: { address: '192.0.2.10', prefixLength: 24, leaseSeconds: 200 } });
    pool = takeIpv4(pool, HOA, '192.0.2.10');
    pool = takeIpv4(pool, HOA, '192.0.2.10');
    expect(freeAddresses(pool)).toEqual(['192.0.2.11']);
    pool = releaseIpv4(pool, '192.0.2.10');
    pool = releaseIpv4(pool, '192.0.2.10');
    expect(freeAddresses(pool)).toEqual(['192.0.2.11', '192.0.2.10']);
    expect(leasesOf(pool)).toEqual({});
  });
});

describe('homeAgentModel', () => {
  it('generated paths (cover) run on a live actor and cover every state and transition', () => {
    const paths = generatePaths(homeAgentModel, { strategy: 'cover' });
    const results = paths.map((p) => executePath(homeAgentModel, p));
    const c = coverage(homeAgentMachine, results);
    // The model explores an HA with a pool and one without (`ipv4Pool.unconfigured`).
    expect(c.states.missing).toEqual([]);
    expect(c.transitions.missing).toEqual([]);
  });
});
