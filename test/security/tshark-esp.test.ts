/**
 * tshark as an independent oracle for ESP (tshark-oracle.md): BUs and BAs sealed by src/security
 * are written to a pcap and decrypted by Wireshark's ESP dissector (its own AES-GCM, AES-CBC and
 * HMAC code, via libgcrypt) with the matching `uat:esp_sa` entries. tshark must verify the ICV,
 * find the Mobility Header inside with the right type and sequence number, and the decrypted MH
 * must be byte for byte the MH dsmip6 put in. With a wrong key tshark must not find the MH, and a
 * corrupted ICV must set `esp.icv_bad`.
 *
 * tshark 4.0.17 facts these tests rely on (and document):
 * - The UAT source of an SA for a packet with a Home Address option is the home address, not the
 *   IPv6 source (the care-of address); likewise the destination of an SA for a packet with a Type 2
 *   Routing Header is the home address in it, not the IPv6 destination.
 * - AES-GCM with a wrong key: `esp.icv_bad` 1 and no `mipv6` layer (GCM's tag covers the key).
 *   AES-CBC with a wrong encryption key but the right HMAC key: `esp.icv_good` 1 and no `mipv6`.
 *   But tshark dissects the wrongly decrypted bytes anyway, as whatever protocol their last byte
 *   (the garbage Next Header) names when the garbage Pad Length fits; MH is registered on 135 and
 *   62, so about 1 packet in 1,000 shows a malformed `mipv6` layer, and a dissector exception
 *   there (or e.g. as AH) leaves the `esp.icv_*` fields out. So "no mipv6" is asserted for every
 *   packet whose wrong-key decryption, computed here, tshark would not dissect as an MH.
 *   A corrupted ICV with the right keys: `esp.icv_bad` 1, the MH is still decoded, no expert item.
 */

import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EspAlgorithm } from '../../src/security/algorithms.js';
import { ALGORITHMS } from '../../src/security/algorithms.js';
import { type OpenMobilityResult, openMobilityPacket, sealMobilityPacket } from '../../src/security/esp.js';
import { type SaConfig, SecurityAssociation, SecurityAssociationDatabase } from '../../src/security/sa.js';
import { type Ipv6Address, ipv4, ipv6 } from '../../src/wire/address.js';
import { parseIpv6, upperLayerPseudoHeader } from '../../src/wire/ipv6.js';
import { baFlags, buFlags, emitMobilityHeader, type MobilityMessage } from '../../src/wire/mh.js';
import type { MobilityOption } from '../../src/wire/mh-options.js';
import { type MobilityPacketFields, mobilityExtensions } from '../../src/wire/signalling.js';
import { decapsulate, encapsulate } from '../../src/wire/tunnel.js';
import {
  type EspSa,
  expertVerdict,
  fieldValue,
  fieldValues,
  layer,
  layers,
  protocols,
  rawFields,
  type TsharkPacket,
  tsharkDecode,
} from '../support/tshark.js';

const HA = ipv6('2001:db8:1::1');
const HOA = ipv6('2001:db8:1::100');
const COA = ipv6('2001:db8:2::100');
const HA4 = ipv4('203.0.113.1');
const NAT4 = ipv4('198.51.100.7');
const COA4 = ipv4('192.168.1.20');
const HOA4 = ipv4('192.0.2.10');

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const colonHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
const keyBytes = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (seed + i * 13) & 0xff);

interface Suite {
  readonly name: string;
  readonly algorithm: EspAlgorithm;
  readonly keyLength: number;
  /** MN -> HA (BU) and HA -> MN (BA) SPIs. */
  readonly spiUp: number;
  readonly spiDown: number;
}

