/**
 * The dynamic IPv4 home address pool of the home agent (RFC 5555 §2.5, §4.5), as immutable data
 * in the supervisor's context: every operation returns a new pool and leaves the old one valid,
 * so the test generator can branch from any snapshot. It is persistent rather than copied: leases
 * sit in a bucketed map where an update copies one bucket of about n/1024 entries, and the free
 * list is never materialised, so taking or returning one address stays cheap with 100k leases.
 *
 * Free addresses are handed out in the order the pool has always used: first the range's
 * never-used addresses in order, then returned ones in the order they came back (so the address a
 * mobile node just lost is not given to another at once: stale ARP caches, late packets).
 */

import { ipv4FromBytes, ipv4TextToBytes } from '../wire/address.js';

type Bucket<V> = ReadonlyMap<string, V>;
/**
 * A persistent string-keyed map: 64 × 64 buckets of ~n/4096 entries; an update copies the top
 * index (64), one row (64) and one bucket, and shares everything else with the old version.
 */
type BucketMap<V> = readonly (readonly (Bucket<V> | undefined)[] | undefined)[];

const FANOUT = 64;

/** FNV-1a of the key: its row and bucket. */
function slotOf(key: string): [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  const n = (h >>> 0) % (FANOUT * FANOUT);
  return [Math.floor(n / FANOUT), n % FANOUT];
}

const emptyMap = <V>(): BucketMap<V> => new Array<readonly (Bucket<V> | undefined)[] | undefined>(FANOUT);

function mapGet<V>(map: BucketMap<V>, key: string): V | undefined {
  const [r, b] = slotOf(key);
  return map[r]?.[b]?.get(key);
}

function mapSet<V>(map: BucketMap<V>, key: string, value: V | undefined): BucketMap<V> {
  const [r, b] = slotOf(key);
  const row = map[r] ? map[r].slice() : new Array<Bucket<V> | undefined>(FANOUT);
  const bucket = new Map(row[b]);
  if (value === undefined) bucket.delete(key);
  else bucket.set(key, value);
  row[b] = bucket.size > 0 ? bucket : undefined;
  const next = map.slice();
  next[r] = row;
  return next;
}

function* mapEntries<V>(map: BucketMap<V>): Generator<[string, V]> {
  for (const row of map) for (const bucket of row ?? []) if (bucket) yield* bucket;
}

/** A persistent FIFO of returned addresses, each tagged with the return it records. */
type Cons = { readonly head: Returned; readonly tail: Cons } | null;
interface Returned {
  readonly address: string;
  readonly at: number;
}
interface Queue {
  readonly front: Cons;
  readonly back: Cons;
}

function reverse(list: Cons): Cons {
  let out: Cons = null;
  for (let l = list; l; l = l.tail) out = { head: l.head, tail: out };
  return out;
}

/** The queue with its oldest entry at `front.head` (reversing `back` only when front ran out). */
const materialize = (q: Queue): Queue => (q.front || !q.back ? q : { front: reverse(q.back), back: null });

export interface Ipv4Pool {
  readonly prefixLength: number;
  readonly leaseSeconds: number;
  readonly size: number;
  /** The range as numbers: first address, and the offset of the first never-used one. */
  readonly first: number;
  readonly fresh: number;
  /** Addresses that came back, oldest first; an entry is current only if it is the address's last return. */
  readonly returned: Queue;
  /** Address → the return number of its last return (an address in here was used before). */
  readonly lastReturn: BucketMap<number>;
  readonly returns: number;
  /** Address → the IPv6 home address holding it (RFC 5555 §4.5: the HA MUST store the mapping). */
  readonly leases: BucketMap<string>;
  /** IPv6 home address → the addresses it holds. */
  readonly held: BucketMap<readonly string[]>;
  readonly leased: number;
}

export interface Ipv4PoolConfig {
  /** First and last address of the dynamic pool, inclusive. */
  readonly start: string;
  readonly end: string;
  /** Prefix length sent in the IPv4 Address Acknowledgement (RFC 5555 §3.2.1). */
  readonly prefixLength: number;
  /** Lease; the IPv4 binding lasts min(IPv6 lifetime, lease) (RFC 5555 §2.5, §4.4.2). */
  readonly leaseSeconds: number;
}

export const v4ToNumber = (text: string): number | undefined => {
  const b = ipv4TextToBytes(text);
  return b ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0 : undefined;
};
export const numberToV4 = (n: number): string =>
  ipv4FromBytes(Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));

/** Every address from `start` to `end` inclusive; throws a TypeError naming the bad field. */
export function ipv4Range(start: string, end: string): string[] {
  const [a, b] = rangeBounds(start, end);
  const out: string[] = [];
  for (let n = a; n <= b; n++) out.push(numberToV4(n));
  return out;
}

function rangeBounds(start: string, end: string): [number, number] {
  const a = v4ToNumber(start);
  const b = v4ToNumber(end);
  if (a === undefined)
    throw new TypeError(`homeAgent: ipv4Pool.start ${JSON.stringify(start)}: not an IPv4 address`);
  if (b === undefined)
    throw new TypeError(`homeAgent: ipv4Pool.end ${JSON.stringify(end)}: not an IPv4 address`);
  if (b < a) throw new TypeError(`homeAgent: ipv4Pool ${start}-${end}: end is before start`);
  return [a, b];
}

