import type { Socket } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import {
  type CollectorRecord,
  createInspectCollector,
  type InspectRecord,
} from '../../src/inspect/collector.js';
import {
  type InspectServer,
  type InspectServerOptions,
  startInspectServer,
} from '../../src/inspect/server.js';
import { connect, natBa, type StreamClient, supervisorMachine, upgradeStatus } from './helpers.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function serve(options: Partial<InspectServerOptions> = {}) {
  const collector = options.collector ?? createInspectCollector();
  const server = await startInspectServer({ port: 0, env: {}, ...options, collector });
  open.push(server);
  return { collector, server };
}

async function client(server: InspectServer, headers?: Record<string, string>): Promise<StreamClient> {
  const c = await connect(server.url, headers);
  open.push(c);
  return c;
}

const tag = (r: InspectRecord): string => `${r.kind}:${'id' in r ? r.id : ''}`;

describe('inspect server', () => {
  it('streams hello, then actor/snapshot/event/transition records with systemId', async () => {
    const { collector, server } = await serve();
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/stream$/);
    const c = await client(server);
    await c.waitFor((r) => r.kind === 'hello');
    const actor = createActor(supervisorMachine(), { inspect: collector.observer }).start();
    open.push({ close: async () => void actor.stop() });
    actor.send(natBa(30));
    const childId = actor.system.get('nat-keepalive')!.sessionId;
    await c.waitFor(
      (r) => r.kind === 'snapshot' && r.id === childId && r.status === 'active' && r.value !== 'inactive',
    );
    expect(c.records[0]).toMatchObject({ kind: 'hello', version: 1 });
    expect(c.records).toContainEqual(
      expect.objectContaining({
        kind: 'actor',
        id: childId,
        systemId: 'nat-keepalive',
        parent: actor.sessionId,
      }),
    );
    expect(c.records).toContainEqual(expect.objectContaining({ kind: 'event', type: 'BA', target: childId }));
    expect(c.records).toContainEqual(
      expect.objectContaining({ kind: 'transition', id: childId, targets: ['natKeepalive.active.keeping'] }),
    );
    expect(
      c.records.find(
        (r) => r.kind === 'snapshot' && r.id === childId && r.status === 'active' && r.value !== 'inactive',
      ),
    ).toMatchObject({ value: { active: 'keeping' } });
  });

  it('gives a late client the tree and latest snapshots first, then live records; stopped actors vanish', async () => {
    const { collector, server } = await serve();
    const actor = createActor(supervisorMachine(), { inspect: collector.observer }).start();
    open.push({ close: async () => void actor.stop() });
    actor.send(natBa(30));
    const childId = actor.system.get('nat-keepalive')!.sessionId;

    const c = await client(server);
    await c.waitFor((r) => r.kind === 'snapshot' && r.id === childId);
    expect(c.records.map(tag)).toEqual([
      'hello:',
      `actor:${actor.sessionId}`,
      `actor:${childId}`,
      `snapshot:${actor.sessionId}`,
      `snapshot:${childId}`,
    ]);
    expect(c.records[4]).toMatchObject({ value: { active: 'keeping' }, context: { refreshSeconds: 30 } });

    actor.send({ type: 'STOP_KA' });
    await c.waitFor((r) => r.kind === 'stopped' && r.id === childId);
    expect(collector.actors().map((a) => a.id)).toEqual([actor.sessionId]);
    const late = await client(server);
    await late.waitFor((r) => r.kind === 'snapshot' && r.id === actor.sessionId);
    await tick();
    expect(late.records.map(tag)).toEqual([
      'hello:',
      `actor:${actor.sessionId}`,
      `snapshot:${actor.sessionId}`,
    ]);
  });

  it('sends the same stream to several clients and ignores what they send', async () => {
    const { collector, server } = await serve();
    const a = await client(server);
    const b = await client(server);
    a.ws.send('please do something');
    a.ws.send(Buffer.from([1, 2, 3]));
    expect(server.clients()).toBe(2);
    for (let i = 0; i < 200; i++) collector.packet({ direction: 'in', summary: `p${i}` });
    await a.waitFor((r) => r.kind === 'packet' && r.summary === 'p199');
    await b.waitFor((r) => r.kind === 'packet' && r.summary === 'p199');
    expect(a.records).toEqual(b.records.map((r, i) => (r.kind === 'hello' ? a.records[i] : r)));
    expect(a.records).toHaveLength(201);
    expect(a.ws.readyState).toBe(a.ws.OPEN);
  });

  it('does not let a client that stops reading slow the daemon: bounded queue, coalesced snapshots, dropped count', async () => {
    const queueLimit = 1000;
    const { collector, server } = await serve({ queueLimit });
    const published: CollectorRecord[] = [];
    collector.subscribe((r) => published.push(r));
    const actor = createActor(supervisorMachine(), { inspect: collector.observer }).start();
    open.push({ close: async () => void actor.stop() });
    const childId = actor.system.get('nat-keepalive')!.sessionId;

    const slow = await client(server);
    const fast = await client(server);
    await slow.waitFor((r) => r.kind === 'snapshot' && r.id === childId);
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const before = published.length;

    const filler = 'x'.repeat(400);
    const t0 = performance.now();
    let maxQueued = 0;
    let maxBuffered = 0;
    for (let i = 0; i < 100_000; i++) {
      if (i % 10 === 0) actor.send(natBa(1 + (i % 1000)));
      else collector.packet({ direction: 'out', summary: `${i} ${filler}` });
      if (i % 1000 === 999) {
        const s = server.stats();
        maxQueued = Math.max(maxQueued, ...s.map((x) => x.queued));
        maxBuffered = Math.max(maxBuffered, ...s.map((x) => x.bufferedAmount));
        await tick();
      }
    }
    const elapsed = performance.now() - t0;
    collector.packet({ direction: 'out', summary: 'last' });
    const total = published.length - before;
    expect(total).toBeGreaterThan(100_000);
    expect(elapsed).toBeLessThan(6000);
    // One snapshot per actor may exceed the bound; nothing else does.
    expect(maxQueued).toBeLessThanOrEqual(queueLimit + 2);
    expect(maxBuffered).toBeLessThan(2 * 1024 * 1024);
    const slowStats = server.stats().find((s) => s.lost > 0);
    expect(slowStats).toBeDefined();

    await fast.waitFor((r) => r.kind === 'packet' && r.summary === 'last', 8000);

    // Resume: the slow client gets what was queued (coalesced snapshots), then the dropped count.
    const seen = slow.records.length;
    socket.resume();
    await slow.waitFor((r) => r.kind === 'dropped', 8000);
    const after = slow.records.slice(seen);
    // Live again: the next record arrives.
    collector.packet({ direction: 'in', summary: 'resumed' });
    await slow.waitFor((r) => r.kind === 'packet' && r.summary === 'resumed');
    const dropped = after.filter((r) => r.kind === 'dropped').reduce((n, r) => n + r.count, 0);
    const delivered = after.filter((r) => r.kind !== 'dropped').length;
    // Nothing is silently lost: what arrived plus what was reported dropped is what was published.
    expect(delivered + dropped).toBe(total);
    expect(dropped).toBeGreaterThan(50_000);
    // The last snapshot the slow client got is the actor's latest.
    const lastChild = after.filter((r) => r.kind === 'snapshot' && r.id === childId).at(-1);
    expect(lastChild).toEqual(collector.snapshot(childId));
    // Snapshots were coalesced, not all delivered: far fewer child snapshots than were published.
    const childSnaps = (rs: InspectRecord[]) =>
      rs.filter((r) => r.kind === 'snapshot' && r.id === childId).length;
    expect(childSnaps(after)).toBeLessThan(childSnaps(published) / 2);
  });

  it('coalesces snapshots per actor and drops the rest once a client queue is full', async () => {
    const queueLimit = 10;
    const { collector, server } = await serve({ queueLimit, highWaterBytes: 1 });
    const actor = createActor(supervisorMachine(), { inspect: collector.observer }).start();
    open.push({ close: async () => void actor.stop() });
    const childId = actor.system.get('nat-keepalive')!.sessionId;
    const c = await client(server);
    await c.waitFor((r) => r.kind === 'snapshot' && r.id === childId);
    const seen = c.records.length;
    const published: CollectorRecord[] = [];
    collector.subscribe((r) => published.push(r));
    // Stop reading and fill the kernel buffers until the server sees a backlog.
    const socket = (c.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const big = 'y'.repeat(64 * 1024);
    for (let i = 0; i < 2000 && server.stats()[0]!.bufferedAmount === 0; i++) {
      collector.packet({ direction: 'out', summary: big });
    }
    expect(server.stats()[0]!.bufferedAmount).toBeGreaterThan(0);
    const fill = published.length;
    for (let i = 0; i < 50; i++) actor.send(natBa(100 + i));
    expect(server.stats()[0]!.queued).toBeLessThanOrEqual(queueLimit);
    expect(server.stats()[0]!.lost).toBeGreaterThan(0);
    socket.resume();
    await c.waitFor((r) => r.kind === 'dropped');
    const after = c.records.slice(seen);
    const dropped = after.at(-1);
    expect(dropped?.kind).toBe('dropped');
    const count = dropped?.kind === 'dropped' ? dropped.count : 0;
    expect(after.length - 1 + count).toBe(published.length);
    const burst = after.slice(fill, -1);
    expect(burst.length).toBeLessThanOrEqual(queueLimit + 1);
    for (const id of [actor.sessionId, childId]) {
      const snaps = burst.filter((r) => r.kind === 'snapshot' && r.id === id);
      expect(snaps.length).toBeLessThanOrEqual(2);
      expect(snaps.at(-1)).toEqual(collector.snapshot(id));
    }
    expect(collector.snapshot(childId)?.context).toMatchObject({ refreshSeconds: 149 });
  });

  it('needs no token on loopback, and refuses a non-loopback bind without one', async () => {
    const { server } = await serve();
    expect(await upgradeStatus(server.url)).toBe(101);
    await expect(
      startInspectServer({ host: '0.0.0.0', port: 0, env: {}, collector: createInspectCollector() }),
    ).rejects.toThrow('inspect: binding to 0.0.0.0 needs --inspect-token or DSMIP6_INSPECT_TOKEN');
    await expect(
      startInspectServer({ port: 0, requireToken: true, env: {}, collector: createInspectCollector() }),
    ).rejects.toThrow('inspect: binding to 127.0.0.1 needs --inspect-token or DSMIP6_INSPECT_TOKEN');
  });

  it('with a token: 401 without it or with a wrong one, connects with ?token= or Bearer', async () => {
    const { server } = await serve({ requireToken: true, token: 's3cret' });
    expect(await upgradeStatus(server.url)).toBe(401);
    expect(await upgradeStatus(`${server.url}?token=nope`)).toBe(401);
    expect(await upgradeStatus(server.url, { authorization: 'Bearer nope' })).toBe(401);
    expect(await upgradeStatus(`${server.url}?token=s3cret`)).toBe(101);
    expect(await upgradeStatus(server.url, { authorization: 'Bearer s3cret' })).toBe(101);
    expect(await upgradeStatus(server.url.replace('/stream', '/other?token=s3cret'))).toBe(404);

    const { server: fromEnv } = await serve({ requireToken: true, env: { DSMIP6_INSPECT_TOKEN: 'e' } });
    expect(await upgradeStatus(fromEnv.url)).toBe(401);
    expect(await upgradeStatus(`${fromEnv.url}?token=e`)).toBe(101);
  });

  it('serves a plain-text page at / without the UI', async () => {
    const { server } = await serve({ ui: false });
    const base = `http://127.0.0.1:${server.port}`;
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/UI is turned off/);
    expect(text).toContain('/stream');
    expect((await fetch(`${base}/stream`)).status).toBe(426);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
