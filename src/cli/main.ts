/** `dsmip6` command line: dispatches to subcommands and prints help. */

import { readFileSync } from 'node:fs';
import { runLab } from '../lab/cli.js';
import { runHa, runMn, runStatus } from './daemons.js';
import { runDecode } from './decode.js';
import { runDemo } from './demo.js';
import { runInspect } from './inspect.js';
import { runLoadgenCommand } from './loadgen.js';
import { runPackets } from './packets.js';
import { runStatecharts } from './statecharts.js';
import { runTestgen } from './testgen.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

const HELP = `dsmip6 - Dual-Stack Mobile IPv6 (RFC 5555 on RFC 6275)

Usage: dsmip6 <command> [options]

Commands:
  ha --config FILE [--pcap FILE] [--log-level L] [--inspect [HOST:]PORT] [--inspect-token T]
                              Run the home agent (examples/ha.json). Root for raw IPv6
                              signalling and, with a "dataplane" section, the TUN home
                              network and the tunnels (docs/dataplane.md).
  mn --config FILE (same options)
                              Run the mobile node (examples/mn.json; "dataplane": a TUN
                              with the home addresses, root). --inspect streams
                              the live statechart actors and signalling packets over a
                              WebSocket (msgpack) at ws://HOST:PORT/stream; a non-loopback
                              HOST needs --inspect-token or DSMIP6_INSPECT_TOKEN.
  inspect --record FILE [--url WS] [--token T]
                              Store a daemon's inspection stream to FILE; the inspector page
                              replays it at any speed.
  status [--socket PATH] [--json]
                              Ask a running daemon: the binding cache (HA) or the binding
                              update list (MN): HoA, IPv4 HoA, CoA, NAT, lifetime, sequence;
                              with a data plane, traffic and drops per binding.
  demo [--memory] [--moves home,ipv6,ipv4,nat,home]
                              The main job: a mobile node walks between networks while the
                              home agent keeps it reachable; prints a table of each move
                              (in the lab with the CN's pings to both home addresses).
                              As root: the lab with the real daemons; else in memory.
  packets [--pcap FILE]       Build the signalling of such a walk with dsmip6's codec, print
                              each packet decoded, save them as a pcap for Wireshark.
  decode FILE [--json]        Decode every packet of a pcap file (raw IP, link type 101)
                              with dsmip6's codec; malformed packets are named, not fatal.
  testgen [--machine NAME|all] [--strategy cover|shortest|simple]
          [--format json|vitest] [--out DIR]
                              Generate test paths from the protocol statecharts (events,
                              their times, expected states) to drive any implementation;
                              prints state/transition coverage of the paths.
  statecharts [--write|--check] [--out DIR]
                              Write each protocol machine's statechart to DIR (default
                              statecharts/) as <name>.json and a Mermaid <name>.md, or
                              check that the files there are up to date (exit 1 if not).
  loadgen --config HA.json [--mobile-nodes N] [--rate R|max] [--duration S] [--nat RATIO]
          [--ipv4-hoa RATIO] [--move RATIO] [--lifetime S] [--json]
                              Simulate N mobile nodes (the HA config's
                              derivedSecurityAssociations range) registering, refreshing,
                              moving and deregistering over UDP with ESP; reports offered
                              and answered BU/s, BU->BA latency, BA statuses, losses.
  lab up|down|move WHERE|status|exec NODE -- CMD [--name PREFIX]
                              The network-namespace lab (needs root): home link with the HA,
                              IPv6-only and public IPv4 visited networks, a private network
                              behind an nftables NAT, a correspondent node and dnsmasq. \`move
                              home|ipv6|ipv4|nat\` moves the mobile node; \`up\` takes
                              --nat-udp-timeout SECONDS. See lab/README.md.
  help                        This text.

Options:
  -h, --help                  Show help.
  -v, --version               Show the version.

README.md lists what each release supports.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function run(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      io.out(HELP);
      return 0;
    case '-v':
    case '--version':
      io.out(version());
      return 0;
    case 'demo':
      return runDemo(rest, io);
    case 'packets':
      return runPackets(rest, io);
    case 'decode':
      return runDecode(rest, io);
    case 'testgen':
      return runTestgen(rest, io);
    case 'statecharts':
      return runStatecharts(rest, io);
    case 'ha':
      return runHa(rest, io);
    case 'mn':
      return runMn(rest, io);
    case 'status':
      return runStatus(rest, io);
    case 'inspect':
      return runInspect(rest, io);
    case 'lab':
      return runLab(rest, io);
    case 'loadgen':
      return runLoadgenCommand(rest, io);
    default:
      io.err(`dsmip6: unknown command ${JSON.stringify(cmd)}; run \`dsmip6 --help\` for the list`);
      return 2;
  }
}