export function createIpv4Pool(config: Ipv4PoolConfig): Ipv4Pool {
  const [a, b] = rangeBounds(config.start, config.end);
  return {
    prefixLength: config.prefixLength,
    leaseSeconds: config.leaseSeconds,
    size: b - a + 1,
    first: a,
    fresh: 0,
    returned: { front: null, back: null },
    lastReturn: emptyMap(),
    returns: 0,
    leases: emptyMap(),
    held: emptyMap(),
    leased: 0,
  };
}

export const freeCount = (pool: Ipv4Pool): number => pool.size - pool.leased;

/** The IPv6 home address holding `address`, if any. */
export const holderOf = (pool: Ipv4Pool, address: string): string | undefined => mapGet(pool.leases, address);

/** The addresses `homeAddress` holds. */
export const heldBy = (pool: Ipv4Pool, homeAddress: string): readonly string[] =>
  mapGet(pool.held, homeAddress) ?? [];

/** Whether `address` belongs to the pool's range and nobody holds it. */
export function isFree(pool: Ipv4Pool, address: string): boolean {
  const n = v4ToNumber(address);
  return (
    n !== undefined && n >= pool.first && n < pool.first + pool.size && holderOf(pool, address) === undefined
  );
}

/**
 * Drops what can no longer be handed out from the front: never-used addresses taken by a static
 * request, and returns superseded by a later one or taken again. Keeps the next free address at
 * the front, so `nextFree` is O(1).
 */
function normalize(pool: Ipv4Pool): Ipv4Pool {
  let fresh = pool.fresh;
  while (fresh < pool.size) {
    const a = numberToV4(pool.first + fresh);
    if (holderOf(pool, a) === undefined && mapGet(pool.lastReturn, a) === undefined) break;
    fresh++;
  }
  let returned = materialize(pool.returned);
  while (returned.front) {
    const r = returned.front.head;
    if (mapGet(pool.lastReturn, r.address) === r.at && holderOf(pool, r.address) === undefined) break;
    returned = materialize({ front: returned.front.tail, back: returned.back });
  }
  return fresh === pool.fresh && returned === pool.returned ? pool : { ...pool, fresh, returned };
}

/** The address the next dynamic request gets, if any is free. */
export function nextFree(pool: Ipv4Pool): string | undefined {
  if (pool.fresh < pool.size) return numberToV4(pool.first + pool.fresh);
  return pool.returned.front?.head.address;
}

/** The pool after `homeAddress` takes `address` (no change if it already holds it). */
export function takeIpv4(pool: Ipv4Pool, homeAddress: string, address: string): Ipv4Pool {
  if (holderOf(pool, address) === homeAddress) return pool;
  return normalize({
    ...pool,
    leases: mapSet(pool.leases, address, homeAddress),
    held: mapSet(pool.held, homeAddress, [...heldBy(pool, homeAddress), address]),
    leased: pool.leased + 1,
  });
}

/** The pool after `address` comes back: to the end of the order. */
export function releaseIpv4(pool: Ipv4Pool, address: string): Ipv4Pool {
  const holder = holderOf(pool, address);
  if (holder === undefined) return pool;
  const remaining = heldBy(pool, holder).filter((a) => a !== address);
  const at = pool.returns + 1;
  return normalize({
    ...pool,
    leases: mapSet(pool.leases, address, undefined),
    held: mapSet(pool.held, holder, remaining.length > 0 ? remaining : undefined),
    leased: pool.leased - 1,
    returned: { front: pool.returned.front, back: { head: { address, at }, tail: pool.returned.back } },
    lastReturn: mapSet(pool.lastReturn, address, at),
    returns: at,
  });
}

/** Every address `homeAddress` still holds comes back (its entry is gone). */
export function releaseAllIpv4(pool: Ipv4Pool, homeAddress: string): Ipv4Pool {
  return heldBy(pool, homeAddress).reduce(releaseIpv4, pool);
}

/** Address → holder, as a record (tests, status, the test generator's state key). O(leases). */
export function leasesOf(pool: Ipv4Pool): Record<string, string> {
  return Object.fromEntries([...mapEntries(pool.leases)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The free addresses in the order they will be handed out (tests). O(pool size). */
export function freeAddresses(pool: Ipv4Pool): string[] {
  const out: string[] = [];
  for (let i = pool.fresh; i < pool.size; i++) {
    const a = numberToV4(pool.first + i);
    if (holderOf(pool, a) === undefined && mapGet(pool.lastReturn, a) === undefined) out.push(a);
  }
  const returned: Returned[] = [];
  for (let l = pool.returned.front; l; l = l.tail) returned.push(l.head);
  const back: Returned[] = [];
  for (let l = pool.returned.back; l; l = l.tail) back.push(l.head);
  for (const r of [...returned, ...back.reverse()]) {
    if (mapGet(pool.lastReturn, r.address) === r.at && holderOf(pool, r.address) === undefined)
      out.push(r.address);
  }
  return out;
}
