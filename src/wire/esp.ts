/**
 * ESP framing (RFC 4303 §2): the clear header, the protected part and the ICV, and the trailer
 * (padding, Pad Length, Next Header) inside the protected part. Encryption and integrity belong
 * to src/security; this module only lays bytes out and checks the framing rules.
 */

import { checkUint, EmitError, fail, ok, type Parsed } from './error.js';

export const ESP_HEADER = 8;

export interface EspPacket {
  readonly spi: number;
  readonly sequence: number;
  /** The protected part as on the wire: IV (if the cipher has one), ciphertext with trailer. */
  readonly protectedData: Uint8Array;
  /** Integrity Check Value; empty when the SA has no integrity algorithm. */
  readonly icv: Uint8Array;
}

export interface EspTrailer {
  readonly payload: Uint8Array;
  /** The protocol of `payload` (135 MH in transport mode; 59 marks a dummy packet, §2.6). */
  readonly nextHeader: number;
  readonly padLength: number;
}

const L = 'esp';

/** SPI 0 is never sent and 1-255 are reserved by IANA (RFC 4303 §2.1). */
const validSpi = (spi: number): boolean => spi > 255;

/** Splits an ESP packet; `icvLength` comes from the SA the SPI selects. */
export function parseEsp(buf: Uint8Array, icvLength: number): Parsed<EspPacket> {
  // The protected part holds at least Pad Length and Next Header.
  if (buf.length < ESP_HEADER + 2 + icvLength) {
    return fail(L, 'truncated', 'packet', 0, buf.length, `at least ${ESP_HEADER + 2 + icvLength} bytes`);
  }
  const spi = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0;
  if (!validSpi(spi)) return fail(L, 'bad-value', 'spi', 0, spi, '256 or more (0 unused, 1-255 reserved)');
  const sequence = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
  const icvStart = buf.length - icvLength;
  return ok({
    spi,
    sequence,
    protectedData: buf.subarray(ESP_HEADER, icvStart),
    icv: buf.subarray(icvStart),
  });
}

export function emitEsp(p: EspPacket): Uint8Array {
  checkUint(L, 'spi', p.spi, 0xffffffff);
  if (!validSpi(p.spi)) throw new EmitError(L, 'spi', p.spi, '256 or more (0 unused, 1-255 reserved)');
  checkUint(L, 'sequence', p.sequence, 0xffffffff);
  const buf = new Uint8Array(ESP_HEADER + p.protectedData.length + p.icv.length);
  const w32 = (o: number, v: number): void => {
    buf[o] = v >>> 24;
    buf[o + 1] = (v >>> 16) & 0xff;
    buf[o + 2] = (v >>> 8) & 0xff;
    buf[o + 3] = v & 0xff;
  };
  w32(0, p.spi);
  w32(4, p.sequence);
  buf.set(p.protectedData, ESP_HEADER);
  buf.set(p.icv, ESP_HEADER + p.protectedData.length);
  return buf;
}

/**
 * Appends the trailer to `payload`: default padding 1, 2, 3, ... (§2.4) so that payload, padding,
 * Pad Length and Next Header fill a whole number of cipher blocks, and at least 4-byte words so
 * the ICV starts 4-aligned. `blockSize` is the cipher's (16 for AES-CBC, 1 for AES-GCM and NULL).
 */
export function appendEspTrailer(payload: Uint8Array, nextHeader: number, blockSize: number): Uint8Array {
  checkUint(L, 'nextHeader', nextHeader, 0xff);
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 256) {
    throw new EmitError(L, 'blockSize', blockSize, 'an integer 1-256');
  }
  const unit = Math.max(4, blockSize);
  const padLength = (unit - ((payload.length + 2) % unit)) % unit;
  const out = new Uint8Array(payload.length + padLength + 2);
  out.set(payload, 0);
  for (let i = 0; i < padLength; i++) out[payload.length + i] = i + 1;
  out[out.length - 2] = padLength;
  out[out.length - 1] = nextHeader;
  return out;
}

/** Reads the trailer of a decrypted protected part and checks the default padding (§2.4). */
export function parseEspTrailer(plain: Uint8Array): Parsed<EspTrailer> {
  if (plain.length < 2) return fail(L, 'truncated', 'trailer', 0, plain.length, 'at least 2 bytes');
  const padLength = plain[plain.length - 2]!;
  const nextHeader = plain[plain.length - 1]!;
  const payloadEnd = plain.length - 2 - padLength;
  if (payloadEnd < 0) {
    return fail(L, 'overrun', 'padLength', plain.length - 2, padLength, `at most ${plain.length - 2}`);
  }
  for (let i = 0; i < padLength; i++) {
    if (plain[payloadEnd + i] !== i + 1) {
      return fail(
        L,
        'bad-value',
        'padding',
        payloadEnd + i,
        plain[payloadEnd + i]!,
        `${i + 1} (1, 2, 3, ...)`,
      );
    }
  }
  return ok({ payload: plain.subarray(0, payloadEnd), nextHeader, padLength });
}
