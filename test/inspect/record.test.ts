import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createInspectCollector } from '../../src/inspect/collector.js';
import { readRecording, recordStream, splitFrames } from '../../src/inspect/record.js';
import { encodeRecord, type InspectServer, startInspectServer } from '../../src/inspect/server.js';
import { connect, natBa, supervisorMachine } from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setupServer(token?: string) {
  const collector = createInspectCollector();
  const server: InspectServer = await startInspectServer({ port: 0, collector, env: {}, token });
  cleanup.push(() => server.close());
  const dir = await mkdtemp(join(tmpdir(), 'dsmip6-inspect-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return { collector, server, file: join(dir, 'stream.msgpack') };
}

describe('inspect recording', () => {
  it('records the stream as length-prefixed msgpack frames and reads it back', async () => {
    const { collector, server, file } = await setupServer();
    const actor = createActor(supervisorMachine(), { inspect: collector.observer }).start();
    cleanup.push(async () => actor.stop());
    const rec = await recordStream(server.url, file);
    const live = await connect(server.url);
    cleanup.push(() => live.close());
    actor.send(natBa(30));
    collector.packet({ direction: 'out', summary: 'BU seq=1' });
    await live.waitFor((r) => r.kind === 'packet');
    while (rec.frames() < live.records.length) await new Promise((r) => setTimeout(r, 5));
    await rec.stop();

    const records = await readRecording(file);
    expect(records[0]).toMatchObject({ kind: 'hello', version: 1 });
    // Same records as a live client saw (hello differs only in its timestamp).
    expect(records.slice(1)).toEqual(live.records.slice(1));
    expect(records.map((r) => r.kind)).toContain('transition');
    expect(records.at(-1)).toMatchObject({ kind: 'packet', summary: 'BU seq=1' });

    // A torn last frame (the recorder was killed mid-write) is ignored.
    await appendFile(file, Buffer.from([0, 0, 0, 50, 1, 2]));
    expect(await readRecording(file)).toEqual(records);
  });

  it('splits frames by their 32-bit big-endian length', () => {
    const a = encodeRecord({ kind: 'stopped', t: 1, id: 'x:1' });
    const b = encodeRecord({ kind: 'dropped', count: 3 });
    const buf = Buffer.alloc(8 + a.length + b.length);
    buf.writeUInt32BE(a.length, 0);
    a.copy(buf, 4);
    buf.writeUInt32BE(b.length, 4 + a.length);
    b.copy(buf, 8 + a.length);
    expect(splitFrames(buf).map((f) => Buffer.from(f))).toEqual([a, b]);
  });

  it('presents the token, and fails with 401 without it', async () => {
    const { server, file } = await setupServer('tok');
    await expect(recordStream(server.url, file)).rejects.toThrow(/401/);
    const rec = await recordStream(server.url, file, { token: 'tok' });
    await rec.stop();
    expect((await readRecording(file))[0]).toMatchObject({ kind: 'hello' });
  });
});
