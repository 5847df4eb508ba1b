/**
 * The benchmark's tables, as plain text (printed) and Markdown (for the README), with each target
 * of issue 6 next to the numbers it is about. Pure: results in, strings out.
 */

import { markdownTable, mbps, textTable } from './parse.js';
import type { PathResult, Results, RttRow, ThroughputRow } from './results.js';

type Family = 'ipv4' | 'ipv6';
type Table = { title: string; header: string[]; rows: string[][]; notes: string[] };

const PATH_LABEL: Record<string, string> = {
  kernel: 'kernel (no tunnel)',
  openvpn: 'OpenVPN 2.6',
  dsmip6: 'dsmip6',
};
const FAMILY_LABEL: Record<Family, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

/** Targets of issue 6. */
export const TARGETS = { rttFactor: 1.2, handoverGapMs: 100 } as const;

function find(
  p: PathResult | undefined,
  family: Family,
  proto: string,
  direction: string,
): ThroughputRow | undefined {
  return p?.throughput.find((t) => t.family === family && t.proto === proto && t.direction === direction);
}

function bps(row: ThroughputRow | undefined): number | undefined {
  return row?.result.ok ? row.result.receivedBps : undefined;
}

function cell(row: ThroughputRow | undefined): string {
  if (!row) return '—';
  if (!row.result.ok) return 'error';
  const r = row.result;
  return r.lostPercent !== undefined
    ? `${mbps(r.receivedBps)} (${r.lostPercent.toFixed(0)}% lost)`
    : mbps(r.receivedBps);
}

const ms = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(3);
const ms0 = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(0);

function families(p: PathResult): Family[] {
  const f = new Set<Family>([...p.throughput.map((t) => t.family), ...p.rtt.map((r) => r.family)]);
  return (['ipv4', 'ipv6'] as const).filter((x) => f.has(x));
}

function throughputTable(r: Results): Table {
  const combos = [
    ['tcp', 'cn→mn'],
    ['tcp', 'mn→cn'],
    ['udp', 'cn→mn'],
    ['udp', 'mn→cn'],
  ] as const;
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const p of r.paths) {
    if (!p.available) {
      rows.push([PATH_LABEL[p.name] ?? p.name, '—', ...combos.map(() => 'n/a')]);
      notes.push(`${PATH_LABEL[p.name]}: ${p.reason ?? 'not available'}`);
      continue;
    }
    for (const f of families(p)) {
      rows.push([
        PATH_LABEL[p.name] ?? p.name,
        FAMILY_LABEL[f],
        ...combos.map(([proto, d]) => cell(find(p, f, proto, d))),
      ]);
    }
    for (const u of p.unreachable ?? []) {
      rows.push([PATH_LABEL[p.name] ?? p.name, FAMILY_LABEL[u.family], ...combos.map(() => 'n/a')]);
      notes.push(`${PATH_LABEL[p.name]} ${FAMILY_LABEL[u.family]}: not available: ${u.reason}`);
    }
    for (const t of p.throughput) {
      if (!t.result.ok)
        notes.push(
          `${PATH_LABEL[p.name]} ${FAMILY_LABEL[t.family]} ${t.proto} ${t.direction}: ${t.result.error}`,
        );
    }
  }
  return {
    title: `Throughput, Mbit/s received (iperf3, median of ${r.settings.repeat ?? 1} × ${r.settings.seconds} s; UDP ${r.settings.udpLength}-byte datagrams at -b 0)`,
    header: ['path', 'family', 'TCP CN→MN', 'TCP MN→CN', 'UDP CN→MN', 'UDP MN→CN'],
    rows,
    notes,
  };
}

function searched(p: PathResult | undefined, family: Family, direction: string): number | undefined {
  const x = p?.udpSearch?.find((u) => u.family === family && u.direction === direction)?.search;
  return x && !x.error ? x.receivedBps : undefined;
}

