/**
 * Security Associations for the MN-HA signalling (RFC 6275 §5.1, RFC 4877 §4) and the SA database
 * (SAD). SAs are keyed on the mobile node's home address, not its care-of address, so they survive
 * movement (RFC 4877 §4.4); the HA must check that a BU for a home address arrived under an SA for
 * that home address (RFC 6275 §5.1, RFC 4877 §4.2), which is why `open` hands back the SA.
 */

import { randomBytes } from 'node:crypto';
import { type Ipv6Address, ipv6FromBytes, ipv6TextToBytes } from '../wire/address.js';
import { ALGORITHMS, type AlgorithmSpec, type EspAlgorithm, isEspAlgorithm } from './algorithms.js';
import {
  DEFAULT_REPLAY_WINDOW,
  MAX_REPLAY_WINDOW,
  MIN_REPLAY_WINDOW,
  OutboundSequence,
  ReplayWindow,
} from './replay.js';

export type SaDirection = 'in' | 'out';

/** An SA as configured (manual keying, RFC 6275 §5.1) or as handed over by a key exchange. */
export interface SaConfig {
  /** 256-4294967295: 0 is never sent and 1-255 are reserved (RFC 4303 §2.1). */
  readonly spi: number;
  readonly direction: SaDirection;
  readonly algorithm: EspAlgorithm;
  /** The cipher key; for AES-GCM the 4-byte salt follows the key (RFC 4106 §8.1, as tshark takes it). */
  readonly encryptionKey: Uint8Array;
  /** HMAC-SHA-256-128 key (32 bytes) for AES-CBC; absent for AES-GCM. */
  readonly authenticationKey?: Uint8Array;
  /** The MN home address the SA belongs to (RFC 4877 §4.4). */
  readonly homeAddress: string;
  /** The other end's address (the HA for the MN, unset for the HA); narrows outbound lookups. */
  readonly peer?: string;
  /** Inbound anti-replay window; 64 by default (RFC 4303 §3.4.3), 0 turns it off. */
  readonly replayWindow?: number;
}

/** Thrown for an SA that cannot be used; the message starts with the field path (`sa[0].spi: ...`). */
export class SaConfigError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'SaConfigError';
    this.field = field;
  }
}

export interface SaOptions {
  /** Prefix for error messages, e.g. `sa[2]` (default `sa`). */
  readonly path?: string;
  /** Last outbound sequence number sent (state restore, tests); default 0. */
  readonly lastSequence?: number;
  /**
   * Start of the AES-GCM explicit IV counter (IV = ivBase + sequence, mod 2^64). Random by default:
   * a manually keyed SA restarts its sequence at 1 after a restart, and a fixed base would then
   * repeat (key, nonce) pairs, which breaks GCM (RFC 4106 §3.1, §10).
   */
  readonly ivBase?: bigint;
}

const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

const ALGORITHM_LABEL: Record<EspAlgorithm, string> = {
  'aes-gcm-16': 'AES-GCM',
  'aes-cbc-hmac-sha256': 'AES-CBC',
};

const listBytes = (ns: readonly number[]): string =>
  ns.length === 1 ? `${ns[0]}` : `${ns.slice(0, -1).join(', ')} or ${ns[ns.length - 1]}`;

function canonicalIpv6(value: unknown, field: string): Ipv6Address {
  const bytes = typeof value === 'string' ? ipv6TextToBytes(value) : undefined;
  if (!bytes) throw new SaConfigError(field, `must be an IPv6 address, got ${JSON.stringify(value)}`);
  return ipv6FromBytes(bytes);
}

const describeKey = (v: unknown): string =>
  v instanceof Uint8Array ? `${v.length}` : v === undefined ? 'none' : `a ${typeof v}, not a Uint8Array`;

/** A validated SA with its runtime state (outbound counter, inbound replay window). */
export class SecurityAssociation {
  readonly spi: number;
  readonly direction: SaDirection;
  readonly algorithm: EspAlgorithm;
  readonly spec: AlgorithmSpec;
  readonly encryptionKey: Uint8Array;
  readonly authenticationKey: Uint8Array | undefined;
  readonly homeAddress: Ipv6Address;
  readonly peer: Ipv6Address | undefined;
  readonly replayWindow: number;
  /** Receiver state (meaningful for direction 'in'). */
  readonly replay: ReplayWindow;
  /** Sender state (meaningful for direction 'out'). */
  readonly sequence: OutboundSequence;
  readonly ivBase: bigint;