const SUITES: Suite[] = [
  {
    name: 'AES-GCM-128 (16-octet ICV)',
    algorithm: 'aes-gcm-16',
    keyLength: 20,
    spiUp: 0x2001,
    spiDown: 0x2002,
  },
  {
    name: 'AES-GCM-256 (16-octet ICV)',
    algorithm: 'aes-gcm-16',
    keyLength: 36,
    spiUp: 0x2101,
    spiDown: 0x2102,
  },
  {
    name: 'AES-CBC-128 + HMAC-SHA-256-128',
    algorithm: 'aes-cbc-hmac-sha256',
    keyLength: 16,
    spiUp: 0x3001,
    spiDown: 0x3002,
  },
  {
    name: 'AES-CBC-256 + HMAC-SHA-256-128',
    algorithm: 'aes-cbc-hmac-sha256',
    keyLength: 32,
    spiUp: 0x3101,
    spiDown: 0x3102,
  },
];

const bu = (sequence: number, options: readonly MobilityOption[]): MobilityMessage => ({
  kind: 'bindingUpdate',
  sequence,
  flags: buFlags({ A: true, H: true, K: true }),
  lifetime: 3600,
  options,
});
const ba = (sequence: number): MobilityMessage => ({
  kind: 'bindingAcknowledgement',
  status: 0,
  flags: baFlags({ K: true }),
  sequence,
  lifetime: 3600,
  options: [],
});

function configFor(s: Suite, spi: number, direction: 'in' | 'out'): SaConfig {
  return {
    spi,
    direction,
    algorithm: s.algorithm,
    encryptionKey: keyBytes(s.keyLength, spi & 0xff),
    ...(s.algorithm === 'aes-cbc-hmac-sha256' ? { authenticationKey: keyBytes(32, (spi >> 4) & 0xff) } : {}),
    homeAddress: HOA,
  };
}

/** The tshark UAT entry for `sa` (src/dst are the home-address selectors), keys overridable. */
function tsharkSa(
  sa: SecurityAssociation,
  src: Ipv6Address,
  dst: Ipv6Address,
  keys: { encryptionKey?: Uint8Array; authenticationKey?: Uint8Array } = {},
): EspSa {
  const spec = ALGORITHMS[sa.algorithm];
  const auth = keys.authenticationKey ?? sa.authenticationKey;
  return {
    protocol: 'IPv6',
    src,
    dst,
    spi: sa.spi,
    encryption: spec.tsharkEncryption,
    encryptionKey: `0x${toHex(keys.encryptionKey ?? sa.encryptionKey)}`,
    authentication: spec.tsharkAuthentication,
    authenticationKey: auth ? `0x${toHex(auth)}` : '',
  };
}

interface Sample {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly chain: string;
  readonly message: MobilityMessage;
  readonly fields: MobilityPacketFields;
  readonly spi: number;
  readonly espSequence: number;
  readonly udp: boolean;
  /** The IPv6 packet (for the UDP sample, the inner one) and how to put it back on the wire. */
  readonly ipv6: Uint8Array;
  readonly wrap: (ipv6: Uint8Array) => Uint8Array;
}

const toHa = (inner: Uint8Array): Uint8Array =>
  encapsulate({ family: 4, src: NAT4, dst: HA4, udp: { srcPort: 40000, dstPort: 4191 } }, inner);
const asIs = (b: Uint8Array): Uint8Array => b;

function sample(s: Omit<Sample, 'bytes'>): Sample {
  return { ...s, bytes: s.wrap(s.ipv6) };
}

