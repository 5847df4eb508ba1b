/**
 * The measurements: iperf3 (server in the MN's namespace bound to the address the CN reaches it
 * at, client at the CN), ping RTT from the CN, and timestamped ping streams across a move.
 */

import {
  type HandoverGap,
  handoverGap,
  type IperfResult,
  type PingRun,
  parseIperf3,
  parsePing,
  type RttSummary,
  rttSummary,
} from './parse.js';
import { exec, sleep, start, tail, waitForOutput } from './procs.js';

/** Where the CN reaches the MN through one path. */
export interface Target {
  /** `ipv4` or `ipv6`: the family of the traffic inside the tunnel. */
  family: 'ipv4' | 'ipv6';
  /** The address the CN sends to. */
  address: string;
  /** The MN's address the iperf3 server binds to (differs from `address` behind a port forward). */
  bind: string;
}

export type Proto = 'tcp' | 'udp';
/** cn→mn: the CN sends (iperf3 client at the CN sends); mn→cn: `-R`, the MN sends. */
export type Direction = 'cn→mn' | 'mn→cn';

export interface IperfOptions {
  seconds: number;
  /** UDP datagram payload; small enough that no path fragments it. */
  udpLength: number;
  port: number;
  /** UDP offered load in bit/s; 0 or absent: as fast as the sender can (`-b 0`). */
  bitrateBps?: number;
}

export type IperfOutcome = ({ ok: true } & IperfResult) | { ok: false; error: string };

export async function iperf(
  prefix: string,
  t: Target,
  proto: Proto,
  direction: Direction,
  o: IperfOptions,
): Promise<IperfOutcome> {
  // Bound to the tunnel address: an unbound UDP server would answer from the address the MN's
  // main routing table picks for the CN (the NAT-side one), outside the tunnel.
  const server = start(
    prefix,
    'mn',
    ['iperf3', '-s', '-1', '--forceflush', '-B', t.bind, '-p', String(o.port)],
    'iperf3-server',
  );
  try {
    const listening = await waitForOutput(server, (s) => s.includes('Server listening'), 5000);
    if (!listening) {
      return { ok: false, error: `iperf3 server did not start: ${tail(server.stdout() + server.stderr())}` };
    }
    const argv = [
      'iperf3',
      '-c',
      t.address,
      '-p',
      String(o.port),
      '-t',
      String(o.seconds),
      '-J',
      '--connect-timeout',
      '3000',
      // UDP: 4 MB socket buffers (the size the dsmip6 daemons use); with the 208 KB default the
      // receiving iperf3 drops bursts in its own socket, even on the kernel path.
      ...(proto === 'udp'
        ? ['-u', '-b', String(Math.round(o.bitrateBps ?? 0)), '-l', String(o.udpLength), '-w', '4M']
        : []),
      ...(direction === 'mn→cn' ? ['-R'] : []),
    ];
    const r = await exec(prefix, 'cn', argv, { timeoutMs: (o.seconds + 20) * 1000 });
    try {
      return { ok: true, ...parseIperf3(r.stdout) };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return { ok: false, error: r.signal ? `iperf3 killed by ${r.signal} (timeout)` : why };
    }
  } finally {
    await server.stop('SIGTERM', 2000);
  }
}

export interface UdpSearch {
  /** The offered load of the probe below: loss at or below `maxLossPercent` (0: none was). */
  offeredBps: number;
  /** The most the receiver got in a probe within the loss bound. */
  receivedBps: number;
  lostPercent: number;
  maxLossPercent: number;
  /** Every probe: offered load, received rate, loss. */
  probes: { offeredBps: number; receivedBps: number; lostPercent: number }[];
  error?: string;
}

/**
 * The UDP rate a path carries without (much) loss: bisection on iperf3's offered load between 0
 * and `hiBps`, `steps` probes of `o.seconds` each. Unlike `-b 0`, where the sender's own CPU use
 * on a small machine decides how much arrives, this finds what the path sustains.
 */