  /** Validates `config`; throws SaConfigError naming the field (`${path}.encryptionKey: ...`). */
  constructor(config: SaConfig, options: SaOptions = {}) {
    const path = options.path ?? 'sa';
    const at = (field: string): string => `${path}.${field}`;
    const c = config as unknown as Record<string, unknown>;

    const spi = c.spi;
    if (typeof spi !== 'number' || !Number.isInteger(spi) || spi < 256 || spi > 0xffffffff) {
      throw new SaConfigError(
        at('spi'),
        `must be an integer 256-4294967295 (0 is never sent, 1-255 are reserved, RFC 4303 §2.1), got ${JSON.stringify(spi)}`,
      );
    }
    if (c.direction !== 'in' && c.direction !== 'out') {
      throw new SaConfigError(at('direction'), `must be 'in' or 'out', got ${JSON.stringify(c.direction)}`);
    }
    if (!isEspAlgorithm(c.algorithm)) {
      throw new SaConfigError(
        at('algorithm'),
        `must be one of ${Object.keys(ALGORITHMS)
          .map((a) => `'${a}'`)
          .join(', ')}, got ${JSON.stringify(c.algorithm)}`,
      );
    }
    const algorithm = c.algorithm;
    const spec = ALGORITHMS[algorithm];
    const label = ALGORITHM_LABEL[algorithm];

    const ek = c.encryptionKey;
    if (!(ek instanceof Uint8Array) || !spec.encryptionKeyLengths.includes(ek.length)) {
      const what = algorithm === 'aes-gcm-16' ? ' (key + 4-byte salt)' : '';
      throw new SaConfigError(
        at('encryptionKey'),
        `${label} needs ${listBytes(spec.encryptionKeyLengths)} bytes${what}, got ${describeKey(ek)}`,
      );
    }
    const ak = c.authenticationKey;
    if (spec.authenticationKeyLength === undefined) {
      if (ak !== undefined) {
        throw new SaConfigError(
          at('authenticationKey'),
          `${label} authenticates by itself (RFC 4106); leave authenticationKey out, got ${describeKey(ak)} bytes`,
        );
      }
    } else if (!(ak instanceof Uint8Array) || ak.length !== spec.authenticationKeyLength) {
      throw new SaConfigError(
        at('authenticationKey'),
        `HMAC-SHA-256-128 needs ${spec.authenticationKeyLength} bytes (RFC 4868 §2.1.1), got ${describeKey(ak)}`,
      );
    }
    const homeAddress = canonicalIpv6(c.homeAddress, at('homeAddress'));
    const peer = c.peer === undefined ? undefined : canonicalIpv6(c.peer, at('peer'));
    const rw = c.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    if (
      typeof rw !== 'number' ||
      !Number.isInteger(rw) ||
      (rw !== 0 && (rw < MIN_REPLAY_WINDOW || rw > MAX_REPLAY_WINDOW))
    ) {
      throw new SaConfigError(
        at('replayWindow'),
        `must be 0 (off) or an integer ${MIN_REPLAY_WINDOW}-${MAX_REPLAY_WINDOW} (RFC 4303 §3.4.3), got ${JSON.stringify(rw)}`,
      );
    }
    const ivBase = options.ivBase ?? randomBytes(8).readBigUInt64BE(0);
    if (ivBase < 0n || ivBase >= 1n << 64n) {
      throw new SaConfigError(`${path} ivBase`, `must be 0 to 2^64-1, got ${ivBase}`);
    }

    this.spi = spi;
    this.direction = c.direction;
    this.algorithm = algorithm;
    this.spec = spec;
    // Copies: the SA must not change because a caller reused its buffer.
    this.encryptionKey = ek.slice();
    this.authenticationKey = ak instanceof Uint8Array ? ak.slice() : undefined;
    this.homeAddress = homeAddress;
    this.peer = peer;
    this.replayWindow = rw;
    this.replay = new ReplayWindow(rw);
    this.sequence = new OutboundSequence(spi, options.lastSequence ?? 0);
    this.ivBase = ivBase;
  }

