import { describe, expect, it } from 'vitest';
import { parseHaConfig } from '../../src/config/validate.js';
import { derivedHomeAddress, derivedKeys, derivedSaPair } from '../../src/security/derived.js';
import { configOf, errorsOf } from './support.js';

const SEED = '5e'.repeat(32);
const derived = {
  firstHomeAddress: '2001:db8:1::1:0',
  count: 1000,
  seed: SEED,
  algorithm: 'aes-gcm-16',
  spiInBase: 0x10000,
  spiOutBase: 0x20000,
};
const ha = {
  homePrefix: '2001:db8:1::/64',
  addresses: { ipv6: '2001:db8:1::1' },
  derivedSecurityAssociations: derived,
};
const explicit = {
  homeAddress: '2001:db8:1::100',
  spiIn: 300,
  spiOut: 301,
  algorithm: 'aes-gcm-16',
  encryptionKey: 'ab'.repeat(20),
};
const with_ = (patch: Record<string, unknown>) => ({
  ...ha,
  derivedSecurityAssociations: { ...derived, ...patch },
});

describe('derivedSecurityAssociations (a benchmarking and provisioning aid)', () => {
  it('is enough on its own: the range is validated and kept', () => {
    const config = configOf(parseHaConfig(ha));
    expect(config.securityAssociations).toEqual([]);
    expect(config.derivedSecurityAssociations).toMatchObject({
      firstHomeAddress: '2001:db8:1::1:0',
      count: 1000,
      algorithm: 'aes-gcm-16',
      spiInBase: 0x10000,
      spiOutBase: 0x20000,
    });
    expect(config.derivedSecurityAssociations?.seed).toHaveLength(32);
  });

  it('lives beside explicit SAs that are outside its range', () => {
    const config = configOf(parseHaConfig({ ...ha, securityAssociations: [explicit] }));
    expect(config.securityAssociations).toHaveLength(1);
  });

  it.each([
    [
      { count: 0 },
      'ha.derivedSecurityAssociations.count',
      '0: out of range (expected an integer 1-1048576, the number of mobile nodes)',
    ],
    [
      { seed: 'abcd' },
      'ha.derivedSecurityAssociations.seed',
      '<secret, 4 characters>: 2 bytes (expected at least 16 random bytes, e.g. from openssl rand -hex 32)',
    ],
    [
      { algorithm: 'aes-gcm' },
      'ha.derivedSecurityAssociations.algorithm',
      '"aes-gcm": not a known algorithm (expected one of aes-gcm-16, aes-cbc-hmac-sha256; did you mean "aes-gcm-16"?)',
    ],
    [
      { spiInBase: 5 },
      'ha.derivedSecurityAssociations.spiInBase',
      '5: out of range (expected an integer 256-4294967295; 0 is never sent and 1-255 are reserved, RFC 4303 §2.1)',
    ],
    [
      { spiOutBase: 0x10000 + 999 },
      'ha.derivedSecurityAssociations.spiOutBase',
      "66535: SPIs 66535-67534 overlap spiInBase's 65536-66535 (expected two ranges of count SPIs that do not overlap)",
    ],
    [
      { spiInBase: 0xffffffff },
      'ha.derivedSecurityAssociations.spiInBase',
      '4294967295: 4294967295 + count 1000 - 1 is past 4294967295 (expected a base that leaves room for count SPIs)',
    ],
    [
      { firstHomeAddress: '2001:db8:2::1' },
      'ha.derivedSecurityAssociations.firstHomeAddress',
      '"2001:db8:2::1": the range 2001:db8:2::1 + 0..999 leaves homePrefix 2001:db8:1::/64 (expected every home address of the range in the home prefix, RFC 6275 §10.3.1)',
    ],
    [
      { firstHomeAddress: '2001:db8:1:0:ffff:ffff:ffff:ff00' },
      'ha.derivedSecurityAssociations.count',
      '1000: the range 2001:db8:1:0:ffff:ffff:ffff:ff00 + 0..999 leaves homePrefix 2001:db8:1::/64 (expected every home address of the range in the home prefix, RFC 6275 §10.3.1)',
    ],
    [
      { colour: 1 },
      'ha.derivedSecurityAssociations.colour',
      'unknown key (expected one of firstHomeAddress, count, seed, algorithm, spiInBase, spiOutBase)',
    ],
  ])('%j → %s', (patch, path, message) => {
    expect(errorsOf(parseHaConfig(with_(patch)))).toEqual([{ path, message }]);
  });

  it('refuses an explicit SA whose home address or SPI the range already has', () => {
    const clash = { ...explicit, homeAddress: '2001:db8:1::1:5', spiIn: 0x10002 };
    expect(errorsOf(parseHaConfig({ ...ha, securityAssociations: [clash] }))).toEqual([
      {
        path: 'ha.securityAssociations[0].homeAddress',
        message:
          '"2001:db8:1::1:5": inside derivedSecurityAssociations\' range 2001:db8:1::1:0 + 0..999 (expected one security association per home address)',
      },
      {
        path: 'ha.securityAssociations[0].spiIn',
        message:
          '65538: inside an SPI range of derivedSecurityAssociations (expected every SPI unique across securityAssociations and derivedSecurityAssociations)',
      },
    ]);
  });

  it('still asks for securityAssociations when there is no derived range', () => {
    const { derivedSecurityAssociations: _, ...bare } = ha;
    expect(errorsOf(parseHaConfig(bare))).toEqual([
      {
        path: 'ha.securityAssociations',
        message: 'missing (expected an array of security associations, one per mobile node)',
      },
    ]);
  });
});

