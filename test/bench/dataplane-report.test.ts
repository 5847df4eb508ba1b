import { describe, expect, it } from 'vitest';
import { renderReport } from '../../bench/dataplane/report.js';
import type { PathResult, Results } from '../../bench/dataplane/results.js';

const gap = (gapMs: number | null) => ({
  lost: 3,
  gapMs,
  outageMs: gapMs === null ? null : gapMs + 40,
  before: 60,
  after: 20,
  probeIntervalMs: 16,
});

function path(name: PathResult['name'], mbps: number, p50: number): PathResult {
  const fams = name === 'kernel' ? (['ipv4'] as const) : (['ipv4', 'ipv6'] as const);
  return {
    name,
    description: name,
    available: true,
    throughput: fams.flatMap((family) =>
      (['tcp', 'udp'] as const).flatMap((proto) =>
        (['cn→mn', 'mn→cn'] as const).map((direction) => ({
          family,
          proto,
          direction,
          result: {
            ok: true as const,
            receivedBps: mbps * 1e6,
            sentBps: mbps * 1e6,
            ...(proto === 'udp' ? { lostPercent: 12 } : {}),
          },
        })),
      ),
    ),
    udpSearch: fams.flatMap((family) =>
      (['cn→mn', 'mn→cn'] as const).map((direction) => ({
        family,
        direction,
        search: { offeredBps: 1e8, receivedBps: mbps * 5e5, lostPercent: 0, maxLossPercent: 1, probes: [] },
      })),
    ),
    rtt: fams.map((family) => ({
      family,
      address: 'x',
      summary: { count: 1000, lost: 0, p50Ms: p50, p99Ms: p50 * 2, minMs: p50 / 2, maxMs: p50 * 3 },
    })),
  };
}

function results(paths: PathResult[]): Results {
  return {
    benchmark: 'dataplane',
    date: '2026-11-27T16:00:00.000Z',
    machine: {
      cpu: 'AMD EPYC',
      cores: 2,
      kernel: '6.18 #1',
      node: 'v20.20.2',
      iperf3: 'iperf 3.12',
      openvpn: 'OpenVPN 2.6.14 x',
    },
    settings: {
      seconds: 5,
      repeat: 3,
      pings: 1000,
      udpLength: 1350,
      udpBitrate: 'unlimited (-b 0)',
      mnAt: 'nat',
      mnSettleMs: 20,
      udpSearch: { steps: 7, seconds: 2, maxLossPercent: 1 },
    },
    notes: [],
    paths,
  };
}

describe('renderReport', () => {
  it('judges every target from the numbers', () => {
    const dsmip6 = path('dsmip6', 400, 0.2);
    dsmip6.handover = {
      available: true,
      moves: [
        { from: 'nat', to: 'ipv6', family: 'ipv4', address: 'a', moveMs: 40, gap: gap(30) },
        { from: 'ipv6', to: 'home', family: 'ipv6', address: 'b', moveMs: 40, gap: gap(120) },
      ],
    };
    const { text, markdown } = renderReport(
      results([path('kernel', 10_000, 0.05), path('openvpn', 300, 0.15), dsmip6]),
    );
    expect(text).toMatch(/TCP IPv4 CN→MN, Mbit\/s\s+400\.0\s+300\.0\s+≥ OpenVPN\s+met/);
    // Added RTT: dsmip6 0.15 ms, OpenVPN 0.10 ms: more than 1.2x.
    expect(text).toMatch(/RTT added p50 IPv4, ms\s+0\.150\s+0\.100\s+≤ 1\.2× OpenVPN\s+missed/);
    expect(text).toMatch(/handover gap, worst move, ms\s+120\s+—\s+≤ 100 ms\s+missed/);
    expect(text).toMatch(/dsmip6\s+nat → ipv6\s+IPv4\s+3\s+30\s+70\s+40\s+met/);
    expect(markdown).toContain('| dsmip6 | IPv6 | 400.0 | 400.0 | 400.0 (12% lost) | 400.0 (12% lost) |');
  });

  it('reports a path that could not be set up as not available, and its targets as not measured', () => {
    const dsmip6: PathResult = {
      name: 'dsmip6',
      description: 'dsmip6',
      available: false,
      reason: 'not available: dsmip6 ha exited: config: unknown key',
      throughput: [],
      udpSearch: [],
      rtt: [],
      handover: { available: false, reason: 'not available: dsmip6 ha exited', moves: [] },
    };
    const { text } = renderReport(
      results([path('kernel', 10_000, 0.05), path('openvpn', 300, 0.15), dsmip6]),
    );
    expect(text).toContain('note: dsmip6: not available: dsmip6 ha exited: config: unknown key');
    expect(text).toMatch(/TCP IPv4 CN→MN, Mbit\/s\s+n\/a\s+300\.0\s+≥ OpenVPN\s+not measured/);
    expect(text).toMatch(/handover gap, worst move, ms\s+n\/a/);
  });
});