function udpSearchTable(r: Results): Table | undefined {
  const s = r.settings.udpSearch;
  if (!s || s.steps === 0) return undefined;
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const p of r.paths) {
    if (!p.available) {
      rows.push([PATH_LABEL[p.name] ?? p.name, '—', 'n/a', 'n/a']);
      continue;
    }
    for (const f of families(p)) {
      const c = (d: string) => {
        const x = p.udpSearch?.find((u) => u.family === f && u.direction === d)?.search;
        if (!x) return '—';
        if (x.error) {
          notes.push(`${PATH_LABEL[p.name]} ${FAMILY_LABEL[f]} UDP ${d}: ${x.error}`);
          return 'error';
        }
        return mbps(x.receivedBps);
      };
      rows.push([PATH_LABEL[p.name] ?? p.name, FAMILY_LABEL[f], c('cn→mn'), c('mn→cn')]);
    }
  }
  return {
    title: `UDP throughput at ≤ ${s.maxLossPercent}% loss, Mbit/s received (bisection on the offered load, ${s.steps} probes of ${s.seconds} s)`,
    header: ['path', 'family', 'UDP CN→MN', 'UDP MN→CN'],
    rows,
    notes,
  };
}

function kernelRtt(r: Results): RttRow | undefined {
  return r.paths.find((p) => p.name === 'kernel')?.rtt.find((x) => x.summary);
}

