import { describe, expect, it } from 'vitest';
import { MemoryDns, MemoryLinkMonitor, MemoryNetwork, type MemoryTraceEntry } from '../../src/net/memory.js';
import type { Datagram, LinkEvent, UdpPort } from '../../src/net/ports.js';
import { TestClock } from '../../src/testgen/clock.js';

const bytes = (...b: number[]) => new Uint8Array(b);
/** Lets queued microtasks (zero-latency deliveries) run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

function inbox(port: UdpPort): Datagram[] {
  const got: Datagram[] = [];
  port.onMessage((d) => got.push(d));
  return got;
}

const HA4 = '198.51.100.1';
const HA6 = '2001:db8:1::1';
const NAT_OUT = '203.0.113.1';

/** HA with public addresses; MN behind a NAT (10.1.0.0/16 → 203.0.113.1). */
async function natWorld(options: { udpTimeoutMs?: number; filtering?: 'address-and-port-dependent' } = {}) {
  const clock = new TestClock();
  const net = new MemoryNetwork({ clock });
  net.addHost('ha', [HA4, HA6]);
  net.addHost('mn', ['10.1.0.5/16']);
  net.addHost('other', ['192.0.2.99']);
  const nat = net.addNat({ inside: '10.1.0.0/16', outside: NAT_OUT, udpTimeoutMs: 30_000, ...options });
  const ha = await net.udp('ha').bind(4, HA4, 4191);
  const mn = await net.udp('mn').bind(4, '0.0.0.0', 0);
  return { clock, net, nat, ha, mn, haIn: inbox(ha), mnIn: inbox(mn) };
}

