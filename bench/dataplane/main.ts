/**
 * `npm run bench:dataplane`: dsmip6 against OpenVPN 2.6 (no crypto) and plain kernel forwarding,
 * side by side in one run, in a lab of its own with the mobile node behind the NAT. Measures iperf3
 * TCP and UDP throughput both ways, ping RTT (p50/p99), and the handover gap of a 10 ms ping
 * stream during each kind of move. Writes bench/results/dataplane-<date>.json and .md, prints the
 * tables. Needs root. The lab is always taken down, every process it started killed.
 *
 *   npm run bench:dataplane -- --help   lists the options
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, version as osVersion, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  isRoot,
  LAB_NEEDS_ROOT,
  type LabLocation,
  labDown,
  labMove,
  labStatus,
  labUp,
} from '../../src/lab/lab.js';
import { type IperfOutcome, iperf, measureMove, rtt, udpSearch } from './measure.js';
import { dsmip6Path, IPERF_PORT, kernelPath, openvpnPath, type Path, type PathUp } from './paths.js';
import { abort, sleep, stopAll } from './procs.js';
import { renderReport } from './report.js';
import type { MoveRow, PathResult, Results } from './results.js';

const USAGE = `usage: npm run bench:dataplane -- [options]   (as root)
  --seconds N             iperf3 seconds per run (5)
  --repeat N              iperf3 runs per cell, the median is reported (3)
  --pings N               pings per RTT measurement, at 10 ms (1000)
  --paths LIST            kernel,openvpn,dsmip6 (all)
  --no-handover           skip the handover walks
  --udp-length BYTES      UDP datagram payload (1350)
  --udp-search-steps N    bisection probes for UDP at <= 1% loss, 0 to skip (7)
  --udp-search-seconds N  seconds per probe (2)
  --settle-ms MS          the dsmip6 MN's movement debounce (20)
  --prefix NAME           lab prefix (b<pid>)
  --out DIR               results directory (bench/results)`;

/** How long a ping stream waits for the first reply after a move. */
const HANDOVER_TIMEOUT_MS = 15_000;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'dsmip6')
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the dsmip6 package root');
    dir = up;
  }
}

function firstLine(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0]!
      .trim();
  } catch (e) {
    const err = e as { code?: string; stdout?: string };
    if (err.code === 'ENOENT') return 'not installed';
    return err.stdout ? err.stdout.split('\n')[0]!.trim() : 'unknown';
  }
}

