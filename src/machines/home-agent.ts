/**
 * The home agent supervisor (architecture.md "Actor tree"): the registrar that checks every Binding
 * Update before any binding cache entry sees it, and the IPv4 home address pool. The binding cache
 * entries themselves (`ha/bce/<HoA>`, src/machines/binding-cache-entry.ts) are hosted by the
 * actor layer (src/actors/binding-cache.ts): a checked BU leaves this machine as `deliverToEntry`;
 * the entry reports that change the pool come back as `BCE.IPV4_RELEASED` and `BCE.DELETED`
 * events, the others are translated by `entryReport`. Keeping 100k entries out of this machine's
 * children is what keeps adding and removing one O(1) (bench/README.md).
 *
 * Registrar checks, in order (RFC 6275 §10.3.1, RFC 4877 §4.2, RFC 5555 §4.5):
 * 1. the ESP SA that protected the BU belongs to the BU's home address; otherwise the BU is dropped
 *    silently (a BA would tell a spoofer what it wants to know);
 * 2. H set: this HA serves home registrations only (131 otherwise);
 * 3. the home address is in the home prefix (132 otherwise);
 * then the IPv4 home address request is decided from the pool and the BU goes to the entry, which
 * applies the per-entry rules (sequence window, lifetime, NAT, deregistration).
 *
 * Effects: the registrar's own rejections leave through `sendBindingAck` (the entries' BAs through
 * the host's, to the same sender); `report` tells `dsmip6 status` and the data plane what changed.
 * Supervision is one-for-one like the mobile node's: a failed entry is removed (its state is lost;
 * the MN's next BU creates it again; the host reports it as `xstate.error.actor.bce/<HoA>`), and
 * more than MAX_RESTARTS failures within RESTART_WINDOW_MS escalate.
 */

import { type ErrorActorEvent, setup } from 'xstate';
import type { MachineModel } from '../testgen/model.js';
import { ipv6TextToBytes } from '../wire/address.js';
import { BaStatus, Ipv4AckStatus, NATD_REFRESH_NOT_NEEDED } from '../wire/constants.js';
import { canonicalAddress, matchesPrefix, parsePrefix } from './address-class.js';
import {
  type BindingCacheEntryInput,
  type BindingCacheEntryReport,
  type BindingUpdateReceived,
  type CareOf,
  NATKATIMEOUT_SECONDS,
  type SendBindingAckParams,
} from './binding-cache-entry.js';
import {
  createIpv4Pool,
  freeCount,
  heldBy,
  holderOf,
  type Ipv4Pool,
  type Ipv4PoolConfig,
  isFree,
  leasesOf,
  nextFree,
  numberToV4,
  releaseAllIpv4,
  releaseIpv4,
  takeIpv4,
  v4ToNumber,
} from './ipv4-pool.js';

import { errorText, MAX_RESTARTS, RESTART_WINDOW_MS } from './supervision.js';

export {
  createIpv4Pool,
  freeAddresses,
  type Ipv4Pool,
  type Ipv4PoolConfig,
  ipv4Range,
  leasesOf,
  releaseIpv4,
  takeIpv4,
} from './ipv4-pool.js';
export { MAX_RESTARTS, RESTART_WINDOW_MS };
/** RFC 5555 §2.5: an IPv4 Home Address option with 0.0.0.0 asks for a dynamic address. */
export const IPV4_DYNAMIC_REQUEST = '0.0.0.0';
/** RFC 5555 §3.2.1: Pref-len "MUST be set to zero ... in case of failure". */
const FAILED_IPV4_ACK_PREFIX_LENGTH = 0;

export interface HomeAgentInput {
  /** The home IPv6 prefix, e.g. '2001:db8:1::/64' (RFC 6275 §10.3.1: else 132). */
  readonly homePrefix: string;
  readonly ipv4Pool?: Ipv4PoolConfig;
  /** Policy maximum for granted lifetimes (RFC 6275 §10.3.1). */
  readonly maxLifetimeSeconds: number;
  /** Refresh time in NAT Detection (default NATKATIMEOUT, RFC 5555 §6). */
  readonly natKeepaliveSeconds?: number;
  /** Accept the F flag (RFC 5555 §4.5); default true: the MN sets it only when IP-in-IP fails (§4.4.1). */
  readonly allowForceUdp?: boolean;
}

