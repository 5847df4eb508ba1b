/**
 * The home agent's binding cache host (src/actors/binding-cache.ts) and its timer queue: entries
 * are snapshots of the bindingCacheEntry statechart, every delay sits in one queue behind one
 * clock timer, and the live inspector still sees each entry as `ha/bce/<HoA>`.
 */

import { describe, expect, it } from 'vitest';
import { BindingCache } from '../../src/actors/binding-cache.js';
import { createHomeAgentCore } from '../../src/actors/home-agent-core.js';
import { TimerQueue } from '../../src/actors/timer-queue.js';
import { createInspectCollector } from '../../src/inspect/collector.js';
import {
  type BindingCacheEntryInput,
  type BindingCacheEntryReport,
  type BindingUpdateReceived,
  bindingCacheEntryMachine,
  MAX_DELETE_BCE_TIMEOUT_MS,
} from '../../src/machines/binding-cache-entry.js';
import type { BuReceived, HomeAgentReport } from '../../src/machines/home-agent.js';
import { TestClock } from '../../src/testgen/clock.js';

describe('TimerQueue', () => {
  it('fires in due order (equal due times in arming order) from a single clock timer', () => {
    const clock = new TestClock();
    const fired: string[] = [];
    const q = new TimerQueue<string>(clock, (p) => fired.push(`${p}@${clock.now()}`));
    q.add(300, 'c');
    q.add(100, 'a');
    q.add(200, 'b1');
    q.add(200, 'b2');
    expect(clock.pending()).toHaveLength(1);
    clock.advanceTo(1000);
    expect(fired).toEqual(['a@100', 'b1@200', 'b2@200', 'c@300']);
    expect(q.size).toBe(0);
    expect(clock.pending()).toEqual([]);
  });

  it('cancels anywhere in the heap; a cancelled or fired timer cannot be cancelled twice', () => {
    const clock = new TestClock();
    const fired: number[] = [];
    const q = new TimerQueue<number>(clock, (p) => fired.push(p));
    const timers = Array.from({ length: 100 }, (_, i) => q.add((i * 37) % 101, i));
    for (const t of timers.filter((_, i) => i % 3 === 0)) q.cancel(t);
    q.cancel(timers[0]!);
    expect(q.size).toBe(66);
    clock.advanceTo(1000);
    expect(fired).toHaveLength(66);
    expect(fired.some((i) => i % 3 === 0)).toBe(false);
    const dues = fired.map((i) => (i * 37) % 101);
    expect(dues).toEqual([...dues].sort((a, b) => a - b));
  });

  it('re-arms for an earlier timer and keeps one clock timer when the earliest is cancelled', () => {
    const clock = new TestClock();
    const fired: string[] = [];
    const q = new TimerQueue<string>(clock, (p) => fired.push(`${p}@${clock.now()}`));
    const late = q.add(500, 'late');
    q.add(50, 'early');
    q.cancel(late);
    q.add(400, 'later');
    expect(clock.pending()).toHaveLength(1);
    clock.advanceTo(1000);
    expect(fired).toEqual(['early@50', 'later@400']);
  });
});

const input = (homeAddress: string): BindingCacheEntryInput => ({
  homeAddress,
  maxLifetimeSeconds: 3600,
  natKeepaliveSeconds: 110,
  allowForceUdp: true,
});
const bu = (sequence: number, lifetimeSeconds = 400): BindingUpdateReceived => ({
  type: 'BU',
  sequence,
  homeRegistration: true,
  forceUdp: false,
  lifetimeSeconds,
  careOf: { family: 6, address: '2001:db8:5::10' },
});

function cache(machine = bindingCacheEntryMachine) {
  const clock = new TestClock();
  const acks: { homeAddress: string; status: number }[] = [];
  const reports: BindingCacheEntryReport[] = [];
  const failures: { homeAddress: string; error: unknown }[] = [];
  const c = new BindingCache({
    machine,
    clock,
    sendBindingAck: (homeAddress, _careOf, p) => acks.push({ homeAddress, status: p.status }),
    report: (r) => reports.push(r),
    failed: (homeAddress, error) => failures.push({ homeAddress, error }),
  });
  return { c, clock, acks, reports, failures };
}

