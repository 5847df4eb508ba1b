/**
 * ESP in transport mode for Mobile IPv6 signalling (RFC 4303, RFC 3776 §3, RFC 4877 §4): `seal`
 * protects an upper-layer payload (the Mobility Header) under an outbound SA, `open` checks and
 * decrypts one under the inbound SA its SPI selects. `open` never throws: any input gives the
 * payload or a typed reason, so the caller can count it and drop the packet.
 *
 * Protected layouts (after the 8-byte SPI + Sequence Number header):
 * - aes-gcm-16 (RFC 4106 §3): 8-byte IV | ciphertext | 16-byte ICV; AAD = SPI || Sequence
 *   (32-bit sequence numbers, §5); nonce = salt || IV.
 * - aes-cbc-hmac-sha256 (RFC 3602 §3, RFC 4868 §2): 16-byte random IV | ciphertext | ICV, where the
 *   ICV is HMAC-SHA-256 over SPI..end of ciphertext, truncated to 16 bytes (RFC 4303 §3.3.4).
 */

import { randomBytes } from 'node:crypto';
import type { Ipv6Address } from '../wire/address.js';
import { IpProto } from '../wire/constants.js';
import type { WireError } from '../wire/error.js';
import { appendEspTrailer, ESP_HEADER, emitEsp, parseEsp, parseEspTrailer } from '../wire/esp.js';
import {
  emitIpv6,
  homeAddressOption,
  type Ipv6Fields,
  type Ipv6Packet,
  parseIpv6,
  routingHomeAddress,
  upperLayerPseudoHeader,
} from '../wire/ipv6.js';
import { emitMobilityHeader, type MobilityMessage, parseMobilityHeader } from '../wire/mh.js';
import { type MobilityPacketFields, mobilityExtensions } from '../wire/signalling.js';
import { cbcDecrypt, cbcEncrypt, gcmDecrypt, gcmEncrypt, hmacSha256_128, icvEqual } from './algorithms.js';
import type { SecurityAssociation, SecurityAssociationDatabase } from './sa.js';

export type OpenFailureReason =
  /** Too short, SPI 0-255, or protected data of an impossible length for the SA's cipher. */
  | 'malformed'
  /** No inbound SA has this SPI (RFC 4303 §3.4.2: discard, auditable event). */
  | 'unknown-spi'
  /** Sequence number 0, already received, or left of the anti-replay window (§3.4.3). */
  | 'replay'
  /** Integrity check failed: wrong key, or anything between SPI and ICV altered (§3.4.4). */
  | 'bad-icv'
  /** Authentic, but the trailer's padding is not 1, 2, 3, ... or Pad Length overruns (§2.4). */
  | 'bad-padding'
  /** openMobilityPacket: the IPv6 packet does not carry ESP after its extension headers. */
  | 'not-esp'
  /** openMobilityPacket: ESP's Next Header is not 135 (Mobility Header). */
  | 'not-mobility'
  /** openMobilityPacket: the decrypted Mobility Header does not parse or its checksum is wrong. */
  | 'bad-mobility-header';

export interface OpenFailure {
  readonly ok: false;
  readonly reason: OpenFailureReason;
  /** Human-readable: what was found and what was expected. */
  readonly detail: string;
  readonly spi?: number;
  readonly sequence?: number;
  /** The SA, once the SPI selected one (for per-SA counters). */
  readonly sa?: SecurityAssociation;
  /** The codec's error, when a parser refused the bytes. */
  readonly wireError?: WireError;
}

export interface Opened {
  readonly ok: true;
  readonly sa: SecurityAssociation;
  /** The decrypted upper-layer bytes (trailer removed). */
  readonly payload: Uint8Array;
  /** ESP Next Header: 135 for the Mobility Header; 59 is a dummy packet to drop (RFC 4303 §2.6). */
  readonly nextHeader: number;
  readonly sequence: number;
}

export type OpenResult = Opened | OpenFailure;

const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** AES-GCM explicit IV: a 64-bit counter, ivBase + sequence. The sequence never repeats in an SA. */
function gcmIv(sa: SecurityAssociation, sequence: number): Uint8Array {
  const iv = new Uint8Array(8);
  new DataView(iv.buffer).setBigUint64(0, (sa.ivBase + BigInt(sequence)) & 0xffffffffffffffffn);
  return iv;
}

/**
 * Protects `payload` (e.g. a Mobility Header, `nextHeader` 135) under the outbound SA `sa` and
 * returns ESP header + protected data + ICV, to follow the IPv6 header and its extension headers.
 * Throws when `sa` is not outbound or its sequence numbers are used up (SequenceExhaustedError).
 */
