import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  IpLinkMonitor,
  LinkStateTracker,
  parseIpAddrJson,
  parseIpMonitorLine,
} from '../../src/net/link-monitor.js';
import type { LinkEvent } from '../../src/net/ports.js';
import { requireRoot } from '../support/root.js';
import { ADDR_JSON, MONITOR_DELETE, MONITOR_SESSION } from './ip-samples.js';

const notLo = (n: string) => n !== 'lo';
const feed = (tracker: LinkStateTracker, text: string) =>
  text.split('\n').flatMap((line) => {
    const r = parseIpMonitorLine(line);
    if (!r) throw new Error(`unparsed sample line: ${line}`);
    return tracker.apply(r);
  });

describe('parseIpMonitorLine', () => {
  it('reads address lines (added, deleted, tentative, peer, labelled)', () => {
    const lines = MONITOR_SESSION.split('\n');
    expect(parseIpMonitorLine(lines[6]!)).toEqual({
      kind: 'address',
      deleted: false,
      ifname: 'v0',
      family: 4,
      address: '198.51.100.7',
      prefixLength: 24,
      tentative: false,
    });
    expect(parseIpMonitorLine(lines[10]!)).toEqual({
      kind: 'address',
      deleted: true,
      ifname: 'v0',
      family: 6,
      address: '2001:db8:2::7',
      prefixLength: 64,
      tentative: false,
    });
    expect(parseIpMonitorLine(lines[12]!)).toMatchObject({ deleted: true, tentative: true });
    const del = MONITOR_DELETE.split('\n');
    expect(parseIpMonitorLine(del[9]!)).toMatchObject({
      address: '10.0.0.1',
      prefixLength: 32,
      ifname: 'v1',
    });
    expect(parseIpMonitorLine(del[0]!)).toMatchObject({ address: '203.0.113.9', ifname: 'v1' });
  });

  it('reads link lines (peer suffix stripped, carrier)', () => {
    const lines = MONITOR_SESSION.split('\n');
    expect(parseIpMonitorLine(lines[0]!)).toEqual({ kind: 'link', deleted: false, ifname: 'v1', up: false });
    expect(parseIpMonitorLine(lines[2]!)).toMatchObject({ ifname: 'v0', up: false }); // NO-CARRIER, no LOWER_UP
    expect(parseIpMonitorLine(lines[3]!)).toMatchObject({ ifname: 'v1', up: false }); // NO-CARRIER with LOWER_UP
    expect(parseIpMonitorLine(lines[5]!)).toMatchObject({ ifname: 'v0', up: true });
    expect(parseIpMonitorLine(MONITOR_DELETE.split('\n')[8]!)).toMatchObject({ deleted: true, ifname: 'v0' });
  });

  it('accepts the [ADDR]/[LINK] labels of `ip monitor label` and ignores blank and Timestamp lines', () => {
    expect(parseIpMonitorLine(`[ADDR]${MONITOR_SESSION.split('\n')[6]}`)).toMatchObject({
      kind: 'address',
      address: '198.51.100.7',
    });
    expect(parseIpMonitorLine(`[LINK]${MONITOR_SESSION.split('\n')[5]}`)).toMatchObject({ kind: 'link' });
    expect(parseIpMonitorLine('')).toEqual({ kind: 'ignored' });
    expect(parseIpMonitorLine('Timestamp: Mon Jan  1 00:00:00 2024 123 usec')).toEqual({ kind: 'ignored' });
  });

  it('rejects what it does not understand', () => {
    for (const bad of [
      'garbage',
      '3: v0    inet 999.1.1.1/24 scope global v0',
      '3: v0    inet6 2001:db8::1/129 scope global',
      '3: v0    inet 192.0.2.1/x scope global',
      '3: v0    inet6 192.0.2.1/24',
      'Deleted',
    ])
      expect(parseIpMonitorLine(bad), bad).toBeUndefined();
  });
});

describe('parseIpAddrJson', () => {
  it('reads links, addresses and flags', () => {
    const s = parseIpAddrJson(ADDR_JSON);
    expect(s.errors).toBe(0);
    expect(s.links).toEqual([
      { ifname: 'lo', up: true },
      { ifname: 'v1', up: true },
      { ifname: 'v0', up: true },
    ]);
    expect(s.addresses).toContainEqual({
      ifname: 'v1',
      family: 4,
      address: '10.0.0.1',
      prefixLength: 32,
      tentative: false,
    });
    expect(s.addresses).toContainEqual({
      ifname: 'v0',
      family: 6,
      address: '2001:db8:3::9',
      prefixLength: 64,
      tentative: true,
    });
    expect(s.addresses).toHaveLength(7);
  });

  it('is total: bad text or bad entries are counted, not thrown', () => {
    expect(parseIpAddrJson('not json')).toEqual({ links: [], addresses: [], errors: 1 });
    expect(parseIpAddrJson('{}')).toEqual({ links: [], addresses: [], errors: 1 });
    const s = parseIpAddrJson(
      JSON.stringify([
        7,
        {
          ifname: 'x',
          flags: ['UP', 'LOWER_UP'],
          addr_info: [{ family: 'inet', local: '1.2.3', prefixlen: 8 }, null],
        },
      ]),
    );
    expect(s).toEqual({ links: [{ ifname: 'x', up: true }], addresses: [], errors: 3 });
  });
});

