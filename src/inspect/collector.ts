/**
 * Inspection collector: turns XState's raw `inspect` observer events into compact records that
 * msgpackr can encode (no circular `machine` field, no actor refs, no functions, bytes as hex) and
 * keeps what a client joining late needs first: the live actor tree and each actor's latest
 * snapshot. Pass `collector.observer` as `createActor(machine, { inspect: collector.observer })`
 * (or to `actor.system.inspect(...)`); the daemons add decoded signalling packets with
 * `collector.packet(...)` or `collector.packetBytes(...)`.
 *
 * Nothing here may throw into the actor system: a failure in a record or in a listener is
 * swallowed, because a broken inspector must never break the daemon.
 */

import type { InspectionEvent } from 'xstate';
import { dissect, summarize } from '../wire/dissect.js';

/** Version of the record stream (the `hello` record carries it). */
export const INSPECT_PROTOCOL_VERSION = 1;

/** Largest string in an event payload summary. */
export const PAYLOAD_VALUE_MAX = 200;

/** A JSON value; what every `context`, `value` and `layers` field is made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An actor was created. `id` is its sessionId, the key every other record uses. */
export interface ActorRecord {
  kind: 'actor';
  t: number;
  id: string;
  /** The id the parent knows it by (invoke/spawn id); the sessionId for a root. */
  ref: string;
  systemId?: string;
  /** The parent's sessionId; absent for a root actor. */
  parent?: string;
  rootId: string;
  /** The machine's root state node id; the actor's `ref` for non-machine logic (promise, callback). */
  machineId: string;
  /** The logic's name in `setup({ actors })` when it was invoked or spawned by name. */
  definitionName?: string;
}

export interface SnapshotRecord {
  kind: 'snapshot';
  t: number;
  id: string;
  /** State value (machines only). */
  value?: JsonValue;
  context?: JsonValue;
  status: string;
  /** The type of the event that led to this snapshot. */
  eventType?: string;
  /** Output of a done actor, error of a failed one (made JSON-safe). */
  output?: JsonValue;
  error?: string;
}

export interface EventRecord {
  kind: 'event';
  t: number;
  /** sessionId of the receiving actor. */
  target: string;
  /** sessionId of the sending actor; absent for events sent from outside the system. */
  source?: string;
  type: string;
  /** First-level keys other than `type`; strings cut at PAYLOAD_VALUE_MAX characters. */
  payload: Record<string, string | number | boolean | null>;
}

export interface TransitionRecord {
  kind: 'transition';
  t: number;
  id: string;
  /** State node id the transition belongs to. */
  source: string;
  /** Target state node ids (empty for a targetless transition). */
  targets: string[];
  eventType: string;
}

export interface ActionRecord {
  kind: 'action';
  t: number;
  id: string;
  type: string;
  params: Record<string, string | number | boolean | null>;
}

export interface StoppedRecord {
  kind: 'stopped';
  t: number;
  id: string;
}

export interface PacketRecord {
  kind: 'packet';
  t: number;
  direction: 'in' | 'out';
  summary: string;
  layers?: JsonValue;
}

/** First record of every connection, and again after a resync: "the tree follows, start over". */
export interface HelloRecord {
  kind: 'hello';
  version: number;
  now: number;
}

/** Records this client lost because it read too slowly (dropped or coalesced away). */
export interface DroppedRecord {
  kind: 'dropped';
  count: number;
}

export type CollectorRecord =
  | ActorRecord
  | SnapshotRecord
  | EventRecord
  | TransitionRecord
  | ActionRecord
  | StoppedRecord
  | PacketRecord;

export type InspectRecord = CollectorRecord | HelloRecord | DroppedRecord;

export interface PacketInput {
  direction: 'in' | 'out';
  summary: string;
  layers?: unknown;
}

export interface CollectorOptions {
  /** How many recent records `history()` keeps (default 1000). */
  historySize?: number;
  /** Record timestamps (default Date.now). */
  now?: () => number;
  /** Include `@xstate.action` records (default true). */
  actions?: boolean;
}

