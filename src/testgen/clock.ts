/**
 * A simulated clock for executing paths. Unlike xstate's SimulatedClock, which fires every due
 * timer in one flush, this one fires one timer at a time, so that when several timers are due at
 * the same instant the executor can fire the one a path names first (any order of simultaneous
 * timers is a real-time order).
 */

import type { AnyActorRef } from 'xstate';

interface Timer {
  readonly due: number;
  readonly fn: () => void;
}

export interface PendingTimer {
  readonly id: number;
  readonly due: number;
  /** The event the timer will deliver, when it could be matched to the actor system's schedule. */
  readonly eventType?: string;
}

export class TestClock {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id = this.nextId++;
    this.timers.set(id, { due: this.time + Math.max(0, timeout), fn: () => fn() });
    return id;
  }

  clearTimeout(id: number): void {
    this.timers.delete(id);
  }

  /**
   * Pending timers in the order they were set. xstate's scheduler sets a clock timer and records
   * the scheduled event in the same order and removes both together, so the two lists zip.
   */
  pending(system?: AnyActorRef['system']): PendingTimer[] {
    const scheduled = system ? Object.values(system.getSnapshot()._scheduledEvents) : [];
    const zip = scheduled.length === this.timers.size;
    return [...this.timers].map(([id, t], i) => ({
      id,
      due: t.due,
      ...(zip ? { eventType: scheduled[i]!.event.type } : {}),
    }));
  }

  /** Moves time to the timer's due time and runs it. */
  fire(id: number): void {
    const t = this.timers.get(id);
    if (!t) throw new Error(`no pending timer ${id}`);
    this.timers.delete(id);
    this.time = Math.max(this.time, t.due);
    t.fn();
  }

  /** Runs every timer due up to `time`, in due order, then sets the time (for scenario tests). */
  advanceTo(time: number): void {
    for (;;) {
      let next: [number, Timer] | undefined;
      for (const entry of this.timers)
        if (entry[1].due <= time && (!next || entry[1].due < next[1].due)) next = entry;
      if (!next) break;
      this.fire(next[0]);
    }
    this.time = Math.max(this.time, time);
  }

  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }
}
