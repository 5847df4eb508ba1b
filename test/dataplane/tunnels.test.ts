/**
 * Both tunnel endpoints over in-memory TUN and socket fakes: forwarding by binding, ingress
 * filtering, ICMP errors, counters, and totality against random bytes at every entry point.
 */
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { HomeTunnel, type TunnelBinding } from '../../src/dataplane/home-tunnel.js';
import { MobileTunnel } from '../../src/dataplane/mobile-tunnel.js';
import type { ReceivedTunnelPacket, TunnelSocketPort } from '../../src/net/raw-tunnel.js';
import { TUN_HEADROOM, type TunPort } from '../../src/net/tun.js';
import {
  decapsulate,
  emitIpv4,
  emitIpv6,
  ipv4,
  ipv4TextToBytes,
  ipv6,
  ipv6TextToBytes,
  parseIcmpError,
  parseIpv4,
  parseIpv6,
} from '../../src/wire/index.js';

const log = pino({ level: 'silent' });

class FakeTun implements TunPort {
  readonly name = 'fake0';
  readonly written: Uint8Array[] = [];
  private receiver: ((p: Uint8Array) => void) | undefined;
  write(p: Uint8Array): boolean {
    this.written.push(p.slice());
    return true;
  }
  onPacket(r: (p: Uint8Array) => void): void {
    this.receiver = r;
  }
  async close(): Promise<void> {}
  /** The kernel routes `p` into the device (placed after TUN_HEADROOM bytes, as the real port does). */
  inject(p: Uint8Array): void {
    const b = new Uint8Array(TUN_HEADROOM + p.length);
    b.set(p, TUN_HEADROOM);
    this.receiver?.(b.subarray(TUN_HEADROOM));
  }
}

class FakeSockets implements TunnelSocketPort {
  readonly sent4: Uint8Array[] = [];
  readonly sent6: Uint8Array[] = [];
  private receiver: ((p: ReceivedTunnelPacket) => void) | undefined;
  send4(p: Uint8Array): boolean {
    this.sent4.push(p.slice());
    return true;
  }
  send6(p: Uint8Array): boolean {
    this.sent6.push(p.slice());
    return true;
  }
  onPacket(r: (p: ReceivedTunnelPacket) => void): void {
    this.receiver = r;
  }
  async close(): Promise<void> {}
  inject(p: ReceivedTunnelPacket): void {
    this.receiver?.(p);
  }
}

const HOA6 = '2001:db8:1::100';
const HOA4 = '198.51.100.100';
const CN6 = '2001:db8:99::5';
const CN4 = '192.0.2.5';

const pkt4 = (src: string, dst: string, size = 28, df = true) =>
  emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      identification: 1,
      dontFragment: df,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 63,
      protocol: 1,
      src: ipv4(src),
      dst: ipv4(dst),
    },
    Uint8Array.from({ length: size - 20 }, (_, i) => (i === 0 ? 8 : i & 0xff)),
  );
const pkt6 = (src: string, dst: string, size = 48) =>
  emitIpv6(
    {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 63,
      src: ipv6(src),
      dst: ipv6(dst),
      extensions: [],
      protocol: 17,
    },
    new Uint8Array(size - 40),
  );

