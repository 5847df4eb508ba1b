/**
 * `dsmip6 ha`, `dsmip6 mn` and `dsmip6 status`: the daemons built from a config file on real
 * ports, with a control socket for status, an optional pcap of the signalling, and a clean
 * shutdown on SIGINT/SIGTERM.
 */

import { randomInt } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { espMobilityCrypto } from '../actors/crypto.js';
import { startHomeAgent } from '../actors/home-agent-runtime.js';
import { startMobileNode } from '../actors/mobile-node-runtime.js';
import { homeAgentInput, mobileNodeInput } from '../config/inputs.js';
import { ConfigFileError, loadConfig } from '../config/load.js';
import {
  DATAPLANE_SOCKET_BUFFER,
  type HomeDataplane,
  type MobileDataplane,
  startHomeDataplane,
  startMobileDataplane,
} from '../dataplane/daemon.js';
import { createInspectCollector } from '../inspect/collector.js';
import { startInspectServer } from '../inspect/server.js';
import { queryControl, serveControl } from '../net/control-socket.js';
import { NodeDnsPort } from '../net/dns.js';
import { IpLinkMonitor } from '../net/link-monitor.js';
import { systemClock, type UdpPortFactory } from '../net/ports.js';
import { RawIpv6Port, type RawReceiveProtocol } from '../net/raw-ipv6.js';
import { DgramUdpPortFactory } from '../net/udp.js';
import { KoffiUdpPortFactory } from '../net/udp-koffi.js';
import { derivedSaPairs } from '../security/derived.js';
import type { SaConfig } from '../security/sa.js';
import { SecurityAssociationDatabase } from '../security/sa.js';
import { pcapFileHeader, pcapRecord } from '../wire/index.js';
import { createLogger } from './logger.js';
import type { Io } from './main.js';

/**
 * Raw IPv6 for native signalling (BUs with a Home Address option, BAs with a Type 2 routing
 * header, plain ESP at home), which the kernel would drop without MIPv6 support. Without root
 * or CAP_NET_RAW the daemon runs on UDP 4191 alone and says so.
 */
function rawIpv6(receive: RawReceiveProtocol[], log: Logger): RawIpv6Port | undefined {
  try {
    return new RawIpv6Port({
      receive,
      onError: (e) => log.warn({ event: 'raw.error', error: e.message }, e.message),
    });
  } catch (e) {
    log.warn(
      { event: 'raw.unavailable', error: (e as Error).message },
      `${(e as Error).message}: native IPv6 signalling is off, UDP 4191 only`,
    );
    return undefined;
  }
}

/** The live inspection stream (--inspect): a collector fed by xstate's inspect observer. */
async function inspector(args: DaemonArgs, log: Logger) {
  if (!args.inspect) return undefined;
  const collector = createInspectCollector();
  const server = await startInspectServer({
    ...('path' in args.inspect ? { path: args.inspect.path, port: 0 } : args.inspect),
    collector,
    ...(args.inspectToken ? { token: args.inspectToken } : {}),
  });
  log.info({ event: 'inspect', url: server.url }, `inspection stream at ${server.url}`);
  return { collector, server };
}

/** A pcap file the daemon appends every signalling packet to (link type 101, raw IP). */
function pcapSink(
  file: string | undefined,
): { write: (packet: Uint8Array) => void; close: () => void } | undefined {
  if (!file) return undefined;
  const fd = openSync(file, 'w');
  writeSync(fd, pcapFileHeader());
  return {
    write: (packet) => {
      writeSync(fd, pcapRecord(Date.now() * 1000, packet));
    },
    close: () => closeSync(fd),
  };
}

interface DaemonArgs {
  config: string;
  pcap?: string;
  logLevel?: string;
  inspect?: { host: string; port: number } | { path: string };
  inspectToken?: string;
}

/** `unix:PATH` for --inspect: a Unix socket (see startInspectServer's `path`). */
export function parseInspectTarget(text: string): { host: string; port: number } | { path: string } {
  if (text.startsWith('unix:') && text.length > 5) return { path: text.slice(5) };
  return parseInspectAddress(text);
}

