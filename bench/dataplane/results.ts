/** The shape of bench/results/dataplane-<date>.json. */

import type { LabLocation } from '../../src/lab/lab.js';
import type { Direction, IperfOutcome, Proto, UdpSearch } from './measure.js';
import type { HandoverGap, RttSummary } from './parse.js';
import type { PathName } from './paths.js';

export interface ThroughputRow {
  family: 'ipv4' | 'ipv6';
  proto: Proto;
  direction: Direction;
  /** The median run (by received rate) of `runs`. */
  result: IperfOutcome;
  /** Received Mbit/s of every run (`--repeat`), failed runs left out. */
  runsMbps?: number[];
}

export interface RttRow {
  family: 'ipv4' | 'ipv6';
  address: string;
  summary?: RttSummary;
  error?: string;
}

export interface PathResult {
  name: PathName;
  description: string;
  available: boolean;
  /** Why the path (or a family of it) was not measured. */
  reason?: string;
  unreachable?: { family: 'ipv4' | 'ipv6'; reason: string }[];
  details?: Record<string, unknown>;
  throughput: ThroughputRow[];
  /** The highest UDP load each direction carries at <= 1 % loss (bisection on iperf3 -b). */
  udpSearch: { family: 'ipv4' | 'ipv6'; direction: Direction; search: UdpSearch }[];
  rtt: RttRow[];
  /** Paths that can follow the MN: a 10 ms ping stream during each move of its walk. */
  handover?: HandoverResult;
}

export interface HandoverResult {
  available: boolean;
  reason?: string;
  moves: MoveRow[];
}

export interface MoveRow {
  from: LabLocation;
  to: LabLocation;
  family: 'ipv4' | 'ipv6';
  address: string;
  moveMs: number;
  gap: HandoverGap;
  /** What the path looked like after the move (dsmip6: the HA's binding). */
  state?: unknown;
}

export interface Results {
  benchmark: 'dataplane';
  date: string;
  machine: Record<string, string | number>;
  settings: {
    seconds: number;
    /** iperf3 runs per cell; the median is reported. */
    repeat: number;
    pings: number;
    udpLength: number;
    udpBitrate: string;
    mnAt: LabLocation;
    /** The dsmip6 MN's movement debounce (config settleMs). */
    mnSettleMs: number;
    /** UDP loss-bounded search: probes per direction, seconds per probe, loss allowed (%); 0 probes: off. */
    udpSearch: { steps: number; seconds: number; maxLossPercent: number };
  };
  notes: string[];
  paths: PathResult[];
}
