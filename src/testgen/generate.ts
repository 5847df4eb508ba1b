/**
 * Path generation from a machine. The machine is explored with xstate's pure `transition()`
 * function over a timed graph: a node is a snapshot plus the timers it has pending (each `after`
 * timer that `transition()` reports as a delayed raise, until it is cancelled or fires), and
 * time only moves when the earliest pending timer fires. Outside events (the model's) happen
 * instantly. So every generated path can happen in real time, and each step carries the time at
 * which it happens: a path says "at 1500 ms the retransmission timer fires", not only "a timer
 * fires".
 *
 * Node identity is the model's abstract test state plus the order in which its pending timers
 * fall due; a node keeps the exact times of its first visit.
 * Strategies:
 * - 'shortest': the shortest path to every test state;
 * - 'cover':    those, plus for every machine transition not yet taken a shortest path that ends
 *               by taking it, so that running the paths covers every reachable transition;
 * - 'simple':   cycle-free paths (depth-first; grows fast, bounded by `maxPaths`).
 * Generation only describes paths; `execute.ts` runs them against an actor.
 */

import {
  type AnyStateMachine,
  createActor,
  type EventObject,
  initialTransition,
  type SnapshotFrom,
  type StateValue,
  transition,
} from 'xstate';
import { executePath } from './execute.js';
import type { MachineModel } from './model.js';
import { transitionKey, transitions } from './structure.js';

export type Strategy = 'shortest' | 'cover' | 'simple';

export interface GeneratedStep {
  readonly event: EventObject;
  /** Milliseconds since the start of the path when the event happens. */
  readonly at: number;
  /** The state value the machine is in after the event. */
  readonly state: StateValue;
  /** The abstract test state (the model's serialization) after the event. */
  readonly testState: string;
}

export interface GeneratedPath {
  readonly id: string;
  readonly description: string;
  /** The machine input the path starts from. */
  readonly input: unknown;
  readonly initial: StateValue;
  readonly steps: readonly GeneratedStep[];
}

export interface GenerateOptions {
  readonly strategy?: Strategy;
  /** Bound on explored nodes: generation stops with an error past it (a non-finite model). */
  readonly maxNodes?: number;
  /** Bound on the number of paths for the 'simple' strategy. */
  readonly maxPaths?: number;
}

/** Bound on repetitions through the same node: 64 retransmissions at 32 s is over half an hour. */
const MAX_TIMER_REPEATS = 64;

interface Timer {
  readonly id: string;
  readonly eventType: string;
  readonly due: number;
}

interface TimedNode<M extends AnyStateMachine> {
  readonly key: string;
  /** The key without the repetition count. */
  readonly base: string;
  /** How many earlier nodes on its path share `base` (periodic timers bring the machine back). */
  readonly repeat: number;
  readonly snapshot: SnapshotFrom<M>;
  readonly now: number;
  readonly timers: readonly Timer[];
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly event: EventObject;
  readonly at: number;
  readonly value: StateValue;
  readonly testState: string;
}

interface Action {
  readonly type: string;
  readonly params?: {
    readonly event?: EventObject;
    readonly delay?: number;
    readonly id?: string;
    readonly sendId?: string;
  };
}

/** Applies the timer actions of one transition (delayed raises start, cancels stop). */
function applyTimers(timers: readonly Timer[], actions: readonly Action[], now: number): Timer[] {
  let out = [...timers];
  for (const a of actions) {
    if (a.type === 'xstate.cancel' && a.params?.sendId) {
      out = out.filter((t) => t.id !== a.params!.sendId);
    } else if (a.type === 'xstate.raise' && a.params?.delay !== undefined && a.params.event) {
      const id = a.params.id ?? a.params.event.type;
      out = out.filter((t) => t.id !== id);
      out.push({ id, eventType: a.params.event.type, due: now + a.params.delay });
    }
  }
  return out;
}

const eventText = (e: EventObject): string => {
  const { type, ...rest } = e;
  return Object.keys(rest).length ? `${type} ${JSON.stringify(rest)}` : type;
};

/**
 * Outside events from the model that select some transition in this snapshot. (Not
 * `snapshot.can()`, which is false for a transition that deliberately does nothing, such as
 * ignoring a stale BA: those are behaviour too and must be covered.)
 */
export function outsideEvents<M extends AnyStateMachine>(
  model: MachineModel<M>,
  snapshot: SnapshotFrom<M>,
): EventObject[] {
  return (model.events(snapshot) as EventObject[]).filter(
    (e) => model.machine.getTransitionData(snapshot as never, e as never).length > 0,
  );
}

