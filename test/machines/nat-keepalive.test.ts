import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, type AnyStateNode, createActor, SimulatedClock } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  NATD_REFRESH_NOT_NEEDED,
  type NatKeepaliveEvent,
  type NatKeepaliveInput,
  type NatKeepaliveReport,
  natKeepaliveMachine,
  natKeepaliveModel,
} from '../../src/machines/nat-keepalive.js';

const SECOND = 1000;

function start(input: NatKeepaliveInput = {}) {
  const clock = new SimulatedClock();
  const dueAt: number[] = [];
  const reports: NatKeepaliveReport[] = [];
  const actor = createActor(
    natKeepaliveMachine.provide({
      actions: {
        report: (_, params) => {
          reports.push(params);
          if (params.type === 'KEEPALIVE.DUE') dueAt.push(clock.now());
        },
      },
    }),
    { input, clock },
  ).start();
  /**
   * Advance to absolute time `until` in steps of at most `stepMs`, landing on every multiple of
   * `stepMs` (SimulatedClock stamps a timer that fires inside `increment` with the step's end time,
   * so a keepalive due at a multiple of the step is recorded at exactly its due time).
   */
  const advanceTo = (until: number, stepMs = SECOND) => {
    while (clock.now() < until) {
      const next = Math.min(until, (Math.floor(clock.now() / stepMs) + 1) * stepMs);
      clock.increment(next - clock.now());
    }
  };
  return { actor, clock, dueAt, reports, advanceTo };
}

const natBa = (refreshSeconds: number, forceUdp = false): NatKeepaliveEvent => ({
  type: 'BA',
  natDetection: { forceUdp, refreshSeconds },
});

