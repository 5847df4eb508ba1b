/**
 * Binding cache entry at the home agent (RFC 6275 §9.5, §10.3; RFC 5555 §4.2, §4.5): one actor per
 * IPv6 home address. The home agent supervisor has already checked the IPsec SA ↔ home address
 * binding, that it serves as home agent (131) and the home prefix (132), and it allocates dynamic
 * IPv4 home addresses; this machine applies the per-entry rules: the sequence window (135), the
 * registration type (139), forced UDP (144), lifetime granting and expiry, deregistration with
 * delayed delete, the IPv4 home address binding with its own lifetime, and NAT state.
 *
 * Every Binding Acknowledgement is the `sendBindingAck` action; what the supervisor must do
 * (intercept, tunnel, return an IPv4 lease, stop the actor) is told through `report`.
 */

import { assign, setup } from 'xstate';
import type { MachineModel } from '../testgen/model.js';
import {
  BaStatus,
  Ipv4AckStatus,
  LIFETIME_UNIT_SECONDS,
  NATD_REFRESH_NOT_NEEDED,
} from '../wire/constants.js';

/**
 * RFC 6275 §12, §10.3.2: MAX_DELETE_BCE_TIMEOUT. After a deregistration the entry is kept (no longer
 * intercepting) this long so that a late, older BU is answered with 135 instead of re-creating it.
 */
export const MAX_DELETE_BCE_TIMEOUT_MS = 10_000;
/** RFC 5555 §6: NATKATIMEOUT, the default NAT keepalive period sent in NAT Detection. */
export const NATKATIMEOUT_SECONDS = 110;
/** RFC 6275 §9.5.1: sequence numbers are 16-bit and compared modulo 2^16. */
const SEQUENCE_MODULUS = 0x1_0000;
/** RFC 6275 §9.5.1: "less than or equal" means within [last − 32768, last] modulo 2^16. */
const SEQUENCE_HALF_WINDOW = 0x8000;
/** Prefix length of a failed IPv4 Address Acknowledgement: RFC 5555 §3.2.1 says it MUST be 0. */
const FAILED_IPV4_ACK_PREFIX_LENGTH = 0;

export type CareOf = { family: 6; address: string } | { family: 4; address: string };

/** Where UDP-encapsulated packets for the MN go: the outer source of its BU (RFC 5555 §4.2). */
export interface UdpEndpoint {
  address: string;
  port: number;
}

/**
 * Data-plane encapsulation toward the MN (RFC 5555 §4.1, §4.5): 'ip6' = IPv6-in-IPv6 and
 * IPv4-in-IPv6 to an IPv6 CoA; 'ip4' = IPv6-in-IPv4 (41) and IPv4-in-IPv4 (4) to a public IPv4
 * CoA; 'udp' = everything in UDP to the observed address and port (NAT detected, or F forced).
 */
export type TunnelMode = 'ip6' | 'ip4' | 'udp';

export interface BindingCacheEntryInput {
  homeAddress: string;
  /** Policy maximum for the granted lifetime (RFC 6275 §10.3.1). */
  maxLifetimeSeconds: number;
  /** Refresh time sent in NAT Detection when keepalives are needed (RFC 5555 §3.2.2, §6). */
  natKeepaliveSeconds: number;
  /** Whether this HA accepts the F flag (RFC 5555 §4.5); otherwise such BUs get 144. */
  allowForceUdp: boolean;
}

/** The IPv4 Home Address option of a BU (RFC 5555 §3.1.1), with the supervisor's decision. */
export interface Ipv4HomeAddressRequest {
  /** '0.0.0.0' asks for a dynamic address (RFC 5555 §2.5). */
  requested: string;
  /** The address the supervisor allocated or validated for this MN (dynamic or static). */
  assigned?: { address: string; prefixLength: number; leaseSeconds: number };
  /** Ipv4AckStatus >= 128 decided by the supervisor, e.g. 132 when the pool is empty. */
  failureStatus?: number;
}

