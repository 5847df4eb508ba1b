import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyOuterEcn,
  checkInner,
  encapsulateInPlace,
  isSignalling,
  type OuterTemplate,
  overhead,
} from '../../src/dataplane/packet.js';
import { decapsulate, emitIpv4, emitIpv6, encapsulate, ipv4, ipv6, parseIpv4 } from '../../src/wire/index.js';

const v4 = (dscp: number, ecn: number, payload = new Uint8Array(12)) =>
  emitIpv4(
    {
      dscp,
      ecn,
      identification: 7,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 61,
      protocol: 17,
      src: ipv4('192.0.2.5'),
      dst: ipv4('198.51.100.100'),
    },
    payload,
  );
const v6 = (dscp: number, ecn: number, payload = new Uint8Array(12)) =>
  emitIpv6(
    {
      dscp,
      ecn,
      flowLabel: 0,
      hopLimit: 63,
      src: ipv6('2001:db8:99::5'),
      dst: ipv6('2001:db8:1::100'),
      extensions: [],
      protocol: 17,
    },
    payload,
  );

/** The packet placed after `room` bytes of headroom, as the TUN port hands it over. */
function withHeadroom(p: Uint8Array, room = 64): Uint8Array {
  const b = new Uint8Array(room + p.length);
  b.set(p, room);
  return b.subarray(room);
}

const templates: Record<string, OuterTemplate> = {
  ip6: {
    mode: 'ip6',
    src: Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 1, ...new Array(9).fill(0), 1]),
    dst: Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0x20, ...new Array(9).fill(0), 0x10]),
  },
  ip4: { mode: 'ip4', src: Uint8Array.from([198, 51, 100, 1]), dst: Uint8Array.from([203, 0, 113, 10]) },
  udp: {
    mode: 'udp',
    src: Uint8Array.from([198, 51, 100, 1]),
    dst: Uint8Array.from([203, 0, 113, 130]),
    srcPort: 4191,
    dstPort: 40000,
  },
};

describe('encapsulateInPlace', () => {
  it('writes the same packet as the general codec (src/wire/tunnel.ts), for every mode and inner family', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ip6', 'ip4', 'udp'),
        fc.boolean(),
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: 3 }),
        fc.uint8Array({ maxLength: 200 }),
        (mode, inner6, dscp, ecn, payload) => {
          const inner = inner6 ? v6(dscp, ecn, payload) : v4(dscp, ecn, payload);
          const t = templates[mode]!;
          const fast = encapsulateInPlace(t, withHeadroom(inner));
          expect(fast.length).toBe(inner.length + overhead(t.mode));
          const outer =
            t.mode === 'ip6'
              ? { family: 6 as const, src: ipv6('2001:db8:1::1'), dst: ipv6('2001:db8:20::10') }
              : {
                  family: 4 as const,
                  src: ipv4('198.51.100.1'),
                  dst: ipv4(t.mode === 'udp' ? '203.0.113.130' : '203.0.113.10'),
                  ...(t.mode === 'udp' ? { udp: { srcPort: 4191, dstPort: 40000 } } : {}),
                };
          const general = encapsulate(outer, inner);
          // The general codec computes the UDP checksum; the fast path sends none (RFC 768 allows 0 over IPv4).
          if (t.mode === 'udp') general.set([0, 0], 26);
          expect(Buffer.from(fast).toString('hex')).toBe(Buffer.from(general).toString('hex'));
          const back = decapsulate(fast);
          expect(back.ok && Buffer.from(back.value.inner).equals(Buffer.from(inner))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('copies DSCP and ECN from the inner header to the outer one (RFC 5555 §4.1.1) and sets DF', () => {
    const out = encapsulateInPlace(templates.ip4!, withHeadroom(v6(46, 2)));
    const p = parseIpv4(out);
    expect(p.ok && { dscp: p.value.dscp, ecn: p.value.ecn, df: p.value.dontFragment }).toEqual({
      dscp: 46,
      ecn: 2,
      df: true,
    });
  });

  it('refuses a packet without headroom instead of writing outside it', () => {
    expect(() => encapsulateInPlace(templates.ip6!, v6(0, 0))).toThrow(/headroom/);
  });
});

describe('checkInner', () => {
  it('is total: any bytes get an answer, and only whole IPv4/IPv6 packets pass', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        const r = checkInner(b);
        if (r.ok) expect([4, 6]).toContain(b[0]! >> 4);
      }),
    );
    expect(checkInner(v4(0, 0))).toEqual({ ok: true, version: 4 });
    expect(checkInner(v6(0, 0))).toEqual({ ok: true, version: 6 });
    expect(checkInner(v6(0, 0).subarray(0, 50))).toEqual({ ok: false, reason: 'bad-length' });
    expect(checkInner(Uint8Array.from([0x50, 0]))).toEqual({ ok: false, reason: 'bad-version' });
    expect(checkInner(new Uint8Array(0))).toEqual({ ok: false, reason: 'truncated' });
  });
});

describe('applyOuterEcn (RFC 6040 §4.2)', () => {
  it('copies CE to an ECN-capable inner packet and keeps the IPv4 checksum valid', () => {
    const inner = v4(10, 1);
    expect(applyOuterEcn(3, inner)).toBe(true);
    const p = parseIpv4(inner);
    expect(p.ok && p.value.ecn).toBe(3);
    expect(p.ok && p.value.dscp).toBe(10);
    const inner6 = v6(10, 2);
    expect(applyOuterEcn(3, inner6)).toBe(true);
    expect(((inner6[1]! >> 4) & 3) === 3).toBe(true);
  });
  it('drops a CE-marked packet whose inner header is Not-ECT, and leaves others alone', () => {
    expect(applyOuterEcn(3, v4(0, 0))).toBe(false);
    const inner = v4(0, 2);
    const copy = inner.slice();
    expect(applyOuterEcn(2, inner)).toBe(true);
    expect(inner).toEqual(copy);
  });
});

describe('isSignalling', () => {
  const ha = Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 1, ...new Array(9).fill(0), 1]);
  const esp = (src: string, dst: string) =>
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
      new Uint8Array(24),
    );
  it('tells the BU/BA (IPv6/ESP to or from the HA) from tunnelled data on UDP 4191', () => {
    expect(isSignalling(esp('2001:db8:1::100', '2001:db8:1::1'), ha)).toBe(true);
    expect(isSignalling(esp('2001:db8:1::1', '2001:db8:1::100'), ha)).toBe(true);
    expect(isSignalling(esp('2001:db8:1::100', '2001:db8:99::5'), ha)).toBe(false);
    expect(isSignalling(v6(0, 0), ha)).toBe(false);
    expect(isSignalling(v4(0, 0), ha)).toBe(false);
  });
});