/** `[host:]port` for --inspect; the host defaults to loopback. */
export function parseInspectAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]+?)\]?:)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port < 1 || port > 65535)
    throw new Error(`--inspect ${JSON.stringify(text)}: expected [host:]port, e.g. 8190 or 127.0.0.1:8190`);
  return { host: m[1] ?? '127.0.0.1', port };
}

function daemonArgs(role: 'ha' | 'mn', argv: readonly string[], io: Io): DaemonArgs | undefined {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        pcap: { type: 'string' },
        'log-level': { type: 'string' },
        inspect: { type: 'string' },
        'inspect-token': { type: 'string' },
      },
    });
    if (!values.config) throw new Error(`--config FILE is required (see examples/${role}.json)`);
    return {
      config: values.config,
      ...(values.pcap ? { pcap: values.pcap } : {}),
      ...(values['log-level'] ? { logLevel: values['log-level'] } : {}),
      ...(values.inspect ? { inspect: parseInspectTarget(values.inspect) } : {}),
      ...(values['inspect-token'] ? { inspectToken: values['inspect-token'] } : {}),
    };
  } catch (e) {
    io.err(
      `dsmip6 ${role}: ${(e as Error).message}\nusage: dsmip6 ${role} --config FILE [--pcap FILE] [--log-level LEVEL]`,
    );
    return undefined;
  }
}

/** The validated config, or undefined after printing every error (field, value, fix). */
async function load<T>(role: 'ha' | 'mn', read: () => Promise<T>, io: Io): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    io.err(e instanceof ConfigFileError ? e.message : `dsmip6 ${role}: ${(e as Error).message}`);
    return undefined;
  }
}

/** Waits for SIGINT/SIGTERM or the runtime's own end; returns the exit code. */
async function untilStopped(done: Promise<{ failed: boolean }>, stop: () => Promise<void>): Promise<number> {
  const signal = new Promise<'signal'>((resolve) => {
    process.once('SIGINT', () => resolve('signal'));
    process.once('SIGTERM', () => resolve('signal'));
  });
  const how = await Promise.race([signal, done]);
  await stop();
  return how === 'signal' ? 0 : how.failed ? 1 : 0;
}

/** What both daemons need from their config besides the runtime's own options. */
interface DaemonBasics {
  readonly log: { readonly level: string };
  readonly pcap?: string;
  readonly control: { readonly socket: string };
}

/** The shared hooks a runtime is started with. */
interface DaemonHooks {
  readonly log: Logger;
  readonly onPacket: (direction: 'in' | 'out', packet: Uint8Array) => void;
  readonly inspect?: (event: InspectionEvent) => void;
}

interface Runtime {
  readonly done: Promise<{ failed: boolean }>;
  stop(): Promise<void>;
}

/**
 * Runs one daemon: logger, pcap, inspector, the runtime, the control socket, then waits for a
 * signal or the runtime's end and takes everything down in reverse order.
 */
async function serve<R extends Runtime>(
  role: 'ha' | 'mn',
  args: DaemonArgs,
  config: DaemonBasics,
  io: Io,
  start: (hooks: DaemonHooks) => Promise<R>,
  status: (runtime: R) => object,
  /** Runs after the runtime stopped (the data plane: its TUN, routes and proxy entries). */
  afterStop: () => Promise<void> = async () => {},
): Promise<number> {
  const log = createLogger(args.logLevel ?? config.log.level);
  const pcap = pcapSink(args.pcap ?? config.pcap);
  let live: Awaited<ReturnType<typeof inspector>>;
  try {
    live = await inspector(args, log);
  } catch (e) {
    io.err(`dsmip6 ${role}: ${(e as Error).message}`);
    pcap?.close();
    return 2;
  }
  let runtime: R;
  try {
    runtime = await start({
      log,
      onPacket: (direction, p) => {
        pcap?.write(p);
        live?.collector.packetBytes(direction, p);
      },
      ...(live ? { inspect: live.collector.observer } : {}),
    });
  } catch (e) {
    io.err(`dsmip6 ${role}: ${(e as Error).message}`);
    await live?.server.close();
    pcap?.close();
    return 1;
  }
  const control = await serveControl(config.control.socket, () => ({
    role,
    now: Date.now(),
    ...status(runtime),
  }));
  return untilStopped(runtime.done, async () => {
    await runtime.stop();
    await afterStop();
    await control.close();
    await live?.server.close();
    pcap?.close();
  });
}

