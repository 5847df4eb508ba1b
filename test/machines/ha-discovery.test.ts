import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, type AnyStateNode, createActor, SimulatedClock } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  type DnsQuery,
  type HaDiscoveryEvent,
  type HaDiscoveryInput,
  type HaDiscoveryReport,
  haDiscoveryMachine,
  haDiscoveryModel,
  orderSrvTargets,
  type SrvRecord,
} from '../../src/machines/ha-discovery.js';

const SECOND = 1000;
const HA1 = 'ha1.example.net';
const HA2 = 'ha2.example.net';
const SRV_NAME = '_mip6._ipv6.example.net';

function start(input: HaDiscoveryInput) {
  const clock = new SimulatedClock();
  const resolves: { at: number; queries: DnsQuery[] }[] = [];
  const reports: (HaDiscoveryReport & { at: number })[] = [];
  const actor = createActor(
    haDiscoveryMachine.provide({
      actions: {
        resolve: (_, params) => {
          resolves.push({ at: clock.now(), queries: params.queries });
        },
        report: (_, params) => {
          reports.push({ ...params, at: clock.now() });
        },
      },
    }),
    { input, clock },
  ).start();
  /** Advance to absolute time `until`, landing on every multiple of `stepMs` (exact timer stamps). */
  const advanceTo = (until: number, stepMs = SECOND) => {
    while (clock.now() < until) {
      const next = Math.min(until, (Math.floor(clock.now() / stepMs) + 1) * stepMs);
      clock.increment(next - clock.now());
    }
  };
  const send = (e: HaDiscoveryEvent) => actor.send(e);
  const aaaa = (name: string, addresses: string[], ttlSeconds = 300) =>
    send({ type: 'DNS.ANSWER', name, rrType: 'AAAA', ttlSeconds, addresses });
  const a = (name: string, addresses: string[], ttlSeconds = 300) =>
    send({ type: 'DNS.ANSWER', name, rrType: 'A', ttlSeconds, addresses });
  const srv = (srvRecords: SrvRecord[], ttlSeconds = 300) =>
    send({ type: 'DNS.ANSWER', name: SRV_NAME, rrType: 'SRV', ttlSeconds, srv: srvRecords });
  const fail = (name: string, rrType: 'AAAA' | 'A' | 'SRV', reason = 'timeout') =>
    send({ type: 'DNS.FAILURE', name, rrType, reason });
  const found = () => reports.filter((r) => r.type === 'DISCOVERY.FOUND');
  const failed = () => reports.filter((r) => r.type === 'DISCOVERY.FAILED');
  return { actor, clock, resolves, reports, advanceTo, aaaa, a, srv, fail, send, found, failed };
}

const addressQueries = (name: string): DnsQuery[] => [
  { name, type: 'AAAA' },
  { name, type: 'A' },
];

const rec = (priority: number, weight: number, target: string): SrvRecord => ({
  priority,
  weight,
  port: 500,
  target,
});