/** A Binding Update for this home address that passed the supervisor's checks. */
export interface BindingUpdateReceived {
  type: 'BU';
  sequence: number;
  /** H flag (RFC 6275 §6.1.7). */
  homeRegistration: boolean;
  /** F flag (RFC 5555 §3.1.3). */
  forceUdp: boolean;
  lifetimeSeconds: number;
  careOf: CareOf;
  /** Outer source of a UDP-encapsulated BU (RFC 5555 §4.2); absent for a native BU. */
  udp?: { sourceAddress: string; sourcePort: number };
  /** IPv4 Care-of Address option (RFC 5555 §3.1.2). */
  ipv4CareOfAddress?: string;
  ipv4HomeAddress?: Ipv4HomeAddressRequest;
}

export type BindingCacheEntryEvent = BindingUpdateReceived;

export interface SendBindingAckParams {
  status: number;
  sequence: number;
  lifetimeSeconds: number;
  /** IPv4 Address Acknowledgement (RFC 5555 §3.2.1): present whenever the BU had the IPv4 HoA option. */
  ipv4Ack?: { status: number; address: string; prefixLength: number };
  /** NAT Detection (RFC 5555 §3.2.2): present whenever the BU came in UDP, or F was accepted. */
  natDetection?: { forceUdp: boolean; refreshSeconds: number };
  /** Binding Refresh Advice (RFC 6275 §6.2.4), less than the granted lifetime. */
  refreshAdviceSeconds?: number;
  /** Send in UDP to this address and port (the BU's outer source); absent: native, to the CoA. */
  udp?: { address: string; port: number };
}

export type BindingCacheEntryReport =
  /** Intercept for the home address(es) and tunnel to the care-of address; sent on every accepted BU. */
  | {
      type: 'BCE.REGISTERED';
      homeAddress: string;
      careOf: CareOf;
      lifetimeSeconds: number;
      tunnel: TunnelMode;
      /** Outer address and port of the BU when a NAT was detected. */
      nat?: UdpEndpoint;
      /** Where UDP-tunnelled data goes; present exactly when tunnel is 'udp'. */
      udpEndpoint?: UdpEndpoint;
      ipv4HomeAddress?: string;
      ipv4PrefixLength?: number;
      /** min(IPv6 lifetime, lease) (RFC 5555 §4.4.2). */
      ipv4LifetimeSeconds?: number;
      sequence: number;
    }
  /** A BU was refused; the BA with `status` went out. For logs and counters. */
  | { type: 'BCE.REJECTED'; homeAddress: string; status: number; sequence: number }
  /** Lifetime-0 BU accepted: stop intercepting now; DELETED follows after MAX_DELETE_BCE_TIMEOUT. */
  | { type: 'BCE.DEREGISTERED'; homeAddress: string }
  /** The lifetime ran out without a refresh; DELETED follows at once. */
  | { type: 'BCE.EXPIRED'; homeAddress: string }
  /** An IPv4 home address is no longer bound (or an allocation was not used): return it to the pool. */
  | { type: 'BCE.IPV4_RELEASED'; homeAddress: string; address: string }
  /** The entry is gone; the actor is in its final state. */
  | { type: 'BCE.DELETED'; homeAddress: string };

export interface Ipv4Binding {
  address: string;
  prefixLength: number;
  lifetimeSeconds: number;
}

export interface BindingCacheEntryContext {
  homeAddress: string;
  maxLifetimeSeconds: number;
  natKeepaliveSeconds: number;
  allowForceUdp: boolean;
  /** Last accepted sequence number; null before the first accepted BU (§9.5.1: any is accepted). */
  lastSequence: number | null;
  /** H flag of the entry (§9.5.1: a BU with another value gets 139). */
  homeRegistration: boolean;
  careOf: CareOf | null;
  /** Granted lifetime of the current registration, seconds. */
  lifetimeSeconds: number;
  tunnel: TunnelMode | null;
  nat: UdpEndpoint | null;
  udpEndpoint: UdpEndpoint | null;
  ipv4: Ipv4Binding | null;
}

