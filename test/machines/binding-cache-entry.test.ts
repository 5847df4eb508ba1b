import { describe, expect, it } from 'vitest';
import { type AnyStateNode, createActor, SimulatedClock } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  type BindingCacheEntryInput,
  type BindingCacheEntryReport,
  type BindingUpdateReceived,
  bindingCacheEntryMachine,
  bindingCacheEntryModel,
  MAX_DELETE_BCE_TIMEOUT_MS,
  type SendBindingAckParams,
} from '../../src/machines/binding-cache-entry.js';
import { NATD_REFRESH_NOT_NEEDED } from '../../src/wire/constants.js';

const HOA = '2001:db8:1::100';
const IPV6_COA = { family: 6, address: '2001:db8:2::100' } as const;
const PUBLIC_V4 = '198.51.100.7';
const PRIVATE_V4 = '10.0.0.5';
const NAT_OUTER = { sourceAddress: '203.0.113.9', sourcePort: 61_000 };

const defaultInput: BindingCacheEntryInput = {
  homeAddress: HOA,
  maxLifetimeSeconds: 3600,
  natKeepaliveSeconds: 110,
  allowForceUdp: false,
};

/** A BU over IPv6 (H=1, lifetime 400 s) unless overridden. */
const bu = (sequence: number, extra: Partial<BindingUpdateReceived> = {}): BindingUpdateReceived => ({
  type: 'BU',
  sequence,
  homeRegistration: true,
  forceUdp: false,
  lifetimeSeconds: 400,
  careOf: IPV6_COA,
  ...extra,
});

/** A BU UDP-encapsulated from a public IPv4 care-of address (no NAT). */
const publicV4 = (extra: Partial<BindingUpdateReceived> = {}): Partial<BindingUpdateReceived> => ({
  careOf: { family: 4, address: PUBLIC_V4 },
  udp: { sourceAddress: PUBLIC_V4, sourcePort: 4191 },
  ipv4CareOfAddress: PUBLIC_V4,
  ...extra,
});

/** A BU UDP-encapsulated from behind a NAT: the outer source is not the IPv4 CoA option. */
const behindNat = (extra: Partial<BindingUpdateReceived> = {}): Partial<BindingUpdateReceived> => ({
  careOf: { family: 4, address: PRIVATE_V4 },
  udp: NAT_OUTER,
  ipv4CareOfAddress: PRIVATE_V4,
  ...extra,
});

const dynamicV4 = (address: string, leaseSeconds: number) => ({
  ipv4HomeAddress: { requested: '0.0.0.0', assigned: { address, prefixLength: 24, leaseSeconds } },
});

type Timed<T> = T & { at: number };

function start(input: Partial<BindingCacheEntryInput> = {}) {
  const clock = new SimulatedClock();
  const acks: Timed<SendBindingAckParams>[] = [];
  const reports: Timed<BindingCacheEntryReport>[] = [];
  const actor = createActor(
    bindingCacheEntryMachine.provide({
      actions: {
        sendBindingAck: (_, params) => {
          acks.push({ ...params, at: clock.now() });
        },
        report: (_, params) => {
          reports.push({ ...params, at: clock.now() });
        },
      },
    }),
    { input: { ...defaultInput, ...input }, clock },
  ).start();
  /** Advance to absolute time `ms`, in steps of at most 1 s (shorter than any timer here). */
  const advanceTo = (ms: number) => {
    while (clock.now() < ms) clock.increment(Math.min(1000, ms - clock.now()));
  };
  const types = () => reports.map((r) => r.type);
  return { clock, actor, acks, reports, advanceTo, types, send: (e: BindingUpdateReceived) => actor.send(e) };
}

