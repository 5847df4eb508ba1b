/**
 * The real daemons in the real lab (network namespaces, an nftables NAT, dnsmasq): `dsmip6 ha` in
 * the home network and `dsmip6 mn` moving between the public IPv4 network and the network behind
 * the NAT, found by DNS only, over real UDP sockets with ESP. Needs root; fails without it.
 */

import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LAB_ADDRESSES as A, labDown, labMove, labSpawn, labUp } from '../../src/lab/lab.js';
import { queryControl } from '../../src/net/control-socket.js';
import { requireRoot } from '../support/root.js';

const prefix = `e${process.pid % 10000}`;
const dir = mkdtempSync(join(tmpdir(), 'dsmip6-e2e-'));
const haSock = join(dir, 'ha.sock');
const mnSock = join(dir, 'mn.sock');
const children: ChildProcess[] = [];
let up = false;

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await labDown(prefix).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const KEY = 'a1'.repeat(20); // 16-byte AES-GCM key + 4-byte salt (example only)
const NAT_UDP_TIMEOUT = 8; // seconds: shorter than the default 110 s keepalive
const HA_REFRESH = 3; // the HA's NAT Detection refresh time, below the NAT timeout

function configs(): { ha: string; mn: string } {
  const ha = join(dir, 'ha.json');
  const mn = join(dir, 'mn.json');
  writeFileSync(
    ha,
    JSON.stringify({
      homePrefix: '2001:db8:1::/64',
      addresses: { ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 },
      ipv4Pool: { start: '198.51.100.129', end: '198.51.100.254', prefixLength: 25, leaseSeconds: 3600 },
      maxLifetimeSeconds: 400,
      natKeepaliveSeconds: HA_REFRESH,
      securityAssociations: [
        {
          homeAddress: A.mn.home.ipv6,
          spiIn: 0x1001,
          spiOut: 0x2001,
          algorithm: 'aes-gcm-16',
          encryptionKey: KEY,
        },
      ],
      control: { socket: haSock },
      log: { level: 'debug' },
    }),
  );
  writeFileSync(
    mn,
    JSON.stringify({
      homeAddress: A.mn.home.ipv6,
      homePrefix: '2001:db8:1::/64',
      lifetimeSeconds: 400,
      ipv4HomeAddress: 'dynamic',
      homeAgent: { domain: A.dns.zone },
      dns: { servers: [A.dns.ipv4] },
      securityAssociation: { spiIn: 0x2001, spiOut: 0x1001, algorithm: 'aes-gcm-16', encryptionKey: KEY },
      settleMs: 200,
      control: { socket: mnSock },
      log: { level: 'debug' },
    }),
  );
  return { ha, mn };
}

