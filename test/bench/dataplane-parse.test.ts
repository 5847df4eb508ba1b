import { describe, expect, it } from 'vitest';
import {
  handoverGap,
  markdownTable,
  parseIperf3,
  parsePing,
  percentile,
  rttSummary,
  textTable,
} from '../../bench/dataplane/parse.js';

const tcp = JSON.stringify({
  start: { version: 'iperf 3.12' },
  end: {
    sum_sent: {
      seconds: 2,
      bytes: 84167960,
      bits_per_second: 336296868.99,
      retransmits: 9970,
      sender: false,
    },
    sum_received: { seconds: 2, bytes: 81692960, bits_per_second: 326767428.64, sender: false },
  },
});

const udp = JSON.stringify({
  end: {
    sum: { bits_per_second: 1351656984.76, lost_percent: 77.95 },
    sum_sent: {
      bits_per_second: 1351656984.76,
      jitter_ms: 0,
      lost_packets: 0,
      lost_percent: 0,
      sender: true,
    },
    sum_received: {
      bits_per_second: 293667339.53,
      jitter_ms: 0.00897,
      lost_packets: 195221,
      packets: 250113,
      lost_percent: 77.95431857205607,
      sender: false,
    },
  },
});

describe('parseIperf3', () => {
  it('reads TCP: receiver rate, sender rate, retransmits', () => {
    expect(parseIperf3(tcp)).toEqual({ receivedBps: 326767428.64, sentBps: 336296868.99, retransmits: 9970 });
  });

  it('reads UDP: the receiver side, with loss and jitter', () => {
    expect(parseIperf3(udp)).toEqual({
      receivedBps: 293667339.53,
      sentBps: 1351656984.76,
      lostPercent: 77.95431857205607,
      jitterMs: 0.00897,
    });
  });

  it("reports iperf3's own error, and output that is not JSON", () => {
    expect(() =>
      parseIperf3(JSON.stringify({ start: {}, end: {}, error: 'unable to connect to server' })),
    ).toThrow('iperf3: unable to connect to server');
    expect(() => parseIperf3('iperf3: error - the server is busy\n')).toThrow(
      'not JSON: iperf3: error - the server is busy',
    );
    expect(() => parseIperf3('{"end":{}}')).toThrow('no end.sum_sent');
  });
});

const PING = `PING 10.8.0.2 (10.8.0.2) 56(84) bytes of data.
[1795794088.559195] 64 bytes from 10.8.0.2: icmp_seq=1 ttl=62 time=0.246 ms
[1795794088.575152] 64 bytes from 10.8.0.2: icmp_seq=2 ttl=62 time=0.144 ms
[1795794088.591141] From 192.0.2.1 icmp_seq=3 Destination Host Unreachable
[1795794088.607135] 64 bytes from 10.8.0.2: icmp_seq=4 ttl=62 time=0.132 ms
[1795794088.607200] 64 bytes from 10.8.0.2: icmp_seq=4 ttl=62 time=0.140 ms (DUP!)
[1795794088.623224] 64 bytes from 10.8.0.2: icmp_seq=5 ttl=62 time=0.181 ms

--- 10.8.0.2 ping statistics ---
6 packets transmitted, 4 received, +1 duplicates, +1 errors, 33.3333% packet loss, time 64ms
rtt min/avg/max/mdev = 0.132/0.167/0.246/0.043 ms`;

describe('parsePing', () => {
  it('reads replies with -D timestamps, skips errors and duplicates, and the summary', () => {
    const run = parsePing(PING);
    expect(run.replies.map((r) => r.seq)).toEqual([1, 2, 4, 5]);
    expect(run.replies[0]).toEqual({ seq: 1, atMs: 1795794088559.195, rttMs: 0.246 });
    expect(run.transmitted).toBe(6);
    expect(run.received).toBe(4);
  });

  it('reads IPv6 replies without timestamps', () => {
    const run = parsePing('64 bytes from 2001:db8:8::2: icmp_seq=7 ttl=62 time=1.34 ms\n');
    expect(run.replies).toHaveLength(1);
    expect(run.replies[0]?.seq).toBe(7);
    expect(run.replies[0]?.rttMs).toBe(1.34);
    expect(Number.isNaN(run.replies[0]?.atMs)).toBe(true);
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow('expected 0-100');
  });

  it('summarises a ping run', () => {
    const s = rttSummary(parsePing(PING));
    expect(s).toMatchObject({ count: 4, lost: 2, p50Ms: 0.144, p99Ms: 0.246, minMs: 0.132, maxMs: 0.246 });
  });
});

describe('handoverGap', () => {
  // Replies every 10 ms; seq 101-130 lost across a move that finished at t = 2000.
  const lines: string[] = [];
  for (let seq = 1; seq <= 200; seq++) {
    if (seq > 100 && seq <= 130) continue;
    const at = (1000 + seq * 10) / 1000;
    lines.push(`[${at.toFixed(6)}] 64 bytes from 198.51.100.100: icmp_seq=${seq} ttl=62 time=0.2 ms`);
  }
  lines.push('201 packets transmitted, 170 received, 15.4% packet loss, time 2000ms');

  it('measures from the link change to the first reply after it; in-flight requests at the end are not lost', () => {
    const g = handoverGap(parsePing(lines.join('\n')), 2250);
    expect(g.lost).toBe(30);
    expect(g.gapMs).toBeCloseTo(60, 6); // seq 131 arrives at 2310
    expect(g.outageMs).toBeCloseTo(310, 6); // seq 100 at 2000
    expect(g.before).toBe(100);
    expect(g.after).toBe(70);
    expect(g.probeIntervalMs).toBeCloseTo(10, 6);
  });

  it('has no gap when nothing arrived after the change', () => {
    const g = handoverGap(parsePing(lines.slice(0, 50).join('\n')), 5000);
    expect(g.gapMs).toBeNull();
    expect(g.outageMs).toBeNull();
  });
});

describe('tables', () => {
  it('pads text columns and right-aligns numbers', () => {
    const t = textTable(
      ['path', 'Mbit/s'],
      [
        ['kernel', '13453.8'],
        ['dsmip6', 'n/a'],
      ],
    ).split('\n');
    expect(t[0]).toBe('path    Mbit/s');
    expect(t[1]).toBe('------  -------');
    expect(t[2]).toBe('kernel  13453.8');
    expect(t[3]).toBe('dsmip6  n/a');
  });

  it('renders Markdown with escaped pipes', () => {
    expect(markdownTable(['a', 'b'], [['1', 'x|y']])).toBe('| a | b |\n|---|---|\n| 1 | x\\|y |');
  });
});
