/**
 * Translation between the machines' typed effects/events and Mobility Header records
 * (src/wire). Pure: building the BU a `sendBindingUpdate` effect asks for, reading a BA into the
 * event the mobile node expects, and the same pair on the home agent's side.
 */

import type { BuReceived, HaSendBindingAckParams } from '../machines/home-agent.js';
import type { MnSendBindingUpdateParams, MobileNodeOutsideEvent } from '../machines/mobile-node.js';
import { baFlags, buFlags, ipv4, ipv6, type MobilityMessage, type MobilityOption } from '../wire/index.js';

type Bu = Extract<MobilityMessage, { kind: 'bindingUpdate' }>;
type Ba = Extract<MobilityMessage, { kind: 'bindingAcknowledgement' }>;

/**
 * The Binding Update for a `sendBindingUpdate` effect (RFC 6275 §11.7.1, RFC 5555 §4.4):
 * A and H set; from an IPv6 care-of address the Alternate CoA option (it MUST be in every home
 * registration away from home, since ESP does not cover the IPv6 source); from an IPv4 care-of
 * address the IPv4 CoA option; the IPv4 Home Address option when an IPv4 HoA is wanted.
 */
export function bindingUpdateFor(p: MnSendBindingUpdateParams): Bu {
  const options: MobilityOption[] = [];
  if (p.attachment === 'ipv6') options.push({ kind: 'alternateCareOfAddress', address: ipv6(p.careOf) });
  if (p.ipv4HomeAddress !== undefined) {
    options.push({ kind: 'ipv4HomeAddress', prefixLength: 32, p: false, address: ipv4(p.ipv4HomeAddress) });
  }
  if (p.attachment === 'ipv4') options.push({ kind: 'ipv4CareOfAddress', address: ipv4(p.careOf) });
  return {
    kind: 'bindingUpdate',
    sequence: p.sequence,
    flags: buFlags({ A: true, H: true, F: p.forceUdp }),
    lifetime: p.lifetimeSeconds,
    options,
  };
}

type BaReceived = Extract<MobileNodeOutsideEvent, { type: 'BA.RECEIVED' }>;

/** The `BA.RECEIVED` fields the mobile node machine takes from a decoded BA. */
export function baReceived(haName: string, ba: Ba, roundTripMs?: number): BaReceived {
  let refreshAdviceSeconds: number | undefined;
  let ipv4Ack: { status: number; address: string; prefixLength: number } | undefined;
  let natDetection: { forceUdp: boolean; refreshSeconds: number } | undefined;
  for (const o of ba.options) {
    if (o.kind === 'bindingRefreshAdvice') refreshAdviceSeconds = o.refreshInterval;
    if (o.kind === 'ipv4AddressAcknowledgement') {
      ipv4Ack = { status: o.status, address: o.address, prefixLength: o.prefixLength };
    }
    if (o.kind === 'natDetection') natDetection = { forceUdp: o.f, refreshSeconds: o.refreshTime };
  }
  return {
    type: 'BA.RECEIVED',
    haName,
    status: ba.status,
    sequence: ba.sequence,
    lifetimeSeconds: ba.lifetime,
    ...(refreshAdviceSeconds !== undefined ? { refreshAdviceSeconds } : {}),
    ...(ipv4Ack ? { ipv4Ack } : {}),
    ...(natDetection ? { natDetection } : {}),
    ...(roundTripMs !== undefined ? { roundTripMs } : {}),
  };
}

/** Where a BU came from, as the home agent's receive path saw it. */
export interface BuArrival {
  /** The home address: the Home Address option, or the inner source of a UDP-encapsulated BU. */
  readonly homeAddress: string;
  /** The IPv6 source (the care-of address for a native BU away from home). */
  readonly ipv6Source: string;
  /** Outer IPv4/UDP source of a UDP-encapsulated BU (RFC 5555 §4.2). */
  readonly udp?: { readonly address: string; readonly port: number };
  /** Home address of the ESP SA that protected it (RFC 4877 §4.2). */
  readonly saHomeAddress: string;
}

/**
 * The `BU.RECEIVED` event for a decoded BU (RFC 6275 §9.5.1: CoA = Alternate CoA option, else
 * the IPv6 source; RFC 5555 §4.2: from IPv4 the IPv4 CoA option, and the outer source for NAT
 * detection).
 */
export function buReceived(bu: Bu, at: BuArrival): BuReceived {
  let altCoa: string | undefined;
  let ipv4Coa: string | undefined;
  let ipv4Hoa: string | undefined;
  for (const o of bu.options) {
    if (o.kind === 'alternateCareOfAddress') altCoa = o.address;
    if (o.kind === 'ipv4CareOfAddress') ipv4Coa = o.address;
    if (o.kind === 'ipv4HomeAddress') ipv4Hoa = o.address;
  }
  const careOf =
    ipv4Coa !== undefined && at.udp
      ? { family: 4 as const, address: ipv4Coa }
      : at.udp
        ? { family: 4 as const, address: at.udp.address }
        : { family: 6 as const, address: altCoa ?? at.ipv6Source };
  return {
    type: 'BU.RECEIVED',
    homeAddress: at.homeAddress,
    saHomeAddress: at.saHomeAddress,
    sequence: bu.sequence,
    homeRegistration: bu.flags.H,
    forceUdp: bu.flags.F,
    lifetimeSeconds: bu.lifetime,
    careOf,
    ...(at.udp ? { udp: { sourceAddress: at.udp.address, sourcePort: at.udp.port } } : {}),
    ...(ipv4Coa !== undefined ? { ipv4CareOfAddress: ipv4Coa } : {}),
    ...(ipv4Hoa !== undefined ? { ipv4HomeAddressRequested: ipv4Hoa } : {}),
  };
}

/** The Binding Acknowledgement for a `sendBindingAck` effect (RFC 6275 §10.3.1, RFC 5555 §4.2). */
export function bindingAckFor(p: HaSendBindingAckParams): Ba {
  const options: MobilityOption[] = [];
  if (p.refreshAdviceSeconds !== undefined) {
    options.push({ kind: 'bindingRefreshAdvice', refreshInterval: p.refreshAdviceSeconds });
  }
  if (p.ipv4Ack) {
    options.push({
      kind: 'ipv4AddressAcknowledgement',
      status: p.ipv4Ack.status,
      prefixLength: p.ipv4Ack.prefixLength,
      address: ipv4(p.ipv4Ack.address),
    });
  }
  if (p.natDetection) {
    options.push({
      kind: 'natDetection',
      f: p.natDetection.forceUdp,
      refreshTime: p.natDetection.refreshSeconds,
    });
  }
  return {
    kind: 'bindingAcknowledgement',
    status: p.status,
    flags: baFlags(),
    sequence: p.sequence,
    lifetime: p.lifetimeSeconds,
    options,
  };
}