describe('haDiscovery: configured home agents', () => {
  const configured = [{ name: HA1, ipv6: '2001:db8:1::1', ipv4: '192.0.2.1' }, { ipv6: '2001:db8:2::1' }];

  it('uses the configured list without DNS, in order, and never re-resolves it', () => {
    const t = start({ configured, haName: 'ignored.example.net', domain: 'ignored.example.net' });
    expect(t.resolves).toEqual([]);
    expect(t.reports).toEqual([
      {
        type: 'DISCOVERY.FOUND',
        ha: { name: HA1, ipv6: '2001:db8:1::1', ipv4: '192.0.2.1' },
        index: 0,
        candidates: 2,
        at: 0,
      },
    ]);
    t.advanceTo(86_400_000, 600_000);
    expect(t.resolves).toEqual([]);
    expect(t.reports).toHaveLength(1);
  });

  it('REGISTRATION.GAVE_UP moves to the next HA; after the last, starts over after the restart delay', () => {
    const t = start({ configured, restartDelayMs: 20_000 });
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    expect(t.found().at(-1)).toMatchObject({ ha: { ipv6: '2001:db8:2::1' }, index: 1, candidates: 2 });
    t.advanceTo(5_000);
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    expect(t.failed()).toEqual([
      {
        type: 'DISCOVERY.FAILED',
        reason: 'registration gave up with all 2 home agents',
        retryInMs: 20_000,
        at: 5_000,
      },
    ]);
    expect(t.actor.getSnapshot().value).toBe('waitingToRestart');
    t.advanceTo(24_999);
    expect(t.found()).toHaveLength(2);
    t.advanceTo(25_000);
    expect(t.found().map((r) => [r.index, r.at])).toEqual([
      [0, 0],
      [1, 0],
      [0, 25_000],
    ]);
  });

  it('waits 30 s by default before starting the list over', () => {
    const t = start({ configured: [{ ipv4: '192.0.2.1' }] });
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    expect(t.failed()[0]?.retryInMs).toBe(30_000);
    t.advanceTo(29_999);
    expect(t.found()).toHaveLength(1);
    t.advanceTo(30_000);
    expect(t.found()).toHaveLength(2);
  });

  it('resolves a configured entry that has only a name', () => {
    const t = start({ configured: [{ name: 'HA1.example.net.' }, { ipv4: '192.0.2.2' }] });
    expect(t.resolves).toEqual([{ at: 0, queries: addressQueries(HA1) }]);
    t.aaaa(HA1, []);
    t.a(HA1, []);
    // No address for the first entry: skipped, the second is used.
    expect(t.found()).toEqual([
      { type: 'DISCOVERY.FOUND', ha: { ipv4: '192.0.2.2' }, index: 1, candidates: 2, at: 0 },
    ]);
  });

  it('skips an entry with neither name nor address', () => {
    const t = start({ configured: [{}, { ipv6: '2001:db8::5' }] });
    expect(t.found()).toEqual([
      { type: 'DISCOVERY.FOUND', ha: { ipv6: '2001:db8::5' }, index: 1, candidates: 2, at: 0 },
    ]);
  });
});

