import { describe, expect, it } from 'vitest';
import { finish, ipv6PseudoSum, sumWords } from '../../src/wire/checksum.js';
import {
  emitIcmpv4Error,
  emitIcmpv6Error,
  emitIpv4,
  emitIpv6,
  icmpErrorAllowed,
  ipv4,
  ipv6,
  parseIpv4,
  parseIpv6,
} from '../../src/wire/index.js';

const ha6 = Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 1, ...new Array(9).fill(0), 1]);
const ha4 = Uint8Array.from([198, 51, 100, 1]);
const big6 = emitIpv6(
  {
    dscp: 0,
    ecn: 0,
    flowLabel: 0,
    hopLimit: 64,
    src: ipv6('2001:db8:99::5'),
    dst: ipv6('2001:db8:1::100'),
    extensions: [],
    protocol: 17,
  },
  new Uint8Array(1460),
);
const v4 = (protocol: number, payload: Uint8Array, src = '192.0.2.5', dst = '198.51.100.100') =>
  emitIpv4(
    {
      dscp: 0,
      ecn: 0,
      identification: 1,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol,
      src: ipv4(src),
      dst: ipv4(dst),
    },
    payload,
  );

describe('ICMP errors', () => {
  it('ICMPv6 Packet Too Big: to the sender, valid checksum, whole packet within 1280 bytes (RFC 4443 §2.4(c))', () => {
    const out = emitIcmpv6Error({ type: 2, code: 0, parameter: 1460 }, ha6, big6);
    expect(out.length).toBe(1280);
    const p = parseIpv6(out);
    expect(p.ok && [p.value.src, p.value.dst, p.value.protocol]).toEqual([
      '2001:db8:1::1',
      '2001:db8:99::5',
      58,
    ]);
    const sum = ipv6PseudoSum(out.subarray(8, 24), out.subarray(24, 40), out.length - 40, 58);
    expect(finish(sumWords(out, 40, out.length, sum))).toBe(0);
    expect(Buffer.from(out.subarray(48, 88)).equals(Buffer.from(big6.subarray(0, 40)))).toBe(true);
  });

  it('ICMP Fragmentation Needed: next-hop MTU, valid header and ICMP checksums, within 576 bytes', () => {
    const out = emitIcmpv4Error({ type: 3, code: 4, parameter: 1460 }, ha4, v4(17, new Uint8Array(1480)));
    expect(out.length).toBe(576);
    expect(parseIpv4(out).ok).toBe(true);
    expect(finish(sumWords(out, 20, out.length))).toBe(0);
    expect((out[26]! << 8) | out[27]!).toBe(1460);
  });

  it('is never sent about an ICMP error, a multicast or broadcast destination, or a fragment', () => {
    expect(icmpErrorAllowed(big6)).toBe(true);
    expect(icmpErrorAllowed(v4(1, Uint8Array.from([8, 0, 0, 0, 0, 0, 0, 0])))).toBe(true); // echo request
    expect(icmpErrorAllowed(v4(1, Uint8Array.from([3, 1, 0, 0, 0, 0, 0, 0])))).toBe(false); // an error
    expect(icmpErrorAllowed(v4(17, new Uint8Array(8), '192.0.2.5', '224.0.0.1'))).toBe(false);
    expect(icmpErrorAllowed(v4(17, new Uint8Array(8), '192.0.2.5', '255.255.255.255'))).toBe(false);
    const v6error = emitIcmpv6Error({ type: 1, code: 3, parameter: 0 }, ha6, big6);
    expect(icmpErrorAllowed(v6error)).toBe(false);
    const fragment = v4(17, new Uint8Array(8));
    fragment[7] = 10;
    expect(icmpErrorAllowed(fragment)).toBe(false);
    expect(icmpErrorAllowed(new Uint8Array(3))).toBe(false);
  });
});
