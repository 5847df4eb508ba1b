/**
 * BU → BA round trips of one load phase. Every sample is kept (8 bytes each, a few MB for a
 * million BUs) so the percentiles are exact rather than bucketed.
 */

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export class LatencyRecorder {
  #samples = new Float64Array(1024);
  #count = 0;

  add(ms: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  summary(): LatencySummary {
    const n = this.#count;
    if (n === 0) return { count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
    const sorted = this.#samples.slice(0, n).sort();
    // Nearest-rank percentile: the smallest sample with at least p% of samples at or below it.
    const at = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      count: n,
      p50Ms: round(at(50)),
      p90Ms: round(at(90)),
      p99Ms: round(at(99)),
      maxMs: round(sorted[n - 1]!),
      meanMs: round(sum / n),
    };
  }
}
