/**
 * One timer for a whole population of binding cache entries. xstate gives every live actor its
 * own scheduled events and a clock timer each (about 0.6 KB per armed timer, and a parent's
 * `cancelAll` scans every timer of its system, see ../shared/spec/xstate-notes.md §8); this
 * queue keeps every pending delay of every entry in one indexed binary min-heap and arms a
 * single clock timer for the earliest. Add and cancel are O(log n): at 100k entries that is 17
 * comparisons against 10 at 1k, so the cost of one more binding barely moves with the table size.
 *
 * Due times are exact (no wheel slots): an entry whose lifetime ends at 400 s is told at 400 s on
 * a simulated clock, which the machines' tests rely on. Equal due times fire in the order they
 * were armed, as xstate's own scheduler would.
 */

import type { Clock } from '../net/ports.js';

/** A pending delay; `cancel` takes it back. Owned by whoever armed it. */
export interface QueuedTimer<T> {
  readonly due: number;
  readonly payload: T;
  /** Position in the heap; -1 once fired or cancelled. */
  index: number;
  readonly order: number;
}

export class TimerQueue<T> {
  readonly #clock: Clock;
  readonly #fire: (payload: T) => void;
  readonly #heap: QueuedTimer<T>[] = [];
  #order = 0;
  /** The clock timer armed for the heap's top, and the due time it was armed for. */
  #armed: { handle: unknown; due: number } | undefined;

  constructor(clock: Clock, fire: (payload: T) => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Runs `fire(payload)` `delayMs` from now (clock time). */
  add(delayMs: number, payload: T): QueuedTimer<T> {
    const timer: QueuedTimer<T> = {
      due: this.#clock.now() + Math.max(0, delayMs),
      payload,
      index: this.#heap.length,
      order: this.#order++,
    };
    this.#heap.push(timer);
    this.#up(timer.index);
    this.#arm();
    return timer;
  }

  /** Takes a pending timer back; a timer that already fired or was cancelled is ignored. */
  cancel(timer: QueuedTimer<T>): void {
    const i = timer.index;
    if (i < 0 || this.#heap[i] !== timer) return;
    const last = this.#heap.pop()!;
    timer.index = -1;
    if (last !== timer) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    // The armed clock timer may now be early; it re-arms itself when it fires with nothing due.
    if (this.#heap.length === 0) this.#disarm();
  }

  /** Cancels everything (shutdown). */
  clear(): void {
    for (const t of this.#heap) t.index = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#armed) this.#clock.clearTimeout(this.#armed.handle);
    this.#armed = undefined;
  }

  /** Keeps exactly one clock timer, set for the earliest due time. */
  #arm(): void {
    const top = this.#heap[0];
    if (!top) {
      this.#disarm();
      return;
    }
    if (this.#armed && this.#armed.due <= top.due) return;
    this.#disarm();
    const handle = this.#clock.setTimeout(() => this.#onClock(), top.due - this.#clock.now());
    this.#armed = { handle, due: top.due };
  }

  #onClock(): void {
    this.#armed = undefined;
    const now = this.#clock.now();
    // One at a time: a fired payload may add or cancel timers (a re-entered state re-arms).
    for (let top = this.#heap[0]; top && top.due <= now; top = this.#heap[0]) {
      this.cancel(top);
      this.#fire(top.payload);
    }
    this.#arm();
  }

  #before(a: QueuedTimer<T>, b: QueuedTimer<T>): boolean {
    return a.due < b.due || (a.due === b.due && a.order < b.order);
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    const a = heap[i]!;
    const b = heap[j]!;
    heap[i] = b;
    heap[j] = a;
    a.index = j;
    b.index = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(this.#heap[i]!, this.#heap[parent]!)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#before(this.#heap[l]!, this.#heap[m]!)) m = l;
      if (r < n && this.#before(this.#heap[r]!, this.#heap[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
