/**
 * Pure parts of the data-plane benchmark: reading iperf3's JSON and ping's output, percentiles,
 * the handover gap, and the table. No I/O here, so test/bench/ checks it without root.
 */

/** One iperf3 run, as the receiver saw it (what actually crossed the tunnel). */
export interface IperfResult {
  /** Bits per second the receiver got. */
  receivedBps: number;
  /** Bits per second the sender sent (for UDP at `-b 0` far above what arrives). */
  sentBps: number;
  /** TCP only: retransmitted segments. */
  retransmits?: number;
  /** UDP only: datagrams lost, in percent. */
  lostPercent?: number;
  /** UDP only: jitter at the receiver. */
  jitterMs?: number;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Reads `iperf3 -J` output (3.9 and later: `end.sum_sent` and `end.sum_received` for TCP and UDP
 * alike, whichever side `-R` makes the sender). Throws with iperf3's own error text when the run
 * failed.
 */
export function parseIperf3(text: string): IperfResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const first = text.trim().split('\n')[0] ?? '';
    throw new Error(`iperf3: output is not JSON: ${first.slice(0, 200) || '(empty)'}`);
  }
  const root = obj(doc);
  if (!root) throw new Error('iperf3: JSON output is not an object');
  if (typeof root.error === 'string') throw new Error(`iperf3: ${root.error}`);
  const end = obj(root.end);
  const sent = obj(end?.sum_sent);
  const received = obj(end?.sum_received);
  const receivedBps = num(received?.bits_per_second);
  const sentBps = num(sent?.bits_per_second);
  if (receivedBps === undefined || sentBps === undefined) {
    throw new Error('iperf3: JSON output has no end.sum_sent / end.sum_received bits_per_second');
  }
  const result: IperfResult = { receivedBps, sentBps };
  const retransmits = num(sent?.retransmits);
  if (retransmits !== undefined) result.retransmits = retransmits;
  const lost = num(received?.lost_percent);
  if (lost !== undefined) result.lostPercent = lost;
  const jitter = num(received?.jitter_ms);
  if (jitter !== undefined) result.jitterMs = jitter;
  return result;
}

/** One echo reply ping printed. */
export interface PingReply {
  seq: number;
  /** When the reply arrived (from `ping -D`), milliseconds since the epoch; NaN without -D. */
  atMs: number;
  rttMs: number;
}

export interface PingRun {
  replies: PingReply[];
  /** From ping's summary; undefined when it printed none (killed hard). */
  transmitted?: number;
  received?: number;
}

const REPLY = /^(?:\[(\d+(?:\.\d+)?)\]\s+)?\d+ bytes from .*?icmp_seq=(\d+)\b.*?\btime=([\d.]+) ms/;
const SUMMARY = /(\d+) packets transmitted, (\d+) (?:packets )?received/;

/** Reads iputils ping output (with or without `-D` timestamps); duplicates (DUP!) count once. */
export function parsePing(text: string): PingRun {
  const run: PingRun = { replies: [] };
  const seen = new Set<number>();
  for (const line of text.split('\n')) {
    const m = REPLY.exec(line.trim());
    if (m) {
      const seq = Number(m[2]);
      if (seen.has(seq)) continue;
      seen.add(seq);
      run.replies.push({
        seq,
        atMs: m[1] === undefined ? Number.NaN : Number(m[1]) * 1000,
        rttMs: Number(m[3]),
      });
      continue;
    }
    const s = SUMMARY.exec(line);
    if (s) {
      run.transmitted = Number(s[1]);
      run.received = Number(s[2]);
    }
  }
  return run;
}

/**
 * The p-th percentile (0-100) by the nearest-rank method: the smallest value with at least p % of
 * the samples at or below it. NaN for no samples.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile: p ${p}: expected 0-100`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface RttSummary {
  count: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
}

export function rttSummary(run: PingRun): RttSummary {
  const rtts = run.replies.map((r) => r.rttMs);
  const transmitted = run.transmitted ?? rtts.length;
  return {
    count: rtts.length,
    lost: Math.max(0, transmitted - rtts.length),
    p50Ms: percentile(rtts, 50),
    p99Ms: percentile(rtts, 99),
    minMs: rtts.length ? Math.min(...rtts) : Number.NaN,
    maxMs: rtts.length ? Math.max(...rtts) : Number.NaN,
  };
}

export interface HandoverGap {
  /** Echo requests up to the last one answered that got no reply (seq numbers start at 1). */
  lost: number;
  /**
   * Milliseconds from the link change (when the new address was configured) to the first reply
   * that arrived after it; null when none arrived.
   */
  gapMs: number | null;
  /** Milliseconds between the last reply before the link change and the first one after it. */
  outageMs: number | null;
  /** Replies that arrived before / after the link change. */
  before: number;
  after: number;
  /**
   * How often the stream actually sent, from the replies' timestamps and sequence numbers (iputils
   * ping at `-i 0.01` sends every 10-16 ms, depending on timer granularity): the gap's resolution.
   */
  probeIntervalMs: number | null;
}

/**
 * The handover gap of one ping stream (CN → MN, `ping -D`), given when the link change finished
 * (`linkChangeMs`, wall clock, the same clock ping's -D uses). A reply proves that both the echo
 * request and its reply crossed the new path, so the gap is measured to the reply's arrival; it
 * overstates the one-way gap by at most one RTT, a fraction of a millisecond in the lab.
 */
export function handoverGap(run: PingRun, linkChangeMs: number): HandoverGap {
  const before = run.replies.filter((r) => r.atMs < linkChangeMs);
  const after = run.replies.filter((r) => r.atMs >= linkChangeMs);
  const firstAfter = after.length ? Math.min(...after.map((r) => r.atMs)) : undefined;
  const lastBefore = before.length ? Math.max(...before.map((r) => r.atMs)) : undefined;
  // Requests after the last reply were still in flight when the stream was stopped: not lost.
  const lastSeq = Math.max(0, ...run.replies.map((r) => r.seq));
  const first = run.replies[0];
  const last = run.replies[run.replies.length - 1];
  const probeIntervalMs =
    first && last && last.seq > first.seq ? (last.atMs - first.atMs) / (last.seq - first.seq) : null;
  return {
    lost: lastSeq - run.replies.length,
    gapMs: firstAfter === undefined ? null : firstAfter - linkChangeMs,
    outageMs: firstAfter === undefined || lastBefore === undefined ? null : firstAfter - lastBefore,
    before: before.length,
    after: after.length,
    probeIntervalMs,
  };
}

/** Bits per second as Mbit/s with one decimal. */
export function mbps(bps: number): string {
  return (bps / 1e6).toFixed(1);
}

/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = (s: string) => /^[-+]?[\d.]+( ?[a-z%/]+)?$/i.test(s) || s === '—';
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in Markdown. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
