import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS } from '../../src/machines/binding-update.js';
import type { ResolveParams } from '../../src/machines/ha-discovery.js';
import {
  MAX_RESTARTS,
  type MnSendBindingUpdateParams,
  type MobileNodeInput,
  type MobileNodeReport,
  mnChildLogic,
  mobileNodeMachine,
  mobileNodeModel,
  RESTART_WINDOW_MS,
} from '../../src/machines/mobile-node.js';
import { coverage } from '../../src/testgen/coverage.js';
import { executePath } from '../../src/testgen/execute.js';
import { generatePaths } from '../../src/testgen/generate.js';
import { NATD_REFRESH_NOT_NEEDED } from '../../src/wire/constants.js';

const HOA = '2001:db8:1::100';
const HA1 = { name: 'ha1', ipv6: '2001:db8:1::1', ipv4: '192.0.2.1' };
const HA2 = { name: 'ha2', ipv6: '2001:db8:1::2', ipv4: '192.0.2.2' };
const V6COA = '2001:db8:5::10';
const PRIV4 = '192.168.1.10';
const SETTLE = 500;

const baseInput: MobileNodeInput = {
  homeAddress: HOA,
  homePrefix: '2001:db8:1::/64',
  lifetimeSeconds: 400,
  discovery: { configured: [HA1, HA2] },
  initialSequence: 100,
  settleMs: SETTLE,
};

type Timed<T> = T & { at: number };

function start(input: Partial<MobileNodeInput> = {}, actors: Partial<typeof mnChildLogic> = {}) {
  const clock = new SimulatedClock();
  const bus: Timed<MnSendBindingUpdateParams>[] = [];
  const resolves: ResolveParams[] = [];
  const reports: Timed<MobileNodeReport>[] = [];
  const actor = createActor(
    mobileNodeMachine.provide({
      actions: {
        sendBindingUpdate: (_, params) => void bus.push({ ...params, at: clock.now() }),
        resolve: (_, params) => void resolves.push(params),
        report: (_, params) => void reports.push({ ...params, at: clock.now() }),
      },
      actors,
    }),
    { input: { ...baseInput, ...input }, clock },
  );
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => void errors.push(e) });
  actor.start();
  /** Advance to absolute `ms` landing on every multiple of 100 ms (all timers here are). */
  const advanceTo = (ms: number) => {
    while (clock.now() < ms) {
      const next = Math.min(ms, (Math.floor(clock.now() / 100) + 1) * 100);
      clock.increment(next - clock.now());
    }
  };
  const addAddress = (family: 4 | 6, address: string, ifname = 'eth0') =>
    actor.send({ type: 'ADDRESS.ADDED', ifname, family, address, prefixLength: family === 6 ? 64 : 24 });
  const statuses = () => reports.filter((r) => r.type === 'MN.STATUS');
  return { actor, clock, bus, resolves, reports, statuses, errors, advanceTo, addAddress };
}