describe('bindingCacheEntry: registration and lifetime (RFC 6275 §9.5.1, §10.3.1)', () => {
  it('accepts any sequence number for a new entry; BA 0 copies it, grants the lifetime and advises half', () => {
    const t = start();
    t.send(bu(50_000));
    expect(t.acks).toEqual([
      { status: 0, sequence: 50_000, lifetimeSeconds: 400, refreshAdviceSeconds: 200, at: 0 },
    ]);
    expect(t.reports).toEqual([
      {
        type: 'BCE.REGISTERED',
        homeAddress: HOA,
        careOf: IPV6_COA,
        lifetimeSeconds: 400,
        tunnel: 'ip6',
        sequence: 50_000,
        at: 0,
      },
    ]);
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv6Only' });
  });

  it('clamps the lifetime to the policy maximum, rounded down to 4 s units', () => {
    const t = start({ maxLifetimeSeconds: 1002 });
    t.send(bu(1, { lifetimeSeconds: 8000 }));
    expect(t.acks[0]).toMatchObject({ status: 0, lifetimeSeconds: 1000, refreshAdviceSeconds: 500 });
    // The granted lifetime, not the requested one, drives expiry.
    t.advanceTo(999_999);
    expect(t.types()).not.toContain('BCE.EXPIRED');
    t.advanceTo(1_000_000);
    expect(t.types()).toContain('BCE.EXPIRED');
  });

  it('rounds the refresh advice down to 4 s and omits it when that would be 0', () => {
    const t = start();
    t.send(bu(1, { lifetimeSeconds: 12 }));
    expect(t.acks[0]).toMatchObject({ lifetimeSeconds: 12, refreshAdviceSeconds: 4 });
    t.send(bu(2, { lifetimeSeconds: 4 }));
    expect(t.acks[1]?.lifetimeSeconds).toBe(4);
    expect(t.acks[1]).not.toHaveProperty('refreshAdviceSeconds');
  });

  it('expires at exactly the granted lifetime: EXPIRED then DELETED, final state', () => {
    const t = start();
    t.send(bu(7));
    t.advanceTo(399_999);
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv6Only' });
    t.advanceTo(400_000);
    expect(t.reports.slice(1)).toEqual([
      { type: 'BCE.EXPIRED', homeAddress: HOA, at: 400_000 },
      { type: 'BCE.DELETED', homeAddress: HOA, at: 400_000 },
    ]);
    expect(t.actor.getSnapshot().status).toBe('done');
  });

  it('a refresh restarts the lifetime from the refresh', () => {
    const t = start();
    t.send(bu(7));
    t.advanceTo(300_000);
    t.send(bu(8));
    expect(t.acks[1]).toMatchObject({ status: 0, sequence: 8, lifetimeSeconds: 400, at: 300_000 });
    t.advanceTo(699_999);
    expect(t.types()).toEqual(['BCE.REGISTERED', 'BCE.REGISTERED']);
    t.advanceTo(700_000);
    expect(t.types().slice(2)).toEqual(['BCE.EXPIRED', 'BCE.DELETED']);
    expect(t.reports.at(-1)?.at).toBe(700_000);
  });
});

describe('bindingCacheEntry: sequence window and registration type (RFC 6275 §9.5.1)', () => {
  it('answers an old or repeated sequence number with 135 carrying the last accepted one', () => {
    const t = start();
    t.send(bu(10));
    t.advanceTo(100_000);
    t.send(bu(10));
    t.send(bu(5));
    expect(t.acks.slice(1)).toEqual([
      { status: 135, sequence: 10, lifetimeSeconds: 0, at: 100_000 },
      { status: 135, sequence: 10, lifetimeSeconds: 0, at: 100_000 },
    ]);
    expect(t.reports.slice(1)).toEqual([
      { type: 'BCE.REJECTED', homeAddress: HOA, status: 135, sequence: 10, at: 100_000 },
      { type: 'BCE.REJECTED', homeAddress: HOA, status: 135, sequence: 5, at: 100_000 },
    ]);
    // The binding is unchanged: still expires 400 s after the accepted BU.
    t.advanceTo(400_000);
    expect(t.types()).toContain('BCE.EXPIRED');
  });

  it('compares modulo 2^16: last+32767 is newer, last+32768 is not', () => {
    const t = start();
    t.send(bu(10));
    t.send(bu(10 + 32_768));
    expect(t.acks[1]).toMatchObject({ status: 135, sequence: 10 });
    t.send(bu(10 + 32_767));
    expect(t.acks[2]).toMatchObject({ status: 0, sequence: 32_777 });
  });

  it('accepts the wrap from 65535 to 0, after which 65535 is old', () => {
    const t = start();
    t.send(bu(65_535));
    t.send(bu(0));
    expect(t.acks[1]).toMatchObject({ status: 0, sequence: 0 });
    t.send(bu(65_535));
    expect(t.acks[2]).toMatchObject({ status: 135, sequence: 0 });
  });

  it('rejects a change of the H flag with 139, keeping the entry and not recording the sequence', () => {
    const t = start();
    t.send(bu(20));
    t.advanceTo(100_000);
    t.send(bu(21, { homeRegistration: false }));
    expect(t.acks[1]).toEqual({ status: 139, sequence: 21, lifetimeSeconds: 0, at: 100_000 });
    expect(t.actor.getSnapshot().context.homeRegistration).toBe(true);
    // Sequence 21 was not accepted, so a home registration with 21 is.
    t.send(bu(21));
    expect(t.acks[2]).toMatchObject({ status: 0, sequence: 21 });
  });

  it('checks the sequence before the H flag (an old BU with another H gets 135)', () => {
    const t = start();
    t.send(bu(20));
    t.send(bu(19, { homeRegistration: false }));
    expect(t.acks[1]).toMatchObject({ status: 135, sequence: 20 });
  });
});