type Bu = BindingUpdateReceived;

/** RFC 6275 §9.5.1: true if `sequence` is newer than `last`, modulo 2^16. */
export function isNewerSequence(sequence: number, last: number): boolean {
  const ahead = (((sequence - last) % SEQUENCE_MODULUS) + SEQUENCE_MODULUS) % SEQUENCE_MODULUS;
  return ahead > 0 && ahead < SEQUENCE_HALF_WINDOW;
}

const floorToUnit = (seconds: number): number =>
  Math.floor(seconds / LIFETIME_UNIT_SECONDS) * LIFETIME_UNIT_SECONDS;

/**
 * RFC 6275 §10.3.1: granted lifetime ≤ requested and ≤ policy maximum, in 4-s units (§6.1.8),
 * rounded down. Never 0 for a registration: a BA lifetime of 0 reads as a deregistration.
 */
export function grantedLifetimeSeconds(requestedSeconds: number, maxLifetimeSeconds: number): number {
  return Math.max(LIFETIME_UNIT_SECONDS, floorToUnit(Math.min(requestedSeconds, maxLifetimeSeconds)));
}

/** RFC 6275 §6.2.4, §10.3.1: refresh advice at half the lifetime (4-s units); none when that is 0. */
export function refreshAdviceSeconds(grantedSeconds: number): number | undefined {
  const advice = floorToUnit(grantedSeconds / 2);
  return advice > 0 ? advice : undefined;
}

/** RFC 5555 §4.2, §4.5: the outer source differs from the IPv4 CoA option → a NAT is on the path. */
function natOf(event: Bu): UdpEndpoint | null {
  if (!event.udp) return null;
  const careOf = event.ipv4CareOfAddress ?? event.careOf.address;
  return event.udp.sourceAddress === careOf
    ? null
    : { address: event.udp.sourceAddress, port: event.udp.sourcePort };
}

const forcedUdp = (context: BindingCacheEntryContext, event: Bu): boolean =>
  event.forceUdp && context.allowForceUdp;

/**
 * RFC 5555 §3.2.2, §4.2: NAT Detection MUST be in every BA answering a UDP-encapsulated BU.
 * Refresh = the keepalive period when a NAT was detected or UDP is forced (the MN sets F when
 * IP-in-IP does not get through, so a stateful middlebox may be on the path); otherwise
 * 0xFFFFFFFF, "no keepalives needed".
 */
function natDetectionFor(
  context: BindingCacheEntryContext,
  event: Bu,
): SendBindingAckParams['natDetection'] | undefined {
  const forced = forcedUdp(context, event);
  if (!event.udp && !forced) return undefined;
  const keepalive = natOf(event) !== null || forced;
  return {
    forceUdp: forced,
    refreshSeconds: keepalive ? context.natKeepaliveSeconds : NATD_REFRESH_NOT_NEEDED,
  };
}

/** RFC 5555 §4.2: the BA, accepted or not, goes back the way the BU came. */
function replyPath(event: Bu): Pick<SendBindingAckParams, 'udp'> {
  return event.udp ? { udp: { address: event.udp.sourceAddress, port: event.udp.sourcePort } } : {};
}

/**
 * RFC 5555 §4.1, §4.5: which encapsulation the data plane uses toward the MN. UDP needs the MN's
 * port, which only a UDP-encapsulated BU shows (§4.2); an accepted F on a native BU is answered
 * with NAT Detection F=1 so the MN switches to UDP, and its next (UDP) BU moves the tunnel.
 */
function tunnelFor(context: BindingCacheEntryContext, event: Bu): TunnelMode {
  if (natOf(event) !== null || (forcedUdp(context, event) && event.udp)) return 'udp';
  return event.careOf.family === 6 ? 'ip6' : 'ip4';
}