/**
 * A Binding Update as the actor layer hands it over: parsed, ESP verified, with the home address
 * from the Home Address option and the home address of the SA that protected it.
 */
export type BuReceived = Omit<BindingUpdateReceived, 'type' | 'ipv4HomeAddress'> & {
  type: 'BU.RECEIVED';
  homeAddress: string;
  /** The home address the ESP SA that protected this BU belongs to (RFC 4877 §4.2). */
  saHomeAddress: string;
  /** The IPv4 Home Address option's address, if present ('0.0.0.0' = dynamic, RFC 5555 §3.1.1). */
  ipv4HomeAddressRequested?: string;
};

export type HomeAgentOutsideEvent = BuReceived;

/** The entry reports that change the supervisor's state (the pool); the rest are translated. */
export type EntryStateReport = Extract<
  BindingCacheEntryReport,
  { type: 'BCE.IPV4_RELEASED' | 'BCE.DELETED' }
>;

export type HomeAgentEvent = HomeAgentOutsideEvent | EntryStateReport | ErrorActorEvent;

/** Whether the supervisor must see an entry's report (it changes the pool). */
export const changesSupervisor = (r: BindingCacheEntryReport): r is EntryStateReport =>
  r.type === 'BCE.IPV4_RELEASED' || r.type === 'BCE.DELETED';

/**
 * An entry's report as the HA reports it, for the reports that need no supervisor state: a
 * binding in place, a BU refused, a binding gone. A pure translation, so the actor layer applies
 * it directly instead of a round trip through this machine for every BU (bench/README.md).
 */
export function entryReport(r: Exclude<BindingCacheEntryReport, EntryStateReport>): HomeAgentReport {
  switch (r.type) {
    case 'BCE.REGISTERED': {
      const { type: _type, ...registered } = r;
      return { type: 'HA.BINDING', status: 'registered', ...registered };
    }
    case 'BCE.REJECTED':
      return { type: 'HA.REJECTED', homeAddress: r.homeAddress, status: r.status, sequence: r.sequence };
    case 'BCE.DEREGISTERED':
      return { type: 'HA.BINDING', status: 'removed', homeAddress: r.homeAddress, reason: 'deregistered' };
    case 'BCE.EXPIRED':
      return { type: 'HA.BINDING', status: 'removed', homeAddress: r.homeAddress, reason: 'expired' };
  }
}

/** deliverToEntry: a checked BU for the entry of `input.homeAddress`, created by the first one. */
export interface DeliverToEntryParams {
  readonly input: BindingCacheEntryInput;
  readonly bu: BindingUpdateReceived;
}

/** sendBindingAck: the BA fields plus where it goes (RFC 6275 §10.3.1; RFC 5555 §4.2 for `udp`). */
export interface HaSendBindingAckParams extends SendBindingAckParams {
  readonly homeAddress: string;
  readonly careOf: CareOf;
}

type Registered = Omit<Extract<BindingCacheEntryReport, { type: 'BCE.REGISTERED' }>, 'type'>;