describe('LinkStateTracker on captured sessions', () => {
  it('turns a monitor session into LinkEvents', () => {
    const tracker = new LinkStateTracker(notLo);
    expect(feed(tracker, MONITOR_SESSION)).toEqual<LinkEvent[]>([
      { type: 'ADDRESS.ADDED', ifname: 'v0', family: 4, address: '198.51.100.7', prefixLength: 24 },
      { type: 'ADDRESS.ADDED', ifname: 'v0', family: 6, address: '2001:db8:2::7', prefixLength: 64 },
      { type: 'ADDRESS.ADDED', ifname: 'v0', family: 4, address: '10.1.2.3', prefixLength: 24 },
      { type: 'ADDRESS.REMOVED', ifname: 'v0', family: 4, address: '198.51.100.7' },
      { type: 'ADDRESS.REMOVED', ifname: 'v0', family: 6, address: '2001:db8:2::7' },
      { type: 'LINK.DOWN', ifname: 'v0' },
      { type: 'LINK.DOWN', ifname: 'v1' },
    ]);
  });

  it('reports a snapshot (not tentative, not lo), then changes, then link deletion', () => {
    const tracker = new LinkStateTracker(notLo);
    expect(tracker.reconcile(parseIpAddrJson(ADDR_JSON))).toEqual<LinkEvent[]>([
      { type: 'ADDRESS.ADDED', ifname: 'v1', family: 4, address: '10.0.0.1', prefixLength: 32 },
      {
        type: 'ADDRESS.ADDED',
        ifname: 'v1',
        family: 6,
        address: 'fe80::1812:88ff:fe7e:25b9',
        prefixLength: 64,
      },
      { type: 'ADDRESS.ADDED', ifname: 'v0', family: 4, address: '10.1.2.3', prefixLength: 24 },
    ]);
    expect(feed(tracker, MONITOR_DELETE)).toEqual<LinkEvent[]>([
      { type: 'ADDRESS.ADDED', ifname: 'v1', family: 4, address: '203.0.113.9', prefixLength: 24 },
      { type: 'LINK.DOWN', ifname: 'v1' },
      { type: 'LINK.DOWN', ifname: 'v0' },
    ]);
  });

  it('reports an address when DAD ends, once, and addresses that survive a link down when it comes back', () => {
    const tracker = new LinkStateTracker(notLo);
    tracker.reconcile(parseIpAddrJson(ADDR_JSON));
    const dadDone =
      '3: v0    inet6 2001:db8:3::9/64 scope global \\       valid_lft forever preferred_lft forever';
    const expected = {
      type: 'ADDRESS.ADDED',
      ifname: 'v0',
      family: 6,
      address: '2001:db8:3::9',
      prefixLength: 64,
    };
    expect(feed(tracker, dadDone)).toEqual([expected]);
    expect(feed(tracker, dadDone)).toEqual([]);
    const down = '3: v0@v1: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default';
    const v6gone = `Deleted ${dadDone}`;
    const up = '3: v0@v1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default';
    expect(feed(tracker, [down, v6gone].join('\n'))).toEqual([{ type: 'LINK.DOWN', ifname: 'v0' }]);
    expect(feed(tracker, up)).toEqual([
      { type: 'ADDRESS.ADDED', ifname: 'v0', family: 4, address: '10.1.2.3', prefixLength: 24 },
    ]);
  });

  it('filters interfaces and reconciles a later snapshot as differences', () => {
    const tracker = new LinkStateTracker((n) => n === 'v0');
    expect(tracker.reconcile(parseIpAddrJson(ADDR_JSON))).toEqual([
      { type: 'ADDRESS.ADDED', ifname: 'v0', family: 4, address: '10.1.2.3', prefixLength: 24 },
    ]);
    expect(tracker.reconcile(parseIpAddrJson(ADDR_JSON))).toEqual([]);
    expect(tracker.reconcile({ links: [], addresses: [], errors: 0 })).toEqual([
      { type: 'LINK.DOWN', ifname: 'v0' },
    ]);
  });
});