/** The IPv4 binding an accepted BU creates: only with a successful assignment (RFC 5555 §4.5). */
function ipv4BindingFor(context: BindingCacheEntryContext, event: Bu): Ipv4Binding | null {
  const request = event.ipv4HomeAddress;
  if (!request?.assigned || request.failureStatus !== undefined) return null;
  const lifetime = grantedLifetimeSeconds(event.lifetimeSeconds, context.maxLifetimeSeconds);
  return {
    address: request.assigned.address,
    prefixLength: request.assigned.prefixLength,
    // RFC 5555 §4.4.2: the IPv4 binding lasts min(IPv6 binding lifetime, lease).
    lifetimeSeconds: Math.min(lifetime, request.assigned.leaseSeconds),
  };
}

/** The IPv4 Address Acknowledgement for a BU that carried the IPv4 HoA option (RFC 5555 §4.5). */
function ipv4AckFor(
  event: Bu,
  bound: Ipv4Binding | null,
  rejectedStatus?: number,
): SendBindingAckParams['ipv4Ack'] | undefined {
  const request = event.ipv4HomeAddress;
  if (!request) return undefined;
  if (bound && rejectedStatus === undefined) {
    return { status: Ipv4AckStatus.Success, address: bound.address, prefixLength: bound.prefixLength };
  }
  return {
    // The whole BU was refused, or the supervisor refused the IPv4 part: say so explicitly, so the
    // MN does not read a missing Ack as "this HA lacks IPv4 support" (RFC 5555 §4.4.2).
    status: request.failureStatus ?? Ipv4AckStatus.FailureReasonUnspecified,
    address: request.requested,
    prefixLength: FAILED_IPV4_ACK_PREFIX_LENGTH,
  };
}

/**
 * IPv4 addresses that stop being bound (or were allocated for this BU and not used) when the
 * entry goes from `before` to `after`: the pool must take each back exactly once.
 */
export function releasedIpv4Addresses(
  before: Ipv4Binding | null,
  event: Bu | undefined,
  after: Ipv4Binding | null,
): string[] {
  const candidates = [before?.address, event?.ipv4HomeAddress?.assigned?.address];
  const released: string[] = [];
  for (const address of candidates) {
    if (address !== undefined && address !== after?.address && !released.includes(address)) {
      released.push(address);
    }
  }
  return released;
}

const withIpv4Ack = (ipv4Ack: SendBindingAckParams['ipv4Ack']): Pick<SendBindingAckParams, 'ipv4Ack'> =>
  ipv4Ack ? { ipv4Ack } : {};
const withNatDetection = (
  natDetection: SendBindingAckParams['natDetection'],
): Pick<SendBindingAckParams, 'natDetection'> => (natDetection ? { natDetection } : {});

type EntryAction =
  | { type: 'sendBindingAck'; params: SendBindingAckParams }
  | { type: 'report'; params: BindingCacheEntryReport };

/**
 * A refused BU (RFC 6275 §9.5.1, §10.3.2; RFC 5555 §4.5): the entry is unchanged; the BA goes
 * back the way the BU came, with NAT Detection if it came in UDP, and an IPv4 Ack failure if it
 * asked for an IPv4 home address; an address allocated for it goes back to the pool.
 */
function rejection(
  context: BindingCacheEntryContext,
  event: Bu,
  status: number,
  sequence: number,
): EntryAction[] {
  const actions: EntryAction[] = releasedIpv4Addresses(context.ipv4, event, context.ipv4).map((address) => ({
    type: 'report',
    params: { type: 'BCE.IPV4_RELEASED', homeAddress: context.homeAddress, address },
  }));
  actions.push(
    {
      type: 'sendBindingAck',
      params: {
        status,
        sequence,
        lifetimeSeconds: 0,
        ...withIpv4Ack(ipv4AckFor(event, null, status)),
        ...withNatDetection(natDetectionFor(context, event)),
        ...replyPath(event),
      },
    },
    {
      type: 'report',
      params: { type: 'BCE.REJECTED', homeAddress: context.homeAddress, status, sequence: event.sequence },
    },
  );
  return actions;
}

