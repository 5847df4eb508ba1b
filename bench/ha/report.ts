/** The HA benchmark's results: their JSON shape and the Markdown table the README quotes. */

import type { PhaseReport } from '../../src/loadgen/engine.js';
import type { CacheCost } from './cache-cost.js';
import type { HaMemory } from './processes.js';

export interface SizeResult {
  readonly mobileNodes: number;
  readonly loadgenSockets: number;
  readonly idle: HaMemory;
  readonly loaded: HaMemory;
  readonly after: HaMemory;
  readonly bindingsAfter: number;
  /** Bytes: (loaded − idle) / N. */
  readonly heapPerBinding: number;
  readonly rssPerBinding: number;
  /** after / idle − 1 (0.05 = 5% above idle). */
  readonly heapAfterVsIdle: number;
  readonly rssAfterVsIdle: number;
  /** HA process CPU (user + system) per BU answered in the phase, µs: crypto, UDP and all. */
  readonly haCpuMicrosPerAdd: number;
  readonly haCpuMicrosPerRefresh: number;
  readonly haCpuMicrosPerRemove: number;
  readonly phases: {
    readonly register: PhaseReport;
    readonly peak: PhaseReport;
    readonly half: PhaseReport;
    readonly deregister: PhaseReport;
  };
}

export interface BenchDoc {
  readonly date: string;
  readonly machine: Record<string, string | number>;
  readonly seconds: number;
  readonly cacheCost: readonly CacheCost[];
  readonly sizes: readonly SizeResult[];
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

export function renderTable(doc: BenchDoc): string {
  const m = doc.machine;
  const rows: string[][] = [
    [
      'bindings',
      'peak BA/s',
      'p50 / p99 at half peak',
      'heap / binding',
      'RSS / binding',
      'HA CPU per add / remove',
      'cache add / remove (in process)',
      'heap, RSS after all deregister vs idle',
      'lost',
    ],
  ];
  for (const s of doc.sizes) {
    const cache = doc.cacheCost.find((c) => c.bindings === s.mobileNodes);
    const lost = Object.values(s.phases).reduce((sum, p) => sum + p.lost, 0);
    rows.push([
      k(s.mobileNodes),
      String(s.phases.peak.answeredPerSecond),
      `${s.phases.half.latency.p50Ms} / ${s.phases.half.latency.p99Ms} ms at ${s.phases.half.answeredPerSecond}/s`,
      kib(s.heapPerBinding),
      kib(s.rssPerBinding),
      `${s.haCpuMicrosPerAdd} / ${s.haCpuMicrosPerRemove} µs`,
      cache ? `${cache.addMicros} / ${cache.removeMicros} µs` : '-',
      `${pct(s.heapAfterVsIdle)}, ${pct(s.rssAfterVsIdle)} (${s.bindingsAfter} left)`,
      String(lost),
    ]);
  }
  const line = (r: string[]): string => `| ${r.join(' | ')} |`;
  return [
    `dsmip6 home agent, ${doc.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores, Node ${m.node}, Linux ${String(m.kernel).split(' ')[0]}, load average ${m.loadAverage} at the end`,
    '',
    line(rows[0]!),
    line(rows[0]!.map(() => '---')),
    ...rows.slice(1).map(line),
  ].join('\n');
}
