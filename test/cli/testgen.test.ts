import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';

// Inside the repository so that the generated file's `import 'dsmip6/testgen'` resolves to this
// package (Node's package self-reference through package.json "exports").
const dir = join('test-artifacts', `testgen-${process.pid}`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

interface PathsDoc {
  machine: string;
  paths: { id: string; initial: unknown; steps: { at: number; event: { type: string }; state: unknown }[] }[];
}

describe('dsmip6 testgen', () => {
  it('prints the paths of one machine as JSON and their coverage on stderr', async () => {
    const r = await cli('testgen', '--machine', 'natKeepalive');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as PathsDoc;
    expect(doc.machine).toBe('natKeepalive');
    expect(doc.paths.length).toBeGreaterThan(0);
    // Some path reaches keepalives and lets the 110 s... or the HA's refresh timer fire.
    const timed = doc.paths
      .flatMap((p) => p.steps)
      .filter((s) => s.event.type.startsWith('xstate.after.natKeepalive'));
    expect(timed.length).toBeGreaterThan(0);
    for (const s of timed) expect(s.at).toBeGreaterThan(0);
    expect(r.err).toMatch(/natKeepalive\s+5\/5 100%\s+7\/7 100%/);
  });

  it('writes a vitest file per machine that replays the paths, and fails when a state is wrong', async () => {
    const r = await cli('testgen', '--machine', 'natKeepalive', '--format', 'vitest', '--out', dir);
    expect(r.code).toBe(0);
    const file = join(dir, 'natKeepalive.paths.test.ts');
    writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.test.ts'] } };\n");
    const vitest = (): { status: number | null; output: string } => {
      const p = spawnSync(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', '--root', dir, '--config', 'vitest.config.mjs'],
        {
          encoding: 'utf8',
          env: { ...process.env, CI: '', NO_COLOR: '1', FORCE_COLOR: '0' },
        },
      );
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colours
      return { status: p.status, output: (p.stdout + p.stderr).replace(/\u001b\[[0-9;]*m/g, '') };
    };
    const good = vitest();
    expect(good.output).toMatch(/Tests\s+\d+ passed/);
    expect(good.status).toBe(0);
    // Break one expected state: the replay must notice.
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"keeping"', '"notNeeded"'));
    const bad = vitest();
    expect(bad.status).not.toBe(0);
    expect(bad.output).toContain('expected {"active":"notNeeded"}');
  }, 60_000);

  it('explains bad arguments', async () => {
    const unknown = await cli('testgen', '--machine', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('valid names: bindingUpdate');
    const format = await cli('testgen', '--format', 'yaml');
    expect(format.code).toBe(2);
    expect(format.err).toContain('expected json or vitest');
    const strategy = await cli('testgen', '--strategy', 'random');
    expect(strategy.code).toBe(2);
    expect(strategy.err).toContain('expected cover, shortest or simple');
  });
});