const asBu = (event: { type: string }): Bu | undefined => (event.type === 'BU' ? (event as Bu) : undefined);

const entrySetup = setup({
  types: {
    context: {} as BindingCacheEntryContext,
    events: {} as BindingCacheEntryEvent,
    input: {} as BindingCacheEntryInput,
  },
  actions: {
    sendBindingAck: (_, _params: SendBindingAckParams) => {},
    report: (_, _params: BindingCacheEntryReport) => {},
    clearIpv4: assign({ ipv4: null }),
  },
  guards: {
    /** RFC 6275 §9.5.1: not newer than the last accepted sequence number → 135. */
    sequenceNotNewer: ({ context, event }) =>
      context.lastSequence !== null && !isNewerSequence(event.sequence, context.lastSequence),
    /** RFC 6275 §9.5.1: the H flag differs from the existing entry's → 139. */
    registrationTypeChanged: ({ context, event }) => event.homeRegistration !== context.homeRegistration,
    /** RFC 5555 §4.5: F set and this HA does not accept forcing UDP → 144. */
    forceUdpRefused: ({ context, event }) => event.forceUdp && !context.allowForceUdp,
    /** RFC 6275 §6.1.7, §9.5.1: lifetime 0 deletes the binding. */
    isDeregistration: ({ event }) => event.lifetimeSeconds === 0,
    /** RFC 5555 §4.5: the IPv4 home address is bound too. */
    bindsIpv4: ({ context, event }) => ipv4BindingFor(context, event) !== null,
  },
  delays: {
    /** RFC 6275 §10.3.1: the binding lives for the granted lifetime unless refreshed. */
    bindingLifetime: ({ context }) => context.lifetimeSeconds * 1000,
    /** RFC 5555 §4.4.2: the IPv4 binding lives min(IPv6 lifetime, lease). */
    ipv4Lifetime: ({ context }) => (context.ipv4?.lifetimeSeconds ?? 0) * 1000,
    /** RFC 6275 §10.3.2, §12: MAX_DELETE_BCE_TIMEOUT. */
    deleteDelay: MAX_DELETE_BCE_TIMEOUT_MS,
  },
});