/** The timed graph reachable from the model's initial state. */
function explore<M extends AnyStateMachine>(model: MachineModel<M>, input: unknown, maxNodes: number) {
  // Two timed nodes are the same test node when their abstract states match and their pending
  // timers are due in the same order (the node keeps the exact times of its first visit, so
  // every path along first visits is exact in time). When a timer brings the machine back to a
  // node already on its path (a retransmission at MAX_BINDACK_TIMEOUT), the repetition is counted
  // in the key, so time can run on until a longer timer (the binding lifetime) comes due first.
  const keyOf = (snapshot: SnapshotFrom<M>, _now: number, timers: readonly Timer[]): string => {
    const sorted = [...timers].sort((a, b) => a.due - b.due || a.eventType.localeCompare(b.eventType));
    const order = sorted
      .map((t, i) => (i === 0 ? '' : t.due === sorted[i - 1]!.due ? '=' : '<') + t.eventType)
      .join('');
    return `${model.serialize(snapshot)}|${order}`;
  };
  const [s0, a0] = initialTransition(model.machine, input as never);
  const t0 = applyTimers([], a0 as Action[], 0);
  const k0 = keyOf(s0 as SnapshotFrom<M>, 0, t0);
  const first: TimedNode<M> = {
    key: k0,
    base: k0,
    repeat: 0,
    snapshot: s0 as SnapshotFrom<M>,
    now: 0,
    timers: t0,
  };
  const nodes = new Map<string, TimedNode<M>>([[first.key, first]]);
  const parent = new Map<string, Edge | null>([[first.key, null]]);
  const edges: Edge[] = [];
  const queue = [first];
  while (queue.length) {
    const node = queue.shift()!;
    const successors: {
      event: EventObject;
      snapshot: SnapshotFrom<M>;
      now: number;
      timers: Timer[];
      timer: boolean;
    }[] = [];
    for (const event of outsideEvents(model, node.snapshot)) {
      const [next, actions] = transition(model.machine, node.snapshot, event as never);
      const timers = applyTimers(node.timers, actions as Action[], node.now);
      successors.push({ event, snapshot: next as SnapshotFrom<M>, now: node.now, timers, timer: false });
    }
    if (node.timers.length) {
      const due = Math.min(...node.timers.map((t) => t.due));
      for (const timer of node.timers.filter((t) => t.due === due)) {
        const event = { type: timer.eventType };
        const rest = node.timers.filter((t) => t !== timer);
        const [next, actions] = transition(model.machine, node.snapshot, event as never);
        const timers = applyTimers(rest, actions as Action[], due);
        successors.push({ event, snapshot: next as SnapshotFrom<M>, now: due, timers, timer: true });
      }
    }
    for (const s of successors) {
      const base = keyOf(s.snapshot, s.now, s.timers);
      let repeat = 0;
      if (s.timer) {
        for (let n: TimedNode<M> | undefined = node; n; n = nodes.get(parent.get(n.key)?.from ?? '')) {
          if (n.base === base) {
            repeat = n.repeat + 1;
            break;
          }
        }
      }
      if (repeat > MAX_TIMER_REPEATS) continue;
      const key = repeat ? `${base}#${repeat}` : base;
      const testState = model.serialize(s.snapshot);
      const edge: Edge = {
        from: node.key,
        to: key,
        event: s.event,
        at: s.now,
        value: (s.snapshot as { value: StateValue }).value,
        testState,
      };
      edges.push(edge);
      if (!nodes.has(key)) {
        if (nodes.size >= maxNodes) {
          throw new Error(
            `testgen: ${model.name}: more than ${maxNodes} timed states; make the model's serialize coarser`,
          );
        }
        const n: TimedNode<M> = { key, base, repeat, snapshot: s.snapshot, now: s.now, timers: s.timers };
        nodes.set(key, n);
        parent.set(key, edge);
        queue.push(n);
      }
    }
  }
  return { first, nodes, parent, edges };
}

/** Transitions (by stable key) the machine takes from `snapshot` on `event`, found by running it. */
export function probeTransitions(
  machine: AnyStateMachine,
  input: unknown,
  snapshot: unknown,
  event: EventObject,
): string[] {
  const taken: string[] = [];
  let recording = false;
  const actor = createActor(machine, {
    input,
    snapshot: machine.getPersistedSnapshot(snapshot as never),
    inspect: (ev) => {
      if (!recording || ev.type !== '@xstate.microstep' || ev.actorRef !== actor) return;
      const ts = (ev as unknown as { _transitions: Parameters<typeof transitionKey>[0][] })._transitions;
      for (const t of ts) taken.push(transitionKey(t));
    },
  });
  actor.subscribe({ error: () => {} });
  actor.start();
  recording = true;
  actor.send(event);
  recording = false;
  actor.stop();
  return taken;
}