function rttTable(r: Results): Table {
  const base = kernelRtt(r)?.summary;
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const p of r.paths) {
    if (!p.available) {
      rows.push([PATH_LABEL[p.name] ?? p.name, '—', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
      continue;
    }
    for (const x of p.rtt) {
      const s = x.summary;
      if (!s) {
        rows.push([PATH_LABEL[p.name] ?? p.name, FAMILY_LABEL[x.family], 'error', '', '', '', '']);
        notes.push(`${PATH_LABEL[p.name]} ${FAMILY_LABEL[x.family]} ping: ${x.error}`);
        continue;
      }
      const added = (v: number, b: number | undefined) =>
        p.name === 'kernel' || b === undefined ? '—' : ms(v - b);
      rows.push([
        PATH_LABEL[p.name] ?? p.name,
        FAMILY_LABEL[x.family],
        ms(s.p50Ms),
        ms(s.p99Ms),
        added(s.p50Ms, base?.p50Ms),
        added(s.p99Ms, base?.p99Ms),
        `${s.lost}/${s.count + s.lost}`,
      ]);
    }
  }
  return {
    title: `Ping RTT from the CN, ms (${r.settings.pings} pings at 10 ms); added = minus the kernel path`,
    header: ['path', 'family', 'p50', 'p99', 'added p50', 'added p99', 'lost'],
    rows,
    notes,
  };
}

function handoverTable(r: Results): Table {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const p of r.paths) {
    const h = p.handover;
    if (!h) continue;
    if (!h.available) {
      rows.push([PATH_LABEL[p.name] ?? p.name, 'n/a', '—', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a']);
      notes.push(`${PATH_LABEL[p.name]} handover: ${h.reason ?? 'not available'}`);
      continue;
    }
    if (h.reason) notes.push(h.reason);
    const iv = h.moves.map((m) => m.gap.probeIntervalMs).filter((v): v is number => v !== null);
    if (iv.length) {
      notes.push(
        `${PATH_LABEL[p.name]}: ping -i 0.01 actually sent every ${Math.min(...iv).toFixed(1)}-${Math.max(...iv).toFixed(1)} ms (the gap's resolution)`,
      );
    }
    for (const m of h.moves) {
      rows.push([
        PATH_LABEL[p.name] ?? p.name,
        `${m.from} → ${m.to}`,
        FAMILY_LABEL[m.family],
        String(m.gap.lost),
        ms0(m.gap.gapMs),
        ms0(m.gap.outageMs),
        ms0(m.moveMs),
        p.name !== 'dsmip6'
          ? '—'
          : m.gap.gapMs !== null && m.gap.gapMs <= TARGETS.handoverGapMs
            ? 'met'
            : 'missed',
      ]);
    }
  }
  return {
    title:
      'Handover: 10 ms ping stream from the CN to the MN during each move (gap = first reply after the new address was configured)',
    header: [
      'path',
      'move',
      'family',
      'lost',
      'gap ms',
      'outage ms',
      'labMove ms',
      `gap ≤ ${TARGETS.handoverGapMs} ms`,
    ],
    rows,
    notes,
  };
}

function targetsTable(r: Results): Table {
  const d = r.paths.find((p) => p.name === 'dsmip6');
  const o = r.paths.find((p) => p.name === 'openvpn');
  const rows: string[][] = [];
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : 'missed');
  for (const f of ['ipv4', 'ipv6'] as const) {
    for (const proto of ['tcp', 'udp'] as const) {
      for (const dir of ['cn→mn', 'mn→cn'] as const) {
        const a = bps(find(d, f, proto, dir));
        const b = bps(find(o, f, proto, dir));
        rows.push([
          `${proto.toUpperCase()}${proto === 'udp' ? ' -b 0' : ''} ${FAMILY_LABEL[f]} ${dir.toUpperCase()}, Mbit/s`,
          a === undefined ? 'n/a' : mbps(a),
          b === undefined ? 'n/a' : mbps(b),
          '≥ OpenVPN',
          verdict(a === undefined || b === undefined ? undefined : a >= b),
        ]);
      }
    }
  }
  if (r.settings.udpSearch?.steps) {
    for (const f of ['ipv4', 'ipv6'] as const) {
      for (const dir of ['cn→mn', 'mn→cn'] as const) {
        const a = searched(d, f, dir);
        const b = searched(o, f, dir);
        rows.push([
          `UDP at ≤ ${r.settings.udpSearch.maxLossPercent}% loss ${FAMILY_LABEL[f]} ${dir.toUpperCase()}`,
          a === undefined ? 'n/a' : mbps(a),
          b === undefined ? 'n/a' : mbps(b),
          '≥ OpenVPN',
          verdict(a === undefined || b === undefined ? undefined : a >= b),
        ]);
      }
    }
  }
  const base = kernelRtt(r)?.summary?.p50Ms;
  for (const f of ['ipv4', 'ipv6'] as const) {
    const a = d?.rtt.find((x) => x.family === f)?.summary?.p50Ms;
    const b = o?.rtt.find((x) => x.family === f)?.summary?.p50Ms;
    const addA = a === undefined || base === undefined ? undefined : a - base;
    const addB = b === undefined || base === undefined ? undefined : b - base;
    rows.push([
      `RTT added p50 ${FAMILY_LABEL[f]}, ms`,
      addA === undefined ? 'n/a' : ms(addA),
      addB === undefined ? 'n/a' : ms(addB),
      `≤ ${TARGETS.rttFactor}× OpenVPN`,
      verdict(
        addA === undefined || addB === undefined ? undefined : addA <= TARGETS.rttFactor * Math.max(addB, 0),
      ),
    ]);
  }
  const gaps = (d?.handover?.moves ?? []).map((m) => m.gap.gapMs);
  const worst = gaps.length && gaps.every((g) => g !== null) ? Math.max(...(gaps as number[])) : undefined;
  rows.push([
    'handover gap, worst move, ms',
    gaps.length === 0 ? 'n/a' : worst === undefined ? 'no reply' : ms0(worst),
    '—',
    `≤ ${TARGETS.handoverGapMs} ms`,
    verdict(gaps.length === 0 ? undefined : worst !== undefined && worst <= TARGETS.handoverGapMs),
  ]);
  return {
    title: 'Targets (issue 6)',
    header: ['check', 'dsmip6', 'OpenVPN', 'target', 'result'],
    rows,
    notes: [],
  };
}

function machineLine(r: Results): string {
  const m = r.machine;
  return `${r.date}: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${String(m.kernel).split(' ')[0]}, node ${m.node}, ${m.iperf3}, ${String(m.openvpn).split(' ').slice(0, 2).join(' ')}, dsmip6 ${m.dsmip6Commit}; load average ${m.loadAverage1mAtStart ?? '?'} before the run`;
}

export function renderReport(r: Results): { text: string; markdown: string } {
  const tables = [
    throughputTable(r),
    udpSearchTable(r),
    rttTable(r),
    handoverTable(r),
    targetsTable(r),
  ].filter((t): t is Table => t !== undefined);
  const text = [
    machineLine(r),
    ...tables.map((t) =>
      [`\n${t.title}`, textTable(t.header, t.rows), ...t.notes.map((n) => `  note: ${n}`)].join('\n'),
    ),
  ].join('\n');
  const markdown = [
    machineLine(r),
    ...tables.map((t) =>
      [
        `\n**${t.title}**\n`,
        markdownTable(t.header, t.rows),
        ...(t.notes.length ? ['', ...t.notes.map((n) => `- ${n}`)] : []),
      ].join('\n'),
    ),
  ].join('\n');
  return { text, markdown };
}