interface MnDoc {
  status: {
    registration: string;
    careOf: string | null;
    natDetected: boolean | null;
    ipv4?: { address?: string };
  } | null;
  counters: { baReceived: number };
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

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  let error: unknown;
  while (Date.now() < end) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out waiting for ${what}; last: ${JSON.stringify(last)} ${error ? String(error) : ''}`,
  );
}

const mnStatus = () => queryControl(mnSock) as Promise<MnDoc>;
const haStatus = () => queryControl(haSock) as Promise<HaDoc>;
const binding = (d: HaDoc) => d.bindings.find((b) => b.homeAddress === A.mn.home.ipv6);

function daemon(node: 'ha' | 'mn', file: string): void {
  const c = labSpawn(prefix, node, [process.execPath, 'bin/dsmip6.js', node, '--config', file]);
  c.stderr?.on('data', () => {});
  c.stdout?.on('data', () => {});
  children.push(c);
}

async function ensureUp(): Promise<void> {
  requireRoot();
  if (up) return;
  spawnSync('npm', ['run', 'build'], { stdio: 'ignore' });
  await labUp({ prefix, natUdpTimeout: NAT_UDP_TIMEOUT });
  await labMove(prefix, 'ipv4');
  const { ha, mn } = configs();
  daemon('ha', ha);
  daemon('mn', mn);
  up = true;
}

it('registers from the public IPv4 network, finding the HA by DNS only; no NAT; IPv4 HoA from the pool', async () => {
  await ensureUp();
  const mn = await until('MN registered via IPv4', mnStatus, (d) => d.status?.registration === 'registered');
  expect(mn.status).toMatchObject({ careOf: A.mn.ipv4.ipv4, natDetected: false });
  expect(mn.status?.ipv4?.address).toBe('198.51.100.129');
  const ha = await haStatus();
  expect(binding(ha)).toMatchObject({ careOf: { address: A.mn.ipv4.ipv4 }, tunnel: 'ip4' });
  expect(binding(ha)?.nat).toBeUndefined();
}, 60_000);

it('behind the NAT: the HA sees the NAT address and port, and keepalives keep the mapping past the NAT timeout', async () => {
  await ensureUp();
  const before = binding(await haStatus())?.sequence ?? 0;
  await labMove(prefix, 'nat');
  const ha = await until('binding behind the NAT', haStatus, (d) => binding(d)?.tunnel === 'udp');
  expect(binding(ha)).toMatchObject({
    careOf: { address: A.mn.nat.ipv4 },
    nat: { address: A.nat.outsideIpv4 },
  });
  expect(binding(ha)?.sequence).toBeGreaterThan(before);
  const port = binding(ha)?.nat?.port;
  const mn1 = await until('MN sees the NAT', mnStatus, (d) => d.status?.natDetected === true);
  // Twice the NAT's UDP timeout: keepalive BUs every HA_REFRESH seconds keep the same mapping.
  await new Promise((r) => setTimeout(r, NAT_UDP_TIMEOUT * 2 * 1000));
  const mn2 = await mnStatus();
  expect(mn2.status?.registration).toBe('registered');
  expect(mn2.counters.baReceived - mn1.counters.baReceived).toBeGreaterThanOrEqual(
    Math.floor((NAT_UDP_TIMEOUT * 2) / HA_REFRESH) - 1,
  );
  expect(binding(await haStatus())?.nat?.port).toBe(port);
}, 90_000);

it('moving back to the public network re-registers with a larger sequence number and no NAT', async () => {
  await ensureUp();
  const before = binding(await haStatus())?.sequence ?? 0;
  await labMove(prefix, 'ipv4');
  const ha = await until('binding on the public network', haStatus, (d) => binding(d)?.tunnel === 'ip4');
  expect(binding(ha)?.sequence).toBeGreaterThan(before);
  await until('MN sees no NAT', mnStatus, (d) => d.status?.natDetected === false);
}, 60_000);

it('from the IPv6-only network: native BU with Home Address option, BA with Type 2 routing header, IPv6-in-IPv6 tunnel', async () => {
  await ensureUp();
  const before = binding(await haStatus())?.sequence ?? 0;
  await labMove(prefix, 'ipv6');
  const ha = await until('binding on the IPv6 network', haStatus, (d) => binding(d)?.tunnel === 'ip6');
  expect(binding(ha)).toMatchObject({ careOf: { address: A.mn.ipv6.ipv6 } });
  expect(binding(ha)?.sequence).toBeGreaterThan(before);
  const mn = await until(
    'MN registered via IPv6',
    mnStatus,
    (d) => d.status?.careOf === A.mn.ipv6.ipv6 && d.status.registration === 'registered',
  );
  // The IPv4 home address stays bound from an IPv6 network (RFC 5555 §2.3.1: IPv4-in-IPv6).
  expect(mn.status?.ipv4?.address).toBe('198.51.100.129');
}, 60_000);

it('back home: deregistration (lifetime 0 from the home address) removes the binding', async () => {
  await ensureUp();
  await labMove(prefix, 'home');
  await until('binding removed', haStatus, (d) => binding(d) === undefined);
  await until('MN at home', mnStatus, (d) => d.status?.registration === 'home');
}, 60_000);
