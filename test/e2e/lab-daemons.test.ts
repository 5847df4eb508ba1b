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
import { until } from '../support/until.js';

const prefix = `e${process.pid % 10000}`;
const dir = mkdtempSync(join(tmpdir(), 'dsmip6-e2e-'));
const haSock = join(dir, 'ha.sock');
const haPcap = join(dir, 'ha.pcap');
const mnInspect = join(dir, 'mn.inspect.sock');
const HOA2 = '2001:db8:1::200';
const KEY2 = 'b2'.repeat(20);
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
        // A second mobile node, used below to try to register the first one's home address.
        { homeAddress: HOA2, spiIn: 0x1002, spiOut: 0x2002, algorithm: 'aes-gcm-16', encryptionKey: KEY2 },
      ],
      control: { socket: haSock },
      pcap: haPcap,
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
  counters: { dropped: Record<string, number> };
  bindings: {
    homeAddress: string;
    careOf: { address: string };
    tunnel: string;
    nat?: { address: string; port: number };
    sequence: number;
  }[];
}

const mnStatus = () => queryControl(mnSock) as Promise<MnDoc>;
const haStatus = () => queryControl(haSock) as Promise<HaDoc>;
const binding = (d: HaDoc) => d.bindings.find((b) => b.homeAddress === A.mn.home.ipv6);

function daemon(node: 'ha' | 'mn', file: string): void {
  const extra = node === 'mn' ? ['--inspect', `unix:${mnInspect}`] : [];
  const c = labSpawn(prefix, node, [process.execPath, 'bin/dsmip6.js', node, '--config', file, ...extra]);
  c.stderr?.on('data', () => {});
  c.stdout?.on('data', () => {});
  children.push(c);
}

async function ensureUp(): Promise<void> {
  requireRoot();
  if (up) return;
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

it("a BU for this home address protected by another mobile node's SA is dropped and changes nothing", async () => {
  await ensureUp();
  const before = binding(await haStatus());
  // From the correspondent node: a well-formed BU for the first MN's home address, inside ESP with
  // the second MN's SA (the spoofing threat of RFC 4877 §4.2), sent to the HA's UDP port.
  const dist = join(process.cwd(), 'dist');
  const script = `
    import { createSocket } from 'node:dgram';
    import { bindingUpdateFor } from '${dist}/actors/messages.js';
    import { seal } from '${dist}/security/esp.js';
    import { SecurityAssociationDatabase } from '${dist}/security/sa.js';
    import { emitIpv6, emitMobilityHeader, IpProto, ipv6, upperLayerPseudoHeader } from '${dist}/wire/index.js';
    const sad = SecurityAssociationDatabase.from([{ spi: 0x1002, direction: 'out', algorithm: 'aes-gcm-16',
      encryptionKey: Buffer.from('${KEY2}', 'hex'), homeAddress: '${HOA2}' }]);
    const bu = bindingUpdateFor({ haName: 'ha', ha: { ipv6: '${A.ha.ipv6}' }, sequence: 60000, lifetimeSeconds: 400,
      attachment: 'ipv4', careOf: '${A.cn.ipv4}', homeAddress: '${A.mn.home.ipv6}', forceUdp: false });
    const f = { dscp: 0, ecn: 0, flowLabel: 0, hopLimit: 64, src: ipv6('${A.mn.home.ipv6}'), dst: ipv6('${A.ha.ipv6}'), extensions: [] };
    const mh = emitMobilityHeader(bu, upperLayerPseudoHeader(f));
    const packet = emitIpv6({ ...f, protocol: IpProto.ESP }, seal(sad.outbound('${HOA2}'), mh, IpProto.Mobility));
    const s = createSocket('udp4');
    s.send(packet, 4191, '${A.ha.ipv4}', (e) => { if (e) throw e; s.close(); });`;
  const { labExec } = await import('../../src/lab/lab.js');
  const r = await labExec(prefix, 'cn', [process.execPath, '--input-type=module', '-e', script]);
  expect(r.stderr).toBe('');
  const after = await until(
    'the spoofed BU counted',
    haStatus,
    (d) => (d.counters.dropped['sa-mismatch'] ?? 0) >= 1,
  );
  expect(binding(after)).toEqual(before);
}, 60_000);

it('the home agent capture decodes in tshark with every ESP packet decrypted and its ICV verified', async () => {
  await ensureUp();
  const uat = (spi: number, key: string) =>
    `uat:esp_sa:"IPv6","*","*","0x${spi.toString(16).padStart(8, '0')}","AES-GCM with 16 octet ICV [RFC4106]","0x${key}","NULL",""`;
  const args = [
    '-n',
    '-r',
    haPcap,
    '-T',
    'fields',
    '-e',
    'esp.spi',
    '-e',
    'mip6.mhtype',
    '-e',
    'esp.icv_good',
    '-e',
    'esp.icv_bad',
    '-o',
    'esp.enable_encryption_decode:TRUE',
    '-o',
    'esp.enable_authentication_check:TRUE',
    '-o',
    'esp.do_esp_sequence_analysis:FALSE',
    '-o',
    uat(0x1001, KEY),
    '-o',
    uat(0x2001, KEY),
    '-o',
    uat(0x1002, KEY2),
  ];
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.error) throw new Error('tshark is required: apt-get install -y tshark');
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  expect(rows.length).toBeGreaterThan(10);
  // Every packet is ESP, decrypts to a Mobility Header (5 BU or 6 BA), and has a good ICV.
  for (const [spi, mhtype, good, bad] of rows) {
    expect(spi).toMatch(/^0x0000(1001|2001|1002)$/);
    expect(['5', '6']).toContain(mhtype);
    expect(good).toBe('1');
    expect(bad ?? '').not.toBe('1');
  }
  expect(rows.some((r) => r[1] === '5')).toBe(true);
  expect(rows.some((r) => r[1] === '6')).toBe(true);
}, 60_000);

it("the mobile node's live inspection stream shows its actors by systemId (over a Unix socket out of the namespace)", async () => {
  await ensureUp();
  const { default: WebSocket } = await import('ws');
  const { decodeRecord } = await import('../../src/inspect/server.js');
  const records = await new Promise<{ kind: string; systemId?: string }[]>((resolve, reject) => {
    const got: { kind: string; systemId?: string }[] = [];
    const ws = new WebSocket(`ws+unix:${mnInspect}:/stream`);
    const timer = setTimeout(() => {
      ws.close();
      resolve(got);
    }, 1_000);
    ws.on('message', (d: Buffer) => got.push(decodeRecord(d) as { kind: string; systemId?: string }));
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  expect(records[0]?.kind).toBe('hello');
  const ids = records.filter((r) => r.kind === 'actor').map((r) => r.systemId);
  expect(ids).toEqual(expect.arrayContaining(['mn/movement', 'mn/discovery', 'mn/bul/ha.example.net']));
}, 30_000);
