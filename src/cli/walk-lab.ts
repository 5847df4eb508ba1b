/**
 * The walk in the lab: network namespaces, the real `dsmip6 ha` and `dsmip6 mn` daemons, their
 * control sockets for status. Builds the lab under its own prefix and always tears it down.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_ADDRESSES as A, type LabLocation } from '../lab/addresses.js';
import { labDown, labExec, labMove, labSpawn, labUp } from '../lab/lab.js';
import { queryControl } from '../net/control-socket.js';
import type { WalkBinding, WalkStatus, WalkWorld } from './walk.js';

/** Example-only key (16-byte AES-GCM key + 4-byte salt); the lab is a closed world. */
const LAB_KEY = '5a'.repeat(20);

interface MnDoc {
  status: {
    registration: string;
    careOf: string | null;
    natDetected: boolean | null;
    ipv4?: { address?: string };
  } | null;
  dataplane?: { routesReady: boolean };
}
interface HaDoc {
  bindings: {
    homeAddress: string;
    careOf: { address: string };
    tunnel: string;
    nat?: { address: string; port: number };
    sequence: number;
  }[];
}

/** The lab world, plus the MN daemon's inspector socket (a file, reachable from the host). */
export type LabWorld = WalkWorld & { readonly mnInspectSocket: string };

export async function labWorld(opts: {
  prefix: string;
  natUdpTimeout: number;
  haRefresh: number;
  bin: string;
}): Promise<LabWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'dsmip6-walk-'));
  const haSock = join(dir, 'ha.sock');
  const mnSock = join(dir, 'mn.sock');
  const mnInspect = join(dir, 'mn.inspect.sock');
  const children: ChildProcess[] = [];
  const close = async (): Promise<void> => {
    for (const c of children) c.kill('SIGTERM');
    await labDown(opts.prefix).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await labUp({ prefix: opts.prefix, natUdpTimeout: opts.natUdpTimeout });
    const ha = join(dir, 'ha.json');
    const mn = join(dir, 'mn.json');
    writeFileSync(
      ha,
      JSON.stringify({
        homePrefix: A.networks.home.ipv6,
        addresses: { ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 },
        // On the home link: the MN's IPv4 home address works at home too (proxy ARP while away).
        ipv4Pool: { start: '198.51.100.100', end: '198.51.100.120', prefixLength: 25, leaseSeconds: 3600 },
        maxLifetimeSeconds: 400,
        natKeepaliveSeconds: opts.haRefresh,
        securityAssociations: [
          {
            homeAddress: A.mn.home.ipv6,
            spiIn: 0x1001,
            spiOut: 0x2001,
            algorithm: 'aes-gcm-16',
            encryptionKey: LAB_KEY,
          },
        ],
        // The data plane: a TUN on the HA, the home link eth0 (proxy ND/ARP for bound home addresses).
        dataplane: { tun: 'dsm6ha', homeLink: 'eth0' },
        control: { socket: haSock },
        pcap: join(dir, 'ha.pcap'),
      }),
    );
    writeFileSync(
      mn,
      JSON.stringify({
        homeAddress: A.mn.home.ipv6,
        homePrefix: A.networks.home.ipv6,
        lifetimeSeconds: 400,
        ipv4HomeAddress: 'dynamic',
        // Discovery by DNS only: SRV _mip6._ipv6.example.net, then AAAA and A (RFC 5026, RFC 5555 §2.1).
        homeAgent: { domain: A.dns.zone },
        dns: { servers: [A.dns.ipv4, A.dns.ipv6] },
        securityAssociation: {
          spiIn: 0x2001,
          spiOut: 0x1001,
          algorithm: 'aes-gcm-16',
          encryptionKey: LAB_KEY,
        },
        settleMs: 200,
        dataplane: { tun: 'dsm6mn' },
        control: { socket: mnSock },
      }),
    );
    for (const [node, file] of [
      ['ha', ha],
      ['mn', mn],
    ] as const) {
      const extra = node === 'mn' ? ['--inspect', `unix:${mnInspect}`] : [];
      const c = labSpawn(opts.prefix, node, [process.execPath, opts.bin, node, '--config', file, ...extra]);
      c.stdout?.resume();
      c.stderr?.resume();
      children.push(c);
    }
  } catch (e) {
    await close();
    throw e;
  }
  let lastIpv4: string = A.mn.home.ipv4;
  const quiet = async <T>(q: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await q();
    } catch {
      return undefined;
    }
  };
  return {
    mnInspectSocket: mnInspect,
    name: 'lab (network namespaces, real daemons)',
    move: (where) => labMove(opts.prefix, where),
    async mn(): Promise<WalkStatus | undefined> {
      const d = (await quiet(() => queryControl(mnSock))) as MnDoc | undefined;
      if (!d?.status) return undefined;
      const ipv4 = d.status.ipv4?.address;
      return {
        registration: d.status.registration,
        careOf: d.status.careOf,
        natDetected: d.status.natDetected,
        ...(ipv4 ? { ipv4 } : {}),
      };
    },
    async binding(): Promise<WalkBinding | undefined> {
      const d = (await quiet(() => queryControl(haSock))) as HaDoc | undefined;
      const b = d?.bindings.find((x) => x.homeAddress === A.mn.home.ipv6);
      if (!b) return undefined;
      return {
        careOf: b.careOf.address,
        tunnel: b.tunnel,
        sequence: b.sequence,
        ...(b.nat ? { nat: `${b.nat.address}:${b.nat.port}` } : {}),
      };
    },
    wait: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
    async reach() {
      const ping = async (target: string): Promise<string> => {
        // Up to three tries: the first packet after a move can race the binding to the HA.
        const r = await labExec(opts.prefix, 'cn', ['ping', '-c', '3', '-i', '0.2', '-W', '1', target]).catch(
          () => undefined,
        );
        const rtt = r?.stdout.match(/time=([\d.]+) ms/);
        return rtt ? `${rtt[1]} ms` : 'no reply';
      };
      // The MN's routes follow its registration a few milliseconds later (`ip` runs in the
      // background): wait for them, as a user's first packet would.
      let d = (await quiet(() => queryControl(mnSock))) as MnDoc | undefined;
      for (let i = 0; i < 60 && d?.dataplane && !d.dataplane.routesReady; i++) {
        await new Promise((r) => setTimeout(r, 50));
        d = (await quiet(() => queryControl(mnSock))) as MnDoc | undefined;
      }
      // The assigned IPv4 home address; at home (no binding, none reported) the last one, which
      // lies on the home link, or the lab's own home-link address before any assignment.
      lastIpv4 = d?.status?.ipv4?.address ?? lastIpv4;
      return { ipv6: await ping(A.mn.home.ipv6), ipv4: await ping(lastIpv4) };
    },
    close,
  };
}

export type { LabLocation };
