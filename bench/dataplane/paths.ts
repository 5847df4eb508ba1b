/**
 * The three ways between the CN and the MN behind the NAT that the benchmark compares, each set
 * up inside the benchmark's own lab and taken down again:
 *
 * - kernel: no tunnel. The NAT forwards port 5201 and ICMP echo on its public address to the MN
 *   (a port forward added to this lab's NAT only), so the CN reaches the MN the way it reaches it
 *   through a tunnel, minus the detour through the HA: CN → router → NAT → MN, all kernel
 *   forwarding (with conntrack). The ceiling; IPv4 only (there is no IPv6 behind the NAT).
 * - openvpn: OpenVPN 2.6 in p2p mode over UDP without TLS, cipher and auth none, server in the HA's
 *   namespace, client in the MN's. The router routes the tunnel subnets to the HA; the MN sends
 *   what comes from its tunnel addresses back into the tunnel (source policy routing, so the
 *   kernel path above is unaffected).
 * - dsmip6: the real `dsmip6 ha` and `dsmip6 mn` daemons with their data plane; the CN sends to
 *   the MN's IPv4 and IPv6 home addresses.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_ADDRESSES as A, type LabLocation } from '../../src/lab/lab.js';
import { queryControl } from '../../src/net/control-socket.js';
import { reachable, type Target } from './measure.js';
import { must, type Proc, sleep, start, tail, waitForOutput } from './procs.js';

export type PathName = 'kernel' | 'openvpn' | 'dsmip6';

export interface PathUp {
  targets: Target[];
  /** Families the path should carry but the CN could not reach, with why. */
  unreachable: { family: 'ipv4' | 'ipv6'; reason: string }[];
  /** What the path looked like (binding, encapsulation), for the results file. */
  details: Record<string, unknown>;
  /** After a move to `at`: resolves true once the path carries traffic again (false: gave up). */
  settled?(at: LabLocation): Promise<boolean>;
  /** The path's state after a move, for the results (dsmip6: the binding). */
  state?(): Promise<unknown>;
  down(): Promise<void>;
}

export interface Path {
  name: PathName;
  description: string;
  /**
   * The moves of the handover measurement, starting from the NAT and ending there or last; none:
   * the path cannot follow the MN (the kernel path is a port forward to one address).
   */
  walk?: LabLocation[];
  /** Why some kinds of move are left out of `walk`. */
  walkNote?: string;
  /** Resolves when the path carries traffic; throws with the reason it is not available. */
  up(prefix: string): Promise<PathUp>;
}

export const IPERF_PORT = 5201;

// ---------------------------------------------------------------------------------------------
// kernel