describe('mobileNode supervisor: children and routing', () => {
  it('spawns discovery and movement, and on DISCOVERY.FOUND the BUL entry and keepalive by systemId', () => {
    const { actor, statuses } = start();
    const system = actor.system;
    expect(system.get('mn/discovery')).toBeDefined();
    expect(system.get('mn/movement')).toBeDefined();
    // The configured HA is found at once; no care-of address yet, so no BU.
    expect(system.get('mn/bul/ha1')).toBeDefined();
    expect(system.get('mn/keepalive/ha1')).toBeDefined();
    expect(system.get('mn/bul/ha2')).toBeUndefined();
    expect(Object.keys(actor.getSnapshot().children).sort()).toEqual([
      'bul/ha1',
      'discovery',
      'keepalive/ha1',
      'movement',
    ]);
    expect(actor.getSnapshot().value).toEqual({
      running: { homeAgent: { selected: 'detached' }, supervision: 'calm' },
    });
    expect(statuses().at(-1)).toMatchObject({ registration: 'detached', haName: 'ha1', ha: HA1 });
  });

  it('asks for DNS through its own `resolve` action and routes the answers to discovery', () => {
    const { actor, resolves } = start({ discovery: { haName: 'ha.example.net' } });
    expect(resolves).toEqual([
      {
        queries: [
          { name: 'ha.example.net', type: 'AAAA' },
          { name: 'ha.example.net', type: 'A' },
        ],
      },
    ]);
    expect(actor.system.get('mn/bul/ha.example.net')).toBeUndefined();
    const answer = (rrType: 'AAAA' | 'A', address: string) =>
      actor.send({
        type: 'DNS.ANSWER',
        name: 'ha.example.net',
        rrType,
        ttlSeconds: 300,
        addresses: [address],
      });
    answer('AAAA', '2001:db8:1::1');
    answer('A', '192.0.2.1');
    expect(actor.system.get('mn/bul/ha.example.net')).toBeDefined();
  });

  it('movement MOVED → sendBindingUpdate with the BUL parameters and the HA addresses (RFC 6275 §11.7.1)', () => {
    const { bus, addAddress, advanceTo, statuses } = start({ ipv4HomeAddress: '0.0.0.0' });
    addAddress(6, V6COA);
    advanceTo(SETTLE - 100);
    expect(bus).toEqual([]);
    advanceTo(SETTLE);
    expect(bus).toEqual([
      {
        haName: 'ha1',
        ha: HA1,
        sequence: 100,
        lifetimeSeconds: 400,
        attachment: 'ipv6',
        careOf: V6COA,
        homeAddress: HOA,
        ipv4HomeAddress: '0.0.0.0',
        forceUdp: false,
        at: SETTLE,
      },
    ]);
    expect(statuses().at(-1)).toMatchObject({ registration: 'registering', careOf: V6COA });
    // Retransmission after InitialBindackTimeoutFirstReg with the next sequence number (§11.8).
    advanceTo(SETTLE + INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS);
    expect(bus.map((b) => [b.sequence, b.at])).toEqual([
      [100, SETTLE],
      [101, SETTLE + INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS],
    ]);
  });

  it('BA → registered status; a BA for another HA is ignored', () => {
    const { actor, bus, addAddress, advanceTo, statuses } = start();
    addAddress(6, V6COA);
    advanceTo(SETTLE);
    actor.send({ type: 'BA.RECEIVED', haName: 'ha2', status: 0, sequence: 100, lifetimeSeconds: 400 });
    expect(statuses().at(-1)?.registration).toBe('registering');
    actor.send({ type: 'BA.RECEIVED', haName: 'ha1', status: 0, sequence: 100, lifetimeSeconds: 400 });
    expect(actor.getSnapshot().value).toEqual({
      running: { homeAgent: { selected: 'registered' }, supervision: 'calm' },
    });
    expect(statuses().at(-1)).toEqual({
      type: 'MN.STATUS',
      registration: 'registered',
      haName: 'ha1',
      ha: HA1,
      attachment: 'ipv6',
      careOf: V6COA,
      lifetimeSeconds: 400,
      ipv4: { status: 'not-requested' },
      natDetected: null,
      at: SETTLE,
    });
    // No retransmission after the BA; the refresh comes at 80% of 400 s.
    advanceTo(SETTLE + 320_000 - 100);
    expect(bus).toHaveLength(1);
    advanceTo(SETTLE + 320_000);
    expect(bus.at(-1)).toMatchObject({ sequence: 101, at: SETTLE + 320_000 });
  });

  it('a rejected BA is reported with its status (RFC 6275 §11.7.3)', () => {
    const { actor, addAddress, advanceTo, statuses } = start();
    addAddress(6, V6COA);
    advanceTo(SETTLE);
    actor.send({ type: 'BA.RECEIVED', haName: 'ha1', status: 129, sequence: 100, lifetimeSeconds: 0 });
    expect(statuses().at(-1)).toMatchObject({
      registration: 'rejected',
      reason: 'BA status 129: administratively prohibited',
    });
  });

  it('behind a NAT the keepalive runs: a BU every NAT Detection refresh time (RFC 5555 §4.3)', () => {
    const { actor, bus, addAddress, advanceTo } = start();
    addAddress(4, PRIV4);
    advanceTo(SETTLE);
    expect(bus.at(-1)).toMatchObject({ attachment: 'ipv4', careOf: PRIV4, sequence: 100 });
    actor.send({
      type: 'BA.RECEIVED',
      haName: 'ha1',
      status: 0,
      sequence: 100,
      lifetimeSeconds: 400,
      natDetection: { forceUdp: false, refreshSeconds: 110 },
    });
    const keepalive = actor.system.get('mn/keepalive/ha1');
    expect(keepalive?.getSnapshot().value).toEqual({ active: 'keeping' });
    expect(actor.system.get('mn/movement')?.getSnapshot().value).toMatchObject({
      attachment: { ipv4: { behindNat: 'confirmed' } },
    });
    expect(actor.getSnapshot().context.natDetected).toBe(true);
    advanceTo(SETTLE + 110_000 - 100);
    expect(bus).toHaveLength(1);
    // KEEPALIVE.DUE → the BUL's REFRESH → a BU at exactly +110 s.
    advanceTo(SETTLE + 110_000);
    expect(bus.map((b) => [b.sequence, b.at])).toEqual([
      [100, SETTLE],
      [101, SETTLE + 110_000],
    ]);
  });

  it('no NAT (Refresh time all ones): keepalive stays inactive, movement learns NAT.NONE', () => {
    const { actor, bus, addAddress, advanceTo } = start();
    addAddress(4, '198.51.100.10');
    advanceTo(SETTLE);
    actor.send({
      type: 'BA.RECEIVED',
      haName: 'ha1',
      status: 0,
      sequence: 100,
      lifetimeSeconds: 400,
      natDetection: { forceUdp: false, refreshSeconds: NATD_REFRESH_NOT_NEEDED },
    });
    expect(actor.system.get('mn/keepalive/ha1')?.getSnapshot().value).toBe('inactive');
    expect(actor.system.get('mn/movement')?.getSnapshot().value).toMatchObject({
      attachment: { ipv4: 'noNat' },
    });
    advanceTo(SETTLE + 200_000);
    expect(bus).toHaveLength(1);
  });

  it('BUL GAVE_UP → the next home agent, with the sequence number carried on (RFC 6275 §11.8)', () => {
    const { actor, bus, addAddress, advanceTo, statuses } = start();
    addAddress(6, V6COA);
    // First BU at 500 ms, then every doubled timeout: 2000, 5000, 11000, 23000; at 47000 the next
    // timeout would reach MAX_BINDACK_TIMEOUT, so the entry gives up.
    advanceTo(47_000 - 100);
    expect(bus.map((b) => [b.haName, b.sequence, b.at])).toEqual([
      ['ha1', 100, 500],
      ['ha1', 101, 2000],
      ['ha1', 102, 5000],
      ['ha1', 103, 11_000],
      ['ha1', 104, 23_000],
    ]);
    advanceTo(47_000);
    expect(actor.system.get('mn/bul/ha1')).toBeUndefined();
    expect(actor.system.get('mn/keepalive/ha1')).toBeUndefined();
    expect(actor.system.get('mn/bul/ha2')).toBeDefined();
    expect(bus.slice(5)).toEqual([
      expect.objectContaining({ haName: 'ha2', ha: HA2, sequence: 105, careOf: V6COA, at: 47_000 }),
    ]);
    expect(statuses().map((s) => [s.registration, s.haName, s.at])).toContainEqual([
      'searching',
      null,
      47_000,
    ]);
    expect(statuses().at(-1)).toMatchObject({ registration: 'registering', haName: 'ha2' });
  });

  it('returning home: the BUL deregisters, status home (RFC 6275 §11.5.5)', () => {
    const { actor, bus, addAddress, advanceTo, statuses } = start();
    addAddress(6, V6COA);
    advanceTo(SETTLE);
    actor.send({ type: 'BA.RECEIVED', haName: 'ha1', status: 0, sequence: 100, lifetimeSeconds: 400 });
    actor.send({ type: 'ADDRESS.REMOVED', ifname: 'eth0', family: 6, address: V6COA });
    addAddress(6, '2001:db8:1::100');
    advanceTo(2 * SETTLE);
    expect(bus.at(-1)).toMatchObject({ sequence: 101, lifetimeSeconds: 0, careOf: HOA, attachment: 'home' });
    expect(statuses().at(-1)).toMatchObject({ registration: 'home' });
  });
});