describe('derived keys (src/security/derived.ts)', () => {
  const seed = Uint8Array.from(Buffer.from(SEED, 'hex'));

  it('numbers home addresses with carries across groups', () => {
    expect(derivedHomeAddress('2001:db8:1::1:0', 0)).toBe('2001:db8:1::1:0');
    expect(derivedHomeAddress('2001:db8:1::1:0', 0x1_0005)).toBe('2001:db8:1::2:5');
    expect(derivedHomeAddress('2001:db8:1::ffff:ffff', 1)).toBe('2001:db8:1::1:0:0');
    expect(() => derivedHomeAddress('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 1)).toThrow(/past the end/);
  });

  it('gives each home address its own keys, the same every time, of the algorithm’s lengths', () => {
    const a = derivedKeys(seed, '2001:db8:1::1:0', 'aes-gcm-16');
    const b = derivedKeys(seed, '2001:db8:1::1:1', 'aes-gcm-16');
    expect(a.encryptionKey).toHaveLength(20);
    expect(a.authenticationKey).toBeUndefined();
    expect(Buffer.from(a.encryptionKey).equals(Buffer.from(b.encryptionKey))).toBe(false);
    expect(derivedKeys(seed, '2001:db8:1::1:0', 'aes-gcm-16')).toEqual(a);
    const cbc = derivedKeys(seed, '2001:db8:1::1:0', 'aes-cbc-hmac-sha256');
    expect([cbc.encryptionKey.length, cbc.authenticationKey?.length]).toEqual([16, 32]);
    // Another seed, other keys.
    expect(
      derivedKeys(
        seed.map((x) => x ^ 1),
        '2001:db8:1::1:0',
        'aes-gcm-16',
      ),
    ).not.toEqual(a);
  });

  it('pairs SPIs with the index and refuses an index outside the range', () => {
    const range = { ...derived, algorithm: 'aes-gcm-16' as const, seed };
    expect(derivedSaPair(range, 7)).toMatchObject({
      homeAddress: '2001:db8:1::1:7',
      spiIn: 0x10007,
      spiOut: 0x20007,
    });
    expect(() => derivedSaPair(range, 1000)).toThrow('derived SA: index 1000 outside the range 0-999');
  });
});