export const bindingCacheEntryMachine = entrySetup
  .extend({
    actions: {
      /**
       * Accept a registration or refresh (RFC 6275 §10.3.1): replace the entry with the BU's content
       * (RFC 5555 §4.4.2.1, so a BU without the IPv4 HoA option drops only the IPv4 binding), return
       * IPv4 addresses no longer bound, send BA 0 regardless of the A bit, and report.
       */
      acceptBinding: entrySetup.enqueueActions(({ context, event, enqueue }) => {
        const lifetimeSeconds = grantedLifetimeSeconds(event.lifetimeSeconds, context.maxLifetimeSeconds);
        const tunnel = tunnelFor(context, event);
        const nat = natOf(event);
        const udpEndpoint =
          tunnel === 'udp' && event.udp
            ? { address: event.udp.sourceAddress, port: event.udp.sourcePort }
            : null;
        const ipv4 = ipv4BindingFor(context, event);
        for (const address of releasedIpv4Addresses(context.ipv4, event, ipv4)) {
          enqueue({
            type: 'report',
            params: { type: 'BCE.IPV4_RELEASED', homeAddress: context.homeAddress, address },
          });
        }
        enqueue.assign({
          lastSequence: event.sequence,
          homeRegistration: event.homeRegistration,
          careOf: event.careOf,
          lifetimeSeconds,
          tunnel,
          nat,
          udpEndpoint,
          ipv4,
        });
        const advice = refreshAdviceSeconds(lifetimeSeconds);
        enqueue({
          type: 'sendBindingAck',
          params: {
            status: BaStatus.Accepted,
            sequence: event.sequence,
            lifetimeSeconds,
            ...withIpv4Ack(ipv4AckFor(event, ipv4)),
            ...withNatDetection(natDetectionFor(context, event)),
            ...(advice !== undefined ? { refreshAdviceSeconds: advice } : {}),
            ...replyPath(event),
          },
        });
        enqueue({
          type: 'report',
          params: {
            type: 'BCE.REGISTERED',
            homeAddress: context.homeAddress,
            careOf: event.careOf,
            lifetimeSeconds,
            tunnel,
            ...(nat ? { nat } : {}),
            ...(udpEndpoint ? { udpEndpoint } : {}),
            ...(ipv4
              ? {
                  ipv4HomeAddress: ipv4.address,
                  ipv4PrefixLength: ipv4.prefixLength,
                  ipv4LifetimeSeconds: ipv4.lifetimeSeconds,
                }
              : {}),
            sequence: event.sequence,
          },
        });
      }),
      /**
       * Lifetime 0 (RFC 6275 §10.3.2; RFC 5555 §4.4.2.1 removes every binding of the MN): BA 0 with
       * lifetime 0 and no refresh advice; stop intercepting; keep the sequence number until deleted.
       */
      acceptDeregistration: entrySetup.enqueueActions(({ context, event, enqueue }) => {
        for (const address of releasedIpv4Addresses(context.ipv4, event, null)) {
          enqueue({
            type: 'report',
            params: { type: 'BCE.IPV4_RELEASED', homeAddress: context.homeAddress, address },
          });
        }
        const wasIntercepting = context.tunnel !== null;
        enqueue.assign({
          lastSequence: event.sequence,
          lifetimeSeconds: 0,
          tunnel: null,
          nat: null,
          udpEndpoint: null,
          ipv4: null,
        });
        enqueue({
          type: 'sendBindingAck',
          params: {
            status: BaStatus.Accepted,
            sequence: event.sequence,
            lifetimeSeconds: 0,
            ...withNatDetection(natDetectionFor(context, event)),
            ...replyPath(event),
          },
        });
        if (wasIntercepting) {
          enqueue({ type: 'report', params: { type: 'BCE.DEREGISTERED', homeAddress: context.homeAddress } });
        }
      }),
      /** RFC 6275 §9.5.1: 135 carrying the last accepted sequence number, so the MN can resync (§11.7.3). */
      rejectOldSequence: entrySetup.enqueueActions(({ context, event, enqueue }) => {
        for (const a of rejection(
          context,
          event,
          BaStatus.SequenceNumberOutOfWindow,
          context.lastSequence ?? event.sequence,
        )) {
          enqueue(a);
        }
      }),
      /** RFC 6275 §9.5.1: 139; the entry's H flag is unchanged. */
      rejectTypeChange: entrySetup.enqueueActions(({ context, event, enqueue }) => {
        for (const a of rejection(context, event, BaStatus.RegistrationTypeChangeDisallowed, event.sequence))
          enqueue(a);
      }),
      /** RFC 5555 §4.4.2, §4.5: F refused → "144" (see BaStatus for the IANA conflict). */
      rejectForceUdp: entrySetup.enqueueActions(({ context, event, enqueue }) => {
        for (const a of rejection(context, event, BaStatus.Mipv6IdMismatchOrForceUdpRefused, event.sequence))
          enqueue(a);
      }),
      /** RFC 6275 §10.3.2: deregistration but no home registration entry → 133. */
      rejectNoBinding: entrySetup.enqueueActions(({ context, event, enqueue }) => {
        for (const a of rejection(context, event, BaStatus.NotHomeAgentForThisMobileNode, event.sequence))
          enqueue(a);
      }),
      /** The IPv4 binding ends (lease or lifetime expiry): give the address back to the pool. */
      releaseIpv4: entrySetup.enqueueActions(({ context, event, enqueue }) => {
        for (const address of releasedIpv4Addresses(context.ipv4, asBu(event), null)) {
          enqueue({
            type: 'report',
            params: { type: 'BCE.IPV4_RELEASED', homeAddress: context.homeAddress, address },
          });
        }
      }),
    },
  })
  .createMachine({
    id: 'bindingCacheEntry',
    context: ({ input }) => ({
      homeAddress: input.homeAddress,
      maxLifetimeSeconds: input.maxLifetimeSeconds,
      natKeepaliveSeconds: input.natKeepaliveSeconds,
      allowForceUdp: input.allowForceUdp,
      lastSequence: null,
      homeRegistration: true,
      careOf: null,
      lifetimeSeconds: 0,
      tunnel: null,
      nat: null,
      udpEndpoint: null,
      ipv4: null,
    }),
    initial: 'noBinding',
    states: {
      /**
       * The actor exists for the BU that creates the entry. No entry yet, so any sequence number is
       * accepted (RFC 6275 §9.5.1).
       */
      noBinding: {
        on: {
          BU: [
            {
              // RFC 6275 §10.3.2: deregistration with no home registration entry → 133.
              guard: 'isDeregistration',
              target: 'deleted',
              actions: 'rejectNoBinding',
            },
            { guard: 'forceUdpRefused', target: 'deleted', actions: 'rejectForceUdp' },
            { guard: 'bindsIpv4', target: 'registered.ipv4Bound', actions: 'acceptBinding' },
            { target: 'registered.ipv6Only', actions: 'acceptBinding' },
          ],
        },
      },
      /**
       * A valid home registration: the HA intercepts and tunnels (RFC 6275 §10.3.1). Every accepted
       * BU re-enters this state, restarting the lifetime timer.
       */
      registered: {
        initial: 'ipv6Only',
        after: {
          bindingLifetime: {
            target: 'deleted',
            actions: [
              'releaseIpv4',
              {
                type: 'report',
                params: ({ context }) => ({ type: 'BCE.EXPIRED', homeAddress: context.homeAddress }),
              },
            ],
          },
        },
        on: {
          BU: [
            { guard: 'sequenceNotNewer', actions: 'rejectOldSequence' },
            { guard: 'registrationTypeChanged', actions: 'rejectTypeChange' },
            { guard: 'forceUdpRefused', actions: 'rejectForceUdp' },
            { guard: 'isDeregistration', target: 'deleting', actions: 'acceptDeregistration' },
            { guard: 'bindsIpv4', target: '.ipv4Bound', reenter: true, actions: 'acceptBinding' },
            { target: '.ipv6Only', reenter: true, actions: 'acceptBinding' },
          ],
        },
        states: {
          ipv6Only: {},
          /** A separate binding for the IPv4 home address, same CoA (RFC 5555 §4.5). */
          ipv4Bound: {
            after: {
              ipv4Lifetime: {
                target: 'ipv6Only',
                actions: ['releaseIpv4', 'clearIpv4'],
              },
            },
          },
        },
      },
      /**
       * RFC 6275 §10.3.2: deregistered, no longer intercepting, kept MAX_DELETE_BCE_TIMEOUT so an
       * older BU still gets 135. A newer BU registers again.
       */
      deleting: {
        after: { deleteDelay: 'deleted' },
        on: {
          BU: [
            { guard: 'sequenceNotNewer', actions: 'rejectOldSequence' },
            { guard: 'registrationTypeChanged', actions: 'rejectTypeChange' },
            { guard: 'forceUdpRefused', actions: 'rejectForceUdp' },
            // A retransmitted deregistration (its BA was lost): acknowledge it again, keep the timer.
            { guard: 'isDeregistration', actions: 'acceptDeregistration' },
            { guard: 'bindsIpv4', target: 'registered.ipv4Bound', actions: 'acceptBinding' },
            { target: 'registered.ipv6Only', actions: 'acceptBinding' },
          ],
        },
      },
      deleted: {
        type: 'final',
        entry: {
          type: 'report',
          params: ({ context }) => ({ type: 'BCE.DELETED', homeAddress: context.homeAddress }),
        },
      },
    },
  });

