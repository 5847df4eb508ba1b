/**
 * `dsmip6 loadgen`: simulated mobile nodes against one home agent (src/loadgen), taking the HA's
 * address and the `derivedSecurityAssociations` range from the HA's own config file, so both
 * sides derive the same keys. Prints a table per phase, or the report as JSON.
 */

import { createInterface } from 'node:readline';
import { ConfigFileError, loadConfig } from '../config/load.js';
import type { HaConfig, HaDerivedSaConfig } from '../config/schema.js';
import {
  createLoadgen,
  type LoadgenOptions,
  type LoadgenReport,
  PHASES,
  type Phase,
  runLoadgen,
} from '../loadgen/engine.js';
import { DEFAULT_MAX_SOCKETS, LoadgenArgsError, parseLoadgenArgs } from '../loadgen/options.js';
import { DgramUdpPortFactory } from '../net/udp.js';
import type { Io } from './main.js';

const USAGE = `usage: dsmip6 loadgen --config HA.json [--mobile-nodes N] [--rate R|max] [--window W]
         [--lifetime S] [--duration S] [--nat RATIO] [--ipv4-hoa RATIO] [--move RATIO]
         [--timeout MS] [--phases register,steady,deregister] [--sockets S] [--bind ADDR[/LEN]]
         [--seed N] [--json]`;

export function formatLoadgenReport(report: LoadgenReport): string {
  const rows = [
    ['phase', 'offered', 'answered', 'lost', 'BA/s', 'p50 ms', 'p99 ms', 'max ms', 'BA status', 'NAT ok'],
    ...report.phases.map((p) => [
      p.phase,
      String(p.offered),
      String(p.answered),
      String(p.lost),
      String(p.answeredPerSecond),
      String(p.latency.p50Ms),
      String(p.latency.p99Ms),
      String(p.latency.maxMs),
      Object.entries(p.status)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ') || '-',
      `${p.natAsExpected}/${p.natAsExpected + p.natUnexpected}`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [
    `${report.mobileNodes} mobile nodes on ${report.sockets} UDP sockets`,
    ...rows.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
  ].join('\n');
}

export async function runLoadgenCommand(argv: readonly string[], io: Io): Promise<number> {
  let args: ReturnType<typeof parseLoadgenArgs>;
  try {
    args = parseLoadgenArgs(argv);
  } catch (e) {
    io.err(`dsmip6 loadgen: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let config: HaConfig;
  try {
    config = await loadConfig(args.config, 'ha');
  } catch (e) {
    io.err(e instanceof ConfigFileError ? e.message : `dsmip6 loadgen: ${(e as Error).message}`);
    return 2;
  }
  const range = config.derivedSecurityAssociations;
  if (!range) {
    io.err(
      `dsmip6 loadgen: ${args.config}: no derivedSecurityAssociations: the load generator derives its mobile nodes' keys from that range`,
    );
    return 2;
  }
  if (!config.addresses.ipv4) {
    io.err(
      `dsmip6 loadgen: ${args.config}: addresses.ipv4 is missing: the mobile nodes reach the HA over UDP`,
    );
    return 2;
  }
  const mobileNodes = args.mobileNodes ?? range.count;
  if (mobileNodes > range.count) {
    io.err(
      `dsmip6 loadgen: --mobile-nodes ${mobileNodes}: the config's derivedSecurityAssociations has only ${range.count}`,
    );
    return 2;
  }
  const options = (
    mobileNodes: number,
    range: HaDerivedSaConfig,
    ha: LoadgenOptions['ha'],
  ): LoadgenOptions => ({
    ha,
    range,
    mobileNodes,
    rate: args.rate,
    window: args.window,
    lifetimeSeconds: args.lifetimeSeconds,
    durationSeconds: args.durationSeconds,
    natRatio: args.natRatio,
    ipv4HomeRatio: args.ipv4HomeRatio,
    moveRatio: args.moveRatio,
    timeoutMs: args.timeoutMs,
    phases: args.phases,
    sockets: args.sockets ?? Math.min(mobileNodes, DEFAULT_MAX_SOCKETS),
    bindAddresses: args.bindAddresses,
    udp: new DgramUdpPortFactory(),
    seed: args.seed,
    ...(args.json || args.interactive ? {} : { progress: (line: string) => io.err(line) }),
  });
  const ha = { ipv4: config.addresses.ipv4, port: config.udpPort, ipv6: config.addresses.ipv6 };
  if (args.interactive) return interactive(options(mobileNodes, range, ha), io);
  try {
    const report = await runLoadgen(options(mobileNodes, range, ha));
    io.out(args.json ? JSON.stringify(report) : formatLoadgenReport(report));
    return 0;
  } catch (e) {
    io.err(`dsmip6 loadgen: ${e instanceof LoadgenArgsError ? e.message : (e as Error).message}`);
    return 1;
  }
}

/**
 * `--interactive`: one population for a whole benchmark. Each stdin line `PHASE [RATE|max]
 * [SECONDS]` runs a phase and prints its report as one JSON line; EOF closes the sockets.
 */
async function interactive(options: LoadgenOptions, io: Io): Promise<number> {
  const loadgen = await createLoadgen(options);
  io.out(JSON.stringify({ ready: true, mobileNodes: loadgen.mobileNodes, sockets: loadgen.sockets }));
  const lines = createInterface({ input: process.stdin });
  try {
    for await (const line of lines) {
      const [phase, rateText, secondsText] = line.trim().split(/\s+/);
      if (!phase) continue;
      if (!(PHASES as readonly string[]).includes(phase)) {
        io.out(
          JSON.stringify({ error: `unknown phase ${JSON.stringify(phase)} (expected ${PHASES.join(', ')})` }),
        );
        continue;
      }
      const rate = rateText === undefined || rateText === 'max' ? 'max' : Number(rateText);
      const seconds = secondsText === undefined ? undefined : Number(secondsText);
      if ((rate !== 'max' && !(rate > 0)) || (seconds !== undefined && !(seconds >= 0))) {
        io.out(JSON.stringify({ error: `bad rate or seconds in ${JSON.stringify(line)}` }));
        continue;
      }
      const report = await loadgen.run(phase as Phase, {
        rate,
        ...(seconds !== undefined ? { durationSeconds: seconds } : {}),
      });
      io.out(JSON.stringify(report));
    }
  } finally {
    await loadgen.close();
  }
  return 0;
}
