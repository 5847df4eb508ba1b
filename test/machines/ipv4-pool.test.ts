/**
 * The HA's dynamic IPv4 home address pool (src/machines/ipv4-pool.ts) against the plain list and
 * record it replaced: same addresses handed out in the same order, old versions untouched, and an
 * update that copies one bucket however many leases there are.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createIpv4Pool,
  freeAddresses,
  freeCount,
  heldBy,
  ipv4Range,
  leasesOf,
  nextFree,
  releaseAllIpv4,
  releaseIpv4,
  takeIpv4,
} from '../../src/machines/ipv4-pool.js';

const CONFIG = { start: '192.0.2.10', end: '192.0.2.17', prefixLength: 24, leaseSeconds: 200 };

/** The pool as it was before: the free list in hand-out order and a record of leases. */
class Reference {
  free = ipv4Range(CONFIG.start, CONFIG.end);
  leases: Record<string, string> = {};
  take(hoa: string, address: string): void {
    if (this.leases[address] === hoa) return;
    this.free = this.free.filter((a) => a !== address);
    this.leases = { ...this.leases, [address]: hoa };
  }
  release(address: string): void {
    if (this.leases[address] === undefined) return;
    const { [address]: _, ...rest } = this.leases;
    this.leases = rest;
    this.free = [...this.free, address];
  }
  releaseAll(hoa: string): void {
    for (const a of Object.keys(this.leases).filter((x) => this.leases[x] === hoa)) this.release(a);
  }
}

const sorted = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).sort());

type Op =
  | { op: 'takeNext'; hoa: number }
  | { op: 'takeStatic'; hoa: number; address: number }
  | { op: 'release'; address: number }
  | { op: 'releaseAll'; hoa: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('takeNext' as const), hoa: fc.nat(3) }),
  fc.record({ op: fc.constant('takeStatic' as const), hoa: fc.nat(3), address: fc.nat(7) }),
  fc.record({ op: fc.constant('release' as const), address: fc.nat(7) }),
  fc.record({ op: fc.constant('releaseAll' as const), hoa: fc.nat(3) }),
);

describe('IPv4 home address pool', () => {
  it('hands out and takes back exactly like the free list and lease record it replaced', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const ref = new Reference();
        let pool = createIpv4Pool(CONFIG);
        const addresses = ipv4Range(CONFIG.start, CONFIG.end);
        for (const o of ops) {
          const hoa = 'hoa' in o ? `2001:db8:1::${o.hoa + 1}` : '';
          if (o.op === 'takeNext') {
            expect(nextFree(pool)).toBe(ref.free[0]);
            const a = nextFree(pool);
            if (a === undefined) continue;
            pool = takeIpv4(pool, hoa, a);
            ref.take(hoa, a);
          } else if (o.op === 'takeStatic') {
            const a = addresses[o.address]!;
            if (ref.leases[a] !== undefined && ref.leases[a] !== hoa) continue;
            pool = takeIpv4(pool, hoa, a);
            ref.take(hoa, a);
          } else if (o.op === 'release') {
            pool = releaseIpv4(pool, addresses[o.address]!);
            ref.release(addresses[o.address]!);
          } else {
            pool = releaseAllIpv4(pool, hoa);
            ref.releaseAll(hoa);
          }
          expect(freeAddresses(pool)).toEqual(ref.free);
          expect(leasesOf(pool)).toEqual(sorted(ref.leases));
          expect(freeCount(pool)).toBe(ref.free.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves every earlier version as it was (the test generator branches from old snapshots)', () => {
    const p0 = createIpv4Pool(CONFIG);
    const p1 = takeIpv4(p0, '2001:db8:1::1', '192.0.2.10');
    const p2 = releaseIpv4(p1, '192.0.2.10');
    const p3 = takeIpv4(p1, '2001:db8:1::2', '192.0.2.11');
    expect(freeAddresses(p0)).toHaveLength(8);
    expect(leasesOf(p1)).toEqual({ '192.0.2.10': '2001:db8:1::1' });
    expect(freeAddresses(p2).at(-1)).toBe('192.0.2.10');
    expect(leasesOf(p3)).toEqual({ '192.0.2.10': '2001:db8:1::1', '192.0.2.11': '2001:db8:1::2' });
    expect(heldBy(p2, '2001:db8:1::1')).toEqual([]);
    expect(heldBy(p3, '2001:db8:1::1')).toEqual(['192.0.2.10']);
  });

  it('with 100k leases, one more copies one row and one bucket of the lease map, not the map', () => {
    let pool = createIpv4Pool({ start: '10.0.0.1', end: '10.2.0.0', prefixLength: 14, leaseSeconds: 3600 });
    for (let i = 0; i < 100_000; i++)
      pool = takeIpv4(pool, `2001:db8:1::${i.toString(16)}:1`, nextFree(pool)!);
    expect(pool.leased).toBe(100_000);
    /** Rows, and buckets within them, that are not shared between two versions of a map. */
    const changed = (a: typeof pool.leases, b: typeof pool.leases) => {
      const rows = a.flatMap((row, i) => (row === b[i] ? [] : [i]));
      return {
        rows: rows.length,
        buckets: rows.flatMap((i) => a[i]!.filter((x, j) => x !== b[i]?.[j])).length,
      };
    };
    const next = takeIpv4(pool, '2001:db8:1::ffff:1', nextFree(pool)!);
    expect(changed(next.leases, pool.leases)).toEqual({ rows: 1, buckets: 1 });
    const back = releaseIpv4(next, '10.0.0.1');
    expect(changed(back.leases, next.leases)).toEqual({ rows: 1, buckets: 1 });
    expect(nextFree(back)).toBe(nextFree(next));
  });
});
