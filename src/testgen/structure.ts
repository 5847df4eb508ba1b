/**
 * The static structure of a machine as test generation sees it: every state node and every
 * transition, each with a stable key that does not depend on object identity (so it matches
 * between a machine and its `.provide()`d copy).
 */

import type { AnyStateMachine, AnyStateNode } from 'xstate';

export interface TransitionInfo {
  readonly key: string;
  readonly source: string;
  readonly eventType: string;
  readonly targets: readonly string[];
  readonly guard?: string;
}

/** Minimal view of a TransitionDefinition (xstate does not export the type for generic use). */
interface TransitionLike {
  readonly source: AnyStateNode;
  readonly eventType: string;
  readonly target?: readonly AnyStateNode[] | undefined;
  readonly guard?: unknown;
}

export function stateNodes(machine: AnyStateMachine): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const walk = (n: AnyStateNode): void => {
    out.push(n);
    for (const child of Object.values(n.states)) walk(child as AnyStateNode);
  };
  walk(machine.root);
  return out;
}

function guardName(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard)
    return String((guard as { type: unknown }).type);
  if (typeof guard === 'function') return guard.name || 'inline';
  return 'guard';
}

/** Key of a transition: its source, event type and position among that event's candidates. */
export function transitionKey(t: TransitionLike): string {
  const node = t.source as AnyStateNode & { always?: readonly unknown[] };
  const list = t.eventType === '' ? (node.always ?? []) : (node.transitions.get(t.eventType) ?? []);
  const index = (list as readonly unknown[]).indexOf(t);
  return `${t.source.id} --${t.eventType || 'always'}[${index}]-->`;
}

export function transitions(machine: AnyStateMachine): TransitionInfo[] {
  const out: TransitionInfo[] = [];
  for (const node of stateNodes(machine)) {
    const withAlways = node as AnyStateNode & { always?: readonly TransitionLike[] };
    const lists: TransitionLike[][] = [...(node.transitions.values() as Iterable<TransitionLike[]>)];
    if (withAlways.always) lists.push([...withAlways.always]);
    for (const list of lists) {
      for (const t of list) {
        const guard = guardName(t.guard);
        out.push({
          key: transitionKey(t),
          source: t.source.id,
          eventType: t.eventType || 'always',
          targets: (t.target ?? []).map((n) => n.id),
          ...(guard ? { guard } : {}),
        });
      }
    }
  }
  return out;
}

/** Timer events a snapshot could receive next: one per `after` transition of an active node. */
export function timerEvents(snapshot: { _nodes: readonly AnyStateNode[] }): { type: string }[] {
  const seen = new Set<string>();
  for (const node of snapshot._nodes) {
    for (const t of node.after ?? []) seen.add(t.eventType);
  }
  return [...seen].map((type) => ({ type }));
}