export async function udpSearch(
  prefix: string,
  t: Target,
  direction: Direction,
  o: IperfOptions,
  hiBps: number,
  steps: number,
  maxLossPercent: number,
): Promise<UdpSearch> {
  let lo = 0;
  let hi = hiBps;
  const out: UdpSearch = { offeredBps: 0, receivedBps: 0, lostPercent: 0, maxLossPercent, probes: [] };
  for (let i = 0; i < steps; i++) {
    const rate = (lo + hi) / 2;
    const r = await iperf(prefix, t, 'udp', direction, { ...o, bitrateBps: rate });
    if (!r.ok) {
      out.error = r.error;
      break;
    }
    const lost = r.lostPercent ?? 100;
    out.probes.push({ offeredBps: rate, receivedBps: r.receivedBps, lostPercent: lost });
    if (lost <= maxLossPercent) {
      lo = rate;
      // The best rate that arrived within the loss bound (when the sender cannot keep up with the
      // offered load, as on the kernel path, a lower offer can deliver more).
      if (r.receivedBps > out.receivedBps) {
        out.offeredBps = rate;
        out.receivedBps = r.receivedBps;
        out.lostPercent = lost;
      }
    } else {
      hi = rate;
    }
  }
  return out;
}

/** Whether the CN gets an echo reply from `address` within `ms`. */
export async function reachable(prefix: string, address: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await exec(prefix, 'cn', ['ping', '-n', '-c', '1', '-W', '1', address], { timeoutMs: 5000 });
    if (r.code === 0) return true;
    await sleep(200);
  }
  return false;
}

/** `count` pings at 10 ms from the CN (root may go below 200 ms). */
export async function rtt(
  prefix: string,
  address: string,
  count: number,
): Promise<RttSummary & { run: PingRun }> {
  const r = await exec(
    prefix,
    'cn',
    ['ping', '-n', '-D', '-i', '0.01', '-W', '1', '-c', String(count), address],
    {
      timeoutMs: count * 10 + 30_000,
    },
  );
  const run = parsePing(r.stdout);
  if (run.replies.length === 0) throw new Error(`ping ${address}: no replies: ${tail(r.stdout + r.stderr)}`);
  return { ...rttSummary(run), run };
}

/** A ping stream at 10 ms from the CN, timestamped (-D), running until stopped. */
export interface PingStream {
  address: string;
  /** Whether a reply has arrived at or after `sinceMs` (wall clock). */
  repliedSince(sinceMs: number): boolean;
  stop(): Promise<PingRun>;
}

export function pingStream(prefix: string, address: string): PingStream {
  const p = start(prefix, 'cn', ['ping', '-n', '-D', '-i', '0.01', address], 'ping-stream');
  return {
    address,
    repliedSince: (sinceMs) => parsePing(p.stdout()).replies.some((r) => r.atMs >= sinceMs),
    async stop() {
      // SIGINT: ping prints its summary.
      await p.stop('SIGINT', 2000);
      return parsePing(p.stdout());
    },
  };
}

export interface MoveMeasurement {
  family: 'ipv4' | 'ipv6';
  address: string;
  /** How long labMove took (link deleted … new address and routes configured). */
  moveMs: number;
  gap: HandoverGap;
}

/**
 * Streams pings to every address, lets them run `leadMs`, performs `move`, and stops once every
 * stream has a reply after the move finished (or `timeoutMs`), plus `trailMs`.
 */
export async function measureMove(
  prefix: string,
  targets: readonly { family: 'ipv4' | 'ipv6'; address: string }[],
  move: () => Promise<void>,
  opts: { leadMs: number; timeoutMs: number; trailMs: number },
): Promise<MoveMeasurement[]> {
  const streams = targets.map((t) => ({ t, s: pingStream(prefix, t.address) }));
  try {
    await sleep(opts.leadMs);
    const t0 = Date.now();
    await move();
    const changed = Date.now();
    const end = changed + opts.timeoutMs;
    while (Date.now() < end && !streams.every(({ s }) => s.repliedSince(changed))) await sleep(10);
    await sleep(opts.trailMs);
    const out: MoveMeasurement[] = [];
    for (const { t, s } of streams) {
      const run = await s.stop();
      out.push({
        family: t.family,
        address: t.address,
        moveMs: changed - t0,
        gap: handoverGap(run, changed),
      });
    }
    return out;
  } finally {
    await Promise.all(streams.map(({ s }) => s.stop()));
  }
}
