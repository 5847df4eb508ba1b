/**
 * The lab: a real dual-stack topology built from network namespaces, veth pairs, Linux bridges,
 * an nftables NAT and dnsmasq (lab/README.md draws it). Everything is named from a prefix, so labs
 * can run side by side, and `labDown` finds everything again from the prefix alone (after a crash
 * too): namespaces `<prefix>-<node>`, the state directory /run/dsmip6-lab/<prefix>/ and
 * /etc/netns/<prefix>-mn/. Every veth is created inside the namespaces (`ip -n A link add … peer
 * … netns B`), never in the root namespace, so interface names need no prefix (all ≤ 15 chars)
 * and deleting the namespaces removes every veth and bridge.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAB_ADDRESSES, LAB_LOCATIONS, LAB_NODES, type LabLocation, type LabNode } from './addresses.js';

export { LAB_ADDRESSES, LAB_LOCATIONS, LAB_NODES, type LabLocation, type LabNode } from './addresses.js';

export const LAB_DEFAULT_PREFIX = 'dsm';
export const LAB_STATE_ROOT = '/run/dsmip6-lab';
export const LAB_NEEDS_ROOT = 'needs root (network namespaces); run with sudo';

/** A lab failure; the message names the failing command line or the wrong value. */
export class LabError extends Error {
  override readonly name = 'LabError';
}

export interface LabUpOptions {
  /** Names everything: namespaces `<prefix>-<node>`; 1-12 of [a-z0-9], starting with a letter. */
  prefix?: string;
  /** Sets net.netfilter.nf_conntrack_udp_timeout in the NAT's namespace (seconds, 1-86400). */
  natUdpTimeout?: number;
  /** Where the mobile node starts (default home). */
  at?: LabLocation;
}

export interface LabStatus {
  prefix: string;
  /** All six namespaces exist. */
  up: boolean;
  namespaces: string[];
  missing: string[];
  stateDir: string;
  mn: {
    /** null when the MN has no access link (or the lab is down). */
    location: LabLocation | null;
    /** `address/prefixlen` of the MN's access interface eth0, link-local included. */
    addresses: string[];
    /** The MN's default routes, as `ip route` prints them. */
    defaultRoutes: string[];
  };
  dnsmasq: { pid: number | null; running: boolean };
  /** net.netfilter.nf_conntrack_udp_timeout and …_udp_timeout_stream in the NAT's namespace. */
  natUdpTimeout: { unreplied: number; stream: number } | null;
}

