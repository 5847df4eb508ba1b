import { describe, expect, it } from 'vitest';
import { assign, createActor, createMachine, SimulatedClock, setup } from 'xstate';
import {
  type ActorRecord,
  type CollectorRecord,
  createInspectCollector,
  type EventRecord,
  type SnapshotRecord,
  summarizePayload,
  type TransitionRecord,
} from '../../src/inspect/collector.js';
import { decodeRecord, encodeRecord } from '../../src/inspect/server.js';
import { dissect, summarize } from '../../src/wire/dissect.js';
import { natBa, supervisorMachine } from './helpers.js';

function run() {
  const collector = createInspectCollector();
  const records: CollectorRecord[] = [];
  collector.subscribe((r) => records.push(r));
  const reports: { type: string }[] = [];
  const clock = new SimulatedClock();
  const actor = createActor(
    supervisorMachine((r) => reports.push(r)),
    {
      clock,
      inspect: collector.observer,
    },
  );
  actor.start();
  return { collector, records, reports, clock, actor };
}

const ofKind = <K extends CollectorRecord['kind']>(records: CollectorRecord[], kind: K) =>
  records.filter((r): r is Extract<CollectorRecord, { kind: K }> => r.kind === kind);

describe('inspect collector', () => {
  it('turns a supervisor and its natKeepalive child into actor/snapshot/event/transition/action records', () => {
    const { collector, records, reports, clock, actor } = run();
    actor.send(natBa(30));
    clock.increment(30_000);
    expect(reports).toEqual([{ type: 'KEEPALIVE.DUE' }]);

    const actors = ofKind(records, 'actor');
    expect(actors).toHaveLength(2);
    const [root, child] = actors as [ActorRecord, ActorRecord];
    expect(root).toMatchObject({ id: actor.sessionId, machineId: 'sup', rootId: actor.sessionId });
    expect(root.parent).toBeUndefined();
    // systemId resolved although @xstate.actor fires before it is set.
    expect(child).toMatchObject({
      parent: actor.sessionId,
      systemId: 'nat-keepalive',
      machineId: 'natKeepalive',
      definitionName: 'natKeepalive',
      ref: 'ka',
      rootId: actor.sessionId,
    });
    expect(child.id).toBe(actor.system.get('nat-keepalive')?.sessionId);
    // Every record about an actor comes after its actor record.
    const firstChildUse = records.findIndex(
      (r) =>
        ('id' in r && r.id === child.id && r.kind !== 'actor') ||
        (r.kind === 'event' && r.target === child.id),
    );
    expect(firstChildUse).toBeGreaterThan(records.indexOf(child));

    const ba = ofKind(records, 'event').find((e) => e.type === 'BA' && e.target === child.id) as EventRecord;
    expect(ba.source).toBe(actor.sessionId);
    expect(JSON.parse(ba.payload.natDetection as string)).toEqual({ forceUdp: false, refreshSeconds: 30 });
    const external = ofKind(records, 'event').find((e) => e.type === 'BA' && e.target === actor.sessionId);
    expect(external?.source).toBeUndefined();

    const transitions = ofKind(records, 'transition').filter((t) => t.id === child.id);
    expect(transitions).toContainEqual(
      expect.objectContaining<Partial<TransitionRecord>>({
        source: 'natKeepalive.inactive',
        targets: ['natKeepalive.active.keeping'],
        eventType: 'BA',
      }),
    );
    expect(transitions).toContainEqual(
      expect.objectContaining<Partial<TransitionRecord>>({
        source: 'natKeepalive.active.keeping',
        targets: ['natKeepalive.active.keeping'],
      }),
    );
    expect(ofKind(records, 'action')).toContainEqual(
      expect.objectContaining({ id: child.id, type: 'report', params: { type: 'KEEPALIVE.DUE' } }),
    );

    const snap = collector.snapshot(child.id) as SnapshotRecord;
    expect(snap).toMatchObject({
      value: { active: 'keeping' },
      context: { refreshSeconds: 30, forceUdp: false, defaultRefreshSeconds: 110 },
      status: 'active',
    });
    // Root snapshot: the actor ref in `children` must not leak into the record.
    expect(collector.snapshot(actor.sessionId)?.value).toBe('running');

    // Every record survives msgpack.
    for (const r of records) expect(decodeRecord(encodeRecord(r))).toEqual(r);
    // And the state a late client gets: tree first, then latest snapshots.
    expect(collector.state().map((r) => `${r.kind}:${'id' in r ? r.id : ''}`)).toEqual([
      `actor:${root.id}`,
      `actor:${child.id}`,
      `snapshot:${root.id}`,
      `snapshot:${child.id}`,
    ]);
    actor.stop();
  });

  it('removes stopped actors (children with their parent) and keeps history bounded', () => {
    const collector = createInspectCollector({ historySize: 10 });
    const records: CollectorRecord[] = [];
    collector.subscribe((r) => records.push(r));
    const actor = createActor(supervisorMachine(), { inspect: collector.observer }).start();
    const childId = actor.system.get('nat-keepalive')!.sessionId;
    expect(collector.actors().map((a) => a.id)).toEqual([actor.sessionId, childId]);

    actor.send({ type: 'STOP_KA' });
    expect(ofKind(records, 'stopped').map((r) => r.id)).toEqual([childId]);
    expect(collector.actors().map((a) => a.id)).toEqual([actor.sessionId]);
    expect(collector.snapshot(childId)).toBeUndefined();

    for (let i = 0; i < 50; i++) actor.send({ type: 'MOVED', attachment: 'home' });
    expect(collector.history()).toHaveLength(10);
    expect(collector.history().at(-1)).toBe(records.at(-1));

    actor.stop();
    expect(collector.actors()).toEqual([]);
    expect(collector.state()).toEqual([]);
  });

  it('makes context JSON-safe: bytes as hex, functions and actor refs dropped, cycles cut', () => {
    const child = createMachine({ id: 'child' });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const m = setup({ actors: { child } }).createMachine({
      id: 'ctx',
      context: ({ spawn }) => ({
        key: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
        fn: () => 1,
        ref: spawn('child'),
        big: 12n,
        when: new Date(0),
        set: new Set([1, 2]),
        map: new Map([['a', new Uint8Array([1])]]),
        cyclic,
      }),
      on: { TOUCH: { actions: assign({ fn: () => () => 2 }) } },
    });
    const collector = createInspectCollector();
    const actor = createActor(m, { inspect: collector.observer }).start();
    const snap = collector.snapshot(actor.sessionId)!;
    expect(snap.context).toEqual({
      key: 'deadbeef',
      big: 12,
      when: '1970-01-01T00:00:00.000Z',
      set: [1, 2],
      map: { a: '01' },
      cyclic: { name: 'loop', self: '[circular]' },
    });
    // The spawned child is in the tree, under its parent.
    expect(collector.actors()[1]).toMatchObject({ parent: actor.sessionId, machineId: 'child' });
    expect(decodeRecord(encodeRecord(snap))).toEqual(snap);
    actor.stop();
  });

  it('summarises event payloads: first level only, values cut at 200 characters', () => {
    const p = summarizePayload({
      type: 'X',
      s: 'a'.repeat(500),
      n: 1,
      nested: { deep: { deeper: 1 } },
      f: () => 0,
    });
    expect(p.type).toBeUndefined();
    expect((p.s as string).length).toBe(200);
    expect(p.n).toBe(1);
    expect(p.nested).toBe('{"deep":{"deeper":1}}');
    expect('f' in p).toBe(false);
  });

  it('registers actors it first sees after start (system.inspect attached late)', () => {
    const collector = createInspectCollector();
    const actor = createActor(supervisorMachine()).start();
    actor.system.inspect(collector.observer);
    actor.send(natBa(30));
    const ids = collector.actors().map((a) => a.id);
    expect(ids).toContain(actor.sessionId);
    expect(ids).toContain(actor.system.get('nat-keepalive')!.sessionId);
    actor.stop();
    expect(collector.actors()).toEqual([]);
  });

  it('adds packets, dissected from bytes or given as text', () => {
    const collector = createInspectCollector();
    const records: CollectorRecord[] = [];
    collector.subscribe((r) => records.push(r));
    const bytes = new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    collector.packetBytes('out', bytes);
    collector.packet({ direction: 'in', summary: 'BA seq=1', layers: [{ raw: new Uint8Array([1, 2]) }] });
    expect(records[0]).toMatchObject({
      kind: 'packet',
      direction: 'out',
      summary: summarize(dissect(bytes)),
    });
    expect(records[1]).toMatchObject({
      kind: 'packet',
      direction: 'in',
      summary: 'BA seq=1',
      layers: [{ raw: '0102' }],
    });
    for (const r of records) expect(decodeRecord(encodeRecord(r))).toEqual(r);
  });
});