  /** `in 0x00001001 aes-gcm-16 for 2001:db8:1::100`, for logs. */
  toString(): string {
    return `${this.direction} ${hex8(this.spi)} ${this.algorithm} for ${this.homeAddress}`;
  }
}

/**
 * The SA database: inbound SAs found by SPI (RFC 4303 §4.1, unicast), outbound SAs by the home
 * address they protect and, when several exist, the peer.
 */
export class SecurityAssociationDatabase {
  readonly #inbound = new Map<number, SecurityAssociation>();
  /** By home address: a home agent seals every BA with the SA of its MN, among 100k of them. */
  readonly #outbound = new Map<string, SecurityAssociation[]>();
  #outboundCount = 0;

  /** Builds a SAD from a config list; errors name the entry (`sa[1].authenticationKey: ...`). */
  static from(configs: readonly SaConfig[], path = 'sa'): SecurityAssociationDatabase {
    const sad = new SecurityAssociationDatabase();
    configs.forEach((c, i) => {
      sad.add(c, { path: `${path}[${i}]` });
    });
    return sad;
  }

  /** Adds an SA (validating a config first); throws SaConfigError on a clash with an existing SA. */
  add(sa: SaConfig | SecurityAssociation, options: SaOptions = {}): SecurityAssociation {
    const entry = sa instanceof SecurityAssociation ? sa : new SecurityAssociation(sa, options);
    const path = options.path ?? 'sa';
    if (entry.direction === 'in') {
      const other = this.#inbound.get(entry.spi);
      if (other) {
        throw new SaConfigError(
          `${path}.spi`,
          `inbound SPI ${hex8(entry.spi)} is already used by the SA for ${other.homeAddress}`,
        );
      }
      this.#inbound.set(entry.spi, entry);
    } else {
      const forHoa = this.#outbound.get(entry.homeAddress);
      const clash = forHoa?.find((o) => o.peer === entry.peer);
      if (clash) {
        throw new SaConfigError(
          `${path}.homeAddress`,
          `an outbound SA for ${entry.homeAddress}${entry.peer ? ` to ${entry.peer}` : ''} exists already (spi ${hex8(clash.spi)})`,
        );
      }
      if (forHoa) forHoa.push(entry);
      else this.#outbound.set(entry.homeAddress, [entry]);
      this.#outboundCount++;
    }
    return entry;
  }

  /** Removes the SA with `spi` in `direction`; true when one was removed. */
  remove(spi: number, direction: SaDirection): boolean {
    if (direction === 'in') return this.#inbound.delete(spi);
    for (const [hoa, list] of this.#outbound) {
      const i = list.findIndex((o) => o.spi === spi);
      if (i < 0) continue;
      list.splice(i, 1);
      if (list.length === 0) this.#outbound.delete(hoa);
      this.#outboundCount--;
      return true;
    }
    return false;
  }

  /** The inbound SA for an SPI read off the wire. */
  inbound(spi: number): SecurityAssociation | undefined {
    return this.#inbound.get(spi);
  }

  /**
   * The outbound SA protecting `homeAddress` (to `peer`): an SA for exactly that peer, else one
   * with no peer set; without `peer`, the first SA for the home address.
   */
  outbound(homeAddress: string, peer?: string): SecurityAssociation | undefined {
    // Canonical text (what the codec and the machines hand over) finds the SA without parsing.
    let forHoa = this.#outbound.get(homeAddress);
    if (!forHoa) {
      const hoa = ipv6TextToBytes(homeAddress);
      if (!hoa) return undefined;
      forHoa = this.#outbound.get(ipv6FromBytes(hoa)) ?? [];
    }
    if (peer === undefined) return forHoa[0];
    const p = ipv6TextToBytes(peer);
    const exact = p ? forHoa.find((o) => o.peer === ipv6FromBytes(p)) : undefined;
    return exact ?? forHoa.find((o) => o.peer === undefined);
  }

  get size(): number {
    return this.#inbound.size + this.#outboundCount;
  }

  /** Every SA, inbound first. */
  all(): SecurityAssociation[] {
    return [...this.#inbound.values(), ...[...this.#outbound.values()].flat()];
  }
}
