import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { and, assign, not, setup } from 'xstate';
import {
  checkStatecharts,
  describeDrift,
  expectedStatecharts,
  runStatecharts,
} from '../../src/cli/statecharts.js';
import { findModel, machineModels, machineNames } from '../../src/testgen/registry.js';
import {
  actionName,
  guardName,
  mermaidText,
  statechartJson,
  statechartMermaid,
  statechartMermaidDiagram,
} from '../../src/testgen/statechart.js';
import { transitions } from '../../src/testgen/structure.js';

const committedDir = fileURLToPath(new URL('../../statecharts', import.meta.url));
const REGENERATE = 'run `npm run statecharts` and commit the result';

/**
 * Sanity check of the Mermaid stateDiagram-v2 we generate (a subset of the language): braces
 * balance, `--` only inside a composite state, ids are plain and declared once, and every edge
 * or description names states declared in the same block. Mermaid puts a state in the last
 * block that mentions it, so a mention from another block would move it. Returns the problems.
 */
function mermaidProblems(diagram: string): string[] {
  const problems: string[] = [];
  const lines = diagram.split('\n').filter((l) => l.trim() !== '');
  if (lines[0] !== 'stateDiagram-v2') problems.push(`first line is ${JSON.stringify(lines[0])}`);
  const declared = new Set<string>();
  const blocks: Set<string>[] = [new Set()];
  const uses: { ids: string[]; block: Set<string>; line: number }[] = [];
  const idRe = /^[A-Za-z0-9_]+$/;
  const endRe = /^(\[\*\]|[A-Za-z0-9_]+)$/;
  const labelOk = (label: string) => !/[:;#"{}<>]/.test(label);
  lines.slice(1).forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 2;
    const block = blocks[blocks.length - 1]!;
    const decl = /^state "([^"]*)" as (\S+)( \{)?$/.exec(line);
    const edge = /^(\S+) --> (\S+)(?: : (.*))?$/.exec(line);
    const descr = /^([A-Za-z0-9_]+) : (.*)$/.exec(line);
    if (decl) {
      const [, name = '', id = '', open] = decl;
      if (!idRe.test(id)) problems.push(`line ${n}: bad state id ${id}`);
      if (declared.has(id)) problems.push(`line ${n}: ${id} declared twice`);
      if (!labelOk(name)) problems.push(`line ${n}: bad state name ${JSON.stringify(name)}`);
      declared.add(id);
      block.add(id);
      if (open) blocks.push(new Set());
    } else if (line === '}') {
      if (blocks.length === 1) problems.push(`line ${n}: } without {`);
      else blocks.pop();
    } else if (line === '--') {
      if (blocks.length === 1) problems.push(`line ${n}: -- outside a composite state`);
    } else if (edge) {
      const [, from = '', to = '', label] = edge;
      if (!endRe.test(from) || !endRe.test(to)) problems.push(`line ${n}: bad edge ${line}`);
      if (label !== undefined && !labelOk(label))
        problems.push(`line ${n}: bad label ${JSON.stringify(label)}`);
      uses.push({ ids: [from, to].filter((x) => x !== '[*]'), block, line: n });
    } else if (descr) {
      const [, id = '', text = ''] = descr;
      if (!labelOk(text)) problems.push(`line ${n}: bad description ${JSON.stringify(text)}`);
      uses.push({ ids: [id], block, line: n });
    } else {
      problems.push(`line ${n}: not understood: ${line}`);
    }
  });
  if (blocks.length !== 1) problems.push(`${blocks.length - 1} unclosed {`);
  for (const u of uses) {
    for (const id of u.ids) {
      if (!declared.has(id)) problems.push(`line ${u.line}: ${id} is not declared`);
      else if (!u.block.has(id)) problems.push(`line ${u.line}: ${id} is declared in another block`);
    }
  }
  return problems;
}

function mermaidBlock(markdown: string): string {
  const m = /```mermaid\n([\s\S]*?)```/.exec(markdown);
  if (!m?.[1]) throw new Error('no mermaid block');
  return m[1];
}

describe('committed statecharts (statecharts/)', () => {
  const expected = expectedStatecharts();
  const drift = checkStatecharts(committedDir);

  it.each([...expected.keys()])('statecharts/%s is what the machine produces', (file) => {
    let committed: string | undefined;
    try {
      committed = readFileSync(join(committedDir, file), 'utf8');
    } catch {
      committed = undefined;
    }
    expect(committed, `statecharts/${file} is missing: ${REGENERATE}`).toBeDefined();
    // Compare as text and name the first differing line instead of printing two 20 kB strings.
    const want = expected.get(file)!.split('\n');
    const have = (committed ?? '').split('\n');
    const at = want.findIndex((line, i) => have[i] !== line);
    const where = at < 0 ? 'extra lines at the end' : `line ${at + 1} should be ${JSON.stringify(want[at])}`;
    expect(
      committed === expected.get(file),
      `statecharts/${file} is out of date (${where}): ${REGENERATE}`,
    ).toBe(true);
  });

  it('has a .json and a .md for every registered machine and nothing else', () => {
    // Changed files fail the test above, one per file.
    expect(describeDrift('statecharts', { ...drift, differing: [] }), REGENERATE).toEqual([]);
    expect(expected.size).toBe(machineModels.length * 2);
  });

  it.each(machineNames)('statecharts/%s.md is a well-formed Mermaid diagram', (name) => {
    const md = expected.get(`${name}.md`)!;
    expect(mermaidProblems(mermaidBlock(md))).toEqual([]);
  });
});

