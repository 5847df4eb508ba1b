/**
 * `dsmip6 statecharts`: writes every registered machine's statechart to `<dir>/<name>.json`
 * (states and transitions as data) and `<dir>/<name>.md` (a Mermaid diagram with tables), or
 * checks that the files there are what the machines produce now. `npm run statecharts` writes
 * them; the test suite checks them.
 */

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineModels } from '../testgen/registry.js';
import { statechartJsonText, statechartMermaid } from '../testgen/statechart.js';
import type { Io } from './main.js';

export const DEFAULT_STATECHART_DIR = 'statecharts';

/** Every file the statechart directory should hold, by file name, in registry order. */
export function expectedStatecharts(): Map<string, string> {
  const files = new Map<string, string>();
  for (const model of machineModels) {
    files.set(`${model.name}.json`, statechartJsonText(model.machine));
    files.set(`${model.name}.md`, statechartMermaid(model.machine, { title: model.name }));
  }
  return files;
}

/** Writes every statechart file into `dir` (created if needed); returns the paths written. */
export function writeStatecharts(dir: string = DEFAULT_STATECHART_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of expectedStatecharts()) {
    const path = join(dir, name);
    writeFileSync(path, text);
    written.push(path);
  }
  return written;
}

export interface StatechartDrift {
  /** Files whose content differs from what the machines produce. */
  readonly differing: readonly string[];
  /** Files a registered machine should have that are not there. */
  readonly missing: readonly string[];
  /** .json/.md files in the directory that no registered machine produces. */
  readonly extra: readonly string[];
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Compares `dir` with what the machines produce; every list is empty when they agree. */
export function checkStatecharts(dir: string = DEFAULT_STATECHART_DIR): StatechartDrift {
  const expected = expectedStatecharts();
  const differing: string[] = [];
  const missing: string[] = [];
  for (const [name, text] of expected) {
    const actual = readOrUndefined(join(dir, name));
    if (actual === undefined) missing.push(name);
    else if (actual !== text) differing.push(name);
  }
  let present: string[] = [];
  try {
    present = readdirSync(dir);
  } catch {
    // No directory: every file is missing, which is already listed.
  }
  const extra = present.filter((f) => /\.(json|md)$/.test(f) && !expected.has(f)).sort();
  return { differing, missing, extra };
}

/** One line per problem, empty when the directory is up to date. */
export function describeDrift(dir: string, drift: StatechartDrift): string[] {
  return [
    ...drift.differing.map((f) => `${join(dir, f)} differs from what the machine produces`),
    ...drift.missing.map((f) => `${join(dir, f)} is missing`),
    ...drift.extra.map((f) => `${join(dir, f)} belongs to no registered machine`),
  ];
}

const USAGE = 'usage: dsmip6 statecharts [--write|--check] [--out DIR]';

/** `dsmip6 statecharts [--write|--check] [--out DIR]`; --write is the default. */
export function runStatecharts(args: readonly string[], io: Io): number {
  let mode: 'write' | 'check' = 'write';
  let dir = DEFAULT_STATECHART_DIR;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--write') mode = 'write';
    else if (arg === '--check') mode = 'check';
    else if (arg === '--out') {
      const value = args[++i];
      if (value === undefined) {
        io.err(`dsmip6 statecharts: --out needs a directory\n${USAGE}`);
        return 2;
      }
      dir = value;
    } else {
      io.err(`dsmip6 statecharts: unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
      return 2;
    }
  }
  if (mode === 'write') {
    const written = writeStatecharts(dir);
    io.out(`wrote ${written.length} files to ${dir}/ (${machineModels.length} machines)`);
    const extra = checkStatecharts(dir).extra;
    for (const f of extra) io.err(`warning: ${join(dir, f)} belongs to no registered machine; delete it`);
    return 0;
  }
  const problems = describeDrift(dir, checkStatecharts(dir));
  if (problems.length === 0) {
    io.out(`${dir}/ is up to date (${machineModels.length} machines)`);
    return 0;
  }
  for (const p of problems) io.err(p);
  io.err('run `npm run statecharts` to regenerate the statecharts, then commit them');
  return 1;
}
