/**
 * `npm run bench:ha`: one `dsmip6 ha` and one `dsmip6 loadgen` as separate processes on the
 * loopback of a network namespace of their own, at 1k, 10k and 100k mobile nodes (AES-GCM ESP on
 * every BU and BA). For each size:
 * 1. idle: the HA with the N SAs configured, no binding (heap and RSS after GC);
 * 2. register: every node registers, closed loop (the HA's CPU per binding added);
 * 3. loaded: heap and RSS again, the difference divided by N is the cost of a binding;
 * 4. peak: refreshes and moves as fast as answers come back (the sustained BA/s);
 * 5. half: the same at half that rate, open loop (p50/p99 BU→BA latency);
 * 6. deregister: every node deregisters (the HA's CPU per binding removed);
 * 7. after MAX_DELETE_BCE_TIMEOUT, every entry must be gone and the heap back near idle.
 * Plus the in-process cost of adding and removing one binding (cache-cost.ts). Writes
 * bench/results/ha-<date>.json and .md and prints the table. Needs root (the namespace).
 *
 *   npm run bench:ha -- [--sizes 1000,10000,100000] [--seconds 10] [--out bench/results]
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, version as osVersion, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MAX_DELETE_BCE_TIMEOUT_MS } from '../../src/machines/binding-cache-entry.js';
import { type CacheCost, cacheCost } from './cache-cost.js';
import { createNetns, HA_IPV4, type Netns } from './netns.js';
import { cpuSeconds, haStatus, sleep, startHa, startLoadgen } from './processes.js';
import { renderTable, type SizeResult } from './report.js';

// Compiled to dist/bench/bench/ha/main.js: the checkout is four levels up.
const root = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
const cli = join(root, 'bin', 'dsmip6.js');

const USAGE = `usage: sudo npm run bench:ha -- [--sizes 1000,10000,100000] [--seconds 10] [--out DIR]
  --sizes    simulated mobile nodes per round, comma-separated (each 1-1048576)
  --seconds  length of the peak and half-peak phases
  --out      where the JSON and Markdown results go (default bench/results)`;

function say(s: string): void {
  process.stderr.write(`bench:ha: ${s}\n`);
}

function haConfig(dir: string, count: number): string {
  const file = join(dir, 'ha.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        homePrefix: '2001:db8:1::/64',
        addresses: { ipv6: '2001:db8:1::1', ipv4: HA_IPV4 },
        maxLifetimeSeconds: 3600,
        // Room for every node's IPv4 home address (a fifth of them ask for one).
        ipv4Pool: { start: '10.128.0.1', end: '10.131.255.254', prefixLength: 14 },
        // A benchmark key: every mobile node's SA pair derives from it (src/security/derived.ts).
        derivedSecurityAssociations: {
          firstHomeAddress: '2001:db8:1::1:0',
          count,
          seed: '62656e63686d61726b206b6579206f6e6c792c206e6f7420612073656372657421',
          algorithm: 'aes-gcm-16',
          spiInBase: 0x10000,
          spiOutBase: 0x1000000,
        },
        control: { socket: join(dir, 'ha.sock') },
        log: { level: 'warn' },
      },
      null,
      2,
    ),
  );
  return file;
}

async function benchSize(ns: Netns, n: number, seconds: number): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dsmip6-bench-ha-'));
  const config = haConfig(dir, n);
  const socket = join(dir, 'ha.sock');
  say(`${n} mobile nodes: starting dsmip6 ha (deriving ${n} SA pairs)`);
  const ha = await startHa(ns.exec([process.execPath, '--expose-gc', cli, 'ha', '--config', config]), socket);
  const pid = ha.child.pid!;
  const loadgen = await startLoadgen(
    ns.exec([
      process.execPath,
      cli,
      'loadgen',
      '--config',
      config,
      '--interactive',
      '--mobile-nodes',
      String(n),
      '--lifetime',
      '3600',
      '--nat',
      '0.5',
      '--ipv4-hoa',
      '0.2',
      '--move',
      '0.1',
      '--window',
      '256',
      '--bind',
      '127.1.0.0/16',
    ]),
  );
  try {
    await sleep(1000);
    const idle = await haStatus(socket);
    say(`${n}: register`);
    let cpu = cpuSeconds(pid);
    const register = await loadgen.run('register max');
    const registerCpu = cpuSeconds(pid) - cpu;
    const loaded = await haStatus(socket);
    if (loaded.bindings !== n) throw new Error(`${loaded.bindings} bindings after registering ${n}`);
    say(`${n}: peak`);
    cpu = cpuSeconds(pid);
    const peak = await loadgen.run(`steady max ${seconds}`);
    const peakCpu = cpuSeconds(pid) - cpu;
    const halfRate = Math.max(1, Math.round(peak.answeredPerSecond / 2));
    say(`${n}: ${halfRate} BU/s (half the peak)`);
    const half = await loadgen.run(`steady ${halfRate} ${seconds}`);
    say(`${n}: deregister`);
    cpu = cpuSeconds(pid);
    const deregister = await loadgen.run('deregister max');
    const deregisterCpu = cpuSeconds(pid) - cpu;
    // RFC 6275 §10.3.2: a deregistered entry stays MAX_DELETE_BCE_TIMEOUT, then goes.
    await sleep(MAX_DELETE_BCE_TIMEOUT_MS + 2000);
    const after = await haStatus(socket);
    const perBinding = (bytes: number): number => Math.round(bytes / n);
    return {
      mobileNodes: n,
      loadgenSockets: loadgen.sockets,
      idle: idle.memory,
      loaded: loaded.memory,
      after: after.memory,
      bindingsAfter: after.bindings,
      heapPerBinding: perBinding(loaded.memory.heapUsed - idle.memory.heapUsed),
      rssPerBinding: perBinding(loaded.memory.rss - idle.memory.rss),
      heapAfterVsIdle: Math.round((after.memory.heapUsed / idle.memory.heapUsed - 1) * 1000) / 1000,
      rssAfterVsIdle: Math.round((after.memory.rss / idle.memory.rss - 1) * 1000) / 1000,
      haCpuMicrosPerAdd: Math.round((registerCpu * 1e6) / register.answered),
      haCpuMicrosPerRefresh: Math.round((peakCpu * 1e6) / Math.max(1, peak.answered)),
      haCpuMicrosPerRemove: Math.round((deregisterCpu * 1e6) / deregister.answered),
      phases: { register, peak, half, deregister },
    };
  } finally {
    await loadgen.stop();
    await ha.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function machine(): Record<string, string | number> {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${release()} ${osVersion()}`,
    node: process.version,
    // Other work on the machine skews every number: the 1-minute load average when it ended.
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}

async function main(): Promise<number> {
  let values: { sizes: string; seconds: string; out: string; help: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        sizes: { type: 'string', default: '1000,10000,100000' },
        seconds: { type: 'string', default: '10' },
        out: { type: 'string', default: join(root, 'bench', 'results') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    say(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const sizes = values.sizes.split(',').map(Number);
  const seconds = Number(values.seconds);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 1 << 20) || !(seconds > 0)) {
    say('--sizes must be integers 1-1048576 (comma-separated) and --seconds a positive number');
    return 2;
  }
  if (process.getuid?.() !== 0) {
    say('needs root: the HA and the load generator run in a network namespace of their own');
    return 2;
  }
  const cache: CacheCost[] = [];
  for (const n of sizes) {
    say(`in-process cost of one binding at ${n}`);
    cache.push(cacheCost(n));
  }
  const ns = createNetns(`dsmip6-bench-ha-${process.pid}`);
  const results: SizeResult[] = [];
  try {
    for (const n of sizes) results.push(await benchSize(ns, n, seconds));
  } finally {
    ns.remove();
  }
  const doc = {
    date: new Date().toISOString(),
    machine: machine(),
    seconds,
    cacheCost: cache,
    sizes: results,
  };
  mkdirSync(values.out, { recursive: true });
  const stamp = doc.date.replace(/[:.]/g, '-');
  const table = renderTable(doc);
  writeFileSync(join(values.out, `ha-${stamp}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(values.out, `ha-${stamp}.md`), `${table}\n`);
  process.stdout.write(`${table}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    say(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
