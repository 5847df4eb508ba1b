/**
 * Mobility Header packets as they travel: IPv6 with an optional Home Address option (BU from a
 * care-of address) or Type 2 Routing Header (BA to a care-of address), RFC 6275 §6.3, §6.4,
 * §9.5.4, §11.7.1. The MH checksum uses the home addresses, per §6.1.1. ESP sits between IPv6
 * and the MH in real signalling (src/security adds it); this module handles the plain layout.
 */

import type { Ipv6Address } from './address.js';
import { IpProto } from './constants.js';
import { fail, ok, type Parsed } from './error.js';
import { emitIpv6, type Ipv6Packet, parseIpv6, upperLayerPseudoHeader } from './ipv6.js';
import type { Ipv6Extension } from './ipv6-ext.js';
import { emitMobilityHeader, type MobilityMessage, parseMobilityHeaderAt } from './mh.js';

export interface MobilityPacketFields {
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address;
  readonly hopLimit?: number;
  /** Home Address destination option: the MN's home address when sending from a care-of address. */
  readonly homeAddress?: Ipv6Address;
  /** Type 2 Routing Header: the MN's home address when the HA sends to a care-of address. */
  readonly routingHomeAddress?: Ipv6Address;
}

export interface MobilityPacket {
  readonly ipv6: Ipv6Packet;
  readonly message: MobilityMessage;
}

/** Extension headers in the order RFC 8200 §4.1 requires: routing before destination options. */
export function mobilityExtensions(f: MobilityPacketFields): Ipv6Extension[] {
  const exts: Ipv6Extension[] = [];
  if (f.routingHomeAddress) exts.push({ kind: 'routingType2', homeAddress: f.routingHomeAddress });
  if (f.homeAddress)
    exts.push({ kind: 'destinationOptions', options: [{ kind: 'homeAddress', address: f.homeAddress }] });
  return exts;
}

/** Builds IPv6 [+ Type 2 RH] [+ Destination Options with HAO] + MH. */
export function emitMobilityPacket(f: MobilityPacketFields, message: MobilityMessage): Uint8Array {
  const extensions = mobilityExtensions(f);
  const fields = {
    dscp: 0,
    ecn: 0,
    flowLabel: 0,
    hopLimit: f.hopLimit ?? 64,
    src: f.src,
    dst: f.dst,
    extensions,
    protocol: IpProto.Mobility,
  };
  return emitIpv6(fields, emitMobilityHeader(message, upperLayerPseudoHeader(fields)));
}

/** Parses an IPv6 packet whose upper layer is the Mobility Header. */
export function parseMobilityPacket(buf: Uint8Array): Parsed<MobilityPacket> {
  const p = parseIpv6(buf);
  if (!p.ok) return p;
  const ipv6 = p.value;
  if (ipv6.protocol !== IpProto.Mobility) {
    return fail(
      'ipv6',
      'unsupported',
      'nextHeader',
      ipv6.payloadOffset,
      ipv6.protocol,
      '135 (Mobility Header)',
    );
  }
  const m = parseMobilityHeaderAt(buf, ipv6.payloadOffset, upperLayerPseudoHeader(ipv6));
  if (!m.ok) return m;
  return ok({ ipv6, message: m.value });
}
