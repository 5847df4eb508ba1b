/**
 * Model-based tests: paths generated from each machine (src/testgen) are run against the machine
 * on a test clock, and protocol invariants are checked after every step. Coverage of states and
 * transitions by the executed paths must be 100%.
 */

import { afterAll, describe, expect, it } from 'vitest';
import type { AnyStateMachine, EventObject } from 'xstate';
import { bindingCacheEntryModel } from '../../src/machines/binding-cache-entry.js';
import {
  type BindingUpdateReport,
  bindingUpdateModel,
  MAX_BINDACK_TIMEOUT_MS,
  MAX_UPDATE_RATE,
  type SendBindingUpdateParams,
} from '../../src/machines/binding-update.js';
import { haDiscoveryModel } from '../../src/machines/ha-discovery.js';
import { freeAddresses, homeAgentModel, leasesOf } from '../../src/machines/home-agent.js';
import { bulId, keepaliveId, mobileNodeModel } from '../../src/machines/mobile-node.js';
import { movementModel } from '../../src/machines/movement.js';
import { natKeepaliveModel } from '../../src/machines/nat-keepalive.js';
import type { TestClock } from '../../src/testgen/clock.js';
import { type Coverage, coverage, coverageTable } from '../../src/testgen/coverage.js';
import { type ExecutionResult, executePath, type StepContext } from '../../src/testgen/execute.js';
import { type GeneratedPath, generatePaths } from '../../src/testgen/generate.js';
import type { MachineModel } from '../../src/testgen/model.js';

const table: Coverage[] = [];
afterAll(() => {
  if (table.length) console.log(`\nstatechart coverage by generated paths\n${coverageTable(table)}`);
});

/** Timers the actor system has scheduled, by delay name (`xstate.after.<name>.<state>`). */
function pendingTimers(ctx: StepContext<AnyStateMachine>): string[] {
  return Object.values(ctx.actor.system.getSnapshot()._scheduledEvents).map(
    (e) => e.event.type.split('.')[2] ?? '',
  );
}

interface Harness<M extends AnyStateMachine> {
  /** A machine with recording actions, fresh for each path. */
  machine(): { machine: M; invariant: (ctx: StepContext<M>) => void };
}

function modelTests<M extends AnyStateMachine>(model: MachineModel<M>, harness: Harness<M>): void {
  describe(`${model.name}: generated paths`, () => {
    const paths: GeneratedPath[] = generatePaths(model, { strategy: 'cover' });
    const results: ExecutionResult[] = [];
    it('generation yields paths from the machine', () => {
      expect(paths.length).toBeGreaterThan(0);
    });
    it.each(paths.map((p) => [p.description, p] as const))('%s', (_, path) => {
      const { machine, invariant } = harness.machine();
      results.push(executePath(model, path, { machine, invariant }));
    });
    it('covers every state and every transition', () => {
      const c = coverage(model.machine, results);
      table.push(c);
      expect({ states: c.states.missing, transitions: c.transitions.missing }).toEqual({
        states: [],
        transitions: [],
      });
    });
  });
}

const inState = (ctx: StepContext<AnyStateMachine>, ...states: string[]): boolean =>
  states.some((s) =>
    (ctx.actor.getSnapshot() as { matches: (v: unknown) => boolean }).matches(
      s.includes('.') ? dotted(s) : s,
    ),
  );
const dotted = (s: string): unknown =>
  s.split('.').reduceRight<unknown>((acc, k) => (acc === undefined ? k : { [k]: acc }), undefined);

