/** The shape of bench/results/dataplane-<date>.json. */

import type { LabLocation } from '../../src/lab/lab.js';
import type { Direction, IperfOutcome, Proto } from './measure.js';
import type { HandoverGap, RttSummary } from './parse.js';
import type { PathName } from './paths.js';

export interface ThroughputRow {
  family: 'ipv4' | 'ipv6';
  proto: Proto;
  direction: Direction;
  result: IperfOutcome;
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
    pings: number;
    udpLength: number;
    udpBitrate: string;
    mnAt: LabLocation;
    /** The dsmip6 MN's movement debounce (config settleMs). */
    mnSettleMs: number;
  };
  notes: string[];
  paths: PathResult[];
}