export function seal(sa: SecurityAssociation, payload: Uint8Array, nextHeader: number): Uint8Array {
  if (sa.direction !== 'out') throw new Error(`esp: cannot seal with inbound SA ${sa}`);
  const sequence = sa.sequence.next();
  const { ivLength, icvLength, blockSize } = sa.spec;
  const plain = appendEspTrailer(payload, nextHeader, blockSize);
  if (sa.algorithm === 'aes-gcm-16') {
    const iv = gcmIv(sa, sequence);
    const aad = emitEsp({ spi: sa.spi, sequence, protectedData: new Uint8Array(0), icv: new Uint8Array(0) });
    const { ciphertext, tag } = gcmEncrypt(sa.encryptionKey, iv, aad, plain);
    const protectedData = new Uint8Array(ivLength + ciphertext.length);
    protectedData.set(iv, 0);
    protectedData.set(ciphertext, ivLength);
    return emitEsp({ spi: sa.spi, sequence, protectedData, icv: tag });
  }
  // RFC 3602 §3: the CBC IV MUST be unpredictable, hence random rather than a counter.
  const iv = randomBytes(ivLength);
  const ciphertext = cbcEncrypt(sa.encryptionKey, iv, plain);
  const protectedData = new Uint8Array(ivLength + ciphertext.length);
  protectedData.set(iv, 0);
  protectedData.set(ciphertext, ivLength);
  const packet = emitEsp({ spi: sa.spi, sequence, protectedData, icv: new Uint8Array(icvLength) });
  const authenticated = packet.subarray(0, packet.length - icvLength);
  packet.set(hmacSha256_128(sa.authenticationKey!, authenticated), packet.length - icvLength);
  return packet;
}

/**
 * Checks and decrypts an ESP packet (`esp` starts at the SPI) with the inbound SA its SPI selects.
 * Order per RFC 4303 §3.4: SA lookup, sequence check, ICV, then the window is updated, then the
 * trailer is read. Never throws.
 */
export function open(sad: SecurityAssociationDatabase, esp: Uint8Array): OpenResult {
  if (esp.length < ESP_HEADER) {
    return { ok: false, reason: 'malformed', detail: `ESP needs at least 8 bytes, got ${esp.length}` };
  }
  const view = new DataView(esp.buffer, esp.byteOffset, esp.byteLength);
  const spi = view.getUint32(0);
  const sequence = view.getUint32(4);
  const sa = sad.inbound(spi);
  if (!sa)
    return { ok: false, reason: 'unknown-spi', detail: `no inbound SA has SPI ${hex8(spi)}`, spi, sequence };
  const failure = (reason: OpenFailureReason, detail: string, wireError?: WireError): OpenFailure => ({
    ok: false,
    reason,
    detail,
    spi,
    sequence,
    sa,
    ...(wireError ? { wireError } : {}),
  });

  const { ivLength, icvLength, blockSize } = sa.spec;
  const parsed = parseEsp(esp, icvLength);
  if (!parsed.ok) return failure('malformed', parsed.error.message, parsed.error);
  const { protectedData, icv } = parsed.value;
  const cipherLength = protectedData.length - ivLength;
  // RFC 4303 §2.4: the ciphertext ends 4-aligned and holds at least Pad Length + Next Header;
  // CBC ciphertext is whole blocks.
  const unit = Math.max(4, blockSize);
  if (cipherLength < 2 || cipherLength % unit !== 0) {
    return failure(
      'malformed',
      `${sa.algorithm} ciphertext is ${cipherLength} bytes, expected a positive multiple of ${unit} after the ${ivLength}-byte IV`,
    );
  }

  const replay = sa.replay.check(sequence);
  if (replay !== 'ok') {
    const why =
      replay === 'zero'
        ? 'sequence number 0 is never sent (RFC 4303 §3.3.3)'
        : replay === 'duplicate'
          ? `sequence number ${sequence} was received already`
          : `sequence number ${sequence} is left of the window (highest ${sa.replay.highest}, window ${sa.replay.size})`;
    return failure('replay', why);
  }

  const iv = protectedData.subarray(0, ivLength);
  const ciphertext = protectedData.subarray(ivLength);
  let plain: Uint8Array | undefined;
  if (sa.algorithm === 'aes-gcm-16') {
    plain = gcmDecrypt(sa.encryptionKey, iv, esp.subarray(0, ESP_HEADER), ciphertext, icv);
  } else {
    const want = hmacSha256_128(sa.authenticationKey!, esp.subarray(0, esp.length - icvLength));
    // Decrypt only what authenticated (RFC 4303 §3.4.4.1: ICV first).
    plain = icvEqual(want, icv) ? cbcDecrypt(sa.encryptionKey, iv, ciphertext) : undefined;
  }
  if (!plain) return failure('bad-icv', `integrity check failed for SA ${sa}, sequence ${sequence}`);

  // Only an authentic packet may move the window (RFC 4303 §3.4.3).
  sa.replay.accept(sequence);

  const trailer = parseEspTrailer(plain);
  if (!trailer.ok) return failure('bad-padding', trailer.error.message, trailer.error);
  return { ok: true, sa, payload: trailer.value.payload, nextHeader: trailer.value.nextHeader, sequence };
}