export type HomeAgentReport =
  /** A binding is in place (every accepted BU): intercept and tunnel as described. */
  | ({ type: 'HA.BINDING'; status: 'registered' } & Registered)
  /** A binding is gone: stop intercepting for the home address. */
  | {
      type: 'HA.BINDING';
      status: 'removed';
      homeAddress: string;
      reason: 'deregistered' | 'expired' | 'failed';
    }
  /** A BU dropped without a BA. */
  | {
      type: 'HA.DROPPED';
      reason: 'sa-mismatch';
      homeAddress: string;
      saHomeAddress: string;
      sequence: number;
    }
  /** A BU refused with a BA (by the registrar or by the entry). */
  | { type: 'HA.REJECTED'; homeAddress: string; status: number; sequence: number }
  /** An IPv4 home address is no longer bound: stop proxying ARP for it (RFC 5555 §4.5). */
  | { type: 'HA.IPV4_RELEASED'; homeAddress: string; address: string }
  /** A binding cache entry failed and was removed. */
  | { type: 'HA.CHILD_FAILED'; child: string; restarts: number; error: string }
  /** Repeated failure: the supervisor has stopped (final state). */
  | { type: 'HA.FAILED'; reason: string };

export type Ipv4Decision =
  | { assigned: { address: string; prefixLength: number; leaseSeconds: number } }
  | { failureStatus: number };

export interface HomeAgentContext {
  readonly homePrefix: string;
  readonly maxLifetimeSeconds: number;
  readonly natKeepaliveSeconds: number;
  readonly allowForceUdp: boolean;
  pool: Ipv4Pool | null;
  /** Entry failures in the current window. */
  restarts: number;
  lastFailure: string | null;
}

/* ------------------------------------------------------------------------------------------------
 * IPv4 pool helpers (pure).
 */

