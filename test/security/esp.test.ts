/**
 * ESP transport mode: seal/open round trips for both transforms and every key size, the layout
 * checked with node:crypto directly (independent of src/security's own code), tampering, replay,
 * IV uniqueness, totality of `open`, and whole signalling packets (IPv6 / [RH2] / [HAO] / ESP / MH).
 */

import { createDecipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EspAlgorithm, gcmEncrypt } from '../../src/security/algorithms.js';
import {
  open,
  openMobilityPacket,
  packetHomeAddress,
  seal,
  sealMobilityPacket,
} from '../../src/security/esp.js';
import { SequenceExhaustedError } from '../../src/security/replay.js';
import { type SaConfig, SecurityAssociation, SecurityAssociationDatabase } from '../../src/security/sa.js';
import { ipv6 } from '../../src/wire/address.js';
import { emitEsp } from '../../src/wire/esp.js';
import { emitIpv6, type Ipv6Fields, parseIpv6, upperLayerPseudoHeader } from '../../src/wire/ipv6.js';
import { baFlags, buFlags, emitMobilityHeader, type MobilityMessage } from '../../src/wire/mh.js';
import { emitMobilityPacket } from '../../src/wire/signalling.js';

const HA = ipv6('2001:db8:1::1');
const HOA = ipv6('2001:db8:1::100');
const HOA2 = ipv6('2001:db8:1::200');
const COA = ipv6('2001:db8:2::100');

const bytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (seed + i * 31) & 0xff);

interface Pair {
  readonly out: SecurityAssociation;
  readonly sad: SecurityAssociationDatabase;
  readonly inbound: SecurityAssociation;
}

/** A matching outbound SA and a SAD holding its inbound twin (same SPI and keys). */
function pair(algorithm: EspAlgorithm, keyLength: number, over: Partial<SaConfig> = {}): Pair {
  const config: SaConfig = {
    spi: 0x1001,
    direction: 'out',
    algorithm,
    encryptionKey: bytes(keyLength, 0x11),
    ...(algorithm === 'aes-cbc-hmac-sha256' ? { authenticationKey: bytes(32, 0x77) } : {}),
    homeAddress: HOA,
    ...over,
  };
  const sad = new SecurityAssociationDatabase();
  const inbound = sad.add({ ...config, direction: 'in' });
  return { out: new SecurityAssociation(config), sad, inbound };
}

const CASES: [EspAlgorithm, number][] = [
  ['aes-gcm-16', 20],
  ['aes-gcm-16', 28],
  ['aes-gcm-16', 36],
  ['aes-cbc-hmac-sha256', 16],
  ['aes-cbc-hmac-sha256', 24],
  ['aes-cbc-hmac-sha256', 32],
];

const bu: MobilityMessage = {
  kind: 'bindingUpdate',
  sequence: 7,
  flags: buFlags({ A: true, H: true }),
  lifetime: 400,
  options: [{ kind: 'alternateCareOfAddress', address: COA }],
};
const ba: MobilityMessage = {
  kind: 'bindingAcknowledgement',
  status: 0,
  flags: baFlags(),
  sequence: 7,
  lifetime: 400,
  options: [],
};

/** Decrypts a sealed packet with node:crypto directly, following RFC 4106 / RFC 3602 + 4868. */
function independentOpen(
  algorithm: EspAlgorithm,
  key: Uint8Array,
  authKey: Uint8Array,
  esp: Uint8Array,
): Uint8Array {
  const b = Buffer.from(esp);
  if (algorithm === 'aes-gcm-16') {
    const aesKey = key.subarray(0, key.length - 4);
    const nonce = Buffer.concat([key.subarray(key.length - 4), b.subarray(8, 16)]);
    const d = createDecipheriv(`aes-${aesKey.length * 8}-gcm` as 'aes-128-gcm', aesKey, nonce, {
      authTagLength: 16,
    });
    d.setAAD(b.subarray(0, 8));
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(16, b.length - 16)), d.final()]);
  }
  const mac = createHmac('sha256', authKey)
    .update(b.subarray(0, b.length - 16))
    .digest()
    .subarray(0, 16);
  expect(mac.equals(b.subarray(b.length - 16))).toBe(true);
  const d = createDecipheriv(`aes-${key.length * 8}-cbc`, key, b.subarray(8, 24));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(b.subarray(24, b.length - 16)), d.final()]);
}

