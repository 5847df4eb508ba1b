/**
 * What test generation needs to know about a machine, beyond the machine itself: which events
 * (with payloads) to try in each state, and which snapshots count as the same test state.
 * Timer events (`xstate.after.*`) are added by the generator from the machine's own `after`
 * transitions, so a model lists only the events the outside world sends.
 */

import type { AnyStateMachine, EventFromLogic, InputFrom, SnapshotFrom } from 'xstate';

export interface MachineModel<TMachine extends AnyStateMachine = AnyStateMachine> {
  /** Name used by `dsmip6 testgen --machine` and for statecharts/<name>.json. */
  readonly name: string;
  readonly machine: TMachine;
  /** Input for the initial snapshot (and for the actor that executes the paths). */
  readonly input: InputFrom<TMachine>;
  /**
   * Further inputs to explore from, when some behaviour depends on configuration that one input
   * cannot show (HA discovery from a configured list, from a name, from a domain).
   */
  readonly moreInputs?: readonly InputFrom<TMachine>[];
  /**
   * Events with concrete payloads to try from `snapshot`: one variant per behaviour the guards
   * tell apart (a BA with status 0, one with 135, one with 129, ...). Payloads may echo the
   * snapshot (the sequence number of the BU in flight): when a path is executed, the list is
   * computed again from the real actor's snapshot and the variant at the same position is sent,
   * so keep the list's order stable for a given state.
   */
  readonly events: (snapshot: SnapshotFrom<TMachine>) => EventFromLogic<TMachine>[];
  /**
   * Test-state identity: the state value plus the context that guards read, abstracted so the
   * graph stays finite (e.g. retransmission count capped, sequence numbers left out).
   */
  readonly serialize: (snapshot: SnapshotFrom<TMachine>) => string;
}