export interface LabExecResult {
  /** Exit code; null when killed by a signal (timeout). */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface LabExecOptions {
  /** Kill the command after this many milliseconds (default 30 000). */
  timeoutMs?: number;
}

// Interface names (fixed: each lives in its own namespace).
const BRIDGE = { home: 'br-home', ipv6: 'br-v6', ipv4: 'br-v4', natOutside: 'br-nat', cn: 'br-cn' } as const;
const NAT_LAN = 'br-lan';
const NAT_WAN = 'wan';
/** The MN's access interface, and the name of its peer on the network side. */
const MN_IF = 'eth0';
const MN_PEER = 'mn';

interface Attachment {
  ns: 'rt' | 'nat';
  bridge: string;
  ipv6?: { address: string; prefixLength: number; gateway: string };
  ipv4?: { address: string; prefixLength: number; gateway: string };
}

const A = LAB_ADDRESSES;
const N = A.networks;

const ATTACHMENTS: Record<LabLocation, Attachment> = {
  home: {
    ns: 'rt',
    bridge: BRIDGE.home,
    ipv6: { address: A.mn.home.ipv6, prefixLength: 64, gateway: N.home.routerIpv6 },
    ipv4: { address: A.mn.home.ipv4, prefixLength: 25, gateway: N.home.routerIpv4 },
  },
  ipv6: {
    ns: 'rt',
    bridge: BRIDGE.ipv6,
    ipv6: { address: A.mn.ipv6.ipv6, prefixLength: 64, gateway: N.ipv6.routerIpv6 },
  },
  ipv4: {
    ns: 'rt',
    bridge: BRIDGE.ipv4,
    ipv4: { address: A.mn.ipv4.ipv4, prefixLength: 25, gateway: N.ipv4.routerIpv4 },
  },
  nat: {
    ns: 'nat',
    bridge: NAT_LAN,
    ipv4: { address: A.mn.nat.ipv4, prefixLength: 24, gateway: N.natInside.natIpv4 },
  },
};

// ---------------------------------------------------------------------------------------------
// Names

/** Checks a lab prefix; returns it. */
export function labPrefix(prefix: string = LAB_DEFAULT_PREFIX): string {
  if (!/^[a-z][a-z0-9]{0,11}$/.test(prefix)) {
    throw new LabError(
      `lab: prefix ${JSON.stringify(prefix)}: expected 1-12 lowercase letters or digits, starting with a letter`,
    );
  }
  return prefix;
}

/** The network namespace of `node` in lab `prefix`. */
export function labNamespace(prefix: string, node: LabNode): string {
  return `${labPrefix(prefix)}-${node}`;
}

export function labStateDir(prefix: string): string {
  return join(LAB_STATE_ROOT, labPrefix(prefix));
}

function netnsEtcDir(prefix: string): string {
  return join('/etc/netns', labNamespace(prefix, 'mn'));
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function requireRoot(): void {
  if (!isRoot()) throw new LabError(LAB_NEEDS_ROOT);
}

function isLocation(where: string): where is LabLocation {
  return (LAB_LOCATIONS as readonly string[]).includes(where);
}

// ---------------------------------------------------------------------------------------------
// Commands

const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  nft: 'nftables',
  dnsmasq: 'dnsmasq-base',
  sysctl: 'procps',
};

function quote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

interface Raw {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

function execRaw(argv: readonly string[], timeoutMs = 30_000): Promise<Raw> {
  const [file, ...args] = argv;
  if (file === undefined) throw new LabError('lab: empty command');
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ code: 0, signal: null, stdout, stderr });
        return;
      }
      const e = error as NodeJS.ErrnoException & { code?: number | string; signal?: string | null };
      if (typeof e.code === 'string') {
        resolve({ code: null, signal: null, stdout, stderr, spawnError: e });
        return;
      }
      resolve({ code: typeof e.code === 'number' ? e.code : null, signal: e.signal ?? null, stdout, stderr });
    });
  });
}

/** Runs a command; throws a LabError naming the command line when it fails. */
async function run(argv: readonly string[]): Promise<string> {
  const r = await execRaw(argv);
  if (r.spawnError) {
    const bin = argv[0] ?? '';
    const hint = r.spawnError.code === 'ENOENT' && PACKAGE_OF[bin] ? ` (install ${PACKAGE_OF[bin]})` : '';
    throw new LabError(`lab: ${quote(argv)}: cannot run ${bin}: ${r.spawnError.code}${hint}`);
  }
  if (r.code !== 0) {
    const why = r.stderr.trim() || r.stdout.trim() || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
    throw new LabError(`lab: command failed: ${quote(argv)}: ${why}`);
  }
  return r.stdout;
}

/** `ip -n <ns> …` */
function ip(ns: string, ...args: string[]): Promise<string> {
  return run(['ip', '-n', ns, ...args]);
}

function inNs(ns: string, argv: readonly string[]): Promise<string> {
  return run(['ip', 'netns', 'exec', ns, ...argv]);
}

function sysctl(ns: string, key: string, value: string | number): Promise<string> {
  return inNs(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
}

async function existingNamespaces(): Promise<Set<string>> {
  const out = await run(['ip', 'netns', 'list']);
  // Lines look like "dsm-rt (id: 3)" or just "dsm-rt".
  return new Set(
    out
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0] ?? '')
      .filter((n) => n !== ''),
  );
}

/** The lab's namespaces that exist now, in LAB_NODES order. */
async function labNamespaces(prefix: string): Promise<string[]> {
  const existing = await existingNamespaces();
  return LAB_NODES.map((n) => labNamespace(prefix, n)).filter((ns) => existing.has(ns));
}

// ---------------------------------------------------------------------------------------------
// Up

/**
 * Builds the lab. Fails with a LabError if any of its namespaces already exists (`up` is not
 * idempotent: a half-built or stale lab must be taken down explicitly). On any failure while
 * building, whatever was built is removed again before the error is thrown.
 */
