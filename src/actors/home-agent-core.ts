/**
 * The home agent without ports: the homeAgent supervisor (src/machines/home-agent.ts) and the
 * binding cache that hosts its entries (binding-cache.ts), wired to each other. The supervisor's
 * `deliverToEntry` goes to the cache; the entries' reports that change the pool come back to the
 * supervisor as `BCE.*` events (the others are translated by `entryReport`), a failed entry as
 * `xstate.error.actor.bce/<HoA>`, the event a spawned child would have produced. The daemon's runtime and the tests build the home agent from here.
 */

import { type Actor, createActor, type InspectionEvent } from 'xstate';
import { bindingCacheEntryMachine } from '../machines/binding-cache-entry.js';
import {
  bceId,
  changesSupervisor,
  type DeliverToEntryParams,
  entryReport,
  type HaSendBindingAckParams,
  type HomeAgentEvent,
  type HomeAgentInput,
  type HomeAgentReport,
  homeAgentMachine,
} from '../machines/home-agent.js';
import type { Clock } from '../net/ports.js';
import { BindingCache, type EntryMachine } from './binding-cache.js';

export interface HomeAgentCoreOptions {
  readonly input: HomeAgentInput;
  readonly clock: Clock;
  /** Every BA: the registrar's rejections and the entries' answers. */
  readonly sendBindingAck: (params: HaSendBindingAckParams) => void;
  readonly report: (report: HomeAgentReport) => void;
  /** xstate's inspection observer: the supervisor and every entry (as `ha/bce/<HoA>`). */
  readonly inspect?: (event: InspectionEvent) => void;
  /** The entry statechart; tests swap in one with a planted bug. */
  readonly entryMachine?: EntryMachine;
}

export interface HomeAgentCore {
  /** Not started: subscribe, then `actor.start()`. Send BUs through `send`, not to the actor. */
  readonly actor: Actor<typeof homeAgentMachine>;
  readonly cache: BindingCache;
  /** A BU (or any supervisor event), then the deliveries it caused, in order. */
  send(event: HomeAgentEvent): void;
  /** Stops the supervisor and drops every entry and timer (no reports: the HA is going away). */
  stop(): void;
}

export function createHomeAgentCore(o: HomeAgentCoreOptions): HomeAgentCore {
  let actor: Actor<typeof homeAgentMachine> | undefined;
  // Deliveries wait until the supervisor's step is over: an entry's step is a machine transition of
  // its own, which must not run inside the supervisor's action (xstate forbids assign there).
  const deliveries: DeliverToEntryParams[] = [];
  const cache = new BindingCache({
    machine: o.entryMachine ?? bindingCacheEntryMachine,
    clock: o.clock,
    sendBindingAck: (homeAddress, careOf, params) => o.sendBindingAck({ ...params, homeAddress, careOf }),
    // Pool changes go through the supervisor; the rest is a translation, applied here.
    report: (r) => (changesSupervisor(r) ? actor?.send(r) : o.report(entryReport(r))),
    failed: (homeAddress, error) => {
      const actorId = bceId(homeAddress);
      actor?.send({ type: `xstate.error.actor.${actorId}`, actorId, error });
    },
    ...(o.inspect ? { inspect: { observer: o.inspect, parent: () => actor } } : {}),
  });
  actor = createActor(
    homeAgentMachine.provide({
      actions: {
        sendBindingAck: (_, p) => o.sendBindingAck(p),
        report: (_, r) => o.report(r),
        deliverToEntry: (_, p) => void deliveries.push(p),
      },
    }),
    { input: o.input, clock: o.clock, ...(o.inspect ? { inspect: o.inspect } : {}) },
  );
  const started = actor;
  return {
    actor: started,
    cache,
    send(event) {
      started.send(event);
      for (let p = deliveries.shift(); p; p = deliveries.shift()) cache.deliver(p.input, p.bu);
    },
    stop() {
      started.stop();
      cache.clear();
    },
  };
}
