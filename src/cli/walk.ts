/**
 * The main job: a mobile node walks between networks while a home agent keeps it reachable, and
 * a table shows each move (how long registration took, the care-of address, NAT detected, the
 * IPv4 home address). Two worlds run the same walk: the lab (network namespaces, real sockets,
 * real daemons; needs root) and the in-memory network (the same actor code over in-memory ports).
 */

import type { LabLocation } from '../lab/addresses.js';

export interface WalkStatus {
  readonly registration: string;
  readonly careOf: string | null;
  readonly natDetected: boolean | null;
  readonly ipv4?: string;
}

export interface WalkBinding {
  readonly careOf: string;
  readonly tunnel: string;
  readonly nat?: string;
  readonly sequence: number;
}

/** A place where the walk can happen. */
export interface WalkWorld {
  readonly name: string;
  move(where: LabLocation): Promise<void>;
  mn(): Promise<WalkStatus | undefined>;
  binding(): Promise<WalkBinding | undefined>;
  /** Lets `ms` of the world's time pass (a real sleep in the lab, a clock step in memory). */
  wait(ms: number): Promise<void>;
  /** The world's clock, for measuring registration time. */
  now(): number;
  /** Called before each move, outside the measured time (pacing for a person watching). */
  pause?(): Promise<void>;
  /**
   * Where there is a data plane: the correspondent node pings the IPv6 and the IPv4 home address
   * after the move settled; each answer is the round trip ("0.9 ms") or why not ("no reply").
   */
  reach?(): Promise<{ readonly ipv6: string; readonly ipv4: string }>;
  close(): Promise<void>;
}

export interface WalkRow {
  readonly move: LabLocation;
  readonly ok: boolean;
  readonly ms: number;
  readonly careOf: string;
  readonly tunnel: string;
  readonly nat: string;
  readonly ipv4: string;
  readonly sequence: string;
  /** The CN's pings to the home addresses ("-" without a data plane). */
  readonly reach: string;
}

/** What "settled" means after a move: registered at a new care-of address, or at home. */
function settled(
  where: LabLocation,
  s: WalkStatus | undefined,
  b: WalkBinding | undefined,
  before?: number,
): boolean {
  if (!s) return false;
  if (where === 'home') return s.registration === 'home' && b === undefined;
  return (
    s.registration === 'registered' && b !== undefined && (before === undefined || b.sequence !== before)
  );
}

export async function walk(
  world: WalkWorld,
  moves: readonly LabLocation[],
  timeoutMs = 20_000,
): Promise<WalkRow[]> {
  const rows: WalkRow[] = [];
  for (const where of moves) {
    await world.pause?.();
    const before = (await world.binding())?.sequence;
    const start = world.now();
    await world.move(where);
    let ok = false;
    let s: WalkStatus | undefined;
    let b: WalkBinding | undefined;
    while (world.now() - start < timeoutMs) {
      await world.wait(50);
      s = await world.mn();
      b = await world.binding();
      if (settled(where, s, b, before)) {
        ok = true;
        break;
      }
    }
    const ms = world.now() - start;
    const reach = ok && world.reach ? await world.reach() : undefined;
    rows.push({
      move: where,
      ok,
      ms,
      careOf: where === 'home' ? '(home)' : (b?.careOf ?? s?.careOf ?? '-'),
      tunnel: where === 'home' ? '-' : (b?.tunnel ?? '-'),
      nat: where === 'home' ? '-' : b?.nat ? `yes (${b.nat})` : s?.natDetected ? 'yes' : 'no',
      ipv4: s?.ipv4 ?? '-',
      sequence: b ? String(b.sequence) : '-',
      reach: reach ? `v6 ${reach.ipv6}, v4 ${reach.ipv4}` : '-',
    });
  }
  return rows;
}

export function walkTable(rows: readonly WalkRow[]): string {
  const head = [
    'move to',
    'registered',
    'care-of address',
    'tunnel',
    'NAT',
    'IPv4 HoA',
    'BU seq',
    'CN pings HoAs',
  ];
  const body = rows.map((r) => [
    r.move,
    r.ok ? `${r.ms} ms` : `NO (${r.ms} ms)`,
    r.careOf,
    r.tunnel,
    r.nat,
    r.ipv4,
    r.sequence,
    r.reach,
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