describe('mobileNode supervisor: restart and escalation', () => {
  const BAD = '2001:db8:bad::1';
  /** Movement whose `addsAddress` guard throws for one address: a bug in a child. */
  const flakyMovement = () => {
    const original = mnChildLogic.movement.implementations.guards.addsAddress as (
      ...args: unknown[]
    ) => boolean;
    return mnChildLogic.movement.provide({
      guards: {
        addsAddress: (args, params) => {
          if (args.event.type === 'ADDRESS.ADDED' && args.event.address === BAD) {
            throw new Error('link monitor bug');
          }
          return original(args, params);
        },
      },
    });
  };

  it('restarts a failed child with the same systemId and fresh input', () => {
    const { actor, reports, addAddress, advanceTo, bus, errors } = start({}, { movement: flakyMovement() });
    const before = actor.system.get('mn/movement');
    addAddress(6, BAD);
    expect(errors).toEqual([]);
    const after = actor.system.get('mn/movement');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(after?.getSnapshot().status).toBe('active');
    expect(reports.filter((r) => r.type === 'MN.CHILD_RESTARTED')).toEqual([
      {
        type: 'MN.CHILD_RESTARTED',
        child: 'movement',
        restarts: 1,
        error: expect.stringContaining('link monitor bug'),
        at: 0,
      },
    ]);
    expect(actor.getSnapshot().value).toMatchObject({ running: { supervision: 'watching' } });
    // The new movement actor works: the actor layer replays the addresses, a BU goes out.
    addAddress(6, V6COA);
    advanceTo(SETTLE);
    expect(bus.at(-1)).toMatchObject({ careOf: V6COA, at: SETTLE });
    // The window closes 60 s after the first restart and the count starts over.
    advanceTo(RESTART_WINDOW_MS);
    expect(actor.getSnapshot().value).toMatchObject({ running: { supervision: 'calm' } });
    expect(actor.getSnapshot().context.restarts).toBe(0);
  });

  it('a restarted BUL entry continues the sequence and re-registers the current care-of address', () => {
    const { actor, bus, addAddress, advanceTo, reports } = start(
      {},
      {
        bindingUpdate: mnChildLogic.bindingUpdate.provide({
          guards: {
            noBindingAtHa: ({ event }) => {
              if (event.type === 'BE' && event.status === 99) throw new Error('bad BE');
              return event.type === 'BE' && event.status === 1;
            },
          },
        }),
      },
    );
    addAddress(6, V6COA);
    advanceTo(SETTLE);
    actor.send({ type: 'BA.RECEIVED', haName: 'ha1', status: 0, sequence: 100, lifetimeSeconds: 400 });
    actor.send({ type: 'BE.RECEIVED', haName: 'ha1', status: 99 });
    expect(reports.filter((r) => r.type === 'MN.CHILD_RESTARTED')).toMatchObject([{ child: 'bul/ha1' }]);
    expect(bus.at(-1)).toMatchObject({ haName: 'ha1', sequence: 101, careOf: V6COA, at: SETTLE });
    expect(actor.system.get('mn/bul/ha1')?.getSnapshot().status).toBe('active');
  });

  it(`${MAX_RESTARTS + 1} failures within ${RESTART_WINDOW_MS / 1000} s escalate: MN.FAILED, final state`, () => {
    const { actor, reports, addAddress, advanceTo, errors } = start({}, { movement: flakyMovement() });
    for (let i = 0; i < MAX_RESTARTS; i++) {
      advanceTo(i * 10_000);
      addAddress(6, BAD);
    }
    expect(reports.filter((r) => r.type === 'MN.CHILD_RESTARTED').map((r) => r.at)).toEqual([
      0, 10_000, 20_000,
    ]);
    expect(reports.some((r) => r.type === 'MN.FAILED')).toBe(false);
    advanceTo(RESTART_WINDOW_MS - 100);
    addAddress(6, BAD);
    expect(reports.at(-1)).toEqual({
      type: 'MN.FAILED',
      reason: expect.stringMatching(/^4 child failures within 60 s; last: movement: .*link monitor bug/s),
      at: RESTART_WINDOW_MS - 100,
    });
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().value).toBe('failed');
    expect(errors).toEqual([]);
    expect(actor.system.get('mn/bul/ha1')).toBeUndefined();
  });

  it('failures spread over more than the window are restarted every time', () => {
    const { actor, reports, addAddress, advanceTo } = start({}, { movement: flakyMovement() });
    for (let i = 0; i < 8; i++) {
      advanceTo(i * 31_000);
      addAddress(6, BAD);
    }
    expect(reports.filter((r) => r.type === 'MN.CHILD_RESTARTED')).toHaveLength(8);
    expect(actor.getSnapshot().status).toBe('active');
  });
});

describe('mobileNodeModel', () => {
  // xstate/graph's getShortestPaths runs the whole traversal in ONE mock actor system, so the
  // second spawn of `mn/bul/ha1` on any branch throws "Actor with system ID ... already exists".
  // src/testgen calls the pure `transition()` (a fresh system per step), which works; the smoke
  // check therefore uses it, and also executes the paths on a live actor.
  it('generated paths (cover) run on a live actor and cover every state and transition', () => {
    const paths = generatePaths(mobileNodeModel, { strategy: 'cover' });
    const results = paths.map((p) => executePath(mobileNodeModel, p));
    const c = coverage(mobileNodeMachine, results);
    expect(c.states.missing).toEqual([]);
    expect(c.transitions.missing).toEqual([]);
  });
});