/* ----------------------------------------------------------------------------------------------
 * Model for test generation. One BU variant per guard outcome; the sequence numbers are derived
 * from the snapshot (newer = last + 1, old = last) so they can stay out of the serialized state.
 */

const MODEL_HOME_ADDRESS = '2001:db8:1::100';
const MODEL_IPV6_COA: CareOf = { family: 6, address: '2001:db8:2::100' };
const MODEL_PUBLIC_IPV4_COA = '198.51.100.7';
const MODEL_PRIVATE_IPV4_COA = '10.0.0.5';
const MODEL_NAT_PUBLIC = { sourceAddress: '203.0.113.9', sourcePort: 61_000 };
const MODEL_FIRST_SEQUENCE = 1000;

/** BU variants from a snapshot (exported so the generated-path executor can reuse them). */
export function modelBindingUpdates(lastSequence: number | null, canBeOld: boolean): BindingUpdateReceived[] {
  const last = lastSequence ?? MODEL_FIRST_SEQUENCE - 1;
  const newer = (last + 1) % SEQUENCE_MODULUS;
  const base = {
    type: 'BU',
    sequence: newer,
    homeRegistration: true,
    forceUdp: false,
    lifetimeSeconds: 400,
    careOf: MODEL_IPV6_COA,
  } as const;
  const variants: BindingUpdateReceived[] = [
    // Plain IPv6 registration or refresh.
    { ...base },
    // IPv4-only public network, dynamic IPv4 HoA with a lease shorter than the lifetime.
    {
      ...base,
      careOf: { family: 4, address: MODEL_PUBLIC_IPV4_COA },
      udp: { sourceAddress: MODEL_PUBLIC_IPV4_COA, sourcePort: 4191 },
      ipv4CareOfAddress: MODEL_PUBLIC_IPV4_COA,
      ipv4HomeAddress: {
        requested: '0.0.0.0',
        assigned: { address: '192.0.2.10', prefixLength: 24, leaseSeconds: 200 },
      },
    },
    // Behind a NAT, the pool is empty (132): IPv6 binding only.
    {
      ...base,
      careOf: { family: 4, address: MODEL_PRIVATE_IPV4_COA },
      udp: MODEL_NAT_PUBLIC,
      ipv4CareOfAddress: MODEL_PRIVATE_IPV4_COA,
      ipv4HomeAddress: {
        requested: '0.0.0.0',
        failureStatus: Ipv4AckStatus.DynamicIpv4HomeAddressAssignmentNotAvailable,
      },
    },
    // Deregistration.
    { ...base, lifetimeSeconds: 0 },
    // Other registration type (H = 0).
    { ...base, homeRegistration: false },
    // F set (the model's HA refuses it).
    {
      ...base,
      forceUdp: true,
      careOf: { family: 4, address: MODEL_PUBLIC_IPV4_COA },
      udp: { sourceAddress: MODEL_PUBLIC_IPV4_COA, sourcePort: 4191 },
      ipv4CareOfAddress: MODEL_PUBLIC_IPV4_COA,
    },
  ];
  if (canBeOld) variants.push({ ...base, sequence: last });
  return variants;
}

export const bindingCacheEntryModel: MachineModel<typeof bindingCacheEntryMachine> = {
  name: 'bindingCacheEntry',
  machine: bindingCacheEntryMachine,
  input: {
    homeAddress: MODEL_HOME_ADDRESS,
    maxLifetimeSeconds: 3600,
    natKeepaliveSeconds: NATKATIMEOUT_SECONDS,
    allowForceUdp: false,
  },
  events: (snapshot) =>
    snapshot.status !== 'active'
      ? []
      : modelBindingUpdates(snapshot.context.lastSequence, snapshot.context.lastSequence !== null),
  // Guards read: whether a sequence was accepted (noBinding vs. the rest), the entry's H flag and
  // whether IPv4 is bound (in the state value). Sequence numbers and addresses are left out.
  serialize: (snapshot) =>
    JSON.stringify({ value: snapshot.value, homeRegistration: snapshot.context.homeRegistration }),
};
