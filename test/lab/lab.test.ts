/**
 * The lab (src/lab): builds the real topology in network namespaces under a prefix of its own,
 * moves the mobile node through every network and checks what it can reach there, that the NAT
 * rewrites its source, that dnsmasq answers from every network, that the conntrack timeout is set
 * in the NAT's namespace only, and that `down` leaves nothing behind (after a crash too). Needs
 * root: without it every test fails (test/support/root.ts).
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/main.js';
import {
  LAB_ADDRESSES as A,
  isRoot,
  LabError,
  type LabLocation,
  labDown,
  labExec,
  labMove,
  labNamespace,
  labSetNatUdpTimeout,
  labSpawn,
  labStateDir,
  labStatus,
  labUp,
} from '../../src/lab/lab.js';
import { requireRoot } from '../support/root.js';

const prefix = `t${process.pid % 10000}`;
const NAT_UDP_TIMEOUT = 17;
const ECHO_PORT = 5555;

async function ping(address: string): Promise<boolean> {
  const r = await labExec(prefix, 'mn', ['ping', '-n', '-c', '1', '-W', '2', address]);
  return r.code === 0;
}

/** Sends one UDP datagram from the MN to the HA's IPv4 address; returns the source the HA saw. */
async function udpProbe(): Promise<string> {
  const server = labSpawn(prefix, 'ha', [
    process.execPath,
    '-e',
    `const s = require('node:dgram').createSocket('udp4');
     s.on('message', (m, r) => s.send(r.address + ':' + r.port, r.port, r.address));
     s.bind(${ECHO_PORT}, process.argv[1], () => console.log('ready'));`,
    A.ha.ipv4,
  ]);
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      server.on('exit', (code) => reject(new Error(`UDP echo server exited with ${code}`)));
    });
    const r = await labExec(prefix, 'mn', [
      process.execPath,
      '-e',
      `const s = require('node:dgram').createSocket('udp4');
       s.on('message', (m) => { console.log(String(m)); process.exit(0); });
       s.send('probe', ${ECHO_PORT}, process.argv[1]);
       setTimeout(() => process.exit(3), 3000);`,
      A.ha.ipv4,
    ]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim().split(':')[0] ?? '';
  } finally {
    server.kill();
  }
}

interface DnsAnswer {
  servers: string[];
  aaaa: string[];
  a: string[];
  srv: { name: string; port: number; priority: number; weight: number }[];
}

