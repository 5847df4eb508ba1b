import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, type AnyStateNode, createActor } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  type BindingUpdateEvent,
  type BindingUpdateInput,
  type BindingUpdateReport,
  bindingUpdateMachine,
  bindingUpdateModel,
  INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS,
  INITIAL_BINDACK_TIMEOUT_MS,
  MAX_BINDACK_TIMEOUT_MS,
  MAX_LIFETIME_SECONDS,
  MAX_UPDATE_RATE,
  type SendBindingUpdateParams,
} from '../../src/machines/binding-update.js';
import { TestClock } from '../../src/testgen/clock.js';

const HOME = '2001:db8:1::100';
const COA_A = '2001:db8:20::10';
const COA_B = '2001:db8:30::10';
const COA_4 = '203.0.113.10';
const IPV4_HOA = '192.0.2.100';

const DEFAULT_INPUT: BindingUpdateInput = {
  haName: 'ha1',
  homeAddress: HOME,
  initialSequence: 100,
  lifetimeSeconds: 400,
  ipv4HomeAddress: '0.0.0.0',
  forceUdp: true,
};

type Ba = Extract<BindingUpdateEvent, { type: 'BA' }>;
type Sent = SendBindingUpdateParams & { at: number };
type Reported = BindingUpdateReport & { at: number };

function start(overrides: Partial<BindingUpdateInput> = {}) {
  const input = { ...DEFAULT_INPUT, ...overrides };
  const clock = new TestClock();
  const sent: Sent[] = [];
  const reports: Reported[] = [];
  const actor = createActor(
    bindingUpdateMachine.provide({
      actions: {
        sendBindingUpdate: (_, p) => {
          sent.push({ ...p, at: clock.now() });
        },
        report: (_, r) => {
          reports.push({ ...r, at: clock.now() });
        },
      },
    }),
    { input, clock },
  ).start();
  const lastSeq = () => {
    const last = sent.at(-1);
    if (!last) throw new Error('no BU sent yet');
    return last.sequence;
  };
  /** A BA answering the last BU sent (status 0, the requested lifetime unless told otherwise). */
  const ba = (status = 0, extra: Partial<Ba> = {}) =>
    actor.send({ type: 'BA', status, sequence: lastSeq(), lifetimeSeconds: 400, ...extra });
  const moved = (coa: string, attachment: 'ipv6' | 'ipv4' | 'home' = 'ipv6') =>
    actor.send({ type: 'MOVED', attachment, coa });
  const registration = () => (actor.getSnapshot().value as { registration: unknown }).registration;
  const sentAt = () => sent.map((s) => s.at);
  const reportsOf = <T extends BindingUpdateReport['type']>(type: T) =>
    reports.filter((r): r is Extract<Reported, { type: T }> => r.type === type);
  return { actor, clock, sent, reports, ba, moved, registration, sentAt, reportsOf, lastSeq };
}

/** Registered at COA_A at t=0 with the default lifetime (400 s), BA at the send instant. */
function registered(overrides: Partial<BindingUpdateInput> = {}, baExtra: Partial<Ba> = {}) {
  const t = start(overrides);
  t.moved(COA_A);
  t.ba(0, { ipv4Ack: { status: 0, address: IPV4_HOA, prefixLength: 32 }, ...baExtra });
  expect(t.registration()).toEqual({ bound: 'registered' });
  return t;
}