export type RecordListener = (record: CollectorRecord) => void;

export interface InspectCollector {
  /** The XState inspection observer: `createActor(m, { inspect: collector.observer })`. */
  readonly observer: (event: InspectionEvent) => void;
  /** Add a decoded signalling packet to the stream. */
  packet(p: PacketInput): void;
  /** Dissect raw packet bytes (src/wire/dissect.ts) and add them to the stream. */
  packetBytes(direction: 'in' | 'out', bytes: Uint8Array, udpPort?: number): void;
  /** Live records, in order. Returns the unsubscribe function. */
  subscribe(listener: RecordListener): () => void;
  /** Current actor tree (parents before children) followed by each live actor's latest snapshot. */
  state(): CollectorRecord[];
  /** The live actors (parents before children). */
  actors(): ActorRecord[];
  /** The latest snapshot of a live actor. */
  snapshot(id: string): SnapshotRecord | undefined;
  /** The most recent records, oldest first (bounded by `historySize`). */
  history(): CollectorRecord[];
}

/** The fields of an Actor the collector reads; typed loosely on purpose (some are internal). */
interface InspectableRef {
  id?: unknown;
  sessionId: string;
  systemId?: unknown;
  _parent?: { sessionId?: unknown };
  src?: unknown;
  logic?: unknown;
  getSnapshot(): unknown;
}

interface TransitionLike {
  source?: { id?: unknown };
  target?: ReadonlyArray<{ id?: unknown }>;
  eventType?: unknown;
}

const MAX_DEPTH = 8;
const MAX_ARRAY = 256;
const MAX_STRING = 4096;

function isRecordObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** An actor ref (or anything that looks like one) is never serialised. */
function isActorRef(v: Record<string, unknown>): boolean {
  return typeof v.send === 'function' && typeof v.sessionId === 'string';
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * A JSON-safe copy: Uint8Array → hex, bigint → number or decimal string, Map → object,
 * Set → array, Date → ISO string, Error → message; functions, symbols and actor refs are dropped
 * (`undefined`), cycles and deep nesting are cut.
 */
export function toSafe(v: unknown, depth = 0, seen: Set<object> = new Set()): JsonValue | undefined {
  switch (typeof v) {
    case 'string':
      return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…` : v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'boolean':
      return v;
    case 'bigint':
      return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return null;
  if (!isRecordObject(v)) return undefined;
  if (v instanceof Uint8Array) return toHex(v);
  if (ArrayBuffer.isView(v)) return `[${v.constructor.name}]`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (isActorRef(v)) return undefined;
  if (seen.has(v)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[…]';
  seen.add(v);
  try {
    if (Array.isArray(v) || v instanceof Set) {
      const out: JsonValue[] = [];
      for (const item of v) {
        if (out.length >= MAX_ARRAY) {
          out.push('[…]');
          break;
        }
        out.push(toSafe(item, depth + 1, seen) ?? null);
      }
      return out;
    }
    const out: { [key: string]: JsonValue } = {};
    const entries: Iterable<[unknown, unknown]> = v instanceof Map ? v.entries() : Object.entries(v);
    for (const [k, item] of entries) {
      const safe = toSafe(item, depth + 1, seen);
      if (safe !== undefined) out[String(k)] = safe;
    }
    return out;
  } finally {
    seen.delete(v);
  }
}

/**
 * First-level keys (except `type` for events): primitives as they are, the rest as JSON text;
 * strings are cut at PAYLOAD_VALUE_MAX characters.
 */
export function summarizePayload(
  obj: unknown,
  skipType = true,
): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  if (!isRecordObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (skipType && k === 'type') continue;
    let s: string | number | boolean | null;
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) s = v;
    else if (typeof v === 'string') s = v;
    else {
      const safe = toSafe(v);
      if (safe === undefined) continue;
      s = typeof safe === 'string' ? safe : JSON.stringify(safe);
    }
    if (typeof s === 'string' && s.length > PAYLOAD_VALUE_MAX) s = `${s.slice(0, PAYLOAD_VALUE_MAX - 1)}…`;
    out[k] = s;
  }
  return out;
}

function isActive(snapshot: unknown): boolean {
  return isRecordObject(snapshot) && snapshot.status === 'active';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function createInspectCollector(options: CollectorOptions = {}): InspectCollector {
  const historySize = Math.max(0, options.historySize ?? 1000);
  const now = options.now ?? Date.now;
  const withActions = options.actions ?? true;

  const actors = new Map<string, ActorRecord>();
  const snapshots = new Map<string, SnapshotRecord>();
  /** Actors seen (`@xstate.actor`) whose record waits for their systemId to be set. */
  const pending = new Map<string, InspectableRef>();
  /** rootId of each pending actor (the `@xstate.actor` event carries it, the ref does not). */
  const rootIds = new Map<string, string>();
  const listeners = new Set<RecordListener>();
  const history: CollectorRecord[] = [];
  let historyStart = 0;

  const publish = (r: CollectorRecord): void => {
    if (historySize > 0) {
      if (history.length < historySize) history.push(r);
      else {
        history[historyStart] = r;
        historyStart = (historyStart + 1) % historySize;
      }
    }
    for (const l of listeners) {
      try {
        l(r);
      } catch {
        // A listener's failure is its own problem.
      }
    }
  };

  const actorRecord = (ref: InspectableRef, rootId: string): ActorRecord => {
    const refId = str(ref.id) ?? ref.sessionId;
    const logic = ref.logic;
    const machineId = isRecordObject(logic) && typeof logic.id === 'string' ? logic.id : refId;
    const rec: ActorRecord = { kind: 'actor', t: now(), id: ref.sessionId, ref: refId, rootId, machineId };
    const systemId = str(ref.systemId);
    if (systemId !== undefined) rec.systemId = systemId;
    const parent = str(ref._parent?.sessionId);
    if (parent !== undefined) rec.parent = parent;
    const src = str(ref.src);
    if (src !== undefined) rec.definitionName = src;
    return rec;
  };

  /**
   * `@xstate.actor` fires inside the Actor constructor before systemId is set; it is set
   * synchronously right after, so any later inspection event (at the latest the actor's first
   * snapshot) can read it.
   */
  const flushPending = (): void => {
    if (pending.size === 0) return;
    for (const [id, ref] of pending) {
      pending.delete(id);
      const rec = actorRecord(ref, rootIds.get(id) ?? id);
      rootIds.delete(id);
      actors.set(id, rec);
      publish(rec);
    }
  };

  /** Re-publish the actor record when its systemId shows up late (or changes). */
  const checkSystemId = (ref: InspectableRef): void => {
    const rec = actors.get(ref.sessionId);
    const systemId = str(ref.systemId);
    if (rec && systemId !== undefined && rec.systemId !== systemId) {
      const updated: ActorRecord = { ...rec, t: now(), systemId };
      actors.set(rec.id, updated);
      publish(updated);
    }
  };

  const stop = (id: string): void => {
    pending.delete(id);
    rootIds.delete(id);
    if (!actors.has(id)) return;
    // Children first, so the tree never holds an orphan.
    for (const child of [...actors.values()]) if (child.parent === id) stop(child.id);
    actors.delete(id);
    snapshots.delete(id);
    publish({ kind: 'stopped', t: now(), id });
  };

  const onSnapshot = (ref: InspectableRef, event: unknown, snapshot: unknown): void => {
    checkSystemId(ref);
    if (!actors.has(ref.sessionId)) return;
    const snap = isRecordObject(snapshot) ? snapshot : {};
    const status = str(snap.status) ?? 'active';
    const rec: SnapshotRecord = { kind: 'snapshot', t: now(), id: ref.sessionId, status };
    if ('value' in snap) {
      const value = toSafe(snap.value);
      if (value !== undefined) rec.value = value;
    }
    if ('context' in snap) {
      const context = toSafe(snap.context);
      if (context !== undefined) rec.context = context;
    }
    const eventType = isRecordObject(event) ? str(event.type) : undefined;
    if (eventType !== undefined) rec.eventType = eventType;
    if (status === 'done' && snap.output !== undefined) {
      const output = toSafe(snap.output);
      if (output !== undefined) rec.output = output;
    }
    if (status === 'error') rec.error = String(toSafe(snap.error) ?? 'error');
    snapshots.set(ref.sessionId, rec);
    publish(rec);
    if (status !== 'active') stop(ref.sessionId);
  };

  const handle = (ev: InspectionEvent): void => {
    const ref = ev.actorRef as unknown as InspectableRef;
    if (ev.type === '@xstate.actor') {
      flushPending();
      pending.set(ref.sessionId, ref);
      rootIds.set(ref.sessionId, ev.rootId);
      return;
    }
    flushPending();
    // Inspection attached after the actor started (`actor.system.inspect(...)`): register it now.
    if (!actors.has(ref.sessionId) && isActive(ref.getSnapshot())) {
      const rec = actorRecord(ref, ev.rootId);
      actors.set(rec.id, rec);
      publish(rec);
    }
    switch (ev.type) {
      case '@xstate.snapshot':
        onSnapshot(ref, ev.event, ev.snapshot);
        return;
      case '@xstate.event': {
        const rec: EventRecord = {
          kind: 'event',
          t: now(),
          target: ref.sessionId,
          type: str(ev.event.type) ?? '?',
          payload: summarizePayload(ev.event),
        };
        const source = ev.sourceRef as InspectableRef | undefined;
        if (source) rec.source = source.sessionId;
        publish(rec);
        // A child that failed while processing an event reports no snapshot, only this event
        // to its parent: if the source is no longer active it is gone.
        if (source && /^xstate\.(error|done)\.actor\./.test(rec.type)) {
          const s = source.getSnapshot();
          if (isRecordObject(s) && s.status !== 'active') stop(source.sessionId);
        }
        return;
      }
      case '@xstate.microstep': {
        const eventType = str(ev.event.type) ?? '?';
        for (const tr of ev._transitions as ReadonlyArray<TransitionLike>) {
          publish({
            kind: 'transition',
            t: now(),
            id: ref.sessionId,
            source: str(tr.source?.id) ?? '?',
            targets: (tr.target ?? []).map((s) => str(s.id) ?? '?'),
            eventType: str(tr.eventType) ?? eventType,
          });
        }
        return;
      }
      case '@xstate.action': {
        if (!withActions) return;
        const params = ev.action.params;
        publish({
          kind: 'action',
          t: now(),
          id: ref.sessionId,
          type: ev.action.type,
          params: isRecordObject(params) ? summarizePayload(params, false) : {},
        });
        return;
      }
      default:
        return;
    }
  };

  return {
    observer: (ev: InspectionEvent): void => {
      try {
        handle(ev);
      } catch {
        // Never throw into the actor system.
      }
    },
    packet(p: PacketInput): void {
      flushPending();
      const rec: PacketRecord = { kind: 'packet', t: now(), direction: p.direction, summary: p.summary };
      if (p.layers !== undefined) {
        const layers = toSafe(p.layers);
        if (layers !== undefined) rec.layers = layers;
      }
      publish(rec);
    },
    packetBytes(direction: 'in' | 'out', bytes: Uint8Array, udpPort?: number): void {
      try {
        const d = udpPort === undefined ? dissect(bytes) : dissect(bytes, udpPort);
        this.packet({ direction, summary: summarize(d), layers: d.layers });
      } catch {
        // dissect never throws, but the daemon must not pay if it ever does.
      }
    },
    subscribe(listener: RecordListener): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    state(): CollectorRecord[] {
      flushPending();
      const out: CollectorRecord[] = [...actors.values()];
      for (const id of actors.keys()) {
        const snap = snapshots.get(id);
        if (snap) out.push(snap);
      }
      return out;
    },
    actors(): ActorRecord[] {
      flushPending();
      return [...actors.values()];
    },
    snapshot(id: string): SnapshotRecord | undefined {
      return snapshots.get(id);
    },
    history(): CollectorRecord[] {
      return [...history.slice(historyStart), ...history.slice(0, historyStart)];
    },
  };
}