/** Queries the lab's DNS from inside the MN's namespace with node:dns (server null: resolv.conf). */
async function dnsFromMn(server: string | null): Promise<DnsAnswer> {
  const r = await labExec(prefix, 'mn', [
    process.execPath,
    '-e',
    `const { Resolver } = require('node:dns').promises;
     (async () => {
       const r = new Resolver({ timeout: 1000, tries: 2 });
       if (process.argv[1]) r.setServers([process.argv[1]]);
       console.log(JSON.stringify({
         servers: r.getServers(),
         aaaa: await r.resolve6('${A.dns.haName}'),
         a: await r.resolve4('${A.dns.haName}'),
         srv: await r.resolveSrv('${A.dns.haSrv}'),
       }));
     })().catch((e) => { console.error(e.message); process.exit(1); });`,
    server ?? '',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as DnsAnswer;
}

function expectHaRecords(answer: DnsAnswer): void {
  expect(answer.aaaa).toEqual([A.ha.ipv6]);
  expect(answer.a).toEqual([A.ha.ipv4]);
  expect(answer.srv).toEqual([{ name: A.dns.haName, port: 0, priority: 10, weight: 10 }]);
}

async function sysctlIn(node: 'nat' | 'rt', key: string): Promise<number> {
  const r = await labExec(prefix, node, ['sysctl', '-n', key]);
  expect(r.code, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

/** Lab setup: started in beforeAll when root; every test awaits it, so a failed `up` fails each test. */
let setup: Promise<void> = Promise.resolve();

/** `it` that fails (never skips) without root or when the lab could not be built. */
function labIt(name: string, fn: () => Promise<void> | void): void {
  it(name, async () => {
    requireRoot();
    await setup;
    await fn();
  });
}

describe(`lab (prefix ${prefix})`, () => {
  beforeAll(async () => {
    if (!isRoot()) return; // each test fails on its own (requireRoot); a throwing hook would skip them
    setup = (async () => {
      await labDown(prefix); // a leftover from an earlier crashed run with the same pid
      await labUp({ prefix, natUdpTimeout: NAT_UDP_TIMEOUT });
    })();
    await setup.catch(() => undefined);
  }, 60_000);

  afterAll(async () => {
    if (isRoot()) await labDown(prefix);
  }, 60_000);

  labIt('up builds the six namespaces, dnsmasq and the MN at home', async () => {
    const s = await labStatus(prefix);
    expect(s.up).toBe(true);
    expect(s.namespaces.sort()).toEqual(['cn', 'dns', 'ha', 'mn', 'nat', 'rt'].map((n) => `${prefix}-${n}`));
    expect(s.mn.location).toBe('home');
    expect(s.mn.addresses).toContain(`${A.mn.home.ipv6}/64`);
    expect(s.mn.addresses).toContain(`${A.mn.home.ipv4}/25`);
    expect(s.dnsmasq.running).toBe(true);
  });

  labIt('up a second time fails with a message naming the lab and how to take it down', async () => {
    await expect(labUp({ prefix })).rejects.toThrow(LabError);
    await expect(labUp({ prefix })).rejects.toThrow(
      `lab "${prefix}" is already up (namespace ${prefix}-rt exists); run \`dsmip6 lab down --name ${prefix}\` first`,
    );
    expect((await labStatus(prefix)).up).toBe(true);
  });

  labIt('at home the MN reaches the HA and the CN over IPv6 and IPv4', async () => {
    await labMove(prefix, 'home');
    expect(await ping(A.ha.ipv6)).toBe(true);
    expect(await ping(A.ha.ipv4)).toBe(true);
    expect(await ping(A.cn.ipv6)).toBe(true);
    expect(await ping(A.cn.ipv4)).toBe(true);
  });

  labIt('in the IPv6-only network the MN reaches the HA and CN over IPv6 only', async () => {
    await labMove(prefix, 'ipv6');
    const s = await labStatus(prefix);
    expect(s.mn.location).toBe('ipv6');
    expect(s.mn.addresses).toContain(`${A.mn.ipv6.ipv6}/64`);
    expect(s.mn.addresses.filter((a) => !a.includes(':'))).toEqual([]);
    expect(await ping(A.ha.ipv6)).toBe(true);
    expect(await ping(A.cn.ipv6)).toBe(true);
    expect(await ping(A.ha.ipv4)).toBe(false);
  });

  labIt('in the public IPv4 network the MN is IPv4-only and reaches the HA and CN over IPv4', async () => {
    await labMove(prefix, 'ipv4');
    const s = await labStatus(prefix);
    expect(s.mn.location).toBe('ipv4');
    expect(s.mn.addresses).toEqual([`${A.mn.ipv4.ipv4}/25`]); // not even a link-local IPv6 address
    expect(await ping(A.ha.ipv4)).toBe(true);
    expect(await ping(A.cn.ipv4)).toBe(true);
    expect(await ping(A.ha.ipv6)).toBe(false);
    expect(await udpProbe()).toBe(A.mn.ipv4.ipv4);
  });

  labIt(
    'behind the NAT the MN reaches the HA over IPv4, and the HA sees the NAT outside address',
    async () => {
      await labMove(prefix, 'nat');
      const s = await labStatus(prefix);
      expect(s.mn.location).toBe('nat');
      expect(s.mn.addresses).toEqual([`${A.mn.nat.ipv4}/24`]);
      expect(await ping(A.ha.ipv4)).toBe(true);
      expect(await ping(A.cn.ipv4)).toBe(true);
      expect(await ping(A.ha.ipv6)).toBe(false);
      expect(await udpProbe()).toBe(A.nat.outsideIpv4);
      // The mapping is in the NAT's own conntrack table, with at most the configured timeout left.
      const table = await labExec(prefix, 'nat', ['cat', '/proc/net/nf_conntrack']);
      const entry = table.stdout
        .split('\n')
        .find((l) => l.includes(`src=${A.mn.nat.ipv4} dst=${A.ha.ipv4}`) && l.includes(`dport=${ECHO_PORT}`));
      expect(entry, table.stdout).toBeDefined();
      expect(entry).toContain(`dst=${A.nat.outsideIpv4}`);
      const left = Number(entry?.trim().split(/\s+/)[4]);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(NAT_UDP_TIMEOUT);
      // The private network is reachable only through the NAT: the router has no route to it.
      const fromRouter = await labExec(prefix, 'rt', ['ping', '-n', '-c', '1', '-W', '1', A.mn.nat.ipv4]);
      expect(fromRouter.code).not.toBe(0);
    },
  );

  labIt('dnsmasq answers AAAA, A and SRV for the HA from every visited network', async () => {
    const at: [LabLocation, string][] = [
      ['ipv6', A.dns.ipv6],
      ['ipv4', A.dns.ipv4],
      ['nat', A.dns.ipv4],
      ['home', A.dns.ipv6],
    ];
    for (const [where, server] of at) {
      await labMove(prefix, where);
      expectHaRecords(await dnsFromMn(server));
    }
    // With no server given, the MN's resolv.conf (/etc/netns/<prefix>-mn) points at the lab's DNS.
    await labMove(prefix, 'nat');
    const viaResolvConf = await dnsFromMn(null);
    expect(viaResolvConf.servers).toEqual([A.dns.ipv6, A.dns.ipv4]);
    expectHaRecords(viaResolvConf);
  });

  labIt(
    'the conntrack UDP timeouts are set in the NAT namespace only (they are per network namespace)',
    async () => {
      const key = 'net.netfilter.nf_conntrack_udp_timeout';
      expect(await sysctlIn('nat', key)).toBe(NAT_UDP_TIMEOUT);
      expect(await sysctlIn('nat', `${key}_stream`)).toBe(NAT_UDP_TIMEOUT);
      expect(await sysctlIn('rt', key)).not.toBe(NAT_UDP_TIMEOUT); // the kernel default (30)
      await labSetNatUdpTimeout(prefix, 5);
      expect(await sysctlIn('nat', key)).toBe(5);
      expect((await labStatus(prefix)).natUdpTimeout).toEqual({ unreplied: 5, stream: 5 });
      const rules = await labExec(prefix, 'nat', ['nft', 'list', 'ruleset']);
      expect(rules.stdout).toContain('masquerade');
    },
  );

  labIt('the CLI moves the MN and prints its status', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await run(['lab', 'move', 'ipv4', '--name', prefix], io)).toBe(0);
    expect(await run(['lab', 'status', '--name', prefix], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out).toContain(`lab ${prefix}: up`);
    expect(out.some((l) => l.startsWith('mobile node: ipv4:'))).toBe(true);
    expect(out).toContain(`  eth0: ${A.mn.ipv4.ipv4}/25`);
    expect(await run(['lab', 'move', 'mars', '--name', prefix], io)).toBe(2);
    expect(await run(['lab', 'up', '--name', prefix], io)).toBe(1);
    expect(err.at(-1)).toContain(`dsmip6 lab: lab "${prefix}" is already up`);
  });

  labIt('without root the CLI prints one line and exits 1', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const uid = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      expect(await run(['lab', 'status', '--name', prefix], io)).toBe(1);
      await expect(labStatus(prefix)).rejects.toThrow('needs root (network namespaces); run with sudo');
    } finally {
      uid.mockRestore();
    }
    expect(out).toEqual([]);
    expect(err).toEqual(['dsmip6 lab: needs root (network namespaces); run with sudo']);
  });

  labIt('down removes everything, after a crash too, and a second down is fine', async () => {
    const before = await labStatus(prefix);
    const dnsmasqPid = before.dnsmasq.pid;
    expect(dnsmasqPid).not.toBeNull();
    // A crash: a process left running in a namespace, and the state directory (pid file) lost.
    const stray = labSpawn(prefix, 'ha', ['sleep', '600']);
    const strayExit = new Promise((resolve) => stray.on('exit', resolve));
    await rm(labStateDir(prefix), { recursive: true, force: true });

    await labDown(prefix);
    await strayExit;
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(namespaces).not.toMatch(new RegExp(`^${prefix}-`, 'm'));
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    expect(links).not.toContain(prefix);
    expect(existsSync(`/proc/${dnsmasqPid}`)).toBe(false);
    expect(existsSync(labStateDir(prefix))).toBe(false);
    expect(existsSync(`/etc/netns/${labNamespace(prefix, 'mn')}`)).toBe(false);
    const after = await labStatus(prefix);
    expect(after.namespaces).toEqual([]);

    await expect(labDown(prefix)).resolves.toBeUndefined();
  });
});
