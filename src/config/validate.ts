/**
 * Validation of parsed config JSON into `HaConfig` / `MnConfig` (docs/configuration.md).
 *
 * Every field is checked on its own and every problem is collected, so one run of the daemon
 * lists everything wrong with a file. An error is `{ path, message }` where the message starts with
 * the offending value and ends with what was expected, e.g.
 * `ha.ipv4Pool.start "192.0.2.300": not an IPv4 address (expected a.b.c.d)`. Keys are never echoed
 * into a message: a wrong key shows as `<secret, N characters>`.
 */

import { MAX_LIFETIME_SECONDS } from '../machines/binding-update.js';
import { DEFAULT_SETTLE_MS } from '../machines/movement.js';
import { NATKATIMEOUT_SECONDS } from '../machines/nat-keepalive.js';
import { MAX_DERIVED_COUNT, MIN_DERIVATION_SEED_BYTES } from '../security/derived.js';
import {
  IPV4_UNSPECIFIED,
  type Ipv4Address,
  type Ipv6Address,
  ipv4FromBytes,
  ipv4TextToBytes,
  ipv6FromBytes,
  ipv6TextToBytes,
} from '../wire/address.js';
import { DSMIPV6_UDP_PORT } from '../wire/constants.js';
import {
  type ConfigError,
  type ConfigResult,
  type ControlConfig,
  ESP_ALGORITHMS,
  type EspAlgorithm,
  type HaAddressConfig,
  type HaConfig,
  type HaDataplaneConfig,
  type HaDerivedSaConfig,
  type HaIpv4PoolConfig,
  type HaSecurityAssociationConfig,
  type Ipv6PrefixConfig,
  LOG_LEVELS,
  type LogConfig,
  type LogLevel,
  type MnConfig,
  type MnHomeAgentConfig,
  type SecurityAssociationConfig,
} from './schema.js';

/** RFC 5555 §3.2.2: Refresh time 0 means "ignore", all ones "no keepalive", so 1..2^32-2. */
export const MAX_NAT_KEEPALIVE_SECONDS = 0xffffffff - 1;
/** SPIs 1-255 are reserved and 0 is never sent (RFC 4303 §2.1). */
export const MIN_SPI = 256;
/** sun_path holds 108 bytes including the terminating NUL (unix(7)). */
export const MAX_SOCKET_PATH_BYTES = 107;
/** IFNAMSIZ is 16 including the NUL (linux/if.h). */
export const MAX_INTERFACE_NAME = 15;

/** Defaults of the HA file, applied when a field is absent. */
export const HA_DEFAULTS = {
  udpPort: DSMIPV6_UDP_PORT,
  maxLifetimeSeconds: 3600,
  natKeepaliveSeconds: NATKATIMEOUT_SECONDS,
  allowForceUdp: true,
  ipv4PoolLeaseSeconds: 3600,
  controlSocket: '/run/dsmip6/ha.sock',
  logLevel: 'info' as LogLevel,
} as const;

/** Defaults of the MN file, applied when a field is absent. */
export const MN_DEFAULTS = {
  lifetimeSeconds: 600,
  forceUdp: false,
  udpPort: 0,
  settleMs: DEFAULT_SETTLE_MS,
  controlSocket: '/run/dsmip6/mn.sock',
  logLevel: 'info' as LogLevel,
} as const;

/** The config value for a dynamic IPv4 home address (RFC 5555 §2.5: sent as 0.0.0.0). */
export const IPV4_DYNAMIC = 'dynamic';

const MAX_SETTLE_MS = 60_000;
const MAX_SHOWN = 60;
const IPV6_PREFIX_EXAMPLE = 'an IPv6 prefix, e.g. 2001:db8:1::/64';
const IPV6_EXPECTED = 'an IPv6 address, e.g. 2001:db8:1::1';
const IPV4_EXPECTED = 'a.b.c.d';
const ROUTABLE_IPV6 = 'a routable unicast IPv6 address';
const ROUTABLE_IPV4 = 'a routable unicast IPv4 address';
const NAME_EXPECTED = 'a DNS name of letters, digits and hyphens, e.g. ha.example.net';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Collecting errors

/** JSON text of a value, cut short so one error stays one readable line. */
export function showValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

const showSecret = (value: string): string => `<secret, ${value.length} characters>`;

class Errors {
  readonly list: ConfigError[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  /** `<value>: <problem> (expected <expected>)`. */
  bad(path: string, value: unknown, problem: string, expected: string): void {
    this.add(path, `${showValue(value)}: ${problem} (expected ${expected})`);
  }
  missing(path: string, expected: string): undefined {
    this.add(path, `missing (expected ${expected})`);
    return undefined;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const child = (path: string, key: string): string =>
  IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
const item = (path: string, i: number): string => `${path}[${i}]`;

const article = (what: string): string => (/^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

// ---------------------------------------------------------------------------------------------
// "Did you mean": optimal string alignment distance (Levenshtein plus adjacent transposition)

export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j]!;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `word`, compared without case, if it is close enough to be a typo:
 * at most a third of the candidate's length (and at least 1) edits away. A word of 3 or more
 * letters that starts a candidate counts as close too ("natKeepalive" for "natKeepaliveSeconds").
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const dist = w.length >= 3 && lc.startsWith(w) ? 1 : editDistance(w, lc);
    if (dist <= Math.max(1, Math.floor(c.length / 3)) && dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

const oneOf = (values: readonly string[]): string =>
  values.length === 1 ? String(values[0]) : `one of ${values.join(', ')}`;

// ---------------------------------------------------------------------------------------------
// Shapes and scalars

/** Checks that `value` is an object and reports every key not in `keys`. */
function object(
  e: Errors,
  path: string,
  value: unknown,
  keys: readonly string[],
  expected: string,
): Json | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    e.bad(path, value, `not an object`, expected);
    return undefined;
  }
  const json = value as Json;
  for (const key of Object.keys(json)) {
    if (keys.includes(key)) continue;
    const near = suggest(key, keys);
    e.add(
      child(path, key),
      near === undefined ? `unknown key (expected ${oneOf(keys)})` : `unknown key (did you mean "${near}"?)`,
    );
  }
  return json;
}

function array(e: Errors, path: string, value: unknown, expected: string): unknown[] | undefined {
  if (!Array.isArray(value)) {
    e.bad(path, value, `not an array`, expected);
    return undefined;
  }
  if (value.length === 0) {
    e.bad(path, value, 'empty', expected);
    return undefined;
  }
  return value;
}

function string(e: Errors, path: string, value: unknown, expected: string): string | undefined {
  if (typeof value !== 'string') {
    e.bad(path, value, `not a string`, expected);
    return undefined;
  }
  if (value === '') {
    e.bad(path, value, 'empty', expected);
    return undefined;
  }
  return value;
}

function boolean(e: Errors, path: string, value: unknown, fallback: boolean): boolean | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    e.bad(path, value, 'not a boolean', 'true or false');
    return undefined;
  }
  return value;
}