/** BU with HAO, BA with RH2, and a UDP-encapsulated BU (IPv4/UDP 4191/IPv6/ESP/MH), per suite. */
function samplesFor(s: Suite): { samples: Sample[]; mnOut: SecurityAssociation; haOut: SecurityAssociation } {
  const mnOut = new SecurityAssociation(configFor(s, s.spiUp, 'out'));
  const haOut = new SecurityAssociation(configFor(s, s.spiDown, 'out'));
  const buHao = bu(0x0102, [{ kind: 'alternateCareOfAddress', address: COA }]);
  const buUdp = bu(0x0103, [
    { kind: 'ipv4HomeAddress', prefixLength: 32, p: false, address: HOA4 },
    { kind: 'ipv4CareOfAddress', address: COA4 },
  ]);
  const baRh2 = ba(0x0102);
  const fBu: MobilityPacketFields = { src: COA, dst: HA, homeAddress: HOA };
  const fBa: MobilityPacketFields = { src: HA, dst: COA, routingHomeAddress: HOA };
  const fUdp: MobilityPacketFields = { src: HOA, dst: HA };
  return {
    mnOut,
    haOut,
    samples: [
      sample({
        name: 'BU from the care-of address with a Home Address option',
        ipv6: sealMobilityPacket(fBu, buHao, mnOut),
        wrap: asIs,
        chain: 'raw:ipv6:ipv6.dstopts:esp:mipv6',
        message: buHao,
        fields: fBu,
        spi: s.spiUp,
        espSequence: 1,
        udp: false,
      }),
      sample({
        name: 'BA to the care-of address with a Type 2 Routing Header',
        ipv6: sealMobilityPacket(fBa, baRh2, haOut),
        wrap: asIs,
        chain: 'raw:ipv6:ipv6.routing:esp:mipv6',
        message: baRh2,
        fields: fBa,
        spi: s.spiDown,
        espSequence: 1,
        udp: false,
      }),
      sample({
        name: 'BU UDP-encapsulated in IPv4 from behind a NAT (RFC 5555 §4.2)',
        ipv6: sealMobilityPacket(fUdp, buUdp, mnOut),
        wrap: toHa,
        chain: 'raw:ip:udp:ip:ipv6:esp:mipv6',
        message: buUdp,
        fields: fUdp,
        spi: s.spiUp,
        espSequence: 2,
        udp: true,
      }),
    ],
  };
}

/** The MH dsmip6 sealed: emitted over the home-address pseudo-header, as sealMobilityPacket does. */
function expectedMh(sample: Sample): Uint8Array {
  const f = sample.fields;
  return emitMobilityHeader(
    sample.message,
    upperLayerPseudoHeader({ src: f.src, dst: f.dst, extensions: mobilityExtensions(f) }),
  );
}

/** dsmip6's own receive path on the same bytes (decapsulating the UDP one first). */
function dsmip6Open(
  sad: SecurityAssociationDatabase,
  sample: Sample,
  bytes = sample.bytes,
): OpenMobilityResult {
  if (!sample.udp) return openMobilityPacket(sad, bytes);
  const t = decapsulate(bytes);
  if (!t.ok) throw new Error(t.error.message);
  return openMobilityPacket(sad, t.value.inner);
}

const inboundSad = (s: Suite): SecurityAssociationDatabase =>
  SecurityAssociationDatabase.from([configFor(s, s.spiUp, 'in'), configFor(s, s.spiDown, 'in')]);

const corruptIcv = (b: Uint8Array): Uint8Array => {
  const c = b.slice();
  c[c.length - 1]! ^= 0x01;
  return c;
};

const flipKey = (k: Uint8Array, at: number): Uint8Array => {
  const c = k.slice();
  c[at]! ^= 0xff;
  return c;
};

/**
 * Whether tshark, given the wrong `key`, will still hand the (garbage) decryption to its Mobile
 * IPv6 dissector. Checked against tshark 4.0.17 on 400 packets: it dissects the garbage as the
 * protocol its last byte (Next Header) names whenever Pad Length + 2 fits in the decrypted data
 * (the padding contents are not checked), and its MH dissector is registered on both 135 and 62
 * (the number early MIPv6 drafts used). The decryption here is node:crypto's, with no integrity
 * check, as tshark does it.
 */
function tsharkSeesMhInGarbage(algorithm: EspAlgorithm, ipv6Packet: Uint8Array, key: Uint8Array): boolean {
  const p = parseIpv6(ipv6Packet);
  if (!p.ok) throw new Error(p.error.message);
  const esp = p.value.payload;
  let plain: Buffer;
  if (algorithm === 'aes-gcm-16') {
    const aesKey = key.subarray(0, key.length - 4);
    const nonce = Buffer.concat([key.subarray(key.length - 4), esp.subarray(8, 16)]);
    // GCM without final(): plain CTR decryption, the tag never checked.
    const d = createDecipheriv(`aes-${aesKey.length * 8}-gcm` as 'aes-128-gcm', aesKey, nonce);
    plain = d.update(esp.subarray(16, esp.length - 16));
  } else {
    const d = createDecipheriv(`aes-${key.length * 8}-cbc`, key, esp.subarray(8, 24));
    d.setAutoPadding(false);
    plain = Buffer.concat([d.update(esp.subarray(24, esp.length - 16)), d.final()]);
  }
  const nextHeader = plain[plain.length - 1]!;
  const padLength = plain[plain.length - 2]!;
  return (nextHeader === 135 || nextHeader === 62) && padLength + 2 <= plain.length;
}

