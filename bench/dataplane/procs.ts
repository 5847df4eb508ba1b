/**
 * Processes inside the benchmark's lab: long-running ones (iperf3 servers, OpenVPN, the daemons,
 * ping streams) are tracked so that one `stopAll` ends every one of them, whatever failed.
 */

import type { ChildProcess } from 'node:child_process';
import {
  type LabExecOptions,
  type LabExecResult,
  type LabNode,
  labExec,
  labSpawn,
} from '../../src/lab/lab.js';

/** A process started in a lab namespace, with its output kept (the last 256 KiB of each). */
export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** Sends `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves when it has ended. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const KEEP = 256 * 1024;
const live = new Set<Proc>();
let aborting = false;

/**
 * From now on nothing new starts in the lab (`start` and `exec` throw): the benchmark is being
 * torn down, and a process started after the lab's processes were killed would outlive it.
 */
export function abort(): void {
  aborting = true;
}

function refuseIfAborting(argv: readonly string[]): void {
  if (aborting) throw new Error(`aborting: not starting ${argv.join(' ')}`);
}

/** `labExec`, unless the benchmark is being torn down. */
export function exec(
  prefix: string,
  node: LabNode,
  argv: readonly string[],
  opts?: LabExecOptions,
): Promise<LabExecResult> {
  refuseIfAborting(argv);
  return labExec(prefix, node, argv, opts);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function start(prefix: string, node: LabNode, argv: readonly string[], name = argv[0] ?? '?'): Proc {
  refuseIfAborting(argv);
  const child = labSpawn(prefix, node, argv, 'pipe');
  let out = '';
  let err = '';
  let done = false;
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    out = (out + d).slice(-KEEP);
  });
  child.stderr?.on('data', (d: string) => {
    err = (err + d).slice(-KEEP);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (e) => {
      done = true;
      err += `\n${e.message}`;
      resolve('spawn-error');
    });
    child.on('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const proc: Proc = {
    name: `${node}:${name}`,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    hasExited: () => done,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000) {
      if (!done) {
        child.kill(signal);
        const t = await Promise.race([exited.then(() => 'exited'), sleep(graceMs).then(() => 'timeout')]);
        if (t === 'timeout' && !done) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      live.delete(proc);
    },
  };
  live.add(proc);
  void exited.then(() => {
    if (proc.hasExited()) live.delete(proc);
  });
  return proc;
}

/** Ends every process started with `start` that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGTERM', 2000)));
}

/** Waits until `test(stdout + stderr)` holds, the process exits, or `ms` pass. */
export async function waitForOutput(p: Proc, test: (text: string) => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (test(p.stdout() + p.stderr())) return true;
    if (p.hasExited()) return test(p.stdout() + p.stderr());
    await sleep(20);
  }
  return false;
}

/** Runs a command in a namespace; throws with its stderr when it exits non-zero. */
export async function must(prefix: string, node: LabNode, argv: readonly string[]): Promise<string> {
  const r = await exec(prefix, node, argv);
  if (r.code !== 0) {
    throw new Error(`${node}: ${argv.join(' ')}: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`}`);
  }
  return r.stdout;
}

/** The last non-empty lines of some output, for error messages. */
export function tail(text: string, lines = 3): string {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join(' | ');
}