modelTests(bindingUpdateModel, {
  machine() {
    const sent: (SendBindingUpdateParams & { at: number })[] = [];
    const reports: BindingUpdateReport[] = [];
    let clock: TestClock | undefined;
    const machine = bindingUpdateModel.machine.provide({
      actions: {
        sendBindingUpdate: (_, p) => sent.push({ ...p, at: clock?.now() ?? 0 }),
        report: (_, r) => reports.push(r),
      },
    });
    return {
      machine,
      invariant: (ctx) => {
        clock = ctx.clock;
        const c = ctx.actor.getSnapshot().context;
        const retransmitting = inState(
          ctx,
          'registration.registering',
          'registration.bound.refreshing',
          'registration.deregistering',
        );
        // A retransmission timer runs exactly while a BU is outstanding (RFC 6275 §11.8).
        expect(pendingTimers(ctx).includes('retransmit')).toBe(retransmitting);
        // Backoff stays within [1 s, MAX_BINDACK_TIMEOUT].
        expect(c.backoffMs).toBeGreaterThanOrEqual(1000);
        expect(c.backoffMs).toBeLessThanOrEqual(MAX_BINDACK_TIMEOUT_MS);
        // Sequence numbers strictly increase modulo 2^16 (§9.5.1, §11.7.1): never reused.
        for (let i = 1; i < sent.length; i++) {
          const step = (sent[i]!.sequence - sent[i - 1]!.sequence + 0x10000) & 0xffff;
          expect(step, 'sequence must grow').toBeGreaterThan(0);
          expect(step, 'sequence must grow').toBeLessThan(0x8000);
        }
        // At most MAX_UPDATE_RATE BUs in any one-second window (§11.8).
        for (let i = MAX_UPDATE_RATE; i < sent.length; i++) {
          expect(sent[i]!.at - sent[i - MAX_UPDATE_RATE]!.at).toBeGreaterThanOrEqual(1000);
        }
        // Lifetime 0 (deletion, §6.1.7) only from home (§11.5.5) or when shutting down; from home
        // never anything else.
        const shutdown = ctx.received.some((e) => e.type === 'SHUTDOWN');
        for (const bu of sent) {
          if (bu.attachment === 'home') expect(bu.lifetimeSeconds).toBe(0);
          else if (bu.lifetimeSeconds === 0) expect(shutdown).toBe(true);
        }
        // F is never set with an IPv6 care-of address (RFC 5555 §3.1.3).
        for (const bu of sent) if (bu.forceUdp) expect(bu.attachment).toBe('ipv4');
        // GAVE_UP is said once per registration attempt that reaches the maximum backoff.
        expect(reports.filter((r) => r.type === 'BUL.GAVE_UP').length).toBeLessThanOrEqual(
          reports.filter((r) => r.type === 'BUL.UNANSWERED').length,
        );
      },
    };
  },
});

modelTests(bindingCacheEntryModel, {
  machine() {
    const acks: { status: number; sequence: number; lifetimeSeconds: number }[] = [];
    let registeredUntil = Number.POSITIVE_INFINITY;
    let clock: TestClock | undefined;
    const machine = bindingCacheEntryModel.machine.provide({
      actions: {
        sendBindingAck: (_, p) => acks.push(p),
        report: (_, r) => {
          if (r.type === 'BCE.REGISTERED') registeredUntil = (clock?.now() ?? 0) + r.lifetimeSeconds * 1000;
        },
      },
    });
    return {
      machine,
      invariant: (ctx) => {
        clock = ctx.clock;
        // Every BU is answered (RFC 6275 §10.3.1: the HA sends a BA regardless of the A bit).
        const bus = ctx.received.filter((e: EventObject) => e.type === 'BU');
        expect(acks.length).toBe(bus.length);
        // A binding cache entry never outlives its granted lifetime.
        if (inState(ctx, 'registered')) expect(ctx.clock.now()).toBeLessThan(registeredUntil);
        // 135 carries the last accepted sequence number (§9.5.1).
        const c = ctx.actor.getSnapshot().context;
        const last = acks.at(-1);
        if (last?.status === 135) expect(last.sequence).toBe(c.lastSequence);
        // Granted lifetimes are whole 4-second units within policy (§6.1.7, §10.3.1).
        for (const a of acks) {
          expect(a.lifetimeSeconds % 4).toBe(0);
          expect(a.lifetimeSeconds).toBeLessThanOrEqual(c.maxLifetimeSeconds);
        }
      },
    };
  },
});