function home(pathMtu = 1500) {
  const tun = new FakeTun();
  const sockets = new FakeSockets();
  const calls: string[] = [];
  const tunnel = new HomeTunnel({
    tun,
    sockets,
    addresses: { ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' },
    udpPort: 4191,
    pathMtu,
    log,
    interception: {
      intercept: (h, v4) => calls.push(`intercept ${h} ${v4 ?? '-'}`),
      release: (h, v4) => calls.push(`release ${h} ${v4 ?? '-'}`),
    },
  });
  return { tun, sockets, tunnel, calls };
}

const bound = (
  mode: TunnelBinding['mode'],
  careOf: string,
  extra: Partial<TunnelBinding> = {},
): TunnelBinding => ({
  homeAddress: HOA6,
  ipv4HomeAddress: HOA4,
  mode,
  careOf,
  ...extra,
});

describe('HomeTunnel', () => {
  it('sends packets for a bound home address to the care-of address in the encapsulation the binding names', () => {
    const { tun, sockets, tunnel } = home();
    tunnel.setBinding(HOA6, bound('ip6', '2001:db8:20::10'));
    tun.inject(pkt6(CN6, HOA6));
    tun.inject(pkt4(CN4, HOA4));
    expect(sockets.sent6).toHaveLength(2);
    const outer = parseIpv6(sockets.sent6[1]!);
    expect(outer.ok && [outer.value.dst, outer.value.src, outer.value.protocol]).toEqual([
      '2001:db8:20::10',
      '2001:db8:1::1',
      4,
    ]);
    tunnel.setBinding(HOA6, bound('udp', '10.0.0.10', { udp: { address: '203.0.113.130', port: 40000 } }));
    tun.inject(pkt4(CN4, HOA4));
    const d = decapsulate(sockets.sent4[0]!);
    expect(d.ok && d.value.encapsulation).toBe('udp');
    expect(d.ok && d.value.udp).toEqual({ srcPort: 4191, dstPort: 40000 });
    expect(d.ok && (d.value.outer as { dst: string }).dst).toBe('203.0.113.130');
    expect(tunnel.counters().bindings[HOA6]).toMatchObject({ packetsOut: 3 });
  });

  it('answers a packet for a home address without a binding with Destination Unreachable, rate-limited', () => {
    const { tun, sockets, tunnel } = home();
    tun.inject(pkt6(CN6, '2001:db8:1::200'));
    tun.inject(pkt4(CN4, '198.51.100.105'));
    const icmp6 = parseIpv6(sockets.sent6[0]!);
    expect(icmp6.ok && [icmp6.value.dst, icmp6.value.protocol]).toEqual([CN6, 58]);
    const e6 = icmp6.ok ? parseIcmpError(icmp6.value.payload) : undefined;
    expect(e6?.ok && [e6.value.type, e6.value.code]).toEqual([1, 3]);
    const icmp4 = parseIpv4(sockets.sent4[0]!);
    const e4 = icmp4.ok ? parseIcmpError(icmp4.value.payload) : undefined;
    expect(icmp4.ok && icmp4.value.dst).toBe(CN4);
    expect(e4?.ok && [e4.value.type, e4.value.code]).toEqual([3, 1]);
    expect(tunnel.counters()).toMatchObject({ dropped: { 'no-binding': 2 }, icmpSent: 2 });
    for (let i = 0; i < 500; i++) tun.inject(pkt6(CN6, '2001:db8:1::200'));
    expect(tunnel.counters().icmpSent).toBeLessThanOrEqual(110);
    expect(tunnel.counters().dropped['no-binding']).toBe(502);
  });

  it('never fragments: a packet too big for the tunnel gets Packet Too Big / Fragmentation Needed with the tunnel MTU', () => {
    const { tun, sockets, tunnel } = home(1400);
    tunnel.setBinding(HOA6, bound('ip4', '203.0.113.10'));
    tun.inject(pkt4(CN4, HOA4, 1381)); // 1381 + 20 > 1400
    tun.inject(pkt6(CN6, HOA6, 1400));
    tun.inject(pkt4(CN4, HOA4, 1381, false)); // no DF: dropped, no ICMP (it cannot do PMTUD)
    const frag = parseIpv4(sockets.sent4[0]!);
    const e4 = frag.ok ? parseIcmpError(frag.value.payload) : undefined;
    expect(e4?.ok && [e4.value.type, e4.value.code, e4.value.parameter]).toEqual([3, 4, 1380]);
    const ptb = parseIpv6(sockets.sent6[0]!);
    const e6 = ptb.ok ? parseIcmpError(ptb.value.payload) : undefined;
    expect(e6?.ok && [e6.value.type, e6.value.parameter]).toEqual([2, 1380]);
    expect(sockets.sent4).toHaveLength(1);
    expect(tunnel.counters().bindings[HOA6]?.dropped['too-big']).toBe(3);
  });

  it('ingress filtering: only the bound home address, from its own care-of address, gets out of the tunnel', () => {
    const { tun, sockets, tunnel } = home();
    tunnel.setBinding(HOA6, bound('ip4', '203.0.113.10'));
    const from = (src: string, inner: Uint8Array): ReceivedTunnelPacket => ({
      outerFamily: 4,
      src: ipv4TextToBytes(src)!,
      trafficClass: 0,
      inner,
    });
    sockets.inject(from('203.0.113.10', pkt4(HOA4, CN4)));
    sockets.inject(from('203.0.113.10', pkt6(HOA6, CN6)));
    sockets.inject(from('203.0.113.10', pkt4('198.51.100.105', CN4))); // spoofed inner source
    sockets.inject(from('192.0.2.5', pkt4(HOA4, CN4))); // right inner source, wrong care-of
    sockets.inject({
      outerFamily: 6,
      src: ipv6TextToBytes('2001:db8:20::10')!,
      trafficClass: 0,
      inner: pkt6(HOA6, CN6),
    });
    tunnel.fromUdp(pkt4(HOA4, CN4), '203.0.113.10', 4191); // UDP, but the binding is protocol 4
    expect(tun.written).toHaveLength(2);
    const c = tunnel.counters();
    expect(c.dropped['ingress-no-binding']).toBe(1);
    expect(c.bindings[HOA6]).toMatchObject({ packetsIn: 2, dropped: { 'ingress-wrong-care-of': 3 } });
  });

  it('UDP: data from the NAT mapping of the binding gets in; another port of the same NAT does not', () => {
    const { tun, tunnel } = home();
    tunnel.setBinding(HOA6, bound('udp', '10.0.0.10', { udp: { address: '203.0.113.130', port: 40000 } }));
    tunnel.fromUdp(pkt6(HOA6, CN6), '203.0.113.130', 40000);
    tunnel.fromUdp(pkt6(HOA6, CN6), '203.0.113.130', 40001);
    expect(tun.written).toHaveLength(1);
    expect(tunnel.counters().bindings[HOA6]?.dropped['ingress-wrong-care-of']).toBe(1);
  });

  it('intercepts when a binding appears or its IPv4 home address changes, releases when it goes; nothing is left', () => {
    const { tun, sockets, tunnel, calls } = home();
    tunnel.setBinding(HOA6, bound('ip6', '2001:db8:20::10'));
    tunnel.setBinding(HOA6, bound('ip4', '203.0.113.10')); // a move: same interception
    tunnel.setBinding(HOA6, bound('ip4', '203.0.113.10', { ipv4HomeAddress: '198.51.100.101' }));
    tunnel.setBinding(HOA6, undefined);
    expect(calls).toEqual([
      `intercept ${HOA6} ${HOA4}`,
      `release ${HOA6} ${HOA4}`,
      `intercept ${HOA6} 198.51.100.101`,
      `release ${HOA6} 198.51.100.101`,
    ]);
    expect(tunnel.size).toBe(0);
    expect(tunnel.counters().bindings).toEqual({});
    tun.inject(pkt4(CN4, HOA4));
    expect(sockets.sent4.map((p) => p[9])).toEqual([1]); // ICMP, not a tunnel packet
  });

  it('random bytes at every entry point are counted and dropped, never thrown', () => {
    const { tun, sockets, tunnel } = home();
    tunnel.setBinding(HOA6, bound('ip6', '2001:db8:20::10'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(4, 6), (b, family) => {
        tun.inject(b);
        sockets.inject({
          outerFamily: family as 4 | 6,
          src: new Uint8Array(family === 4 ? 4 : 16),
          trafficClass: 3,
          inner: b.slice(),
        });
        tunnel.fromUdp(b.slice(), '203.0.113.130', 1);
      }),
      { numRuns: 2000 },
    );
    const dropped = Object.values(tunnel.counters().dropped).reduce((a, n) => a + n, 0);
    expect(dropped).toBeGreaterThan(0);
  });
});

function mobile() {
  const tun = new FakeTun();
  const sockets = new FakeSockets();
  const tunnel = new MobileTunnel({
    tun,
    sockets,
    homeAddress: HOA6,
    homeAgent: { ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' },
    pathMtu: 1500,
    log,
  });
  tunnel.setIpv4HomeAddress(HOA4);
  return { tun, sockets, tunnel };
}

describe('MobileTunnel', () => {
  it('tunnels home-address traffic only once a registration confirmed a route, as that route says', () => {
    const { tun, sockets, tunnel } = mobile();
    tun.inject(pkt6(HOA6, CN6));
    expect(tunnel.counters().dropped['no-binding']).toBe(1);
    tunnel.setRoute({ mode: 'ip4', careOf: '203.0.113.10', homeAgent: '198.51.100.1' });
    tun.inject(pkt6(HOA6, CN6));
    tun.inject(pkt4(HOA4, CN4));
    tun.inject(pkt6('fe80::1', 'ff02::16')); // the kernel's link-local chatter on the TUN
    expect(sockets.sent4.map((p) => p[9])).toEqual([41, 4]);
    tunnel.setRoute({
      mode: 'udp',
      careOf: '10.0.0.10',
      homeAgent: '198.51.100.1',
      udp: { localPort: 40000, remotePort: 4191 },
    });
    tun.inject(pkt4(HOA4, CN4));
    const d = decapsulate(sockets.sent4[2]!);
    expect(d.ok && d.value.udp).toEqual({ srcPort: 40000, dstPort: 4191 });
    expect(tunnel.counters()).toMatchObject({ packetsOut: 3, dropped: { 'not-from-home-address': 1 } });
  });

  it('lets in only packets from the home agent, for a home address', () => {
    const { tun, sockets, tunnel } = mobile();
    tunnel.setRoute({ mode: 'ip6', careOf: '2001:db8:20::10', homeAgent: '2001:db8:1::1' });
    const ha6 = ipv6TextToBytes('2001:db8:1::1')!;
    sockets.inject({ outerFamily: 6, src: ha6, trafficClass: 0, inner: pkt4(CN4, HOA4) });
    sockets.inject({ outerFamily: 6, src: ipv6TextToBytes(CN6)!, trafficClass: 0, inner: pkt4(CN4, HOA4) });
    sockets.inject({ outerFamily: 6, src: ha6, trafficClass: 0, inner: pkt4(CN4, '198.51.100.105') });
    tunnel.fromUdp(pkt6(CN6, HOA6), '198.51.100.1', 4191);
    tunnel.fromUdp(pkt6(CN6, HOA6), '198.51.100.9', 4191);
    expect(tun.written).toHaveLength(2);
    expect(tunnel.counters()).toMatchObject({
      packetsIn: 2,
      dropped: { 'not-from-home-agent': 2, 'not-for-home-address': 1 },
    });
  });

  it('a packet too big for the tunnel gets Packet Too Big into the host stack, not the wire', () => {
    const { tun, sockets, tunnel } = mobile();
    tunnel.setRoute({ mode: 'ip6', careOf: '2001:db8:20::10', homeAgent: '2001:db8:1::1' });
    tun.inject(pkt6(HOA6, CN6, 1461));
    expect(sockets.sent6).toHaveLength(0);
    const ptb = parseIpv6(tun.written[0]!);
    expect(ptb.ok && ptb.value.dst).toBe(HOA6);
    const e = ptb.ok ? parseIcmpError(ptb.value.payload) : undefined;
    expect(e?.ok && [e.value.type, e.value.parameter]).toEqual([2, 1460]);
  });
});

describe('HomeTunnel without an IPv4 address', () => {
  it('cannot tunnel an IPv4 care-of address: counts it, says why, and stops intercepting the old binding', () => {
    const tun = new FakeTun();
    const sockets = new FakeSockets();
    const calls: string[] = [];
    const lines: string[] = [];
    const tunnel = new HomeTunnel({
      tun,
      sockets,
      addresses: { ipv6: '2001:db8:1::1' },
      udpPort: 4191,
      pathMtu: 1500,
      log: pino({ level: 'warn' }, { write: (l: string) => lines.push(l) }),
      interception: {
        intercept: (h) => calls.push(`intercept ${h}`),
        release: (h) => calls.push(`release ${h}`),
      },
    });
    tunnel.setBinding(HOA6, bound('ip6', '2001:db8:20::10'));
    tunnel.setBinding(HOA6, bound('ip4', '203.0.113.10'));
    expect(calls).toEqual([`intercept ${HOA6}`, `release ${HOA6}`]);
    expect(tunnel.counters().dropped['unusable-binding']).toBe(1);
    expect(lines.join('')).toContain(
      'cannot be tunnelled: the home agent has no IPv4 address (config addresses.ipv4)',
    );
    expect(tunnel.size).toBe(0);
  });
});