describe('haDiscovery: HA name (RFC 5026 §5.1, RFC 5555 §2.1)', () => {
  it('asks AAAA and A and reports both addresses once both answered', () => {
    const t = start({ haName: HA1 });
    expect(t.resolves).toEqual([{ at: 0, queries: addressQueries(HA1) }]);
    t.aaaa(HA1, ['2001:db8:1::1']);
    expect(t.found()).toEqual([]);
    t.a(HA1, ['192.0.2.1']);
    expect(t.found()).toEqual([
      {
        type: 'DISCOVERY.FOUND',
        ha: { name: HA1, ipv6: '2001:db8:1::1', ipv4: '192.0.2.1' },
        index: 0,
        candidates: 1,
        at: 0,
      },
    ]);
    expect(t.actor.getSnapshot().value).toEqual({ selected: 'current' });
  });

  it('an HA with only an A record is usable (IPv4-only HA, RFC 5555 §2.1)', () => {
    const t = start({ haName: HA1 });
    t.a(HA1, ['192.0.2.1']);
    t.aaaa(HA1, []); // NODATA
    expect(t.found()).toEqual([
      { type: 'DISCOVERY.FOUND', ha: { name: HA1, ipv4: '192.0.2.1' }, index: 0, candidates: 1, at: 0 },
    ]);
  });

  it('an AAAA failure does not hide the A answer', () => {
    const t = start({ haName: HA1 });
    t.fail(HA1, 'AAAA', 'SERVFAIL');
    t.a(HA1, ['192.0.2.1']);
    expect(t.found()[0]?.ha).toEqual({ name: HA1, ipv4: '192.0.2.1' });
  });

  it('matches answers case-insensitively, with or without the root dot', () => {
    const t = start({ haName: 'HA1.Example.NET' });
    t.aaaa('ha1.example.net.', ['2001:db8:1::1']);
    t.a('HA1.EXAMPLE.NET', ['192.0.2.1']);
    expect(t.found()).toHaveLength(1);
  });

  it('retries failed lookups with backoff 1, 2, 4, ... s capped at 32 s', () => {
    const t = start({ haName: HA1 });
    const failRound = () => {
      t.fail(HA1, 'AAAA', 'NXDOMAIN');
      t.fail(HA1, 'A', 'NXDOMAIN');
    };
    failRound();
    for (let i = 0; i < 7; i++) {
      const last = t.resolves.length;
      t.advanceTo(t.clock.now() + (t.failed().at(-1)?.retryInMs ?? 0));
      expect(t.resolves).toHaveLength(last + 1);
      failRound();
    }
    expect(t.resolves.map((r) => r.at / SECOND)).toEqual([0, 1, 3, 7, 15, 31, 63, 95]);
    expect(t.failed().map((r) => r.retryInMs / SECOND)).toEqual([1, 2, 4, 8, 16, 32, 32, 32]);
    expect(t.failed()[0]?.reason).toContain(
      'ha1.example.net: no AAAA or A address (AAAA: NXDOMAIN, A: NXDOMAIN)',
    );
    expect(t.resolves.every((r) => JSON.stringify(r.queries) === JSON.stringify(addressQueries(HA1)))).toBe(
      true,
    );
  });

  it('does not retry before the backoff runs out, and honours a configured cap', () => {
    const t = start({ haName: HA1, retryInitialMs: 500, retryMaxMs: 2_000 });
    const failRound = () => {
      t.fail(HA1, 'AAAA');
      t.fail(HA1, 'A');
    };
    failRound();
    t.advanceTo(499, 1);
    expect(t.resolves).toHaveLength(1);
    t.advanceTo(500, 1);
    expect(t.resolves).toHaveLength(2);
    for (let i = 0; i < 4; i++) {
      failRound();
      t.advanceTo(t.clock.now() + (t.failed().at(-1)?.retryInMs ?? 0), 100);
    }
    expect(t.failed().map((r) => r.retryInMs)).toEqual([500, 1_000, 2_000, 2_000, 2_000]);
  });

  it('resets the backoff after a success', () => {
    const t = start({ haName: HA1 });
    t.fail(HA1, 'AAAA');
    t.fail(HA1, 'A');
    t.advanceTo(1_000);
    t.fail(HA1, 'AAAA');
    t.fail(HA1, 'A');
    expect(t.failed().at(-1)?.retryInMs).toBe(2_000);
    t.advanceTo(3_000);
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, []);
    expect(t.found()).toHaveLength(1);
    t.send({ type: 'RESTART' });
    t.fail(HA1, 'AAAA');
    t.fail(HA1, 'A');
    expect(t.failed().at(-1)?.retryInMs).toBe(1_000);
  });
});

