import { describe, expect, it } from 'vitest';
import { interfacesWithIpv6 } from '../../src/dataplane/daemon.js';
import { gratuitousArp, unsolicitedNeighborAdvertisement } from '../../src/net/neighbor-announce.js';
import { ipv4TextToBytes, ipv6TextToBytes } from '../../src/wire/index.js';

const hoa = ipv6TextToBytes('2001:db8:1::100')!;
const mac = Uint8Array.from([2, 0, 0, 0, 0, 0x10]);

describe('neighbour announcements', () => {
  it('unsolicited NA (RFC 4861 §4.4): type 136, Override set, Solicited clear, Router only for the HA, target and TLLA', () => {
    const ha = unsolicitedNeighborAdvertisement(hoa, mac);
    expect([ha[0], ha[1], ha[4]]).toEqual([136, 0, 0xa0]);
    expect(Buffer.from(ha.subarray(8, 24)).equals(Buffer.from(hoa))).toBe(true);
    expect([...ha.subarray(24, 32)]).toEqual([2, 1, 2, 0, 0, 0, 0, 0x10]);
    expect(unsolicitedNeighborAdvertisement(hoa, mac, false)[4]).toBe(0x20);
  });

  it('gratuitous ARP (RFC 5227 §3): a request whose sender and target address are both the address', () => {
    const a = gratuitousArp(ipv4TextToBytes('198.51.100.100')!, mac);
    expect([...a.subarray(0, 8)]).toEqual([0, 1, 8, 0, 6, 4, 0, 1]);
    expect([...a.subarray(8, 14)]).toEqual([...mac]);
    expect([...a.subarray(14, 18)]).toEqual([198, 51, 100, 100]);
    expect([...a.subarray(24, 28)]).toEqual([198, 51, 100, 100]);
  });

  it('finds the links that carry the home address from /proc/net/if_inet6, leaving out the TUN', () => {
    const table = [
      '20010db8000100000000000000000100 03 80 00 80   dsm6mn',
      '20010db8000100000000000000000100 02 40 00 80     eth0',
      'fe800000000000000000000000000010 02 40 20 80     eth0',
      '00000000000000000000000000000001 01 80 10 80       lo',
    ].join('\n');
    expect(interfacesWithIpv6(table, hoa, 'dsm6mn')).toEqual(['eth0']);
    expect(interfacesWithIpv6('garbage\n\n', hoa, 'dsm6mn')).toEqual([]);
  });
});
