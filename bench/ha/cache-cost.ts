/**
 * The cost of one more binding and of one fewer, in process and without crypto or sockets: the
 * home agent's supervisor and binding cache (src/actors/home-agent-core.ts) already holding
 * `bindings` entries, fed checked BUs directly. This isolates what the cache design decides (is
 * adding or removing an entry O(1) in the table size?) from the per-packet costs every BU pays.
 */

import { performance } from 'node:perf_hooks';
import { createHomeAgentCore } from '../../src/actors/home-agent-core.js';
import { MAX_DELETE_BCE_TIMEOUT_MS } from '../../src/machines/binding-cache-entry.js';
import type { BuReceived } from '../../src/machines/home-agent.js';
import { derivedHomeAddress } from '../../src/security/derived.js';
import { TestClock } from '../../src/testgen/clock.js';

export interface CacheCost {
  readonly bindings: number;
  /** Median over rounds of the mean µs per operation. */
  readonly addMicros: number;
  readonly refreshMicros: number;
  /** Deregistration BU plus the entry's deletion MAX_DELETE_BCE_TIMEOUT later. */
  readonly removeMicros: number;
}

const FIRST = '2001:db8:1::1:0';

const bu = (homeAddress: string, sequence: number, lifetimeSeconds: number): BuReceived => ({
  type: 'BU.RECEIVED',
  homeAddress,
  saHomeAddress: homeAddress,
  sequence,
  homeRegistration: true,
  forceUdp: false,
  lifetimeSeconds,
  careOf: { family: 4, address: '198.51.100.7' },
  udp: { sourceAddress: '203.0.113.9', sourcePort: 40_000 },
  ipv4CareOfAddress: '10.0.0.7',
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function cacheCost(bindings: number, sample = 1000, rounds = 5): CacheCost {
  const clock = new TestClock();
  let acks = 0;
  const core = createHomeAgentCore({
    input: { homePrefix: '2001:db8:1::/64', maxLifetimeSeconds: 3600 },
    clock,
    sendBindingAck: () => {
      acks++;
    },
    report: () => {},
  });
  core.actor.start();
  const hoas: string[] = [];
  for (let i = 0; i < bindings + sample; i++) hoas.push(derivedHomeAddress(FIRST, i));
  for (let i = 0; i < bindings; i++) core.send(bu(hoas[i]!, 1, 3600));
  const extra = hoas.slice(bindings);
  const add: number[] = [];
  const refresh: number[] = [];
  const remove: number[] = [];
  let sequence = 1;
  for (let r = 0; r < rounds + 1; r++) {
    sequence++;
    let t = performance.now();
    for (const h of extra) core.send(bu(h, sequence, 3600));
    const addMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < sample; i++) core.send(bu(hoas[(r * sample + i) % bindings]!, sequence, 3600));
    const refreshMs = performance.now() - t;
    sequence++;
    t = performance.now();
    for (const h of extra) core.send(bu(h, sequence, 0));
    clock.advance(MAX_DELETE_BCE_TIMEOUT_MS);
    const removeMs = performance.now() - t;
    if (core.cache.size !== bindings) {
      throw new Error(`cache cost: ${core.cache.size} entries after removing, expected ${bindings}`);
    }
    // The first round warms the JIT up and is not counted.
    if (r === 0) continue;
    add.push((addMs * 1000) / sample);
    refresh.push((refreshMs * 1000) / sample);
    remove.push((removeMs * 1000) / sample);
  }
  core.stop();
  if (acks === 0) throw new Error('cache cost: no BA was sent');
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    bindings,
    addMicros: round(median(add)),
    refreshMicros: round(median(refresh)),
    removeMicros: round(median(remove)),
  };
}
