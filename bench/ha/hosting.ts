/**
 * How to host binding cache entries, measured: the same bindingCacheEntry statechart, each entry
 * registered (one lifetime timer armed), hosted three ways:
 * - children: spawned children of one parent actor (the first design; xstate-notes.md §8);
 * - roots: one independent root actor per entry, in a Map;
 * - snapshots: src/actors/binding-cache.ts (snapshots, the machine's transition, one timer queue).
 * For each: heap per entry, and the time to add one entry and to remove one with N present.
 * Run with --expose-gc:
 *
 *   node --expose-gc dist/bench/bench/ha/hosting.js [--sizes 1000,10000,100000]
 */

import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type AnyActorRef, createActor, setup, spawnChild, stopChild } from 'xstate';
import { BindingCache } from '../../src/actors/binding-cache.js';
import {
  type BindingCacheEntryInput,
  type BindingUpdateReceived,
  bindingCacheEntryMachine,
  MAX_DELETE_BCE_TIMEOUT_MS,
} from '../../src/machines/binding-cache-entry.js';
import { derivedHomeAddress } from '../../src/security/derived.js';
import { TestClock } from '../../src/testgen/clock.js';

export interface HostingResult {
  readonly layout: 'children' | 'roots' | 'snapshots';
  readonly entries: number;
  readonly heapBytesPerEntry: number;
  readonly addMicros: number;
  readonly removeMicros: number;
}

/** A host: add an entry (created and registered by its first BU), remove one. */
interface Host {
  add(homeAddress: string): void;
  remove(homeAddress: string): void;
}

const input = (homeAddress: string): BindingCacheEntryInput => ({
  homeAddress,
  maxLifetimeSeconds: 3600,
  natKeepaliveSeconds: 110,
  allowForceUdp: true,
});
const bu: BindingUpdateReceived = {
  type: 'BU',
  sequence: 1,
  homeRegistration: true,
  forceUdp: false,
  lifetimeSeconds: 3600,
  careOf: { family: 4, address: '198.51.100.7' },
  udp: { sourceAddress: '203.0.113.9', sourcePort: 40_000 },
  ipv4CareOfAddress: '10.0.0.7',
};

const quiet = bindingCacheEntryMachine.provide({ actions: { sendBindingAck: () => {}, report: () => {} } });

function childrenHost(clock: TestClock): Host {
  const parent = createActor(
    setup({
      types: { events: {} as { type: 'ADD'; id: string } | { type: 'REMOVE'; id: string } },
      actors: { entry: quiet },
    }).createMachine({
      on: {
        ADD: {
          actions: spawnChild('entry', {
            id: ({ event }) => event.id,
            input: ({ event }) => input(event.id),
          }),
        },
        REMOVE: { actions: stopChild(({ event }) => event.id) },
      },
    }),
    { clock },
  ).start();
  return {
    add(h) {
      parent.send({ type: 'ADD', id: h });
      (parent.getSnapshot().children as Record<string, AnyActorRef>)[h]?.send(bu);
    },
    remove: (h) => parent.send({ type: 'REMOVE', id: h }),
  };
}

function rootsHost(clock: TestClock): Host {
  const roots = new Map<string, AnyActorRef>();
  return {
    add(h) {
      const a = createActor(quiet, { input: input(h), clock }).start();
      a.send(bu);
      roots.set(h, a);
    },
    remove(h) {
      roots.get(h)?.stop();
      roots.delete(h);
    },
  };
}

function snapshotsHost(clock: TestClock): Host {
  const cache = new BindingCache({
    machine: bindingCacheEntryMachine,
    clock,
    sendBindingAck: () => {},
    report: () => {},
    failed: () => {},
  });
  return {
    add: (h) => cache.deliver(input(h), bu),
    // A deregistration, then the deletion MAX_DELETE_BCE_TIMEOUT later (RFC 6275 §10.3.2).
    remove(h) {
      cache.deliver(input(h), { ...bu, sequence: 2, lifetimeSeconds: 0 });
      clock.advance(MAX_DELETE_BCE_TIMEOUT_MS);
    },
  };
}

const gc = (): void => {
  const f = (globalThis as { gc?: () => void }).gc;
  if (!f) throw new Error('run with node --expose-gc');
  f();
  f();
};

export function measureHosting(
  layout: HostingResult['layout'],
  entries: number,
  sample = 500,
): HostingResult {
  const clock = new TestClock();
  const hoas = Array.from({ length: entries + 2 * sample }, (_, i) =>
    derivedHomeAddress('2001:db8:1::1:0', i),
  );
  gc();
  const before = process.memoryUsage().heapUsed;
  const host =
    layout === 'children'
      ? childrenHost(clock)
      : layout === 'roots'
        ? rootsHost(clock)
        : snapshotsHost(clock);
  for (let i = 0; i < entries; i++) host.add(hoas[i]!);
  gc();
  const heap = process.memoryUsage().heapUsed - before;
  // A first batch warms the JIT up; the second is timed.
  const warm = hoas.slice(entries, entries + sample);
  for (const h of warm) host.add(h);
  for (const h of warm) host.remove(h);
  const extra = hoas.slice(entries + sample);
  let t = performance.now();
  for (const h of extra) host.add(h);
  const add = ((performance.now() - t) * 1000) / sample;
  t = performance.now();
  for (const h of extra) host.remove(h);
  const remove = ((performance.now() - t) * 1000) / sample;
  return {
    layout,
    entries,
    heapBytesPerEntry: Math.round(heap / entries),
    addMicros: Math.round(add * 10) / 10,
    removeMicros: Math.round(remove * 10) / 10,
  };
}

const LAYOUTS = ['snapshots', 'roots', 'children'] as const;

if (process.argv[1]?.endsWith('hosting.js')) {
  const { values } = parseArgs({
    options: { sizes: { type: 'string', default: '1000,10000,100000' }, one: { type: 'string' } },
  });
  if (values.one) {
    // One measurement in this fresh process, so no layout's garbage counts against another.
    const [layout, n] = values.one.split(':') as [HostingResult['layout'], string];
    process.stdout.write(`${JSON.stringify(measureHosting(layout, Number(n)))}\n`);
  } else {
    for (const layout of LAYOUTS) {
      for (const n of values.sizes.split(',').map(Number)) {
        // One parent with 100k children takes many minutes to fill (every spawn copies the children).
        if (layout === 'children' && n > 10_000) continue;
        const argv = ['--expose-gc', process.argv[1], '--one', `${layout}:${n}`];
        process.stdout.write(execFileSync(process.execPath, argv, { encoding: 'utf8' }));
      }
    }
  }
}