/**
 * The home address a signalling packet's SA must belong to (RFC 4877 §4.2; selectors per RFC 3776
 * §3): for messages from the MN (BU, HoTI) the Home Address option's address, else the source;
 * for messages to the MN the Type 2 Routing Header's address, else the destination.
 */
export function packetHomeAddress(
  ipv6: Pick<Ipv6Packet, 'src' | 'dst' | 'extensions'>,
  message: MobilityMessage,
): Ipv6Address {
  const fromMobileNode = message.kind === 'bindingUpdate' || message.kind === 'homeTestInit';
  return fromMobileNode ? (homeAddressOption(ipv6) ?? ipv6.src) : (routingHomeAddress(ipv6) ?? ipv6.dst);
}

/**
 * A whole signalling packet: IPv6 / [Type 2 RH] / [Destination Options with HAO] / ESP / MH
 * (RFC 3776 §3.1, digest §7.2). The MH checksum uses the home-address pseudo-header (RFC 6275
 * §6.1.1), as for plain signalling. Throws when `sa` does not belong to the packet's home address
 * (it would be refused by the peer, RFC 4877 §4.2) or cannot seal.
 */
export function sealMobilityPacket(
  fields: MobilityPacketFields,
  message: MobilityMessage,
  sa: SecurityAssociation,
): Uint8Array {
  const ipFields: Ipv6Fields = {
    dscp: 0,
    ecn: 0,
    flowLabel: 0,
    hopLimit: fields.hopLimit ?? 64,
    src: fields.src,
    dst: fields.dst,
    extensions: mobilityExtensions(fields),
    protocol: IpProto.ESP,
  };
  const hoa = packetHomeAddress(ipFields, message);
  if (hoa !== sa.homeAddress) {
    throw new Error(`esp: SA ${sa} does not belong to this ${message.kind}'s home address ${hoa}`);
  }
  const mh = emitMobilityHeader(message, upperLayerPseudoHeader(ipFields));
  return emitIpv6(ipFields, seal(sa, mh, IpProto.Mobility));
}

export interface OpenedMobilityPacket {
  readonly ok: true;
  /** The outer IPv6 record; its `payload` is still the ESP bytes. */
  readonly ipv6: Ipv6Packet;
  readonly sa: SecurityAssociation;
  readonly sequence: number;
  readonly message: MobilityMessage;
  /** `packetHomeAddress(ipv6, message)`: compare with `sa.homeAddress` (RFC 6275 §5.1). */
  readonly homeAddress: Ipv6Address;
}

export type OpenMobilityResult = OpenedMobilityPacket | (OpenFailure & { readonly ipv6?: Ipv6Packet });

/**
 * Parses an IPv6 packet carrying ESP-protected signalling, opens the ESP and parses the Mobility
 * Header (checksum over the home-address pseudo-header). Never throws. Checking that
 * `sa.homeAddress` equals `homeAddress` is the caller's (the HA registrar's) decision.
 */
export function openMobilityPacket(sad: SecurityAssociationDatabase, packet: Uint8Array): OpenMobilityResult {
  const p = parseIpv6(packet);
  if (!p.ok) return { ok: false, reason: 'malformed', detail: p.error.message, wireError: p.error };
  const ipv6 = p.value;
  if (ipv6.protocol !== IpProto.ESP) {
    return {
      ok: false,
      reason: 'not-esp',
      detail: `IPv6 upper layer is ${ipv6.protocol}, expected 50 (ESP)`,
      ipv6,
    };
  }
  const o = open(sad, ipv6.payload);
  if (!o.ok) return { ...o, ipv6 };
  const base = { ipv6, spi: o.sa.spi, sequence: o.sequence, sa: o.sa };
  if (o.nextHeader !== IpProto.Mobility) {
    return {
      ok: false,
      reason: 'not-mobility',
      detail: `ESP Next Header is ${o.nextHeader}, expected 135 (Mobility Header)`,
      ...base,
    };
  }
  const m = parseMobilityHeader(o.payload, upperLayerPseudoHeader(ipv6));
  if (!m.ok) {
    return { ok: false, reason: 'bad-mobility-header', detail: m.error.message, wireError: m.error, ...base };
  }
  const message = m.value;
  return {
    ok: true,
    ipv6,
    sa: o.sa,
    sequence: o.sequence,
    message,
    homeAddress: packetHomeAddress(ipv6, message),
  };
}