modelTests(natKeepaliveModel, {
  machine() {
    return {
      machine: natKeepaliveModel.machine,
      invariant: (ctx) => {
        // Keepalives run only while the HA reports a NAT (RFC 5555 §4.3).
        expect(pendingTimers(ctx).includes('natKeepalive')).toBe(inState(ctx, 'active.keeping'));
        const c = ctx.actor.getSnapshot().context;
        if (inState(ctx, 'active.keeping')) expect(c.refreshSeconds).not.toBe(0xffffffff);
      },
    };
  },
});

modelTests(movementModel, {
  machine() {
    return {
      machine: movementModel.machine,
      invariant: (ctx) => {
        const snap = ctx.actor.getSnapshot();
        const c = snap.context;
        // The attachment region agrees with what was last reported.
        const region = (snap.value as { attachment: unknown }).attachment;
        const shown = typeof region === 'string' ? region : Object.keys(region as object)[0];
        expect(shown).toBe(c.attachment);
        // Home is IPv6 only (RFC 5555 §4.4.4); a detached node has no care-of address.
        if (c.attachment === 'detached') expect(c.coa).toBeNull();
        if (c.attachment === 'ipv4') expect(c.coa).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        if (c.attachment === 'ipv6' || c.attachment === 'home') expect(c.coa).toContain(':');
      },
    };
  },
});

modelTests(haDiscoveryModel, {
  machine() {
    const found: { ipv6?: string; ipv4?: string }[] = [];
    const machine = haDiscoveryModel.machine.provide({
      actions: { report: (_, r) => (r.type === 'DISCOVERY.FOUND' ? found.push(r.ha) : undefined) },
    });
    return {
      machine,
      invariant: (ctx) => {
        const c = ctx.actor.getSnapshot().context;
        // DNS retry backoff stays within its bounds.
        expect(c.retryMs).toBeGreaterThanOrEqual(c.retryInitialMs);
        expect(c.retryMs).toBeLessThanOrEqual(c.retryMaxMs);
        // A home agent is only ever offered with an address to reach it.
        for (const ha of found) expect(Boolean(ha.ipv6 || ha.ipv4)).toBe(true);
        // The current candidate exists whenever one is selected.
        if (inState(ctx, 'selected')) expect(c.candidates[c.index]).toBeDefined();
      },
    };
  },
});

modelTests(mobileNodeModel, {
  machine() {
    return {
      machine: mobileNodeModel.machine,
      invariant: (ctx) => {
        const snap = ctx.actor.getSnapshot();
        if (snap.status !== 'active') return;
        const c = snap.context;
        const children = Object.keys(snap.children);
        // A BUL entry and its keepalive exist exactly while a home agent is chosen.
        const haName = c.haName;
        expect(c.ha !== null).toBe(haName !== null);
        if (haName !== null)
          expect(children).toEqual(expect.arrayContaining([bulId(haName), keepaliveId(haName)]));
        else expect(children.some((id) => id.startsWith('bul/') || id.startsWith('keepalive/'))).toBe(false);
        // Supervision escalates before a fourth restart inside the window.
        expect(c.restarts).toBeLessThanOrEqual(3);
        // Registered only with a care-of address and a home agent.
        if (c.registered) expect(c.ha).not.toBeNull();
      },
    };
  },
});

modelTests(homeAgentModel, {
  machine() {
    return {
      machine: homeAgentModel.machine,
      invariant: (ctx) => {
        const snap = ctx.actor.getSnapshot();
        if (snap.status !== 'active') return;
        const c = snap.context;
        // The entries live in the binding cache host, never as children (O(1) add and remove).
        expect(Object.keys(snap.children)).toEqual([]);
        // Every pool address is either free or leased to exactly one home address (RFC 5555 §4.5).
        if (c.pool) {
          const leased = Object.keys(leasesOf(c.pool));
          const free = freeAddresses(c.pool);
          expect(free.length + leased.length).toBe(c.pool.size);
          expect(new Set([...free, ...leased]).size).toBe(c.pool.size);
        }
        expect(c.restarts).toBeLessThanOrEqual(3);
      },
    };
  },
});