// A tiny machine with every feature the generator handles: nested and parallel states, named
// and numeric `after` delays, `always`, named and combined guards, entry actions, tags, a final
// state, a transition from a region to its own child and a targetless one.
const tiny = setup({
  types: {} as {
    context: { n: number };
    events: { type: 'GO' } | { type: 'STOP' } | { type: 'PING' } | { type: 'RESET' };
  },
  guards: { ready: () => true, big: ({ context }) => context.n > 1 },
  actions: { count: assign({ n: ({ context }) => context.n + 1 }), log: () => {} },
  delays: { retransmit: 1_000 },
}).createMachine({
  id: 'tiny',
  context: { n: 0 },
  initial: 'idle',
  states: {
    idle: { on: { GO: { guard: 'ready', target: 'active', actions: 'count' } } },
    active: {
      type: 'parallel',
      entry: 'log',
      on: { STOP: 'done' },
      states: {
        link: {
          initial: 'up',
          on: { RESET: '.up' },
          states: {
            up: { after: { retransmit: { target: 'down', actions: 'count' } } },
            down: { after: { 500: 'up' } },
          },
        },
        check: {
          initial: 'waiting',
          states: {
            waiting: {
              always: { guard: 'big', target: 'ok' },
              on: { PING: { guard: and(['ready', not('big')]), actions: 'log' } },
            },
            ok: { tags: ['good'] },
          },
        },
      },
    },
    done: { type: 'final' },
  },
});

describe('statechartJson', () => {
  const chart = statechartJson(tiny);

  it('describes the state tree with types, initial states, entry actions and tags', () => {
    expect(chart.id).toBe('tiny');
    expect(chart.root.initial).toBe('tiny.idle');
    const active = chart.root.children.find((s) => s.key === 'active')!;
    expect(active.type).toBe('parallel');
    expect(active.entry).toEqual(['log']);
    expect(active.children.map((c) => c.id)).toEqual(['tiny.active.link', 'tiny.active.check']);
    const link = active.children[0]!;
    expect(link.initial).toBe('tiny.active.link.up');
    // xstate's own raise/cancel for the timer are not listed as the state's actions.
    expect(link.children[0]).toMatchObject({ id: 'tiny.active.link.up', entry: [], exit: [] });
    expect(active.children[1]!.children[1]!.tags).toEqual(['good']);
    expect(chart.root.children.find((s) => s.key === 'done')!.type).toBe('final');
  });

  it('lists timers with the delay name or number', () => {
    expect(chart.transitions).toContainEqual({
      key: 'tiny.active.link.up --xstate.after.retransmit.tiny.active.link.up[0]-->',
      source: 'tiny.active.link.up',
      event: 'xstate.after.retransmit.tiny.active.link.up',
      kind: 'after',
      delay: 'retransmit',
      targets: ['tiny.active.link.down'],
      actions: ['count'],
      reenter: false,
    });
    expect(chart.transitions.find((t) => t.source === 'tiny.active.link.down')).toMatchObject({
      kind: 'after',
      delay: 500,
      targets: ['tiny.active.link.up'],
    });
  });

  it('lists eventless transitions and names combined guards', () => {
    expect(chart.transitions.find((t) => t.kind === 'always')).toMatchObject({
      source: 'tiny.active.check.waiting',
      event: 'always',
      guard: 'big',
      targets: ['tiny.active.check.ok'],
    });
    expect(chart.transitions.find((t) => t.event === 'PING')).toMatchObject({
      guard: 'and(ready, not(big))',
      targets: [],
      actions: ['log'],
    });
  });

  it('has the same transitions, in the same order, as structure.ts', () => {
    expect(chart.transitions.map((t) => t.key)).toEqual(transitions(tiny).map((t) => t.key));
  });

  it('is plain data and deterministic', () => {
    expect(JSON.parse(JSON.stringify(chart))).toEqual(chart);
    expect(statechartJson(tiny)).toEqual(chart);
    // A provided copy builds new state nodes; the description does not change.
    expect(statechartJson(tiny.provide({ actions: { log: () => {} } }))).toEqual(chart);
  });

  it('names parametrised actions and inline guards', () => {
    const reportLost = () => ({ type: 'LOST' });
    expect(actionName({ type: 'report', params: reportLost })).toBe('report(reportLost)');
    expect(actionName({ type: 'report', params: { type: 'X', n: 1, o: {} } })).toBe(
      'report(type=X, n=1, o=...)',
    );
    expect(actionName(assign({ n: 1 }))).toBe('assign');
    expect(guardName(({ context }: { context: unknown }) => context !== null)).toBe('inline');
    expect(guardName(not({ type: 'big' }))).toBe('not(big)');
  });

  it('names the builtin actions written inline in a registered machine', () => {
    // binding-update's rate limiter has `actions: assign(...)` inline and parametrised reports.
    const all = machineModels.flatMap((m) => statechartJson(m.machine).transitions.flatMap((t) => t.actions));
    expect(all.every((a) => a.length > 0 && !a.includes('function'))).toBe(true);
  });
});