describe('MemoryNetwork: UDP', () => {
  it('delivers asynchronously, with the sender as the peer, a copy of the bytes', async () => {
    const net = new MemoryNetwork({ clock: new TestClock() });
    net.addHost('a', ['2001:db8:a::1']);
    net.addHost('b', ['2001:db8:b::1']);
    const a = await net.udp('a').bind(6, '2001:db8:a::1', 0);
    const b = await net.udp('b').bind(6, '::', 4191);
    const got = inbox(b);
    const data = bytes(1, 2, 3);
    const sent = a.send({ data, address: '2001:DB8:B:0::1', port: 4191 });
    data[0] = 9;
    expect(got).toEqual([]);
    await sent;
    await flush();
    expect(got).toEqual([{ data: bytes(1, 2, 3), address: '2001:db8:a::1', port: a.local().port }]);
    expect(a.local()).toEqual({ address: '2001:db8:a::1', port: 49152 });
    expect(net.stats()).toMatchObject({ sent: 1, delivered: 1 });
  });

  it('orders by link latency on the clock, and keeps FIFO order on equal latency', async () => {
    const clock = new TestClock();
    const net = new MemoryNetwork({ clock });
    net.addHost('slow', ['192.0.2.1'], { latencyMs: 40 });
    net.addHost('fast', ['192.0.2.2'], { latencyMs: 5 });
    net.addHost('rx', ['192.0.2.3'], { latencyMs: 10 });
    const slow = await net.udp('slow').bind(4, '192.0.2.1', 1000);
    const fast = await net.udp('fast').bind(4, '192.0.2.2', 1000);
    const got = inbox(await net.udp('rx').bind(4, '192.0.2.3', 2000));
    const to = { address: '192.0.2.3', port: 2000 };
    await slow.send({ data: bytes(1), ...to });
    await fast.send({ data: bytes(2), ...to });
    await fast.send({ data: bytes(3), ...to });
    clock.advanceTo(14);
    expect(got).toEqual([]);
    clock.advanceTo(15);
    expect(got.map((d) => d.data[0])).toEqual([2, 3]);
    clock.advanceTo(49);
    expect(got).toHaveLength(2);
    clock.advanceTo(50);
    expect(got.map((d) => d.data[0])).toEqual([2, 3, 1]);
  });

  it('loses packets deterministically for a seed', async () => {
    const run = async (seed: number) => {
      const net = new MemoryNetwork({ clock: new TestClock(), seed, link: { loss: 0.2 } });
      net.addHost('a', ['192.0.2.1']);
      net.addHost('b', ['192.0.2.2']);
      const a = await net.udp('a').bind(4, '192.0.2.1', 1);
      const got = inbox(await net.udp('b').bind(4, '192.0.2.2', 2));
      for (let i = 0; i < 200; i++) await a.send({ data: bytes(i & 255), address: '192.0.2.2', port: 2 });
      await flush();
      return { seq: got.map((d) => d.data[0]), lost: net.stats().dropped.lost };
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(first.seq.length + first.lost).toBe(200);
    // Two links at 20% each: about 36% lost.
    expect(first.lost).toBeGreaterThan(40);
    expect(first.lost).toBeLessThan(110);
    expect((await run(8)).seq).not.toEqual(first.seq);
  });

  it('binds like the kernel: foreign address, port in use, wildcard clash, ephemeral ports', async () => {
    const net = new MemoryNetwork({ clock: new TestClock() });
    net.addHost('a', ['192.0.2.1', '2001:db8::1']);
    const udp = net.udp('a');
    await expect(udp.bind(6, '2001:db8::2', 4191)).rejects.toThrow(
      'udp: cannot bind [2001:db8::2]:4191: EADDRNOTAVAIL',
    );
    await expect(udp.bind(4, '2001:db8::1', 4191)).rejects.toThrow('EINVAL (family 4 needs an IPv4 address)');
    const p = await udp.bind(4, '192.0.2.1', 4191);
    await expect(udp.bind(4, '192.0.2.1', 4191)).rejects.toThrow(
      'udp: cannot bind 192.0.2.1:4191: EADDRINUSE',
    );
    await expect(udp.bind(4, '0.0.0.0', 4191)).rejects.toThrow('EADDRINUSE');
    await udp.bind(6, '::', 4191); // the other family is separate (ipv6Only)
    await p.close();
    await udp.bind(4, '0.0.0.0', 4191);
    expect((await udp.bind(4, '192.0.2.1', 0)).local().port).toBe(49152);
    expect((await udp.bind(4, '192.0.2.1', 0)).local().port).toBe(49153);
    expect(() => net.udp('nobody')).toThrow('memory network: no host "nobody"');
  });

  it('counts drops: no receiver, no socket, unroutable; a closed socket cannot send', async () => {
    const net = new MemoryNetwork({ clock: new TestClock() });
    net.addHost('a', ['192.0.2.1']);
    net.addHost('b', ['192.0.2.2']);
    const a = await net.udp('a').bind(4, '192.0.2.1', 1);
    const b = await net.udp('b').bind(4, '192.0.2.2', 2);
    await a.send({ data: bytes(1), address: '192.0.2.2', port: 2 });
    await a.send({ data: bytes(1), address: '192.0.2.2', port: 3 });
    await a.send({ data: bytes(1), address: '192.0.2.200', port: 2 });
    await flush();
    expect(net.stats().dropped).toMatchObject({ 'no-receiver': 1, 'no-socket': 1, unroutable: 1 });
    expect(b.stats().droppedNoReceiver).toBe(1);
    await a.close();
    await expect(a.send({ data: bytes(1), address: '192.0.2.2', port: 2 })).rejects.toThrow(
      'ERR_SOCKET_DGRAM_NOT_RUNNING',
    );
  });

  it('follows a host that moves; the old address no longer sends or receives', async () => {
    const net = new MemoryNetwork({ clock: new TestClock() });
    net.addHost('mn', ['2001:db8:2::7']);
    net.addHost('ha', [HA6]);
    const pinned = await net.udp('mn').bind(6, '2001:db8:2::7', 5000);
    const any = await net.udp('mn').bind(6, '::', 5001);
    const haIn = inbox(await net.udp('ha').bind(6, HA6, 4191));
    const mnIn = inbox(any);
    net.setAddresses('mn', ['2001:db8:3::7/64']);
    expect(net.addresses('mn')).toEqual(['2001:db8:3::7']);
    await expect(pinned.send({ data: bytes(1), address: HA6, port: 4191 })).rejects.toThrow(
      'udp: cannot send to [2001:db8:1::1]:4191: EADDRNOTAVAIL',
    );
    await any.send({ data: bytes(2), address: HA6, port: 4191 });
    await flush();
    expect(haIn.map((d) => d.address)).toEqual(['2001:db8:3::7']);
    const ha = await net.udp('ha').bind(6, '::', 0);
    await ha.send({ data: bytes(3), address: '2001:db8:2::7', port: 5001 });
    await ha.send({ data: bytes(4), address: '2001:db8:3::7', port: 5001 });
    await flush();
    expect(mnIn.map((d) => d.data[0])).toEqual([4]);
    net.addHost('thief', []);
    expect(() => net.setAddresses('thief', ['2001:db8:3::7'])).toThrow('belongs to "mn"');
  });

  it('traces every packet with its outcome', async () => {
    const trace: MemoryTraceEntry[] = [];
    const net = new MemoryNetwork({ clock: new TestClock(), trace: (e) => trace.push(e) });
    net.addHost('a', ['192.0.2.1']);
    const a = await net.udp('a').bind(4, '192.0.2.1', 1);
    await a.send({ data: bytes(1, 2), address: '192.0.2.9', port: 9 });
    expect(trace).toEqual([
      {
        time: 0,
        from: { address: '192.0.2.1', port: 1 },
        to: { address: '192.0.2.9', port: 9 },
        bytes: 2,
        outcome: { delivered: false, reason: 'unroutable' },
      },
    ]);
  });
});

describe('MemoryNat', () => {
  it('maps outbound UDP to the outside address and translates replies back', async () => {
    const { nat, ha, mn, haIn, mnIn } = await natWorld();
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    await flush();
    expect(haIn).toEqual([{ data: bytes(1), address: NAT_OUT, port: 40000 }]);
    expect(nat.mappings()).toEqual([
      {
        inside: { address: '10.1.0.5', port: 49152 },
        outside: { address: NAT_OUT, port: 40000 },
        lastOutbound: 0,
        expiresAt: 30_000,
      },
    ]);
    await ha.send({ data: bytes(2), address: NAT_OUT, port: 40000 });
    await flush();
    expect(mnIn).toEqual([{ data: bytes(2), address: HA4, port: 4191 }]);
    expect(nat.stats()).toEqual({ outbound: 1, inbound: 1, droppedInbound: 0, mappingsCreated: 1 });
  });

  it('maps endpoint-independently and allocates ports in order', async () => {
    const { net, nat, mn, haIn } = await natWorld();
    const otherIn = inbox(await net.udp('other').bind(4, '192.0.2.99', 7));
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    await mn.send({ data: bytes(1), address: '192.0.2.99', port: 7 });
    const mn2 = await net.udp('mn').bind(4, '10.1.0.5', 0);
    await mn2.send({ data: bytes(1), address: HA4, port: 4191 });
    await flush();
    expect(haIn.map((d) => d.port)).toEqual([40000, 40001]);
    expect(otherIn.map((d) => d.port)).toEqual([40000]);
    expect(nat.stats().mappingsCreated).toBe(2);
  });

  it('expires a mapping exactly udpTimeoutMs after the last outbound packet', async () => {
    const { clock, net, nat, ha, mn, mnIn } = await natWorld();
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    clock.advanceTo(29_999);
    await ha.send({ data: bytes(2), address: NAT_OUT, port: 40000 });
    clock.advanceTo(30_000);
    await ha.send({ data: bytes(3), address: NAT_OUT, port: 40000 });
    await flush();
    expect(mnIn.map((d) => d.data[0])).toEqual([2]);
    expect(nat.stats().droppedInbound).toBe(1);
    expect(net.stats().dropped['nat-unmapped']).toBe(1);
    expect(nat.mappings()).toEqual([]);
  });

  it('is refreshed by outbound traffic only', async () => {
    const { clock, nat, ha, mn, mnIn } = await natWorld();
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    clock.advanceTo(20_000);
    await mn.send({ data: bytes(1), address: HA4, port: 4191 }); // keepalive: now lives until 50 000
    clock.advanceTo(45_000);
    await ha.send({ data: bytes(2), address: NAT_OUT, port: 40000 }); // inbound: no refresh
    clock.advanceTo(49_999);
    await ha.send({ data: bytes(3), address: NAT_OUT, port: 40000 });
    clock.advanceTo(50_000);
    await ha.send({ data: bytes(4), address: NAT_OUT, port: 40000 });
    await flush();
    expect(mnIn.map((d) => d.data[0])).toEqual([2, 3]);
    expect(nat.stats()).toMatchObject({ inbound: 2, droppedInbound: 1, mappingsCreated: 1 });
  });

  it('gives a new port after expiry; the old one stays dead', async () => {
    const { clock, ha, mn, haIn, mnIn } = await natWorld();
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    clock.advance(30_000);
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    await ha.send({ data: bytes(2), address: NAT_OUT, port: 40000 });
    await ha.send({ data: bytes(3), address: NAT_OUT, port: 40001 });
    await flush();
    expect(haIn.map((d) => d.port)).toEqual([40000, 40001]);
    expect(mnIn.map((d) => d.data[0])).toEqual([3]);
  });

  it('drops inbound to an unmapped port, and private addresses are unreachable from outside', async () => {
    const { net, nat, ha } = await natWorld();
    await ha.send({ data: bytes(1), address: NAT_OUT, port: 40000 });
    await ha.send({ data: bytes(1), address: '10.1.0.5', port: 49152 });
    await flush();
    expect(nat.stats().droppedInbound).toBe(1);
    expect(net.stats().dropped).toMatchObject({ 'nat-unmapped': 1, unroutable: 1 });
  });

  it('filters by endpoint when asked (address-and-port-dependent, like conntrack)', async () => {
    const { net, ha, mn, mnIn } = await natWorld({ filtering: 'address-and-port-dependent' });
    const other = await net.udp('other').bind(4, '192.0.2.99', 7);
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    await other.send({ data: bytes(2), address: NAT_OUT, port: 40000 });
    await ha.send({ data: bytes(3), address: NAT_OUT, port: 40000 });
    await flush();
    expect(mnIn.map((d) => d.data[0])).toEqual([3]);
  });

  it('nests (a home NAT behind a carrier-grade NAT) and hairpins', async () => {
    const clock = new TestClock();
    const net = new MemoryNetwork({ clock });
    net.addHost('ha', [HA4]);
    net.addHost('mn', ['192.168.1.10/24']);
    net.addHost('peer', ['192.168.1.11/24']);
    net.addNat({ inside: '192.168.1.0/24', outside: '100.64.0.2', firstPort: 1000 });
    net.addNat({ inside: '100.64.0.0/10', outside: NAT_OUT, firstPort: 2000 });
    const ha = await net.udp('ha').bind(4, HA4, 4191);
    const haIn = inbox(ha);
    const mn = await net.udp('mn').bind(4, '192.168.1.10', 5555);
    const mnIn = inbox(mn);
    await mn.send({ data: bytes(1), address: HA4, port: 4191 });
    await flush();
    expect(haIn.map((d) => `${d.address}:${d.port}`)).toEqual([`${NAT_OUT}:2000`]);
    await ha.send({ data: bytes(2), address: NAT_OUT, port: 2000 });
    // Hairpin: a host behind the home NAT reaches the MN through the NAT's outside address.
    const peer = await net.udp('peer').bind(4, '192.168.1.11', 6666);
    await peer.send({ data: bytes(3), address: '100.64.0.2', port: 1000 });
    await flush();
    expect(mnIn).toEqual([
      { data: bytes(2), address: HA4, port: 4191 },
      { data: bytes(3), address: '100.64.0.2', port: 1001 },
    ]);
    expect(() => net.addNat({ inside: '192.168.0.0/16', outside: '198.51.100.200' })).toThrow('overlaps');
  });
});

describe('MemoryDns', () => {
  const zone = {
    'ha.example.net': { AAAA: [HA6], A: [{ address: HA4, ttl: 60 }, '198.51.100.2'], ttl: 120 },
    '_mip6._ipv6.example.net': { SRV: [{ priority: 0, weight: 1, port: 0, target: 'ha.example.net' }] },
  };

  it('answers from the zone with the smallest TTL, NXDOMAIN and NODATA', async () => {
    const dns = new MemoryDns(zone);
    expect(await dns.resolve('ha.example.net', 'AAAA')).toEqual({
      ok: true,
      ttlSeconds: 120,
      addresses: [HA6],
    });
    expect(await dns.resolve('HA.example.net.', 'A')).toEqual({
      ok: true,
      ttlSeconds: 60,
      addresses: [HA4, '198.51.100.2'],
    });
    expect(await dns.resolve('_mip6._ipv6.example.net', 'SRV')).toEqual({
      ok: true,
      ttlSeconds: 300,
      srv: [{ priority: 0, weight: 1, port: 0, target: 'ha.example.net' }],
    });
    expect(await dns.resolve('ha.example.net', 'SRV')).toEqual({ ok: false, reason: 'NODATA' });
    expect(await dns.resolve('nope.example.net', 'AAAA')).toEqual({ ok: false, reason: 'NXDOMAIN' });
    expect(dns.queries).toHaveLength(5);
  });

  it('changes, fails on demand, answers after a latency on the clock', async () => {
    const clock = new TestClock();
    const dns = new MemoryDns(zone, { clock, latencyMs: 100, defaultTtl: 30 });
    dns.fail('ha.example.net', 'timeout');
    let answer: unknown;
    void dns.resolve('ha.example.net', 'AAAA').then((a) => {
      answer = a;
    });
    clock.advance(99);
    await flush();
    expect(answer).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(answer).toEqual({ ok: false, reason: 'timeout' });
    dns.fail('ha.example.net', undefined);
    dns.set('ha.example.net', { AAAA: ['2001:db8:9::1'] });
    const next = dns.resolve('ha.example.net', 'AAAA');
    clock.advance(100);
    expect(await next).toEqual({ ok: true, ttlSeconds: 30, addresses: ['2001:db8:9::1'] });
    expect(() => dns.set('x', { A: ['2001:db8::1'] })).toThrow(
      'dns zone: x A "2001:db8::1": expected an IPv4 address',
    );
  });
});

describe('MemoryLinkMonitor', () => {
  it('reports the current addresses on start, then what the test does', async () => {
    const monitor = new MemoryLinkMonitor();
    monitor.addAddress('eth0', '2001:db8:2::7/64');
    monitor.addAddress('wlan0', '10.1.0.5/16');
    monitor.linkDown('wlan0');
    const events: LinkEvent[] = [];
    await monitor.start((e) => events.push(e));
    expect(events).toEqual([
      { type: 'ADDRESS.ADDED', ifname: 'eth0', family: 6, address: '2001:db8:2::7', prefixLength: 64 },
    ]);
    events.length = 0;
    monitor.linkUp('wlan0');
    monitor.addAddress('eth0', '2001:db8:2::7/64'); // known: nothing
    monitor.removeAddress('eth0', '2001:db8:2::7');
    monitor.linkDown('wlan0');
    monitor.linkDown('wlan0'); // already down: nothing
    monitor.addAddress('eth0', '198.51.100.7/24');
    expect(events).toEqual([
      { type: 'ADDRESS.ADDED', ifname: 'wlan0', family: 4, address: '10.1.0.5', prefixLength: 16 },
      { type: 'ADDRESS.REMOVED', ifname: 'eth0', family: 6, address: '2001:db8:2::7' },
      { type: 'LINK.DOWN', ifname: 'wlan0' },
      { type: 'ADDRESS.ADDED', ifname: 'eth0', family: 4, address: '198.51.100.7', prefixLength: 24 },
    ]);
    await monitor.stop();
    monitor.removeAddress('eth0', '198.51.100.7');
    expect(events).toHaveLength(4);
  });

  it('follows a MemoryNetwork host as it moves', async () => {
    const net = new MemoryNetwork({ clock: new TestClock() });
    net.addHost('mn', ['2001:db8:2::7/64']);
    const monitor = net.linkMonitor('mn', 'eth0');
    const events: LinkEvent[] = [];
    await monitor.start((e) => events.push(e));
    net.setAddresses('mn', ['10.1.0.5/16']);
    expect(events).toEqual([
      { type: 'ADDRESS.ADDED', ifname: 'eth0', family: 6, address: '2001:db8:2::7', prefixLength: 64 },
      { type: 'ADDRESS.REMOVED', ifname: 'eth0', family: 6, address: '2001:db8:2::7' },
      { type: 'ADDRESS.ADDED', ifname: 'eth0', family: 4, address: '10.1.0.5', prefixLength: 16 },
    ]);
  });
});