describe('natKeepalive (RFC 5555 §4.3)', () => {
  it('sends a keepalive every NATKATIMEOUT = 110 s by default (RFC 5555 §6)', () => {
    const { actor, dueAt, reports, advanceTo } = start();
    actor.send(natBa(0));
    expect(actor.getSnapshot().value).toEqual({ active: 'keeping' });
    expect(actor.getSnapshot().context.refreshSeconds).toBe(110);
    advanceTo(109_999);
    expect(dueAt).toEqual([]);
    advanceTo(330_000);
    expect(dueAt).toEqual([110_000, 220_000, 330_000]);
    expect(reports.every((r) => r.type === 'KEEPALIVE.DUE')).toBe(true);
  });

  it("uses the HA's Refresh time when it gives one (RFC 5555 §3.2.2)", () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(25));
    expect(actor.getSnapshot().context.refreshSeconds).toBe(25);
    advanceTo(100_000);
    expect(dueAt).toEqual([25_000, 50_000, 75_000, 100_000]);
  });

  it('takes the default period from the input', () => {
    const { actor, dueAt, advanceTo } = start({ defaultRefreshSeconds: 20 });
    actor.send(natBa(0));
    advanceTo(60_000);
    expect(dueAt).toEqual([20_000, 40_000, 60_000]);
  });

  it('restarts the period on every BA: a BA at 100 s moves the next keepalive to 210 s', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    advanceTo(100_000);
    actor.send(natBa(0));
    advanceTo(209_999);
    expect(dueAt).toEqual([]);
    advanceTo(210_000);
    expect(dueAt).toEqual([210_000]);
    advanceTo(320_000);
    expect(dueAt).toEqual([210_000, 320_000]);
  });

  it('a BA with a new Refresh time changes the period from that BA on', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    advanceTo(110_000); // keepalive at 110 s; its BA comes back at 111 s with a shorter period
    advanceTo(111_000);
    actor.send(natBa(30));
    advanceTo(171_000);
    expect(dueAt).toEqual([110_000, 141_000, 171_000]);
  });

  it('Refresh time 0 means "ignore": the default applies', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    expect(actor.getSnapshot().context.refreshSeconds).toBe(110);
    advanceTo(110_000);
    expect(dueAt).toEqual([110_000]);
  });

  it('Refresh time 0xFFFFFFFF without F: no NAT, no keepalives, no UDP', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(NATD_REFRESH_NOT_NEEDED));
    expect(actor.getSnapshot().value).toBe('inactive');
    expect(actor.getSnapshot().context.forceUdp).toBe(false);
    advanceTo(1_000_000, 10_000);
    expect(dueAt).toEqual([]);
  });

  it('F set with 0xFFFFFFFF: UDP stays mandatory but no keepalive is sent', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(NATD_REFRESH_NOT_NEEDED, true));
    const s = actor.getSnapshot();
    expect(s.value).toEqual({ active: 'notNeeded' });
    expect(s.matches('active')).toBe(true);
    expect(s.context.forceUdp).toBe(true);
    expect(s.context.refreshSeconds).toBe(NATD_REFRESH_NOT_NEEDED);
    advanceTo(1_000_000, 10_000);
    expect(dueAt).toEqual([]);
  });

  it('F set with a NAT: keepalives run and forceUdp is recorded', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(40, true));
    expect(actor.getSnapshot().value).toEqual({ active: 'keeping' });
    expect(actor.getSnapshot().context.forceUdp).toBe(true);
    advanceTo(80_000);
    expect(dueAt).toEqual([40_000, 80_000]);
  });

  it('a later BA with 0xFFFFFFFF stops the keepalives', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    advanceTo(50_000);
    actor.send(natBa(NATD_REFRESH_NOT_NEEDED));
    advanceTo(500_000, 10_000);
    expect(dueAt).toEqual([]);
    expect(actor.getSnapshot().value).toBe('inactive');
  });

  it('a later BA without the option stops the keepalives', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    advanceTo(50_000);
    actor.send({ type: 'BA' });
    expect(actor.getSnapshot().value).toBe('inactive');
    expect(actor.getSnapshot().context.refreshSeconds).toBe(110);
    advanceTo(500_000, 10_000);
    expect(dueAt).toEqual([]);
  });

  it('MOVED to IPv6 stops the keepalives', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    advanceTo(110_000);
    actor.send({ type: 'MOVED', attachment: 'ipv6' });
    expect(actor.getSnapshot().value).toBe('inactive');
    expect(actor.getSnapshot().context.forceUdp).toBe(false);
    advanceTo(1_000_000, 10_000);
    expect(dueAt).toEqual([110_000]);
  });

  it('MOVED home stops the keepalives, also when UDP was forced', () => {
    const { actor, advanceTo, dueAt } = start();
    actor.send(natBa(NATD_REFRESH_NOT_NEEDED, true));
    actor.send({ type: 'MOVED', attachment: 'home' });
    expect(actor.getSnapshot().value).toBe('inactive');
    actor.send(natBa(0));
    actor.send({ type: 'MOVED', attachment: 'home' });
    advanceTo(500_000, 10_000);
    expect(dueAt).toEqual([]);
  });

  it('MOVED to another IPv4 network keeps the keepalives until the next BA decides', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    advanceTo(60_000);
    actor.send({ type: 'MOVED', attachment: 'ipv4' });
    expect(actor.getSnapshot().value).toEqual({ active: 'keeping' });
    advanceTo(110_000);
    expect(dueAt).toEqual([110_000]);
    actor.send({ type: 'BA' }); // no NAT on the new network
    advanceTo(400_000, 10_000);
    expect(dueAt).toEqual([110_000]);
  });

  it('never fires while inactive over a simulated day', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send({ type: 'BA' });
    actor.send({ type: 'MOVED', attachment: 'ipv4' });
    actor.send({ type: 'BA' });
    advanceTo(86_400_000, 100_000);
    expect(dueAt).toEqual([]);
    expect(actor.getSnapshot().value).toBe('inactive');
  });

  it('keeps firing for a whole day at exactly 110 s spacing', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(0));
    advanceTo(86_400_000, 10_000);
    expect(dueAt).toHaveLength(Math.floor(86_400 / 110));
    expect(dueAt.every((t, i) => t === (i + 1) * 110_000)).toBe(true);
  });

  it('clamps a Refresh time beyond the JavaScript timer range instead of firing at once', () => {
    const { actor, dueAt, advanceTo } = start();
    actor.send(natBa(3_000_000)); // about 35 days
    advanceTo(86_400_000, 100_000);
    expect(dueAt).toEqual([]);
  });
});

describe('natKeepalive model', () => {
  it('its abstract graph is finite and reaches every state node', () => {
    const timerEvents = (s: AnyMachineSnapshot) =>
      s._nodes.flatMap((node) => node.after.map((t) => ({ type: t.eventType }) as NatKeepaliveEvent));
    const paths = getShortestPaths(natKeepaliveModel.machine, {
      events: (s) => [...natKeepaliveModel.events(s), ...timerEvents(s)],
      serializeState: natKeepaliveModel.serialize,
      input: natKeepaliveModel.input,
    });
    const reached = new Set(paths.flatMap((p) => p.state._nodes.map((n) => n.id)));
    const all: string[] = [];
    const walk = (node: AnyStateNode) => {
      all.push(node.id);
      for (const child of Object.values(node.states)) walk(child);
    };
    walk(natKeepaliveModel.machine.root);
    expect(all.filter((id) => !reached.has(id))).toEqual([]);
    expect(paths.length).toBeLessThan(100);
  });
});