describe('statechartMermaid', () => {
  const md = statechartMermaid(tiny, { title: 'tiny' });
  const diagram = statechartMermaidDiagram(tiny);

  it('is a Markdown page with a heading, a legend, a mermaid block and a transition table', () => {
    expect(md).toMatch(/^# Statechart: tiny\n/);
    expect(md).toContain('## Legend');
    expect(md).toContain('```mermaid\nstateDiagram-v2\n');
    expect(md).toContain('| Source | Event | Guard | Target | Actions |');
    expect(md).toContain('| active.link.up | after retransmit |  | active.link.down | count |');
    expect(md).toContain('| active.check.waiting | PING | and(ready, not(big)) | (no target) | log |');
  });

  it('draws composite and parallel states, initial and final markers and labelled transitions', () => {
    const lines = diagram.split('\n').map((l) => l.trim());
    expect(lines).toContain('[*] --> tiny');
    expect(lines).toContain('state "tiny" as tiny {');
    expect(lines).toContain('[*] --> tiny_idle');
    expect(lines).toContain('state "active" as tiny_active {');
    expect(lines).toContain('--');
    expect(lines).toContain('[*] --> tiny_active_link_up');
    expect(lines).toContain('tiny_done --> [*]');
    expect(lines).toContain('tiny_idle --> tiny_active : GO [ready] / count');
    expect(lines).toContain('tiny_active_link_up --> tiny_active_link_down : after retransmit / count');
    expect(lines).toContain('tiny_active_link_down --> tiny_active_link_up : after 500 ms');
    expect(lines).toContain('tiny_active_check_waiting --> tiny_active_check_ok : always [big]');
    expect(lines).toContain('tiny_active --> tiny_done : STOP');
    // A region's transition to its own child is drawn on the region, naming the real target.
    expect(lines).toContain('tiny_active_link --> tiny_active_link : RESET (to up)');
    expect(lines).toContain(
      'tiny_active_check_waiting --> tiny_active_check_waiting : PING [and(ready, not(big))] / log (no target)',
    );
  });

  it('passes the syntax sanity check', () => {
    expect(mermaidProblems(diagram)).toEqual([]);
  });

  it('escapes label text Mermaid would read as syntax', () => {
    expect(mermaidText('a: "b"; #c {d} <e>')).toBe("a - 'b', no.c (d) (e)");
  });
});

describe('mermaidProblems (the sanity check itself)', () => {
  it('finds unbalanced braces, undeclared states and states used from another block', () => {
    expect(mermaidProblems('stateDiagram-v2\nstate "a" as a {\n')).toContain('1 unclosed {');
    expect(mermaidProblems('stateDiagram-v2\n}\n')).toEqual(['line 2: } without {']);
    expect(mermaidProblems('stateDiagram-v2\nstate "a" as a\na --> b : x\n')).toEqual([
      'line 3: b is not declared',
    ]);
    expect(mermaidProblems('stateDiagram-v2\nstate "a" as a {\nstate "b" as b\n}\na --> b : x\n')).toEqual([
      'line 5: b is declared in another block',
    ]);
    expect(mermaidProblems('stateDiagram-v2\nstate "a" as a\na --> a : x: y\n')).toHaveLength(1);
  });
});

describe('registry', () => {
  it('finds a model by name and lists the valid names otherwise', () => {
    expect(findModel('natKeepalive').name).toBe('natKeepalive');
    expect(() => findModel('nope')).toThrow(/valid names: bindingUpdate, .*movement/);
    expect(new Set(machineNames).size).toBe(machineNames.length);
  });
});

describe('dsmip6 statecharts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsmip6-statecharts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = runStatecharts(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('--check fails on a missing, changed or extra file and says how to fix it', () => {
    let r = cli('--check', '--out', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, 'natKeepalive.json')} is missing`);
    expect(r.err).toContain('npm run statecharts');

    r = cli('--write', '--out', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${machineModels.length * 2} files`);
    expect(cli('--check', '--out', dir).code).toBe(0);

    writeFileSync(join(dir, 'movement.md'), 'edited by hand\n');
    writeFileSync(join(dir, 'oldMachine.json'), '{}\n');
    r = cli('--check', '--out', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, 'movement.md')} differs`);
    expect(r.err).toContain(`${join(dir, 'oldMachine.json')} belongs to no registered machine`);
  });

  it('rejects unknown arguments', () => {
    expect(cli('--frobnicate').code).toBe(2);
    expect(cli('--out').code).toBe(2);
  });
});
