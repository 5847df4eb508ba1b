/** SA validation (errors name the field) and the SA database lookups (RFC 4877 §4.4: keyed on HoA). */

import { describe, expect, it } from 'vitest';
import {
  type SaConfig,
  SaConfigError,
  SecurityAssociation,
  SecurityAssociationDatabase,
} from '../../src/security/sa.js';

const HOA = '2001:db8:1::100';
const HOA2 = '2001:db8:1::200';
const HA = '2001:db8:1::1';
const HA2 = '2001:db8:1::2';

const gcm = (over: Partial<SaConfig> = {}): SaConfig => ({
  spi: 0x1001,
  direction: 'in',
  algorithm: 'aes-gcm-16',
  encryptionKey: new Uint8Array(20).fill(1),
  homeAddress: HOA,
  ...over,
});

const cbc = (over: Partial<SaConfig> = {}): SaConfig => ({
  spi: 0x1002,
  direction: 'in',
  algorithm: 'aes-cbc-hmac-sha256',
  encryptionKey: new Uint8Array(16).fill(2),
  authenticationKey: new Uint8Array(32).fill(3),
  homeAddress: HOA,
  ...over,
});

/** The SaConfigError thrown by building a SAD from `configs`. */
function errorOf(configs: SaConfig[]): SaConfigError {
  try {
    SecurityAssociationDatabase.from(configs);
  } catch (e) {
    if (e instanceof SaConfigError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('SA validation', () => {
  it('accepts every key size of both algorithms', () => {
    for (const n of [20, 28, 36])
      expect(() => new SecurityAssociation(gcm({ encryptionKey: new Uint8Array(n) }))).not.toThrow();
    for (const n of [16, 24, 32])
      expect(() => new SecurityAssociation(cbc({ encryptionKey: new Uint8Array(n) }))).not.toThrow();
  });

  it('names the entry and field for a GCM key without its salt', () => {
    const e = errorOf([gcm({ encryptionKey: new Uint8Array(16) })]);
    expect(e.message).toBe(
      'sa[0].encryptionKey: AES-GCM needs 20, 28 or 36 bytes (key + 4-byte salt), got 16',
    );
    expect(e.field).toBe('sa[0].encryptionKey');
  });

  it.each([
    [
      cbc({ encryptionKey: new Uint8Array(20) }),
      'sa[1].encryptionKey: AES-CBC needs 16, 24 or 32 bytes, got 20',
    ],
    [
      cbc({ authenticationKey: undefined }),
      'sa[1].authenticationKey: HMAC-SHA-256-128 needs 32 bytes (RFC 4868 §2.1.1), got none',
    ],
    [
      cbc({ authenticationKey: new Uint8Array(20) }),
      'sa[1].authenticationKey: HMAC-SHA-256-128 needs 32 bytes (RFC 4868 §2.1.1), got 20',
    ],
    [
      gcm({ spi: 0x1003, authenticationKey: new Uint8Array(32) }),
      'sa[1].authenticationKey: AES-GCM authenticates by itself (RFC 4106); leave authenticationKey out, got 32 bytes',
    ],
    [
      gcm({ spi: 255 }),
      'sa[1].spi: must be an integer 256-4294967295 (0 is never sent, 1-255 are reserved, RFC 4303 §2.1), got 255',
    ],
    [gcm({ spi: 2 ** 32 }), /^sa\[1\]\.spi: must be an integer 256-4294967295 .*got 4294967296$/],
    [
      gcm({ spi: 0x1003, homeAddress: '2001:db8::1::2' }),
      'sa[1].homeAddress: must be an IPv6 address, got "2001:db8::1::2"',
    ],
    [gcm({ spi: 0x1003, peer: '192.0.2.1' }), 'sa[1].peer: must be an IPv6 address, got "192.0.2.1"'],
    [
      gcm({ spi: 0x1003, replayWindow: 16 }),
      /^sa\[1\]\.replayWindow: must be 0 \(off\) or an integer 32-4096 .*got 16$/,
    ],
    [gcm({ spi: 0x1003, direction: 'both' as 'in' }), `sa[1].direction: must be 'in' or 'out', got "both"`],
    [
      gcm({ spi: 0x1003, algorithm: 'aes-gcm-8' as 'aes-gcm-16' }),
      `sa[1].algorithm: must be one of 'aes-gcm-16', 'aes-cbc-hmac-sha256', got "aes-gcm-8"`,
    ],
    [gcm(), 'sa[1].spi: inbound SPI 0x00001001 is already used by the SA for 2001:db8:1::100'],
  ])('refuses %#: %s', (bad, message) => {
    const e = errorOf([gcm(), bad]);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });

  it('takes a key given as a plain string as "not a Uint8Array"', () => {
    const e = errorOf([gcm({ encryptionKey: '0x0102' as unknown as Uint8Array })]);
    expect(e.message).toBe(
      'sa[0].encryptionKey: AES-GCM needs 20, 28 or 36 bytes (key + 4-byte salt), got a string, not a Uint8Array',
    );
  });

  it('defaults the replay window to 64 and allows 0 (off)', () => {
    expect(new SecurityAssociation(gcm()).replay.size).toBe(64);
    expect(new SecurityAssociation(gcm({ replayWindow: 0 })).replay.size).toBe(0);
  });

  it('canonicalises addresses and copies keys', () => {
    const key = new Uint8Array(20).fill(9);
    const sa = new SecurityAssociation(gcm({ encryptionKey: key, homeAddress: '2001:DB8:1:0:0:0:0:100' }));
    key.fill(0);
    expect(sa.homeAddress).toBe(HOA);
    expect(sa.encryptionKey).toEqual(new Uint8Array(20).fill(9));
    expect(String(sa)).toBe('in 0x00001001 aes-gcm-16 for 2001:db8:1::100');
  });
});

describe('SecurityAssociationDatabase', () => {
  const sad = SecurityAssociationDatabase.from([
    gcm({ spi: 0x1001, direction: 'in', homeAddress: HOA }),
    gcm({ spi: 0x1002, direction: 'out', homeAddress: HOA }),
    cbc({ spi: 0x2001, direction: 'in', homeAddress: HOA2 }),
    cbc({ spi: 0x2002, direction: 'out', homeAddress: HOA2, peer: HA }),
    cbc({ spi: 0x2003, direction: 'out', homeAddress: HOA2, peer: HA2 }),
  ]);

  it('finds inbound SAs by SPI only', () => {
    expect(sad.inbound(0x1001)?.homeAddress).toBe(HOA);
    expect(sad.inbound(0x2001)?.algorithm).toBe('aes-cbc-hmac-sha256');
    expect(sad.inbound(0x1002)).toBeUndefined(); // an outbound SPI
    expect(sad.inbound(0x9999)).toBeUndefined();
  });

  it('finds outbound SAs by home address and peer', () => {
    expect(sad.outbound(HOA)?.spi).toBe(0x1002);
    expect(sad.outbound(HOA, HA2)?.spi).toBe(0x1002); // no peer set: any peer
    expect(sad.outbound('2001:db8:1:0::100')?.spi).toBe(0x1002);
    expect(sad.outbound(HOA2, HA)?.spi).toBe(0x2002);
    expect(sad.outbound(HOA2, '2001:db8:1:0:0:0:0:2')?.spi).toBe(0x2003);
    expect(sad.outbound(HOA2, '2001:db8:9::9')).toBeUndefined();
    expect(sad.outbound('2001:db8:1::300')).toBeUndefined();
    expect(sad.outbound('not an address')).toBeUndefined();
  });

  it('allows the same SPI inbound and outbound, but not two outbound SAs for one HoA and peer', () => {
    const d = new SecurityAssociationDatabase();
    d.add(gcm({ direction: 'in' }));
    d.add(gcm({ direction: 'out' }));
    expect(d.size).toBe(2);
    expect(() => d.add(gcm({ spi: 0x1009, direction: 'out' }), { path: 'sa[7]' })).toThrow(
      'sa[7].homeAddress: an outbound SA for 2001:db8:1::100 exists already (spi 0x00001001)',
    );
  });

  it('removes SAs', () => {
    const d = SecurityAssociationDatabase.from([gcm(), gcm({ direction: 'out' })]);
    expect(d.remove(0x1001, 'in')).toBe(true);
    expect(d.inbound(0x1001)).toBeUndefined();
    expect(d.remove(0x1001, 'in')).toBe(false);
    expect(d.remove(0x1001, 'out')).toBe(true);
    expect(d.outbound(HOA)).toBeUndefined();
    expect(d.size).toBe(0);
  });

  it('adds an already built SA as is', () => {
    const d = new SecurityAssociationDatabase();
    const sa = new SecurityAssociation(cbc());
    expect(d.add(sa)).toBe(sa);
    expect(d.all()).toEqual([sa]);
  });
});