describe('haDiscovery: SRV _mip6._ipv6.<domain> (RFC 5026 §5.1, RFC 2782)', () => {
  it('orders targets by priority, then by weight descending; drops "." and duplicates', () => {
    expect(
      orderSrvTargets([
        rec(20, 50, 'c.example.net'),
        rec(10, 10, 'b.example.net'),
        rec(10, 60, 'a.example.net'),
        rec(10, 0, 'd.example.net'),
        rec(0, 0, '.'),
        rec(30, 5, 'A.example.net.'),
      ]),
    ).toEqual(['a.example.net', 'b.example.net', 'd.example.net', 'c.example.net']);
    // Equal priority and weight: the answer's order (deterministic).
    expect(orderSrvTargets([rec(1, 5, 'y.example.net'), rec(1, 5, 'x.example.net')])).toEqual([
      'y.example.net',
      'x.example.net',
    ]);
  });

  it('asks SRV, then AAAA + A for the best target, then the next one after GAVE_UP', () => {
    const t = start({ domain: 'Example.NET' });
    expect(t.resolves).toEqual([{ at: 0, queries: [{ name: SRV_NAME, type: 'SRV' }] }]);
    t.srv([rec(20, 0, HA2), rec(10, 0, HA1)]);
    expect(t.resolves.at(-1)?.queries).toEqual(addressQueries(HA1));
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, ['192.0.2.1']);
    expect(t.found().at(-1)).toMatchObject({ ha: { name: HA1 }, index: 0, candidates: 2 });
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    expect(t.resolves.at(-1)?.queries).toEqual(addressQueries(HA2));
    t.a(HA2, ['198.51.100.2']);
    t.aaaa(HA2, []);
    expect(t.found().at(-1)).toMatchObject({
      ha: { name: HA2, ipv4: '198.51.100.2' },
      index: 1,
      candidates: 2,
    });
  });

  it('skips a target without addresses', () => {
    const t = start({ domain: 'example.net' });
    t.srv([rec(10, 0, HA1), rec(20, 0, HA2)]);
    t.fail(HA1, 'AAAA', 'NXDOMAIN');
    t.fail(HA1, 'A', 'NXDOMAIN');
    expect(t.resolves.at(-1)?.queries).toEqual(addressQueries(HA2));
    t.aaaa(HA2, ['2001:db8:2::1']);
    t.a(HA2, []);
    expect(t.found()).toEqual([
      { type: 'DISCOVERY.FOUND', ha: { name: HA2, ipv6: '2001:db8:2::1' }, index: 1, candidates: 2, at: 0 },
    ]);
  });

  it('retries the SRV query with backoff when it fails or names no target', () => {
    const t = start({ domain: 'example.net' });
    t.fail(SRV_NAME, 'SRV', 'NXDOMAIN');
    expect(t.failed()).toEqual([
      { type: 'DISCOVERY.FAILED', reason: `${SRV_NAME} SRV: NXDOMAIN`, retryInMs: 1_000, at: 0 },
    ]);
    t.advanceTo(1_000);
    expect(t.resolves.map((r) => [r.at, r.queries[0]?.type])).toEqual([
      [0, 'SRV'],
      [1_000, 'SRV'],
    ]);
    t.srv([rec(0, 0, '.')]); // RFC 2782: service decidedly not available
    expect(t.failed().at(-1)).toMatchObject({
      reason: `${SRV_NAME} SRV: no home agent targets`,
      retryInMs: 2_000,
    });
    t.advanceTo(3_000);
    expect(t.resolves).toHaveLength(3);
  });

  it('when no target resolves, the pass fails and starts over with backoff from the SRV query', () => {
    const t = start({ domain: 'example.net' });
    t.srv([rec(10, 0, HA1), rec(20, 0, HA2)]);
    for (const ha of [HA1, HA2]) {
      t.aaaa(ha, []);
      t.a(ha, []);
    }
    expect(t.failed()).toEqual([
      {
        type: 'DISCOVERY.FAILED',
        reason: `no usable home agent among 2 candidates; last: ${HA2}: no AAAA or A address (AAAA: no records, A: no records)`,
        retryInMs: 1_000,
        at: 0,
      },
    ]);
    t.advanceTo(1_000);
    expect(t.resolves.at(-1)).toEqual({ at: 1_000, queries: [{ name: SRV_NAME, type: 'SRV' }] });
  });

  it('after the last target gave up, waits the restart delay and asks SRV again', () => {
    const t = start({ domain: 'example.net' });
    t.srv([rec(10, 0, HA1), rec(20, 0, HA2)]);
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, []);
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    t.aaaa(HA2, ['2001:db8:2::1']);
    t.a(HA2, []);
    t.advanceTo(60_000);
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    expect(t.failed().at(-1)).toMatchObject({ retryInMs: 30_000, at: 60_000 });
    const before = t.resolves.length;
    t.advanceTo(89_999);
    expect(t.resolves).toHaveLength(before);
    t.advanceTo(90_000);
    expect(t.resolves.at(-1)).toEqual({ at: 90_000, queries: [{ name: SRV_NAME, type: 'SRV' }] });
    t.srv([rec(10, 0, HA1)]);
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, []);
    expect(t.found().at(-1)).toMatchObject({ ha: { name: HA1 }, index: 0, candidates: 1, at: 90_000 });
  });
});

