/**
 * ESP transforms on node:crypto: AES-GCM with a 16-octet ICV (RFC 4106) and AES-CBC (RFC 3602)
 * with HMAC-SHA-256-128 (RFC 4868). These are the primitives only; the ESP layout (what is
 * authenticated, where the IV goes) lives in esp.ts.
 */

import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHmac,
  timingSafeEqual,
} from 'node:crypto';

export type EspAlgorithm = 'aes-gcm-16' | 'aes-cbc-hmac-sha256';

export interface AlgorithmSpec {
  /** Explicit IV carried at the start of the protected data (RFC 4106 §3.1, RFC 3602 §3). */
  readonly ivLength: number;
  readonly icvLength: number;
  /** Cipher block size for padding: GCM is a stream mode (1), CBC pads to 16 (RFC 3602 §2.4). */
  readonly blockSize: number;
  /** Accepted `encryptionKey` lengths in bytes (for GCM: AES key + 4-byte salt, RFC 4106 §8.1). */
  readonly encryptionKeyLengths: readonly number[];
  /** Required `authenticationKey` length, or undefined when the cipher provides integrity itself. */
  readonly authenticationKeyLength: number | undefined;
  /** What tshark's ESP SA table calls the transforms (tshark-oracle.md). */
  readonly tsharkEncryption: string;
  readonly tsharkAuthentication: string;
}

export const GCM_SALT_LENGTH = 4;

export const ALGORITHMS: Readonly<Record<EspAlgorithm, AlgorithmSpec>> = {
  'aes-gcm-16': {
    ivLength: 8,
    icvLength: 16,
    blockSize: 1,
    encryptionKeyLengths: [16 + GCM_SALT_LENGTH, 24 + GCM_SALT_LENGTH, 32 + GCM_SALT_LENGTH],
    authenticationKeyLength: undefined,
    tsharkEncryption: 'AES-GCM with 16 octet ICV [RFC4106]',
    tsharkAuthentication: 'NULL',
  },
  'aes-cbc-hmac-sha256': {
    ivLength: 16,
    icvLength: 16,
    blockSize: 16,
    encryptionKeyLengths: [16, 24, 32],
    // RFC 4868 §2.1.1: the HMAC-SHA-256-128 key is 256 bits.
    authenticationKeyLength: 32,
    tsharkEncryption: 'AES-CBC [RFC3602]',
    tsharkAuthentication: 'HMAC-SHA-256-128 [RFC4868]',
  },
};

export const isEspAlgorithm = (v: unknown): v is EspAlgorithm =>
  typeof v === 'string' && Object.hasOwn(ALGORITHMS, v);

function aesBits(key: Uint8Array): 128 | 192 | 256 {
  const bits = key.length * 8;
  if (bits !== 128 && bits !== 192 && bits !== 256) {
    throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  return bits;
}

const gcmName = (key: Uint8Array): CipherGCMTypes => `aes-${aesBits(key)}-gcm`;
const cbcName = (key: Uint8Array): string => `aes-${aesBits(key)}-cbc`;

/** RFC 4106 §4: nonce = 4-byte salt (the last 4 bytes of the keying material) || 8-byte explicit IV. */
function gcmKeyAndNonce(keyWithSalt: Uint8Array, iv: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  if (iv.length !== 8) throw new RangeError(`AES-GCM explicit IV must be 8 bytes, got ${iv.length}`);
  const key = keyWithSalt.subarray(0, keyWithSalt.length - GCM_SALT_LENGTH);
  const nonce = new Uint8Array(12);
  nonce.set(keyWithSalt.subarray(keyWithSalt.length - GCM_SALT_LENGTH), 0);
  nonce.set(iv, 4);
  return { key, nonce };
}

export interface AeadOutput {
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

/** AES-GCM encryption with a 16-octet tag; `keyWithSalt` is key || 4-byte salt. */
export function gcmEncrypt(
  keyWithSalt: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): AeadOutput {
  const { key, nonce } = gcmKeyAndNonce(keyWithSalt, iv);
  const c = createCipheriv(gcmName(key), key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const head = c.update(plaintext);
  const tail = c.final();
  return { ciphertext: concat(head, tail), tag: new Uint8Array(c.getAuthTag()) };
}

/**
 * AES-GCM decryption; undefined when the tag does not verify (OpenSSL compares the tag in constant
 * time). The plaintext is never released before the tag has been checked.
 */
export function gcmDecrypt(
  keyWithSalt: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Uint8Array | undefined {
  if (tag.length !== 16) return undefined;
  const { key, nonce } = gcmKeyAndNonce(keyWithSalt, iv);
  const d = createDecipheriv(gcmName(key), key, nonce, { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(tag);
  const head = d.update(ciphertext);
  try {
    return concat(head, d.final());
  } catch {
    return undefined;
  }
}

/** AES-CBC over whole blocks (ESP pads itself, RFC 3602 §2.4, so no PKCS#7 here). */
export function cbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (iv.length !== 16) throw new RangeError(`AES-CBC IV must be 16 bytes, got ${iv.length}`);
  if (plaintext.length % 16 !== 0) {
    throw new RangeError(`AES-CBC plaintext must be whole 16-byte blocks, got ${plaintext.length} bytes`);
  }
  const c = createCipheriv(cbcName(key), key, iv);
  c.setAutoPadding(false);
  return concat(c.update(plaintext), c.final());
}

/** AES-CBC decryption; undefined when the ciphertext is not whole blocks. */
export function cbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  if (iv.length !== 16 || ciphertext.length % 16 !== 0) return undefined;
  const d = createDecipheriv(cbcName(key), key, iv);
  d.setAutoPadding(false);
  return concat(d.update(ciphertext), d.final());
}

/** HMAC-SHA-256 truncated to its first 128 bits (RFC 4868 §2.3) over `parts` concatenated. */
export function hmacSha256_128(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest().subarray(0, 16));
}

/** Constant-time ICV comparison; a length mismatch is simply unequal. */
export function icvEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