describe('bindingCacheEntry: deregistration (RFC 6275 §10.3.2)', () => {
  it('lifetime 0: BA 0 with lifetime 0 and no advice, DEREGISTERED at once, DELETED 10 s later', () => {
    const t = start();
    t.send(bu(30));
    t.advanceTo(100_000);
    t.send(bu(31, { lifetimeSeconds: 0 }));
    expect(t.acks[1]).toEqual({ status: 0, sequence: 31, lifetimeSeconds: 0, at: 100_000 });
    expect(t.reports[1]).toEqual({ type: 'BCE.DEREGISTERED', homeAddress: HOA, at: 100_000 });
    expect(t.actor.getSnapshot().value).toBe('deleting');
    t.advanceTo(100_000 + MAX_DELETE_BCE_TIMEOUT_MS - 1);
    expect(t.types()).not.toContain('BCE.DELETED');
    t.advanceTo(100_000 + MAX_DELETE_BCE_TIMEOUT_MS);
    expect(t.reports.at(-1)).toEqual({ type: 'BCE.DELETED', homeAddress: HOA, at: 110_000 });
    expect(t.actor.getSnapshot().status).toBe('done');
    expect(t.types()).not.toContain('BCE.EXPIRED');
  });

  it('an older BU during the delete delay gets 135 with the deregistration sequence, and re-creates nothing', () => {
    const t = start();
    t.send(bu(30));
    t.send(bu(31, { lifetimeSeconds: 0 }));
    t.advanceTo(5_000);
    t.send(bu(30));
    expect(t.acks[2]).toEqual({ status: 135, sequence: 31, lifetimeSeconds: 0, at: 5_000 });
    expect(t.actor.getSnapshot().value).toBe('deleting');
    t.advanceTo(10_000);
    expect(t.types()).toEqual(['BCE.REGISTERED', 'BCE.DEREGISTERED', 'BCE.REJECTED', 'BCE.DELETED']);
  });

  it('a retransmitted (newer) deregistration is acknowledged again without extending the delay', () => {
    const t = start();
    t.send(bu(30));
    t.send(bu(31, { lifetimeSeconds: 0 }));
    t.advanceTo(4_000);
    t.send(bu(32, { lifetimeSeconds: 0 }));
    expect(t.acks[2]).toEqual({ status: 0, sequence: 32, lifetimeSeconds: 0, at: 4_000 });
    t.advanceTo(10_000);
    expect(t.types()).toEqual(['BCE.REGISTERED', 'BCE.DEREGISTERED', 'BCE.DELETED']);
  });

  it('a newer registration during the delete delay registers again', () => {
    const t = start();
    t.send(bu(30));
    t.send(bu(31, { lifetimeSeconds: 0 }));
    t.advanceTo(3_000);
    t.send(bu(32));
    expect(t.acks[2]).toMatchObject({ status: 0, sequence: 32, lifetimeSeconds: 400 });
    expect(t.reports.at(-1)).toMatchObject({ type: 'BCE.REGISTERED', sequence: 32 });
    t.advanceTo(20_000);
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv6Only' });
    t.advanceTo(403_000);
    expect(t.types().slice(-2)).toEqual(['BCE.EXPIRED', 'BCE.DELETED']);
  });

  it('lifetime 0 with no entry: 133 and the entry is deleted', () => {
    const t = start();
    t.send(bu(40, { lifetimeSeconds: 0 }));
    expect(t.acks).toEqual([{ status: 133, sequence: 40, lifetimeSeconds: 0, at: 0 }]);
    expect(t.types()).toEqual(['BCE.REJECTED', 'BCE.DELETED']);
    expect(t.actor.getSnapshot().status).toBe('done');
  });
});