describe('seal / open round trips', () => {
  it.each(CASES)('%s with a %i-byte encryption key', (algorithm, keyLength) => {
    const { out, sad, inbound } = pair(algorithm, keyLength);
    const ivLength = algorithm === 'aes-gcm-16' ? 8 : 16;
    const unit = algorithm === 'aes-gcm-16' ? 4 : 16;
    for (let n = 0; n <= 48; n++) {
      const payload = bytes(n, n);
      const esp = seal(out, payload, 135);
      // SPI and sequence in the clear; the MH after ESP header + IV starts 8-aligned (RFC 4303 §2.4).
      expect(Array.from(esp.subarray(0, 8))).toEqual([0, 0, 0x10, 0x01, 0, 0, 0, n + 1]);
      expect((8 + ivLength) % 8).toBe(0);
      const cipherLength = esp.length - 8 - ivLength - 16;
      expect(cipherLength % unit).toBe(0);
      expect(cipherLength - (n + 2)).toBeLessThan(unit);

      const plain = independentOpen(
        algorithm,
        out.encryptionKey,
        out.authenticationKey ?? new Uint8Array(),
        esp,
      );
      const padLength = plain[plain.length - 2]!;
      expect(plain[plain.length - 1]).toBe(135);
      expect(Array.from(plain.subarray(n, n + padLength))).toEqual(
        Array.from({ length: padLength }, (_, i) => i + 1),
      );
      expect(new Uint8Array(plain.subarray(0, n))).toEqual(payload);

      const r = open(sad, esp);
      expect(r).toEqual({ ok: true, sa: inbound, payload, nextHeader: 135, sequence: n + 1 });
    }
  });

  it('uses a fresh random IV for every AES-CBC packet', () => {
    const { out } = pair('aes-cbc-hmac-sha256', 16);
    const ivs = new Set(
      Array.from({ length: 200 }, () =>
        Buffer.from(seal(out, bytes(8, 0), 135).subarray(8, 24)).toString('hex'),
      ),
    );
    expect(ivs.size).toBe(200);
  });

  it('refuses to seal with an inbound SA', () => {
    const { inbound } = pair('aes-gcm-16', 20);
    expect(() => seal(inbound, bytes(8, 0), 135)).toThrow(/cannot seal with inbound SA in 0x00001001/);
  });

  it('refuses to seal past sequence number 2^32-1', () => {
    const config: SaConfig = {
      spi: 0x1001,
      direction: 'out',
      algorithm: 'aes-gcm-16',
      encryptionKey: bytes(20, 1),
      homeAddress: HOA,
    };
    const out = new SecurityAssociation(config, { lastSequence: 0xfffffffe });
    const sad = SecurityAssociationDatabase.from([{ ...config, direction: 'in' }]);
    const last = seal(out, bytes(8, 0), 135);
    expect(open(sad, last)).toMatchObject({ ok: true, sequence: 0xffffffff });
    expect(() => seal(out, bytes(8, 0), 135)).toThrow(SequenceExhaustedError);
  });
});

