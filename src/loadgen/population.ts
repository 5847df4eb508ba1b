/**
 * The simulated mobile nodes of `dsmip6 loadgen`: mobile node i of the HA's
 * `derivedSecurityAssociations` range, with that range's home address and SA pair (the same
 * derivation the home agent uses, src/security/derived.ts), a care-of address, a UDP source
 * socket, and whether it sits behind a NAT or asks for an IPv4 home address. Each one sends what
 * a real mobile node on an IPv4 network sends (RFC 5555 §4.1: the BU in UDP to port 4191,
 * IPv6 source = home address, ESP in transport mode), so the HA cannot tell them apart.
 */

import { seededRandom } from '../net/memory.js';
import { type DerivedSaRange, derivedSaPair } from '../security/derived.js';
import { SecurityAssociation, SecurityAssociationDatabase } from '../security/sa.js';

export interface SimulatedMobileNode {
  readonly index: number;
  readonly homeAddress: string;
  /** The SA protecting its BUs (the HA's inbound SA of the pair). */
  readonly sa: SecurityAssociation;
  /** Behind a NAT: the IPv4 CoA option names a private address the HA does not see (RFC 5555 §4.2). */
  readonly nat: boolean;
  /** Asks for a dynamic IPv4 home address (IPv4 Home Address option 0.0.0.0, RFC 5555 §2.5). */
  readonly wantsIpv4: boolean;
  /** Index of the UDP socket it sends from; a move changes it (new source port). */
  socket: number;
  /** Moves so far: a NAT'd node's private care-of address changes with each. */
  moves: number;
  sequence: number;
  /** Sequence number of the BU awaiting its BA, and when it left (performance.now ms); -1: none. */
  outstanding: number;
  sentAt: number;
}

export interface PopulationOptions {
  readonly range: DerivedSaRange;
  /** How many of the range's mobile nodes to simulate (the first `count`). */
  readonly count: number;
  readonly natRatio: number;
  readonly ipv4HomeRatio: number;
  readonly sockets: number;
  readonly seed: number;
  /** ESP sequence number before the first BU of each SA (see espSequenceStart). */
  readonly firstEspSequence: number;
}

/** 2026-11-01T00:00:00Z: ESP sequence starts count from here. */
const SEQUENCE_EPOCH_MS = Date.UTC(2026, 10, 1);
/** A node sends far fewer BUs per second than this, so each run starts above the last one's end. */
const SEQUENCES_PER_SECOND = 64;

/**
 * Where a run's ESP sequence numbers start. The SAs are manually keyed, so the HA keeps each
 * inbound SA's anti-replay window across load generator runs (RFC 4303 §3.4.3); starting every
 * run at 1 would have all its BUs dropped as replays. Starting from the wall clock keeps each run
 * above the previous one for about two years of runs (2^32 / 64 seconds).
 */
export function espSequenceStart(nowMs: number): number {
  const start = Math.floor(((nowMs - SEQUENCE_EPOCH_MS) / 1000) * SEQUENCES_PER_SECOND);
  return Math.min(Math.max(0, start), 0xffffffff - 0x1000_0000);
}

export interface Population {
  readonly nodes: SimulatedMobileNode[];
  /** Inbound SAs of every node (the HA's outbound ones), to open BAs: the SPI picks the node. */
  readonly sad: SecurityAssociationDatabase;
  /** Node of an inbound SPI. */
  nodeOfSpi(spi: number): SimulatedMobileNode | undefined;
}

/** The private care-of address a NAT'd node claims (10.0.0.0/8, RFC 1918), new after each move. */
export function privateCareOf(node: SimulatedMobileNode): string {
  const n = node.index * 7 + node.moves;
  return `10.${Math.floor(n / (254 * 256)) % 256}.${Math.floor(n / 254) % 256}.${1 + (n % 254)}`;
}

export function createPopulation(o: PopulationOptions): Population {
  const random = seededRandom(o.seed);
  const nodes: SimulatedMobileNode[] = [];
  const sad = new SecurityAssociationDatabase();
  for (let i = 0; i < o.count; i++) {
    const pair = derivedSaPair(o.range, i);
    const keys = {
      algorithm: pair.algorithm,
      encryptionKey: pair.encryptionKey,
      ...(pair.authenticationKey ? { authenticationKey: pair.authenticationKey } : {}),
      homeAddress: pair.homeAddress,
    };
    // From the MN's side: it sends on the HA's inbound SPI and receives on the HA's outbound one.
    const sa = new SecurityAssociation(
      { ...keys, spi: pair.spiIn, direction: 'out' },
      { lastSequence: o.firstEspSequence },
    );
    sad.add({ ...keys, spi: pair.spiOut, direction: 'in' });
    nodes.push({
      index: i,
      homeAddress: pair.homeAddress,
      sa,
      nat: random() < o.natRatio,
      wantsIpv4: random() < o.ipv4HomeRatio,
      socket: i % o.sockets,
      moves: 0,
      // RFC 6275 §11.7.1: the first sequence number is random.
      sequence: Math.floor(random() * 0x10000),
      outstanding: -1,
      sentAt: 0,
    });
  }
  const base = o.range.spiOutBase;
  return { nodes, sad, nodeOfSpi: (spi) => nodes[spi - base] };
}
