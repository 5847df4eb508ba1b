/**
 * `dsmip6 demo`, the main job: the mobile node walks home → IPv6 → public IPv4 → behind NAT →
 * home while the home agent keeps it reachable; a table shows each move. As root it builds the
 * lab and runs the real daemons; otherwise it runs the same walk over the in-memory network.
 */

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LAB_LOCATIONS, type LabLocation } from '../lab/addresses.js';
import { isRoot } from '../lab/lab.js';
import type { Io } from './main.js';
import { type WalkWorld, walk, walkTable } from './walk.js';
import { labWorld } from './walk-lab.js';
import { memoryWorld } from './walk-memory.js';

const DEFAULT_MOVES: readonly LabLocation[] = ['home', 'ipv6', 'ipv4', 'nat', 'home'];

export async function runDemo(argv: readonly string[], io: Io): Promise<number> {
  let values: { memory?: boolean; name?: string; moves?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { memory: { type: 'boolean' }, name: { type: 'string' }, moves: { type: 'string' } },
    }));
  } catch (e) {
    io.err(
      `dsmip6 demo: ${(e as Error).message}\nusage: dsmip6 demo [--memory] [--name LABPREFIX] [--moves home,ipv6,ipv4,nat,home]`,
    );
    return 2;
  }
  const moves = values.moves ? values.moves.split(',').map((m) => m.trim()) : [...DEFAULT_MOVES];
  const bad = moves.filter((m) => !(LAB_LOCATIONS as readonly string[]).includes(m));
  if (bad.length) {
    io.err(`dsmip6 demo: --moves: unknown location ${bad.join(', ')} (expected ${LAB_LOCATIONS.join(', ')})`);
    return 2;
  }
  let world: WalkWorld;
  if (!values.memory && isRoot()) {
    const bin = fileURLToPath(new URL('../../bin/dsmip6.js', import.meta.url));
    io.out(
      'dsmip6 demo: building the lab (network namespaces, NAT, DNS) and starting dsmip6 ha and dsmip6 mn ...',
    );
    world = await labWorld({ prefix: values.name ?? 'demo', natUdpTimeout: 30, haRefresh: 20, bin });
  } else {
    if (!values.memory)
      io.out('dsmip6 demo: not root, so no lab: the same walk runs over the in-memory network.');
    world = await memoryWorld();
  }
  io.out(
    `world: ${world.name}\nthe mobile node finds its home agent by DNS (SRV _mip6._ipv6.example.net) and walks ${moves.join(' -> ')}\n`,
  );
  try {
    const rows = await walk(world, moves as LabLocation[]);
    io.out(walkTable(rows));
    const failed = rows.filter((r) => !r.ok);
    io.out(failed.length ? `\n${failed.length} move(s) did not settle.` : '\nevery move settled.');
    return failed.length ? 1 : 0;
  } finally {
    await world.close();
  }
}