export async function runHa(argv: readonly string[], io: Io): Promise<number> {
  const args = daemonArgs('ha', argv, io);
  if (!args) return 2;
  const config = await load('ha', () => loadConfig(args.config, 'ha'), io);
  if (!config) return 2;
  const sas: SaConfig[] = config.securityAssociations.flatMap((sa) => [
    { ...common(sa), spi: sa.spiIn, direction: 'in' as const, homeAddress: sa.homeAddress },
    { ...common(sa), spi: sa.spiOut, direction: 'out' as const, homeAddress: sa.homeAddress },
  ]);
  const sad = SecurityAssociationDatabase.from(sas, 'securityAssociations');
  // The derived range (a benchmark's HA, src/security/derived.ts): the same pairs `dsmip6 loadgen` uses.
  if (config.derivedSecurityAssociations) {
    for (const sa of derivedSaPairs(config.derivedSecurityAssociations)) {
      const path = `derivedSecurityAssociations[${sa.index}]`;
      sad.add({ ...common(sa), spi: sa.spiIn, direction: 'in', homeAddress: sa.homeAddress }, { path });
      sad.add({ ...common(sa), spi: sa.spiOut, direction: 'out', homeAddress: sa.homeAddress }, { path });
    }
  }
  let dataplane: HomeDataplane | undefined;
  return serve(
    'ha',
    args,
    config,
    io,
    async (hooks) => {
      // The data plane first: a TUN that cannot be made (no root, no /dev/net/tun) is a start error.
      dataplane = config.dataplane
        ? await startHomeDataplane({
            settings: config.dataplane,
            homePrefix: config.homePrefix.text,
            addresses: config.addresses,
            udpPort: config.udpPort,
            ...(config.ipv4Pool ? { ipv4Pool: config.ipv4Pool } : {}),
            log: hooks.log,
          })
        : undefined;
      const dp = dataplane;
      return startHomeAgent({
        ...hooks,
        ...(dp ? { onBinding: dp.onBinding, onTunnelData: dp.onTunnelData } : {}),
        input: homeAgentInput(config),
        addresses: config.addresses,
        udpPort: config.udpPort,
        crypto: espMobilityCrypto(sad),
        // Room for bursts: a registration storm of thousands of mobile nodes arrives faster than
        // one event-loop turn.
        udp: udpFactory(dp !== undefined, DATAPLANE_SOCKET_BUFFER),
        // BUs with a Home Address option (60) and from home as plain ESP (50).
        ...optional('ip', rawIpv6([60, 50], hooks.log)),
        clock: systemClock,
      }).catch(async (e) => {
        await dp?.stop();
        throw e;
      });
    },
    (runtime) => ({
      memory: daemonMemory(),
      bindings: runtime.bindings(),
      counters: runtime.counters(),
      ...(dataplane ? { dataplane: dataplane.counters() } : {}),
    }),
    async () => dataplane?.stop(),
  );
}

/**
 * Heap and RSS of the daemon for `dsmip6 status --json`. Under --expose-gc (the benchmark,
 * bench/ha) garbage is collected first, so heapUsed is what the binding cache really holds.
 */
function daemonMemory(): { heapUsed: number; heapTotal: number; rss: number; external: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external };
}

/**
 * The UDP socket a daemon binds: with a data plane, tunnelled data shares it with signalling
 * (RFC 5555 §4.1), so it is the lighter socket (src/net/udp-koffi.ts) with room for bursts;
 * signalling alone takes node:dgram, with `dgramBufferBytes` if given.
 */
