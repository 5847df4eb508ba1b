/**
 * The data plane in the real lab: `dsmip6 ha` with a TUN on the home network (the home link is
 * real, so the MN can come home) and `dsmip6 mn` with a TUN carrying its home addresses. The
 * correspondent node reaches the MN's IPv6 and IPv4 home addresses from every network; two TCP
 * connections survive the walk IPv6 → public IPv4 → NAT → IPv6 → home byte for byte; a spoofed
 * inner source is dropped and counted; the HA's capture shows each encapsulation RFC 5555 §4.1
 * calls for, decoded by tshark. Needs root; fails without it.
 */

import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  LAB_ADDRESSES as A,
  type LabLocation,
  labDown,
  labExec,
  labMove,
  labSpawn,
  labUp,
} from '../../src/lab/lab.js';
import { queryControl } from '../../src/net/control-socket.js';
import { requireRoot } from '../support/root.js';
import { until } from '../support/until.js';

const prefix = `d${process.pid % 10000}`;
const dir = mkdtempSync(join(tmpdir(), 'dsmip6-dp-'));
const haSock = join(dir, 'ha.sock');
const mnSock = join(dir, 'mn.sock');
const capture = join(dir, 'ha-eth0.pcap');
const KEY = 'c3'.repeat(20);
const HOA6 = A.mn.home.ipv6;
const HOA4 = A.mn.home.ipv4;
const PORT = 5001;
const RATE = 200_000; // bytes/s per connection
const children: ChildProcess[] = [];
let up = false;

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await labDown(prefix).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

interface TrafficCounters {
  packetsOut: number;
  packetsIn: number;
  dropped: Record<string, number>;
}
interface HaDoc {
  bindings: { homeAddress: string; tunnel: string; careOf: { address: string } }[];
  dataplane: { dropped: Record<string, number>; bindings: Record<string, TrafficCounters> };
}
interface MnDoc {
  status: {
    registration: string;
    attachment: string;
    careOf: string | null;
    natDetected: boolean | null;
  } | null;
  dataplane: TrafficCounters & { route: { mode: string; careOf: string } | null; routesReady: boolean };
}
const haStatus = () => queryControl(haSock) as Promise<HaDoc>;
const mnStatus = () => queryControl(mnSock) as Promise<MnDoc>;

/** A child whose stdout lines are collected (and watched). */
function spawnIn(node: 'ha' | 'mn' | 'cn', argv: string[]): { child: ChildProcess; lines: string[] } {
  const child = labSpawn(prefix, node, argv);
  const lines: string[] = [];
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', () => {});
  children.push(child);
  return { child, lines };
}

function configs(): { ha: string; mn: string } {
  const ha = join(dir, 'ha.json');
  const mn = join(dir, 'mn.json');
  writeFileSync(
    ha,
    JSON.stringify({
      homePrefix: '2001:db8:1::/64',
      addresses: { ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 },
      // The pool lies on the home link, so the MN's IPv4 home address works at home too.
      ipv4Pool: { start: HOA4, end: '198.51.100.110', prefixLength: 25, leaseSeconds: 3600 },
      maxLifetimeSeconds: 400,
      natKeepaliveSeconds: 5,
      securityAssociations: [
        { homeAddress: HOA6, spiIn: 0x3001, spiOut: 0x4001, algorithm: 'aes-gcm-16', encryptionKey: KEY },
      ],
      dataplane: { tun: 'dsm6ha', homeLink: 'eth0' },
      control: { socket: haSock },
      log: { level: 'debug' },
    }),
  );
  writeFileSync(
    mn,
    JSON.stringify({
      homeAddress: HOA6,
      homePrefix: '2001:db8:1::/64',
      lifetimeSeconds: 400,
      ipv4HomeAddress: HOA4,
      homeAgent: { addresses: [{ ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 }] },
      securityAssociation: { spiIn: 0x4001, spiOut: 0x3001, algorithm: 'aes-gcm-16', encryptionKey: KEY },
      interfaces: ['eth0'],
      settleMs: 200,
      dataplane: { tun: 'dsm6mn' },
      control: { socket: mnSock },
      log: { level: 'debug' },
    }),
  );
  return { ha, mn };
}

let server: { child: ChildProcess; lines: string[] };
let clients: { child: ChildProcess; lines: string[] }[] = [];
let tshark: ChildProcess;

