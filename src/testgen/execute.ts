/**
 * Runs a generated path against a real actor on a simulated clock. Outside events are sent as
 * they are (with payloads recomputed from the real snapshot, see MachineModel.events); a timer
 * event is produced by moving the clock forward until that timer fires, letting any timer due
 * earlier fire first, exactly as it would in real time. After every step the actor must be in the
 * state the path expects, and the caller's invariants are checked.
 */

import {
  type Actor,
  type AnyActorRef,
  type AnyStateMachine,
  createActor,
  type EventObject,
  type InspectionEvent,
  type SnapshotFrom,
} from 'xstate';
import { TestClock } from './clock.js';
import type { GeneratedPath, GeneratedStep } from './generate.js';
import type { MachineModel } from './model.js';
import { transitionKey } from './structure.js';

export interface StepContext<M extends AnyStateMachine> {
  readonly actor: Actor<M>;
  readonly clock: TestClock;
  readonly step: GeneratedStep | null;
  readonly index: number;
  /** Events the actor received so far in this path (outside and timers), in order. */
  readonly received: readonly EventObject[];
}

export interface ExecuteOptions<M extends AnyStateMachine> {
  /** The machine to run (defaults to the model's); e.g. `model.machine.provide({ actions })`. */
  readonly machine?: M;
  /** Checked after the initial state and after every step; throw to fail the path. */
  readonly invariant?: (ctx: StepContext<M>) => void;
  /** Bound on timers fired while waiting for the one a step names. */
  readonly maxTimerFirings?: number;
}

export interface ExecutionResult {
  readonly statesVisited: Set<string>;
  readonly transitionsTaken: Set<string>;
  readonly finalTime: number;
}

export class PathFailure extends Error {
  constructor(path: GeneratedPath, index: number, why: string) {
    super(`${why}\n  at step ${index} of ${path.description}`);
    this.name = 'PathFailure';
  }
}

const deepEqual = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function executePath<M extends AnyStateMachine>(
  model: MachineModel<M>,
  path: GeneratedPath,
  options: ExecuteOptions<M> = {},
): ExecutionResult {
  const machine = options.machine ?? model.machine;
  const clock = new TestClock();
  const statesVisited = new Set<string>();
  const transitionsTaken = new Set<string>();
  const received: EventObject[] = [];
  let root: AnyActorRef | undefined;
  const inspect = (ev: InspectionEvent): void => {
    if (ev.actorRef !== root && root !== undefined) return;
    if (ev.type === '@xstate.microstep') {
      const ts = (ev as unknown as { _transitions: Parameters<typeof transitionKey>[0][] })._transitions;
      for (const t of ts) transitionsTaken.add(transitionKey(t));
      // Transient states (left by an `always` transition in the same macrostep) count as visited.
      for (const n of (ev.snapshot as unknown as { _nodes: { id: string }[] })._nodes)
        statesVisited.add(n.id);
    } else if (ev.type === '@xstate.event' && ev.actorRef === root) {
      received.push(ev.event);
    }
  };
  const input = (path.input ?? model.input) as never;
  const actor = createActor(machine, { input, clock, inspect } as never) as Actor<M>;
  root = actor;
  let failure: unknown;
  actor.subscribe({ error: (e) => (failure = e) });
  actor.start();
  const record = (): void => {
    for (const n of (actor.getSnapshot() as unknown as { _nodes: { id: string }[] })._nodes)
      statesVisited.add(n.id);
  };
  const check = (step: GeneratedStep | null, index: number): void => {
    if (failure) throw new PathFailure(path, index, `actor failed: ${String(failure)}`);
    const value = (actor.getSnapshot() as { value: unknown }).value;
    const expected = step ? step.state : path.initial;
    if (!deepEqual(value, expected)) {
      throw new PathFailure(
        path,
        index,
        `state ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`,
      );
    }
    record();
    options.invariant?.({ actor, clock, step, index, received });
  };
  try {
    check(null, 0);
    let previous = actor.getSnapshot() as SnapshotFrom<M>;
    path.steps.forEach((step, i) => {
      const index = i + 1;
      if (step.event.type.startsWith('xstate.after.')) {
        fireTimer(clock, actor.system, received, step.event.type, options.maxTimerFirings ?? 64, (why) => {
          throw new PathFailure(path, index, why);
        });
      } else {
        actor.send(rebind(model, previous, step.event) as never);
      }
      check(step, index);
      previous = actor.getSnapshot() as SnapshotFrom<M>;
    });
  } finally {
    actor.stop();
  }
  return { statesVisited, transitionsTaken, finalTime: clock.now() };
}

/**
 * Fires timers in due order until an event of `type` has been received. Among timers due at the
 * same instant the one named by the path goes first.
 */
function fireTimer(
  clock: TestClock,
  system: AnyActorRef['system'],
  received: EventObject[],
  type: string,
  maxFirings: number,
  fail: (why: string) => never,
): void {
  const before = received.length;
  for (let n = 0; n < maxFirings; n++) {
    const pending = clock.pending(system);
    if (pending.length === 0) fail(`timer ${type} is not pending (no timer at all)`);
    const due = Math.min(...pending.map((p) => p.due));
    const now = pending.filter((p) => p.due === due);
    const pick = now.find((p) => p.eventType === type) ?? now[0]!;
    clock.fire(pick.id);
    if (received.slice(before).some((e) => e.type === type)) return;
  }
  fail(`timer ${type} did not fire within ${maxFirings} timer firings`);
}

/** The event variant at the same position, computed from the real actor's snapshot. */
function rebind<M extends AnyStateMachine>(
  model: MachineModel<M>,
  real: SnapshotFrom<M>,
  event: EventObject,
): EventObject {
  const fresh = model.events(real) as EventObject[];
  const want = JSON.stringify(event);
  const exact = fresh.find((e) => JSON.stringify(e) === want);
  if (exact) return exact;
  // Same type at the same ordinal among events of that type in the generating snapshot is not
  // known here, so match on type and the payload keys that do not echo runtime values.
  const sameType = fresh.filter((e) => e.type === event.type);
  const scored = sameType
    .map((e) => ({
      e,
      score: Object.entries(e).filter(([k, v]) => deepEqual(v, (event as Record<string, unknown>)[k])).length,
    }))
    .sort((a, b) => b.score - a.score);
  return scored[0]?.e ?? event;
}