describe('IpLinkMonitor (real iproute2)', () => {
  it('parses a real `ip -j addr show lo`', () => {
    const s = parseIpAddrJson(execFileSync('ip', ['-j', 'addr', 'show', 'lo'], { encoding: 'utf8' }));
    expect(s.errors).toBe(0);
    expect(s.links).toEqual([{ ifname: 'lo', up: true }]);
    expect(s.addresses).toContainEqual({
      ifname: 'lo',
      family: 4,
      address: '127.0.0.1',
      prefixLength: 8,
      tentative: false,
    });
  });

  it('reports lo when asked, then stops its ip monitor process', async () => {
    const events: LinkEvent[] = [];
    const monitor = new IpLinkMonitor({ interfaces: ['lo'], resyncAfterMs: 0 });
    await monitor.start((e) => events.push(e));
    expect(events).toContainEqual({
      type: 'ADDRESS.ADDED',
      ifname: 'lo',
      family: 4,
      address: '127.0.0.1',
      prefixLength: 8,
    });
    // ps exits non-zero when it lists nothing.
    const monitorRunning = () => {
      try {
        const ps = execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
        return ps.includes('ip -o monitor');
      } catch {
        return false;
      }
    };
    expect(monitorRunning()).toBe(true);
    await monitor.stop();
    expect(monitorRunning()).toBe(false);
  });

  it('fails start clearly when ip cannot run', async () => {
    const monitor = new IpLinkMonitor({ ipCommand: '/nonexistent/ip' });
    await expect(monitor.start(() => {})).rejects.toThrow('link monitor: cannot run /nonexistent/ip');
  });
});

describe('IpLinkMonitor in a network namespace (root)', () => {
  it('reports the snapshot, an added and a removed address, and link down', async () => {
    // Set up inside the test, not in beforeAll: a failing hook reports the test skipped, not failed.
    requireRoot();
    const ns = `dsmip6-lm-${process.pid}`;
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
    execFileSync('ip', ['netns', 'add', ns]);
    const events: LinkEvent[] = [];
    const errors: Error[] = [];
    const monitor = new IpLinkMonitor({ netns: ns, interfaces: ['v0'], onError: (e) => errors.push(e) });
    try {
      ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
      ip('link', 'set', 'v0', 'up');
      ip('link', 'set', 'v1', 'up');
      ip('addr', 'add', '198.51.100.7/24', 'dev', 'v0');
      await monitor.start((e) => events.push(e));
      await expect
        .poll(() => events)
        .toContainEqual({
          type: 'ADDRESS.ADDED',
          ifname: 'v0',
          family: 4,
          address: '198.51.100.7',
          prefixLength: 24,
        });
      ip('addr', 'add', '2001:db8:2::7/64', 'dev', 'v0', 'nodad');
      await expect
        .poll(() => events.at(-1))
        .toEqual({
          type: 'ADDRESS.ADDED',
          ifname: 'v0',
          family: 6,
          address: '2001:db8:2::7',
          prefixLength: 64,
        });
      ip('addr', 'del', '198.51.100.7/24', 'dev', 'v0');
      await expect
        .poll(() => events.at(-1))
        .toEqual({
          type: 'ADDRESS.REMOVED',
          ifname: 'v0',
          family: 4,
          address: '198.51.100.7',
        });
      ip('link', 'set', 'v0', 'down');
      await expect.poll(() => events.at(-1)).toEqual({ type: 'LINK.DOWN', ifname: 'v0' });
      expect(events.filter((e) => e.ifname !== 'v0')).toEqual([]);
      expect(monitor.stats().parseErrors).toBe(0);
    } finally {
      await monitor.stop();
      execFileSync('ip', ['netns', 'del', ns]);
    }
    expect(errors).toEqual([]);
  });
});

describe('IpLinkMonitor exclude (root)', () => {
  it("never reports an excluded link (the MN's own TUN), with or without an interface list", async () => {
    requireRoot();
    const ns = `dsmip6-lx-${process.pid}`;
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
    execFileSync('ip', ['netns', 'add', ns]);
    const events: LinkEvent[] = [];
    const monitor = new IpLinkMonitor({ netns: ns, exclude: ['tunx'], resyncAfterMs: 0 });
    try {
      ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'tunx');
      ip('link', 'set', 'v0', 'up');
      ip('link', 'set', 'tunx', 'up');
      ip('addr', 'add', '2001:db8:1::100/128', 'dev', 'tunx', 'nodad');
      await monitor.start((e) => events.push(e));
      ip('addr', 'add', '198.51.100.7/24', 'dev', 'v0');
      await expect.poll(() => events.some((e) => e.ifname === 'v0')).toBe(true);
      ip('addr', 'add', '198.51.100.8/32', 'dev', 'tunx');
      ip('addr', 'add', '198.51.100.9/24', 'dev', 'v0');
      await expect
        .poll(() => events.some((e) => e.type === 'ADDRESS.ADDED' && e.address === '198.51.100.9'))
        .toBe(true);
      expect(events.filter((e) => e.ifname === 'tunx')).toEqual([]);
    } finally {
      await monitor.stop();
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});