describe('BindingCache', () => {
  it('runs each entry through the statechart: registered, refreshed, then deleted at its lifetime', () => {
    const { c, clock, acks, reports } = cache();
    c.deliver(input('2001:db8:1::100'), bu(1));
    c.deliver(input('2001:db8:1::200'), bu(1, 40));
    expect(c.snapshot('2001:db8:1::100')?.value).toEqual({ registered: 'ipv6Only' });
    expect(c.size).toBe(2);
    expect(c.pendingTimers).toBe(2);
    clock.advanceTo(100_000);
    c.deliver(input('2001:db8:1::100'), bu(2));
    // The refresh re-armed the lifetime (the old timer was cancelled, not left to fire).
    expect(c.pendingTimers).toBe(1);
    clock.advanceTo(499_999);
    expect(c.snapshot('2001:db8:1::100')).toBeDefined();
    clock.advanceTo(500_000);
    expect(c.size).toBe(0);
    expect(c.pendingTimers).toBe(0);
    expect(acks.map((a) => a.status)).toEqual([0, 0, 0]);
    expect(reports.filter((r) => r.type === 'BCE.EXPIRED').map((r) => r.homeAddress)).toEqual([
      '2001:db8:1::200',
      '2001:db8:1::100',
    ]);
    expect(reports.filter((r) => r.type === 'BCE.DELETED')).toHaveLength(2);
  });

  it('keeps a deregistered entry MAX_DELETE_BCE_TIMEOUT, answering an old BU with 135, then drops it', () => {
    const { c, clock, acks } = cache();
    c.deliver(input('2001:db8:1::100'), bu(5));
    c.deliver(input('2001:db8:1::100'), bu(6, 0));
    expect(c.snapshot('2001:db8:1::100')?.value).toBe('deleting');
    c.deliver(input('2001:db8:1::100'), bu(5));
    expect(acks.at(-1)?.status).toBe(135);
    clock.advanceTo(MAX_DELETE_BCE_TIMEOUT_MS);
    expect(c.size).toBe(0);
    expect(c.pendingTimers).toBe(0);
  });

  it('drops an entry whose machine throws, with its timers, and tells the supervisor', () => {
    const flaky = bindingCacheEntryMachine.provide({
      guards: {
        isDeregistration: ({ event }) => {
          if (event.sequence === 666) throw new Error('planted bug');
          return event.lifetimeSeconds === 0;
        },
      },
    });
    const { c, failures } = cache(flaky);
    c.deliver(input('2001:db8:1::100'), bu(1));
    c.deliver(input('2001:db8:1::100'), bu(666));
    expect(c.size).toBe(0);
    expect(c.pendingTimers).toBe(0);
    expect(failures).toEqual([{ homeAddress: '2001:db8:1::100', error: expect.any(Error) }]);
  });
});

describe('the live inspector sees the hosted entries', () => {
  it('shows ha/bce/<HoA> under the home agent with its state, and removes it once deleted', () => {
    const clock = new TestClock();
    const collector = createInspectCollector({ now: () => clock.now() });
    const reports: HomeAgentReport[] = [];
    const core = createHomeAgentCore({
      input: { homePrefix: '2001:db8:1::/64', maxLifetimeSeconds: 3600 },
      clock,
      sendBindingAck: () => {},
      report: (r) => reports.push(r),
      inspect: collector.observer,
    });
    core.actor.start();
    const event: BuReceived = {
      type: 'BU.RECEIVED',
      homeAddress: '2001:db8:1::100',
      saHomeAddress: '2001:db8:1::100',
      sequence: 9,
      homeRegistration: true,
      forceUdp: false,
      lifetimeSeconds: 400,
      careOf: { family: 6, address: '2001:db8:5::10' },
    };
    core.send(event);
    const ha = collector.actors().find((a) => a.machineId === 'homeAgent');
    const entry = collector.actors().find((a) => a.systemId === 'ha/bce/2001:db8:1::100');
    expect(entry).toMatchObject({
      machineId: 'bindingCacheEntry',
      ref: 'bce/2001:db8:1::100',
      parent: ha?.id,
    });
    expect(collector.snapshot(entry?.id ?? '')).toMatchObject({
      value: { registered: 'ipv6Only' },
      context: { careOf: { address: '2001:db8:5::10' }, lastSequence: 9 },
    });
    core.send({ ...event, sequence: 10, lifetimeSeconds: 0 });
    expect(collector.snapshot(entry?.id ?? '')?.value).toBe('deleting');
    clock.advanceTo(MAX_DELETE_BCE_TIMEOUT_MS);
    expect(collector.actors().some((a) => a.machineId === 'bindingCacheEntry')).toBe(false);
    expect(reports.map((r) => r.type)).toEqual(['HA.BINDING', 'HA.BINDING']);
    core.stop();
  });
});