export async function labUp(opts: LabUpOptions = {}): Promise<void> {
  const prefix = labPrefix(opts.prefix);
  requireRoot();
  const at = opts.at ?? 'home';
  if (!isLocation(at))
    throw new LabError(`lab: location ${JSON.stringify(at)}: expected one of ${LAB_LOCATIONS.join(', ')}`);
  const timeout = opts.natUdpTimeout;
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 1 && timeout <= 86_400)) {
    throw new LabError(`lab: natUdpTimeout ${timeout}: expected whole seconds 1-86400`);
  }
  const present = await labNamespaces(prefix);
  if (present.length > 0) {
    throw new LabError(
      `lab "${prefix}" is already up (namespace ${present[0]} exists); run \`dsmip6 lab down --name ${prefix}\` first`,
    );
  }
  try {
    await build(prefix, timeout);
    await labMove(prefix, at);
  } catch (e) {
    await labDown(prefix).catch(() => undefined);
    throw e;
  }
}

async function build(prefix: string, natUdpTimeout: number | undefined): Promise<void> {
  const ns = (node: LabNode) => labNamespace(prefix, node);
  const rt = ns('rt');
  const nat = ns('nat');
  const stateDir = labStateDir(prefix);
  await mkdir(stateDir, { recursive: true });

  for (const node of LAB_NODES) {
    await run(['ip', 'netns', 'add', ns(node)]);
    await ip(ns(node), 'link', 'set', 'lo', 'up');
    // No duplicate address detection on any lab interface, link-local addresses included: the
    // addresses are planned, and a link-local address tentative for its 1-2 s of DAD holds back
    // neighbour discovery (packets through a freshly built lab, or right after a move, would
    // wait seconds in neighbour queues).
    await sysctl(ns(node), 'net.ipv6.conf.default.accept_dad', 0);
  }

  // Router: forwards both families. New interfaces start without IPv6 (bridge ports and the
  // IPv4-only networks need none); the dual-stack and IPv6 bridges turn it back on.
  await sysctl(rt, 'net.ipv6.conf.default.disable_ipv6', 1);
  await sysctl(rt, 'net.ipv6.conf.all.forwarding', 1);
  await sysctl(rt, 'net.ipv4.ip_forward', 1);
  for (const [key, bridge] of Object.entries(BRIDGE)) {
    // No snooping: with no MLD querier in the lab it could stop ND multicast.
    await ip(rt, 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0');
    if (key === 'home' || key === 'ipv6' || key === 'cn') {
      await sysctl(rt, `net.ipv6.conf.${bridge}.disable_ipv6`, 0);
      await sysctl(rt, `net.ipv6.conf.${bridge}.accept_dad`, 0);
    }
    await ip(rt, 'link', 'set', bridge, 'up');
  }
  await addr(rt, BRIDGE.home, `${N.home.routerIpv6}/64`, `${N.home.routerIpv4}/25`);
  await addr(rt, BRIDGE.ipv6, `${N.ipv6.routerIpv6}/64`);
  await addr(rt, BRIDGE.ipv4, `${N.ipv4.routerIpv4}/25`);
  await addr(rt, BRIDGE.natOutside, `${N.natOutside.routerIpv4}/25`);
  await addr(rt, BRIDGE.cn, `${N.cn.routerIpv6}/64`, `${N.cn.routerIpv4}/24`);
  await ip(rt, 'route', 'add', N.haIpv4Pool.ipv4, 'via', N.haIpv4Pool.via, 'dev', BRIDGE.home);
  await ip(rt, '-6', 'route', 'add', N.haVirtualHome.ipv6, 'via', N.haVirtualHome.via, 'dev', BRIDGE.home);

  // NAT: IPv4 only, forwarding, masquerade on the outside interface.
  await sysctl(nat, 'net.ipv6.conf.all.disable_ipv6', 1);
  await sysctl(nat, 'net.ipv6.conf.default.disable_ipv6', 1);
  await sysctl(nat, 'net.ipv4.ip_forward', 1);
  await ip(nat, 'link', 'add', NAT_LAN, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0');
  await ip(nat, 'link', 'set', NAT_LAN, 'up');
  await addr(nat, NAT_LAN, `${N.natInside.natIpv4}/24`);
  await veth(nat, NAT_WAN, rt, 'nat', BRIDGE.natOutside);
  await addr(nat, NAT_WAN, `${A.nat.outsideIpv4}/25`);
  await ip(nat, 'route', 'add', 'default', 'via', N.natOutside.routerIpv4);
  const rules = join(stateDir, 'nat.nft');
  await writeFile(rules, natRuleset());
  await inNs(nat, ['nft', '-f', rules]);
  // The conntrack sysctls are per network namespace (they start at the kernel defaults in a new
  // namespace, whatever the root namespace has); the ruleset above makes conntrack active here.
  if (natUdpTimeout !== undefined) await labSetNatUdpTimeout(prefix, natUdpTimeout);

  // Hosts.
  const hosts: [LabNode, string, string, string, string, string][] = [
    ['ha', BRIDGE.home, `${A.ha.ipv6}/64`, `${A.ha.ipv4}/25`, N.home.routerIpv6, N.home.routerIpv4],
    ['cn', BRIDGE.cn, `${A.cn.ipv6}/64`, `${A.cn.ipv4}/24`, N.cn.routerIpv6, N.cn.routerIpv4],
    ['dns', BRIDGE.cn, `${A.dns.ipv6}/64`, `${A.dns.ipv4}/24`, N.cn.routerIpv6, N.cn.routerIpv4],
  ];
  for (const [node, bridge, v6, v4, gw6, gw4] of hosts) {
    const host = ns(node);
    await veth(host, 'eth0', rt, node, bridge);
    await addr(host, 'eth0', v6, v4);
    await ip(host, '-6', 'route', 'add', 'default', 'via', gw6, 'dev', 'eth0');
    await ip(host, 'route', 'add', 'default', 'via', gw4, 'dev', 'eth0');
  }
  // The HA daemon forwards between its TUN (the virtual home network) and the home link.
  await sysctl(ns('ha'), 'net.ipv6.conf.all.forwarding', 1);
  await sysctl(ns('ha'), 'net.ipv4.ip_forward', 1);

  // DNS.
  const conf = join(stateDir, 'dnsmasq.conf');
  await writeFile(conf, dnsmasqConf(stateDir));
  await inNs(ns('dns'), ['dnsmasq', `--conf-file=${conf}`]);
  await waitForPidFile(join(stateDir, 'dnsmasq.pid'));

  // The MN's resolver (`ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf).
  const etc = netnsEtcDir(prefix);
  await mkdir(etc, { recursive: true });
  await writeFile(
    join(etc, 'resolv.conf'),
    `# dsmip6 lab ${prefix}\nnameserver ${A.dns.ipv6}\nnameserver ${A.dns.ipv4}\nsearch ${A.dns.zone}\noptions timeout:1 attempts:2\n`,
  );
}

async function addr(ns: string, dev: string, ...cidrs: string[]): Promise<void> {
  for (const cidr of cidrs) {
    // nodad: static lab addresses are usable at once (no 1-2 s of tentative state).
    const extra = cidr.includes(':') ? ['nodad'] : [];
    await ip(ns, 'addr', 'add', cidr, 'dev', dev, ...extra);
  }
}

/**
 * A veth pair `hostIf` (in hostNs) ↔ `peerIf` (in bridgeNs, enslaved to `bridge` and up); `hostIf`
 * is brought up too unless `opts.down` (the caller has sysctls to set first).
 */
async function veth(
  hostNs: string,
  hostIf: string,
  bridgeNs: string,
  peerIf: string,
  bridge: string,
  opts: { mac?: string; down?: boolean } = {},
): Promise<void> {
  const address = opts.mac ? ['address', opts.mac] : [];
  await ip(
    hostNs,
    'link',
    'add',
    hostIf,
    ...address,
    'type',
    'veth',
    'peer',
    'name',
    peerIf,
    'netns',
    bridgeNs,
  );
  await ip(bridgeNs, 'link', 'set', peerIf, 'master', bridge, 'up');
  if (!opts.down) await ip(hostNs, 'link', 'set', hostIf, 'up');
}

function natRuleset(): string {
  return `# dsmip6 lab NAT: masquerade the private network behind the outside address; nothing gets in
# unless it answers something that went out (a typical home NAT).
table ip dsmip6_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${NAT_WAN}" ip saddr ${N.natInside.ipv4} masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "${NAT_LAN}" oifname "${NAT_WAN}" accept
  }
}
`;
}

function dnsmasqConf(stateDir: string): string {
  const d = A.dns;
  return `# dsmip6 lab DNS: authoritative-style answers for ${d.zone}, nothing forwarded.
listen-address=${d.ipv6},${d.ipv4}
bind-interfaces
port=53
no-resolv
no-hosts
no-poll
local=/${d.zone}/
host-record=${d.haName},${A.ha.ipv6},${A.ha.ipv4}
host-record=${d.cnName},${A.cn.ipv6},${A.cn.ipv4}
srv-host=${d.haSrv},${d.haName},0,10,10
local-ttl=60
user=root
group=root
pid-file=${join(stateDir, 'dnsmasq.pid')}
log-facility=${join(stateDir, 'dnsmasq.log')}
log-queries
`;
}

async function waitForPidFile(file: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await readPid(file)) !== null) return;
    await sleep(100);
  }
  throw new LabError(`lab: dnsmasq wrote no pid file ${file} within 5 s`);
}