/** Addresses that can never be a home address: "this network", loopback, multicast, reserved. */
function isUnicastIpv4(text: string): boolean {
  const n = v4ToNumber(text);
  if (n === undefined) return false;
  const first = n >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/**
 * RFC 5555 §4.5 for one IPv4 Home Address option:
 * - 0.0.0.0: the address this MN already holds, else the next free one; none → 132 ("dynamic IPv4
 *   home address assignment not available", a MUST);
 * - a static address: not a unicast address → 131 ("invalid IPv4 address", §3.2.1); held by or
 *   free for this MN → granted; held by another MN → 130 ("incorrect IPv4 home address": §4.5
 *   requires the address to be allocated to the MN with this IPv6 home address); outside what
 *   this HA administers (or no pool at all) → 129 ("administratively prohibited").
 */
export function decideIpv4(pool: Ipv4Pool | null, homeAddress: string, requested: string): Ipv4Decision {
  const grant = (p: Ipv4Pool, address: string): Ipv4Decision => ({
    assigned: { address, prefixLength: p.prefixLength, leaseSeconds: p.leaseSeconds },
  });
  if (requested === IPV4_DYNAMIC_REQUEST) {
    if (!pool) return { failureStatus: Ipv4AckStatus.DynamicIpv4HomeAddressAssignmentNotAvailable };
    const held = heldBy(pool, homeAddress)[0] ?? nextFree(pool);
    return held !== undefined
      ? grant(pool, held)
      : { failureStatus: Ipv4AckStatus.DynamicIpv4HomeAddressAssignmentNotAvailable };
  }
  if (!isUnicastIpv4(requested)) return { failureStatus: Ipv4AckStatus.InvalidIpv4Address };
  const address = numberToV4(v4ToNumber(requested)!);
  if (!pool) return { failureStatus: Ipv4AckStatus.AdministrativelyProhibited };
  const holder = holderOf(pool, address);
  if (holder === homeAddress || (holder === undefined && isFree(pool, address))) return grant(pool, address);
  if (holder !== undefined) return { failureStatus: Ipv4AckStatus.IncorrectIpv4HomeAddress };
  return { failureStatus: Ipv4AckStatus.AdministrativelyProhibited };
}

/* ------------------------------------------------------------------------------------------------
 * The machine.
 */

export const bceId = (homeAddress: string): string => `bce/${homeAddress}`;
export const haSystemId = (childId: string): string => `ha/${childId}`;
/** The home address of an entry id (`bce/<HoA>`), as failures name the entry. */
export const homeAddressOfEntry = (id: string): string | undefined =>
  id.startsWith('bce/') ? id.slice(4) : undefined;
const canonicalHoa = (address: string): string => canonicalAddress(6, address) ?? address;

/** The parsed home prefix; an HA has one, and every BU is checked against it (RFC 6275 §10.3.1). */
let lastPrefix: { text: string; parsed: ReturnType<typeof parsePrefix> } | undefined;
function homePrefixOf(text: string): ReturnType<typeof parsePrefix> {
  if (lastPrefix?.text !== text) lastPrefix = { text, parsed: parsePrefix(text) };
  return lastPrefix.parsed;
}

type BuEvent = Extract<HomeAgentEvent, { type: 'BU.RECEIVED' }>;

/** RFC 5555 §4.2: the outer source differs from the IPv4 care-of address → a NAT is on the path. */
const natOnPath = (bu: BuEvent): boolean =>
  bu.udp !== undefined && bu.udp.sourceAddress !== (bu.ipv4CareOfAddress ?? bu.careOf.address);

/**
 * A BA refusing the BU before any entry sees it: the BU's sequence number, lifetime 0, back the way
 * the BU came (RFC 5555 §4.2), with NAT Detection when it came in UDP (§4.2: MUST) and a failed
 * IPv4 Address Acknowledgement when it asked for an IPv4 home address (§2.3.1: MUST).
 */
const registrarRejection =
  (status: number) =>
  ({ context, event }: { context: HomeAgentContext; event: HomeAgentEvent }): HaSendBindingAckParams => {
    const bu = event as BuEvent;
    return {
      status,
      sequence: bu.sequence,
      lifetimeSeconds: 0,
      ...(bu.ipv4HomeAddressRequested !== undefined
        ? {
            ipv4Ack: {
              status: Ipv4AckStatus.FailureReasonUnspecified,
              address: bu.ipv4HomeAddressRequested,
              prefixLength: FAILED_IPV4_ACK_PREFIX_LENGTH,
            },
          }
        : {}),
      ...(bu.udp
        ? {
            natDetection: {
              forceUdp: false,
              refreshSeconds: natOnPath(bu) ? context.natKeepaliveSeconds : NATD_REFRESH_NOT_NEEDED,
            },
            udp: { address: bu.udp.sourceAddress, port: bu.udp.sourcePort },
          }
        : {}),
      homeAddress: canonicalHoa(bu.homeAddress),
      careOf: bu.careOf,
    };
  };

const rejectedReport =
  (status: number) =>
  ({ event }: { event: HomeAgentEvent }): HomeAgentReport => ({
    type: 'HA.REJECTED',
    homeAddress: canonicalHoa((event as BuEvent).homeAddress),
    status,
    sequence: (event as BuEvent).sequence,
  });

const haSetup = setup({
  types: {
    context: {} as HomeAgentContext,
    events: {} as HomeAgentEvent,
    input: {} as HomeAgentInput,
  },
  actions: {
    sendBindingAck: (_, _params: HaSendBindingAckParams) => {},
    report: (_, _params: HomeAgentReport) => {},
    deliverToEntry: (_, _params: DeliverToEntryParams) => {},
  },
  guards: {
    /** RFC 4877 §4.2, RFC 6275 §5.1: the SA must be the one of the home address in the BU. */
    saMismatch: ({ event }) =>
      event.type === 'BU.RECEIVED' &&
      // The same text is the same address (the common case, both from the codec); else compare bytes.
      event.saHomeAddress !== event.homeAddress &&
      canonicalHoa(event.saHomeAddress) !== canonicalHoa(event.homeAddress),
    /** RFC 6275 §10.3.1: this node serves home registrations (H = 1) only. */
    notHomeRegistration: ({ event }) => event.type === 'BU.RECEIVED' && !event.homeRegistration,
    /** RFC 6275 §10.3.1: the home address must be on the home link (its prefix). */
    notHomeSubnet: ({ context, event }) => {
      if (event.type !== 'BU.RECEIVED') return false;
      const bytes = ipv6TextToBytes(event.homeAddress);
      const prefix = homePrefixOf(context.homePrefix);
      return !bytes || !prefix || !matchesPrefix(bytes, prefix);
    },
    noPool: ({ context }) => context.pool === null,
    poolEmpty: ({ context }) => context.pool !== null && freeCount(context.pool) === 0,
    poolHasFree: ({ context }) => context.pool !== null && freeCount(context.pool) > 0,
    restartLimitReached: ({ context }) => context.restarts >= MAX_RESTARTS,
  },
  delays: {
    /** Failures are counted over this window, which opens at the first one. */
    restartWindow: RESTART_WINDOW_MS,
  },
});

/** Hand the checked BU to its entry (created by the host on the first BU), IPv4 decision made. */
const routeToEntry = haSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'BU.RECEIVED') return;
  const homeAddress = canonicalHoa(event.homeAddress);
  const input: BindingCacheEntryInput = {
    homeAddress,
    maxLifetimeSeconds: context.maxLifetimeSeconds,
    natKeepaliveSeconds: context.natKeepaliveSeconds,
    allowForceUdp: context.allowForceUdp,
  };
  const {
    type: _type,
    homeAddress: _hoa,
    saHomeAddress: _sa,
    ipv4HomeAddressRequested: requested,
    ...fields
  } = event;
  let ipv4HomeAddress: BindingUpdateReceived['ipv4HomeAddress'];
  // A deregistration removes every binding (RFC 5555 §4.4.2.1): nothing to allocate.
  if (requested !== undefined && event.lifetimeSeconds > 0) {
    const decision = decideIpv4(context.pool, homeAddress, requested);
    ipv4HomeAddress = { requested, ...decision };
    if ('assigned' in decision && context.pool) {
      enqueue.assign({ pool: takeIpv4(context.pool, homeAddress, decision.assigned.address) });
    }
  } else if (requested !== undefined) {
    ipv4HomeAddress = { requested };
  }
  enqueue({
    type: 'deliverToEntry',
    params: { input, bu: { type: 'BU', ...fields, ...(ipv4HomeAddress ? { ipv4HomeAddress } : {}) } },
  });
});

