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
import { type InspectServer, startInspectServer } from '../inspect/server.js';
import { LAB_LOCATIONS, type LabLocation } from '../lab/addresses.js';
import { isRoot } from '../lab/lab.js';
import { parseInspectAddress } from './daemons.js';
import type { Io } from './main.js';
import { type WalkWorld, walk, walkTable } from './walk.js';
import { labWorld } from './walk-lab.js';
import { memoryWorld } from './walk-memory.js';

const DEFAULT_MOVES: readonly LabLocation[] = ['home', 'ipv6', 'ipv4', 'nat', 'home'];
const USAGE =
  'usage: dsmip6 demo [--memory] [--name LABPREFIX] [--moves home,ipv6,ipv4,nat,home] [--inspect [HOST:]PORT [--hold]]';

export async function runDemo(argv: readonly string[], io: Io): Promise<number> {
  let values: { memory?: boolean; name?: string; moves?: string; inspect?: string; hold?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        memory: { type: 'boolean' },
        name: { type: 'string' },
        moves: { type: 'string' },
        inspect: { type: 'string' },
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
  let address: { host: string; port: number } | undefined;
  if (values.inspect) {
    try {
      address = parseInspectAddress(values.inspect);
    } catch (e) {
      io.err(`dsmip6 demo: ${(e as Error).message}`);
      return 2;
    }
  }
  let world: WalkWorld;
  let live: { server: InspectServer; collector: InspectCollector } | undefined;
  if (!values.memory && !address && isRoot()) {
    const bin = fileURLToPath(new URL('../../bin/dsmip6.js', import.meta.url));
    io.out(
      'dsmip6 demo: building the lab (network namespaces, NAT, DNS) and starting dsmip6 ha and dsmip6 mn ...',
    );
    world = await labWorld({ prefix: values.name ?? 'demo', natUdpTimeout: 30, haRefresh: 20, bin });
  } else {
    if (!values.memory && !address) {
      io.out('dsmip6 demo: not root, so no lab: the same walk runs over the in-memory network.');
    }
    if (address) {
      // The inspector watches the in-memory walk: its actors live in this process.
      const collector = createInspectCollector();
      const server = await startInspectServer({ ...address, collector });
      live = { server, collector };
      const host = address.host.includes(':') ? `[${address.host}]` : address.host;
      io.out(`inspector: open http://${host}:${server.port}/`);
    }
    const c = live?.collector;
    world = await memoryWorld(
      c ? { inspect: { observer: c.observer, packetBytes: (d, b) => c.packetBytes(d, b) } } : {},
    );
    if (live) world = paced(world);
  }
  io.out(
    `world: ${world.name}\nthe mobile node finds its home agent by DNS (SRV _mip6._ipv6.example.net) and walks ${moves.join(' -> ')}\n`,
  );
  try {
    const rows = await walk(world, moves as LabLocation[]);
    io.out(walkTable(rows));
    const failed = rows.filter((r) => !r.ok);
    io.out(failed.length ? `\n${failed.length} move(s) did not settle.` : '\nevery move settled.');
    if (live && values.hold) {
      io.out('holding: the inspector stays up until Ctrl-C');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return failed.length ? 1 : 0;
  } finally {
    await world.close();
    await live?.server.close();
  }
}

/** With a person watching the inspector, each move waits two seconds of real time first. */
function paced(world: WalkWorld): WalkWorld {
  return {
    ...world,
    async move(where) {
      await new Promise((r) => setTimeout(r, 2_000));
      await world.move(where);
    },
  };
}
