/**
 * Where the home agent keeps its binding cache entries: one snapshot of the binding cache entry
 * statechart (src/machines/binding-cache-entry.ts) per home address in a Map, advanced by the
 * machine's own transition function, with every entry's delays in one TimerQueue.
 *
 * Why not one actor per entry (bench/README.md has the numbers): spawned children of one parent
 * make every spawn and stop O(N) (xstate copies `children` and scans the whole system's timers),
 * and independent root actors cost about 5.8 KB each with their own actor system and timers. A
 * snapshot is a few hundred bytes, adding or removing one is a Map operation plus O(log n) in the
 * timer heap, and the machine is still the only place the per-entry rules live: the same
 * `transition` xstate runs inside an actor runs here, with the same guards, actions and delays.
 *
 * xstate's exported `transition()` builds a throwaway actor and two actor systems on every call
 * (about 40 µs); this host calls the machine's `transition(snapshot, event, scope)` with one
 * long-lived scope whose action executor is this module: delayed raises go to the TimerQueue,
 * cancels take them back, `sendBindingAck` and `report` go to the callbacks.
 *
 * The live inspector still sees every entry: with an `inspect` observer each entry is announced
 * as an actor `ha/bce/<HoA>` under the home agent, with its snapshot after every event, and
 * stopped when it is deleted.
 */

import {
  type AnyActorRef,
  createActor,
  type EventObject,
  type InspectionEvent,
  type SnapshotFrom,
  setup,
} from 'xstate';
import type {
  BindingCacheEntryInput,
  BindingCacheEntryReport,
  BindingUpdateReceived,
  bindingCacheEntryMachine,
  CareOf,
  SendBindingAckParams,
} from '../machines/binding-cache-entry.js';
import type { Clock } from '../net/ports.js';
import { type QueuedTimer, TimerQueue } from './timer-queue.js';

export type EntryMachine = typeof bindingCacheEntryMachine;
export type EntrySnapshot = SnapshotFrom<EntryMachine>;
type Scope = Parameters<EntryMachine['transition']>[2];

/** The id the home agent's registry and the inspector know an entry by (architecture.md). */
export const entryId = (homeAddress: string): string => `bce/${homeAddress}`;

export interface BindingCacheOptions {
  /** The binding cache entry statechart (tests pass one with a planted bug). */
  readonly machine: EntryMachine;
  readonly clock: Clock;
  /** The entry's Binding Acknowledgement, to the care-of address of the BU it answers. */
  readonly sendBindingAck: (homeAddress: string, careOf: CareOf, params: SendBindingAckParams) => void;
  readonly report: (report: BindingCacheEntryReport) => void;
  /** The entry threw: it is gone (its timers too); the supervisor decides what follows. */
  readonly failed: (homeAddress: string, error: unknown) => void;
  /** Live inspection: the xstate observer and the actor the entries are shown under. */
  readonly inspect?: {
    readonly observer: (event: InspectionEvent) => void;
    readonly parent: () => AnyActorRef | undefined;
  };
}

interface TimerPayload {
  readonly entry: Entry;
  readonly id: string;
  readonly event: EventObject;
}

interface Entry {
  readonly homeAddress: string;
  snapshot: EntrySnapshot;
  /** Pending delays of this entry (at most one per delayed transition: lifetime, IPv4, delete). */
  timers: QueuedTimer<TimerPayload>[] | undefined;
  /** Only while inspecting. */
  ref: InspectedEntry | undefined;
}

/** What the inspection collector reads from an actor ref (src/inspect/collector.ts). */
interface InspectedEntry {
  readonly id: string;
  readonly sessionId: string;
  readonly systemId: string;
  readonly _parent: AnyActorRef | undefined;
  readonly logic: EntryMachine;
  readonly src: string;
  getSnapshot(): EntrySnapshot;
}

/** A raise with a delay (an `after` transition) and a cancel, as xstate hands them over. */
interface RaiseParams {
  readonly event: EventObject;
  readonly id?: string;
  readonly delay?: number;
}

const inertSelf = (): AnyActorRef => createActor(setup({}).createMachine({ id: 'bindingCacheHost' }));

export class BindingCache {
  readonly #options: BindingCacheOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #timers: TimerQueue<TimerPayload>;
  readonly #scope: Scope;
  /** The entry and event being processed; saved and restored so nesting stays correct. */
  #current: { entry: Entry; event: EventObject } | undefined;
  #sessions = 0;

  constructor(options: BindingCacheOptions) {
    this.#options = options;
    this.#timers = new TimerQueue(options.clock, (p) => this.#fire(p));
    const self = inertSelf();
    const scope = {
      self,
      id: 'bindingCacheHost',
      sessionId: self.sessionId,
      logger: () => {},
      defer: () => {},
      emit: () => {},
      system: self.system,
      stopChild: () => {},
      actionExecutor: (action: { type: string; params?: unknown }) => this.#execute(action),
    };
    this.#scope = scope as unknown as Scope;
  }

  /** Entries in the cache (every state: registered, deleting). */
  get size(): number {
    return this.#entries.size;
  }

  /** Pending delays across all entries. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** The entry's current snapshot, for status and tests. */
  snapshot(homeAddress: string): EntrySnapshot | undefined {
    return this.#entries.get(homeAddress)?.snapshot;
  }