describe('bindingCacheEntry: NAT detection and tunnel mode (RFC 5555 §4.2, §4.5)', () => {
  it('NAT detected: BA back to the outer address/port with NAT Detection (refresh 110), tunnel udp', () => {
    const t = start();
    t.send(bu(1, behindNat()));
    expect(t.acks[0]).toEqual({
      status: 0,
      sequence: 1,
      lifetimeSeconds: 400,
      refreshAdviceSeconds: 200,
      natDetection: { forceUdp: false, refreshSeconds: 110 },
      udp: { address: '203.0.113.9', port: 61_000 },
      at: 0,
    });
    expect(t.reports[0]).toMatchObject({
      type: 'BCE.REGISTERED',
      careOf: { family: 4, address: PRIVATE_V4 },
      tunnel: 'udp',
      nat: { address: '203.0.113.9', port: 61_000 },
      udpEndpoint: { address: '203.0.113.9', port: 61_000 },
    });
    expect(t.actor.getSnapshot().context.nat).toEqual({ address: '203.0.113.9', port: 61_000 });
  });

  it('no NAT over UDP: NAT Detection still present with refresh 0xFFFFFFFF, BA in UDP, tunnel ip4', () => {
    const t = start();
    t.send(bu(1, publicV4({ udp: { sourceAddress: PUBLIC_V4, sourcePort: 5555 } })));
    expect(t.acks[0]).toMatchObject({
      status: 0,
      natDetection: { forceUdp: false, refreshSeconds: NATD_REFRESH_NOT_NEEDED },
      udp: { address: PUBLIC_V4, port: 5555 },
    });
    const registered = t.reports[0];
    expect(registered).toMatchObject({ type: 'BCE.REGISTERED', tunnel: 'ip4' });
    expect(registered).not.toHaveProperty('nat');
  });

  it('a native IPv6 BU gets no NAT Detection and no UDP reply', () => {
    const t = start();
    t.send(bu(1));
    expect(t.acks[0]).not.toHaveProperty('natDetection');
    expect(t.acks[0]).not.toHaveProperty('udp');
  });

  it('moving from behind a NAT to IPv6 clears the NAT state', () => {
    const t = start();
    t.send(bu(1, behindNat()));
    t.send(bu(2));
    expect(t.reports[1]).toMatchObject({ tunnel: 'ip6' });
    expect(t.reports[1]).not.toHaveProperty('nat');
    expect(t.actor.getSnapshot().context.nat).toBeNull();
  });

  it('F refused: 144 sent back over UDP, a new entry is deleted', () => {
    const t = start({ allowForceUdp: false });
    t.send(bu(1, publicV4({ forceUdp: true })));
    expect(t.acks).toEqual([
      {
        status: 144,
        sequence: 1,
        lifetimeSeconds: 0,
        natDetection: { forceUdp: false, refreshSeconds: NATD_REFRESH_NOT_NEEDED },
        udp: { address: PUBLIC_V4, port: 4191 },
        at: 0,
      },
    ]);
    expect(t.types()).toEqual(['BCE.REJECTED', 'BCE.DELETED']);
  });

  it('F refused on an existing entry: 144 and the binding stays as it was', () => {
    const t = start({ allowForceUdp: false });
    t.send(bu(1, publicV4()));
    t.advanceTo(100_000);
    t.send(bu(2, publicV4({ forceUdp: true })));
    expect(t.acks[1]).toMatchObject({ status: 144, sequence: 2 });
    expect(t.actor.getSnapshot().context.tunnel).toBe('ip4');
    t.advanceTo(400_000);
    expect(t.types()).toContain('BCE.EXPIRED');
  });

  it('F allowed: tunnel udp, NAT Detection with F and the keepalive period', () => {
    const t = start({ allowForceUdp: true });
    t.send(bu(1, publicV4({ forceUdp: true })));
    expect(t.acks[0]).toMatchObject({
      status: 0,
      natDetection: { forceUdp: true, refreshSeconds: 110 },
      udp: { address: PUBLIC_V4, port: 4191 },
    });
    expect(t.reports[0]).toMatchObject({
      tunnel: 'udp',
      udpEndpoint: { address: PUBLIC_V4, port: 4191 },
    });
    expect(t.reports[0]).not.toHaveProperty('nat');
  });
  it('F allowed on a native IPv6 BU: NAT Detection F=1 tells the MN to switch; the tunnel waits for its UDP BU', () => {
    const t = start({ allowForceUdp: true });
    t.send(bu(1, { forceUdp: true }));
    expect(t.acks[0]).toMatchObject({ status: 0, natDetection: { forceUdp: true, refreshSeconds: 110 } });
    expect(t.acks[0]).not.toHaveProperty('udp');
    expect(t.reports[0]).toMatchObject({ tunnel: 'ip6' });
    expect(t.reports[0]).not.toHaveProperty('udpEndpoint');
    t.send(bu(2, { forceUdp: true, udp: { sourceAddress: IPV6_COA.address, sourcePort: 4000 } }));
    expect(t.reports[1]).toMatchObject({
      tunnel: 'udp',
      udpEndpoint: { address: IPV6_COA.address, port: 4000 },
    });
  });
});