/** Small deterministic PRNG (mulberry32) for the long rate-limit run. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('bindingUpdate: first BU (RFC 6275 §11.7.1, RFC 5555 §3.1, §4.4.2)', () => {
  it('sends the first BU right on MOVED with initialSequence, the lifetime, the CoA and the IPv4 HoA request', () => {
    const t = start();
    expect(t.registration()).toBe('idle');
    expect(t.sent).toEqual([]);
    t.moved(COA_A);
    expect(t.sent).toEqual([
      {
        haName: 'ha1',
        sequence: 100,
        lifetimeSeconds: 400,
        attachment: 'ipv6',
        careOf: COA_A,
        homeAddress: HOME,
        ipv4HomeAddress: '0.0.0.0',
        // RFC 5555 §3.1.3: F is not set with an IPv6 care-of address even when configured.
        forceUdp: false,
        at: 0,
      },
    ]);
    expect(t.registration()).toBe('registering');
  });

  it('sets F (force UDP) only for an IPv4 attachment with forceUdp configured (RFC 5555 §3.1.3)', () => {
    const withF = start({ forceUdp: true });
    withF.moved(COA_4, 'ipv4');
    expect(withF.sent[0]).toMatchObject({ attachment: 'ipv4', careOf: COA_4, forceUdp: true });
    const withoutF = start({ forceUdp: false });
    withoutF.moved(COA_4, 'ipv4');
    expect(withoutF.sent[0]).toMatchObject({ attachment: 'ipv4', careOf: COA_4, forceUdp: false });
    const unset = start({ forceUdp: undefined });
    unset.moved(COA_4, 'ipv4');
    expect(unset.sent[0]?.forceUdp).toBe(false);
  });

  it('requests a static IPv4 HoA as given, and none when not configured (RFC 5555 §2.5)', () => {
    const st = start({ ipv4HomeAddress: '192.0.2.7' });
    st.moved(COA_A);
    expect(st.sent[0]?.ipv4HomeAddress).toBe('192.0.2.7');
    const none = start({ ipv4HomeAddress: undefined });
    none.moved(COA_A);
    expect(none.sent[0]).not.toHaveProperty('ipv4HomeAddress');
    none.ba(0);
    expect(none.reportsOf('BUL.REGISTERED')[0]?.ipv4).toEqual({ status: 'not-requested' });
  });

  it('requests the lifetime in whole 4-second units, at most 0xFFFF units (RFC 6275 §6.1.7)', () => {
    const odd = start({ lifetimeSeconds: 1003 });
    odd.moved(COA_A);
    expect(odd.sent[0]?.lifetimeSeconds).toBe(1000);
    const huge = start({ lifetimeSeconds: 10_000_000 });
    huge.moved(COA_A);
    expect(huge.sent[0]?.lifetimeSeconds).toBe(MAX_LIFETIME_SECONDS);
  });

  it('starts at sequence 0 when initialSequence is 0', () => {
    const t = start({ initialSequence: 0 });
    t.moved(COA_A);
    expect(t.sent[0]?.sequence).toBe(0);
  });
});

describe('bindingUpdate: retransmission (RFC 6275 §11.8, §12, §13)', () => {
  it('retransmits after InitialBindackTimeoutFirstReg = 1.5 s, doubling up to 32 s, then every 32 s', () => {
    expect(INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS).toBe(1500);
    expect(MAX_BINDACK_TIMEOUT_MS).toBe(32_000);
    const t = start();
    t.moved(COA_A);
    t.clock.advanceTo(1499);
    expect(t.sentAt()).toEqual([0]);
    t.clock.advanceTo(1500);
    expect(t.sentAt()).toEqual([0, 1500]);
    t.clock.advanceTo(200_000);
    // Timeouts 1.5, 3, 6, 12, 24, then capped at 32 s (24 doubled is 48, capped to 32).
    expect(t.sentAt()).toEqual([0, 1500, 4500, 10_500, 22_500, 46_500, 78_500, 110_500, 142_500, 174_500]);
    // Every BU (retransmissions too) has a new, larger sequence number (§11.7.1, §11.8).
    expect(t.sent.map((s) => s.sequence)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    // Otherwise the retransmissions are the same BU.
    for (const s of t.sent)
      expect(s).toMatchObject({ careOf: COA_A, lifetimeSeconds: 400, ipv4HomeAddress: '0.0.0.0' });
    expect(t.registration()).toBe('registering');
  });

  it('reports each unanswered BU with the attempt count, and GAVE_UP exactly once when the timeout reaches 32 s', () => {
    const t = start();
    t.moved(COA_A);
    t.clock.advanceTo(200_000);
    expect(t.reportsOf('BUL.UNANSWERED')).toEqual(
      [1500, 4500, 10_500, 22_500, 46_500, 78_500, 110_500, 142_500, 174_500].map((at, i) => ({
        type: 'BUL.UNANSWERED',
        haName: 'ha1',
        careOf: COA_A,
        attempts: i + 1,
        at,
      })),
    );
    // §11.8: when the timeout reaches MAX_BINDACK_TIMEOUT the MN SHOULD try another HA.
    expect(t.reportsOf('BUL.GAVE_UP')).toEqual([
      { type: 'BUL.GAVE_UP', haName: 'ha1', careOf: COA_A, at: 46_500 },
    ]);
  });

  it('crosses the 2^16 sequence wrap: 65535 is followed by 0 (§9.5.1 modulo 2^16)', () => {
    const t = start({ initialSequence: 65_535 });
    t.moved(COA_A);
    t.clock.advanceTo(4500);
    expect(t.sent.map((s) => s.sequence)).toEqual([65_535, 0, 1]);
    // And the BA for the wrapped number is accepted.
    t.ba(0);
    expect(t.registration()).toEqual({ bound: 'registered' });
  });

  it('uses INITIAL_BINDACK_TIMEOUT = 1 s for a new CoA when the HA already has a binding (§11.8)', () => {
    expect(INITIAL_BINDACK_TIMEOUT_MS).toBe(1000);
    const t = registered();
    t.clock.advanceTo(5000);
    t.moved(COA_B);
    t.clock.advanceTo(5999);
    expect(t.sentAt()).toEqual([0, 5000]);
    t.clock.advanceTo(12_000);
    expect(t.sentAt()).toEqual([0, 5000, 6000, 8000, 12_000]);
    expect(t.sent.slice(1).map((s) => s.careOf)).toEqual([COA_B, COA_B, COA_B, COA_B]);
    expect(t.sent.map((s) => s.sequence)).toEqual([100, 101, 102, 103, 104]);
  });

  it('a new CoA while registering restarts the backoff from 1.5 s with the new address', () => {
    const t = start();
    t.moved(COA_A);
    t.clock.advanceTo(10_500); // sends at 0, 1500, 4500, 10500: timeout now 12 s
    t.clock.advanceTo(11_000);
    t.moved(COA_B);
    t.clock.advanceTo(14_000);
    expect(t.sentAt()).toEqual([0, 1500, 4500, 10_500, 11_000, 12_500]);
    expect(t.sent.slice(4).map((s) => s.careOf)).toEqual([COA_B, COA_B]);
    // A MOVED to the same CoA changes nothing.
    t.moved(COA_B);
    t.clock.advanceTo(15_499);
    expect(t.sentAt()).toEqual([0, 1500, 4500, 10_500, 11_000, 12_500]);
    t.clock.advanceTo(15_500);
    expect(t.sentAt().at(-1)).toBe(15_500);
  });

  it('DETACHED stops retransmissions until the next MOVED', () => {
    const t = start();
    t.moved(COA_A);
    t.clock.advanceTo(2000);
    t.actor.send({ type: 'DETACHED' });
    expect(t.registration()).toBe('idle');
    t.clock.advanceTo(500_000);
    expect(t.sentAt()).toEqual([0, 1500]);
    expect(t.reportsOf('BUL.UNANSWERED')).toHaveLength(1);
    t.moved(COA_B);
    expect(t.sent.at(-1)).toMatchObject({ careOf: COA_B, sequence: 102, at: 500_000 });
    t.clock.advanceTo(501_500);
    expect(t.sentAt().slice(2)).toEqual([500_000, 501_500]);
  });

  it('DETACHED in a bound state keeps quiet: no refresh BU goes out', () => {
    const t = registered();
    t.actor.send({ type: 'DETACHED' });
    t.clock.advanceTo(1_000_000);
    expect(t.sentAt()).toEqual([0]);
    expect(t.reportsOf('BUL.EXPIRED')).toEqual([]);
  });
});

describe('bindingUpdate: Binding Acknowledgement (RFC 6275 §11.7.3, RFC 5555 §4.3, §4.4.2)', () => {
  it('ignores a BA that does not carry the last sequence number sent (stale)', () => {
    const t = start();
    t.moved(COA_A);
    t.clock.advanceTo(1600); // BUs 100 (t=0), 101 (t=1500)
    t.actor.send({ type: 'BA', status: 0, sequence: 100, lifetimeSeconds: 400 });
    t.actor.send({ type: 'BA', status: 129, sequence: 100, lifetimeSeconds: 0 });
    t.actor.send({ type: 'BA', status: 0, sequence: 102, lifetimeSeconds: 400 }); // not sent yet
    expect(t.registration()).toBe('registering');
    expect(t.reportsOf('BUL.REGISTERED')).toEqual([]);
    expect(t.reportsOf('BUL.FAILED')).toEqual([]);
    t.clock.advanceTo(4500);
    expect(t.sentAt()).toEqual([0, 1500, 4500]);
    t.actor.send({ type: 'BA', status: 0, sequence: 102, lifetimeSeconds: 400 });
    expect(t.registration()).toEqual({ bound: 'registered' });
  });

  it('an accepted BA stops retransmission and reports REGISTERED with lifetime, IPv4 HoA and NAT detection', () => {
    const t = start();
    t.moved(COA_4, 'ipv4');
    t.clock.advanceTo(1520);
    t.ba(0, {
      lifetimeSeconds: 200, // shorter than requested: the HA's value counts
      ipv4Ack: { status: 0, address: IPV4_HOA, prefixLength: 32 },
      natDetection: { forceUdp: false, refreshSeconds: 110 },
    });
    expect(t.registration()).toEqual({ bound: 'registered' });
    expect(t.reports.at(-1)).toEqual({
      type: 'BUL.REGISTERED',
      haName: 'ha1',
      careOf: COA_4,
      attachment: 'ipv4',
      lifetimeSeconds: 200,
      ipv4: { status: 'assigned', address: IPV4_HOA, ackStatus: 0 },
      natDetection: { forceUdp: false, refreshSeconds: 110 },
      at: 1520,
    });
    // No retransmission after the BA (the next BU is the refresh at 80% of 200 s).
    t.clock.advanceTo(1520 + 159_999);
    expect(t.sentAt()).toEqual([0, 1500]);
  });

  it('status 1 (accepted, prefix discovery necessary) is an acceptance', () => {
    const t = start();
    t.moved(COA_A);
    t.ba(1, { ipv4Ack: { status: 0, address: IPV4_HOA, prefixLength: 32 } });
    expect(t.registration()).toEqual({ bound: 'registered' });
    expect(t.reportsOf('BUL.REGISTERED')).toHaveLength(1);
  });

  it('135 resynchronises: the next BU carries the sequence from the BA plus one (§11.7.3, digest §5.2)', () => {
    const t = start();
    t.moved(COA_A);
    t.clock.advanceTo(300);
    // The 135 carries the HA's last accepted number, not the number of our BU: it is still valid.
    t.actor.send({ type: 'BA', status: 135, sequence: 5000, lifetimeSeconds: 0 });
    expect(t.sent.at(-1)).toMatchObject({ sequence: 5001, careOf: COA_A, at: 300 });
    expect(t.registration()).toBe('registering');
    expect(t.reportsOf('BUL.FAILED')).toEqual([]);
    t.clock.advanceTo(1800);
    expect(t.sent.map((s) => [s.at, s.sequence])).toEqual([
      [0, 100],
      [300, 5001],
      [1800, 5002],
    ]);
    t.actor.send({ type: 'BA', status: 0, sequence: 5002, lifetimeSeconds: 400 });
    expect(t.registration()).toEqual({ bound: 'registered' });
  });

  it('135 with a number below ours also resynchronises (the HA is the reference)', () => {
    const t = start({ initialSequence: 40_000 });
    t.moved(COA_A);
    t.actor.send({ type: 'BA', status: 135, sequence: 7, lifetimeSeconds: 0 });
    expect(t.sent.map((s) => s.sequence)).toEqual([40_000, 8]);
    // The pre-resync number is no longer the BU in flight.
    t.actor.send({ type: 'BA', status: 0, sequence: 40_000, lifetimeSeconds: 400 });
    expect(t.registration()).toBe('registering');
    t.actor.send({ type: 'BA', status: 0, sequence: 8, lifetimeSeconds: 400 });
    expect(t.registration()).toEqual({ bound: 'registered' });
  });

  it('135 wrapping at 65535: the next BU is 0', () => {
    const t = start();
    t.moved(COA_A);
    t.actor.send({ type: 'BA', status: 135, sequence: 65_535, lifetimeSeconds: 0 });
    expect(t.sent.at(-1)?.sequence).toBe(0);
  });

  const rejections: [number, string][] = [
    [128, 'reason unspecified'],
    [129, 'administratively prohibited'],
    [130, 'insufficient resources'],
    [131, 'home registration not supported'],
    [132, 'not home subnet'],
    [133, 'not home agent for this mobile node'],
    [134, 'duplicate address detection failed; stop using this home address'],
  ];
  for (const [status, reason] of rejections) {
    it(`status ${status} fails the registration: FAILED "${reason}", no more BUs`, () => {
      const t = start();
      t.moved(COA_A);
      t.clock.advanceTo(1600);
      t.ba(status);
      expect(t.registration()).toBe('failed');
      expect(t.reports.at(-1)).toEqual({ type: 'BUL.FAILED', haName: 'ha1', status, reason, at: 1600 });
      t.clock.advanceTo(10_000_000);
      expect(t.sentAt()).toEqual([0, 1500]);
      expect(t.reportsOf('BUL.UNANSWERED')).toHaveLength(1);
      expect(t.reportsOf('BUL.REGISTERED')).toEqual([]);
    });
  }

  it('leaves the failed state on MOVED (new registration, 1.5 s first timeout) or RETRY', () => {
    const t = start();
    t.moved(COA_A);
    t.ba(129);
    t.clock.advanceTo(60_000);
    t.moved(COA_B);
    expect(t.registration()).toBe('registering');
    t.clock.advanceTo(61_500);
    expect(t.sentAt()).toEqual([0, 60_000, 61_500]);
    expect(t.sent.slice(1).map((s) => s.careOf)).toEqual([COA_B, COA_B]);
    t.ba(132);
    expect(t.registration()).toBe('failed');
    t.clock.advanceTo(100_000);
    t.actor.send({ type: 'RETRY' });
    expect(t.registration()).toBe('registering');
    expect(t.sent.at(-1)).toMatchObject({ careOf: COA_B, sequence: 103, at: 100_000 });
    t.ba(0);
    expect(t.registration()).toEqual({ bound: 'registered' });
  });

  it('MOVED home from failed goes home without any BU (no binding to remove)', () => {
    const t = start();
    t.moved(COA_A);
    t.ba(129);
    t.moved(HOME, 'home');
    expect(t.registration()).toBe('home');
    t.clock.advanceTo(100_000);
    expect(t.sentAt()).toEqual([0]);
  });

  it('144 to a BU with F set: resend at once without F; a second 144 fails (RFC 5555 §4.4.2)', () => {
    const t = start({ forceUdp: true });
    t.moved(COA_4, 'ipv4');
    t.clock.advanceTo(200);
    t.ba(144);
    expect(t.registration()).toBe('registering');
    expect(t.sent.map((s) => [s.at, s.sequence, s.forceUdp])).toEqual([
      [0, 100, true],
      [200, 101, false],
    ]);
    // Later BUs stay without F.
    t.clock.advanceTo(1700);
    expect(t.sent.at(-1)).toMatchObject({ at: 1700, sequence: 102, forceUdp: false });
    t.ba(144);
    expect(t.registration()).toBe('failed');
    expect(t.reports.at(-1)).toMatchObject({
      type: 'BUL.FAILED',
      status: 144,
      reason: 'home agent refused forced UDP encapsulation',
    });
  });

  it('144 without F configured is a failure', () => {
    const t = start({ forceUdp: false });
    t.moved(COA_4, 'ipv4');
    t.ba(144);
    expect(t.registration()).toBe('failed');
    expect(t.sent).toHaveLength(1);
  });

  it('an accepted BA granting lifetime 0 (or under 4 s) is a failure: no binding exists', () => {
    for (const lifetimeSeconds of [0, 3]) {
      const t = start();
      t.moved(COA_A);
      t.ba(0, { lifetimeSeconds });
      expect(t.registration()).toBe('failed');
      expect(t.reports.at(-1)).toEqual({
        type: 'BUL.FAILED',
        haName: 'ha1',
        status: 0,
        reason: 'granted lifetime 0',
        at: 0,
      });
      t.clock.advanceTo(1_000_000);
      expect(t.sent).toHaveLength(1);
    }
  });

  it('IPv4 Address Ack failure (132): "refused", and the refresh BU still requests the IPv4 HoA (RFC 5555 §4.4.2)', () => {
    const t = start();
    t.moved(COA_A);
    t.ba(0, { ipv4Ack: { status: 132, address: '0.0.0.0', prefixLength: 0 } });
    expect(t.registration()).toEqual({ bound: 'registered' });
    expect(t.reportsOf('BUL.REGISTERED')[0]?.ipv4).toEqual({ status: 'refused', ackStatus: 132 });
    t.clock.advanceTo(320_000);
    expect(t.sent.at(-1)).toMatchObject({ at: 320_000, ipv4HomeAddress: '0.0.0.0' });
    // Assigned on the refresh this time.
    t.ba(0, { ipv4Ack: { status: 0, address: IPV4_HOA, prefixLength: 32 } });
    expect(t.reportsOf('BUL.REGISTERED')[1]?.ipv4).toEqual({
      status: 'assigned',
      address: IPV4_HOA,
      ackStatus: 0,
    });
  });

  it('no IPv4 Address Ack: "unsupported", and later BUs omit the IPv4 HoA option (RFC 5555 §2.3.1)', () => {
    const t = start();
    t.moved(COA_A);
    expect(t.sent[0]?.ipv4HomeAddress).toBe('0.0.0.0');
    t.ba(0);
    expect(t.reportsOf('BUL.REGISTERED')[0]?.ipv4).toEqual({ status: 'unsupported' });
    t.clock.advanceTo(320_000);
    expect(t.sent).toHaveLength(2);
    expect(t.sent[1]).not.toHaveProperty('ipv4HomeAddress');
    t.ba(0);
    t.moved(COA_B);
    expect(t.sent[2]).toMatchObject({ careOf: COA_B });
    expect(t.sent[2]).not.toHaveProperty('ipv4HomeAddress');
  });
});

describe('bindingUpdate: refresh and expiry (RFC 6275 §11.7.1, §11.7.3, §6.2.4, RFC 5555 §4.3)', () => {
  it('refreshes at 80% of the granted lifetime with a new sequence number', () => {
    const t = registered();
    t.clock.advanceTo(319_999);
    expect(t.sentAt()).toEqual([0]);
    t.clock.advanceTo(320_000);
    expect(t.sent[1]).toEqual({
      haName: 'ha1',
      sequence: 101,
      lifetimeSeconds: 400,
      attachment: 'ipv6',
      careOf: COA_A,
      homeAddress: HOME,
      ipv4HomeAddress: IPV4_HOA, // the assigned address (RFC 5555 §3.1.1)
      forceUdp: false,
      at: 320_000,
    });
    expect(t.registration()).toEqual({ bound: 'refreshing' });
    // Answered at 320 s: the next refresh is 320 s later, and the binding is reported again.
    t.ba(0, { ipv4Ack: { status: 0, address: IPV4_HOA, prefixLength: 32 } });
    expect(t.registration()).toEqual({ bound: 'registered' });
    expect(t.reportsOf('BUL.REGISTERED').map((r) => r.at)).toEqual([0, 320_000]);
    t.clock.advanceTo(640_000);
    expect(t.sentAt()).toEqual([0, 320_000, 640_000]);
  });

  it('refreshes at the Binding Refresh Advice when it comes sooner (§11.7.3, §6.2.4)', () => {
    const t = registered({}, { refreshAdviceSeconds: 200 });
    t.clock.advanceTo(199_999);
    expect(t.sentAt()).toEqual([0]);
    t.clock.advanceTo(200_000);
    expect(t.sentAt()).toEqual([0, 200_000]);
  });

  it('keeps 80% when the advice is later, and ignores an advice not below the lifetime', () => {
    for (const refreshAdviceSeconds of [350, 400, 500]) {
      const t = registered({}, { refreshAdviceSeconds });
      t.clock.advanceTo(319_999);
      expect(t.sentAt()).toEqual([0]);
      t.clock.advanceTo(320_000);
      expect(t.sentAt()).toEqual([0, 320_000]);
    }
  });

  it('refreshes at 80% of a granted lifetime shorter than requested', () => {
    const t = registered({}, { lifetimeSeconds: 100 });
    expect(t.reportsOf('BUL.REGISTERED')[0]?.lifetimeSeconds).toBe(100);
    t.clock.advanceTo(79_999);
    expect(t.sentAt()).toEqual([0]);
    t.clock.advanceTo(80_000);
    expect(t.sentAt()).toEqual([0, 80_000]);
    // The refresh BU still asks for the configured lifetime.
    expect(t.sent[1]?.lifetimeSeconds).toBe(400);
  });

  it('REFRESH (Binding Refresh Request or NAT keepalive due) sends a BU at once', () => {
    const t = registered();
    t.clock.advanceTo(110_000);
    t.actor.send({ type: 'REFRESH' });
    expect(t.sent.at(-1)).toMatchObject({ at: 110_000, sequence: 101, careOf: COA_A, lifetimeSeconds: 400 });
    expect(t.registration()).toEqual({ bound: 'refreshing' });
    t.ba(0);
    // The refresh timer restarts from the new BA: 110 s + 320 s.
    t.clock.advanceTo(429_999);
    expect(t.sentAt()).toEqual([0, 110_000]);
    t.clock.advanceTo(430_000);
    expect(t.sentAt()).toEqual([0, 110_000, 430_000]);
  });

  it('retransmits an unanswered refresh (1 s first timeout: the HA has our binding) while the old binding is valid', () => {
    const t = registered();
    t.clock.advanceTo(399_999);
    expect(t.sentAt()).toEqual([0, 320_000, 321_000, 323_000, 327_000, 335_000, 351_000, 383_000]);
    expect(t.sent.map((s) => s.sequence)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(t.registration()).toEqual({ bound: 'refreshing' });
    // Refresh retransmissions are not reported as unanswered registrations.
    expect(t.reportsOf('BUL.UNANSWERED')).toEqual([]);
    expect(t.reportsOf('BUL.EXPIRED')).toEqual([]);
    // A late answer to the last refresh BU renews the binding.
    t.ba(0);
    expect(t.registration()).toEqual({ bound: 'registered' });
    t.clock.advanceTo(399_999 + 319_999);
    expect(t.sentAt()).toHaveLength(8);
  });

  it('the binding expires at exactly the granted lifetime when refreshes go unanswered: EXPIRED, then re-registration', () => {
    const t = registered();
    t.clock.advanceTo(399_999);
    expect(t.reportsOf('BUL.EXPIRED')).toEqual([]);
    t.clock.advanceTo(400_000);
    expect(t.reportsOf('BUL.EXPIRED')).toEqual([{ type: 'BUL.EXPIRED', haName: 'ha1', at: 400_000 }]);
    expect(t.registration()).toBe('registering');
    // Re-registration at once; the HA holds no binding any more, so the first timeout is 1.5 s.
    expect(t.sent.at(-1)).toMatchObject({ at: 400_000, sequence: 108, careOf: COA_A, lifetimeSeconds: 400 });
    t.clock.advanceTo(401_500);
    expect(t.sentAt().slice(-2)).toEqual([400_000, 401_500]);
    expect(t.reportsOf('BUL.UNANSWERED')).toEqual([
      { type: 'BUL.UNANSWERED', haName: 'ha1', careOf: COA_A, attempts: 1, at: 401_500 },
    ]);
  });

  it('a refresh rejected by the HA fails the registration', () => {
    const t = registered();
    t.clock.advanceTo(320_000);
    t.ba(129);
    expect(t.registration()).toBe('failed');
    expect(t.reports.at(-1)).toMatchObject({ type: 'BUL.FAILED', status: 129 });
    t.clock.advanceTo(2_000_000);
    expect(t.sentAt()).toEqual([0, 320_000]);
    expect(t.reportsOf('BUL.EXPIRED')).toEqual([]);
  });

  it('135 to a refresh resynchronises and resends at once', () => {
    const t = registered();
    t.clock.advanceTo(320_000);
    t.actor.send({ type: 'BA', status: 135, sequence: 9000, lifetimeSeconds: 0 });
    expect(t.sent.at(-1)).toMatchObject({ at: 320_000, sequence: 9001 });
    t.ba(0);
    expect(t.registration()).toEqual({ bound: 'registered' });
  });

  it('BE status 1 (no binding at the HA) re-registers at once with the first-registration timeout (§11.3.6)', () => {
    const t = registered();
    t.clock.advanceTo(50_000);
    t.actor.send({ type: 'BE', status: 2 }); // unrecognized MH type: not about our binding
    expect(t.sentAt()).toEqual([0]);
    t.actor.send({ type: 'BE', status: 1 });
    expect(t.registration()).toBe('registering');
    expect(t.sent.at(-1)).toMatchObject({ at: 50_000, sequence: 101, careOf: COA_A });
    t.clock.advanceTo(51_500);
    expect(t.sentAt()).toEqual([0, 50_000, 51_500]);
  });

  it('a MOVED to the registered CoA while bound sends nothing; a new CoA registers at once', () => {
    const t = registered();
    t.clock.advanceTo(1000);
    t.moved(COA_A);
    expect(t.sentAt()).toEqual([0]);
    t.moved(COA_4, 'ipv4');
    expect(t.sent.at(-1)).toMatchObject({ at: 1000, careOf: COA_4, attachment: 'ipv4', forceUdp: true });
    expect(t.registration()).toBe('registering');
  });
});

describe('bindingUpdate: rate limit MAX_UPDATE_RATE (RFC 6275 §11.8, §12)', () => {
  it('5 MOVED events within 1 s: 3 BUs in that second, the rest coalesced into one at the window end', () => {
    expect(MAX_UPDATE_RATE).toBe(3);
    const t = start();
    const coas = [COA_A, COA_B, COA_A, COA_B, COA_A];
    coas.forEach((coa, i) => {
      t.clock.advanceTo(i * 100);
      t.moved(coa);
    });
    t.clock.advanceTo(999);
    expect(t.sent.map((s) => [s.at, s.careOf, s.sequence])).toEqual([
      [0, COA_A, 100],
      [100, COA_B, 101],
      [200, COA_A, 102],
    ]);
    // The first BU's second has passed: the waiting BU goes out, with the latest CoA.
    t.clock.advanceTo(1000);
    expect(t.sent.map((s) => [s.at, s.careOf, s.sequence])).toEqual([
      [0, COA_A, 100],
      [100, COA_B, 101],
      [200, COA_A, 102],
      [1000, COA_A, 103],
    ]);
    t.clock.advanceTo(1099);
    expect(t.sent).toHaveLength(4);
  });

  it('never more than 3 in one second across window boundaries (sliding, not fixed, windows)', () => {
    const t = start();
    const plan: [number, string][] = [
      [0, COA_A],
      [900, COA_B],
      [950, COA_A],
      [960, COA_B],
      [1001, COA_A],
      [1002, COA_B],
    ];
    for (const [at, coa] of plan) {
      t.clock.advanceTo(at);
      t.moved(coa);
    }
    t.clock.advanceTo(1899);
    // 900, 950 and 1000 are in one second: 1001 and 1002 must wait for 900 + 1000.
    expect(t.sentAt()).toEqual([0, 900, 950, 1000]);
    t.clock.advanceTo(1900);
    expect(t.sent.map((s) => [s.at, s.careOf])).toEqual([
      [0, COA_A],
      [900, COA_B],
      [950, COA_A],
      [1000, COA_B],
      [1900, COA_B],
    ]);
  });

  it('a BA for a BU superseded by one waiting for the rate limit is ignored (it names an old CoA)', () => {
    const t = start();
    for (const [i, coa] of [COA_A, COA_B, COA_A, COA_B].entries()) {
      t.clock.advanceTo(i * 100);
      t.moved(coa);
    }
    t.clock.advanceTo(500);
    expect(t.sent.at(-1)).toMatchObject({ careOf: COA_A, sequence: 102 });
    t.ba(0); // answers the BU for COA_A, but COA_B is the current address
    expect(t.registration()).toBe('registering');
    expect(t.reportsOf('BUL.REGISTERED')).toEqual([]);
    t.clock.advanceTo(1000);
    expect(t.sent.at(-1)).toMatchObject({ careOf: COA_B, sequence: 103, at: 1000 });
    t.ba(0);
    expect(t.reportsOf('BUL.REGISTERED')).toMatchObject([{ careOf: COA_B, at: 1000 }]);
  });

  it('DETACHED drops a BU waiting for the rate limit', () => {
    const t = start();
    for (const [i, coa] of [COA_A, COA_B, COA_A, COA_B].entries()) {
      t.clock.advanceTo(i * 100);
      t.moved(coa);
    }
    t.actor.send({ type: 'DETACHED' });
    t.clock.advanceTo(100_000);
    expect(t.sentAt()).toEqual([0, 100, 200]);
  });

  it('a long pseudo-random MOVED sequence never puts more than 3 BUs in any 1000 ms (seeded)', () => {
    const rnd = mulberry32(0x5eed);
    const t = start();
    const coas = [COA_A, COA_B, COA_4];
    let last = '';
    for (let i = 0; i < 3000; i++) {
      t.clock.advance(Math.floor(rnd() * 700));
      const coa = coas[Math.floor(rnd() * coas.length)] ?? COA_A;
      t.moved(coa, coa === COA_4 ? 'ipv4' : 'ipv6');
      last = coa;
      // Now and then an answer or a detach, so bound and idle are visited too.
      const r = rnd();
      if (r < 0.05) t.ba(0);
      else if (r < 0.07) t.actor.send({ type: 'DETACHED' });
    }
    t.clock.advance(5000);
    const at = t.sentAt();
    expect(at.length).toBeGreaterThan(1000);
    for (let i = 0; i + MAX_UPDATE_RATE < at.length; i++) {
      const span = (at[i + MAX_UPDATE_RATE] ?? Number.POSITIVE_INFINITY) - (at[i] ?? 0);
      if (span < 1000) throw new Error(`4 BUs within ${span} ms from t=${at[i]}`);
    }
    // Every sequence number is new and larger (mod 2^16) than the one before.
    for (let i = 1; i < t.sent.length; i++) {
      expect(((t.sent[i]?.sequence ?? 0) - (t.sent[i - 1]?.sequence ?? 0)) & 0xffff).toBe(1);
    }
    // The last CoA got its BU (coalescing never loses the latest address).
    expect(t.sent.at(-1)?.careOf).toBe(last);
  });
});

describe('bindingUpdate: returning home (RFC 6275 §11.5.5, §10.3.2, §6.1.7; RFC 5555 §4.4.4)', () => {
  it('MOVED home sends a BU with lifetime 0 and CoA = HoA; its BA reports DEREGISTERED acknowledged', () => {
    const t = registered();
    t.clock.advanceTo(10_000);
    t.moved(HOME, 'home');
    expect(t.registration()).toBe('deregistering');
    expect(t.sent.at(-1)).toEqual({
      haName: 'ha1',
      sequence: 101,
      lifetimeSeconds: 0,
      attachment: 'home',
      careOf: HOME,
      homeAddress: HOME,
      forceUdp: false,
      at: 10_000,
    });
    t.clock.advanceTo(10_050);
    t.ba(0, { lifetimeSeconds: 0 });
    expect(t.registration()).toBe('home');
    expect(t.reports.at(-1)).toEqual({
      type: 'BUL.DEREGISTERED',
      haName: 'ha1',
      acknowledged: true,
      at: 10_050,
    });
    t.clock.advanceTo(2_000_000);
    expect(t.sentAt()).toEqual([0, 10_000]);
    expect(t.reportsOf('BUL.EXPIRED')).toEqual([]);
  });

  it('133 to a deregistration counts as acknowledged (the HA has no binding, §10.3.2)', () => {
    const t = registered();
    t.moved(HOME, 'home');
    t.ba(133, { lifetimeSeconds: 0 });
    expect(t.registration()).toBe('home');
    expect(t.reports.at(-1)).toMatchObject({ type: 'BUL.DEREGISTERED', acknowledged: true });
    expect(t.reportsOf('BUL.FAILED')).toEqual([]);
  });

  it('another rejection of a deregistration is reported as not acknowledged', () => {
    const t = registered();
    t.moved(HOME, 'home');
    t.ba(129, { lifetimeSeconds: 0 });
    expect(t.registration()).toBe('home');
    expect(t.reports.at(-1)).toMatchObject({ type: 'BUL.DEREGISTERED', acknowledged: false });
  });

  it('a stale BA does not end the deregistration; 135 resynchronises it', () => {
    const t = registered();
    t.moved(HOME, 'home');
    t.actor.send({ type: 'BA', status: 0, sequence: 100, lifetimeSeconds: 400 });
    expect(t.registration()).toBe('deregistering');
    t.actor.send({ type: 'BA', status: 135, sequence: 3000, lifetimeSeconds: 0 });
    expect(t.sent.at(-1)).toMatchObject({ sequence: 3001, lifetimeSeconds: 0, careOf: HOME });
    t.ba(0, { lifetimeSeconds: 0 });
    expect(t.reports.at(-1)).toMatchObject({ type: 'BUL.DEREGISTERED', acknowledged: true });
  });

  it('an unanswered deregistration is retransmitted with backoff; DEREGISTERED unacknowledged 32 s after the timeout reaches 32 s', () => {
    const t = registered();
    t.clock.advanceTo(10_000);
    t.moved(HOME, 'home');
    t.clock.advanceTo(72_999);
    expect(t.sentAt()).toEqual([0, 10_000, 11_000, 13_000, 17_000, 25_000, 41_000]);
    for (const s of t.sent.slice(1)) expect(s).toMatchObject({ lifetimeSeconds: 0, careOf: HOME });
    expect(t.reportsOf('BUL.DEREGISTERED')).toEqual([]);
    t.clock.advanceTo(73_000);
    expect(t.reportsOf('BUL.DEREGISTERED')).toEqual([
      { type: 'BUL.DEREGISTERED', haName: 'ha1', acknowledged: false, at: 73_000 },
    ]);
    expect(t.registration()).toBe('home');
    t.clock.advanceTo(2_000_000);
    expect(t.sent).toHaveLength(7);
  });

  it('MOVED home while never registered sends no BU at all', () => {
    const t = start();
    t.moved(HOME, 'home');
    expect(t.registration()).toBe('home');
    t.clock.advanceTo(1_000_000);
    expect(t.sent).toEqual([]);
    expect(t.reports).toEqual([]);
    // Leaving home registers with the first-registration timeout.
    t.moved(COA_A);
    t.clock.advanceTo(1_001_500);
    expect(t.sentAt()).toEqual([1_000_000, 1_001_500]);
  });

  it('after detaching with a binding at the HA, MOVED home still deregisters', () => {
    const t = registered();
    t.actor.send({ type: 'DETACHED' });
    t.clock.advanceTo(30_000);
    t.moved(HOME, 'home');
    expect(t.registration()).toBe('deregistering');
    expect(t.sent.at(-1)).toMatchObject({ at: 30_000, lifetimeSeconds: 0, careOf: HOME });
  });

  it('moving away again during deregistration registers the new CoA', () => {
    const t = registered();
    t.moved(HOME, 'home');
    t.clock.advanceTo(500);
    t.moved(COA_B);
    expect(t.registration()).toBe('registering');
    expect(t.sent.at(-1)).toMatchObject({ at: 500, careOf: COA_B, lifetimeSeconds: 400 });
  });

  it('RFC 5555 §3.1.1: after a dynamic assignment, refreshes carry the assigned IPv4 home address', () => {
    const t = registered();
    expect(t.sent[0]).toMatchObject({ ipv4HomeAddress: '0.0.0.0' });
    t.actor.send({ type: 'REFRESH' });
    expect(t.sent).toHaveLength(2);
    expect(t.sent.at(-1)).toMatchObject({ ipv4HomeAddress: IPV4_HOA });
  });

  it('SHUTDOWN deletes the binding from the current care-of address: lifetime 0, no IPv4 option', () => {
    const t = registered();
    t.clock.advanceTo(1_000);
    t.actor.send({ type: 'SHUTDOWN' });
    expect(t.sent.at(-1)).toMatchObject({ at: 1_000, lifetimeSeconds: 0, careOf: COA_A, attachment: 'ipv6' });
    expect(t.sent.at(-1)).not.toHaveProperty('ipv4HomeAddress');
    t.ba(0, { lifetimeSeconds: 0 });
    expect(t.reportsOf('BUL.DEREGISTERED')).toEqual([
      expect.objectContaining({ haName: 'ha1', acknowledged: true }),
    ]);
  });

  it('SHUTDOWN without a binding sends nothing', () => {
    const t = start();
    t.actor.send({ type: 'SHUTDOWN' });
    t.clock.advanceTo(100_000);
    expect(t.sent).toHaveLength(0);
  });

  // RFC 6275 §11.7.3 counts the granted lifetime "beginning at the time that the Binding Update was
  // sent"; the actor layer tells the machine the BA's round trip.
  it('§11.7.3: with a round trip, refresh and expiry count from the moment the BU was sent', () => {
    const t = start();
    t.moved(COA_A);
    t.clock.advanceTo(300);
    t.ba(0, { ipv4Ack: { status: 0, address: IPV4_HOA, prefixLength: 32 }, roundTripMs: 300 });
    expect(t.registration()).toEqual({ bound: 'registered' });
    t.clock.advanceTo(319_999);
    expect(t.sent).toHaveLength(1);
    t.clock.advanceTo(320_000);
    expect(t.sent.at(-1)).toMatchObject({ at: 320_000 });
    t.clock.advanceTo(399_999);
    expect(t.reports.some((r) => r.type === 'BUL.EXPIRED')).toBe(false);
    t.clock.advanceTo(400_000);
    expect(t.reports.filter((r) => r.type === 'BUL.EXPIRED')).toHaveLength(1);
  });
});

describe('bindingUpdateModel', () => {
  it('its shortest paths terminate and reach every state node of the machine', () => {
    const timerEvents = (s: AnyMachineSnapshot) =>
      (s._nodes as AnyStateNode[]).flatMap((n) => n.after.map((t) => ({ type: t.eventType })));
    const paths = getShortestPaths(bindingUpdateModel.machine, {
      events: (s) => [...bindingUpdateModel.events(s), ...(timerEvents(s) as BindingUpdateEvent[])],
      serializeState: bindingUpdateModel.serialize,
      input: bindingUpdateModel.input,
    });
    const reached = new Set<string>();
    for (const p of paths) for (const n of p.state._nodes as AnyStateNode[]) reached.add(n.id);
    const all: string[] = [];
    const walk = (n: AnyStateNode) => {
      all.push(n.id);
      for (const c of Object.values(n.states)) walk(c);
    };
    walk(bindingUpdateModel.machine.root);
    expect(all.filter((id) => !reached.has(id))).toEqual([]);
  }, 60_000);
});