/** The entry is gone (the host has dropped it): take back any address it still holds. */
const removeEntry = haSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'BCE.DELETED' || !context.pool) return;
  enqueue.assign({ pool: releaseAllIpv4(context.pool, event.homeAddress) });
});

/** A failed entry (the host has dropped it): its state is lost, the MN's next BU creates it again. */
const removeFailedEntry = haSetup.enqueueActions(({ context, event, enqueue }) => {
  if (!event.type.startsWith('xstate.error.actor.')) return;
  const { actorId, error } = event as ErrorActorEvent;
  const restarts = context.restarts + 1;
  const homeAddress = homeAddressOfEntry(actorId);
  enqueue.assign({
    restarts,
    lastFailure: `${actorId}: ${errorText(error)}`,
    ...(context.pool && homeAddress !== undefined ? { pool: releaseAllIpv4(context.pool, homeAddress) } : {}),
  });
  if (homeAddress !== undefined) {
    for (const address of context.pool ? heldBy(context.pool, homeAddress) : []) {
      enqueue({ type: 'report', params: { type: 'HA.IPV4_RELEASED', homeAddress, address } });
    }
    enqueue({
      type: 'report',
      params: { type: 'HA.BINDING', status: 'removed', homeAddress, reason: 'failed' },
    });
  }
  enqueue({
    type: 'report',
    params: { type: 'HA.CHILD_FAILED', child: actorId, restarts, error: errorText(error) },
  });
});

