import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { createInspectCollector } from '../../src/inspect/collector.js';
import { readRecording } from '../../src/inspect/record.js';
import { startInspectServer } from '../../src/inspect/server.js';

const dir = mkdtempSync(join(tmpdir(), 'dsmip6-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dsmip6 inspect --record', () => {
  it('stores the stream until the daemon goes away, for replay', async () => {
    const collector = createInspectCollector();
    const server = await startInspectServer({ port: 0, collector });
    const file = join(dir, 'session.dsmip6');
    const out: string[] = [];
    const err: string[] = [];
    const done = run(['inspect', '--record', file, '--url', server.url], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    await new Promise((r) => setTimeout(r, 200));
    collector.packet({
      direction: 'in',
      summary: 'IPv4 203.0.113.10 > 198.51.100.1 | UDP 49152 > 4191 | BU seq=1',
    });
    await new Promise((r) => setTimeout(r, 200));
    await server.close();
    expect(await done).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toMatch(/\d+ frames recorded/);
    const records = await readRecording(file);
    expect(records[0]).toMatchObject({ kind: 'hello' });
    expect(records).toContainEqual(
      expect.objectContaining({ kind: 'packet', summary: expect.stringContaining('BU seq=1') }),
    );
  });

  it('explains a missing --record and an unreachable stream', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await run(['inspect'], io)).toBe(2);
    expect(lines.join('\n')).toContain('--record FILE is required');
    expect(await run(['inspect', '--record', join(dir, 'x'), '--url', 'ws://127.0.0.1:1/stream'], io)).toBe(
      1,
    );
    expect(lines.join('\n')).toContain('cannot record ws://127.0.0.1:1/stream');
    // Nothing reached, nothing written: no empty recording is left behind.
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('names a file it cannot write, and leaves the stream alone', async () => {
    const collector = createInspectCollector();
    const server = await startInspectServer({ port: 0, collector });
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    try {
      const bad = join(dir, 'no-such-dir', 'f.dsmip6');
      expect(await run(['inspect', '--record', bad, '--url', server.url], io)).toBe(1);
      expect(lines.join('\n')).toContain(`cannot write ${bad}: ENOENT`);
    } finally {
      await server.close();
    }
  });
});