export const kernelPath: Path = {
  name: 'kernel',
  description:
    'no tunnel: CN → router → NAT (port forward to the MN, conntrack) → MN; IPv4 only. The ceiling: the same veths and NAT the tunnels cross, minus the detour through the HA',
  async up(prefix) {
    const rules = `table ip bench_fwd {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "wan" tcp dport ${IPERF_PORT} dnat to ${A.mn.nat.ipv4}
    iifname "wan" udp dport ${IPERF_PORT} dnat to ${A.mn.nat.ipv4}
    iifname "wan" icmp type echo-request dnat to ${A.mn.nat.ipv4}
  }
}
`;
    const dir = mkdtempSync(join(tmpdir(), 'dsmip6-bench-nft-'));
    const file = join(dir, 'fwd.nft');
    writeFileSync(file, rules);
    try {
      await must(prefix, 'nat', ['nft', '-f', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The lab NAT's forward chain drops what does not answer something that went out; let the
    // forwarded connections through.
    await must(prefix, 'nat', [
      'nft',
      'insert',
      'rule',
      'ip',
      'dsmip6_nat',
      'forward',
      'ct',
      'status',
      'dnat',
      'accept',
    ]);
    const target: Target = { family: 'ipv4', address: A.nat.outsideIpv4, bind: A.mn.nat.ipv4 };
    if (!(await reachable(prefix, target.address, 5000)))
      throw new Error('CN gets no echo reply through the port forward');
    return {
      targets: [target],
      unreachable: [],
      details: { address: `${A.nat.outsideIpv4} (port forward to ${A.mn.nat.ipv4})` },
      async down() {
        await must(prefix, 'nat', ['nft', 'delete', 'table', 'ip', 'bench_fwd']).catch(() => undefined);
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// openvpn

const OVPN = {
  port: 1194,
  ipv4: { server: '10.8.0.1', client: '10.8.0.2', subnet: '10.8.0.0/24' },
  ipv6: { server: '2001:db8:8::1', client: '2001:db8:8::2', subnet: '2001:db8:8::/64' },
  table: '100',
} as const;

/** Options both ends share: p2p, UDP, no TLS, no cipher, no auth (2.6 warns and goes on). */
const OVPN_COMMON = [
  '--dev',
  'tun',
  '--proto',
  'udp',
  '--cipher',
  'none',
  '--auth',
  'none',
  '--data-ciphers',
  'none',
  // Keeps the NAT mapping alive; restarts if the peer goes quiet.
  '--ping',
  '10',
  '--ping-restart',
  '60',
  '--verb',
  '3',
];

export const openvpnPath: Path = {
  name: 'openvpn',
  walk: ['ipv4', 'nat', 'home', 'nat'],
  walkNote:
    'OpenVPN: no move to the IPv6-only network (its server address is IPv4); the server follows the client to a new address (--float) when the client next sends',
  description: `OpenVPN 2.6 p2p over UDP, no TLS, --cipher none --auth none --data-ciphers none; server in the HA namespace (${A.ha.ipv4}:${OVPN.port}), client in the MN namespace behind the NAT; CN reaches the MN at ${OVPN.ipv4.client} and ${OVPN.ipv6.client}`,
  async up(prefix) {
    const procs: Proc[] = [];
    const cleanup: (() => Promise<unknown>)[] = [];
    const down = async () => {
      for (const p of procs) await p.stop('SIGTERM', 3000);
      for (const c of cleanup.reverse()) await c().catch(() => undefined);
    };
    try {
      const server = start(
        prefix,
        'ha',
        [
          'openvpn',
          ...OVPN_COMMON,
          '--lport',
          String(OVPN.port),
          '--float',
          '--ifconfig',
          OVPN.ipv4.server,
          OVPN.ipv4.client,
          '--ifconfig-ipv6',
          `${OVPN.ipv6.server}/64`,
          OVPN.ipv6.client,
        ],
        'openvpn-server',
      );
      procs.push(server);
      const client = start(
        prefix,
        'mn',
        [
          'openvpn',
          ...OVPN_COMMON,
          '--remote',
          A.ha.ipv4,
          String(OVPN.port),
          '--nobind',
          '--ifconfig',
          OVPN.ipv4.client,
          OVPN.ipv4.server,
          '--ifconfig-ipv6',
          `${OVPN.ipv6.client}/64`,
          OVPN.ipv6.server,
        ],
        'openvpn-client',
      );
      procs.push(client);
      const done = (s: string) => s.includes('Initialization Sequence Completed');
      for (const p of [server, client]) {
        if (!(await waitForOutput(p, done, 30_000))) {
          throw new Error(`${p.name} did not complete initialisation: ${tail(p.stdout() + p.stderr())}`);
        }
      }
      // The router sends the tunnel subnets to the HA (the CN's default route is the router).
      await must(prefix, 'rt', ['ip', 'route', 'add', OVPN.ipv4.subnet, 'via', A.ha.ipv4]);
      cleanup.push(() => must(prefix, 'rt', ['ip', 'route', 'del', OVPN.ipv4.subnet]));
      await must(prefix, 'rt', ['ip', '-6', 'route', 'add', OVPN.ipv6.subnet, 'via', A.ha.ipv6]);
      cleanup.push(() => must(prefix, 'rt', ['ip', '-6', 'route', 'del', OVPN.ipv6.subnet]));
      // The MN answers from its tunnel addresses through the tunnel.
      for (const [fam, addr] of [
        ['-4', OVPN.ipv4.client],
        ['-6', OVPN.ipv6.client],
      ] as const) {
        await must(prefix, 'mn', ['ip', fam, 'rule', 'add', 'from', addr, 'lookup', OVPN.table]);
        cleanup.push(() =>
          must(prefix, 'mn', ['ip', fam, 'rule', 'del', 'from', addr, 'lookup', OVPN.table]),
        );
        await must(prefix, 'mn', ['ip', fam, 'route', 'add', 'default', 'dev', 'tun0', 'table', OVPN.table]);
      }
      const targets: Target[] = [
        { family: 'ipv4', address: OVPN.ipv4.client, bind: OVPN.ipv4.client },
        { family: 'ipv6', address: OVPN.ipv6.client, bind: OVPN.ipv6.client },
      ];
      const unreachable: PathUp['unreachable'] = [];
      const ok: Target[] = [];
      for (const t of targets) {
        if (await reachable(prefix, t.address, 10_000)) ok.push(t);
        else unreachable.push({ family: t.family, reason: `CN gets no echo reply from ${t.address}` });
      }
      if (ok.length === 0) throw new Error('CN reaches neither tunnel address');
      const settled = async () => {
        for (const t of ok) if (!(await reachable(prefix, t.address, 30_000))) return false;
        return true;
      };
      return { targets: ok, unreachable, details: { server: `${A.ha.ipv4}:${OVPN.port}` }, settled, down };
    } catch (e) {
      await down();
      throw e;
    }
  },
};

// ---------------------------------------------------------------------------------------------
// dsmip6

/** Example-only key (16-byte AES-GCM key + 4-byte salt); the lab is a closed world. */
const KEY = '6b'.repeat(20);

interface MnDoc {
  status: { registration: string; careOf: string | null; natDetected: boolean | null } | null;
}
interface HaDoc {
  bindings: { homeAddress: string; careOf: { address: string }; tunnel: string; nat?: unknown }[];
}

export interface Dsmip6Options {
  /** The `dsmip6` executable (bin/dsmip6.js); run with this node. */
  bin: string;
  /** Where the configs and control sockets go (removed by the caller). */
  dir: string;
  /** The MN's movement debounce (config settleMs; the daemon's default is 500 ms). */
  settleMs: number;
}

/** The first line a daemon printed that says why it stopped (a config error, a JSON log error). */
function whyExited(p: Proc): string {
  const lines = (p.stderr() + p.stdout()).split('\n').filter((l) => l.trim() !== '');
  for (const l of lines) {
    try {
      const j = JSON.parse(l) as { level?: number; msg?: string; err?: { message?: string } };
      if ((j.level ?? 0) >= 50) return j.err?.message ?? j.msg ?? l;
    } catch {
      if (/error|invalid|expected|unknown/i.test(l)) return l.trim();
    }
  }
  return tail(p.stderr() + p.stdout()) || 'no output';
}

export function dsmip6Path(o: Dsmip6Options): Path {
  return {
    name: 'dsmip6',
    walk: ['ipv6', 'ipv4', 'nat', 'home'],
    description: `dsmip6 ha and dsmip6 mn daemons with the data plane (TUN dsm6ha/dsm6mn); CN reaches the MN at its home addresses ${A.mn.home.ipv4} and ${A.mn.home.ipv6}`,
    async up(prefix) {
      const haSock = join(o.dir, 'ha.sock');
      const mnSock = join(o.dir, 'mn.sock');
      const ha = join(o.dir, 'ha.json');
      const mn = join(o.dir, 'mn.json');
      writeFileSync(
        ha,
        JSON.stringify({
          homePrefix: A.networks.home.ipv6,
          addresses: { ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 },
          ipv4Pool: { start: A.mn.home.ipv4, end: '198.51.100.110', prefixLength: 25, leaseSeconds: 3600 },
          maxLifetimeSeconds: 3600,
          natKeepaliveSeconds: 15,
          securityAssociations: [
            {
              homeAddress: A.mn.home.ipv6,
              spiIn: 0x1001,
              spiOut: 0x2001,
              algorithm: 'aes-gcm-16',
              encryptionKey: KEY,
            },
          ],
          dataplane: { tun: 'dsm6ha', homeLink: 'eth0', mtu: 1500 },
          control: { socket: haSock },
          log: { level: 'warn' },
        }),
      );
      writeFileSync(
        mn,
        JSON.stringify({
          homeAddress: A.mn.home.ipv6,
          homePrefix: A.networks.home.ipv6,
          lifetimeSeconds: 3600,
          ipv4HomeAddress: A.mn.home.ipv4,
          homeAgent: { domain: A.dns.zone },
          dns: { servers: [A.dns.ipv4, A.dns.ipv6] },
          securityAssociation: { spiIn: 0x2001, spiOut: 0x1001, algorithm: 'aes-gcm-16', encryptionKey: KEY },
          settleMs: o.settleMs,
          // The access link only: the MN's own TUN carries the home addresses and is no attachment.
          interfaces: ['eth0'],
          dataplane: { tun: 'dsm6mn', mtu: 1500 },
          control: { socket: mnSock },
          log: { level: 'warn' },
        }),
      );
      const haProc = start(prefix, 'ha', [process.execPath, o.bin, 'ha', '--config', ha], 'dsmip6-ha');
      const mnProc = start(prefix, 'mn', [process.execPath, o.bin, 'mn', '--config', mn], 'dsmip6-mn');
      const down = async () => {
        await mnProc.stop('SIGTERM', 5000);
        await haProc.stop('SIGTERM', 5000);
      };
      const mnStatus = async () => {
        try {
          return ((await queryControl(mnSock)) as MnDoc).status ?? undefined;
        } catch {
          return undefined;
        }
      };
      const binding = async () => {
        try {
          return ((await queryControl(haSock)) as HaDoc).bindings.find(
            (b) => b.homeAddress === A.mn.home.ipv6,
          );
        } catch {
          return undefined;
        }
      };
      try {
        const end = Date.now() + 30_000;
        let last: MnDoc['status'] | undefined;
        while (Date.now() < end) {
          for (const p of [haProc, mnProc]) {
            if (p.hasExited()) throw new Error(`${p.name} exited: ${whyExited(p)}`);
          }
          last = await mnStatus();
          if (last?.registration === 'registered') break;
          await sleep(200);
        }
        if (last?.registration !== 'registered') {
          throw new Error(`the MN did not register within 30 s (MN status: ${JSON.stringify(last ?? null)})`);
        }
        const all: Target[] = [
          { family: 'ipv4', address: A.mn.home.ipv4, bind: A.mn.home.ipv4 },
          { family: 'ipv6', address: A.mn.home.ipv6, bind: A.mn.home.ipv6 },
        ];
        const targets: Target[] = [];
        const unreachable: PathUp['unreachable'] = [];
        for (const t of all) {
          if (await reachable(prefix, t.address, 15_000)) targets.push(t);
          else
            unreachable.push({
              family: t.family,
              reason: `registered, but the CN gets no echo reply from the home address ${t.address}`,
            });
        }
        if (targets.length === 0) {
          throw new Error(
            `the MN registered, but the CN reaches neither home address through the tunnel (${unreachable.map((u) => u.reason).join('; ')})`,
          );
        }
        const settled = async (at: LabLocation) => {
          const want = at === 'home' ? 'home' : 'registered';
          const end = Date.now() + 30_000;
          while (Date.now() < end && (await mnStatus())?.registration !== want) await sleep(200);
          for (const t of targets) {
            if (!(await reachable(prefix, t.address, Math.max(1000, end - Date.now())))) return false;
          }
          return true;
        };
        return {
          targets,
          unreachable,
          details: { binding: (await binding()) ?? null },
          settled,
          state: async () => (await binding()) ?? { binding: null },
          down,
        };
      } catch (e) {
        await down();
        throw e;
      }
    },
  };
}
