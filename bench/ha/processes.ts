/**
 * The two processes of a benchmark run: the `dsmip6 ha` daemon (with --expose-gc, so its status
 * reports collected heap) and `dsmip6 loadgen --interactive`, driven a phase at a time over its
 * stdin. Also the HA's CPU time from /proc, for the cost per binding added or removed.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { PhaseReport } from '../../src/loadgen/engine.js';
import { queryControl } from '../../src/net/control-socket.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Daemon {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function track(child: ChildProcess): Daemon {
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    out = (out + d).slice(-64 * 1024);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = await Promise.race([exited.then(() => 'exited'), sleep(5000).then(() => 'timeout')]);
      if (t === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export async function startHa(argv: readonly string[], socket: string, timeoutMs = 60_000): Promise<Daemon> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const ha = track(child);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(socket)) {
    if (child.exitCode !== null) throw new Error(`dsmip6 ha exited: ${ha.output()}`);
    if (Date.now() > deadline) throw new Error(`dsmip6 ha: no control socket after ${timeoutMs} ms`);
    await sleep(100);
  }
  return ha;
}

export interface HaMemory {
  readonly heapUsed: number;
  readonly rss: number;
}

export interface HaStatus {
  readonly memory: HaMemory;
  readonly bindings: number;
}

/** `dsmip6 status --json` of the HA, reduced to what the benchmark reads. */
export async function haStatus(socket: string): Promise<HaStatus> {
  const doc = (await queryControl(socket, 60_000)) as { memory: HaMemory; bindings: unknown[] };
  return { memory: doc.memory, bindings: doc.bindings.length };
}

/** User + system CPU seconds of a process (/proc/PID/stat, clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), counted from the state field (3) here.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface LoadgenProcess {
  readonly mobileNodes: number;
  readonly sockets: number;
  run(command: string): Promise<PhaseReport>;
  stop(): Promise<void>;
}

export async function startLoadgen(argv: readonly string[]): Promise<LoadgenProcess> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const daemon = track(child);
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  const early: string[] = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else early.push(line);
  });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const line = early.shift();
      if (line !== undefined) return resolve(line);
      waiting.push(resolve);
      child.once('exit', () => reject(new Error(`dsmip6 loadgen exited: ${daemon.output()}`)));
    });
  const ready = JSON.parse(await next()) as { mobileNodes: number; sockets: number };
  return {
    mobileNodes: ready.mobileNodes,
    sockets: ready.sockets,
    async run(command) {
      child.stdin!.write(`${command}\n`);
      const reply = JSON.parse(await next()) as PhaseReport | { error: string };
      if ('error' in reply) throw new Error(`dsmip6 loadgen: ${reply.error}`);
      return reply;
    },
    async stop() {
      child.stdin!.end();
      await daemon.stop();
    },
  };
}