describe('AES-GCM explicit IV', () => {
  it('never repeats across 10,000 packets and counts up from a per-SA base', () => {
    const { out, sad } = pair('aes-gcm-16', 20);
    const ivs = new Set<string>();
    let previous: bigint | undefined;
    for (let i = 0; i < 10_000; i++) {
      const esp = seal(out, bytes(8, i), 135);
      const iv = Buffer.from(esp.subarray(8, 16));
      ivs.add(iv.toString('hex'));
      const value = iv.readBigUInt64BE(0);
      if (previous !== undefined) expect(value).toBe((previous + 1n) & 0xffffffffffffffffn);
      previous = value;
      if (i % 1000 === 0) expect(open(sad, esp).ok).toBe(true);
    }
    expect(ivs.size).toBe(10_000);
  });

  it('starts from a random base, so a restarted SA with the same key does not reuse IVs', () => {
    const a = pair('aes-gcm-16', 20).out;
    const b = pair('aes-gcm-16', 20).out;
    const first = (sa: SecurityAssociation): string =>
      Buffer.from(seal(sa, bytes(8, 0), 135).subarray(8, 16)).toString('hex');
    expect(first(a)).not.toBe(first(b));
    expect(a.ivBase).not.toBe(b.ivBase);
  });

  it('wraps the 64-bit counter instead of overflowing', () => {
    const out = new SecurityAssociation(
      {
        spi: 0x1001,
        direction: 'out',
        algorithm: 'aes-gcm-16',
        encryptionKey: bytes(20, 1),
        homeAddress: HOA,
      },
      { ivBase: 0xffffffffffffffffn },
    );
    expect(Buffer.from(seal(out, bytes(8, 0), 135).subarray(8, 16)).toString('hex')).toBe('0000000000000000');
  });
});

describe('tampering', () => {
  it.each(CASES)('%s (%i-byte key): any altered byte after the SPI fails the ICV', (algorithm, keyLength) => {
    const { out } = pair(algorithm, keyLength);
    const esp = seal(out, bytes(24, 5), 135);
    for (let i = 4; i < esp.length; i++) {
      const { sad, inbound } = pair(algorithm, keyLength);
      const bad = esp.slice();
      // 0x80 keeps a flipped sequence number non-zero and ahead of the window.
      bad[i]! ^= 0x80;
      const r = open(sad, bad);
      expect({ i, r: r.ok ? 'ok' : r.reason }).toEqual({ i, r: 'bad-icv' });
      // A forged packet does not move the window: the genuine one still goes through.
      expect(inbound.replay.highest).toBe(0);
      expect(open(sad, esp).ok).toBe(true);
    }
  });

  it.each(CASES)(
    '%s (%i-byte key): a changed SPI selecting another SA with the same keys fails the ICV',
    (algorithm, keyLength) => {
      const { out, sad } = pair(algorithm, keyLength);
      sad.add({ ...configOf(sad.inbound(0x1001)!), spi: 0x1002 });
      const esp = seal(out, bytes(24, 5), 135);
      esp[3] = 0x02;
      expect(open(sad, esp)).toMatchObject({ ok: false, reason: 'bad-icv', spi: 0x1002 });
    },
  );

  it('a changed SPI with no SA is unknown-spi', () => {
    const { out, sad } = pair('aes-gcm-16', 20);
    const esp = seal(out, bytes(24, 5), 135);
    esp[2]! ^= 0x40;
    expect(open(sad, esp)).toMatchObject({ ok: false, reason: 'unknown-spi', spi: 0x5001 });
  });

  it('a wrong key fails the ICV', () => {
    const { out } = pair('aes-cbc-hmac-sha256', 16);
    const { sad } = pair('aes-cbc-hmac-sha256', 16, { authenticationKey: bytes(32, 0x78) });
    expect(open(sad, seal(out, bytes(8, 0), 135))).toMatchObject({ ok: false, reason: 'bad-icv' });
    const g = pair('aes-gcm-16', 20);
    const other = pair('aes-gcm-16', 20, { encryptionKey: bytes(20, 0x12) });
    expect(open(other.sad, seal(g.out, bytes(8, 0), 135))).toMatchObject({ ok: false, reason: 'bad-icv' });
  });
});

function configOf(sa: SecurityAssociation): SaConfig {
  return {
    spi: sa.spi,
    direction: sa.direction,
    algorithm: sa.algorithm,
    encryptionKey: sa.encryptionKey,
    ...(sa.authenticationKey ? { authenticationKey: sa.authenticationKey } : {}),
    homeAddress: sa.homeAddress,
  };
}