describe.each(SUITES)('tshark decrypts $name', (suite) => {
  const { samples, mnOut, haOut } = samplesFor(suite);
  const sas = [tsharkSa(mnOut, HOA, HA), tsharkSa(haOut, HA, HOA)];
  const decoded: TsharkPacket[] = tsharkDecode(
    samples.map((s) => s.bytes),
    { espSas: sas },
  );

  it.each(samples.map((s, i) => [s.name, i] as const))('%s', (_name, i) => {
    const sample = samples[i]!;
    const pkt = decoded[i]!;
    expect(protocols(pkt)).toBe(sample.chain);
    const esp = layer(pkt, 'esp');
    expect(Number(fieldValue(esp, 'esp.spi'))).toBe(sample.spi);
    expect(Number(fieldValue(esp, 'esp.sequence'))).toBe(sample.espSequence);
    expect(fieldValue(esp, 'esp.icv_good')).toBe('1');
    expect(fieldValue(esp, 'esp.icv_bad')).toBe('0');
    expect(Number(fieldValue(esp, 'esp.protocol'))).toBe(135);

    const mh = expectedMh(sample);
    const mip6 = layer(pkt, 'mipv6');
    expect(Number(fieldValue(mip6, 'mip6.mhtype'))).toBe(sample.message.kind === 'bindingUpdate' ? 5 : 6);
    const seqField = sample.message.kind === 'bindingUpdate' ? 'mip6.bu.seqnr' : 'mip6.ba.seqnr';
    expect(Number(fieldValue(mip6, seqField))).toBe((sample.message as { sequence: number }).sequence);
    // tshark's decrypted data = our MH + the trailer (padding 1, 2, 3, ..., Pad Length, Next Header).
    expect(fieldValue(esp, 'esp.contained_data')).toBe(colonHex(mh));
    const padLength = Number(fieldValue(esp, 'esp.pad_len'));
    const unit = suite.algorithm === 'aes-gcm-16' ? 4 : 16;
    expect((mh.length + padLength + 2) % unit).toBe(0);
    expect(padLength).toBeLessThan(unit);
    expect(fieldValues(esp, 'esp.pad')).toEqual(
      padLength ? [colonHex(Uint8Array.from({ length: padLength }, (_, k) => k + 1))] : [],
    );
    expect(expertVerdict(pkt)).toMatchObject({ flagged: false });

    // dsmip6's receiver agrees with tshark on the same bytes.
    const r = dsmip6Open(inboundSad(suite), sample);
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    expect(r.message).toEqual(sample.message);
    expect(r.sequence).toBe(sample.espSequence);
    expect(r.sa.homeAddress).toBe(r.homeAddress);
  });

  it('shows no Mobility Header with a wrong encryption key', () => {
    const wrongKey = (sa: SecurityAssociation): Uint8Array => flipKey(sa.encryptionKey, 0);
    const wrong = [
      tsharkSa(mnOut, HOA, HA, { encryptionKey: wrongKey(mnOut) }),
      tsharkSa(haOut, HA, HOA, { encryptionKey: wrongKey(haOut) }),
    ];
    const pkts = tsharkDecode(
      samples.map((s) => s.bytes),
      { espSas: wrong },
    );
    let strict = 0;
    pkts.forEach((pkt, i) => {
      const sample = samples[i]!;
      const key = wrongKey(sample.spi === mnOut.spi ? mnOut : haOut);
      expect(rawFields(pkt.layers, 'mipv6').map((r) => r.hex)).not.toContain(toHex(expectedMh(sample)));
      // About 1 packet in 1,000 decrypts to garbage that tshark dissects as a (malformed) MH.
      if (!tsharkSeesMhInGarbage(suite.algorithm, sample.ipv6, key)) {
        expect(layers(pkt, 'mipv6')).toEqual([]);
        strict++;
      }
      // GCM's tag depends on the key; CBC's HMAC key was right, so only decryption failed. (An
      // exception while dissecting the garbage, e.g. as AH, leaves the ICV fields out.)
      if (!expertVerdict(pkt).malformed) {
        const esp = layer(pkt, 'esp');
        expect(fieldValue(esp, 'esp.icv_bad')).toBe(suite.algorithm === 'aes-gcm-16' ? '1' : '0');
      }
    });
    expect(strict).toBeGreaterThan(0);
  });

  if (suite.algorithm === 'aes-gcm-16') {
    it('shows no Mobility Header with a wrong salt (the last 4 key bytes)', () => {
      const k = flipKey(mnOut.encryptionKey, mnOut.encryptionKey.length - 1);
      const sample = samples[0]!;
      const pkt = tsharkDecode([sample.bytes], {
        espSas: [tsharkSa(mnOut, HOA, HA, { encryptionKey: k })],
      })[0]!;
      expect(rawFields(pkt.layers, 'mipv6').map((r) => r.hex)).not.toContain(toHex(expectedMh(sample)));
      if (!tsharkSeesMhInGarbage(suite.algorithm, sample.ipv6, k)) expect(layers(pkt, 'mipv6')).toEqual([]);
      if (!expertVerdict(pkt).malformed) expect(fieldValue(layer(pkt, 'esp'), 'esp.icv_bad')).toBe('1');
    });
  } else {
    it('sets esp.icv_bad with a wrong HMAC key', () => {
      const pkt = tsharkDecode([samples[0]!.bytes], {
        espSas: [tsharkSa(mnOut, HOA, HA, { authenticationKey: flipKey(mnOut.authenticationKey!, 31) })],
      })[0]!;
      expect(fieldValue(layer(pkt, 'esp'), 'esp.icv_bad')).toBe('1');
    });
  }

  it('sets esp.icv_bad for a corrupted ICV, as dsmip6 reports bad-icv', () => {
    // The ICV is the last thing in the IPv6 packet; re-wrapping keeps the outer UDP checksum valid.
    const bad = samples.map((s) => s.wrap(corruptIcv(s.ipv6)));
    const pkts = tsharkDecode(bad, { espSas: sas });
    pkts.forEach((pkt, i) => {
      const esp = layer(pkt, 'esp');
      expect(fieldValue(esp, 'esp.icv_bad')).toBe('1');
      expect(fieldValue(esp, 'esp.icv_good')).toBe('0');
      const r = dsmip6Open(inboundSad(suite), samples[i]!, bad[i]!);
      expect(r).toMatchObject({ ok: false, reason: 'bad-icv' });
    });
  });
});

describe('tshark selects ESP SAs by home address', () => {
  const suite = SUITES[0]!;
  const { samples, mnOut, haOut } = samplesFor(suite);
  const [buHao, baRh2] = [samples[0]!, samples[1]!];

  it('uses the Home Address option as the source and the Type 2 RH address as the destination', () => {
    const byCareOf = tsharkDecode([buHao.bytes, baRh2.bytes], {
      espSas: [tsharkSa(mnOut, COA, HA), tsharkSa(haOut, HA, COA)],
    });
    for (const pkt of byCareOf) expect(layers(pkt, 'mipv6')).toEqual([]);
    const byHome = tsharkDecode([buHao.bytes, baRh2.bytes], {
      espSas: [tsharkSa(mnOut, HOA, HA), tsharkSa(haOut, HA, HOA)],
    });
    for (const pkt of byHome) expect(layers(pkt, 'mipv6')).toHaveLength(1);
    // The raw MH bytes tshark shows (under -x) are the decrypted ones.
    expect(rawFields(byHome[0]!.layers, 'mipv6').map((r) => r.hex)).toEqual([toHex(expectedMh(buHao))]);
  });
});
