/**
 * The ESP primitives against published known-answer vectors, so they are right and not merely
 * self-consistent:
 * - AES-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)" (submission to NIST,
 *   2005), Test Case 4 (AES-128, 96-bit IV, 20-byte AAD, 60-byte plaintext). Its IV
 *   cafebabe facedbaddecaf888 is split the RFC 4106 way: the first 4 bytes are the salt (the tail
 *   of the ESP keying material), the last 8 the explicit per-packet IV.
 * - AES-CBC: RFC 3602 §4, Case #1 (128-bit key, one block "Single block msg").
 * - HMAC-SHA-256-128: RFC 4868 §2.7.2.1, AUTH256 Test Case 1 (32-byte key 0x0b.., "Hi There"),
 *   truncated to 128 bits as ESP uses it.
 */

import { describe, expect, it } from 'vitest';
import {
  ALGORITHMS,
  cbcDecrypt,
  cbcEncrypt,
  gcmDecrypt,
  gcmEncrypt,
  hmacSha256_128,
  icvEqual,
} from '../../src/security/algorithms.js';

const hex = (s: string): Uint8Array => {
  const t = s.replace(/\s+/g, '');
  return Uint8Array.from({ length: t.length / 2 }, (_, i) => Number.parseInt(t.slice(2 * i, 2 * i + 2), 16));
};
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('AES-GCM (GCM spec Test Case 4, salt/IV split per RFC 4106 §4)', () => {
  const key = hex('feffe9928665731c6d6a8f9467308308');
  const salt = hex('cafebabe');
  const iv = hex('facedbaddecaf888');
  const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const plaintext = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`);
  const ciphertext = hex(`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
    21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091`);
  const tag = hex('5bc94fbc3221a5db94fae95ae7121a47');
  const keyWithSalt = new Uint8Array([...key, ...salt]);

  it('encrypts to the published ciphertext and tag', () => {
    const out = gcmEncrypt(keyWithSalt, iv, aad, plaintext);
    expect(toHex(out.ciphertext)).toBe(toHex(ciphertext));
    expect(toHex(out.tag)).toBe(toHex(tag));
  });

  it('decrypts the published ciphertext', () => {
    expect(toHex(gcmDecrypt(keyWithSalt, iv, aad, ciphertext, tag)!)).toBe(toHex(plaintext));
  });

  it('refuses a wrong tag, AAD, IV, salt or ciphertext', () => {
    const flip = (b: Uint8Array, i = 0): Uint8Array => {
      const c = b.slice();
      c[i]! ^= 1;
      return c;
    };
    expect(gcmDecrypt(keyWithSalt, iv, aad, ciphertext, flip(tag, 15))).toBeUndefined();
    expect(gcmDecrypt(keyWithSalt, iv, flip(aad), ciphertext, tag)).toBeUndefined();
    expect(gcmDecrypt(keyWithSalt, flip(iv, 7), aad, ciphertext, tag)).toBeUndefined();
    expect(gcmDecrypt(flip(keyWithSalt, 16), iv, aad, ciphertext, tag)).toBeUndefined();
    expect(gcmDecrypt(keyWithSalt, iv, aad, flip(ciphertext, 30), tag)).toBeUndefined();
    expect(gcmDecrypt(keyWithSalt, iv, aad, ciphertext, tag.subarray(0, 12))).toBeUndefined();
  });

  it('works with 192- and 256-bit keys', () => {
    for (const n of [24, 32]) {
      const k = Uint8Array.from({ length: n + 4 }, (_, i) => i * 7);
      const out = gcmEncrypt(k, iv, aad, plaintext);
      expect(out.tag.length).toBe(16);
      expect(toHex(gcmDecrypt(k, iv, aad, out.ciphertext, out.tag)!)).toBe(toHex(plaintext));
    }
  });
});

describe('AES-CBC (RFC 3602 §4 Case #1)', () => {
  const key = hex('06a9214036b8a15b512e03d534120006');
  const iv = hex('3dafba429d9eb430b422da802c9fac41');
  const plaintext = ascii('Single block msg');
  const ciphertext = hex('e353779c1079aeb82708942dbe77181a');

  it('encrypts and decrypts the published block', () => {
    expect(toHex(cbcEncrypt(key, iv, plaintext))).toBe(toHex(ciphertext));
    expect(toHex(cbcDecrypt(key, iv, ciphertext)!)).toBe(toHex(plaintext));
  });

  it('adds no padding of its own and rejects partial blocks', () => {
    expect(() => cbcEncrypt(key, iv, plaintext.subarray(0, 15))).toThrow(/whole 16-byte blocks/);
    expect(cbcDecrypt(key, iv, ciphertext.subarray(0, 15))).toBeUndefined();
  });
});

describe('HMAC-SHA-256-128 (RFC 4868 §2.7.2.1 AUTH256 Test Case 1)', () => {
  it('gives the first 16 bytes of the published HMAC', () => {
    const icv = hmacSha256_128(new Uint8Array(32).fill(0x0b), ascii('Hi There'));
    expect(toHex(icv)).toBe('198a607eb44bfbc69903a0f1cf2bbdc5');
  });

  it('hashes its parts as one message', () => {
    const key = new Uint8Array(32).fill(0x0b);
    expect(toHex(hmacSha256_128(key, ascii('Hi '), ascii('There')))).toBe('198a607eb44bfbc69903a0f1cf2bbdc5');
  });
});

describe('icvEqual', () => {
  it('compares contents and treats a length difference as unequal', () => {
    expect(icvEqual(hex('00112233'), hex('00112233'))).toBe(true);
    expect(icvEqual(hex('00112233'), hex('00112234'))).toBe(false);
    expect(icvEqual(hex('00112233'), hex('001122'))).toBe(false);
  });
});

describe('algorithm table', () => {
  it('has the RFC 4106 and RFC 3602/4868 sizes', () => {
    expect(ALGORITHMS['aes-gcm-16']).toMatchObject({ ivLength: 8, icvLength: 16, blockSize: 1 });
    expect(ALGORITHMS['aes-gcm-16'].encryptionKeyLengths).toEqual([20, 28, 36]);
    expect(ALGORITHMS['aes-cbc-hmac-sha256']).toMatchObject({
      ivLength: 16,
      icvLength: 16,
      blockSize: 16,
      authenticationKeyLength: 32,
    });
  });
});