describe('anti-replay through open', () => {
  it('rejects a replayed packet and accepts out-of-order ones within the window once', () => {
    const { out, sad } = pair('aes-gcm-16', 20);
    const packets = Array.from({ length: 100 }, (_, i) => seal(out, bytes(8, i), 135));
    expect(open(sad, packets[0]!).ok).toBe(true);
    expect(open(sad, packets[0]!)).toMatchObject({
      ok: false,
      reason: 'replay',
      sequence: 1,
      detail: 'sequence number 1 was received already',
    });
    expect(open(sad, packets[99]!).ok).toBe(true); // sequence 100
    expect(open(sad, packets[36]!).ok).toBe(true); // sequence 37: the oldest slot
    expect(open(sad, packets[36]!)).toMatchObject({ ok: false, reason: 'replay' });
    expect(open(sad, packets[35]!)).toMatchObject({
      ok: false,
      reason: 'replay',
      detail: 'sequence number 36 is left of the window (highest 100, window 64)',
    });
    expect(open(sad, packets[60]!).ok).toBe(true);
  });

  it('rejects sequence number 0 before looking at the ICV', () => {
    const { sad } = pair('aes-gcm-16', 20);
    const esp = emitEsp({
      spi: 0x1001,
      sequence: 0,
      protectedData: new Uint8Array(12),
      icv: new Uint8Array(16),
    });
    expect(open(sad, esp)).toMatchObject({
      ok: false,
      reason: 'replay',
      detail: expect.stringMatching(/never sent/),
    });
  });

  it('accepts replays when the SA has anti-replay off (replayWindow 0)', () => {
    const { out, sad } = pair('aes-cbc-hmac-sha256', 16, { replayWindow: 0 });
    const esp = seal(out, bytes(8, 0), 135);
    expect(open(sad, esp).ok).toBe(true);
    expect(open(sad, esp).ok).toBe(true);
  });
});