async function readPid(file: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Move

/**
 * Moves the MN's one access link: deletes its veth (the peer goes with it) and creates a new one
 * on the target network's bridge, then sets the MN's addresses and default routes there. In the
 * IPv4 networks IPv6 is disabled on the link, so the MN is IPv4-only there.
 */
export async function labMove(prefix: string, where: LabLocation): Promise<void> {
  labPrefix(prefix);
  requireRoot();
  if (!isLocation(where)) {
    throw new LabError(`lab: location ${JSON.stringify(where)}: expected one of ${LAB_LOCATIONS.join(', ')}`);
  }
  const present = await labNamespaces(prefix);
  if (present.length < LAB_NODES.length) {
    throw new LabError(`lab "${prefix}" is not up; run \`dsmip6 lab up --name ${prefix}\` first`);
  }
  const mn = labNamespace(prefix, 'mn');
  if (await linkExists(mn, MN_IF)) await ip(mn, 'link', 'del', MN_IF);
  const a = ATTACHMENTS[where];
  const target = labNamespace(prefix, a.ns);
  await veth(mn, MN_IF, target, MN_PEER, a.bridge, { mac: A.mn.mac, down: true });
  if (!a.ipv6) await sysctl(mn, `net.ipv6.conf.${MN_IF}.disable_ipv6`, 1);
  await ip(mn, 'link', 'set', MN_IF, 'up');
  if (a.ipv6) {
    await addr(mn, MN_IF, `${a.ipv6.address}/${a.ipv6.prefixLength}`);
    await ip(mn, '-6', 'route', 'add', 'default', 'via', a.ipv6.gateway, 'dev', MN_IF);
  }
  if (a.ipv4) {
    await addr(mn, MN_IF, `${a.ipv4.address}/${a.ipv4.prefixLength}`);
    await ip(mn, 'route', 'add', 'default', 'via', a.ipv4.gateway, 'dev', MN_IF);
  }
}

async function linkExists(ns: string, dev: string): Promise<boolean> {
  const r = await execRaw(['ip', '-n', ns, '-o', 'link', 'show', 'dev', dev]);
  return r.code === 0;
}

// ---------------------------------------------------------------------------------------------
// NAT

/**
 * Makes the NAT forget a UDP mapping after `seconds` of silence, inside its namespace only. Both
 * conntrack UDP timeouts are set: nf_conntrack_udp_timeout covers a flow until it has lasted 2 s
 * with replies, after which the kernel (5.x and later) switches it to nf_conntrack_udp_timeout_stream
 * (default 120 s). A BU/BA flow refreshed by keepalives is such a stream, so setting only the
 * first would not shorten the mapping a keepalive test cares about.
 */
export async function labSetNatUdpTimeout(prefix: string, seconds: number): Promise<void> {
  requireRoot();
  if (!(Number.isInteger(seconds) && seconds >= 1 && seconds <= 86_400)) {
    throw new LabError(`lab: natUdpTimeout ${seconds}: expected whole seconds 1-86400`);
  }
  const nat = labNamespace(prefix, 'nat');
  await sysctl(nat, 'net.netfilter.nf_conntrack_udp_timeout', seconds);
  await sysctl(nat, 'net.netfilter.nf_conntrack_udp_timeout_stream', seconds);
}

// ---------------------------------------------------------------------------------------------
// Down

/**
 * Removes the lab: kills every process in its namespaces (dnsmasq, daemons and helpers started
 * with labExec/labSpawn), deletes the namespaces (and with them every veth and bridge), the state
 * directory and /etc/netns/<prefix>-mn. Idempotent, and works from the prefix alone.
 */
export async function labDown(prefix: string): Promise<void> {
  labPrefix(prefix);
  requireRoot();
  const namespaces = await labNamespaces(prefix);
  const pids = new Set<number>();
  for (const ns of namespaces) {
    const r = await execRaw(['ip', 'netns', 'pids', ns]);
    for (const p of r.stdout.split(/\s+/)) if (/^\d+$/.test(p)) pids.add(Number(p));
  }
  // dnsmasq by its pid file too, in case its namespace is gone but it is not.
  const dnsPid = await readPid(join(labStateDir(prefix), 'dnsmasq.pid'));
  if (dnsPid !== null && (await commOf(dnsPid)) === 'dnsmasq') pids.add(dnsPid);
  await killAll([...pids]);
  for (const ns of namespaces) {
    const r = await execRaw(['ip', 'netns', 'del', ns]);
    if (r.code !== 0 && existsSync(join('/run/netns', ns))) {
      throw new LabError(`lab: command failed: ip netns del ${ns}: ${r.stderr.trim()}`);
    }
  }
  await rm(labStateDir(prefix), { recursive: true, force: true });
  await rm(netnsEtcDir(prefix), { recursive: true, force: true });
}

async function commOf(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killAll(pids: number[]): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 20 && pids.some(alive); i++) await sleep(50);
  if (pids.some(alive)) {
    signal('SIGKILL');
    for (let i = 0; i < 20 && pids.some(alive); i++) await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// Status

/** What exists now, read from the kernel (not from anything remembered). */
export async function labStatus(prefix: string): Promise<LabStatus> {
  labPrefix(prefix);
  requireRoot();
  const namespaces = await labNamespaces(prefix);
  const all = LAB_NODES.map((n) => labNamespace(prefix, n));
  const status: LabStatus = {
    prefix,
    up: namespaces.length === all.length,
    namespaces,
    missing: all.filter((n) => !namespaces.includes(n)),
    stateDir: labStateDir(prefix),
    mn: { location: null, addresses: [], defaultRoutes: [] },
    dnsmasq: { pid: null, running: false },
    natUdpTimeout: null,
  };
  const has = (node: LabNode) => namespaces.includes(labNamespace(prefix, node));
  if (has('mn')) {
    const mn = labNamespace(prefix, 'mn');
    for (const where of LAB_LOCATIONS) {
      const a = ATTACHMENTS[where];
      if (!has(a.ns)) continue;
      const r = await execRaw(['ip', '-n', labNamespace(prefix, a.ns), '-j', 'link', 'show', 'dev', MN_PEER]);
      if (r.code === 0 && masterOf(r.stdout) === a.bridge) status.mn.location = where;
    }
    const ad = await execRaw(['ip', '-n', mn, '-j', 'addr', 'show', 'dev', MN_IF]);
    if (ad.code === 0) status.mn.addresses = addressesOf(ad.stdout);
    for (const family of ['-4', '-6']) {
      const r = await execRaw(['ip', '-n', mn, family, 'route', 'show', 'default']);
      for (const line of r.stdout.split('\n')) if (line.trim()) status.mn.defaultRoutes.push(line.trim());
    }
  }
  const pid = await readPid(join(status.stateDir, 'dnsmasq.pid'));
  status.dnsmasq = { pid, running: pid !== null && (await commOf(pid)) === 'dnsmasq' };
  if (has('nat')) {
    const key = 'net.netfilter.nf_conntrack_udp_timeout';
    const r = await execRaw([
      'ip',
      'netns',
      'exec',
      labNamespace(prefix, 'nat'),
      'sysctl',
      '-n',
      key,
      `${key}_stream`,
    ]);
    const [unreplied, stream] = r.stdout
      .trim()
      .split(/\s+/)
      .map((v) => Number.parseInt(v, 10));
    if (r.code === 0 && Number.isInteger(unreplied) && Number.isInteger(stream)) {
      status.natUdpTimeout = { unreplied: unreplied!, stream: stream! };
    }
  }
  return status;
}

function masterOf(json: string): string | null {
  const links: unknown = JSON.parse(json);
  if (!Array.isArray(links)) return null;
  const first: unknown = links[0];
  if (typeof first !== 'object' || first === null || !('master' in first)) return null;
  return typeof first.master === 'string' ? first.master : null;
}

function addressesOf(json: string): string[] {
  const links: unknown = JSON.parse(json);
  const out: string[] = [];
  if (!Array.isArray(links)) return out;
  for (const link of links as unknown[]) {
    if (
      typeof link !== 'object' ||
      link === null ||
      !('addr_info' in link) ||
      !Array.isArray(link.addr_info)
    ) {
      continue;
    }
    for (const info of link.addr_info as unknown[]) {
      if (typeof info !== 'object' || info === null) continue;
      if ('local' in info && 'prefixlen' in info) out.push(`${String(info.local)}/${String(info.prefixlen)}`);
    }
  }
  return out;
}

/** Human-readable status, one fact a line (what `dsmip6 lab status` prints). */
export function formatLabStatus(s: LabStatus): string[] {
  if (s.namespaces.length === 0) return [`lab ${s.prefix}: down (no namespace ${s.prefix}-*)`];
  const lines = [
    `lab ${s.prefix}: ${s.up ? 'up' : `partly up (missing ${s.missing.join(' ')}; run \`dsmip6 lab down --name ${s.prefix}\`)`}`,
    `namespaces: ${s.namespaces.join(' ')}`,
    `state: ${s.stateDir}`,
  ];
  const where: Record<LabLocation, string> = {
    home: `home link (${N.home.ipv6}, ${N.home.ipv4})`,
    ipv6: `IPv6-only visited network (${N.ipv6.ipv6})`,
    ipv4: `public IPv4 visited network (${N.ipv4.ipv4})`,
    nat: `private IPv4 network behind the NAT (${N.natInside.ipv4}, public ${A.nat.outsideIpv4})`,
  };
  lines.push(
    `mobile node: ${s.mn.location ? `${s.mn.location}: ${where[s.mn.location]}` : 'no access link'}`,
  );
  if (s.mn.addresses.length > 0) lines.push(`  ${MN_IF}: ${s.mn.addresses.join(' ')}`);
  for (const r of s.mn.defaultRoutes) lines.push(`  route: ${r}`);
  lines.push(
    `dns: ${s.dnsmasq.running ? `dnsmasq pid ${s.dnsmasq.pid}` : 'dnsmasq not running'} at ${A.dns.ipv6}, ${A.dns.ipv4} (zone ${A.dns.zone})`,
  );
  if (s.natUdpTimeout !== null) {
    lines.push(
      `nat: ${A.nat.outsideIpv4} masquerade; conntrack UDP timeout ${s.natUdpTimeout.unreplied} s, stream ${s.natUdpTimeout.stream} s`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Running things inside the lab

/**
 * Runs `argv` inside `node`'s namespace (`ip netns exec`, no shell) and resolves with its exit
 * code and output; a non-zero exit is a result, not an error.
 */
export async function labExec(
  prefix: string,
  node: LabNode,
  argv: readonly string[],
  opts: LabExecOptions = {},
): Promise<LabExecResult> {
  requireRoot();
  const full = ['ip', 'netns', 'exec', labNamespace(prefix, node), ...argv];
  const r = await execRaw(full, opts.timeoutMs ?? 30_000);
  if (r.spawnError) throw new LabError(`lab: ${quote(full)}: cannot run ip: ${r.spawnError.code}`);
  return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts `argv` inside `node`'s namespace and returns the child (a server, a daemon). `labDown`
 * kills it anyway, since it kills every process in the lab's namespaces.
 */
export function labSpawn(
  prefix: string,
  node: LabNode,
  argv: readonly string[],
  stdio: 'pipe' | 'inherit' = 'pipe',
): ChildProcess {
  requireRoot();
  return spawn('ip', ['netns', 'exec', labNamespace(prefix, node), ...argv], { stdio });
}
