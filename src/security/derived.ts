/**
 * Security associations for a whole range of home addresses from one secret: a benchmarking and
 * bulk-provisioning aid (`derivedSecurityAssociations` in ha.json, and `dsmip6 loadgen`). Mobile
 * node i of the range has home address `firstHomeAddress + i`, SPIs `spiInBase + i` (MN → HA)
 * and `spiOutBase + i` (HA → MN), and its own keys, HKDF-SHA-256 (RFC 5869) of the seed with
 * the home address as context. Each MN still has distinct SAs (RFC 4877 §4.2 holds: a BU under
 * MN i's SA for MN j's home address is refused), but anyone holding the seed holds every key,
 * so the seed must be kept like all of them together; real deployments configure each MN's
 * keys on their own (`securityAssociations`) or from a key exchange.
 */

import { hkdfSync } from 'node:crypto';
import { ipv6FromBytes, ipv6TextToBytes } from '../wire/address.js';
import { ALGORITHMS, type EspAlgorithm } from './algorithms.js';

/** Smallest seed: 128 bits, the strength of the AES-128 keys derived from it. */
export const MIN_DERIVATION_SEED_BYTES = 16;
/** Largest range one block describes (2^20 mobile nodes). */
export const MAX_DERIVED_COUNT = 1 << 20;

export interface DerivedSaRange {
  readonly firstHomeAddress: string;
  readonly count: number;
  readonly seed: Uint8Array;
  readonly algorithm: EspAlgorithm;
  /** SPI of MN i's SA toward the HA (the HA's inbound) is spiInBase + i. */
  readonly spiInBase: number;
  /** SPI of the HA's SA toward MN i is spiOutBase + i. */
  readonly spiOutBase: number;
}

/** One mobile node's pair, named from the home agent's side like `securityAssociations`. */
export interface DerivedSaPair {
  readonly index: number;
  readonly homeAddress: string;
  readonly spiIn: number;
  readonly spiOut: number;
  readonly algorithm: EspAlgorithm;
  readonly encryptionKey: Uint8Array;
  readonly authenticationKey?: Uint8Array;
}

const SALT = new TextEncoder().encode('dsmip6 derived security association v1');
const ENCRYPTION = new TextEncoder().encode('encryption');
const AUTHENTICATION = new TextEncoder().encode('authentication');

/** `first + index` as an IPv6 address (128-bit addition); throws past the end of the space. */
export function derivedHomeAddress(first: string, index: number): string {
  const bytes = ipv6TextToBytes(first);
  if (!bytes)
    throw new TypeError(`derived SA: firstHomeAddress ${JSON.stringify(first)}: not an IPv6 address`);
  let carry = index;
  const out = bytes.slice();
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  if (carry > 0) throw new RangeError(`derived SA: ${first} + ${index} is past the end of the IPv6 space`);
  return ipv6FromBytes(out);
}

function hkdf(seed: Uint8Array, homeAddress: Uint8Array, purpose: Uint8Array, length: number): Uint8Array {
  const info = new Uint8Array(homeAddress.length + purpose.length);
  info.set(homeAddress, 0);
  info.set(purpose, homeAddress.length);
  return new Uint8Array(hkdfSync('sha256', seed, SALT, info, length));
}

/**
 * The keys of one home address: AES-128 (+ the 4-byte GCM salt, RFC 4106 §8.1) and, for CBC, the
 * 32-byte HMAC-SHA-256 key (RFC 4868 §2.1.1).
 */
export function derivedKeys(
  seed: Uint8Array,
  homeAddress: string,
  algorithm: EspAlgorithm,
): { encryptionKey: Uint8Array; authenticationKey?: Uint8Array } {
  const hoa = ipv6TextToBytes(homeAddress);
  if (!hoa) throw new TypeError(`derived SA: ${JSON.stringify(homeAddress)}: not an IPv6 address`);
  const spec = ALGORITHMS[algorithm];
  const encryptionKey = hkdf(seed, hoa, ENCRYPTION, spec.encryptionKeyLengths[0]!);
  return spec.authenticationKeyLength === undefined
    ? { encryptionKey }
    : { encryptionKey, authenticationKey: hkdf(seed, hoa, AUTHENTICATION, spec.authenticationKeyLength) };
}

/** Mobile node `index` of the range. */
export function derivedSaPair(range: DerivedSaRange, index: number): DerivedSaPair {
  if (!Number.isInteger(index) || index < 0 || index >= range.count) {
    throw new RangeError(`derived SA: index ${index} outside the range 0-${range.count - 1}`);
  }
  const homeAddress = derivedHomeAddress(range.firstHomeAddress, index);
  return {
    index,
    homeAddress,
    spiIn: range.spiInBase + index,
    spiOut: range.spiOutBase + index,
    algorithm: range.algorithm,
    ...derivedKeys(range.seed, homeAddress, range.algorithm),
  };
}

/** Every pair of the range, in order. */
export function* derivedSaPairs(range: DerivedSaRange): Generator<DerivedSaPair> {
  for (let i = 0; i < range.count; i++) yield derivedSaPair(range, i);
}