describe('malformed input', () => {
  it('reports short, misaligned and impossible packets without throwing', () => {
    const { sad } = pair('aes-cbc-hmac-sha256', 16);
    expect(open(sad, new Uint8Array(5))).toMatchObject({ ok: false, reason: 'malformed' });
    const hdr = (n: number): Uint8Array => {
      const b = new Uint8Array(n);
      b.set([0, 0, 0x10, 0x01, 0, 0, 0, 1]);
      return b;
    };
    expect(open(sad, hdr(8 + 16 + 16))).toMatchObject({ ok: false, reason: 'malformed' }); // no ciphertext
    expect(open(sad, hdr(8 + 16 + 20 + 16))).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail:
        'aes-cbc-hmac-sha256 ciphertext is 20 bytes, expected a positive multiple of 16 after the 16-byte IV',
    });
    const g = pair('aes-gcm-16', 20);
    expect(open(g.sad, hdr(8 + 8 + 6 + 16))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(open(g.sad, new Uint8Array(8))).toMatchObject({ ok: false, reason: 'unknown-spi', spi: 0 });
  });

  it('reports bad padding in an authentic packet (and still records its sequence number)', () => {
    const { out, sad, inbound } = pair('aes-gcm-16', 20);
    // Hand-built: payload of 7 bytes, padding 1 2 9 (not 1 2 3), Pad Length 3, Next Header 135.
    const plain = Uint8Array.from([...bytes(7, 0), 1, 2, 9, 3, 135]);
    const iv = bytes(8, 3);
    const header = emitEsp({
      spi: 0x1001,
      sequence: 1,
      protectedData: new Uint8Array(0),
      icv: new Uint8Array(0),
    });
    const { ciphertext, tag } = gcmEncrypt(out.encryptionKey, iv, header, plain);
    const esp = emitEsp({
      spi: 0x1001,
      sequence: 1,
      protectedData: Uint8Array.from([...iv, ...ciphertext]),
      icv: tag,
    });
    expect(open(sad, esp)).toMatchObject({ ok: false, reason: 'bad-padding', sequence: 1 });
    expect(inbound.replay.highest).toBe(1);
    // Pad Length beyond the data.
    const over = Uint8Array.from([1, 2, 200, 135]);
    const sealed = gcmEncrypt(
      out.encryptionKey,
      iv,
      emitEsp({ spi: 0x1001, sequence: 2, protectedData: new Uint8Array(0), icv: new Uint8Array(0) }),
      over,
    );
    const esp2 = emitEsp({
      spi: 0x1001,
      sequence: 2,
      protectedData: Uint8Array.from([...iv, ...sealed.ciphertext]),
      icv: sealed.tag,
    });
    expect(open(sad, esp2)).toMatchObject({ ok: false, reason: 'bad-padding' });
  });

  it.each(CASES)('%s (%i-byte key): never throws on random or mutated input', (algorithm, keyLength) => {
    const { out, sad } = pair(algorithm, keyLength, { replayWindow: 0 });
    const good = seal(out, bytes(16, 1), 135);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }).map((b) => {
            const c = b.slice();
            if (c.length >= 4) c.set([0, 0, 0x10, 0x01]);
            return c;
          }),
          fc
            .record({ at: fc.nat(), len: fc.nat(), v: fc.integer({ min: 1, max: 255 }) })
            .map(({ at, len, v }) => {
              const c = good.slice(0, Math.max(0, good.length - (len % 8)));
              if (c.length > 4) c[4 + (at % (c.length - 4))]! ^= v;
              return c;
            }),
        ),
        (input) => {
          const r = open(sad, input);
          if (r.ok) expect(input).toEqual(good);
          else expect(['malformed', 'unknown-spi', 'replay', 'bad-icv', 'bad-padding']).toContain(r.reason);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('whole signalling packets', () => {
  const mn = (algorithm: EspAlgorithm, keyLength: number) => {
    const mnToHa = pair(algorithm, keyLength, { spi: 0x1001 });
    const haToMn = pair(algorithm, keyLength, { spi: 0x1002 });
    return { mnToHa, haToMn };
  };

  it.each(CASES)(
    '%s (%i-byte key): BU with a Home Address option, BA with a Type 2 RH, BU from home',
    (algorithm, keyLength) => {
      const { mnToHa, haToMn } = mn(algorithm, keyLength);
      const cases = [
        {
          fields: { src: COA, dst: HA, homeAddress: HOA },
          msg: bu,
          pair: mnToHa,
          exts: ['destinationOptions'],
        },
        {
          fields: { src: HA, dst: COA, routingHomeAddress: HOA },
          msg: ba,
          pair: haToMn,
          exts: ['routingType2'],
        },
        { fields: { src: HOA, dst: HA }, msg: bu, pair: mnToHa, exts: [] },
        { fields: { src: HA, dst: HOA }, msg: ba, pair: haToMn, exts: [] },
      ];
      cases.forEach((c, i) => {
        const pkt = sealMobilityPacket(c.fields, c.msg, c.pair.out);
        const p = parseIpv6(pkt);
        if (!p.ok) throw new Error(p.error.message);
        expect(p.value.extensions.map((e) => e.kind)).toEqual(c.exts);
        expect(p.value.protocol).toBe(50);

        const r = openMobilityPacket(c.pair.sad, pkt);
        if (!r.ok) throw new Error(`${i}: ${r.reason}: ${r.detail}`);
        expect(r.message).toEqual(c.msg);
        expect(r.sa).toBe(c.pair.inbound);
        expect(r.homeAddress).toBe(HOA);
        expect(r.sa.homeAddress).toBe(r.homeAddress);
        // The decrypted MH is byte for byte the plain codec's MH (same home-address pseudo-header).
        const plain = emitMobilityPacket(c.fields, c.msg);
        const opened = open(pair(algorithm, keyLength, { spi: c.pair.out.spi }).sad, p.value.payload);
        if (!opened.ok) throw new Error(opened.reason);
        expect(opened.payload).toEqual(plain.subarray(plain.length - opened.payload.length));
      });
    },
  );

  it('refuses to seal under an SA for another home address', () => {
    const { out } = pair('aes-gcm-16', 20, { homeAddress: HOA2 });
    expect(() => sealMobilityPacket({ src: COA, dst: HA, homeAddress: HOA }, bu, out)).toThrow(
      `esp: SA out 0x00001001 aes-gcm-16 for 2001:db8:1::200 does not belong to this bindingUpdate's home address 2001:db8:1::100`,
    );
  });

  it("hands the HA the SA so it can see a BU for one HoA under another HoA's SA", () => {
    const { out, sad } = pair('aes-gcm-16', 20, { homeAddress: HOA2 });
    const fields: Ipv6Fields = {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 64,
      src: COA,
      dst: HA,
      extensions: [{ kind: 'destinationOptions', options: [{ kind: 'homeAddress', address: HOA }] }],
      protocol: 50,
    };
    const pkt = emitIpv6(fields, seal(out, emitMobilityHeader(bu, upperLayerPseudoHeader(fields)), 135));
    const r = openMobilityPacket(sad, pkt);
    if (!r.ok) throw new Error(r.reason);
    expect(r.homeAddress).toBe(HOA);
    expect(r.sa.homeAddress).toBe(HOA2);
  });

  it('reports not-esp, not-mobility, a bad MH checksum and a bad IPv6 header', () => {
    const { out, sad } = pair('aes-gcm-16', 20);
    expect(openMobilityPacket(sad, emitMobilityPacket({ src: HOA, dst: HA }, bu))).toMatchObject({
      ok: false,
      reason: 'not-esp',
    });
    const fields: Ipv6Fields = {
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      hopLimit: 64,
      src: COA,
      dst: HA,
      extensions: [],
      protocol: 50,
    };
    expect(openMobilityPacket(sad, emitIpv6(fields, seal(out, bytes(8, 0), 59)))).toMatchObject({
      ok: false,
      reason: 'not-mobility',
      sequence: 1,
    });
    // MH checksummed over the care-of address although the packet claims HoA in a HAO.
    const withHao: Ipv6Fields = {
      ...fields,
      extensions: [{ kind: 'destinationOptions', options: [{ kind: 'homeAddress', address: HOA }] }],
    };
    const wrongSum = emitMobilityHeader(bu, upperLayerPseudoHeader(fields));
    const r = openMobilityPacket(sad, emitIpv6(withHao, seal(out, wrongSum, 135)));
    expect(r).toMatchObject({
      ok: false,
      reason: 'bad-mobility-header',
      wireError: { code: 'bad-checksum' },
    });
    expect(openMobilityPacket(sad, new Uint8Array(10))).toMatchObject({ ok: false, reason: 'malformed' });
    const espFail = openMobilityPacket(
      new SecurityAssociationDatabase(),
      emitIpv6(fields, seal(out, bytes(8, 0), 135)),
    );
    expect(espFail).toMatchObject({ ok: false, reason: 'unknown-spi', ipv6: { src: COA } });
  });

  it('packetHomeAddress reads the HAO for messages from the MN and the RH2 for messages to it', () => {
    const hao = {
      src: COA,
      dst: HA,
      extensions: [
        { kind: 'destinationOptions' as const, options: [{ kind: 'homeAddress' as const, address: HOA }] },
      ],
    };
    const rh2 = { src: HA, dst: COA, extensions: [{ kind: 'routingType2' as const, homeAddress: HOA }] };
    expect(packetHomeAddress(hao, bu)).toBe(HOA);
    expect(packetHomeAddress(rh2, ba)).toBe(HOA);
    expect(packetHomeAddress({ src: HOA, dst: HA, extensions: [] }, bu)).toBe(HOA);
    expect(packetHomeAddress({ src: HA, dst: HOA, extensions: [] }, ba)).toBe(HOA);
  });
});
