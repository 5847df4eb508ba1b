/** `dsmip6 lab up|down|move|status|exec`: the network-namespace lab from the command line. */

import { parseArgs } from 'node:util';
import type { Io } from '../cli/main.js';
import {
  formatLabStatus,
  isRoot,
  LAB_DEFAULT_PREFIX,
  LAB_LOCATIONS,
  LAB_NEEDS_ROOT,
  LAB_NODES,
  LabError,
  type LabLocation,
  type LabNode,
  labDown,
  labMove,
  labSpawn,
  labStatus,
  labUp,
} from './lab.js';

export const LAB_USAGE = `usage: dsmip6 lab up [--name PREFIX] [--nat-udp-timeout SECONDS] [--at home|ipv6|ipv4|nat]
       dsmip6 lab down [--name PREFIX]
       dsmip6 lab move home|ipv6|ipv4|nat [--name PREFIX]
       dsmip6 lab status [--name PREFIX]
       dsmip6 lab exec ${LAB_NODES.join('|')} [--name PREFIX] -- COMMAND [ARG...]
(PREFIX defaults to ${LAB_DEFAULT_PREFIX}; see lab/README.md for the topology)`;

export async function runLab(argv: readonly string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.err(`dsmip6 lab: ${(e as Error).message}\n${LAB_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...args] = positionals;
  const usage = (why: string) => {
    io.err(`dsmip6 lab: ${why}\n${LAB_USAGE}`);
    return 2;
  };
  const prefix = values.name ?? LAB_DEFAULT_PREFIX;
  let natUdpTimeout: number | undefined;
  if (values['nat-udp-timeout'] !== undefined) {
    natUdpTimeout = Number(values['nat-udp-timeout']);
    if (sub !== 'up') return usage('--nat-udp-timeout goes with `up`');
    if (!Number.isInteger(natUdpTimeout) || natUdpTimeout < 1) {
      return usage(
        `--nat-udp-timeout ${JSON.stringify(values['nat-udp-timeout'])}: expected whole seconds ≥ 1`,
      );
    }
  }
  const at = values.at;
  if (at !== undefined && (sub !== 'up' || !isLocation(at))) {
    return usage(`--at ${JSON.stringify(at)}: expected one of ${LAB_LOCATIONS.join(', ')} with \`up\``);
  }
  switch (sub) {
    case undefined:
      return usage('expected a subcommand');
    case 'up':
    case 'down':
    case 'status':
      if (args.length > 0) return usage(`unexpected argument ${JSON.stringify(args[0])}`);
      break;
    case 'move':
      if (args.length !== 1 || !isLocation(args[0] ?? '')) {
        return usage(`move: expected one of ${LAB_LOCATIONS.join(', ')}`);
      }
      break;
    case 'exec':
      if (!isNode(args[0] ?? '') || args.length < 2) return usage('exec: expected NODE -- COMMAND [ARG...]');
      break;
    default:
      return usage(`unknown subcommand ${JSON.stringify(sub)}`);
  }
  if (!isRoot()) {
    io.err(`dsmip6 lab: ${LAB_NEEDS_ROOT}`);
    return 1;
  }
  try {
    switch (sub) {
      case 'up':
        await labUp({ prefix, natUdpTimeout, at: at as LabLocation | undefined });
        for (const line of formatLabStatus(await labStatus(prefix))) io.out(line);
        return 0;
      case 'down':
        await labDown(prefix);
        io.out(`lab ${prefix}: down`);
        return 0;
      case 'move':
        await labMove(prefix, args[0] as LabLocation);
        for (const line of formatLabStatus(await labStatus(prefix))) io.out(line);
        return 0;
      case 'status':
        for (const line of formatLabStatus(await labStatus(prefix))) io.out(line);
        return 0;
      case 'exec':
        return await execInherit(prefix, args[0] as LabNode, args.slice(1));
    }
  } catch (e) {
    if (e instanceof LabError) {
      io.err(`dsmip6 ${e.message.startsWith('lab: ') ? e.message : `lab: ${e.message}`}`);
      return 1;
    }
    throw e;
  }
  return 0;
}

function execInherit(prefix: string, node: LabNode, argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = labSpawn(prefix, node, argv, 'inherit');
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function isLocation(s: string): s is LabLocation {
  return (LAB_LOCATIONS as readonly string[]).includes(s);
}

function isNode(s: string): s is LabNode {
  return (LAB_NODES as readonly string[]).includes(s);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'nat-udp-timeout': { type: 'string' },
      at: { type: 'string' },
    },
  });
}