function machine(root: string): Record<string, string | number> {
  const c = cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // The daemons run from the working tree's build: say when src/ differs from the commit.
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src', 'bin'], {
      encoding: 'utf8',
    });
    if (dirty.trim() !== '') commit += ' + uncommitted src changes';
  } catch {
    // not a checkout
  }
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${release()} ${osVersion()}`,
    node: process.version,
    iperf3: firstLine(['iperf3', '--version']),
    openvpn: firstLine(['openvpn', '--version']),
    dsmip6Commit: commit,
    // Other work on the machine skews every number (two cores): recorded at the start and the end.
    loadAverage1mAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

function say(s: string): void {
  process.stderr.write(`bench: ${s}\n`);
}

async function measurePath(
  prefix: string,
  path: Path,
  opts: {
    seconds: number;
    repeat: number;
    pings: number;
    udpLength: number;
    handover: boolean;
    search: { steps: number; seconds: number; maxLossPercent: number };
  },
): Promise<{ result: PathResult; up?: PathUp }> {
  const result: PathResult = {
    name: path.name,
    description: path.description,
    available: false,
    throughput: [],
    udpSearch: [],
    rtt: [],
  };
  let up: PathUp;
  try {
    say(`${path.name}: setting up`);
    up = await path.up(prefix);
  } catch (e) {
    result.reason = `not available: ${e instanceof Error ? e.message : String(e)}`;
    say(`${path.name}: ${result.reason}`);
    if (path.walk) result.handover = { available: false, reason: result.reason, moves: [] };
    return { result };
  }
  result.available = true;
  result.details = up.details;
  if (up.unreachable.length) result.unreachable = up.unreachable;
  for (const t of up.targets) {
    for (const proto of ['tcp', 'udp'] as const) {
      for (const direction of ['cn→mn', 'mn→cn'] as const) {
        say(
          `${path.name}: iperf3 ${proto} ${direction} ${t.family} (${t.address}), ${opts.repeat} × ${opts.seconds} s`,
        );
        const runs: IperfOutcome[] = [];
        for (let i = 0; i < opts.repeat; i++) {
          const r = await iperf(prefix, t, proto, direction, {
            seconds: opts.seconds,
            udpLength: opts.udpLength,
            port: IPERF_PORT,
          });
          say(`  ${r.ok ? `${(r.receivedBps / 1e6).toFixed(1)} Mbit/s` : `error: ${r.error}`}`);
          runs.push(r);
        }
        const ok = runs.filter((r) => r.ok).sort((a, b) => a.receivedBps - b.receivedBps);
        const median = ok[Math.floor((ok.length - 1) / 2)] ?? runs[runs.length - 1]!;
        result.throughput.push({
          family: t.family,
          proto,
          direction,
          result: median,
          runsMbps: ok.map((r) => Math.round(r.receivedBps / 1e5) / 10),
        });
      }
    }
  }
  for (const t of up.targets) {
    if (opts.search.steps === 0) break;
    for (const direction of ['cn→mn', 'mn→cn'] as const) {
      const flat = result.throughput.find(
        (x) => x.family === t.family && x.proto === 'udp' && x.direction === direction,
      )?.result;
      // The path sustains at least what arrived at -b 0 and, on this kind of machine, rarely more than 3x.
      const hi = Math.max(3 * (flat?.ok ? flat.receivedBps : 0), 300e6);
      say(
        `${path.name}: UDP ${direction} ${t.family} at <= ${opts.search.maxLossPercent}% loss, ${opts.search.steps} probes up to ${(hi / 1e6).toFixed(0)} Mbit/s`,
      );
      const search = await udpSearch(
        prefix,
        t,
        direction,
        { seconds: opts.search.seconds, udpLength: opts.udpLength, port: IPERF_PORT },
        hi,
        opts.search.steps,
        opts.search.maxLossPercent,
      );
      say(`  ${(search.receivedBps / 1e6).toFixed(1)} Mbit/s${search.error ? ` (${search.error})` : ''}`);
      result.udpSearch.push({ family: t.family, direction, search });
    }
  }
  for (const t of up.targets) {
    say(`${path.name}: ${opts.pings} pings at 10 ms to ${t.address}`);
    try {
      const s = await rtt(prefix, t.address, opts.pings);
      const { run: _run, ...summary } = s;
      result.rtt.push({ family: t.family, address: t.address, summary });
      say(`  p50 ${s.p50Ms.toFixed(3)} ms, p99 ${s.p99Ms.toFixed(3)} ms, lost ${s.lost}`);
    } catch (e) {
      result.rtt.push({
        family: t.family,
        address: t.address,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  if (path.walk) {
    if (!opts.handover) {
      result.handover = { available: false, reason: 'not measured (--no-handover)', moves: [] };
    } else {
      result.handover = { available: true, moves: [], ...(path.walkNote ? { reason: path.walkNote } : {}) };
      await handover(prefix, path, up, result.handover.moves);
    }
  }
  return { result, up };
}

/**
 * Walks the MN from the NAT through `path.walk` with ping streams to every target running across
 * each move; waits for the path to carry traffic again before the next move.
 */
async function handover(prefix: string, path: Path, up: PathUp, moves: MoveRow[]): Promise<void> {
  let from: LabLocation = 'nat';
  for (const to of path.walk ?? []) {
    say(`${path.name}: handover ${from} → ${to}`);
    const m = await measureMove(prefix, up.targets, () => labMove(prefix, to), {
      leadMs: 1000,
      timeoutMs: HANDOVER_TIMEOUT_MS,
      trailMs: 300,
    });
    const state = up.state ? await up.state() : undefined;
    for (const r of m) {
      moves.push({ from, to, ...r, ...(state !== undefined ? { state } : {}) });
      say(
        `  ${r.family}: gap ${r.gap.gapMs === null ? 'none' : r.gap.gapMs.toFixed(0)} ms, lost ${r.gap.lost}`,
      );
    }
    if (up.settled && !(await up.settled(to)))
      say(`  ${path.name} did not carry traffic again after the move`);
    await sleep(500);
    from = to;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      seconds: { type: 'string', default: '5' },
      repeat: { type: 'string', default: '3' },
      pings: { type: 'string', default: '1000' },
      paths: { type: 'string', default: 'kernel,openvpn,dsmip6' },
      'no-handover': { type: 'boolean', default: false },
      prefix: { type: 'string' },
      out: { type: 'string' },
      'udp-length': { type: 'string', default: '1350' },
      'settle-ms': { type: 'string', default: '20' },
      'udp-search-steps': { type: 'string', default: '7' },
      'udp-search-seconds': { type: 'string', default: '2' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!isRoot()) {
    console.error(`bench:dataplane: ${LAB_NEEDS_ROOT}`);
    return 1;
  }
  const seconds = Number(values.seconds);
  const pings = Number(values.pings);
  const repeat = Number(values.repeat);
  if (!(Number.isInteger(repeat) && repeat >= 1))
    throw new Error(`--repeat ${values.repeat}: expected an integer >= 1`);
  const udpLength = Number(values['udp-length']);
  if (!(Number.isInteger(seconds) && seconds >= 1))
    throw new Error(`--seconds ${values.seconds}: expected whole seconds >= 1`);
  if (!(Number.isInteger(pings) && pings >= 10))
    throw new Error(`--pings ${values.pings}: expected an integer >= 10`);
  if (!(Number.isInteger(udpLength) && udpLength >= 64 && udpLength <= 1400))
    throw new Error(`--udp-length ${values['udp-length']}: expected 64-1400`);
  for (const [bin, pkg] of [
    ['iperf3', 'iperf3'],
    ['ping', 'iputils-ping'],
    ['nft', 'nftables'],
  ] as const) {
    if (firstLine([bin, '-V']) === 'not installed') {
      console.error(`bench:dataplane: ${bin} is required (apt-get install ${pkg})`);
      return 1;
    }
  }
  const settleMs = Number(values['settle-ms']);
  if (!(Number.isInteger(settleMs) && settleMs >= 0))
    throw new Error(`--settle-ms ${values['settle-ms']}: expected whole ms >= 0`);
  const search = {
    steps: Number(values['udp-search-steps']),
    seconds: Number(values['udp-search-seconds']),
    maxLossPercent: 1,
  };
  if (
    !(
      Number.isInteger(search.steps) &&
      search.steps >= 0 &&
      Number.isInteger(search.seconds) &&
      search.seconds >= 1
    )
  )
    throw new Error('--udp-search-steps: expected an integer >= 0; --udp-search-seconds: whole seconds >= 1');
  const wanted = new Set(values.paths.split(',').map((s) => s.trim()));
  const root = repoRoot();
  const outDir = resolve(values.out ?? join(root, 'bench', 'results'));
  const prefix = values.prefix ?? `b${process.pid % 100000}`;
  const dir = mkdtempSync(join(tmpdir(), 'dsmip6-bench-'));

  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      abort();
      await stopAll();
      await labDown(prefix).catch((e: unknown) => say(`lab down failed: ${String(e)}`));
      rmSync(dir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      say(`${sig}: tearing the lab down`);
      void cleanup().then(() => process.exit(130));
    });
  }

  const results: Results = {
    benchmark: 'dataplane',
    date: new Date().toISOString(),
    machine: machine(root),
    settings: {
      seconds,
      repeat,
      pings,
      udpLength,
      udpBitrate: 'unlimited (-b 0)',
      mnAt: 'nat',
      mnSettleMs: settleMs,
      udpSearch: search,
    },
    notes: [
      "iperf3: server in the MN namespace bound to the address the CN reaches it at, client at the CN; cn→mn = the CN sends, mn→cn = -R. Throughput is what the receiver got: the median of --repeat runs. UDP runs use 4 MB socket buffers (-w 4M; without them the receiving iperf3 itself drops bursts); TCP uses the kernel's autotuning. OpenVPN runs with its defaults apart from the crypto options (socket buffers and tun txqueuelen as shipped).",
      `UDP: -b 0 (as fast as the sender can) with ${udpLength}-byte datagrams (no fragmentation on any path); the received rate is the tunnel's UDP capacity, the loss shows the overload. Because at -b 0 the sender's own CPU use on a small machine decides much of what arrives, each UDP direction is also searched for the highest offered load with <= 1% loss (bisection on -b).`,
      'RTT added = tunnel p50/p99 minus the kernel path p50/p99 (IPv4; there is no IPv6 behind the NAT, so the IPv4 baseline serves both families).',
      `Handover: a 10 ms ping stream from the CN to each address of the path (dsmip6: the home addresses) during each move; gap = first reply after the move finished (new address and routes configured, labMove returned) minus that moment. The dsmip6 MN runs with settleMs ${settleMs} (its movement debounce; the daemon default is 500 ms), which is part of every gap.`,
    ],
    paths: [],
  };

  const busy = results.machine.loadAverage1mAtStart as number;
  if (busy > 0.5) {
    say(`warning: load average ${busy} before starting: other work on this machine will skew the numbers`);
  }
  try {
    say(`building lab ${prefix} (MN behind the NAT)`);
    await labUp({ prefix, at: 'nat' });
    // dsmip6 last: its walk ends at home; the others start from (and the OpenVPN walk ends at) the NAT.
    const paths: Path[] = [
      kernelPath,
      openvpnPath,
      dsmip6Path({ bin: join(root, 'bin', 'dsmip6.js'), dir, settleMs }),
    ];
    for (const p of paths) {
      if (!wanted.has(p.name)) continue;
      const { result, up } = await measurePath(prefix, p, {
        seconds,
        repeat,
        pings,
        udpLength,
        handover: !values['no-handover'],
        search,
      });
      results.paths.push(result);
      await up?.down();
      if ((await labStatus(prefix)).mn.location !== 'nat') await labMove(prefix, 'nat');
    }
  } finally {
    say('tearing the lab down');
    await cleanup();
  }

  // Includes the benchmark's own load: only a hint of what else ran.
  results.machine.loadAverage1mAtEnd = Math.round(loadavg()[0]! * 100) / 100;
  const report = renderReport(results);
  mkdirSync(outDir, { recursive: true });
  const day = results.date.slice(0, 10);
  const json = join(outDir, `dataplane-${day}.json`);
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, `dataplane-${day}.md`), `${report.markdown}\n`);
  process.stdout.write(`${report.text}\n\nresults: ${json}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`bench:dataplane: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