  homeAddresses(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** A checked BU for `input.homeAddress`: to its entry, created by the first one. */
  deliver(input: BindingCacheEntryInput, bu: BindingUpdateReceived): void {
    let entry = this.#entries.get(input.homeAddress);
    if (!entry) {
      let snapshot: EntrySnapshot;
      try {
        // The initial state has no entry actions, so nothing reaches the executor here.
        snapshot = this.#options.machine.getInitialSnapshot(this.#scope, input);
      } catch (e) {
        this.#options.failed(input.homeAddress, e);
        return;
      }
      entry = { homeAddress: input.homeAddress, snapshot, timers: undefined, ref: undefined };
      this.#entries.set(input.homeAddress, entry);
      if (this.#options.inspect) this.#announce(entry);
    }
    this.#step(entry, bu);
  }

  /** Drops every entry and timer without reports (shutdown; the HA is going away). */
  clear(): void {
    this.#timers.clear();
    for (const entry of this.#entries.values()) this.#inspectStopped(entry);
    this.#entries.clear();
  }

  #fire(p: TimerPayload): void {
    const timers = p.entry.timers;
    if (timers) {
      const i = timers.findIndex((t) => t.payload === p);
      if (i >= 0) timers.splice(i, 1);
    }
    if (this.#entries.get(p.entry.homeAddress) === p.entry) this.#step(p.entry, p.event);
  }

  #step(entry: Entry, event: EventObject): void {
    if (entry.ref) {
      this.#options.inspect?.observer({
        type: '@xstate.event',
        actorRef: entry.ref,
        rootId: entry.ref._parent?.sessionId ?? entry.ref.sessionId,
        event,
      } as unknown as InspectionEvent);
    }
    const outer = this.#current;
    this.#current = { entry, event };
    let next: EntrySnapshot;
    try {
      next = this.#options.machine.transition(entry.snapshot, event as BindingUpdateReceived, this.#scope);
      if (next.status === 'error') throw next.error;
    } catch (e) {
      this.#current = outer;
      this.#remove(entry);
      this.#options.failed(entry.homeAddress, e);
      return;
    }
    this.#current = outer;
    entry.snapshot = next;
    if (entry.ref) {
      this.#options.inspect?.observer({
        type: '@xstate.snapshot',
        actorRef: entry.ref,
        rootId: entry.ref._parent?.sessionId ?? entry.ref.sessionId,
        event,
        snapshot: next,
      } as unknown as InspectionEvent);
    }
    // The final state (deleted): the entry is gone, nothing of it may stay behind.
    if (next.status !== 'active') this.#remove(entry);
  }

  #remove(entry: Entry): void {
    if (this.#entries.get(entry.homeAddress) === entry) this.#entries.delete(entry.homeAddress);
    for (const t of entry.timers ?? []) this.#timers.cancel(t);
    entry.timers = undefined;
    this.#inspectStopped(entry);
  }

  /** The action executor of the shared scope: effects of the entry being stepped. */
  #execute(action: { type: string; params?: unknown }): void {
    const current = this.#current;
    if (!current) return;
    const { entry, event } = current;
    switch (action.type) {
      case 'xstate.raise': {
        const p = action.params as RaiseParams;
        // Only delayed raises reach the executor; an immediate one is queued inside the step.
        if (typeof p.delay !== 'number') return;
        const payload: TimerPayload = { entry, id: p.id ?? p.event.type, event: p.event };
        const timer = this.#timers.add(p.delay, payload);
        if (entry.timers) entry.timers.push(timer);
        else entry.timers = [timer];
        return;
      }
      case 'xstate.cancel': {
        const sendId = (action.params as { sendId: string }).sendId;
        const timers = entry.timers;
        const i = timers ? timers.findIndex((t) => t.payload.id === sendId) : -1;
        if (timers && i >= 0) {
          this.#timers.cancel(timers[i]!);
          timers.splice(i, 1);
        }
        return;
      }
      case 'sendBindingAck':
        this.#options.sendBindingAck(
          entry.homeAddress,
          (event as BindingUpdateReceived).careOf,
          action.params as SendBindingAckParams,
        );
        return;
      case 'report':
        this.#options.report(action.params as BindingCacheEntryReport);
        return;
      default:
        // assign and the other built-ins have already been applied to the snapshot.
        return;
    }
  }

  #announce(entry: Entry): void {
    const inspect = this.#options.inspect;
    if (!inspect) return;
    const parent = inspect.parent();
    const id = entryId(entry.homeAddress);
    const ref: InspectedEntry = {
      id,
      sessionId: `x:bce:${++this.#sessions}`,
      systemId: `ha/${id}`,
      _parent: parent,
      logic: this.#options.machine,
      src: 'bindingCacheEntry',
      getSnapshot: () => entry.snapshot,
    };
    entry.ref = ref;
    inspect.observer({
      type: '@xstate.actor',
      actorRef: ref,
      rootId: parent?.sessionId ?? ref.sessionId,
    } as unknown as InspectionEvent);
  }

  #inspectStopped(entry: Entry): void {
    const ref = entry.ref;
    if (!ref) return;
    entry.ref = undefined;
    // The collector drops an actor whose snapshot is no longer active.
    this.#options.inspect?.observer({
      type: '@xstate.snapshot',
      actorRef: ref,
      rootId: ref._parent?.sessionId ?? ref.sessionId,
      event: { type: 'xstate.stop' },
      snapshot: { ...entry.snapshot, status: 'stopped' },
    } as unknown as InspectionEvent);
  }
}
