import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../src/net/memory.js';
import { ipPacketAddresses, MemoryIpNetwork, type MemoryIpTraceEntry } from '../../src/net/memory-ip.js';
import type { IpPacketPort } from '../../src/net/ports.js';
import { TestClock } from '../../src/testgen/clock.js';
import { ipv4, ipv6 } from '../../src/wire/address.js';
import { emitIpv4 } from '../../src/wire/ipv4.js';
import { emitIpv6, homeAddressOption, parseIpv6, routingHomeAddress } from '../../src/wire/ipv6.js';

/** Lets queued microtasks (zero-latency deliveries) run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

function inbox(port: IpPacketPort): Uint8Array[] {
  const got: Uint8Array[] = [];
  port.onPacket((p) => got.push(p));
  return got;
}

const HA = ipv6('2001:db8:1::1');
const HOA = ipv6('2001:db8:1::100');
const COA = ipv6('2001:db8:2::5');
const ESP = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 7, 1, 2, 3, 4]);

const bu = (src = COA) =>
  emitIpv6(
    {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 64,
      src,
      dst: HA,
      extensions: [{ kind: 'destinationOptions', options: [{ kind: 'homeAddress', address: HOA }] }],
      protocol: 50,
    },
    ESP,
  );
const ba = (dst = COA) =>
  emitIpv6(
    {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 64,
      src: HA,
      dst,
      extensions: [{ kind: 'routingType2', homeAddress: HOA }],
      protocol: 50,
    },
    ESP,
  );
const plainEsp = (src: string, dst: string) =>
  emitIpv6(
    {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 64,
      src: ipv6(src),
      dst: ipv6(dst),
      extensions: [],
      protocol: 50,
    },
    ESP,
  );

function world(latencyMs = 0) {
  const clock = new TestClock();
  const trace: MemoryIpTraceEntry[] = [];
  const net = new MemoryIpNetwork({ clock, latencyMs, trace: (e) => trace.push(e) });
  net.addHost('ha', [HA, '198.51.100.1']);
  net.addHost('mn', [`${COA}/64`]);
  const ha = net.port('ha', { receive: [60, 50] });
  const mn = net.port('mn', { receive: [43, 50] });
  return { clock, net, trace, ha, mn, haIn: inbox(ha), mnIn: inbox(mn) };
}

describe('MemoryIpNetwork', () => {
  it('delivers a BU with HAO to the HA and a BA with RH2 to the MN, unchanged', async () => {
    const { net, ha, mn, haIn, mnIn, trace } = world();
    const sending = mn.send(bu());
    expect(haIn).toEqual([]); // delivered on a microtask, not inside send
    await sending;
    await ha.send(ba());
    await flush();
    expect(haIn).toEqual([bu()]);
    expect(mnIn).toEqual([ba()]);
    const atHa = parseIpv6(haIn[0]!);
    expect(atHa.ok && homeAddressOption(atHa.value)).toBe(HOA);
    const atMn = parseIpv6(mnIn[0]!);
    expect(atMn.ok && routingHomeAddress(atMn.value)).toBe(HOA);
    expect(net.stats()).toEqual({
      sent: 2,
      delivered: 2,
      dropped: { unroutable: 0, 'no-socket': 0, 'no-receiver': 0 },
    });
    expect(trace.map((e) => [e.from, e.src, e.dst, e.outcome])).toEqual([
      ['mn', COA, HA, { delivered: true, host: 'ha', ports: 1 }],
      ['ha', HA, COA, { delivered: true, host: 'mn', ports: 1 }],
    ]);
    expect(mn.stats()).toEqual({ sent: 1, received: 1, droppedNoReceiver: 0, errors: 0 });
  });

  it('the receiver owns its copy', async () => {
    const { mn, haIn } = world();
    const packet = bu();
    await mn.send(packet);
    packet[40] = 0xff;
    await flush();
    expect(haIn[0]![40]).not.toBe(0xff);
  });

  it('filters on the first Next Header, as a raw socket per protocol does', async () => {
    const { net, ha, haIn, mnIn } = world();
    // RH2 (43) to the HA, which listens on 60 and 50 only.
    await ha.send(ba());
    await net.port('mn').send(ba(HA));
    await flush();
    expect(haIn).toEqual([]);
    expect(mnIn).toHaveLength(1);
    expect(net.stats().dropped['no-socket']).toBe(1);
    // Plain ESP (50) reaches both hosts' 50 sockets.
    await net.port('mn').send(plainEsp(COA, HA));
    await ha.send(plainEsp(HA, COA));
    await flush();
    expect(haIn).toHaveLength(1);
    expect(mnIn).toHaveLength(2);
  });

  it("every matching port gets a copy; 'all' takes every protocol; closed ports none", async () => {
    const { net, ha, haIn, mn } = world();
    const all = net.port('ha', { receive: 'all' });
    const allIn = inbox(all);
    await mn.send(bu());
    await mn.send(
      emitIpv4(
        {
          dscp: 0,
          ecn: 0,
          identification: 1,
          dontFragment: true,
          moreFragments: false,
          fragmentOffset: 0,
          ttl: 64,
          protocol: 17,
          src: ipv4('10.0.0.1'),
          dst: ipv4('198.51.100.1'),
        },
        new Uint8Array(8),
      ),
    );
    await flush();
    expect(haIn).toHaveLength(1);
    expect(allIn).toHaveLength(2);
    expect(ipPacketAddresses(allIn[1]!)).toEqual({
      family: 4,
      src: '10.0.0.1',
      dst: '198.51.100.1',
      protocol: 17,
    });
    await all.close();
    await ha.close();
    await mn.send(bu());
    await flush();
    expect(net.stats().dropped['no-socket']).toBe(1);
    await expect(ha.send(ba())).rejects.toThrow(/closed port: EBADF/);
  });

  it('drops what has nowhere to go, and counts why', async () => {
    const { net, mn, ha } = world();
    await mn.send(plainEsp(COA, '2001:db8:9::9'));
    const quiet = net.port('ha', { receive: [43] });
    void quiet;
    await ha.close();
    const noReceiver = net.port('ha', { receive: [60] });
    await mn.send(bu());
    await flush();
    expect(net.stats().dropped).toEqual({ unroutable: 1, 'no-socket': 0, 'no-receiver': 1 });
    expect(noReceiver.stats()).toEqual({ sent: 0, received: 1, droppedNoReceiver: 1, errors: 0 });
    await expect(mn.send(new Uint8Array(10))).rejects.toThrow(/10-byte packet: EINVAL/);
  });

  it('applies latency on the clock; a host that moves meanwhile loses the packet', async () => {
    const { clock, net, ha, mnIn } = world(30);
    await ha.send(ba());
    clock.advance(29);
    expect(mnIn).toEqual([]);
    clock.advance(1);
    expect(mnIn).toHaveLength(1);
    await ha.send(ba());
    net.setAddresses('mn', ['2001:db8:3::5']);
    clock.advance(30);
    expect(mnIn).toHaveLength(1);
    expect(net.stats().dropped.unroutable).toBe(1);
    // At its new care-of address it is reachable again.
    await ha.send(ba(ipv6('2001:db8:3::5')));
    clock.advance(30);
    expect(mnIn).toHaveLength(2);
  });

  it('a throwing receiver is reported, not thrown into the network', async () => {
    const clock = new TestClock();
    const net = new MemoryIpNetwork({ clock });
    net.addHost('ha', [HA]);
    net.addHost('mn', [COA]);
    const errors: Error[] = [];
    const ha = net.port('ha', { receive: [60], onError: (e) => errors.push(e) });
    ha.onPacket(() => {
      throw new Error('boom');
    });
    await net.port('mn').send(bu());
    await flush();
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    expect(ha.stats().errors).toBe(1);
  });

  it('rejects bad hosts and addresses', () => {
    const { net } = world();
    expect(() => net.addHost('ha')).toThrow(/exists already/);
    expect(() => net.setAddresses('mn', [HA])).toThrow(/belongs to "ha"/);
    expect(() => net.port('nobody')).toThrow(/no host "nobody"/);
    expect(() => net.addHost('x', ['not-an-address'])).toThrow(/expected an IPv4 or IPv6 address/);
    expect(() => new MemoryIpNetwork({ clock: new TestClock(), latencyMs: -1 })).toThrow(/latencyMs -1/);
  });

  it("follows a MemoryNetwork's hosts as they move", async () => {
    const clock = new TestClock();
    const udp = new MemoryNetwork({ clock });
    udp.addHost('ha', [HA]);
    udp.addHost('mn', [COA]);
    const net = new MemoryIpNetwork({ clock, addresses: udp });
    const ha = net.port('ha', { receive: [60] });
    const mn = net.port('mn', { receive: [43] });
    const haIn = inbox(ha);
    const mnIn = inbox(mn);
    await mn.send(bu());
    await flush();
    expect(haIn).toHaveLength(1);
    udp.setAddresses('mn', ['2001:db8:3::5']);
    await ha.send(ba());
    await ha.send(ba(ipv6('2001:db8:3::5')));
    await flush();
    expect(mnIn).toEqual([ba(ipv6('2001:db8:3::5'))]);
    expect(net.addresses('mn')).toEqual(['2001:db8:3::5']);
    expect(() => net.addHost('cn')).toThrow(/address book/);
    expect(() => net.port('cn')).toThrow(/no host "cn"/);
  });
});