describe('bindingCacheEntry: IPv4 home address (RFC 5555 §4.4.2, §4.5)', () => {
  it('binds a dynamically assigned IPv4 home address and acknowledges it', () => {
    const t = start();
    t.send(bu(1, publicV4(dynamicV4('192.0.2.10', 86_400))));
    expect(t.acks[0]).toMatchObject({
      status: 0,
      ipv4Ack: { status: 0, address: '192.0.2.10', prefixLength: 24 },
    });
    expect(t.reports[0]).toMatchObject({
      type: 'BCE.REGISTERED',
      ipv4HomeAddress: '192.0.2.10',
      ipv4PrefixLength: 24,
      ipv4LifetimeSeconds: 400,
    });
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv4Bound' });
  });

  it('passes an IPv4 failure (132) through in the IPv4 Ack while accepting the IPv6 binding', () => {
    const t = start();
    t.send(bu(1, behindNat({ ipv4HomeAddress: { requested: '0.0.0.0', failureStatus: 132 } })));
    expect(t.acks[0]).toMatchObject({
      status: 0,
      lifetimeSeconds: 400,
      ipv4Ack: { status: 132, address: '0.0.0.0', prefixLength: 0 }, // RFC 5555 §3.2.1: 0 on failure
    });
    expect(t.reports[0]).toMatchObject({ type: 'BCE.REGISTERED', tunnel: 'udp' });
    expect(t.reports[0]).not.toHaveProperty('ipv4HomeAddress');
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv6Only' });
  });

  it('a lease shorter than the lifetime ends alone: IPV4_RELEASED at the lease, IPv6 lives on', () => {
    const t = start();
    t.send(bu(1, publicV4(dynamicV4('192.0.2.10', 200))));
    expect(t.reports[0]).toMatchObject({ ipv4LifetimeSeconds: 200, lifetimeSeconds: 400 });
    t.advanceTo(199_999);
    expect(t.types()).toEqual(['BCE.REGISTERED']);
    t.advanceTo(200_000);
    expect(t.reports[1]).toEqual({
      type: 'BCE.IPV4_RELEASED',
      homeAddress: HOA,
      address: '192.0.2.10',
      at: 200_000,
    });
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv6Only' });
    t.advanceTo(400_000);
    // Released once only: the expiry does not release it again.
    expect(t.types()).toEqual(['BCE.REGISTERED', 'BCE.IPV4_RELEASED', 'BCE.EXPIRED', 'BCE.DELETED']);
  });

  it('a lease longer than the lifetime ends with the IPv6 binding, released once', () => {
    const t = start();
    t.send(bu(1, publicV4(dynamicV4('192.0.2.10', 86_400))));
    t.advanceTo(400_000);
    expect(t.reports.slice(1)).toEqual([
      { type: 'BCE.IPV4_RELEASED', homeAddress: HOA, address: '192.0.2.10', at: 400_000 },
      { type: 'BCE.EXPIRED', homeAddress: HOA, at: 400_000 },
      { type: 'BCE.DELETED', homeAddress: HOA, at: 400_000 },
    ]);
  });

  it('a refresh with the same address restarts the IPv4 lease timer without releasing it', () => {
    const t = start();
    t.send(bu(1, publicV4(dynamicV4('192.0.2.10', 200))));
    t.advanceTo(150_000);
    t.send(bu(2, publicV4(dynamicV4('192.0.2.10', 200))));
    t.advanceTo(349_999);
    expect(t.types()).toEqual(['BCE.REGISTERED', 'BCE.REGISTERED']);
    t.advanceTo(350_000);
    expect(t.reports.at(-1)).toMatchObject({ type: 'BCE.IPV4_RELEASED', address: '192.0.2.10' });
  });

  it('a BU without the IPv4 HoA option drops only the IPv4 binding (§4.4.2.1)', () => {
    const t = start();
    t.send(bu(1, publicV4(dynamicV4('192.0.2.10', 86_400))));
    t.advanceTo(100_000);
    t.send(bu(2, publicV4()));
    expect(t.reports.slice(1)).toEqual([
      { type: 'BCE.IPV4_RELEASED', homeAddress: HOA, address: '192.0.2.10', at: 100_000 },
      {
        type: 'BCE.REGISTERED',
        homeAddress: HOA,
        careOf: { family: 4, address: PUBLIC_V4 },
        lifetimeSeconds: 400,
        tunnel: 'ip4',
        sequence: 2,
        at: 100_000,
      },
    ]);
    expect(t.acks[1]).not.toHaveProperty('ipv4Ack');
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv6Only' });
    // The IPv6 binding was refreshed: it expires 400 s after the second BU.
    t.advanceTo(499_999);
    expect(t.types()).not.toContain('BCE.EXPIRED');
    t.advanceTo(500_000);
    expect(t.types().slice(-2)).toEqual(['BCE.EXPIRED', 'BCE.DELETED']);
  });

  it('deregistration releases the IPv4 home address too', () => {
    const t = start();
    t.send(bu(1, publicV4(dynamicV4('192.0.2.10', 86_400))));
    t.send(bu(2, publicV4({ lifetimeSeconds: 0 })));
    expect(t.types()).toEqual(['BCE.REGISTERED', 'BCE.IPV4_RELEASED', 'BCE.DEREGISTERED']);
    expect(t.reports[1]).toMatchObject({ address: '192.0.2.10' });
    expect(t.acks[1]).toMatchObject({
      status: 0,
      lifetimeSeconds: 0,
      udp: { address: PUBLIC_V4, port: 4191 },
    });
  });

  it('a rejected BU returns an address allocated for it but keeps the bound one', () => {
    const t = start();
    t.send(bu(5, publicV4(dynamicV4('192.0.2.10', 86_400))));
    t.send(bu(4, publicV4(dynamicV4('192.0.2.11', 86_400))));
    expect(t.acks[1]).toMatchObject({ status: 135, sequence: 5, ipv4Ack: { status: 128 } });
    expect(t.reports.slice(1)).toEqual([
      { type: 'BCE.IPV4_RELEASED', homeAddress: HOA, address: '192.0.2.11', at: 0 },
      { type: 'BCE.REJECTED', homeAddress: HOA, status: 135, sequence: 4, at: 0 },
    ]);
    // Same address as the bound one: nothing to return.
    t.send(bu(3, publicV4(dynamicV4('192.0.2.10', 86_400))));
    expect(t.types().slice(3)).toEqual(['BCE.REJECTED']);
    expect(t.actor.getSnapshot().value).toEqual({ registered: 'ipv4Bound' });
  });
});

describe('bindingCacheEntry model', () => {
  it('the shortest-path graph terminates and reaches every state node', () => {
    const timerEvents = (snapshot: { _nodes: AnyStateNode[] }) =>
      snapshot._nodes.flatMap((node) => node.after.map((t) => ({ type: t.eventType })));
    const paths = getShortestPaths(bindingCacheEntryModel.machine, {
      events: (s) => [
        ...bindingCacheEntryModel.events(s),
        ...(timerEvents(s as unknown as { _nodes: AnyStateNode[] }) as never[]),
      ],
      serializeState: bindingCacheEntryModel.serialize as never,
      input: bindingCacheEntryModel.input,
    });
    const reached = new Set<string>();
    for (const path of paths) {
      for (const node of (path.state as unknown as { _nodes: AnyStateNode[] })._nodes) reached.add(node.id);
    }
    const all: string[] = [];
    const walk = (node: AnyStateNode) => {
      all.push(node.id);
      for (const child of Object.values(node.states)) walk(child);
    };
    walk(bindingCacheEntryModel.machine.root);
    expect([...reached].sort()).toEqual(all.sort());
  });
});