describe('haDiscovery: TTL re-resolution', () => {
  function foundWithTtl(ttlAaaa: number, ttlA: number) {
    const t = start({ haName: HA1 });
    t.aaaa(HA1, ['2001:db8:1::1'], ttlAaaa);
    t.a(HA1, ['192.0.2.1'], ttlA);
    expect(t.found()).toHaveLength(1);
    return t;
  }

  it('re-resolves at exactly the smallest TTL; an unchanged answer is not reported again', () => {
    const t = foundWithTtl(600, 300);
    t.advanceTo(299_999);
    expect(t.resolves).toHaveLength(1);
    t.advanceTo(300_000);
    expect(t.resolves.at(-1)).toEqual({ at: 300_000, queries: addressQueries(HA1) });
    expect(t.actor.getSnapshot().value).toEqual({ selected: 'refreshing' });
    t.aaaa(HA1, ['2001:db8:1::1'], 120);
    t.a(HA1, ['192.0.2.1'], 900);
    expect(t.found()).toHaveLength(1);
    // The next round follows the new answers' smallest TTL (120 s).
    t.advanceTo(419_999);
    expect(t.resolves).toHaveLength(2);
    t.advanceTo(420_000);
    expect(t.resolves).toHaveLength(3);
  });

  it('reports FOUND again when re-resolution changes an address', () => {
    const t = foundWithTtl(300, 300);
    t.advanceTo(300_000);
    t.aaaa(HA1, ['2001:db8:1::99']);
    t.a(HA1, ['192.0.2.1']);
    expect(t.found().at(-1)).toEqual({
      type: 'DISCOVERY.FOUND',
      ha: { name: HA1, ipv6: '2001:db8:1::99', ipv4: '192.0.2.1' },
      index: 0,
      candidates: 1,
      at: 300_000,
    });
  });

  it('a record that disappeared (NODATA) is dropped; a failed lookup keeps the old address', () => {
    const t = foundWithTtl(300, 300);
    t.advanceTo(300_000);
    t.aaaa(HA1, []); // the HA lost its AAAA record
    t.fail(HA1, 'A', 'timeout'); // says nothing about the A record
    expect(t.found().at(-1)?.ha).toEqual({ name: HA1, ipv4: '192.0.2.1' });
  });

  it('keeps the HA and retries with backoff when re-resolution fails', () => {
    const t = foundWithTtl(300, 300);
    t.advanceTo(300_000);
    t.fail(HA1, 'AAAA');
    t.fail(HA1, 'A');
    expect(t.actor.getSnapshot().value).toEqual({ selected: 'refreshBackoff' });
    expect(t.failed()).toEqual([]);
    t.advanceTo(301_000);
    expect(t.resolves.at(-1)?.at).toBe(301_000);
    t.fail(HA1, 'AAAA');
    t.fail(HA1, 'A');
    t.advanceTo(303_000);
    expect(t.resolves.at(-1)?.at).toBe(303_000);
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, ['192.0.2.1']);
    expect(t.actor.getSnapshot().value).toEqual({ selected: 'current' });
    expect(t.found()).toHaveLength(1);
    t.advanceTo(603_000);
    expect(t.resolves.at(-1)?.at).toBe(603_000);
  });

  it('does not re-query sooner than 30 s even for a TTL of 0', () => {
    const t = foundWithTtl(0, 0);
    t.advanceTo(29_999);
    expect(t.resolves).toHaveLength(1);
    t.advanceTo(30_000);
    expect(t.resolves).toHaveLength(2);
  });
});