export const homeAgentMachine = haSetup.createMachine({
  id: 'homeAgent',
  context: ({ input }) => {
    if (parsePrefix(input.homePrefix)?.bytes.length !== 16) {
      throw new TypeError(
        `homeAgent: homePrefix ${JSON.stringify(input.homePrefix)}: expected an IPv6 prefix like 2001:db8:1::/64`,
      );
    }
    return {
      homePrefix: input.homePrefix,
      maxLifetimeSeconds: input.maxLifetimeSeconds,
      natKeepaliveSeconds: input.natKeepaliveSeconds ?? NATKATIMEOUT_SECONDS,
      allowForceUdp: input.allowForceUdp ?? true,
      pool: input.ipv4Pool ? createIpv4Pool(input.ipv4Pool) : null,
      restarts: 0,
      lastFailure: null,
    };
  },
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      on: {
        // RFC 5555 §4.4.2: the IPv4 binding ended (lease, lifetime, or not used): back to the pool.
        'BCE.IPV4_RELEASED': {
          actions: [
            haSetup.assign({
              pool: ({ context, event }) =>
                context.pool && event.type === 'BCE.IPV4_RELEASED'
                  ? releaseIpv4(context.pool, event.address)
                  : context.pool,
            }),
            {
              type: 'report',
              params: ({ event }) => {
                const e = event as Extract<HomeAgentEvent, { type: 'BCE.IPV4_RELEASED' }>;
                return { type: 'HA.IPV4_RELEASED', homeAddress: e.homeAddress, address: e.address };
              },
            },
          ],
        },
        'BCE.DELETED': { actions: removeEntry },
      },
      states: {
        /** Checks each BU and routes it (RFC 6275 §10.3.1, RFC 4877 §4.2, RFC 5555 §4.5). */
        registrar: {
          initial: 'serving',
          states: {
            serving: {
              on: {
                'BU.RECEIVED': [
                  {
                    // Never a BA: it would confirm to a spoofer that the home address is served.
                    guard: 'saMismatch',
                    actions: {
                      type: 'report',
                      params: ({ event }) => {
                        const bu = event as BuEvent;
                        return {
                          type: 'HA.DROPPED',
                          reason: 'sa-mismatch',
                          homeAddress: bu.homeAddress,
                          saHomeAddress: bu.saHomeAddress,
                          sequence: bu.sequence,
                        };
                      },
                    },
                  },
                  {
                    guard: 'notHomeRegistration',
                    actions: [
                      {
                        type: 'sendBindingAck',
                        params: registrarRejection(BaStatus.HomeRegistrationNotSupported),
                      },
                      { type: 'report', params: rejectedReport(BaStatus.HomeRegistrationNotSupported) },
                    ],
                  },
                  {
                    guard: 'notHomeSubnet',
                    actions: [
                      { type: 'sendBindingAck', params: registrarRejection(BaStatus.NotHomeSubnet) },
                      { type: 'report', params: rejectedReport(BaStatus.NotHomeSubnet) },
                    ],
                  },
                  { actions: routeToEntry },
                ],
              },
            },
          },
        },
        /** The dynamic IPv4 home address pool (RFC 5555 §2.5, §4.5). */
        ipv4Pool: {
          initial: 'available',
          states: {
            /** No pool configured: 0.0.0.0 requests get 132. */
            unconfigured: {},
            available: {
              always: [
                { guard: 'noPool', target: 'unconfigured' },
                { guard: 'poolEmpty', target: 'exhausted' },
              ],
            },
            /** Every address is leased: 0.0.0.0 requests get 132 (RFC 5555 §4.5). */
            exhausted: {
              always: { guard: 'poolHasFree', target: 'available' },
            },
          },
        },
        /** Failure bookkeeping: failures are counted in a window that opens at the first one. */
        supervision: {
          initial: 'calm',
          states: {
            calm: {
              on: { 'xstate.error.actor.*': { target: 'watching', actions: removeFailedEntry } },
            },
            watching: {
              after: { restartWindow: { target: 'calm', actions: haSetup.assign({ restarts: 0 }) } },
              on: {
                'xstate.error.actor.*': [
                  {
                    guard: 'restartLimitReached',
                    target: '#homeAgent.failed',
                    actions: {
                      type: 'report',
                      params: ({ context, event }) => ({
                        type: 'HA.FAILED',
                        reason: `${context.restarts + 1} binding cache entry failures within ${
                          RESTART_WINDOW_MS / 1000
                        } s; last: ${(event as ErrorActorEvent).actorId}: ${errorText(
                          (event as ErrorActorEvent).error,
                        )}`,
                      }),
                    },
                  },
                  { actions: removeFailedEntry },
                ],
              },
            },
          },
        },
      },
    },
    /** Escalation: every entry is stopped with the supervisor; the daemon exits non-zero. */
    failed: { type: 'final' },
  },
});

