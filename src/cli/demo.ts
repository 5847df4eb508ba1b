/**
 * `dsmip6 demo`, the main job: the mobile node walks home → IPv6 → public IPv4 → behind NAT →
 * home while the home agent keeps it reachable; a table shows each move. As root it builds the
 * lab and runs the real daemons; otherwise (or with --memory) it runs the same walk over the
 * in-memory network. With --inspect the in-memory walk is paced for a person and streamed to the
 * inspector, whose URL is printed.
 */

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInspectCollector, type InspectCollector } from '../inspect/collector.js';
import { startInspectServer } from '../inspect/server.js';
import { LAB_LOCATIONS, type LabLocation } from '../lab/addresses.js';
import { isRoot } from '../lab/lab.js';
import { proxyTcpToUnix } from '../net/unix-proxy.js';
import { parseInspectAddress } from './daemons.js';
import type { Io } from './main.js';
import { type WalkWorld, walk, walkTable } from './walk.js';
import { labWorld } from './walk-lab.js';
import { memoryWorld } from './walk-memory.js';

const DEFAULT_MOVES: readonly LabLocation[] = ['home', 'ipv6', 'ipv4', 'nat', 'home'];
const USAGE =
  'usage: dsmip6 demo [--memory] [--name LABPREFIX] [--moves home,ipv6,ipv4,nat,home] [--inspect [HOST:]PORT | --no-inspect] [--hold]';
/** Where the demo's inspector listens unless told otherwise (another port if this one is taken). */
const DEFAULT_INSPECT = { host: '127.0.0.1', port: 8190 };

export async function runDemo(argv: readonly string[], io: Io): Promise<number> {
  let values: {
    memory?: boolean;
    name?: string;
    moves?: string;
    inspect?: string;
    'no-inspect'?: boolean;
    hold?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        memory: { type: 'boolean' },
        name: { type: 'string' },
        moves: { type: 'string' },
        inspect: { type: 'string' },
        'no-inspect': { type: 'boolean' },
        hold: { type: 'boolean' },
      },
    }));
  } catch (e) {
    io.err(`dsmip6 demo: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const moves = values.moves ? values.moves.split(',').map((m) => m.trim()) : [...DEFAULT_MOVES];
  const bad = moves.filter((m) => !(LAB_LOCATIONS as readonly string[]).includes(m));
  if (bad.length) {
    io.err(`dsmip6 demo: --moves: unknown location ${bad.join(', ')} (expected ${LAB_LOCATIONS.join(', ')})`);
    return 2;
  }
  let address: { host: string; port: number } | undefined = values['no-inspect']
    ? undefined
    : DEFAULT_INSPECT;
  if (values.inspect) {
    try {
      address = parseInspectAddress(values.inspect);
    } catch (e) {
      io.err(`dsmip6 demo: ${(e as Error).message}`);
      return 2;
    }
  }
  let world: WalkWorld;
  let closeInspector: (() => Promise<void>) | undefined;
  const announce = (port: number): void => {
    const host = address?.host.includes(':') ? `[${address.host}]` : address?.host;
    io.out(`inspector: open http://${host}:${port}/ to watch the statecharts live`);
  };
  if (!values.memory && isRoot()) {
    const bin = fileURLToPath(new URL('../../bin/dsmip6.js', import.meta.url));
    io.out(
      'dsmip6 demo: building the lab (network namespaces, NAT, DNS) and starting dsmip6 ha and dsmip6 mn ...',
    );
    const lab = await labWorld({ prefix: values.name ?? 'demo', natUdpTimeout: 30, haRefresh: 20, bin });
    world = lab;
    if (address) {
      // The MN daemon serves its inspector on a Unix socket inside the lab; expose it here.
      const at = address;
      const proxy = await listenWithFallback(
        (port) => proxyTcpToUnix(at.host, port, lab.mnInspectSocket),
        at.port,
      );
      closeInspector = () => proxy.close();
      announce(proxy.port);
    }
  } else {
    if (!values.memory)
      io.out('dsmip6 demo: not root, so no lab: the same walk runs over the in-memory network.');
    let collector: InspectCollector | undefined;
    if (address) {
      // The inspector watches the in-memory walk: its actors live in this process.
      const c = createInspectCollector();
      const at = address;
      const server = await listenWithFallback(
        (port) => startInspectServer({ host: at.host, port, collector: c }),
        at.port,
      );
      collector = c;
      closeInspector = () => server.close();
      announce(server.port);
    }
    world = await memoryWorld(
      collector
        ? { inspect: { observer: collector.observer, packetBytes: (d, b) => collector?.packetBytes(d, b) } }
        : {},
    );
  }
  if (values.hold) world = paced(world);
  io.out(
    `world: ${world.name}\nthe mobile node finds its home agent by DNS (SRV _mip6._ipv6.example.net) and walks ${moves.join(' -> ')}\n`,
  );
  try {
    const rows = await walk(world, moves as LabLocation[]);
    io.out(walkTable(rows));
    const failed = rows.filter((r) => !r.ok);
    io.out(failed.length ? `\n${failed.length} move(s) did not settle.` : '\nevery move settled.');
    if (closeInspector && values.hold) {
      io.out('holding: the inspector stays up until Ctrl-C');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return failed.length ? 1 : 0;
  } finally {
    await world.close();
    await closeInspector?.();
  }
}

/** Listens on `port`, or on any free port when that one is taken (the demo must still run). */
async function listenWithFallback<T>(listen: (port: number) => Promise<T>, port: number): Promise<T> {
  try {
    return await listen(port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return listen(0);
  }
}

/** With a person watching the inspector, each move waits two seconds of real time first. */
function paced(world: WalkWorld): WalkWorld {
  return { ...world, pause: () => new Promise((r) => setTimeout(r, 2_000)) };
}