describe('haDiscovery: stale answers and restarts', () => {
  it('ignores answers for queries that are no longer pending', () => {
    const t = start({ domain: 'example.net' });
    t.srv([rec(10, 0, HA1), rec(20, 0, HA2)]);
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, []);
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    // Late and repeated answers for HA1, an answer for a name never asked, a second SRV answer:
    t.a(HA1, ['192.0.2.1']);
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.aaaa('other.example.net', ['2001:db8:9::9']);
    t.srv([rec(0, 0, 'evil.example.net')]);
    t.fail(HA1, 'A');
    expect(t.actor.getSnapshot().value).toBe('resolvingAddresses');
    expect(t.actor.getSnapshot().context.index).toBe(1);
    expect(t.found()).toHaveLength(1);
    expect(t.failed()).toHaveLength(0);
    // HA2's own answers still count, and an answer of the wrong type for HA2 does not.
    t.send({ type: 'DNS.ANSWER', name: HA2, rrType: 'SRV', ttlSeconds: 60, srv: [] });
    t.aaaa(HA2, ['2001:db8:2::1']);
    t.a(HA2, []);
    expect(t.found().at(-1)).toMatchObject({ ha: { name: HA2, ipv6: '2001:db8:2::1' }, index: 1 });
  });

  it('ignores a duplicate answer once the HA is selected, and GAVE_UP while still resolving', () => {
    const t = start({ haName: HA1 });
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    expect(t.actor.getSnapshot().value).toBe('resolvingAddresses');
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, []);
    t.a(HA1, ['192.0.2.1']);
    expect(t.found()).toHaveLength(1);
    expect(t.found()[0]?.ha).toEqual({ name: HA1, ipv6: '2001:db8:1::1' });
  });

  it('RESTART starts over at once from the first candidate', () => {
    const t = start({ domain: 'example.net' });
    t.srv([rec(10, 0, HA1), rec(20, 0, HA2)]);
    t.aaaa(HA1, ['2001:db8:1::1']);
    t.a(HA1, []);
    t.send({ type: 'REGISTRATION.GAVE_UP' });
    t.advanceTo(5_000);
    t.send({ type: 'RESTART' });
    expect(t.resolves.at(-1)).toEqual({ at: 5_000, queries: [{ name: SRV_NAME, type: 'SRV' }] });
    // The old round's answers are stale now.
    t.aaaa(HA2, ['2001:db8:2::1']);
    t.a(HA2, []);
    expect(t.actor.getSnapshot().value).toBe('resolvingSrv');
    expect(t.found()).toHaveLength(1);
  });

  it('no source at all: reports the failure and keeps retrying with backoff', () => {
    const t = start({});
    expect(t.failed()).toEqual([
      { type: 'DISCOVERY.FAILED', reason: 'no home agent candidates', retryInMs: 1_000, at: 0 },
    ]);
    expect(t.resolves).toEqual([]);
  });
});

describe('haDiscovery model', () => {
  it('its abstract graph is finite and reaches every stable state node', () => {
    const timerEvents = (s: AnyMachineSnapshot) =>
      s._nodes.flatMap((node) => node.after.map((t) => ({ type: t.eventType }) as HaDiscoveryEvent));
    const paths = getShortestPaths(haDiscoveryModel.machine, {
      events: (s) => [...haDiscoveryModel.events(s), ...timerEvents(s)],
      serializeState: haDiscoveryModel.serialize,
      input: haDiscoveryModel.input,
    });
    const reached = new Set(paths.flatMap((p) => p.state._nodes.map((n) => n.id)));
    const TRANSIENT = ['haDiscovery.starting', 'haDiscovery.selecting'];
    const all: string[] = [];
    // `starting` and `selecting` are transient (eventless `always` decisions): no snapshot ever
    // rests in them, so they cannot be reached as states; their transitions are taken on the way.
    const walk = (node: AnyStateNode) => {
      if (!TRANSIENT.includes(node.id)) all.push(node.id);
      for (const child of Object.values(node.states)) walk(child);
    };
    walk(haDiscoveryModel.machine.root);
    expect(all.filter((id) => !reached.has(id))).toEqual([]);
    expect(all).toHaveLength(9);
    expect(paths.length).toBeLessThan(500);
  });
});