/* ------------------------------------------------------------------------------------------------
 * Test-generation model. The entries live outside this machine, so their reports and failures are
 * outside events here, for one home address (the entry's own rules have their own model). One HA,
 * two home addresses, a pool of two IPv4 addresses; the registrar's checks and the pool states are
 * what the paths explore.
 */

const MODEL_HOA1 = '2001:db8:1::100';
const MODEL_HOA2 = '2001:db8:1::200';
const MODEL_FOREIGN_HOA = '2001:db8:9::1';
const MODEL_COA: CareOf = { family: 6, address: '2001:db8:5::10' };

function modelEvents(context: HomeAgentContext): HomeAgentEvent[] {
  const bu = (homeAddress: string, extra: Partial<BuReceived> = {}): HomeAgentEvent => ({
    type: 'BU.RECEIVED',
    sequence: 1,
    homeRegistration: true,
    forceUdp: false,
    lifetimeSeconds: 400,
    careOf: MODEL_COA,
    homeAddress,
    saHomeAddress: homeAddress,
    ...extra,
  });
  const out: HomeAgentEvent[] = [
    bu(MODEL_HOA1, { saHomeAddress: MODEL_HOA2 }),
    bu(MODEL_HOA1, { homeRegistration: false }),
    bu(MODEL_FOREIGN_HOA),
    bu(MODEL_HOA1),
    bu(MODEL_HOA1, { ipv4HomeAddressRequested: IPV4_DYNAMIC_REQUEST }),
    bu(MODEL_HOA2, { ipv4HomeAddressRequested: IPV4_DYNAMIC_REQUEST }),
    bu(MODEL_HOA1, { ipv4HomeAddressRequested: '192.0.2.11' }),
    bu(MODEL_HOA1, { lifetimeSeconds: 0, ipv4HomeAddressRequested: IPV4_DYNAMIC_REQUEST }),
  ];
  for (const homeAddress of [MODEL_HOA1]) {
    out.push(
      { type: 'BCE.DELETED', homeAddress },
      {
        type: `xstate.error.actor.${bceId(homeAddress)}`,
        error: 'model: entry failed',
        actorId: bceId(homeAddress),
      },
    );
  }
  for (const [address, homeAddress] of Object.entries(context.pool ? leasesOf(context.pool) : {})) {
    out.push({ type: 'BCE.IPV4_RELEASED', homeAddress, address });
  }
  return out;
}

export const homeAgentModel: MachineModel<typeof homeAgentMachine> = {
  name: 'homeAgent',
  machine: homeAgentMachine,
  input: {
    homePrefix: '2001:db8:1::/64',
    ipv4Pool: { start: '192.0.2.10', end: '192.0.2.11', prefixLength: 24, leaseSeconds: 200 },
    maxLifetimeSeconds: 3600,
  },
  // An HA without an IPv4 pool is a configuration of its own (ipv4Pool.unconfigured).
  moreInputs: [{ homePrefix: '2001:db8:1::/64', maxLifetimeSeconds: 3600 }],
  events: (snapshot) => (snapshot.status === 'active' ? modelEvents(snapshot.context) : []),
  // Guards read the pool (free count) and the restart count. Sequence numbers and care-of
  // addresses are left out.
  serialize: (snapshot) =>
    snapshot.status !== 'active'
      ? JSON.stringify(snapshot.value)
      : JSON.stringify([
          snapshot.value,
          Object.entries(snapshot.context.pool ? leasesOf(snapshot.context.pool) : {}),
          snapshot.context.restarts,
        ]),
};