function udpFactory(dataplane: boolean, dgramBufferBytes?: number): UdpPortFactory {
  if (dataplane) return new KoffiUdpPortFactory({ bufferBytes: DATAPLANE_SOCKET_BUFFER });
  return new DgramUdpPortFactory(dgramBufferBytes ? { bufferBytes: dgramBufferBytes } : {});
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

function common(sa: {
  algorithm: SaConfig['algorithm'];
  encryptionKey: Uint8Array;
  authenticationKey?: Uint8Array;
}) {
  return {
    algorithm: sa.algorithm,
    encryptionKey: sa.encryptionKey,
    ...(sa.authenticationKey ? { authenticationKey: sa.authenticationKey } : {}),
  };
}

export async function runMn(argv: readonly string[], io: Io): Promise<number> {
  const args = daemonArgs('mn', argv, io);
  if (!args) return 2;
  const config = await load('mn', () => loadConfig(args.config, 'mn'), io);
  if (!config) return 2;
  const sa = config.securityAssociation;
  const sas: SaConfig[] = [
    { ...common(sa), spi: sa.spiOut, direction: 'out', homeAddress: config.homeAddress },
    { ...common(sa), spi: sa.spiIn, direction: 'in', homeAddress: config.homeAddress },
  ];
  let mnDataplane: MobileDataplane | undefined;
  return serve(
    'mn',
    args,
    config,
    io,
    async (hooks) => {
      mnDataplane = config.dataplane
        ? await startMobileDataplane({
            settings: config.dataplane,
            homeAddress: config.homeAddress,
            log: hooks.log,
          })
        : undefined;
      const dp = mnDataplane;
      return startMobileNode({
        ...hooks,
        ...(dp ? { onTunnelState: dp.onTunnelState, onTunnelData: dp.onTunnelData } : {}),
        // RFC 6275 §11.7.1: the first sequence number is random.
        input: mobileNodeInput(config, randomInt(0x10000)),
        crypto: espMobilityCrypto(SecurityAssociationDatabase.from(sas, 'securityAssociation')),
        udp: udpFactory(dp !== undefined),
        udpPort: config.udpPort,
        dns: new NodeDnsPort(config.dns ? { servers: config.dns.servers } : {}),
        links: new IpLinkMonitor({
          ...(config.interfaces ? { interfaces: config.interfaces } : {}),
          ...(config.dataplane ? { exclude: [config.dataplane.tun] } : {}),
        }),
        // BAs with a Type 2 routing header (43) and at home as plain ESP (50).
        ...optional('ip', rawIpv6([43, 50], hooks.log)),
        clock: systemClock,
      }).catch(async (e) => {
        await dp?.stop();
        throw e;
      });
    },
    (runtime) => ({
      homeAddress: config.homeAddress,
      status: runtime.status() ?? null,
      counters: runtime.counters(),
      ...(mnDataplane ? { dataplane: mnDataplane.counters() } : {}),
    }),
    async () => mnDataplane?.stop(),
  );
}

interface HaStatusDoc {
  role: 'ha';
  now: number;
  bindings: {
    homeAddress: string;
    careOf: { address: string };
    tunnel: string;
    nat?: { address: string; port: number };
    ipv4HomeAddress?: string;
    sequence: number;
    expiresAt: number;
  }[];
  dataplane?: { dropped: Record<string, number>; icmpSent: number; bindings: Record<string, TrafficDoc> };
}
interface TrafficDoc {
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
  dropped: Record<string, number>;
}
/** `12 pkts / 3.4 KB`: one direction of a binding's traffic. */
const traffic = (packets: number, bytes: number): string =>
  `${packets} pkt / ${bytes < 10_000 ? `${bytes} B` : bytes < 10_000_000 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`}`;
const drops = (d: Record<string, number>): string =>
  Object.entries(d)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '-';
interface MnStatusDoc {
  role: 'mn';
  now: number;
  homeAddress?: string;
  counters?: { lastSequence: number | null };
  status: {
    registration: string;
    haName: string | null;
    attachment: string;
    careOf: string | null;
    lifetimeSeconds?: number;
    ipv4?: { status: string; address?: string };
    natDetected: boolean | null;
  } | null;
  dataplane?: TrafficDoc & { route: { mode: string; careOf: string; homeAgent: string } | null };
}

const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

export async function runStatus(argv: readonly string[], io: Io): Promise<number> {
  let values: { socket?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { socket: { type: 'string' }, json: { type: 'boolean' } },
    }));
  } catch (e) {
    io.err(`dsmip6 status: ${(e as Error).message}\nusage: dsmip6 status [--socket PATH] [--json]`);
    return 2;
  }
  const sockets = values.socket ? [values.socket] : ['/run/dsmip6/ha.sock', '/run/dsmip6/mn.sock'];
  let found = 0;
  for (const path of sockets) {
    let doc: unknown;
    try {
      doc = await queryControl(path);
    } catch (e) {
      if (values.socket) {
        io.err(`dsmip6 status: ${(e as Error).message}`);
        return 1;
      }
      continue;
    }
    found++;
    if (values.json) {
      io.out(JSON.stringify(doc));
      continue;
    }
    const d = doc as HaStatusDoc | MnStatusDoc;
    if (d.role === 'ha') {
      io.out(`home agent (${path}): ${d.bindings.length} binding(s)`);
      if (d.bindings.length) {
        io.out(
          table([
            ['HoA', 'IPv4 HoA', 'CoA', 'tunnel', 'NAT', 'lifetime left', 'seq'],
            ...d.bindings.map((b) => [
              b.homeAddress,
              b.ipv4HomeAddress ?? '-',
              b.careOf.address,
              b.tunnel,
              b.nat ? `yes ${b.nat.address}:${b.nat.port}` : 'no',
              `${Math.max(0, Math.round((b.expiresAt - d.now) / 1000))} s`,
              String(b.sequence),
            ]),
          ]),
        );
      }
      const dp = d.dataplane;
      if (dp) {
        io.out(
          `data plane: ${dp.icmpSent} ICMP error(s) sent; dropped outside bindings: ${drops(dp.dropped)}`,
        );
        if (d.bindings.length) {
          io.out(
            table([
              ['HoA', 'to MN', 'from MN', 'dropped'],
              ...d.bindings.map((b) => {
                const t = dp.bindings[b.homeAddress];
                return t
                  ? [
                      b.homeAddress,
                      traffic(t.packetsOut, t.bytesOut),
                      traffic(t.packetsIn, t.bytesIn),
                      drops(t.dropped),
                    ]
                  : [b.homeAddress, '-', '-', '-'];
              }),
            ]),
          );
        }
      }
    } else {
      const s = d.status;
      io.out(`mobile node (${path}): ${s ? s.registration : 'starting'}`);
      if (s) {
        io.out(
          table([
            ['HoA', 'HA', 'state', 'attachment', 'CoA', 'IPv4 HoA', 'NAT', 'lifetime', 'seq'],
            [
              d.homeAddress ?? '-',
              s.haName ?? '-',
              s.registration,
              s.attachment,
              s.careOf ?? '-',
              s.ipv4?.address ?? s.ipv4?.status ?? '-',
              s.natDetected === null ? '-' : s.natDetected ? 'yes' : 'no',
              s.lifetimeSeconds !== undefined ? `${s.lifetimeSeconds} s` : '-',
              d.counters?.lastSequence != null ? String(d.counters.lastSequence) : '-',
            ],
          ]),
        );
      }
      const dp = d.dataplane;
      if (dp) {
        io.out(
          `data plane: ${dp.route ? `${dp.route.mode} ${dp.route.careOf} -> ${dp.route.homeAgent}` : 'not tunnelling'}; out ${traffic(dp.packetsOut, dp.bytesOut)}, in ${traffic(dp.packetsIn, dp.bytesIn)}; dropped: ${drops(dp.dropped)}`,
        );
      }
    }
  }
  if (found === 0) {
    io.err(
      `dsmip6 status: no dsmip6 daemon is running (looked at ${sockets.join(', ')}; --socket PATH names another)`,
    );
    return 1;
  }
  return 0;
}
