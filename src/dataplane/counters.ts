/**
 * Data-plane counters: per binding (what `dsmip6 status` shows next to each binding) and per
 * endpoint (drops that belong to no binding). Drop reasons are short kebab-case names that say
 * which rule refused the packet.
 */

export interface TrafficCounters {
  /** Toward the mobile node: packets and bytes (inner) put into the tunnel. */
  packetsOut: number;
  bytesOut: number;
  /** From the mobile node: packets and bytes (inner) taken out of the tunnel. */
  packetsIn: number;
  bytesIn: number;
  dropped: Record<string, number>;
}

export const newTrafficCounters = (): TrafficCounters => ({
  packetsOut: 0,
  bytesOut: 0,
  packetsIn: 0,
  bytesIn: 0,
  dropped: {},
});

export function countDrop(c: TrafficCounters, reason: string): void {
  c.dropped[reason] = (c.dropped[reason] ?? 0) + 1;
}

/** A copy safe to hand out (JSON, the control socket). */
export function snapshotCounters(c: TrafficCounters): TrafficCounters {
  return { ...c, dropped: { ...c.dropped } };
}

/**
 * RFC 4443 §2.4(f): ICMP errors are rate-limited. A token bucket: `perSecond` tokens a second, at
 * most `burst` saved up.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