async function ensureUp(): Promise<void> {
  requireRoot();
  if (up) return;
  await labUp({ prefix });
  await labMove(prefix, 'ipv6');
  // The HA's view of the wire: every tunnel packet passes its eth0.
  tshark = labSpawn(prefix, 'ha', ['tshark', '-n', '-q', '-i', 'eth0', '-w', capture]);
  children.push(tshark);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('tshark did not start capturing')), 15_000);
    tshark.stderr?.on('data', (d: Buffer) => {
      if (d.toString().includes('Capturing on')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const { ha, mn } = configs();
  spawnIn('ha', [process.execPath, 'bin/dsmip6.js', 'ha', '--config', ha]);
  spawnIn('mn', [process.execPath, 'bin/dsmip6.js', 'mn', '--config', mn]);
  up = true;
}

const registeredAt = (where: LabLocation) => (d: MnDoc) =>
  where === 'home'
    ? d.status?.registration === 'home' && d.dataplane.routesReady
    : d.status?.registration === 'registered' &&
      d.dataplane.routesReady &&
      d.dataplane.route !== null &&
      d.dataplane.route.mode === (where === 'ipv6' ? 'ip6' : where === 'ipv4' ? 'ip4' : 'udp');

async function pingBoth(): Promise<void> {
  for (const target of [HOA6, HOA4]) {
    // A few tries: the first packet after a move may race the binding's arrival at the HA.
    const r = await labExec(prefix, 'cn', ['ping', '-c', '3', '-i', '0.2', '-W', '1', target]);
    expect(r.stdout, `ping ${target}`).toMatch(/ [123] received/);
  }
}

it('the correspondent node pings both home addresses from the IPv6-only network (IPv6-in-IPv6, IPv4-in-IPv6)', async () => {
  await ensureUp();
  await until('registered from the IPv6 network', mnStatus, registeredAt('ipv6'));
  await pingBoth();
  const ha = await haStatus();
  expect(ha.dataplane.bindings[HOA6]?.packetsOut).toBeGreaterThan(0);
  expect(ha.dataplane.bindings[HOA6]?.packetsIn).toBeGreaterThan(0);
}, 90_000);

it('two TCP connections (to the IPv6 and the IPv4 home address) survive IPv6 → IPv4 → NAT → IPv6 → home, every byte in order', async () => {
  await ensureUp();
  server = spawnIn('mn', [process.execPath, 'test/support/tcp-stream.mjs', 'server', String(PORT)]);
  await until(
    'server listening',
    async () => server.lines,
    (l) => l.includes('listening'),
    10_000,
  );
  clients = [HOA6, HOA4].map((h) =>
    spawnIn('cn', [process.execPath, 'test/support/tcp-stream.mjs', 'client', h, String(PORT), String(RATE)]),
  );
  for (const c of clients)
    await until(
      'client connected',
      async () => c.lines,
      (l) => l.includes('connected'),
    );
  const received = (peer: string) => {
    const last = server.lines.filter((l) => l.startsWith('rx ') && l.includes(peer)).at(-1);
    return last ? Number(last.split(' ')[2]) : 0;
  };
  const peers = [A.cn.ipv6, A.cn.ipv4];
  for (const where of ['ipv4', 'nat', 'ipv6', 'home'] as const) {
    const before = peers.map(received);
    await labMove(prefix, where);
    await until(`registered at ${where}`, mnStatus, registeredAt(where));
    // Both streams move on after the handover (at least half a second's worth of new bytes).
    for (const [i, peer] of peers.entries()) {
      await until(
        `TCP to ${i === 0 ? HOA6 : HOA4} flowing at ${where}`,
        async () => received(peer),
        (n) => n > before[i]! + RATE / 2,
      );
    }
    await pingBoth();
  }
  for (const c of clients) c.child.kill('SIGTERM');
  const sent = await Promise.all(
    clients.map((c) =>
      until(
        'client finished',
        async () => c.lines.find((l) => l.startsWith('{')),
        (l) => l !== undefined,
      ),
    ),
  );
  const results = await until(
    'server saw both streams end',
    async () => server.lines.filter((l) => l.startsWith('{')),
    (l) => l.length === 2,
  );
  for (const line of sent) expect(JSON.parse(line!)).not.toHaveProperty('error');
  const totalSent = sent.map((l) => (JSON.parse(l!) as { sent: number }).sent).sort();
  const got = results.map((l) => JSON.parse(l) as { ok: boolean; received: number; error?: string });
  for (const r of got) expect(r).toMatchObject({ ok: true });
  expect(got.map((r) => r.received).sort()).toEqual(totalSent);
  expect(Math.min(...totalSent)).toBeGreaterThan(RATE * 4);
}, 180_000);

it('away again (public IPv4: protocol 41 and 4), a too-big packet gets Fragmentation Needed / Packet Too Big with the tunnel MTU', async () => {
  await ensureUp();
  await labMove(prefix, 'ipv4');
  await until('registered from the public IPv4 network', mnStatus, registeredAt('ipv4'));
  await pingBoth();
  const v4 = await labExec(prefix, 'cn', ['ping', '-c', '1', '-W', '1', '-M', 'do', '-s', '1472', HOA4]);
  expect(v4.stdout).toMatch(/Frag needed and DF set \(mtu = 1460\)/);
  const v6 = await labExec(prefix, 'cn', ['ping', '-c', '1', '-W', '1', '-M', 'do', '-s', '1452', HOA6]);
  expect(v6.stdout + v6.stderr).toMatch(/Packet too big: mtu=1460|message too long, mtu: 1460/);
}, 60_000);

it('a tunnel packet with a spoofed inner source, or from the wrong care-of address, is dropped at the HA and counted', async () => {
  await ensureUp();
  await until('registered from the public IPv4 network', mnStatus, registeredAt('ipv4'));
  const before = await haStatus();
  // Built with the project's general tunnel codec (src/wire/tunnel.ts), sent from raw sockets.
  const inject = (outerSrc: string, innerSrc: string) => `
    import { encapsulate, emitIpv4, ipv4 } from './dist/wire/index.js';
    import { RawTunnelSockets } from './dist/net/raw-tunnel.js';
    const inner = emitIpv4({ dscp: 0, ecn: 0, identification: 1, dontFragment: true, moreFragments: false,
      fragmentOffset: 0, ttl: 64, protocol: 1, src: ipv4('${innerSrc}'), dst: ipv4('${A.cn.ipv4}') },
      Uint8Array.from([8, 0, 0xf7, 0xff, 0, 0, 0, 0]));
    const s = new RawTunnelSockets({ receive: [] });
    for (let i = 0; i < 3; i++) s.send4(encapsulate({ family: 4, src: ipv4('${outerSrc}'), dst: ipv4('${A.ha.ipv4}') }, inner));
    await s.close();`;
  // From the MN's own care-of address, but not from its home address.
  await labExec(prefix, 'mn', [
    process.execPath,
    '--input-type=module',
    '-e',
    inject(A.mn.ipv4.ipv4, '198.51.100.105'),
  ]);
  // From the correspondent node, claiming the MN's home address.
  await labExec(prefix, 'cn', [process.execPath, '--input-type=module', '-e', inject(A.cn.ipv4, HOA4)]);
  const after = await until(
    'drops counted',
    haStatus,
    (d) =>
      (d.dataplane.dropped['ingress-no-binding'] ?? 0) >=
        (before.dataplane.dropped['ingress-no-binding'] ?? 0) + 3 &&
      (d.dataplane.bindings[HOA6]?.dropped['ingress-wrong-care-of'] ?? 0) >=
        (before.dataplane.bindings[HOA6]?.dropped['ingress-wrong-care-of'] ?? 0) + 3,
    10_000,
  );
  // What an operator sees: per-binding traffic and drops by reason in `dsmip6 status`.
  const shown = execFileSync(process.execPath, ['bin/dsmip6.js', 'status', '--socket', haSock], {
    encoding: 'utf8',
  });
  expect(shown).toMatch(/data plane: .*dropped outside bindings: .*ingress-no-binding \d+/);
  expect(shown).toMatch(new RegExp(`${HOA6} +\\d+ pkt / .* +\\d+ pkt / .*ingress-wrong-care-of \\d+`));
  const mnShown = execFileSync(process.execPath, ['bin/dsmip6.js', 'status', '--socket', mnSock], {
    encoding: 'utf8',
  });
  expect(mnShown).toMatch(/data plane: ip4 203\.0\.113\.10 -> 198\.51\.100\.1; out \d+ pkt/);
  expect(after.dataplane.bindings[HOA6]?.packetsIn).toBeGreaterThanOrEqual(
    before.dataplane.bindings[HOA6]?.packetsIn ?? 0,
  );
}, 60_000);

it("the HA's capture shows every encapsulation RFC 5555 §4.1 calls for, decoded by tshark", async () => {
  await ensureUp();
  tshark.kill('SIGINT');
  await new Promise((r) => tshark.once('exit', r));
  const fields = execFileSync(
    'tshark',
    ['-n', '-r', capture, '-d', 'udp.port==4191,ip', '-T', 'fields', '-e', 'frame.protocols'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  const stacks = [...new Set(fields.split('\n').map((l) => l.replace(/^eth:ethertype:/, '')))];
  const seen = (re: RegExp) =>
    expect(
      stacks.filter((s) => re.test(s)),
      `${re} in ${stacks.join(' ')}`,
    ).not.toEqual([]);
  // IPv6 care-of address: IPv6-in-IPv6 and IPv4-in-IPv6 (RFC 2473).
  seen(/^ipv6:ipv6:/);
  seen(/^ipv6:ip:/);
  // Public IPv4 care-of address: protocol 41 and protocol 4.
  seen(/^ip:ipv6:/);
  seen(/^ip:ip:/);
  // Behind the NAT: UDP 4191 carrying IPv4 data, and IPv6 data besides the ESP-protected BUs.
  seen(/^ip:udp:ip:(icmp|tcp)/);
  seen(/^ip:udp:(ip:)?ipv6:(icmpv6|tcp)/);
}, 60_000);