export function generatePaths<M extends AnyStateMachine>(
  model: MachineModel<M>,
  options: GenerateOptions = {},
): GeneratedPath[] {
  const strategy = options.strategy ?? 'cover';
  const inputs: unknown[] = [model.input, ...(model.moreInputs ?? [])];
  const covered = new Set<string>();
  const out: GeneratedPath[] = [];
  inputs.forEach((input, n) => {
    const prefix = inputs.length > 1 ? `${strategy}-input${n + 1}` : strategy;
    out.push(...pathsFrom(model, input, strategy, options, covered, prefix));
  });
  return out;
}

function pathsFrom<M extends AnyStateMachine>(
  model: MachineModel<M>,
  input: unknown,
  strategy: Strategy,
  options: GenerateOptions,
  covered: Set<string>,
  prefix: string,
): GeneratedPath[] {
  const { first, nodes, parent, edges } = explore(model, input, options.maxNodes ?? 200_000);
  const initial = (first.snapshot as { value: StateValue }).value;
  const stepsTo = (key: string): GeneratedStep[] => {
    const out: GeneratedStep[] = [];
    for (let e = parent.get(key); e; e = parent.get(e.from)) out.unshift(toStep(e));
    return out;
  };
  const make = (steps: GeneratedStep[], i: number): GeneratedPath =>
    toPath(`${prefix}-${i + 1}`, input, initial, steps);
  if (strategy === 'simple') return simplePaths(first.key, edges, options.maxPaths ?? 500).map(make);
  // One path per abstract test state (the first timed node that reaches it is a shortest one).
  const byTestState = new Map<string, string>();
  for (const [key, node] of nodes) {
    const ts = model.serialize(node.snapshot);
    if (!byTestState.has(ts)) byTestState.set(ts, key);
  }
  const candidates: GeneratedStep[][] = [...byTestState.values()].map(stepsTo);
  if (strategy === 'cover') {
    // What the shortest paths already take is found by running them (fast: one actor per path);
    // then edges are probed one by one, only until every transition of the machine is taken.
    const all = transitions(model.machine).length;
    for (const c of candidates) {
      for (const k of executePath(model, toPath('probe', input, initial, c)).transitionsTaken) covered.add(k);
    }
    for (const e of edges) {
      if (covered.size >= all) break;
      const taken = probeTransitions(model.machine, input, nodes.get(e.from)!.snapshot, e.event);
      if (taken.some((k) => !covered.has(k))) {
        for (const k of taken) covered.add(k);
        candidates.push([...stepsTo(e.from), toStep(e)]);
      }
    }
  }
  return dropPrefixes(candidates).map(make);
}

const toStep = (e: Edge): GeneratedStep => ({
  event: e.event,
  at: e.at,
  state: e.value,
  testState: e.testState,
});

/** Paths that are a prefix of another add nothing when run: the longer one visits their steps. */
function dropPrefixes(candidates: GeneratedStep[][]): GeneratedStep[][] {
  const text = candidates.map((steps) =>
    steps.map((s) => `${eventText(s.event)}@${s.at}>${s.testState}`).join('|'),
  );
  return candidates.filter(
    (_, i) =>
      text[i] !== '' &&
      text.indexOf(text[i]!) === i &&
      !text.some((t, j) => j !== i && t.startsWith(`${text[i]}|`)),
  );
}

function simplePaths(start: string, edges: readonly Edge[], maxPaths: number): GeneratedStep[][] {
  const out: GeneratedStep[][] = [];
  const byFrom = new Map<string, Edge[]>();
  for (const e of edges) byFrom.set(e.from, [...(byFrom.get(e.from) ?? []), e]);
  const onPath = new Set<string>([start]);
  const steps: GeneratedStep[] = [];
  const walk = (from: string): void => {
    let extended = false;
    for (const e of byFrom.get(from) ?? []) {
      if (out.length >= maxPaths) return;
      if (onPath.has(e.to)) continue;
      extended = true;
      onPath.add(e.to);
      steps.push(toStep(e));
      walk(e.to);
      steps.pop();
      onPath.delete(e.to);
    }
    if (!extended && steps.length) out.push([...steps]);
  };
  walk(start);
  return out;
}

function toPath(id: string, input: unknown, initial: StateValue, steps: GeneratedStep[]): GeneratedPath {
  const last = steps.at(-1);
  const description = `${id}: ${steps.map((s) => `${eventText(s.event)} @${s.at}ms`).join(' → ')} ⇒ ${JSON.stringify(last?.state ?? initial)}`;
  return { id, description, input, initial, steps };
}