function integer(
  e: Errors,
  path: string,
  value: unknown,
  min: number,
  max: number,
  why = '',
): number | undefined {
  const expected = `an integer ${min}-${max}${why}`;
  if (typeof value !== 'number') {
    e.bad(path, value, 'not a number', expected);
    return undefined;
  }
  if (!Number.isInteger(value)) {
    e.bad(path, value, 'not an integer', expected);
    return undefined;
  }
  if (value < min || value > max) {
    e.bad(path, value, 'out of range', expected);
    return undefined;
  }
  return value;
}

function optionalInteger(
  e: Errors,
  path: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number | undefined {
  return value === undefined ? fallback : integer(e, path, value, min, max);
}

/** A lifetime: whole 4-second units, as BU and BA carry it (RFC 6275 §6.1.7). */
function lifetime(e: Errors, path: string, value: unknown, fallback: number): number | undefined {
  const n = optionalInteger(e, path, value, 4, MAX_LIFETIME_SECONDS, fallback);
  if (n === undefined || n % 4 === 0) return n;
  const down = n - (n % 4);
  e.bad(
    path,
    n,
    'not a multiple of 4',
    `a multiple of 4, the unit of BU and BA lifetimes in RFC 6275 §6.1.7: use ${down} or ${down + 4}`,
  );
  return undefined;
}

function enumeration<T extends string>(
  e: Errors,
  path: string,
  value: unknown,
  values: readonly T[],
  what: string,
): T | undefined {
  if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
  const near = typeof value === 'string' ? suggest(value, values) : undefined;
  e.bad(
    path,
    value,
    typeof value === 'string' ? `not ${article(what)}` : 'not a string',
    near === undefined ? oneOf(values) : `${oneOf(values)}; did you mean "${near}"?`,
  );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Addresses and prefixes

interface Range {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly what: string;
}

const range = (text: string, what: string): Range => {
  const [addr, len] = text.split('/') as [string, string];
  const bytes = addr.includes(':') ? ipv6TextToBytes(addr)! : ipv4TextToBytes(addr)!;
  return { bytes, length: Number(len), what };
};

function inRange(bytes: Uint8Array, r: { bytes: Uint8Array; length: number }): boolean {
  if (bytes.length !== r.bytes.length) return false;
  for (let bit = 0; bit < r.length; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((bytes[bit >> 3]! & mask) !== (r.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

/** IPv6 space no node can use as its own address toward a peer on another link. */
const IPV6_UNUSABLE: readonly Range[] = [
  range('::/128', 'the unspecified address'), // RFC 4291 §2.5.2
  range('::1/128', 'the loopback address'), // RFC 4291 §2.5.3
  range('::ffff:0:0/96', 'an IPv4-mapped address'), // RFC 4291 §2.5.5.2
  range('fe80::/10', 'link-local'), // RFC 4291 §2.5.6
  range('ff00::/8', 'multicast'), // RFC 4291 §2.7
];

/** IPv4 space that is never a unicast host address on the Internet or behind a NAT. */
const IPV4_UNUSABLE: readonly Range[] = [
  range('0.0.0.0/8', 'in "this network" 0.0.0.0/8'), // RFC 1122 §3.2.1.3
  range('127.0.0.0/8', 'loopback'), // RFC 1122 §3.2.1.3
  range('169.254.0.0/16', 'link-local'), // RFC 3927
  range('224.0.0.0/4', 'multicast'), // RFC 5771
  range('255.255.255.255/32', 'the limited broadcast address'), // RFC 919
  range('240.0.0.0/4', 'reserved'), // RFC 1112 §4
];

function ipv6Unicast(
  e: Errors,
  path: string,
  value: unknown,
): { text: Ipv6Address; bytes: Uint8Array } | undefined {
  if (typeof value !== 'string') {
    e.bad(path, value, 'not a string', IPV6_EXPECTED);
    return undefined;
  }
  const bytes = ipv6TextToBytes(value);
  if (!bytes) {
    e.bad(
      path,
      value,
      'not an IPv6 address',
      ipv4TextToBytes(value) ? `${IPV6_EXPECTED}; this is IPv4` : IPV6_EXPECTED,
    );
    return undefined;
  }
  const unusable = IPV6_UNUSABLE.find((r) => inRange(bytes, r));
  if (unusable) {
    e.bad(path, value, unusable.what, ROUTABLE_IPV6);
    return undefined;
  }
  return { text: ipv6FromBytes(bytes), bytes };
}

function ipv4Unicast(
  e: Errors,
  path: string,
  value: unknown,
  expected = IPV4_EXPECTED,
): { text: Ipv4Address; bytes: Uint8Array } | undefined {
  if (typeof value !== 'string') {
    e.bad(path, value, 'not a string', expected);
    return undefined;
  }
  const bytes = ipv4TextToBytes(value);
  if (!bytes) {
    e.bad(path, value, 'not an IPv4 address', expected);
    return undefined;
  }
  const unusable = IPV4_UNUSABLE.find((r) => inRange(bytes, r));
  if (unusable) {
    e.bad(path, value, unusable.what, expected === IPV4_EXPECTED ? ROUTABLE_IPV4 : expected);
    return undefined;
  }
  return { text: ipv4FromBytes(bytes), bytes };
}

/** Zeroes every bit after the first `length`. */
function networkOf(bytes: Uint8Array, length: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = length; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function ipv6Prefix(e: Errors, path: string, value: unknown): Ipv6PrefixConfig | undefined {
  if (value === undefined) {
    e.missing(path, IPV6_PREFIX_EXAMPLE);
    return undefined;
  }
  if (typeof value !== 'string') {
    e.bad(path, value, 'not a string', IPV6_PREFIX_EXAMPLE);
    return undefined;
  }
  const slash = value.indexOf('/');
  if (slash < 0) {
    e.bad(path, value, 'no prefix length', IPV6_PREFIX_EXAMPLE);
    return undefined;
  }
  const addrText = value.slice(0, slash);
  const lenText = value.slice(slash + 1);
  const bytes = ipv6TextToBytes(addrText);
  if (!bytes) {
    e.bad(
      path,
      value,
      ipv4TextToBytes(addrText) ? 'an IPv4 prefix' : 'not an IPv6 prefix',
      IPV6_PREFIX_EXAMPLE,
    );
    return undefined;
  }
  if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) < 1 || Number(lenText) > 128) {
    e.add(path, `${showValue(value)}: prefix length must be 1-128`);
    return undefined;
  }
  const length = Number(lenText);
  const network = networkOf(bytes, length);
  const canonical = `${ipv6FromBytes(network)}/${length}`;
  if (!sameBytes(network, bytes)) {
    e.bad(path, value, 'host bits set', `the network address: ${canonical}`);
    return undefined;
  }
  const unusable = IPV6_UNUSABLE.find((r) => r.length < 128 && inRange(network, r) && length >= r.length);
  if (unusable) {
    e.bad(path, value, unusable.what, 'a unicast IPv6 prefix');
    return undefined;
  }
  return { address: ipv6FromBytes(network), length, text: canonical };
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A host or domain name (RFC 1123 §2.1 labels); a trailing dot is allowed. */
function dnsName(e: Errors, path: string, value: unknown): string | undefined {
  const text = string(e, path, value, NAME_EXPECTED);
  if (text === undefined) return undefined;
  if (ipv4TextToBytes(text) || ipv6TextToBytes(text)) {
    e.bad(path, value, 'an address, not a name', `${NAME_EXPECTED}; put addresses in homeAgent.addresses`);
    return undefined;
  }
  const bare = text.endsWith('.') ? text.slice(0, -1) : text;
  if (bare.length > 253 || !bare.split('.').every((l) => LABEL.test(l))) {
    e.bad(path, value, 'not a DNS name', NAME_EXPECTED);
    return undefined;
  }
  return bare.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Pieces shared by both files

const SA_KEYS = ['spiIn', 'spiOut', 'algorithm', 'encryptionKey', 'authenticationKey'] as const;

/** AES key lengths (16, 24, 32) plus GCM's 4-byte salt (RFC 4106 §8.1). */
const ENCRYPTION_KEY_BYTES: Record<EspAlgorithm, readonly number[]> = {
  'aes-gcm-16': [20, 28, 36],
  'aes-cbc-hmac-sha256': [16, 24, 32],
};
const KEY_LAYOUT: Record<EspAlgorithm, string> = {
  'aes-gcm-16': 'a 16, 24 or 32-byte AES key and a 4-byte salt',
  'aes-cbc-hmac-sha256': 'a 16, 24 or 32-byte AES key',
};
/** HMAC-SHA-256-128 takes a 32-byte key (RFC 4868 §2.1.1). */
const AUTH_KEY_BYTES = 32;

const orList = (items: readonly (string | number)[]): string =>
  items.length === 1 ? String(items[0]) : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
const bytesList = (ns: readonly number[]): string =>
  `${orList(ns)} bytes = ${orList(ns.map((n) => n * 2))} hex digits`;

/** A hex key of one of `lengths` bytes; the value is never echoed. */
function hexKey(
  e: Errors,
  path: string,
  value: unknown,
  lengths: readonly number[] | undefined,
  layout: string,
): Uint8Array | undefined {
  const expected = lengths ? `${layout}: ${bytesList(lengths)}` : 'a key in hex';
  if (value === undefined) {
    e.missing(path, `${expected}, e.g. from openssl rand -hex ${lengths?.[0] ?? 16}`);
    return undefined;
  }
  if (typeof value !== 'string') {
    e.add(path, `${typeOf(value)}: not a string (expected ${expected})`);
    return undefined;
  }
  if (!/^[0-9a-fA-F]*$/.test(value) || value.length % 2 !== 0) {
    e.add(path, `${showSecret(value)}: not hex (expected an even number of digits 0-9 a-f: ${expected})`);
    return undefined;
  }
  const bytes = Uint8Array.from(Buffer.from(value, 'hex'));
  if (lengths && !lengths.includes(bytes.length)) {
    e.add(path, `${showSecret(value)}: ${bytes.length} bytes (expected ${expected})`);
    return undefined;
  }
  return bytes;
}

function securityAssociation(
  e: Errors,
  path: string,
  sa: Json,
): { pair?: SecurityAssociationConfig; spiIn?: number; spiOut?: number } {
  const spiExpected = '; 0 is never sent and 1-255 are reserved, RFC 4303 §2.1';
  const spi = (key: 'spiIn' | 'spiOut'): number | undefined => {
    const p = child(path, key);
    if (sa[key] === undefined) {
      e.missing(p, `an integer ${MIN_SPI}-4294967295`);
      return undefined;
    }
    return integer(e, p, sa[key], MIN_SPI, 0xffffffff, spiExpected);
  };
  const spiIn = spi('spiIn');
  let spiOut = spi('spiOut');
  if (spiIn !== undefined && spiOut === spiIn) {
    e.bad(child(path, 'spiOut'), spiOut, 'same as spiIn', 'a different SPI for each direction');
    spiOut = undefined;
  }
  let algorithm: EspAlgorithm | undefined;
  if (sa.algorithm === undefined) e.missing(child(path, 'algorithm'), oneOf(ESP_ALGORITHMS));
  else algorithm = enumeration(e, child(path, 'algorithm'), sa.algorithm, ESP_ALGORITHMS, 'known algorithm');
  const encryptionKey = hexKey(
    e,
    child(path, 'encryptionKey'),
    sa.encryptionKey,
    algorithm && ENCRYPTION_KEY_BYTES[algorithm],
    algorithm ? `${KEY_LAYOUT[algorithm]} for ${algorithm}` : '',
  );
  let authenticationKey: Uint8Array | undefined;
  let authOk = true;
  const authPath = child(path, 'authenticationKey');
  if (algorithm === 'aes-gcm-16' && sa.authenticationKey !== undefined) {
    const shown =
      typeof sa.authenticationKey === 'string'
        ? showSecret(sa.authenticationKey)
        : typeOf(sa.authenticationKey);
    e.add(
      authPath,
      `${shown}: not used by aes-gcm-16 (expected no authenticationKey: GCM authenticates with encryptionKey)`,
    );
    authOk = false;
  } else if (algorithm === 'aes-cbc-hmac-sha256') {
    authenticationKey = hexKey(
      e,
      authPath,
      sa.authenticationKey,
      [AUTH_KEY_BYTES],
      'the HMAC-SHA-256 key for aes-cbc-hmac-sha256',
    );
    authOk = authenticationKey !== undefined;
  } else if (algorithm === undefined && sa.authenticationKey !== undefined) {
    authOk = hexKey(e, authPath, sa.authenticationKey, undefined, '') !== undefined;
  }
  // The SPIs go back even when another field is wrong, so uniqueness is still checked.
  if (spiIn === undefined || spiOut === undefined || !algorithm || !encryptionKey || !authOk) {
    return { ...(spiIn !== undefined && { spiIn }), ...(spiOut !== undefined && { spiOut }) };
  }
  const pair = authenticationKey
    ? { spiIn, spiOut, algorithm, encryptionKey, authenticationKey }
    : { spiIn, spiOut, algorithm, encryptionKey };
  return { pair, spiIn, spiOut };
}

function control(e: Errors, path: string, value: unknown, fallback: string): ControlConfig | undefined {
  if (value === undefined) return { socket: fallback };
  const c = object(e, path, value, ['socket'], '{ "socket": "/path/to/socket" }');
  if (!c) return undefined;
  if (c.socket === undefined) return { socket: fallback };
  const expected = `a Unix socket path of at most ${MAX_SOCKET_PATH_BYTES} bytes`;
  const socket = string(e, child(path, 'socket'), c.socket, expected);
  if (socket === undefined) return undefined;
  const bytes = Buffer.byteLength(socket);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    e.bad(child(path, 'socket'), socket, `${bytes} bytes long`, expected);
    return undefined;
  }
  return { socket };
}

function log(e: Errors, path: string, value: unknown, fallback: LogLevel): LogConfig | undefined {
  if (value === undefined) return { level: fallback };
  const l = object(e, path, value, ['level'], `{ "level": "${fallback}" }`);
  if (!l) return undefined;
  if (l.level === undefined) return { level: fallback };
  const level = enumeration(e, child(path, 'level'), l.level, LOG_LEVELS, 'log level');
  return level && { level };
}

/** Smallest path MTU: the TUN (path MTU - 40) must still carry IPv6's 1280 (RFC 8200 §5). */
export const MIN_DATAPLANE_MTU = 1320;
export const DATAPLANE_DEFAULTS = { mtu: 1500, haTun: 'dsmip6ha', mnTun: 'dsmip6' } as const;

/** `dataplane`: absent → none; `{}` → defaults; `homeLink` only for the home agent. */
function dataplane(
  e: Errors,
  path: string,
  value: unknown,
  role: 'ha' | 'mn',
): { ok: boolean; config?: HaDataplaneConfig } {
  if (value === undefined) return { ok: true };
  const keys = role === 'ha' ? ['tun', 'mtu', 'homeLink'] : ['tun', 'mtu'];
  const d = object(
    e,
    path,
    value,
    keys,
    `{ "tun": "${role === 'ha' ? DATAPLANE_DEFAULTS.haTun : DATAPLANE_DEFAULTS.mnTun}", "mtu": 1500 }`,
  );
  if (!d) return { ok: false };
  const tun =
    d.tun === undefined
      ? role === 'ha'
        ? DATAPLANE_DEFAULTS.haTun
        : DATAPLANE_DEFAULTS.mnTun
      : interfaceName(e, child(path, 'tun'), d.tun);
  const mtu = optionalInteger(e, child(path, 'mtu'), d.mtu, MIN_DATAPLANE_MTU, 65535, DATAPLANE_DEFAULTS.mtu);
  const homeLink =
    d.homeLink === undefined ? undefined : interfaceName(e, child(path, 'homeLink'), d.homeLink);
  if (tun === undefined || mtu === undefined || (d.homeLink !== undefined && homeLink === undefined))
    return { ok: false };
  if (homeLink === tun) {
    e.bad(child(path, 'homeLink'), homeLink, 'the TUN device itself', 'the home link interface, e.g. eth0');
    return { ok: false };
  }
  return { ok: true, config: { tun, mtu, ...(homeLink !== undefined && { homeLink }) } };
}

function pcap(e: Errors, path: string, value: unknown): { ok: boolean; file?: string } {
  if (value === undefined) return { ok: true };
  const file = string(e, path, value, 'a file name to write the pcap to');
  return file === undefined ? { ok: false } : { ok: true, file };
}

function rootObject(e: Errors, role: 'ha' | 'mn', json: unknown, keys: readonly string[]): Json | undefined {
  const other = role === 'ha' ? ['homeAgent', 'securityAssociation'] : ['securityAssociations', 'ipv4Pool'];
  const root = object(e, role, json, keys, `a JSON object with ${keys.join(', ')}`);
  if (root && other.some((k) => k in root)) {
    const otherRole = role === 'ha' ? 'mn' : 'ha';
    const [mine, theirs] = role === 'ha' ? ['home agent', 'mobile node'] : ['mobile node', 'home agent'];
    e.add(
      role,
      `has ${other.filter((k) => k in root).join(', ')}: fields of a ${theirs} config (expected a ${mine} config; is this file for dsmip6 ${otherRole} --config?)`,
    );
  }
  return root;
}

const result = <T>(e: Errors, config: T | undefined): ConfigResult<T> =>
  e.list.length > 0 || config === undefined ? { ok: false, errors: e.list } : { ok: true, config };

// ---------------------------------------------------------------------------------------------
// Home agent

const HA_KEYS = [
  'homePrefix',
  'addresses',
  'udpPort',
  'ipv4Pool',
  'maxLifetimeSeconds',
  'natKeepaliveSeconds',
  'allowForceUdp',
  'securityAssociations',
  'derivedSecurityAssociations',
  'dataplane',
  'control',
  'pcap',
  'log',
] as const;

const DERIVED_KEYS = ['firstHomeAddress', 'count', 'seed', 'algorithm', 'spiInBase', 'spiOutBase'] as const;

const bigOf = (bytes: Uint8Array): bigint => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);

/**
 * `derivedSecurityAssociations` (src/security/derived.ts): a range of home addresses whose SA
 * pairs come from one seed, for benchmarks and bulk provisioning. The range must sit in the home
 * prefix, its SPIs must fit and not collide with each other or with `securityAssociations`.
 */
function haDerivedSas(
  e: Errors,
  path: string,
  value: unknown,
  homePrefix: Ipv6PrefixConfig | undefined,
  explicit: readonly HaSecurityAssociationConfig[] | undefined,
): { ok: boolean; range?: HaDerivedSaConfig } {
  if (value === undefined) return { ok: true };
  const d = object(e, path, value, DERIVED_KEYS, `{ ${DERIVED_KEYS.map((k) => `"${k}"`).join(', ')} }`);
  if (!d) return { ok: false };
  const at = (key: string): string => child(path, key);
  const first =
    d.firstHomeAddress === undefined
      ? e.missing(at('firstHomeAddress'), 'the home address of the first mobile node, in homePrefix')
      : ipv6Unicast(e, at('firstHomeAddress'), d.firstHomeAddress);
  const count =
    d.count === undefined
      ? e.missing(at('count'), `an integer 1-${MAX_DERIVED_COUNT}`)
      : integer(e, at('count'), d.count, 1, MAX_DERIVED_COUNT, ', the number of mobile nodes');
  const seed = hexKey(
    e,
    at('seed'),
    d.seed,
    undefined,
    `at least ${MIN_DERIVATION_SEED_BYTES} random bytes, e.g. from openssl rand -hex 32`,
  );
  if (seed && seed.length < MIN_DERIVATION_SEED_BYTES) {
    e.add(
      at('seed'),
      `${showSecret(String(d.seed))}: ${seed.length} bytes (expected at least ${MIN_DERIVATION_SEED_BYTES} random bytes, e.g. from openssl rand -hex 32)`,
    );
  }
  const algorithm =
    d.algorithm === undefined
      ? e.missing(at('algorithm'), oneOf(ESP_ALGORITHMS))
      : enumeration(e, at('algorithm'), d.algorithm, ESP_ALGORITHMS, 'known algorithm');
  const spiBase = (key: 'spiInBase' | 'spiOutBase'): number | undefined =>
    d[key] === undefined
      ? e.missing(at(key), `an integer ${MIN_SPI}-4294967295`)
      : integer(
          e,
          at(key),
          d[key],
          MIN_SPI,
          0xffffffff,
          '; 0 is never sent and 1-255 are reserved, RFC 4303 §2.1',
        );
  const spiInBase = spiBase('spiInBase');
  const spiOutBase = spiBase('spiOutBase');
  if (
    !first ||
    count === undefined ||
    !seed ||
    seed.length < MIN_DERIVATION_SEED_BYTES ||
    !algorithm ||
    spiInBase === undefined ||
    spiOutBase === undefined
  ) {
    return { ok: false };
  }
  let ok = true;
  // The SPIs of the range: [base, base + count - 1] each, inside the SPI space and apart.
  for (const [key, base] of [
    ['spiInBase', spiInBase],
    ['spiOutBase', spiOutBase],
  ] as const) {
    if (base + count - 1 > 0xffffffff) {
      e.bad(
        at(key),
        base,
        `${base} + count ${count} - 1 is past 4294967295`,
        'a base that leaves room for count SPIs',
      );
      ok = false;
    }
  }
  if (ok && spiInBase < spiOutBase + count && spiOutBase < spiInBase + count) {
    e.bad(
      at('spiOutBase'),
      spiOutBase,
      `SPIs ${spiOutBase}-${spiOutBase + count - 1} overlap spiInBase's ${spiInBase}-${spiInBase + count - 1}`,
      'two ranges of count SPIs that do not overlap',
    );
    ok = false;
  }
  // The home addresses of the range: first .. first + count - 1, all in the home prefix.
  const firstBig = bigOf(first.bytes);
  const lastBig = firstBig + BigInt(count - 1);
  if (lastBig >= 1n << 128n) {
    e.bad(
      at('count'),
      count,
      `${first.text} + ${count - 1} is past the end of the IPv6 space`,
      'a smaller count',
    );
    return { ok: false };
  }
  if (homePrefix) {
    const prefixBig = bigOf(ipv6TextToBytes(homePrefix.address)!);
    const span = 1n << BigInt(128 - homePrefix.length);
    if (firstBig < prefixBig || lastBig >= prefixBig + span) {
      e.bad(
        firstBig < prefixBig || firstBig >= prefixBig + span ? at('firstHomeAddress') : at('count'),
        firstBig < prefixBig || firstBig >= prefixBig + span ? d.firstHomeAddress : count,
        `the range ${first.text} + 0..${count - 1} leaves homePrefix ${homePrefix.text}`,
        'every home address of the range in the home prefix, RFC 6275 §10.3.1',
      );
      ok = false;
    }
  }
  // No mobile node twice, no SPI twice (RFC 4301 §4.1: the receiver finds the SA by SPI alone).
  for (const [i, sa] of (explicit ?? []).entries()) {
    const hoa = bigOf(ipv6TextToBytes(sa.homeAddress)!);
    if (hoa >= firstBig && hoa <= lastBig) {
      e.bad(
        child(item('ha.securityAssociations', i), 'homeAddress'),
        sa.homeAddress,
        `inside derivedSecurityAssociations' range ${first.text} + 0..${count - 1}`,
        'one security association per home address',
      );
      ok = false;
    }
    for (const key of ['spiIn', 'spiOut'] as const) {
      const spi = sa[key];
      if ((spi >= spiInBase && spi < spiInBase + count) || (spi >= spiOutBase && spi < spiOutBase + count)) {
        e.bad(
          child(item('ha.securityAssociations', i), key),
          spi,
          'inside an SPI range of derivedSecurityAssociations',
          'every SPI unique across securityAssociations and derivedSecurityAssociations',
        );
        ok = false;
      }
    }
  }
  if (!ok) return { ok };
  return { ok, range: { firstHomeAddress: first.text, count, seed, algorithm, spiInBase, spiOutBase } };
}

function haIpv4Pool(e: Errors, path: string, value: unknown): { ok: boolean; pool?: HaIpv4PoolConfig } {
  if (value === undefined) return { ok: true };
  const keys = ['start', 'end', 'prefixLength', 'leaseSeconds'];
  const p = object(e, path, value, keys, '{ "start", "end", "prefixLength", "leaseSeconds"? }');
  if (!p) return { ok: false };
  const start =
    p.start === undefined
      ? e.missing(child(path, 'start'), IPV4_EXPECTED)
      : ipv4Unicast(e, child(path, 'start'), p.start);
  const end =
    p.end === undefined
      ? e.missing(child(path, 'end'), IPV4_EXPECTED)
      : ipv4Unicast(e, child(path, 'end'), p.end);
  const prefixLength =
    p.prefixLength === undefined
      ? e.missing(child(path, 'prefixLength'), 'an integer 1-32')
      : integer(e, child(path, 'prefixLength'), p.prefixLength, 1, 32);
  const leaseSeconds = optionalInteger(
    e,
    child(path, 'leaseSeconds'),
    p.leaseSeconds,
    1,
    MAX_LIFETIME_SECONDS,
    HA_DEFAULTS.ipv4PoolLeaseSeconds,
  );
  if (!start || !end || prefixLength === undefined || leaseSeconds === undefined) return { ok: false };
  let ok = true;
  const network = networkOf(start.bytes, prefixLength);
  const networkText = `${ipv4FromBytes(network)}/${prefixLength}`;
  if (!sameBytes(networkOf(end.bytes, prefixLength), network)) {
    e.bad(
      child(path, 'end'),
      end.text,
      `outside ${networkText}, the network of start`,
      `start and end in one /${prefixLength}`,
    );
    ok = false;
  } else if (Buffer.compare(start.bytes, end.bytes) > 0) {
    e.bad(child(path, 'end'), end.text, `before start ${start.text}`, 'end at or after start');
    ok = false;
  } else if (prefixLength <= 30) {
    // RFC 919 / RFC 922: the all-zeros and all-ones host parts name the network, not a host.
    const broadcast = network.slice();
    for (let bit = prefixLength; bit < 32; bit++) broadcast[bit >> 3]! |= 0x80 >> (bit & 7);
    if (sameBytes(start.bytes, network)) {
      e.bad(child(path, 'start'), start.text, `the network address of ${networkText}`, 'a host address');
      ok = false;
    }
    if (sameBytes(end.bytes, broadcast)) {
      e.bad(child(path, 'end'), end.text, `the broadcast address of ${networkText}`, 'a host address');
      ok = false;
    }
  }
  return ok ? { ok, pool: { start: start.text, end: end.text, prefixLength, leaseSeconds } } : { ok };
}

function haSecurityAssociations(
  e: Errors,
  path: string,
  value: unknown,
  homePrefix: Ipv6PrefixConfig | undefined,
): HaSecurityAssociationConfig[] | undefined {
  const expected = 'an array of security associations, one per mobile node';
  if (value === undefined) {
    e.missing(path, expected);
    return undefined;
  }
  const list = array(e, path, value, expected);
  if (!list) return undefined;
  const out: HaSecurityAssociationConfig[] = [];
  const homeAddresses = new Map<string, string>();
  const spis = new Map<number, string>();
  let ok = true;
  list.forEach((raw, i) => {
    const p = item(path, i);
    const sa = object(
      e,
      p,
      raw,
      ['homeAddress', ...SA_KEYS],
      '{ "homeAddress", "spiIn", "spiOut", "algorithm", "encryptionKey", ... }',
    );
    if (!sa) {
      ok = false;
      return;
    }
    const hoaPath = child(p, 'homeAddress');
    let hoa =
      sa.homeAddress === undefined
        ? e.missing(hoaPath, `the mobile node's home address, in homePrefix`)
        : ipv6Unicast(e, hoaPath, sa.homeAddress);
    if (
      hoa &&
      homePrefix &&
      !inRange(hoa.bytes, { bytes: ipv6TextToBytes(homePrefix.address)!, length: homePrefix.length })
    ) {
      e.bad(
        hoaPath,
        sa.homeAddress,
        `outside homePrefix ${homePrefix.text}`,
        'a home address in the home prefix, RFC 6275 §10.3.1',
      );
      hoa = undefined;
    }
    if (hoa) {
      const first = homeAddresses.get(hoa.text);
      if (first !== undefined) {
        e.bad(
          hoaPath,
          sa.homeAddress,
          `also the home address of ${first}`,
          'one security association per home address',
        );
        hoa = undefined;
      } else homeAddresses.set(hoa.text, p);
    }
    const checked = securityAssociation(e, p, sa);
    // RFC 4301 §4.1: the receiver finds the SA by SPI alone, so no SPI may serve two SAs.
    for (const key of ['spiIn', 'spiOut'] as const) {
      const spi = checked[key];
      if (spi === undefined) continue;
      const first = spis.get(spi);
      if (first !== undefined) {
        e.bad(child(p, key), spi, `already used by ${first}`, 'every SPI unique across securityAssociations');
        ok = false;
      } else spis.set(spi, child(p, key));
    }
    if (!hoa || !checked.pair) ok = false;
    else out.push({ homeAddress: hoa.text, ...checked.pair });
  });
  return ok ? out : undefined;
}

/** Validates the JSON of an HA config file; on failure lists every problem found. */
export function parseHaConfig(json: unknown): ConfigResult<HaConfig> {
  const e = new Errors();
  const root = rootObject(e, 'ha', json, HA_KEYS);
  if (!root) return result<HaConfig>(e, undefined);
  const p = (key: string): string => child('ha', key);

  const homePrefix = ipv6Prefix(e, p('homePrefix'), root.homePrefix);

  let addresses: HaConfig['addresses'] | undefined;
  if (root.addresses === undefined)
    e.missing(p('addresses'), '{ "ipv6": "<the HA\'s address>", "ipv4"?: "<a.b.c.d>" }');
  else {
    const a = object(e, p('addresses'), root.addresses, ['ipv6', 'ipv4'], '{ "ipv6", "ipv4"? }');
    if (a) {
      const ap = (key: string): string => child(p('addresses'), key);
      const v6 =
        a.ipv6 === undefined ? e.missing(ap('ipv6'), IPV6_EXPECTED) : ipv6Unicast(e, ap('ipv6'), a.ipv6);
      const v4 = a.ipv4 === undefined ? undefined : ipv4Unicast(e, ap('ipv4'), a.ipv4);
      if (v6 && (a.ipv4 === undefined || v4))
        addresses = v4 ? { ipv6: v6.text, ipv4: v4.text } : { ipv6: v6.text };
    }
  }

  const udpPort = optionalInteger(e, p('udpPort'), root.udpPort, 1, 65535, HA_DEFAULTS.udpPort);
  const pool = haIpv4Pool(e, p('ipv4Pool'), root.ipv4Pool);
  if (pool.pool && addresses?.ipv4) {
    const own = ipv4TextToBytes(addresses.ipv4)!;
    const { start, end } = pool.pool;
    if (
      Buffer.compare(own, ipv4TextToBytes(start)!) >= 0 &&
      Buffer.compare(own, ipv4TextToBytes(end)!) <= 0
    ) {
      e.bad(
        child(p('addresses'), 'ipv4'),
        addresses.ipv4,
        `inside ipv4Pool ${start}-${end}`,
        'an address outside the pool',
      );
    }
  }
  const maxLifetimeSeconds = lifetime(
    e,
    p('maxLifetimeSeconds'),
    root.maxLifetimeSeconds,
    HA_DEFAULTS.maxLifetimeSeconds,
  );
  const natKeepaliveSeconds =
    root.natKeepaliveSeconds === undefined
      ? HA_DEFAULTS.natKeepaliveSeconds
      : integer(
          e,
          p('natKeepaliveSeconds'),
          root.natKeepaliveSeconds,
          1,
          MAX_NAT_KEEPALIVE_SECONDS,
          '; 0 and 4294967295 have special meanings, RFC 5555 §3.2.2',
        );
  const allowForceUdp = boolean(e, p('allowForceUdp'), root.allowForceUdp, HA_DEFAULTS.allowForceUdp);
  // Derived SAs alone are enough (a benchmark's HA); otherwise the explicit list is required.
  const securityAssociations =
    root.securityAssociations === undefined && root.derivedSecurityAssociations !== undefined
      ? []
      : haSecurityAssociations(e, p('securityAssociations'), root.securityAssociations, homePrefix);
  const derived = haDerivedSas(
    e,
    p('derivedSecurityAssociations'),
    root.derivedSecurityAssociations,
    homePrefix,
    securityAssociations,
  );
  const dp = dataplane(e, p('dataplane'), root.dataplane, 'ha');
  const ctl = control(e, p('control'), root.control, HA_DEFAULTS.controlSocket);
  const capture = pcap(e, p('pcap'), root.pcap);
  const logConfig = log(e, p('log'), root.log, HA_DEFAULTS.logLevel);

  if (
    !homePrefix ||
    !addresses ||
    udpPort === undefined ||
    !pool.ok ||
    maxLifetimeSeconds === undefined ||
    natKeepaliveSeconds === undefined ||
    allowForceUdp === undefined ||
    !securityAssociations ||
    !derived.ok ||
    !dp.ok ||
    !ctl ||
    !capture.ok ||
    !logConfig
  ) {
    return result<HaConfig>(e, undefined);
  }
  return result<HaConfig>(e, {
    homePrefix,
    addresses,
    udpPort,
    ...(pool.pool && { ipv4Pool: pool.pool }),
    maxLifetimeSeconds,
    natKeepaliveSeconds,
    allowForceUdp,
    securityAssociations,
    ...(derived.range && { derivedSecurityAssociations: derived.range }),
    ...(dp.config && { dataplane: dp.config }),
    control: ctl,
    ...(capture.file !== undefined && { pcap: capture.file }),
    log: logConfig,
  });
}

// ---------------------------------------------------------------------------------------------
// Mobile node

const MN_KEYS = [
  'homeAddress',
  'homePrefix',
  'lifetimeSeconds',
  'ipv4HomeAddress',
  'forceUdp',
  'homeAgent',
  'dns',
  'udpPort',
  'interfaces',
  'securityAssociation',
  'settleMs',
  'dataplane',
  'control',
  'pcap',
  'log',
] as const;

const HOME_AGENT_KINDS = ['addresses', 'name', 'domain'] as const;
const HOME_AGENT_EXPECTED =
  'exactly one of "addresses": [...], "name": "ha.example.net", "domain": "example.net"';

function mnHomeAgent(e: Errors, path: string, value: unknown): MnHomeAgentConfig | undefined {
  if (value === undefined) {
    e.missing(path, `{ ${HOME_AGENT_EXPECTED} }`);
    return undefined;
  }
  const h = object(e, path, value, HOME_AGENT_KINDS, `{ ${HOME_AGENT_EXPECTED} }`);
  if (!h) return undefined;
  const given = HOME_AGENT_KINDS.filter((k) => h[k] !== undefined);
  if (given.length !== 1) {
    e.bad(
      path,
      value,
      given.length === 0 ? 'no home agent given' : `both ${given.join(' and ')}`,
      HOME_AGENT_EXPECTED,
    );
    return undefined;
  }
  if (h.name !== undefined) {
    const name = dnsName(e, child(path, 'name'), h.name);
    return name === undefined ? undefined : { name };
  }
  if (h.domain !== undefined) {
    // RFC 5026 §5.1: the MN asks for SRV _mip6._ipv6.<domain>.
    const domain = dnsName(e, child(path, 'domain'), h.domain);
    return domain === undefined ? undefined : { domain };
  }
  const ap = child(path, 'addresses');
  const list = array(e, ap, h.addresses, 'an array of { "ipv6"?, "ipv4"?, "name"? }, most preferred first');
  if (!list) return undefined;
  const out: HaAddressConfig[] = [];
  let ok = true;
  list.forEach((raw, i) => {
    const p = item(ap, i);
    const keys = ['ipv6', 'ipv4', 'name'];
    const a = object(e, p, raw, keys, '{ "ipv6"?, "ipv4"?, "name"? }');
    if (!a) {
      ok = false;
      return;
    }
    if (a.ipv6 === undefined && a.ipv4 === undefined && a.name === undefined) {
      // A misspelt key was reported already; saying the entry is empty too would be noise.
      if (Object.keys(a).every((k) => keys.includes(k))) {
        e.bad(p, raw, 'no address or name', 'at least one of ipv6, ipv4, name');
      }
      ok = false;
      return;
    }
    const v6 = a.ipv6 === undefined ? undefined : ipv6Unicast(e, child(p, 'ipv6'), a.ipv6);
    const v4 = a.ipv4 === undefined ? undefined : ipv4Unicast(e, child(p, 'ipv4'), a.ipv4);
    const name = a.name === undefined ? undefined : dnsName(e, child(p, 'name'), a.name);
    if ((a.ipv6 !== undefined && !v6) || (a.ipv4 !== undefined && !v4) || (a.name !== undefined && !name)) {
      ok = false;
      return;
    }
    out.push({
      ...(v6 && { ipv6: v6.text }),
      ...(v4 && { ipv4: v4.text }),
      ...(name !== undefined && { name }),
    });
  });
  return ok ? { addresses: out } : undefined;
}

const DNS_SERVER_EXPECTED =
  'an IP address with an optional port: 192.0.2.53, 192.0.2.53:53, 2001:db8::53 or [2001:db8::53]:53';

/** One resolver in node:dns's `setServers` form, address canonical. */
function dnsServer(e: Errors, path: string, value: unknown): string | undefined {
  const text = string(e, path, value, DNS_SERVER_EXPECTED);
  if (text === undefined) return undefined;
  let host = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (text.indexOf(':') === text.lastIndexOf(':') && text.includes(':')) {
    [host, portText] = text.split(':') as [string, string];
  }
  const v6 = ipv6TextToBytes(host);
  const v4 = bracketed ? undefined : ipv4TextToBytes(host);
  if (!v6 && !v4) {
    e.bad(path, value, 'not an IP address', DNS_SERVER_EXPECTED);
    return undefined;
  }
  const address = v6 ? ipv6FromBytes(v6) : ipv4FromBytes(v4!);
  if (portText === undefined) return address;
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    e.bad(path, value, `port ${JSON.stringify(portText)} out of range`, 'a port 1-65535');
    return undefined;
  }
  return v6 ? `[${address}]:${Number(portText)}` : `${address}:${Number(portText)}`;
}

/** Linux interface names: 1-15 bytes, no '/', ':' or white space, not '.' or '..' (dev_valid_name). */
function interfaceName(e: Errors, path: string, value: unknown): string | undefined {
  const expected = `an interface name of 1-${MAX_INTERFACE_NAME} characters, e.g. eth0`;
  const name = string(e, path, value, expected);
  if (name === undefined) return undefined;
  if (Buffer.byteLength(name) > MAX_INTERFACE_NAME || /[/:\s]/.test(name) || name === '.' || name === '..') {
    e.bad(path, value, 'not an interface name', expected);
    return undefined;
  }
  return name;
}

/** Validates the JSON of an MN config file; on failure lists every problem found. */
export function parseMnConfig(json: unknown): ConfigResult<MnConfig> {
  const e = new Errors();
  const root = rootObject(e, 'mn', json, MN_KEYS);
  if (!root) return result<MnConfig>(e, undefined);
  const p = (key: string): string => child('mn', key);

  const homePrefix = ipv6Prefix(e, p('homePrefix'), root.homePrefix);
  let homeAddress =
    root.homeAddress === undefined
      ? e.missing(p('homeAddress'), `${IPV6_EXPECTED}, in homePrefix`)
      : ipv6Unicast(e, p('homeAddress'), root.homeAddress);
  if (
    homeAddress &&
    homePrefix &&
    !inRange(homeAddress.bytes, { bytes: ipv6TextToBytes(homePrefix.address)!, length: homePrefix.length })
  ) {
    e.bad(
      p('homeAddress'),
      root.homeAddress,
      `outside homePrefix ${homePrefix.text}`,
      'a home address in the home prefix, RFC 6275 §10.3.1',
    );
    homeAddress = undefined;
  }
  const lifetimeSeconds = lifetime(
    e,
    p('lifetimeSeconds'),
    root.lifetimeSeconds,
    MN_DEFAULTS.lifetimeSeconds,
  );

  let ipv4HomeAddress: Ipv4Address | undefined;
  let ipv4Ok = true;
  if (root.ipv4HomeAddress === IPV4_DYNAMIC) ipv4HomeAddress = IPV4_UNSPECIFIED;
  else if (root.ipv4HomeAddress !== undefined) {
    const v4 = ipv4Unicast(
      e,
      p('ipv4HomeAddress'),
      root.ipv4HomeAddress,
      `${IPV4_EXPECTED}, or "${IPV4_DYNAMIC}" to have the HA assign one`,
    );
    ipv4HomeAddress = v4?.text;
    ipv4Ok = v4 !== undefined;
  }

  const forceUdp = boolean(e, p('forceUdp'), root.forceUdp, MN_DEFAULTS.forceUdp);
  const homeAgent = mnHomeAgent(e, p('homeAgent'), root.homeAgent);

  let dns: MnConfig['dns'];
  let dnsOk = true;
  if (root.dns !== undefined) {
    dnsOk = false;
    const d = object(e, p('dns'), root.dns, ['servers'], '{ "servers": ["192.0.2.53"] }');
    if (d) {
      const sp = child(p('dns'), 'servers');
      const list =
        d.servers === undefined
          ? e.missing(sp, `an array of ${DNS_SERVER_EXPECTED}`)
          : array(e, sp, d.servers, `an array of addresses, e.g. ["192.0.2.53"]`);
      if (list) {
        const servers = list.map((s, i) => dnsServer(e, item(sp, i), s));
        if (servers.every((s) => s !== undefined)) {
          dns = { servers: servers as string[] };
          dnsOk = true;
        }
      }
    }
  }

  const udpPort = optionalInteger(e, p('udpPort'), root.udpPort, 0, 65535, MN_DEFAULTS.udpPort);

  let interfaces: string[] | undefined;
  let interfacesOk = true;
  if (root.interfaces !== undefined) {
    interfacesOk = false;
    const list = array(
      e,
      p('interfaces'),
      root.interfaces,
      'an array of interface names, e.g. ["eth0", "wlan0"]; leave it out to watch every link but lo',
    );
    if (list) {
      const seen = new Set<string>();
      const names = list.map((raw, i) => {
        const name = interfaceName(e, item(p('interfaces'), i), raw);
        if (name !== undefined && seen.has(name)) {
          e.bad(item(p('interfaces'), i), name, 'listed twice', 'each interface once');
          return undefined;
        }
        if (name !== undefined) seen.add(name);
        return name;
      });
      if (names.every((n) => n !== undefined)) {
        interfaces = names as string[];
        interfacesOk = true;
      }
    }
  }

  let sa: SecurityAssociationConfig | undefined;
  const saPath = p('securityAssociation');
  if (root.securityAssociation === undefined) {
    e.missing(
      saPath,
      '{ "spiIn", "spiOut", "algorithm", "encryptionKey", "authenticationKey"? }, matching the HA\'s entry for homeAddress',
    );
  } else {
    const raw = object(
      e,
      saPath,
      root.securityAssociation,
      SA_KEYS,
      '{ "spiIn", "spiOut", "algorithm", "encryptionKey", "authenticationKey"? }',
    );
    if (raw) sa = securityAssociation(e, saPath, raw).pair;
  }

  const settleMs = optionalInteger(e, p('settleMs'), root.settleMs, 0, MAX_SETTLE_MS, MN_DEFAULTS.settleMs);
  const dp = dataplane(e, p('dataplane'), root.dataplane, 'mn');
  const ctl = control(e, p('control'), root.control, MN_DEFAULTS.controlSocket);
  const capture = pcap(e, p('pcap'), root.pcap);
  const logConfig = log(e, p('log'), root.log, MN_DEFAULTS.logLevel);

  if (
    !homeAddress ||
    !homePrefix ||
    lifetimeSeconds === undefined ||
    !ipv4Ok ||
    forceUdp === undefined ||
    !homeAgent ||
    !dnsOk ||
    udpPort === undefined ||
    !interfacesOk ||
    !sa ||
    settleMs === undefined ||
    !dp.ok ||
    !ctl ||
    !capture.ok ||
    !logConfig
  ) {
    return result<MnConfig>(e, undefined);
  }
  return result<MnConfig>(e, {
    homeAddress: homeAddress.text,
    homePrefix,
    lifetimeSeconds,
    ...(ipv4HomeAddress !== undefined && { ipv4HomeAddress }),
    forceUdp,
    homeAgent,
    ...(dns && { dns }),
    udpPort,
    ...(interfaces && { interfaces }),
    securityAssociation: sa,
    settleMs,
    ...(dp.config && { dataplane: dp.config }),
    control: ctl,
    ...(capture.file !== undefined && { pcap: capture.file }),
    log: logConfig,
  });
}

/**
 * One line per error, e.g. `ha.json: ha.ipv4Pool.start "192.0.2.300": not an IPv4 address (expected a.b.c.d)`;
 * a JSON syntax error as `ha.json:3:15: <message>`, the compiler convention editors jump to.
 */
export function formatConfigErrors(file: string, errors: readonly ConfigError[]): string {
  return errors
    .map((err) => {
      if (err.position) return `${file}:${err.position.line}:${err.position.column}: ${err.message}`;
      return err.path === '' ? `${file}: ${err.message}` : `${file}: ${err.path} ${err.message}`;
    })
    .join('\n');
}
