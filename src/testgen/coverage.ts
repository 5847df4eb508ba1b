/** State and transition coverage of executed paths against a machine's structure. */

import type { AnyStateMachine } from 'xstate';
import type { ExecutionResult } from './execute.js';
import { stateNodes, transitions } from './structure.js';

export interface Coverage {
  readonly machine: string;
  readonly states: { readonly covered: number; readonly total: number; readonly missing: string[] };
  readonly transitions: { readonly covered: number; readonly total: number; readonly missing: string[] };
}

export function coverage(machine: AnyStateMachine, results: readonly ExecutionResult[]): Coverage {
  const visited = new Set<string>();
  const taken = new Set<string>();
  for (const r of results) {
    for (const s of r.statesVisited) visited.add(s);
    for (const t of r.transitionsTaken) taken.add(t);
  }
  const allStates = stateNodes(machine).map((n) => n.id);
  const allTransitions = transitions(machine).map((t) => t.key);
  const missingStates = allStates.filter((s) => !visited.has(s));
  const missingTransitions = allTransitions.filter((t) => !taken.has(t));
  return {
    machine: machine.id,
    states: {
      covered: allStates.length - missingStates.length,
      total: allStates.length,
      missing: missingStates,
    },
    transitions: {
      covered: allTransitions.length - missingTransitions.length,
      total: allTransitions.length,
      missing: missingTransitions,
    },
  };
}

const pct = (c: number, t: number): string => `${t === 0 ? 100 : Math.floor((1000 * c) / t) / 10}%`;

/** A plain-text table, one row per machine. */
export function coverageTable(rows: readonly Coverage[]): string {
  const lines = ['machine                states            transitions'];
  for (const r of rows) {
    const states = `${r.states.covered}/${r.states.total} ${pct(r.states.covered, r.states.total)}`;
    const trans = `${r.transitions.covered}/${r.transitions.total} ${pct(r.transitions.covered, r.transitions.total)}`;
    lines.push(`${r.machine.padEnd(22)} ${states.padEnd(17)} ${trans}`);
  }
  return lines.join('\n');
}
